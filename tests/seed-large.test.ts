/**
 * `npm run seed:large` at a small size on this file's own PostgreSQL database: exactly the counts
 * asked for, the projection equal to the entries, every entry backed by the row the app would hold
 * (order, refund, redemption), awards equal to the program's maths, and a second run refused
 * without touching the first shop's data.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earnedReport } from '../app/models/reports.server';
import { computeEarn } from '../loyalty/earn';
import { parseProgram } from '../loyalty/program';
import { LARGE_PROGRAM, SeedRefused, seedLarge, type SeedCounts } from '../scripts/seed-large';
import { createTestDatabase, type TestDatabase } from './helpers/db';

const SHOP = 'laurel-large-test.myshopify.com';
const END = new Date('2026-11-20T15:00:00Z');

let db: TestDatabase;
let counts: SeedCounts;

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await db.db.execute(query);
  return (result as unknown as { rows: T[] }).rows;
}

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  counts = await seedLarge({
    databaseUrl: db.url!,
    shop: SHOP,
    customers: 120,
    entries: 3_000,
    end: END,
  });
}, 120_000);

afterAll(async () => {
  await db?.close();
});

describe('seed:large', () => {
  it('writes exactly the customers and entries asked for, of every kind', async () => {
    const [c] = await rows<{ customers: number; entries: number; redacted: number }>(sql`
      SELECT (SELECT count(*)::int FROM customers WHERE shop_id = ${counts.shopId}) AS customers,
             (SELECT count(*)::int FROM ledger_entries WHERE shop_id = ${counts.shopId}) AS entries,
             (SELECT count(*)::int FROM customers WHERE shop_id = ${counts.shopId}
                AND redacted_at IS NOT NULL AND email IS NULL) AS redacted`);
    expect(c).toEqual({ customers: 120, entries: 3_000, redacted: counts.redactedCustomers });
    expect(counts.entries).toBe(3_000);
    for (const source of [
      'order',
      'refund',
      'cancellation',
      'bonus',
      'redemption',
      'expiry',
      'adjustment',
    ]) {
      expect(counts.entriesBySource[source], source).toBeGreaterThan(0);
    }
    const [span] = await rows<{ first: Date; last: Date }>(sql`
      SELECT min(occurred_at) AS first, max(occurred_at) AS last
      FROM ledger_entries WHERE shop_id = ${counts.shopId}`);
    expect(new Date(span!.last).getTime()).toBeLessThanOrEqual(END.getTime());
    expect(END.getTime() - new Date(span!.first).getTime()).toBeGreaterThan(2.5 * 365 * 86_400_000);
  });

  it('keeps customer_balances equal to the sum of each customer’s entries', async () => {
    const mismatches = await rows<{ customer_id: number }>(sql`
      SELECT c.id AS customer_id
      FROM customers c
      LEFT JOIN customer_balances b ON b.customer_id = c.id
      LEFT JOIN (SELECT customer_id, sum(points)::bigint AS balance,
                        (sum(points) FILTER (WHERE source NOT IN ('redemption', 'expiry')))::bigint AS earned
                 FROM ledger_entries WHERE shop_id = ${counts.shopId} GROUP BY customer_id) s
        ON s.customer_id = c.id
      WHERE c.shop_id = ${counts.shopId}
        AND (b.customer_id IS NULL OR b.balance <> s.balance
             OR b.lifetime_earned <> coalesce(s.earned, 0))`);
    expect(mismatches).toEqual([]);
  });

  it('leaves the report projection equal to the purchase entries (written through COPY)', async () => {
    const differences = await rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM (
        (SELECT customer_id, month, points FROM customer_month_points WHERE shop_id = ${counts.shopId}
         EXCEPT
         SELECT customer_id, date_trunc('month', occurred_at AT TIME ZONE 'America/New_York')::date,
                sum(points) FROM ledger_entries
         WHERE shop_id = ${counts.shopId} AND source IN ('order', 'refund', 'cancellation')
         GROUP BY 1, 2)
        UNION ALL
        (SELECT customer_id, date_trunc('month', occurred_at AT TIME ZONE 'America/New_York')::date,
                sum(points) FROM ledger_entries
         WHERE shop_id = ${counts.shopId} AND source IN ('order', 'refund', 'cancellation')
         GROUP BY 1, 2
         EXCEPT
         SELECT customer_id, month, points FROM customer_month_points WHERE shop_id = ${counts.shopId})
      ) d`);
    expect(differences[0]!.n).toBe(0);
  });

  it('backs every entry with its order, refund or redemption row', async () => {
    const [orphans] = await rows<Record<string, number>>(sql`
      SELECT
        (SELECT count(*)::int FROM ledger_entries e WHERE e.shop_id = ${counts.shopId}
           AND e.source = 'order' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = e.shop_id
             AND o.shopify_order_id = e.subject_id AND o.customer_id = e.customer_id)) AS awards,
        (SELECT count(*)::int FROM ledger_entries e WHERE e.shop_id = ${counts.shopId}
           AND e.source = 'refund' AND NOT EXISTS (SELECT 1 FROM order_refunds r WHERE r.shop_id = e.shop_id
             AND r.shopify_refund_id = e.subject_id)) AS refunds,
        (SELECT count(*)::int FROM ledger_entries e WHERE e.shop_id = ${counts.shopId}
           AND e.source = 'cancellation' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = e.shop_id
             AND o.shopify_order_id = e.subject_id AND o.cancelled_at = e.occurred_at)) AS cancellations,
        (SELECT count(*)::int FROM ledger_entries e WHERE e.shop_id = ${counts.shopId}
           AND e.source = 'redemption' AND e.points < 0 AND NOT EXISTS (SELECT 1 FROM redemptions r
             WHERE r.shop_id = e.shop_id AND r.debit_entry_id = e.id AND r.customer_id = e.customer_id
               AND r.points = -e.points)) AS debits,
        (SELECT count(*)::int FROM ledger_entries e WHERE e.shop_id = ${counts.shopId}
           AND e.source = 'redemption' AND e.points > 0 AND NOT EXISTS (SELECT 1 FROM redemptions r
             WHERE r.shop_id = e.shop_id AND r.return_entry_id = e.id AND r.debit_entry_id = e.reverses_entry_id
               AND r.status = 'expired')) AS returns,
        (SELECT count(*)::int FROM redemptions r WHERE r.shop_id = ${counts.shopId}
           AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.id = r.debit_entry_id)) AS redemptions`);
    expect(orphans).toEqual({
      awards: 0,
      refunds: 0,
      cancellations: 0,
      debits: 0,
      returns: 0,
      redemptions: 0,
    });
    const [n] = await rows<{ orders: number; refunds: number; redemptions: number }>(sql`
      SELECT (SELECT count(*)::int FROM orders WHERE shop_id = ${counts.shopId}) AS orders,
             (SELECT count(*)::int FROM order_refunds WHERE shop_id = ${counts.shopId}) AS refunds,
             (SELECT count(*)::int FROM redemptions WHERE shop_id = ${counts.shopId}) AS redemptions`);
    expect(n).toEqual({
      orders: counts.orders,
      refunds: counts.refunds,
      redemptions: counts.redemptions,
    });
  });

  it('awards what the published program computes for each order', async () => {
    const program = parseProgram(LARGE_PROGRAM);
    const awards = await rows<{ points: number; amount: string; recorded: string }>(sql`
      SELECT e.points, o.earn_amount_minor AS amount, e.inputs->>'amountMinor' AS recorded
      FROM ledger_entries e JOIN orders o ON o.shop_id = e.shop_id AND o.shopify_order_id = e.subject_id
      WHERE e.shop_id = ${counts.shopId} AND e.source = 'order'
      ORDER BY e.id LIMIT 200`);
    expect(awards.length).toBeGreaterThan(50);
    for (const award of awards) {
      expect(award.points).toBe(computeEarn(program, Number(award.amount)).points);
      expect(award.recorded).toBe(award.amount);
    }
  });

  it('gives the ledger report the purchase entries’ sum', async () => {
    const report = await earnedReport(db.db, counts.shopId);
    const [sum] = await rows<{ total: number }>(sql`
      SELECT coalesce(sum(points), 0)::int AS total FROM ledger_entries
      WHERE shop_id = ${counts.shopId} AND source IN ('order', 'refund', 'cancellation')`);
    expect(report.totals.total).toBe(sum!.total);
    expect(report.months.length).toBeGreaterThanOrEqual(36);
  });

  it('refuses to seed the same shop again, and leaves it as it was', async () => {
    await expect(
      seedLarge({ databaseUrl: db.url!, shop: SHOP, customers: 5, entries: 10, end: END }),
    ).rejects.toThrow(SeedRefused);
    await expect(
      seedLarge({ databaseUrl: db.url!, shop: SHOP, customers: 5, entries: 10, end: END }),
    ).rejects.toThrow(/already exists/);
    const [c] = await rows<{ entries: number }>(sql`
      SELECT count(*)::int AS entries FROM ledger_entries WHERE shop_id = ${counts.shopId}`);
    expect(c!.entries).toBe(3_000);
  });

  it('refuses fewer entries than customers', async () => {
    await expect(
      seedLarge({
        databaseUrl: db.url!,
        shop: 'laurel-large-other.myshopify.com',
        customers: 10,
        entries: 9,
      }),
    ).rejects.toThrow(/--entries must be/);
  });
});
