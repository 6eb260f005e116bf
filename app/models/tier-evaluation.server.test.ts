import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.server';
import { customerMetafieldSync, orderRefunds, orders, shops } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { FOUR_TIERS, seedTierProgram } from '../../tests/helpers/tiers';
import type { TierProgramDefinition } from '../../loyalty/tiers';
import { AppError, ErrorCode } from '../errors';
import { ensureCustomer } from './customers.server';
import { balanceOf, entriesFor, post, sumOfEntries } from './ledger.server';
import { getShopByDomain, ensureShop, type Shop } from './shops.server';
import {
  applyTierProgram,
  evaluateMembers,
  loadTierActivity,
  previewTierProgram,
} from './tier-evaluation.server';
import { getCustomerTier, listTierPrograms, memberTier } from './tiers.server';

const NY = 'America/New_York';
const iso = (text: string) => new Date(text);

let handle: TestDatabase;
let db: Database;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  db = handle.db;
});
afterAll(async () => {
  await handle?.close();
});

async function newShop(
  definition: unknown = FOUR_TIERS,
  fields: { testOrdersEarn?: boolean } = {},
): Promise<Shop> {
  const created = await ensureShop(db, {
    domain: `tiers-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
    timezone: NY,
  });
  if (fields.testOrdersEarn) {
    await db.update(shops).set({ testOrdersEarn: true }).where(eq(shops.id, created.id));
  }
  if (definition !== null)
    await seedTierProgram(db, created.id, definition, iso('2020-01-01T00:00:00Z'));
  return (await getShopByDomain(db, created.domain))!;
}

async function newMember(shop: Shop) {
  return ensureCustomer(db, shop.id, { externalId: randomUUID(), email: null });
}

let nextOrder = 1_000_000;
/** A paid order of `dollars` (earn amount) at `at`, with optional refunds. */
async function order(
  shop: Shop,
  customerId: number,
  dollars: number,
  at: string,
  options: { refunds?: number[]; cancelled?: boolean; paid?: boolean; test?: boolean } = {},
) {
  const id = String(++nextOrder);
  await db.insert(orders).values({
    shopId: shop.id,
    shopifyOrderId: id,
    name: `#${id}`,
    customerId,
    currency: 'USD',
    test: options.test ?? false,
    earnAmountMinor: dollars * 100,
    totalMinor: dollars * 100,
    processedAt: iso(at),
    paidAt: options.paid === false ? null : iso(at),
    cancelledAt: options.cancelled ? iso(at) : null,
  });
  for (const [i, refund] of (options.refunds ?? []).entries()) {
    await db.insert(orderRefunds).values({
      shopId: shop.id,
      shopifyOrderId: id,
      shopifyRefundId: `${id}-${i}`,
      merchandiseMinor: refund * 100,
      currency: 'USD',
      processedAt: iso(at),
    });
  }
  return id;
}

const evaluate = (shop: Shop, ids: number[], now: Date) =>
  db.transaction((tx) => evaluateMembers(tx, shop, ids, now));

const tierEntries = async (shop: Shop, customerId: number) =>
  (await entriesFor(db, shop.id, customerId)).filter((e) => e.source === 'tier');

describe('evaluateMembers: spend over the calendar year', () => {
  it('moves a member to Gold with a change entry and the entry reward, once', async () => {
    const shop = await newShop();
    const member = await newMember(shop);
    await order(shop, member.id, 400, '2026-02-01T15:00:00Z');
    await order(shop, member.id, 700, '2026-03-01T15:00:00Z');
    await order(shop, member.id, 5_000, '2025-12-31T12:00:00Z'); // last year: does not count
    const now = iso('2026-03-02T12:00:00Z');

    const summary = await evaluate(shop, [member.id], now);
    expect(summary).toMatchObject({ evaluated: 1, changed: 1 });
    expect(summary.members[0]).toMatchObject({ from: null, to: 'gold' });
    const entries = await tierEntries(shop, member.id);
    expect(entries.map((e) => [e.idempotencyKey, e.points])).toEqual([
      [`tier:${member.id}:change:1`, 0],
      [`tier:${member.id}:entry:gold`, 200],
    ]);
    expect(entries[0]!.inputs).toEqual({
      rule: 'tier-change',
      from: null,
      to: 'gold',
      direction: 'up',
      tierVersion: 1,
      names: { gold: 'Gold' },
      reason: {
        metric: 'spend',
        window: 'calendar_year',
        value: 110_000,
        threshold: 100_000,
        year: 2026,
        heldUntil: null,
        graceEndedAt: null,
        currency: 'USD',
      },
    });
    expect(entries[1]!.inputs).toEqual({
      rule: 'tier-entry-reward',
      tier: 'gold',
      name: 'Gold',
      tierVersion: 1,
    });
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'gold',
      tierVersion: 1,
      since: now,
      heldUntil: iso('2027-01-01T05:00:00Z'),
      downgradeAt: null,
      metricValue: 110_000,
      evaluatedAt: now,
      changes: 1,
    });
    expect(await balanceOf(db, shop.id, member.id)).toEqual(
      await sumOfEntries(db, shop.id, member.id),
    );
    expect((await balanceOf(db, shop.id, member.id)).balance).toBe(200);

    // Again, now or later the same day: nothing new.
    const again = await evaluate(shop, [member.id], iso('2026-03-02T18:00:00Z'));
    expect(again).toMatchObject({ evaluated: 1, changed: 0, posted: [] });
    expect(await tierEntries(shop, member.id)).toHaveLength(2);
    expect((await getCustomerTier(db, shop.id, member.id))!.since).toEqual(now);

    const tier = await memberTier(db, shop.id, member.id);
    expect(tier).toMatchObject({
      tier: { key: 'gold' },
      progress: { next: { key: 'platinum' }, remaining: 390_000 },
    });
  });

  it('counts paid, uncancelled orders net of refunds; test orders only when they earn', async () => {
    const shop = await newShop();
    const member = await newMember(shop);
    const at = '2026-04-01T15:00:00Z';
    await order(shop, member.id, 300, at, { refunds: [50, 20] }); // 230
    await order(shop, member.id, 100, at, { refunds: [150] }); // clamped at 0
    await order(shop, member.id, 900, at, { cancelled: true });
    await order(shop, member.id, 900, at, { paid: false });
    await order(shop, member.id, 900, at, { test: true });
    const now = iso('2026-04-02T00:00:00Z');
    const activity = await loadTierActivity(
      db,
      shop,
      { metric: 'spend', window: 'calendar_year' },
      [member.id],
      now,
    );
    expect(
      activity
        .get(member.id)!
        .map((a) => a.value)
        .sort((a, b) => a - b),
    ).toEqual([0, 23_000]);
    await evaluate(shop, [member.id], now);
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'bronze',
      metricValue: 23_000,
    });

    const testShop = await newShop(FOUR_TIERS, { testOrdersEarn: true });
    const tester = await newMember(testShop);
    await order(testShop, tester.id, 900, at, { test: true });
    await evaluate(testShop, [tester.id], now);
    expect((await getCustomerTier(db, testShop.id, tester.id))!.tierKey).toBe('silver');
  });

  it('keeps Gold through January and the grace period, then moves down without a new reward', async () => {
    const shop = await newShop();
    const member = await newMember(shop);
    await order(shop, member.id, 1_200, '2026-06-01T15:00:00Z');
    await evaluate(shop, [member.id], iso('2026-06-02T00:00:00Z'));
    await order(shop, member.id, 300, '2027-01-10T15:00:00Z');

    // January 2027: $300 this year, Gold protected until 2027-01-01 + 30 days.
    await evaluate(shop, [member.id], iso('2027-01-15T12:00:00Z'));
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'gold',
      downgradeAt: iso('2027-01-31T05:00:00Z'),
      metricValue: 30_000,
      changes: 1,
    });
    await evaluate(shop, [member.id], iso('2027-01-31T05:00:00Z'));
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'silver',
      downgradeAt: null,
      since: iso('2027-01-31T05:00:00Z'),
      changes: 2,
    });
    const entries = await tierEntries(shop, member.id);
    expect(entries.map((e) => e.idempotencyKey)).toEqual([
      `tier:${member.id}:change:1`,
      `tier:${member.id}:entry:gold`,
      `tier:${member.id}:change:2`,
    ]);
    expect(entries[2]!.inputs).toMatchObject({ from: 'gold', to: 'silver', direction: 'down' });

    // Back to Gold later in 2027: a change entry, but Gold's reward was given once already.
    await order(shop, member.id, 800, '2027-03-01T15:00:00Z');
    await evaluate(shop, [member.id], iso('2027-03-02T00:00:00Z'));
    expect((await tierEntries(shop, member.id)).map((e) => e.idempotencyKey)).toEqual([
      `tier:${member.id}:change:1`,
      `tier:${member.id}:entry:gold`,
      `tier:${member.id}:change:2`,
      `tier:${member.id}:change:3`,
    ]);
  });

  it('marks the member pending when only the progress or the downgrade date moved', async () => {
    const shop = await newShop();
    const member = await newMember(shop);
    await order(shop, member.id, 1_200, '2026-06-01T15:00:00Z');
    await evaluate(shop, [member.id], iso('2026-06-02T00:00:00Z'));
    const revision = async () =>
      (
        await db
          .select({ revision: customerMetafieldSync.revision })
          .from(customerMetafieldSync)
          .where(eq(customerMetafieldSync.customerId, member.id))
      )[0]?.revision ?? 0;
    const afterChange = await revision();
    expect(afterChange).toBeGreaterThan(0);
    // Nothing moved: no new write.
    await evaluate(shop, [member.id], iso('2026-06-03T00:00:00Z'));
    expect(await revision()).toBe(afterChange);
    // The year rolled over: still Gold (protected), but $0 this year and a downgrade date.
    await evaluate(shop, [member.id], iso('2027-01-02T12:00:00Z'));
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'gold',
      metricValue: 0,
      changes: 1,
    });
    expect(await revision()).toBe(afterChange + 1);
  });

  it('does nothing for a shop without tiers, and skips ids that are not its customers', async () => {
    const shop = await newShop(null);
    const member = await newMember(shop);
    await order(shop, member.id, 5_000, '2026-04-01T15:00:00Z');
    expect(await evaluate(shop, [member.id], iso('2026-04-02T00:00:00Z'))).toMatchObject({
      evaluated: 0,
    });
    expect(await getCustomerTier(db, shop.id, member.id)).toBeUndefined();

    const other = await newShop();
    expect(await evaluate(other, [member.id, 999_999], iso('2026-04-02T00:00:00Z'))).toMatchObject({
      evaluated: 0,
      posted: [],
    });
  });
});

describe('evaluateMembers: other metrics', () => {
  it('orders: one each, a fully refunded order not at all', async () => {
    const shop = await newShop({
      metric: 'orders',
      window: 'rolling_12_months',
      tiers: [
        { key: 'regular', name: 'Regular', threshold: 1 },
        { key: 'loyal', name: 'Loyal', threshold: 3, entryReward: { points: 30 } },
      ],
    });
    const member = await newMember(shop);
    await order(shop, member.id, 50, '2026-01-10T15:00:00Z');
    await order(shop, member.id, 50, '2026-02-10T15:00:00Z', { refunds: [50] });
    await order(shop, member.id, 50, '2026-03-10T15:00:00Z', { refunds: [10] });
    await order(shop, member.id, 50, '2025-03-01T15:00:00Z'); // more than 12 months ago
    await evaluate(shop, [member.id], iso('2026-03-11T00:00:00Z'));
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'regular',
      metricValue: 2,
      heldUntil: iso('2027-03-10T16:00:00Z'), // when the last order counted leaves (12:00 EDT)
    });
    await order(shop, member.id, 50, '2026-03-12T15:00:00Z');
    await evaluate(shop, [member.id], iso('2026-03-13T00:00:00Z'));
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'loyal',
      metricValue: 3,
      heldUntil: iso('2027-01-10T15:00:00Z'),
    });
    expect((await balanceOf(db, shop.id, member.id)).balance).toBe(30);
  });

  it('points: earning sources only, a reversal at the time of the award it reverses', async () => {
    const shop = await newShop({
      metric: 'points',
      window: 'calendar_year',
      tiers: [{ key: 'star', name: 'Star', threshold: 100, entryReward: { points: 1_000 } }],
    });
    const member = await newMember(shop);
    const entry = (key: string, source: string, points: number, at: string, extra = {}) =>
      post(db, shop.id, {
        customerId: member.id,
        idempotencyKey: key,
        source: source as 'order',
        points,
        occurredAt: iso(at),
        inputs: {},
        ...extra,
      });
    const award = await entry('a', 'order', 80, '2025-12-20T15:00:00Z');
    await entry('b', 'order', 90, '2026-01-05T15:00:00Z');
    await entry('c', 'adjustment', 20, '2026-01-06T15:00:00Z');
    await entry('d', 'redemption', -50, '2026-01-07T15:00:00Z');
    await entry('e', 'expiry', -40, '2026-01-08T15:00:00Z');
    // A January refund of December's award belongs to 2025: it leaves 2026's sum alone.
    await entry('f', 'refund', -80, '2026-01-09T15:00:00Z', { reversesEntryId: award.entry.id });
    await evaluate(shop, [member.id], iso('2026-01-10T00:00:00Z'));
    expect(await getCustomerTier(db, shop.id, member.id)).toMatchObject({
      tierKey: 'star',
      metricValue: 110,
    });
    // The entry reward is a tier entry: it does not count towards the points metric.
    await evaluate(shop, [member.id], iso('2026-01-11T00:00:00Z'));
    expect((await getCustomerTier(db, shop.id, member.id))!.metricValue).toBe(110);
  });
});

describe('previewTierProgram and applyTierProgram', () => {
  const harder: TierProgramDefinition = {
    ...FOUR_TIERS,
    tiers: FOUR_TIERS.tiers.map((t) =>
      t.key === 'gold'
        ? { ...t, threshold: '600.00' }
        : t.key === 'silver'
          ? { ...t, threshold: '500.00' }
          : t,
    ),
  };

  it('preview counts are what apply then does', async () => {
    const shop = await newShop();
    const spends = [100, 300, 550, 650, 1_200, 0];
    const members = [];
    for (const dollars of spends) {
      const member = await newMember(shop);
      if (dollars > 0) await order(shop, member.id, dollars, '2026-02-01T15:00:00Z');
      members.push(member);
    }
    const now = iso('2026-03-01T00:00:00Z');
    await evaluate(
      shop,
      members.slice(0, 5).map((m) => m.id),
      now,
    );
    const later = iso('2026-03-05T00:00:00Z');
    // Silver from $500, Gold from $600: $650 moves up to Gold; $300 no longer meets Silver but
    // holds it for 2026 (same); the member never evaluated enters Bronze (up).
    const preview = await previewTierProgram(db, shop, harder, later);
    expect(preview).toEqual({
      members: 6,
      up: 2,
      down: 0,
      same: 4,
      byTier: [
        { key: 'bronze', name: 'Bronze', before: 1, after: 2 },
        { key: 'silver', name: 'Silver', before: 3, after: 2 },
        { key: 'gold', name: 'Gold', before: 1, after: 2 },
        { key: 'platinum', name: 'Platinum', before: 0, after: 0 },
      ],
    });
    const applied = await applyTierProgram(db, shop, harder, later);
    expect(applied).toEqual({ version: 2, evaluated: 6, changed: preview.up + preview.down });
    expect((await getCustomerTier(db, shop.id, members[3]!.id))!.tierKey).toBe('gold');
    const held = new Map<string, number>();
    for (const member of members) {
      const key = (await getCustomerTier(db, shop.id, member.id))!.tierKey!;
      held.set(key, (held.get(key) ?? 0) + 1);
    }
    for (const row of preview.byTier) expect(held.get(row.key) ?? 0).toBe(row.after);
    // Applying again changes nobody.
    expect(await previewTierProgram(db, shop, harder, later)).toMatchObject({ up: 0, down: 0 });
  });

  it('counts moves down too: a lifetime program with no grace, raised above a member', async () => {
    const lifetime = { ...FOUR_TIERS, window: 'lifetime', graceDays: 0 };
    const shop = await newShop(lifetime);
    const gold = await newMember(shop);
    const silver = await newMember(shop);
    await order(shop, gold.id, 1_500, '2024-05-01T15:00:00Z');
    await order(shop, silver.id, 400, '2024-05-01T15:00:00Z');
    const now = iso('2026-03-01T00:00:00Z');
    await evaluate(shop, [gold.id, silver.id], now);
    const raised = {
      ...lifetime,
      tiers: FOUR_TIERS.tiers.map((t) => (t.key === 'gold' ? { ...t, threshold: '2000.00' } : t)),
    };
    const preview = await previewTierProgram(db, shop, raised, now);
    expect(preview).toMatchObject({ members: 2, up: 0, down: 1, same: 1 });
    expect(await applyTierProgram(db, shop, raised, now)).toEqual({
      version: 2,
      evaluated: 2,
      changed: 1,
    });
    expect(await getCustomerTier(db, shop.id, gold.id)).toMatchObject({
      tierKey: 'silver',
      tierVersion: 2,
      changes: 2,
    });
  });

  it('two evaluations of one member at once post one change', async () => {
    const shop = await newShop();
    const member = await newMember(shop);
    await order(shop, member.id, 1_200, '2026-02-01T15:00:00Z');
    const now = iso('2026-03-01T00:00:00Z');
    const results = await Promise.all([
      evaluate(shop, [member.id], now),
      evaluate(shop, [member.id], now),
      evaluate(shop, [member.id], now),
    ]);
    expect(results.map((r) => r.changed).sort()).toEqual([0, 0, 1]);
    expect((await tierEntries(shop, member.id)).map((e) => e.idempotencyKey)).toEqual([
      `tier:${member.id}:change:1`,
      `tier:${member.id}:entry:gold`,
    ]);
  });

  it('an invalid draft is a VALIDATION error listing its issues, and nothing is saved', async () => {
    const shop = await newShop();
    const bad = { ...FOUR_TIERS, tiers: [FOUR_TIERS.tiers[2], FOUR_TIERS.tiers[1]] };
    for (const work of [
      previewTierProgram(db, shop, bad, iso('2026-03-01T00:00:00Z')),
      applyTierProgram(db, shop, bad, iso('2026-03-01T00:00:00Z')),
    ]) {
      const error = await work.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe(ErrorCode.VALIDATION);
      expect((error as AppError).details).toMatchObject({
        issues: [
          { path: 'tiers[1].threshold', message: expect.stringMatching(/must be above Gold/) },
        ],
      });
    }
    expect(await listTierPrograms(db, shop.id)).toHaveLength(1);
    expect(
      await db
        .select()
        .from(orders)
        .where(and(eq(orders.shopId, shop.id))),
    ).toEqual([]);
  });
});
