/**
 * The admin's per-customer per-month report (docs/reports.md): the same figures as
 * `earnedReport` / `loyalty report --shop` (purchase entries — order awards net of refund and
 * cancellation reversals — bucketed by calendar month in the shop's timezone), read two ways:
 *
 * - `reportPage`: one sorted page of customers, with the month and grand totals and the count,
 *   aggregated by PostgreSQL in one statement (nothing but the page leaves the database);
 *
 * Whole months come from customer_month_points, the projection triggers keep equal to the ledger
 * (migration 0013): summing a 3-month range of a million-entry shop from the ledger itself takes
 * seconds, the projection tens of milliseconds. Days of a month the range covers only in part are
 * summed from the ledger.
 * - `reportCsvChunks`: the whole report as CSV, byte for byte what `loyalty report --shop … --format
 *   csv` prints, streamed in keyset batches of customers (external id order, as the CLI sorts), so
 *   a shop of any size is exported without the report ever being held in memory.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { daysInMonth, monthKeyFromNumber, parseCalendarDay, wallTimeOf } from '../../loyalty/time';
import { PURCHASE_SOURCES } from './reports.server';

/** A validated range: calendar days (YYYY-MM-DD) in `timezone`, both inclusive. */
export interface ReportRange {
  timezone: string;
  from: string;
  to: string;
}

export type ReportSortKey = 'customer' | 'total' | `month:${string}`;
export type SortDirection = 'asc' | 'desc';

export interface ReportPageQuery extends ReportRange {
  sort: ReportSortKey;
  direction: SortDirection;
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface ReportPageRow {
  customerId: number;
  externalId: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  redacted: boolean;
  /** Points per month of `ReportPage.months`, in order. */
  monthly: number[];
  total: number;
}

export interface ReportPage {
  months: string[];
  rows: ReportPageRow[];
  /** Customers with at least one purchase entry in the range (the report's rows). */
  customers: number;
  totals: { monthly: number[]; total: number };
}

/** Every month key the range touches, ascending (the report's columns). */
export function rangeMonths(range: Pick<ReportRange, 'from' | 'to'>): string[] {
  const from = parseCalendarDay(range.from);
  const to = parseCalendarDay(range.to);
  const months: string[] = [];
  for (let m = from.year * 12 + from.month - 1; m <= to.year * 12 + to.month - 1; m++)
    months.push(monthKeyFromNumber(m));
  return months;
}

/** The range's purchase entries of the shop; the bounds computed by PostgreSQL, as monthlyEarned does. */
function purchaseEntries(
  shopId: number,
  range: Pick<ReportRange, 'from' | 'to' | 'timezone'>,
): SQL {
  return sql`e.shop_id = ${shopId}
    AND e.source IN (${sql.join(
      PURCHASE_SOURCES.map((s) => sql`${s}`),
      sql`, `,
    )})
    AND e.occurred_at >= (${range.from}::date::timestamp AT TIME ZONE ${range.timezone})
    AND e.occurred_at < ((${range.to}::date + 1)::timestamp AT TIME ZONE ${range.timezone})`;
}

const day = (monthNumber: number, dayOfMonth: number | 'last') => {
  const key = monthKeyFromNumber(monthNumber);
  const [year, month] = key.split('-').map(Number) as [number, number];
  const d = dayOfMonth === 'last' ? daysInMonth(year, month) : dayOfMonth;
  return `${key}-${String(d).padStart(2, '0')}`;
};

/**
 * How the range is read: its whole months from the customer_month_points projection, and the days
 * of a month it covers only in part (from after the 1st, to before the month's end) from the ledger.
 */
export function rangePlan(range: Pick<ReportRange, 'from' | 'to'>): {
  months: { from: string; to: string } | null;
  days: { from: string; to: string }[];
} {
  const f = parseCalendarDay(range.from);
  const t = parseCalendarDay(range.to);
  const fm = f.year * 12 + f.month - 1;
  const tm = t.year * 12 + t.month - 1;
  const first = f.day === 1 ? fm : fm + 1;
  const last = t.day === daysInMonth(t.year, t.month) ? tm : tm - 1;
  if (first > last) return { months: null, days: [{ from: range.from, to: range.to }] };
  const days: { from: string; to: string }[] = [];
  if (first !== fm) days.push({ from: range.from, to: day(fm, 'last') });
  if (last !== tm) days.push({ from: day(tm, 1), to: range.to });
  return { months: { from: day(first, 1), to: day(last, 1) }, days };
}

/**
 * (customer_id, month 'YYYY-MM', points) of the range: one row per customer and month with any
 * purchase entry, `customers` limiting it to some customers (a CSV batch).
 */
function purchaseCells(shopId: number, range: ReportRange, customers?: SQL): SQL {
  const plan = rangePlan(range);
  const parts: SQL[] = [];
  if (plan.months) {
    parts.push(sql`SELECT p.customer_id, p.month, p.points
      FROM customer_month_points p
      WHERE p.shop_id = ${shopId} AND p.month >= ${plan.months.from}::date
        AND p.month <= ${plan.months.to}::date
        ${customers ? sql`AND p.customer_id IN (${customers})` : sql``}`);
  }
  for (const days of plan.days) {
    parts.push(sql`SELECT e.customer_id, ${monthOf(range)} AS month, sum(e.points)::bigint AS points
      FROM ledger_entries e
      WHERE ${purchaseEntries(shopId, { ...days, timezone: range.timezone })}
        ${customers ? sql`AND e.customer_id IN (${customers})` : sql``}
      GROUP BY 1, 2`);
  }
  return sql.join(parts, sql` UNION ALL `);
}

/** The first day of the entry's month in the timezone, as the projection keys it. */
function monthOf(range: Pick<ReportRange, 'timezone'>): SQL {
  return sql`date_trunc('month', e.occurred_at AT TIME ZONE ${range.timezone})::date`;
}

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * The page's customers. Sorted by customer: walks the customers in external id order (code units,
 * as the CLI lists them), keeping those in the report. Sorted by a sum: a top-N sort of the sums
 * alone, ties by customer id; only the page is joined to its customers. (No window function: it
 * would sort every customer in full; the page is put in order again in JS, by the same keys.)
 */
function pageOf(shopId: number, query: ReportPageQuery, offset: number): SQL {
  const dir = query.direction === 'desc' ? sql`DESC` : sql`ASC`;
  if (query.sort === 'customer') {
    return sql`SELECT c.id AS customer_id FROM customers c
      WHERE c.shop_id = ${shopId} AND c.id IN (SELECT customer_id FROM sums WHERE by_month = 0)
      ORDER BY c.external_id COLLATE "C" ${dir} LIMIT ${query.pageSize} OFFSET ${offset}`;
  }
  const key = query.sort === 'total' ? sql`p.total` : sql`p.sort_month`;
  return sql`SELECT p.customer_id FROM sums p WHERE p.by_month = 0
    ORDER BY ${key} ${dir}, p.customer_id ASC LIMIT ${query.pageSize} OFFSET ${offset}`;
}

function compareRows(query: ReportPageQuery, months: string[]) {
  const sign = query.direction === 'desc' ? -1 : 1;
  if (query.sort === 'customer') {
    return (a: ReportPageRow, b: ReportPageRow) =>
      sign * (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0);
  }
  const i = query.sort === 'total' ? -1 : months.indexOf(query.sort.slice('month:'.length));
  const key = (r: ReportPageRow) => (i === -1 ? r.total : r.monthly[i]!);
  return (a: ReportPageRow, b: ReportPageRow) =>
    sign * (key(a) - key(b)) || a.customerId - b.customerId;
}

/** Memory for the range's aggregate: PostgreSQL's default (4 MB) spills a 3-month range to disk. */
const REPORT_WORK_MEM = '64MB';

/**
 * One page of the report. The range's cells (customer × month) are read once; the customer sums,
 * the month totals, the count and the page (joined to its customers only) all come from them.
 */
export async function reportPage(
  db: Executor,
  shopId: number,
  query: ReportPageQuery,
): Promise<ReportPage> {
  const months = rangeMonths(query);
  const sortMonth = query.sort.startsWith('month:')
    ? `${query.sort.slice('month:'.length)}-01`
    : null;
  const offset = (query.page - 1) * query.pageSize;
  // One pass over the range's cells gives both the customer sums and the month totals (grouping
  // sets); the page's own cells are read again by customer (primary key), 50 rows' worth.
  const statement = sql`
    WITH sums AS MATERIALIZED (
      SELECT customer_id, month, grouping(customer_id) AS by_month,
             sum(points)::bigint AS total,
             coalesce(sum(points) FILTER (WHERE month = ${sortMonth}::date), 0)::bigint AS sort_month
      FROM (${purchaseCells(shopId, query)}) cells
      GROUP BY GROUPING SETS ((customer_id), (month))
    ), page AS MATERIALIZED (${pageOf(shopId, query, offset)})
    SELECT
      (SELECT count(*)::int FROM sums WHERE by_month = 0) AS customers,
      (SELECT coalesce(json_object_agg(to_char(month, 'YYYY-MM'), total), '{}'::json)
         FROM sums WHERE by_month = 1) AS month_totals,
      (SELECT coalesce(json_agg(json_build_object(
                'customerId', c.id, 'externalId', c.external_id,
                'firstName', c.first_name, 'lastName', c.last_name, 'email', c.email,
                'redacted', c.redacted_at IS NOT NULL, 'total', m.total, 'monthly', m.monthly)
), '[]'::json)
         FROM page pg
         JOIN customers c ON c.id = pg.customer_id AND c.shop_id = ${shopId}
         JOIN (SELECT cl.customer_id, sum(cl.points)::bigint AS total,
                      json_object_agg(to_char(cl.month, 'YYYY-MM'), cl.points) AS monthly
               FROM (${purchaseCells(shopId, query, sql`SELECT customer_id FROM page`)}) cl
               GROUP BY 1) m ON m.customer_id = pg.customer_id) AS rows`;
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL work_mem = '${REPORT_WORK_MEM}'`));
    return tx.execute(statement);
  });
  const [row] = rowsOf<{
    customers: number;
    month_totals: Record<string, number | string>;
    rows: {
      customerId: number;
      externalId: string;
      firstName: string | null;
      lastName: string | null;
      email: string | null;
      redacted: boolean;
      total: number | string;
      monthly: Record<string, number | string> | null;
    }[];
  }>(result);
  const monthTotals = months.map((m) => Number(row?.month_totals[m] ?? 0));
  return {
    months,
    customers: row?.customers ?? 0,
    totals: { monthly: monthTotals, total: monthTotals.reduce((a, b) => a + b, 0) },
    rows: (row?.rows ?? [])
      .map((r) => ({
        customerId: r.customerId,
        externalId: r.externalId,
        firstName: r.firstName,
        lastName: r.lastName,
        email: r.email,
        redacted: r.redacted,
        total: Number(r.total),
        monthly: months.map((m) => Number(r.monthly?.[m] ?? 0)),
      }))
      .sort(compareRows(query, months)),
  };
}

/** Customers read per CSV batch: a few hundred rows of output, one short query each. */
export const CSV_BATCH_CUSTOMERS = 1_000;

interface CsvBatchRow {
  external_id: string;
  /** Month → points; null when the customer has no purchase entry in the range. */
  monthly: Record<string, number | string> | null;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value.trim() !== value
    ? `"${value.replaceAll('"', '""')}"`
    : value;
}

/**
 * The report as CSV text, in chunks of at most `batchCustomers` customers: the header, the
 * customers in external id order (code units, like the CLI), then the `TOTAL` row — exactly what
 * cli/report-file.ts formatReportCsv prints for `earnedReport` with from/to. Each batch is one
 * query: the next customers after the last one written (keyset on (shop_id, external_id
 * COLLATE "C"), its own index), with their purchase entries of the range summed per month.
 * Customers without any are skipped, as in the CLI. Holds one batch and the month totals.
 */
export async function* reportCsvChunks(
  db: Executor,
  shopId: number,
  range: ReportRange,
  batchCustomers = CSV_BATCH_CUSTOMERS,
): AsyncGenerator<string> {
  const months = rangeMonths(range);
  const index = new Map(months.map((m, i) => [m, i]));
  const totals = new Array<number>(months.length).fill(0);
  yield `${['customer_id', ...months, 'total'].map(csvField).join(',')}\n`;
  let after: string | null = null;
  for (;;) {
    const query: SQL = sql`
      WITH batch AS (
        SELECT id, external_id FROM customers
        WHERE shop_id = ${shopId}
          ${after === null ? sql`` : sql`AND external_id COLLATE "C" > ${after}`}
        ORDER BY external_id COLLATE "C"
        LIMIT ${batchCustomers}
      )
      , cells AS MATERIALIZED (${purchaseCells(shopId, range, sql`SELECT id FROM batch`)})
      SELECT b.external_id,
             json_object_agg(to_char(c.month, 'YYYY-MM'), c.points)
               FILTER (WHERE c.month IS NOT NULL) AS monthly
      FROM batch b LEFT JOIN cells c ON c.customer_id = b.id
      GROUP BY b.external_id
      ORDER BY b.external_id COLLATE "C"`;
    const batch = rowsOf<CsvBatchRow>(await db.execute(query));
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.external_id;
    let text = '';
    for (const customer of batch) {
      if (customer.monthly === null) continue;
      const points = new Array<number>(months.length).fill(0);
      for (const [month, value] of Object.entries(customer.monthly)) {
        const i = index.get(month);
        if (i !== undefined) points[i] = Number(value);
      }
      let total = 0;
      for (let i = 0; i < points.length; i++) {
        total += points[i]!;
        totals[i]! += points[i]!;
      }
      text += `${csvField(customer.external_id)},${points.join(',')},${total}\n`;
    }
    if (text) yield text;
    if (batch.length < batchCustomers) break;
  }
  yield `TOTAL,${totals.join(',')},${totals.reduce((a, b) => a + b, 0)}\n`;
}

// ---------------------------------------------------------------------------------------------
// The page cache of past ranges

/** Pages kept per process (each a page of 50 customers: a few kB). */
const PAGE_CACHE_LIMIT = 500;
const pageCache = new Map<string, { token: string; page: ReportPage }>();
const cacheStats = { hits: 0, misses: 0, stored: 0 };

/** Hits, misses and stores of this process's page cache (for tests and the benchmark). */
export function reportCacheStats(): Readonly<typeof cacheStats> {
  return { ...cacheStats };
}

/** The newest change version of the range's months (and of the whole shop's, month 0001-01-01). */
async function changeToken(db: Executor, shopId: number, months: string[]): Promise<string> {
  const [row] = rowsOf<{ version: string | null }>(
    await db.execute(sql`
      SELECT max(version)::text AS version FROM report_month_changes
      WHERE shop_id = ${shopId}
        AND (month BETWEEN ${`${months[0]}-01`}::date AND ${`${months.at(-1)}-01`}::date
             OR month = DATE '0001-01-01')`),
  );
  return row?.version ?? '0';
}

/**
 * Whether a page computed now may be cached: by the database's clock the range has ended, and no
 * transaction that started before its end is still running — such a transaction may write into
 * the range's last month without bumping its version (the triggers do not bump a transaction's
 * own current month), and once it has finished, what it wrote is visible to the page read next.
 * Unknown (no pg_stat_activity): not cached.
 */
async function cacheable(db: Executor, range: ReportRange, months: string[]): Promise<boolean> {
  const last = months.at(-1)!;
  const [year, month] = last.split('-').map(Number) as [number, number];
  const after = `${monthKeyFromNumber(year * 12 + month)}-01`;
  try {
    const [row] = rowsOf<{ ok: boolean }>(
      await db.execute(sql`
        SELECT statement_timestamp() >= (${after}::date::timestamp AT TIME ZONE ${range.timezone})
           AND NOT EXISTS (
             SELECT 1 FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND backend_type = 'client backend'
               AND xact_start < (${after}::date::timestamp AT TIME ZONE ${range.timezone})) AS ok`),
    );
    return row?.ok === true;
  } catch {
    return false;
  }
}

/**
 * reportPage, answered from this process's cache when the range has ended and none of its months
 * changed since the page was computed (report_month_changes, kept by the projection's triggers in
 * the writing transaction): exact, because the page is only cached when no write that could skip
 * the version bump is still in flight (see `cacheable`), and the version is read before the page.
 * A range that reaches the current month is always computed: today's orders land in it.
 */
export async function cachedReportPage(
  db: Executor,
  shopId: number,
  query: ReportPageQuery,
  now: Date = new Date(),
): Promise<ReportPage> {
  const today = wallTimeOf(now.getTime(), query.timezone);
  const currentMonth = `${today.year}-${String(today.month).padStart(2, '0')}-01`;
  if (query.to >= currentMonth) return reportPage(db, shopId, query);
  const months = rangeMonths(query);
  const key = JSON.stringify([shopId, query]);
  const ok = await cacheable(db, query, months);
  const token = await changeToken(db, shopId, months);
  const hit = pageCache.get(key);
  if (ok && hit && hit.token === token) {
    cacheStats.hits++;
    // Most recently used last: the first key is the one to evict.
    pageCache.delete(key);
    pageCache.set(key, hit);
    return hit.page;
  }
  cacheStats.misses++;
  const page = await reportPage(db, shopId, query);
  if (ok) {
    pageCache.delete(key);
    pageCache.set(key, { token, page });
    cacheStats.stored++;
    if (pageCache.size > PAGE_CACHE_LIMIT) pageCache.delete(pageCache.keys().next().value!);
  }
  return page;
}
