import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReportCsv } from '../../cli/report-file';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import {
  cachedReportPage,
  rangePlan,
  reportCacheStats,
  reportCsvChunks,
  reportPage,
  type ReportPageQuery,
  type ReportRange,
} from './admin-report.server';
import { ensureCustomer } from './customers.server';
import { post, postMany, type LedgerEntryInput } from './ledger.server';
import { earnedReport } from './reports.server';
import { deleteShopData, ensureShop, type Shop } from './shops.server';

const TZ = 'America/New_York';
let db: TestDatabase;
let shop: Shop;
let other: Shop;
/** external id → internal id */
const ids = new Map<string, number>();

const at = (iso: string) => new Date(iso);
let keyNumber = 0;
function entry(
  externalId: string,
  source: LedgerEntryInput['source'],
  points: number,
  occurredAt: string,
): LedgerEntryInput {
  keyNumber++;
  return {
    customerId: ids.get(externalId)!,
    idempotencyKey: `test:${keyNumber}`,
    source,
    points,
    occurredAt: at(occurredAt),
    inputs: { test: keyNumber },
  };
}

async function projection(shopId: number) {
  const result = await db.db.execute(sql`
    SELECT customer_id, to_char(month, 'YYYY-MM-DD') AS month, points::int AS points
    FROM customer_month_points WHERE shop_id = ${shopId} ORDER BY 1, 2`);
  return (result as unknown as { rows: { customer_id: number; month: string; points: number }[] })
    .rows;
}

/** The projection as the ledger defines it, summed here from the entries. */
async function projectionFromLedger(shopId: number, timezone: string) {
  const result = await db.db.execute(sql`
    SELECT customer_id, to_char(date_trunc('month', occurred_at AT TIME ZONE ${timezone}), 'YYYY-MM-DD') AS month,
           sum(points)::int AS points
    FROM ledger_entries WHERE shop_id = ${shopId} AND source IN ('order', 'refund', 'cancellation')
    GROUP BY 1, 2 ORDER BY 1, 2`);
  return (result as unknown as { rows: unknown[] }).rows;
}

async function csvOf(range: ReportRange, batch: number) {
  let text = '';
  for await (const chunk of reportCsvChunks(db.db, shop.id, range, batch)) text += chunk;
  return text;
}

const query = (over: Partial<ReportPageQuery> = {}): ReportPageQuery => ({
  timezone: TZ,
  from: '2026-08-01',
  to: '2026-10-31',
  sort: 'total',
  direction: 'desc',
  page: 1,
  pageSize: 50,
  ...over,
});

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: 'report-model.myshopify.com', timezone: TZ });
  other = await ensureShop(db.db, { domain: 'report-other.myshopify.com', timezone: 'UTC' });
  const people: [string, string | null][] = [
    ['C10', 'Ada'],
    ['C9', 'Ben'],
    ['B7', 'Chloé'],
    ['a1', null],
    ['Z0', 'Dmitri'],
    ['N5', 'Elif'],
  ];
  for (const [externalId, firstName] of people) {
    const c = await ensureCustomer(db.db, shop.id, { externalId, firstName, lastName: 'Test' });
    ids.set(externalId, c.id);
  }
  // One batch, as the order worker posts, and single posts.
  await postMany(db.db, shop.id, [
    entry('C10', 'order', 120, '2026-08-03T15:00:00Z'),
    entry('C10', 'order', 80, '2026-09-10T15:00:00Z'),
    entry('C9', 'order', 50, '2026-08-20T15:00:00Z'),
    // 23:30 on Sep 30 in New York: September there, October in UTC.
    entry('C9', 'order', 70, '2026-10-01T03:30:00Z'),
    entry('B7', 'order', 200, '2026-10-15T15:00:00Z'),
    entry('B7', 'refund', -200, '2026-10-20T15:00:00Z'),
    entry('a1', 'order', 30, '2026-09-05T15:00:00Z'),
    entry('a1', 'cancellation', -10, '2026-09-06T15:00:00Z'),
    // Not purchases: the report leaves them out.
    entry('Z0', 'bonus', 100, '2026-09-01T15:00:00Z'),
    entry('Z0', 'redemption', -50, '2026-09-02T15:00:00Z'),
    entry('Z0', 'adjustment', 40, '2026-09-03T15:00:00Z'),
  ]);
  await post(db.db, shop.id, entry('N5', 'order', 80, '2026-08-15T15:00:00Z'));
  await post(db.db, shop.id, entry('N5', 'order', 10, '2026-10-31T23:00:00Z')); // Oct 31 local
  await post(db.db, shop.id, entry('N5', 'order', 999, '2026-11-01T05:00:00Z')); // Nov 1 local
  await post(db.db, shop.id, entry('C10', 'order', 5, '2026-07-31T12:00:00Z'));
  const o = await ensureCustomer(db.db, other.id, { externalId: 'C10' });
  await post(db.db, other.id, {
    customerId: o.id,
    idempotencyKey: 'other:1',
    source: 'order',
    points: 1_000,
    occurredAt: at('2026-09-10T12:00:00Z'),
    inputs: {},
  });
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('customer_month_points', () => {
  it('equals the ledger’s purchase entries per customer and shop-timezone month', async () => {
    const rows = await projection(shop.id);
    expect(rows).toEqual(await projectionFromLedger(shop.id, TZ));
    // The late-evening order is September's in New York.
    expect(rows).toContainEqual({ customer_id: ids.get('C9'), month: '2026-09-01', points: 70 });
    // An award and its full reversal: a row of 0, so the customer stays in the report.
    expect(rows).toContainEqual({ customer_id: ids.get('B7'), month: '2026-10-01', points: 0 });
    expect(rows.some((r) => r.customer_id === ids.get('Z0'))).toBe(false);
  });

  it('is rebuilt in the new timezone when the shop’s changes, and back', async () => {
    const temp = await ensureShop(db.db, { domain: 'report-tz.myshopify.com', timezone: TZ });
    const c = await ensureCustomer(db.db, temp.id, { externalId: 'T1' });
    await post(db.db, temp.id, {
      customerId: c.id,
      idempotencyKey: 'tz:1',
      source: 'order',
      points: 7,
      occurredAt: at('2026-10-01T03:30:00Z'),
      inputs: {},
    });
    expect(await projection(temp.id)).toEqual([
      { customer_id: c.id, month: '2026-09-01', points: 7 },
    ]);
    await ensureShop(db.db, { domain: temp.domain, timezone: 'UTC' });
    expect(await projection(temp.id)).toEqual([
      { customer_id: c.id, month: '2026-10-01', points: 7 },
    ]);
    expect(await projection(temp.id)).toEqual(await projectionFromLedger(temp.id, 'UTC'));
    await deleteShopData(db.db, temp.id);
    expect(await projection(temp.id)).toEqual([]);
  });

  it('recomputes the months of deleted entries from what is left', async () => {
    const temp = await ensureShop(db.db, { domain: 'report-del.myshopify.com', timezone: 'UTC' });
    const c = await ensureCustomer(db.db, temp.id, { externalId: 'D1' });
    const base = { customerId: c.id, source: 'order' as const, inputs: {} };
    await postMany(db.db, temp.id, [
      { ...base, idempotencyKey: 'd:1', points: 5, occurredAt: at('2026-09-02T00:00:00Z') },
      { ...base, idempotencyKey: 'd:2', points: 6, occurredAt: at('2026-09-03T00:00:00Z') },
      { ...base, idempotencyKey: 'd:3', points: 7, occurredAt: at('2026-10-03T00:00:00Z') },
    ]);
    await db.db.execute(
      sql`DELETE FROM ledger_entries WHERE shop_id = ${temp.id} AND idempotency_key IN ('d:1', 'd:3')`,
    );
    expect(await projection(temp.id)).toEqual([
      { customer_id: c.id, month: '2026-09-01', points: 6 },
    ]);
  });
});

describe('reportPage', () => {
  it('agrees with earnedReport (the CLI’s report) for whole months', async () => {
    const page = await reportPage(db.db, shop.id, query({ sort: 'customer', direction: 'asc' }));
    const cli = await earnedReport(db.db, shop.id, { from: '2026-08-01', to: '2026-10-31' });
    expect(page.months).toEqual(cli.months);
    expect(page.rows.map((r) => [r.externalId, r.monthly, r.total])).toEqual(
      cli.customers.map((c) => [c.customerId, cli.months.map((m) => c.monthly[m]), c.total]),
    );
    expect(page.totals).toEqual({
      monthly: cli.months.map((m) => cli.totals.monthly[m]),
      total: cli.totals.total,
    });
    expect(page.customers).toBe(cli.customers.length);
    // Customer order is the CLI's: code units, "B7" < "C10" < "C9" < "N5" < "a1".
    expect(page.rows.map((r) => r.externalId)).toEqual(['B7', 'C10', 'C9', 'N5', 'a1']);
  });

  it('agrees with earnedReport for ranges that cut months, read from the ledger', async () => {
    for (const [from, to] of [
      ['2026-08-15', '2026-10-31'],
      ['2026-08-01', '2026-10-20'],
      ['2026-09-06', '2026-09-30'],
      ['2026-07-31', '2026-11-01'],
    ] as const) {
      expect(rangePlan({ from, to }).days.length).toBeGreaterThan(0);
      const page = await reportPage(
        db.db,
        shop.id,
        query({ from, to, sort: 'customer', direction: 'asc' }),
      );
      const cli = await earnedReport(db.db, shop.id, { from, to });
      expect(
        page.rows.map((r) => [r.externalId, r.total]),
        `${from}…${to}`,
      ).toEqual(cli.customers.map((c) => [c.customerId, c.total]));
      expect(page.totals.total).toBe(cli.totals.total);
    }
  });

  it('sorts by total, by customer and by a month, either way, ties by customer id', async () => {
    const order = async (over: Partial<ReportPageQuery>) =>
      (await reportPage(db.db, shop.id, query(over))).rows.map((r) => r.externalId);
    // Totals: C10 200, C9 120, N5 90, a1 20, B7 0.
    expect(await order({ sort: 'total', direction: 'desc' })).toEqual([
      'C10',
      'C9',
      'N5',
      'a1',
      'B7',
    ]);
    expect(await order({ sort: 'total', direction: 'asc' })).toEqual([
      'B7',
      'a1',
      'N5',
      'C9',
      'C10',
    ]);
    expect(await order({ sort: 'customer', direction: 'desc' })).toEqual([
      'a1',
      'N5',
      'C9',
      'C10',
      'B7',
    ]);
    // September: C9 70+? (Aug 50 is August) → C10 80, C9 70, a1 20, then 0s by customer id.
    const september = await order({ sort: 'month:2026-09', direction: 'desc' });
    expect(september.slice(0, 3)).toEqual(['C10', 'C9', 'a1']);
    const zeros = september.slice(3);
    expect(zeros.map((x) => ids.get(x)!)).toEqual([...zeros.map((x) => ids.get(x)!)].sort());
  });

  it('pages through every customer exactly once', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const result = await reportPage(db.db, shop.id, query({ page, pageSize: 2 }));
      expect(result.customers).toBe(5);
      seen.push(...result.rows.map((r) => r.externalId));
    }
    expect(seen).toEqual(['C10', 'C9', 'N5', 'a1', 'B7']);
    expect((await reportPage(db.db, shop.id, query({ page: 4, pageSize: 2 }))).rows).toEqual([]);
  });

  it('names each customer and leaves the other shop out', async () => {
    const page = await reportPage(db.db, shop.id, query());
    const c10 = page.rows.find((r) => r.externalId === 'C10')!;
    expect(c10).toMatchObject({ firstName: 'Ada', lastName: 'Test', redacted: false, total: 200 });
    expect(c10.customerId).toBe(ids.get('C10'));
    expect(page.totals.total).toBe(200 + 120 + 90 + 20);
  });

  it('is empty, with its months, for a range without purchases', async () => {
    const page = await reportPage(db.db, shop.id, query({ from: '2025-01-01', to: '2025-02-28' }));
    expect(page).toEqual({
      months: ['2025-01', '2025-02'],
      rows: [],
      customers: 0,
      totals: { monthly: [0, 0], total: 0 },
    });
  });
});

describe('reportCsvChunks', () => {
  it('streams exactly what `loyalty report --format csv` prints, in batches', async () => {
    for (const [from, to] of [
      ['2026-08-01', '2026-10-31'],
      ['2026-08-15', '2026-11-01'],
      ['2026-07-01', '2026-12-31'],
      ['2025-01-01', '2025-01-31'],
    ] as const) {
      const expected = formatReportCsv(await earnedReport(db.db, shop.id, { from, to }));
      for (const batch of [1, 2, 1000]) {
        expect(await csvOf({ timezone: TZ, from, to }, batch), `${from}…${to} by ${batch}`).toBe(
          expected,
        );
      }
    }
  });

  it('holds one batch at a time: each chunk is at most a batch of customers', async () => {
    const chunks: string[] = [];
    for await (const chunk of reportCsvChunks(
      db.db,
      shop.id,
      { timezone: TZ, from: '2026-08-01', to: '2026-10-31' },
      2,
    ))
      chunks.push(chunk);
    expect(chunks[0]).toBe('customer_id,2026-08,2026-09,2026-10,total\n');
    expect(chunks.at(-1)).toBe('TOTAL,250,170,10,430\n');
    for (const chunk of chunks.slice(1, -1))
      expect(chunk.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });
});

describe('cachedReportPage', () => {
  const past = query({ sort: 'customer', direction: 'asc' });

  it('answers a past range from the cache until one of its months changes', async () => {
    const before = reportCacheStats();
    const first = await cachedReportPage(db.db, shop.id, past);
    expect(first).toEqual(await reportPage(db.db, shop.id, past));
    const second = await cachedReportPage(db.db, shop.id, past);
    expect(second).toEqual(first);
    const after = reportCacheStats();
    expect(after.hits - before.hits).toBe(1);
    expect(after.stored - before.stored).toBe(1);

    // A month after the range changes: still the cached page (it is still exact).
    await post(db.db, shop.id, entry('C9', 'order', 3, '2026-11-20T15:00:00Z'));
    await cachedReportPage(db.db, shop.id, past);
    expect(reportCacheStats().hits - after.hits).toBe(1);

    // A backdated order into September: the page is computed again, with it.
    await post(db.db, shop.id, entry('C9', 'order', 11, '2026-09-20T15:00:00Z'));
    const changed = await cachedReportPage(db.db, shop.id, past);
    expect(changed).toEqual(await reportPage(db.db, shop.id, past));
    expect(changed.rows.find((r) => r.externalId === 'C9')!.total).toBe(
      first.rows.find((r) => r.externalId === 'C9')!.total + 11,
    );
    expect(changed.totals.total).toBe(first.totals.total + 11);
  });

  it('computes a range that reaches the current month every time', async () => {
    const now = new Date();
    const month = now.toISOString().slice(0, 7);
    const current = query({ from: '2026-08-01', to: `${month}-28` });
    const before = reportCacheStats();
    await cachedReportPage(db.db, shop.id, current, now);
    await cachedReportPage(db.db, shop.id, current, now);
    expect(reportCacheStats().stored).toBe(before.stored);
    expect(reportCacheStats().hits).toBe(before.hits);
  });

  it('drops every cached page of a shop whose timezone changes', async () => {
    const temp = await ensureShop(db.db, { domain: 'report-cache.myshopify.com', timezone: TZ });
    const c = await ensureCustomer(db.db, temp.id, { externalId: 'K1' });
    await post(db.db, temp.id, {
      customerId: c.id,
      idempotencyKey: 'k:1',
      source: 'order',
      points: 9,
      occurredAt: at('2026-10-01T03:30:00Z'),
      inputs: {},
    });
    const september = query({ from: '2026-09-01', to: '2026-09-30', sort: 'customer' });
    expect((await cachedReportPage(db.db, temp.id, september)).totals.total).toBe(9);
    expect((await cachedReportPage(db.db, temp.id, september)).totals.total).toBe(9);
    // In UTC the order is October's; the same query (the caller passes the new timezone) and the
    // old one both miss.
    await ensureShop(db.db, { domain: temp.domain, timezone: 'UTC' });
    const hits = reportCacheStats().hits;
    expect((await cachedReportPage(db.db, temp.id, september)).totals.total).toBe(
      (await reportPage(db.db, temp.id, september)).totals.total,
    );
    expect(reportCacheStats().hits).toBe(hits);
  });
});
