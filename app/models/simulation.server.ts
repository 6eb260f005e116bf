/**
 * The what-if simulator's loading (the replay itself is loyalty/simulation.ts): a shop's stored
 * orders of the last N months of its timezone with their refunds, and the multipliers their real
 * awards recorded, read in three statements of compact rows (numbers cast in SQL, no ORM mapping)
 * — 100,000 orders load in a few hundred milliseconds (`npm run bench:simulate`, docs/perf.md).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import type { PointValue } from '../../loyalty/point-value';
import type { CompiledProgram } from '../../loyalty/program';
import {
  simulate,
  type SimulationOrder,
  type SimulationRefund,
  type SimulationResult,
} from '../../loyalty/simulation';
import {
  monthKeyFromNumber,
  monthKeyOfInstant,
  monthNumberFromKey,
  zonedMidnight,
} from '../../loyalty/time';
import { AppError, ErrorCode } from '../errors';
import { shopPointValue } from './point-value.server';
import { programTimeline } from './programs.server';
import type { Shop } from './shops.server';

export const MIN_SIMULATION_MONTHS = 1;
export const MAX_SIMULATION_MONTHS = 24;
export const DEFAULT_SIMULATION_MONTHS = 3;

export interface SimulationWindow {
  /** "YYYY-MM" ascending: the current month of the shop and the `months − 1` before it. */
  months: string[];
  /** First instant of the first month in the shop's timezone. */
  from: Date;
  /** The simulation's now: orders up to it. */
  to: Date;
}

/** The last `months` calendar months of `timezone` ending with the one `now` is in. */
export function simulationWindow(months: number, timezone: string, now: Date): SimulationWindow {
  if (
    !Number.isInteger(months) ||
    months < MIN_SIMULATION_MONTHS ||
    months > MAX_SIMULATION_MONTHS
  ) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `months must be a whole number from ${MIN_SIMULATION_MONTHS} to ${MAX_SIMULATION_MONTHS}`,
      { field: 'months', value: months },
    );
  }
  const last = monthNumberFromKey(monthKeyOfInstant(now.getTime(), timezone));
  const keys: string[] = [];
  for (let m = last - months + 1; m <= last; m++) keys.push(monthKeyFromNumber(m));
  return { months: keys, from: new Date(zonedMidnight(`${keys[0]}-01`, timezone)), to: now };
}

/**
 * The three statements of {@link loadSimulationOrders}: the period's orders, their refunds, and
 * the awards that recorded a multiplier (exported so `bench:simulate` can EXPLAIN them). Each
 * answers ONE row holding every record as a line of comma-separated integers: parsing 100,000
 * rows of nine typed columns cost the driver about four times what PostgreSQL spent finding
 * them, splitting one text costs a fraction of it.
 */
export function simulationStatements(
  shop: Pick<Shop, 'id' | 'currency'>,
  window: Pick<SimulationWindow, 'from' | 'to'>,
): { orders: SQL; refunds: SQL; multipliers: SQL } {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  // Rows written before processed_at existed fall back to their creation time, as settlement does.
  const at = sql.raw('coalesce(o.processed_at, o.created_at)');
  const ms = (column: SQL) => sql`floor(extract(epoch FROM ${column}) * 1000)::bigint`;
  const inWindow = sql`o.shop_id = ${shop.id} AND ${at} >= ${from}::timestamptz AND ${at} <= ${to}::timestamptz AND o.currency = ${shop.currency}`;
  return {
    // Keyed by orders.id (integers only, so no text needs escaping): id, processed at (ms),
    // customer (empty: guest), flags (1 paid, 2 test, 4 POS), cancelled at (ms, empty: not
    // cancelled), earn amount, total. concat_ws skips NULLs: nullable fields are coalesced.
    orders: sql`
    SELECT string_agg(concat_ws(',', o.id, ${ms(at)}, coalesce(o.customer_id::text, ''),
        (CASE WHEN o.paid_at IS NOT NULL THEN 1 ELSE 0 END)
          + (CASE WHEN o.test THEN 2 ELSE 0 END)
          + (CASE WHEN o.source_name = 'pos' THEN 4 ELSE 0 END),
        coalesce(${ms(sql.raw('o.cancelled_at'))}::text, ''), o.earn_amount_minor, o.total_minor),
      E'\n') AS data
    FROM orders o WHERE ${inWindow}`,
    // order (orders.id), processed at (ms), merchandise; in the order recorded.
    refunds: sql`
    SELECT string_agg(concat_ws(',', o.id, ${ms(sql.raw('r.processed_at'))}, r.merchandise_minor),
      E'\n' ORDER BY r.id) AS data
    FROM order_refunds r
    JOIN orders o ON o.shop_id = r.shop_id AND o.shopify_order_id = r.shopify_order_id
    WHERE r.shop_id = ${shop.id} AND ${inWindow}`,
    // order (orders.id), then each factorBps of the whole order (a tier's, a campaign's on all
    // products). Only awards that carry a multiplier say anything
    // the replay needs; awards are dated at their order's processed_at, so the window bounds them.
    multipliers: sql`
    SELECT string_agg(o.id || ',' || (
        SELECT string_agg((m->>'factorBps')::int::text, ',')
        FROM jsonb_array_elements(e.inputs->'multipliers') m
        -- A campaign limited to some products multiplies a share only: not replayed (docs/campaigns.md).
        WHERE m->'share' IS NULL),
      E'\n') AS data
    FROM ledger_entries e
    JOIN orders o ON o.shop_id = e.shop_id AND o.shopify_order_id = e.subject_id
    WHERE e.shop_id = ${shop.id} AND e.source = 'order'
      AND e.occurred_at >= ${from}::timestamptz AND e.occurred_at <= ${to}::timestamptz
      AND jsonb_typeof(e.inputs->'multipliers') = 'array'
      AND jsonb_array_length(e.inputs->'multipliers') > 0`,
  };
}

async function lines(db: Executor, statement: SQL): Promise<string[]> {
  const result = (await db.execute(statement)) as unknown as { rows: { data: string | null }[] };
  const data = result.rows[0]?.data;
  return data ? data.split('\n') : [];
}

const integer = (text: string | undefined, what: string): number => {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(n)) {
    throw new Error(`simulation: ${what} '${String(text)}' is not an integer`);
  }
  return n;
};

/**
 * The shop's orders processed in [from, to] in its currency (orders in another currency could
 * not earn), with refunds in the order recorded and the multipliers of their awards.
 */
export async function loadSimulationOrders(
  db: Executor,
  shop: Pick<Shop, 'id' | 'currency'>,
  window: Pick<SimulationWindow, 'from' | 'to'>,
): Promise<SimulationOrder[]> {
  const statements = simulationStatements(shop, window);
  // Three independent reads: on a pool they run side by side (in a transaction, one after another).
  const [orderLines, refundLines, multiplierLines] = await Promise.all([
    lines(db, statements.orders),
    lines(db, statements.refunds),
    lines(db, statements.multipliers),
  ]);
  const refunds = new Map<number, SimulationRefund[]>();
  for (const line of refundLines) {
    const [id, at, merchandise] = line.split(',');
    const refund = {
      processedAt: integer(at, 'refund time'),
      merchandiseMinor: integer(merchandise, 'refund amount'),
    };
    const key = integer(id, 'order id');
    const list = refunds.get(key);
    if (list) list.push(refund);
    else refunds.set(key, [refund]);
  }
  const multipliers = new Map<number, number[]>();
  for (const line of multiplierLines) {
    const [id, ...bps] = line.split(',');
    multipliers.set(
      integer(id, 'order id'),
      bps.map((b) => integer(b, 'multiplier')),
    );
  }
  const none: SimulationRefund[] = [];
  const noMultiplier: number[] = [];
  return orderLines.map((line) => {
    const [id, at, customer, flags, cancelled, earn, total] = line.split(',');
    const f = integer(flags, 'order flags');
    const key = integer(id, 'order id');
    return {
      processedAt: integer(at, 'order time'),
      customerId: customer === '' ? null : integer(customer, 'customer id'),
      paid: (f & 1) !== 0,
      test: (f & 2) !== 0,
      pos: (f & 4) !== 0,
      cancelledAt: cancelled === '' ? null : integer(cancelled, 'cancellation time'),
      earnAmountMinor: integer(earn, 'earn amount'),
      totalMinor: integer(total, 'order total'),
      multipliersBps: multipliers.get(key) ?? noMultiplier,
      refunds: refunds.get(key) ?? none,
    };
  });
}

export interface ShopSimulation {
  window: SimulationWindow;
  result: SimulationResult;
  /** The redemption value the costs are at; null: points only. */
  pointValue: PointValue | null;
  /** Time spent loading and replaying (ms), for the page and the benchmark. */
  elapsedMs: { load: number; replay: number };
}

export interface SimulateOptions {
  months: number;
  now: Date;
  /** Whether test orders would earn under the draft (today: the shop's setting). */
  draftTestOrdersEarn: boolean;
}

/**
 * The draft against the versions in force, replayed over the shop's own last `months` months
 * (loyalty/simulation.ts). Reads only; nothing is written.
 */
export async function simulateShopProgram(
  db: Executor,
  shop: Shop,
  draft: CompiledProgram,
  options: SimulateOptions,
): Promise<ShopSimulation> {
  const window = simulationWindow(options.months, shop.timezone, options.now);
  const started = performance.now();
  const [orders, timeline, pointValue] = await Promise.all([
    loadSimulationOrders(db, shop, window),
    programTimeline(db, shop.id),
    shopPointValue(db, shop),
  ]);
  const loaded = performance.now();
  const result = simulate({
    orders,
    months: window.months,
    timezone: shop.timezone,
    currentAt: (instant) => timeline.at(instant)?.program ?? null,
    draft,
    testOrdersEarn: { current: shop.testOrdersEarn, draft: options.draftTestOrdersEarn },
    pointValue,
  });
  return {
    window,
    result,
    pointValue,
    elapsedMs: {
      load: Math.round(loaded - started),
      replay: Math.round(performance.now() - loaded),
    },
  };
}
