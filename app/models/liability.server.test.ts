/**
 * The liability rollforward on real PostgreSQL: a shop with every movement kind over 14 months in
 * New York time. Each month's columns are the ledger's entries of that local month classified one
 * by one; the last closing is the sum of customer_balances; a range ending in the past closes at
 * the entries before its end; money at the catalog's value; breakage from the history.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerBalances, ledgerEntries } from '../../db/schema';
import { movementAmount, movementKind, noMovements } from '../../loyalty/ledger-movements';
import { monthKeyOfInstant, zonedMidnight } from '../../loyalty/time';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ensureCustomer } from './customers.server';
import { postMany, type LedgerEntryInput, type LedgerSource } from './ledger.server';
import { liabilityReport } from './liability.server';
import { createReward } from './rewards.server';
import { ensureShop, type Shop } from './shops.server';

const TZ = 'America/New_York';
const NOW = Date.parse('2026-12-04T15:00:00Z');
const KINDS: [LedgerSource, number][] = [
  ['order', 900],
  ['refund', -120],
  ['cancellation', -60],
  ['redemption', -500],
  ['redemption', 200],
  ['expiry', -80],
  ['adjustment', 45],
  ['adjustment', -15],
  ['bonus', 100],
  ['referral', 250],
  ['tier', 200],
];

let pg: TestDatabase;
let shop: Shop;
let dormantMember: number;

beforeAll(async () => {
  pg = await createTestDatabase('postgres');
  shop = await ensureShop(pg.db, {
    domain: `liab-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
    timezone: TZ,
  });
  const members = [];
  for (let i = 0; i < 5; i++) {
    members.push((await ensureCustomer(pg.db, shop.id, { externalId: `l${i}` })).id);
  }
  const entries: LedgerEntryInput[] = [];
  // 14 months back from NOW, an entry of each kind every ~9 days, some on local midnights.
  for (let i = 0; i < 48; i++) {
    const [source, points] = KINDS[i % KINDS.length]!;
    const at =
      i % 6 === 0
        ? zonedMidnight(`${monthKeyOfInstant(NOW - i * 9 * 86_400_000, TZ)}-01`, TZ)
        : NOW - i * 9 * 86_400_000 - 3_600_000;
    entries.push({
      customerId: members[(i % 4) + 1]!,
      idempotencyKey: `k${i}`,
      source,
      points,
      occurredAt: new Date(at),
      inputs: { i },
    });
  }
  // A member last seen two years ago holds 700 points: dormant.
  dormantMember = members[0]!;
  entries.push({
    customerId: dormantMember,
    idempotencyKey: 'dormant',
    source: 'order',
    points: 700,
    occurredAt: new Date('2024-11-01T12:00:00Z'),
    inputs: {},
  });
  await postMany(pg.db, shop.id, entries);
});

afterAll(async () => {
  await pg?.close();
});

async function balancesSum() {
  const [row] = await pg.db
    .select({ n: sql<number>`coalesce(sum(${customerBalances.balance}), 0)::int` })
    .from(customerBalances)
    .where(eq(customerBalances.shopId, shop.id));
  return row!.n;
}

async function entriesBefore(instant: number) {
  const [row] = await pg.db
    .select({ n: sql<number>`coalesce(sum(${ledgerEntries.points}), 0)::int` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shop.id), lt(ledgerEntries.occurredAt, new Date(instant))));
  return row!.n;
}

describe('liabilityReport', () => {
  it('rolls the last 12 months forward to the sum of customer balances, each month its own entries', async () => {
    const report = await liabilityReport(pg.db, shop, { from: '2026-01', to: '2026-12' }, NOW);
    expect(report.rows.map((r) => r.month)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
      '2026-12',
    ]);
    expect(report.rows.at(-1)!.closing).toBe(await balancesSum());
    expect(report.outstandingNow).toBe(await balancesSum());
    expect(report.rows[0]!.opening).toBe(await entriesBefore(zonedMidnight('2026-01-01', TZ)));

    const all = await pg.db.select().from(ledgerEntries).where(eq(ledgerEntries.shopId, shop.id));
    for (const row of report.rows) {
      const expected = noMovements();
      for (const e of all) {
        if (monthKeyOfInstant(e.occurredAt.getTime(), TZ) !== row.month) continue;
        const kind = movementKind(e.source, e.points);
        expected[kind] += movementAmount(kind, e.points);
      }
      expect(row).toMatchObject(expected);
    }
    // Every kind moved in the range.
    const total = report.rows.reduce(
      (s, r) => ({
        issued: s.issued + r.issued,
        reversed: s.reversed + r.reversed,
        redeemed: s.redeemed + r.redeemed,
        expired: s.expired + r.expired,
        adjusted: s.adjusted + r.adjusted,
      }),
      noMovements(),
    );
    for (const value of Object.values(total)) expect(value).not.toBe(0);
  });

  it('closes a past range at the entries dated before its end', async () => {
    const report = await liabilityReport(pg.db, shop, { from: '2026-03', to: '2026-06' }, NOW);
    expect(report.rows.at(-1)!.closing).toBe(await entriesBefore(zonedMidnight('2026-07-01', TZ)));
    expect(report.rows[0]!.opening).toBe(await entriesBefore(zonedMidnight('2026-03-01', TZ)));
  });

  it('has no money value without a money reward, then the catalog’s best rate', async () => {
    const before = await liabilityReport(pg.db, shop, { from: '2026-12', to: '2026-12' }, NOW);
    expect(before.value).toBeNull();
    await createReward(pg.db, shop.id, {
      type: 'fixed_amount',
      title: '$5 off',
      pointsCost: 500,
      amountMinor: 500,
    });
    const after = await liabilityReport(pg.db, shop, { from: '2026-12', to: '2026-12' }, NOW);
    expect(after.value).toMatchObject({ amountMinor: 500, points: 500, rewardTitle: '$5 off' });
  });

  it('estimates breakage from redeemed, expired and dormant points over the whole history', async () => {
    const report = await liabilityReport(pg.db, shop, { from: '2026-12', to: '2026-12' }, NOW);
    const all = await pg.db.select().from(ledgerEntries).where(eq(ledgerEntries.shopId, shop.id));
    const redeemed = -all
      .filter((e) => e.source === 'redemption')
      .reduce((s, e) => s + e.points, 0);
    const expired = -all.filter((e) => e.source === 'expiry').reduce((s, e) => s + e.points, 0);
    expect(report.breakage).toMatchObject({
      status: 'estimated',
      redeemed,
      expired,
      dormant: 700,
      redemptionRate: redeemed / (redeemed + expired + 700),
    });
  });

  it('says the history is too thin for a shop with nothing redeemed, expired or dormant', async () => {
    const fresh = await ensureShop(pg.db, {
      domain: `liab-new-${randomUUID().slice(0, 8)}.myshopify.com`,
      timezone: TZ,
    });
    const member = await ensureCustomer(pg.db, fresh.id, { externalId: 'n1' });
    await postMany(pg.db, fresh.id, [
      {
        customerId: member.id,
        idempotencyKey: 'o',
        source: 'order',
        points: 90,
        occurredAt: new Date(NOW - 86_400_000),
        inputs: {},
      },
    ]);
    const report = await liabilityReport(pg.db, fresh, { from: '2026-12', to: '2026-12' }, NOW);
    expect(report.breakage).toMatchObject({
      status: 'insufficient',
      reason: expect.stringMatching(/too thin/),
    });
    expect(report.rows).toEqual([
      {
        month: '2026-12',
        opening: 0,
        issued: 90,
        reversed: 0,
        redeemed: 0,
        expired: 0,
        adjusted: 0,
        closing: 90,
      },
    ]);
  });
});
