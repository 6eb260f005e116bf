/**
 * Points moved over time, read from the ledger_daily_movements projection (db/schema.ts), from
 * ledger_hourly_movements for the UTC days a range starts or ends inside, and from ledger_entries
 * itself only for an hour a boundary falls strictly inside (half-hour timezones) — so a range in
 * any timezone (a shop-local month, a "last 30 days") is exact while it costs one row per day or
 * hour, source and sign instead of one per entry. docs/liability.md, "How it stays fast".
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { MovementTimeline, movementsOf, type SourceTotal } from '../../loyalty/ledger-movements';

const MS_PER_DAY = 86_400_000;
/** Rows the trigger wrote since the last fold, past which a read folds them first. */
export const COMPACT_THRESHOLD = 5_000;
/** pg_advisory_xact_lock class of the fold: one at a time per shop. */
const COMPACT_LOCK_CLASS = 0x4d4f5645; // "MOVE"

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const MS_PER_HOUR = 3_600_000;
const utcDayStart = (ms: number) => Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
const isoInstant = (ms: number) => new Date(ms).toISOString();
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A PostgreSQL array literal of ISO texts (dates, instants: no quoting needed). */
const arrayLiteral = (items: readonly string[]) => `{${items.join(',')}}`;

/**
 * The shop's movements over the elementary intervals of `boundaries` (ascending instants in ms;
 * -Infinity and Infinity allowed at the ends). Whole UTC days inside one interval come from the
 * projection; a UTC day holding a finite boundary comes from the ledger, entry by entry.
 */
export async function movementTimeline(
  db: Executor,
  shopId: number,
  boundaries: readonly number[],
): Promise<MovementTimeline> {
  const timeline = new MovementTimeline(boundaries);
  if (timeline.intervals.length === 0) return timeline;
  const finite = boundaries.filter((b) => Number.isFinite(b));
  const splitDays = [...new Set(finite.map(utcDayStart))];
  const hourOf = (b: number) => Math.floor(b / MS_PER_HOUR) * MS_PER_HOUR;
  const splitHours = [...new Set(finite.filter((b) => hourOf(b) !== b).map(hourOf))];
  const first = boundaries[0]!;
  const last = boundaries[boundaries.length - 1]!;

  // width_bucket over the finite boundaries: 0 before the first, k in [finite[k-1], finite[k]).
  const bounds = arrayLiteral(finite.map((b) => new Date(b).toISOString()));
  const offset = Number.isFinite(first) ? -1 : 0;
  const add = (rows: { bucket: number; source: string; credit: boolean; points: string }[]) => {
    const byInterval = new Map<number, SourceTotal[]>();
    for (const row of rows) {
      const index = Number(row.bucket) + offset;
      if (index < 0 || index >= timeline.intervals.length) continue;
      const list = byInterval.get(index) ?? [];
      list.push({ source: row.source, credit: row.credit, points: Number(row.points) });
      byInterval.set(index, list);
    }
    for (const [index, totals] of byInterval) movementsOf(totals, timeline.intervals[index]);
  };
  const bucketOf = (instant: SQL) =>
    finite.length === 0 ? sql`0` : sql`width_bucket(${instant}, ${bounds}::timestamptz[])`;

  // A day that holds no boundary lies in one interval: its first instant says which.
  add(
    rowsOf(
      await db.execute(sql`
        SELECT ${bucketOf(sql`("day"::timestamp AT TIME ZONE 'UTC')`)} AS "bucket", "source", "credit",
               sum("points")::bigint AS "points"
        FROM "ledger_daily_movements"
        WHERE "shop_id" = ${shopId}
          ${Number.isFinite(first) ? sql`AND "day" > ${isoDay(first)}::date` : sql``}
          ${Number.isFinite(last) ? sql`AND "day" < ${isoDay(last)}::date` : sql``}
          AND NOT ("day" = ANY(${arrayLiteral(splitDays.map(isoDay))}::date[]))
        GROUP BY 1, 2, 3`),
    ),
  );
  if (splitDays.length > 0) {
    // The days holding a boundary, hour by hour; an hour a boundary falls strictly inside (a
    // half-hour timezone) from the ledger below. One index range scan per day: OFFSET 0 keeps the
    // planner from flattening the LATERAL into a join it would run as a scan of the whole table.
    add(
      rowsOf(
        await db.execute(sql`
          SELECT ${bucketOf(sql`h."hour"`)} AS "bucket", h."source", h."credit",
                 sum(h."points")::bigint AS "points"
          FROM unnest(${arrayLiteral(splitDays.map(isoInstant))}::timestamptz[]) AS d("start")
          CROSS JOIN LATERAL (
            SELECT x."hour", x."source", x."credit", x."points"
            FROM "ledger_hourly_movements" x
            WHERE x."shop_id" = ${shopId}
              AND x."hour" >= d."start" AND x."hour" < d."start" + interval '1 day'
            OFFSET 0
          ) h
          WHERE NOT (h."hour" = ANY(${arrayLiteral(splitHours.map(isoInstant))}::timestamptz[]))
          GROUP BY 1, 2, 3`),
      ),
    );
  }
  if (splitHours.length > 0) {
    add(
      rowsOf(
        await db.execute(sql`
          SELECT ${bucketOf(sql`e."occurred_at"`)} AS "bucket", e."source", e."credit",
                 sum(e."points")::bigint AS "points"
          FROM unnest(${arrayLiteral(splitHours.map(isoInstant))}::timestamptz[]) AS d("start")
          CROSS JOIN LATERAL (
            SELECT x."occurred_at", x."source", x."points" >= 0 AS "credit", x."points"
            FROM "ledger_entries" x
            WHERE x."shop_id" = ${shopId}
              AND x."occurred_at" >= d."start" AND x."occurred_at" < d."start" + interval '1 hour'
            OFFSET 0
          ) e
          GROUP BY 1, 2, 3`),
      ),
    );
  }
  return timeline;
}

/**
 * Folds the shop's projection rows into one per day (hour), source and sign once the trigger has
 * written `threshold` or more since the last fold (a count off a partial index: cheap when there
 * is nothing to do). One fold at a time per shop and table; a fold running elsewhere makes this
 * one skip. Rows written while it runs are left for the next. Returns the rows folded.
 */
export async function compactMovements(
  db: Executor,
  shopId: number,
  threshold = COMPACT_THRESHOLD,
): Promise<number> {
  let folded = 0;
  for (const [table, key, lock] of [
    ['ledger_daily_movements', 'day', 1],
    ['ledger_hourly_movements', 'hour', 2],
  ] as const) {
    folded += await compactTable(
      db,
      shopId,
      threshold,
      sql.raw(`"${table}"`),
      sql.raw(`"${key}"`),
      lock,
    );
  }
  return folded;
}

async function compactTable(
  db: Executor,
  shopId: number,
  threshold: number,
  table: SQL,
  key: SQL,
  lockKey: number,
): Promise<number> {
  const [loose] = rowsOf<{ n: string | number }>(
    await db.execute(
      sql`SELECT count(*) AS "n" FROM ${table} WHERE "shop_id" = ${shopId} AND NOT "compacted"`,
    ),
  );
  if (Number(loose?.n ?? 0) < threshold) return 0;
  return db.transaction(async (tx) => {
    const [lock] = rowsOf<{ locked: boolean }>(
      await tx.execute(
        sql`SELECT pg_try_advisory_xact_lock(${COMPACT_LOCK_CLASS}::int, ${shopId * 2 + lockKey}::int) AS "locked"`,
      ),
    );
    if (!lock?.locked) return 0;
    const [folded] = rowsOf<{ n: string | number }>(
      await tx.execute(sql`
        WITH "keys" AS (
          SELECT DISTINCT ${key} AS "k", "source", "credit" FROM ${table}
          WHERE "shop_id" = ${shopId} AND NOT "compacted"
        ), "gone" AS (
          DELETE FROM ${table} m USING "keys" k
          WHERE m."shop_id" = ${shopId} AND m.${key} = k."k" AND m."source" = k."source"
            AND m."credit" = k."credit"
          RETURNING m.${key} AS "k", m."source", m."credit", m."points", m."entries"
        ), "kept" AS (
          INSERT INTO ${table} ("shop_id", ${key}, "source", "credit", "points", "entries", "compacted")
          SELECT ${shopId}::int, "k", "source", "credit", sum("points"), sum("entries"), true
          FROM "gone" GROUP BY 1, 2, 3, 4 HAVING sum("entries") <> 0
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM "gone") AS "n", (SELECT count(*) FROM "kept") AS "kept"`),
    );
    return Number(folded?.n ?? 0);
  });
}

/** Points all members hold now: the sum of customer_balances. */
export async function outstandingPoints(db: Executor, shopId: number): Promise<number> {
  const [row] = rowsOf<{ n: string | number }>(
    await db.execute(
      sql`SELECT coalesce(sum("balance"), 0)::bigint AS "n" FROM "customer_balances" WHERE "shop_id" = ${shopId}`,
    ),
  );
  return Number(row?.n ?? 0);
}

/**
 * Points held by members whose latest ledger entry occurred before `cutoff` (their balance has
 * not moved since): the dormant balance of the breakage estimate.
 */
export async function dormantPoints(db: Executor, shopId: number, cutoff: Date): Promise<number> {
  const [row] = rowsOf<{ n: string | number }>(
    await db.execute(sql`
      SELECT coalesce(sum(b."balance"), 0)::bigint AS "n"
      FROM "customer_ledger_activity" a
      JOIN "customer_balances" b ON b."customer_id" = a."customer_id" AND b."shop_id" = ${shopId}
      WHERE a."shop_id" = ${shopId} AND a."last_occurred_at" < ${cutoff.toISOString()}::timestamptz`),
  );
  return Number(row?.n ?? 0);
}
