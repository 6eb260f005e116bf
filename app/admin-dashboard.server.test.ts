/**
 * The dashboard's periods (pure) and figures on real PostgreSQL: members new in a period, the
 * five movement columns this period against the previous one, outstanding at each end, redemption
 * rates, repeat purchases of members and guests, revenue from members net of refunds, the monthly
 * chart and the recent entries explained.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers, orderRefunds, orders } from '../db/schema';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import {
  chartMonths,
  dashboardFigures,
  dashboardView,
  explainLocale,
  periodsAt,
} from './admin-dashboard.server';
import { ensureCustomer } from './models/customers.server';
import { postMany, type LedgerEntryInput } from './models/ledger.server';
import { ensureShop, type Shop } from './models/shops.server';

const TZ = 'America/New_York';
/** Friday Dec 4, 2026, 10:00 in New York. */
const NOW = Date.parse('2026-12-04T15:00:00Z');
const day = (ymd: string, hour = 12) =>
  new Date(`${ymd}T${String(hour).padStart(2, '0')}:00:00-05:00`);

describe('periodsAt', () => {
  it('ends every period with today and puts as many days before it', () => {
    const p = periodsAt('last30', NOW, TZ);
    expect(p.current).toMatchObject({ firstDay: '2026-11-05', lastDay: '2026-12-04' });
    expect(p.previous).toMatchObject({ firstDay: '2026-10-06', lastDay: '2026-11-04' });
    expect(p.current.start).toBe(Date.parse('2026-11-05T00:00:00-05:00'));
    expect(p.current.end).toBe(Date.parse('2026-12-05T00:00:00-05:00'));
    expect(p.previous.end).toBe(p.current.start);
    // Across the end of daylight saving time (Nov 1): a local midnight, not 24-hour steps.
    expect(p.previous.start).toBe(Date.parse('2026-10-06T00:00:00-04:00'));

    expect(periodsAt('last7', NOW, TZ).current).toMatchObject({
      firstDay: '2026-11-28',
      lastDay: '2026-12-04',
    });
    expect(periodsAt('last90', NOW, TZ).previous).toMatchObject({
      firstDay: '2026-06-08',
      lastDay: '2026-09-05',
    });
    const month = periodsAt('month', NOW, TZ);
    expect(month.current).toMatchObject({ firstDay: '2026-12-01', lastDay: '2026-12-04' });
    expect(month.previous).toMatchObject({ firstDay: '2026-11-27', lastDay: '2026-11-30' });
    const year = periodsAt('year', NOW, TZ);
    expect(year.current).toMatchObject({ firstDay: '2026-01-01', lastDay: '2026-12-04' });
    expect(year.previous).toMatchObject({ firstDay: '2025-01-28', lastDay: '2025-12-31' });
  });

  it('reads today in the shop’s timezone', () => {
    // 02:00 UTC on Dec 5 is still Dec 4 in New York and already Dec 5 in Tokyo.
    const at = Date.parse('2026-12-05T02:00:00Z');
    expect(periodsAt('last7', at, TZ).current.lastDay).toBe('2026-12-04');
    expect(periodsAt('last7', at, 'Asia/Tokyo').current.lastDay).toBe('2026-12-05');
  });

  it('charts the 12 months ending with this one', () => {
    const { months, starts } = chartMonths(NOW, TZ);
    expect(months[0]).toBe('2026-01');
    expect(months.at(-1)).toBe('2026-12');
    expect(starts).toHaveLength(13);
    expect(starts.at(-1)).toBe(Date.parse('2027-01-01T00:00:00-05:00'));
  });

  it('explains entries in French for a French admin, in English otherwise', () => {
    expect(explainLocale('fr-CA')).toBe('fr');
    expect(explainLocale('de-DE')).toBe('en');
  });
});

let pg: TestDatabase;
let shop: Shop;
const ids: Record<string, number> = {};

async function order(
  key: string,
  fields: Partial<typeof orders.$inferInsert> & { processedAt: Date },
) {
  await pg.db.insert(orders).values({
    shopId: shop.id,
    shopifyOrderId: key,
    name: `#${key}`,
    currency: 'USD',
    earnAmountMinor: fields.totalMinor ?? 10_000,
    totalMinor: 10_000,
    paidAt: fields.processedAt,
    ...fields,
  });
}

beforeAll(async () => {
  pg = await createTestDatabase('postgres');
  shop = await ensureShop(pg.db, {
    domain: `dash-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
    timezone: TZ,
  });
  for (const name of ['ann', 'bob', 'cat', 'dan']) {
    const c = await ensureCustomer(pg.db, shop.id, {
      externalId: name,
      email: `${name}@example.com`,
      firstName: name.toUpperCase(),
    });
    ids[name] = c.id;
  }
  // Enrolment: ann and bob long ago, cat in the previous period, dan in this one.
  await pg.db
    .update(customers)
    .set({ enrolledAt: day('2025-01-01') })
    .where(eq(customers.id, ids.ann!));
  await pg.db
    .update(customers)
    .set({ enrolledAt: day('2025-01-01') })
    .where(eq(customers.id, ids.bob!));
  await pg.db
    .update(customers)
    .set({ enrolledAt: day('2026-10-20') })
    .where(eq(customers.id, ids.cat!));
  await pg.db
    .update(customers)
    .set({ enrolledAt: day('2026-11-20') })
    .where(eq(customers.id, ids.dan!));

  // Purchases. ann: one before the period and one in it (repeats); bob: two in it (repeats);
  // cat: one in it (does not); dan: one in it and one cancelled (does not), one test order.
  await order('1', { customerId: ids.ann, processedAt: day('2026-08-01'), totalMinor: 5_000 });
  await order('2', { customerId: ids.ann, processedAt: day('2026-11-10'), totalMinor: 12_000 });
  await order('3', { customerId: ids.bob, processedAt: day('2026-11-06'), totalMinor: 3_000 });
  await order('4', { customerId: ids.bob, processedAt: day('2026-12-02'), totalMinor: 4_000 });
  await order('5', { customerId: ids.cat, processedAt: day('2026-11-30'), totalMinor: 8_000 });
  await order('6', { customerId: ids.dan, processedAt: day('2026-12-01'), totalMinor: 2_000 });
  await order('7', {
    customerId: ids.dan,
    processedAt: day('2026-12-03'),
    cancelledAt: day('2026-12-03', 14),
  });
  await order('8', { customerId: ids.dan, processedAt: day('2026-12-03'), test: true });
  // An unpaid order and one after the period count nowhere.
  await order('9', { customerId: ids.cat, processedAt: day('2026-11-15'), paidAt: null });
  // Guests by email: g1 twice in the period (repeats), g2 once (does not), g3 in the previous one,
  await order('20', { email: 'g1@example.com', processedAt: day('2026-11-11') });
  await order('21', { email: 'g1@example.com', processedAt: day('2026-11-12') });
  await order('22', { email: 'g2@example.com', processedAt: day('2026-11-13') });
  await order('23', { email: 'g3@example.com', processedAt: day('2026-10-13') });
  // g4 once before the period and once in it (repeats).
  await order('24', { email: 'g4@example.com', processedAt: day('2026-09-02') });
  await order('25', { email: 'g4@example.com', processedAt: day('2026-11-25') });
  // Refunds of ann's order in the period, whenever they came: $20 merchandise + $5 shipping.
  await pg.db.insert(orderRefunds).values([
    {
      shopId: shop.id,
      shopifyOrderId: '2',
      shopifyRefundId: 'r1',
      merchandiseMinor: 2_000,
      shippingMinor: 500,
      processedAt: day('2026-12-03'),
    },
    // A refund of a guest order is no member revenue.
    {
      shopId: shop.id,
      shopifyOrderId: '20',
      shopifyRefundId: 'r2',
      merchandiseMinor: 1_000,
      processedAt: day('2026-11-20'),
    },
  ]);

  const entry = (
    key: string,
    who: string,
    source: LedgerEntryInput['source'],
    points: number,
    at: Date,
    inputs: Record<string, unknown> = {},
  ): LedgerEntryInput => ({
    customerId: ids[who]!,
    idempotencyKey: key,
    source,
    points,
    occurredAt: at,
    inputs,
  });
  await postMany(pg.db, shop.id, [
    // Previous period (Oct 6 – Nov 4).
    entry('p1', 'ann', 'order', 400, day('2026-10-10')),
    entry('p2', 'ann', 'redemption', -100, day('2026-10-12')),
    entry('p3', 'cat', 'bonus', 100, day('2026-10-20')),
    // This period (Nov 5 – Dec 4), one at its very first instant.
    entry('c1', 'ann', 'order', 120, day('2026-11-05', 0), {
      orderId: '2',
      amountMinor: 12_000,
      currency: 'USD',
    }),
    entry('c2', 'bob', 'order', 70, day('2026-11-06')),
    entry('c3', 'ann', 'refund', -20, day('2026-12-03')),
    entry('c4', 'bob', 'redemption', -50, day('2026-12-01')),
    entry('c5', 'bob', 'expiry', -10, day('2026-12-02')),
    entry('c6', 'dan', 'adjustment', 25, day('2026-12-03'), { reason: 'Goodwill' }),
    entry('c7', 'dan', 'bonus', 100, day('2026-11-20')),
    // Before both: lifetime only.
    entry('o1', 'ann', 'order', 1000, day('2025-06-01')),
    entry('o2', 'ann', 'redemption', -500, day('2025-07-01')),
  ]);
});

afterAll(async () => {
  await pg?.close();
});

describe('dashboardFigures', () => {
  it('compares this period with the previous one', async () => {
    const f = await dashboardFigures(pg.db, shop, 'last30', NOW);
    expect(f.members).toBe(4);
    expect(f.current.newMembers).toBe(1);
    expect(f.previous.newMembers).toBe(1);
    expect(f.current.movements).toEqual({
      issued: 290,
      reversed: 20,
      redeemed: 50,
      expired: 10,
      adjusted: 25,
    });
    expect(f.previous.movements).toEqual({
      issued: 500,
      reversed: 0,
      redeemed: 100,
      expired: 0,
      adjusted: 0,
    });
    // Balances: 1000 − 500 + 400 − 100 + 100 before, then + 290 − 20 − 50 − 10 + 25.
    expect(f.previous.outstanding).toBe(900);
    expect(f.current.outstanding).toBe(1135);
    expect(f.current.redemptionRate).toBeCloseTo(50 / 290, 12);
    expect(f.previous.redemptionRate).toBeCloseTo(100 / 500, 12);
    expect(f.lifetime.redemptionRate).toBeCloseTo(650 / 1790, 12);
  });

  it('counts repeat buyers, members by customer and guests by email', async () => {
    const f = await dashboardFigures(pg.db, shop, 'last30', NOW);
    // ann (earlier purchase), bob (two), cat (one), dan (one paid: the cancelled and test orders
    // do not count).
    expect(f.repeat.members).toEqual({ buyers: 4, repeaters: 2 });
    expect(f.repeat.guests).toEqual({ buyers: 3, repeaters: 2 });
  });

  it('sums revenue from members in the period less their refunds', async () => {
    const f = await dashboardFigures(pg.db, shop, 'last30', NOW);
    expect(f.current.revenue).toEqual({
      orders: 5,
      grossMinor: 12_000 + 3_000 + 4_000 + 8_000 + 2_000,
      refundedMinor: 2_500,
      netMinor: 29_000 - 2_500,
    });
    expect(f.previous.revenue).toMatchObject({ orders: 0, netMinor: 0 });
  });

  it('charts issued and redeemed per month and lists the latest entries, newest first', async () => {
    const f = await dashboardFigures(pg.db, shop, 'last30', NOW);
    expect(f.chart.find((m) => m.month === '2026-10')).toEqual({
      month: '2026-10',
      issued: 500,
      redeemed: 100,
    });
    expect(f.chart.find((m) => m.month === '2026-12')).toEqual({
      month: '2026-12',
      issued: 0,
      redeemed: 50,
    });
    expect(f.chart).toHaveLength(12);
    expect(f.recent.map((e) => e.points)).toEqual([
      25, -20, -10, -50, 100, 70, 120, 100, -100, 400,
    ]);

    const view = dashboardView(f, shop, 'en-US');
    // Same instant: the later entry first.
    expect(view.recent[0]).toMatchObject({
      customerId: ids.dan,
      customer: 'DAN',
      explanation: 'Adjustment: Goodwill → 25 points',
    });
    expect(view.recent[6]!.explanation).toBe('Order #2, $120.00 → 120 points');
    expect(view.comparisons[1]).toEqual({
      label: 'Points issued',
      current: '290',
      previous: '500',
      change: '−210',
      trend: 'down',
    });
    expect(view.revenue.net).toBe('$265.00');
    expect(view.repeat.members.rate).toBe('50%');
  });

  it('has nothing to show for a shop without members', async () => {
    const empty = await ensureShop(pg.db, {
      domain: `dash-empty-${randomUUID().slice(0, 8)}.myshopify.com`,
    });
    const f = await dashboardFigures(pg.db, empty, 'year', NOW);
    expect(f.members).toBe(0);
    expect(f.program).toBeNull();
    expect(f.current.redemptionRate).toBeNull();
    expect(f.recent).toEqual([]);
    expect(dashboardView(f, empty, 'en-US').redemptionRate.lifetime).toBe('—');
  });
});
