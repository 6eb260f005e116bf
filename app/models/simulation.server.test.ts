/**
 * The simulator against the ledger: orders and refunds recorded in PostgreSQL, settled by the real
 * settlement (app/models/orders.server.ts settleOrders, which posts the ledger entries) under two
 * program versions, with a tier multiplier on one member's awards. The simulation under the
 * versions in force must give, month by month, exactly what the ledger holds for those orders.
 */
import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerEntries, orderRefunds, orders } from '../../db/schema';
import { parseProgram, referenceProgram } from '../../loyalty/program';
import { monthKeyOfInstant } from '../../loyalty/time';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { seedTierProgram, setMemberTier } from '../../tests/helpers/tiers';
import { ensureCustomer } from './customers.server';
import { settleOrders } from './orders.server';
import { publishProgram } from './programs.server';
import { createReward } from './rewards.server';
import { ensureShop, type Shop } from './shops.server';
import { simulateShopProgram, simulationWindow } from './simulation.server';

const TZ = 'America/New_York';
const NOW = new Date('2026-12-04T17:00:00Z');
const day = (iso: string) => new Date(iso);

/** v2 (from Nov 1 local): band 2 at 3 points per $1, POS orders excluded. */
const v2 = {
  ...referenceProgram,
  name: 'Richer',
  posOrders: 'exclude' as const,
  earn: {
    unit: '1.00',
    bands: [
      { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
      { over: '100.00', pointsPerUnit: 3 },
    ],
  },
};

describe.each(['postgres', 'pglite'] as const)('the simulator on %s', (kind) => {
  let handle: TestDatabase;
  let shop: Shop;
  const orderIds: string[] = [];

  beforeAll(async () => {
    handle = await createTestDatabase(kind);
    const { db } = handle;
    shop = await ensureShop(db, {
      domain: `sim-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency: 'USD',
      timezone: TZ,
    });
    await publishProgram(db, shop.id, referenceProgram, day('2025-01-01T00:00:00Z'));
    await publishProgram(db, shop.id, v2, day('2026-11-01T04:00:00Z'));
    await seedTierProgram(db, shop.id);
    const members: { id: number }[] = [];
    for (let i = 0; i < 6; i++) {
      members.push(await ensureCustomer(db, shop.id, { externalId: `sim-${i}` }));
    }
    await setMemberTier(db, shop.id, members[0]!.id, 'gold'); // ×1.5 on their awards

    let n = 0;
    const order = async (fields: Partial<typeof orders.$inferInsert> & { processedAt: Date }) => {
      const id = String(7_000_000 + n++);
      orderIds.push(id);
      await db.insert(orders).values({
        shopId: shop.id,
        shopifyOrderId: id,
        name: `#${id}`,
        currency: 'USD',
        earnAmountMinor: 12_000,
        totalMinor: 13_500,
        paidAt: fields.processedAt,
        customerId: members[1]!.id,
        sourceName: 'web',
        ...fields,
      });
      return id;
    };
    const refund = (orderId: string, merchandiseMinor: number, processedAt: Date) =>
      db.insert(orderRefunds).values({
        shopId: shop.id,
        shopifyOrderId: orderId,
        shopifyRefundId: `${orderId}-${merchandiseMinor}-${processedAt.getTime()}`,
        merchandiseMinor,
        processedAt,
      });

    // Before the window (September): its October refund is not the simulation's.
    const early = await order({ processedAt: day('2026-09-20T15:00:00Z') });
    await refund(early, 3_000, day('2026-10-05T15:00:00Z'));
    // October, v1: a tiered member, two partial refunds; a plain order; POS; test; guest; unpaid.
    const tiered = await order({
      processedAt: day('2026-10-03T15:00:00Z'),
      customerId: members[0]!.id,
      earnAmountMinor: 25_099,
    });
    await refund(tiered, 4_000, day('2026-10-20T15:00:00Z'));
    await refund(tiered, 7_550, day('2026-11-02T15:00:00Z'));
    await order({ processedAt: day('2026-10-10T15:00:00Z'), earnAmountMinor: 8_000 });
    await order({
      processedAt: day('2026-10-11T15:00:00Z'),
      customerId: members[2]!.id,
      sourceName: 'pos',
    });
    await order({
      processedAt: day('2026-10-12T15:00:00Z'),
      customerId: members[3]!.id,
      test: true,
    });
    await order({
      processedAt: day('2026-10-13T15:00:00Z'),
      customerId: null,
      email: 'g@example.com',
    });
    await order({ processedAt: day('2026-10-14T15:00:00Z'), paidAt: null });
    // Oct 31, 23:30 in New York (Nov 1 UTC): still October and v1 (v2 starts Nov 1 local).
    await order({
      processedAt: day('2026-11-01T03:30:00Z'),
      customerId: members[4]!.id,
      earnAmountMinor: 30_000,
    });
    // November, v2: POS excluded now; one order cancelled in December.
    await order({
      processedAt: day('2026-11-05T15:00:00Z'),
      customerId: members[2]!.id,
      sourceName: 'pos',
    });
    await order({
      processedAt: day('2026-11-06T15:00:00Z'),
      customerId: members[5]!.id,
      earnAmountMinor: 40_000,
      cancelledAt: day('2026-12-01T15:00:00Z'),
    });
    // December: a full refund.
    const refunded = await order({
      processedAt: day('2026-12-02T15:00:00Z'),
      earnAmountMinor: 15_000,
    });
    await refund(refunded, 15_000, day('2026-12-03T15:00:00Z'));

    await db.transaction((tx) => settleOrders(tx, shop, orderIds));
  }, 120_000);

  afterAll(async () => {
    await handle?.close();
  });

  /** What the ledger holds for the window's orders, net per shop month, and per member. */
  async function ledgerByMonth(inWindow: Set<string>) {
    const { db } = handle;
    const awards = await db.select().from(ledgerEntries).where(eq(ledgerEntries.shopId, shop.id));
    const orderOf = new Map(
      awards.filter((e) => e.source === 'order').map((e) => [e.id, e.subjectId!]),
    );
    const months = new Map<string, number>();
    const members = new Map<number, number>();
    for (const e of awards) {
      if (!['order', 'refund', 'cancellation'].includes(e.source)) continue;
      const orderId = e.source === 'order' ? e.subjectId! : orderOf.get(e.reversesEntryId!)!;
      if (!inWindow.has(orderId)) continue;
      const month = monthKeyOfInstant(e.occurredAt.getTime(), TZ);
      months.set(month, (months.get(month) ?? 0) + e.points);
      members.set(e.customerId, (members.get(e.customerId) ?? 0) + e.points);
    }
    return { months, members };
  }

  describe('simulateShopProgram', () => {
    it('under the versions in force gives what the ledger holds, month by month', async () => {
      const { db } = handle;
      const window = simulationWindow(3, TZ, NOW);
      expect(window.months).toEqual(['2026-10', '2026-11', '2026-12']);
      expect(window.from).toEqual(day('2026-10-01T04:00:00Z'));
      const inWindow = new Set(
        (
          await db
            .select({ id: orders.shopifyOrderId, at: orders.processedAt })
            .from(orders)
            .where(inArray(orders.shopifyOrderId, orderIds))
        )
          .filter((o) => o.at! >= window.from)
          .map((o) => o.id),
      );
      expect(inWindow.size).toBe(orderIds.length - 1);

      // The draft is v2 itself: the current side must equal the ledger; the draft differs in October.
      const sim = await simulateShopProgram(db, shop, parseProgram(v2), {
        months: 3,
        now: NOW,
        draftTestOrdersEarn: false,
      });
      const ledger = await ledgerByMonth(inWindow);
      expect(sim.result.months.map((m) => [m.month, m.current.net])).toEqual(
        window.months.map((m) => [m, ledger.months.get(m) ?? 0]),
      );
      // Hand-checked: October 1.5 × (50 + 2×150) = 525 for the tiered member, 30, 90 (POS under v1),
      // 450 (Oct 31 local, v1: 50 + 2×200) − the first refund floor(525 × 4000/25099) = 83.
      expect(sim.result.months[0]!.current).toMatchObject({
        issued: 525 + 30 + 90 + 450,
        reversed: 83,
      });
      expect(sim.result.totals.current.net).toBe(
        [...ledger.months.values()].reduce((a, b) => a + b, 0),
      );
      // The recorded ×1.5 applies under the draft too: 1.5 × (50 + 3×150) = 750.
      expect(sim.result.months[0]!.draft.issued).toBe(750 + 30 + 650);
      // POS order of October: earned under v1, would not under the draft.
      expect(sim.result.months[0]!.draft.awardedOrders).toBe(3);
      // Members differ where the October rules differ: the tiered member, the POS customer, and
      // the Oct 31 order's; November and December are v2 on both sides.
      expect(sim.result.months.map((m) => m.membersAffected)).toEqual([3, 1, 0]);
      expect(sim.result.months[2]!.current).toEqual(sim.result.months[2]!.draft);
      expect(sim.pointValue).toBeNull();
      expect(sim.result.totals.current.costMinor).toBeNull();
    });

    it('prices points at the redemption value once the catalog has one', async () => {
      const { db } = handle;
      await createReward(db, shop.id, {
        type: 'fixed_amount',
        title: '$5 off',
        pointsCost: 500,
        amountMinor: 500,
      });
      const sim = await simulateShopProgram(db, shop, parseProgram(referenceProgram), {
        months: 2,
        now: NOW,
        draftTestOrdersEarn: true,
      });
      expect(sim.window.months).toEqual(['2026-11', '2026-12']);
      expect(sim.pointValue).toMatchObject({ amountMinor: 500, points: 500 });
      for (const m of sim.result.months) {
        expect(m.draft.costMinor).toBe(m.draft.net);
      }
    });

    it('refuses a period outside 1–24 months', () => {
      expect(() => simulationWindow(0, TZ, NOW)).toThrow(
        /months must be a whole number from 1 to 24/,
      );
      expect(() => simulationWindow(25, TZ, NOW)).toThrow(/from 1 to 24/);
    });
  });
});
