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

type Rows<T> = { rows: T[] };

/**
 * The three statements of {@link loadSimulationOrders}: the period's orders, their refunds, and
 * the awards that recorded a multiplier (exported so `bench:simulate` can EXPLAIN them).
 */
export function simulationStatements(
  shop: Pick<Shop, 'id' | 'currency'>,
  window: Pick<SimulationWindow, 'from' | 'to'>,
): { orders: SQL; refunds: SQL; multipliers: SQL } {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  // Rows written before processed_at existed fall back to their creation time, as settlement does.
  const at = sql.raw('coalesce(o.processed_at, o.created_at)');
  const inWindow = sql`o.shop_id = ${shop.id} AND ${at} >= ${from}::timestamptz AND ${at} <= ${to}::timestamptz AND o.currency = ${shop.currency}`;
  return {
    orders: sql`
    SELECT o.shopify_order_id AS id,
      floor(extract(epoch FROM ${at}) * 1000)::float8 AS at,
      o.customer_id AS customer,
      o.paid_at IS NOT NULL AS paid,
      o.test,
      coalesce(o.source_name = 'pos', false) AS pos,
      floor(extract(epoch FROM o.cancelled_at) * 1000)::float8 AS cancelled,
      o.earn_amount_minor::float8 AS earn,
      o.total_minor::float8 AS total
    FROM orders o WHERE ${inWindow}`,
    refunds: sql`
    SELECT r.shopify_order_id AS id,
      floor(extract(epoch FROM r.processed_at) * 1000)::float8 AS at,
      r.merchandise_minor::float8 AS merchandise
    FROM order_refunds r
    JOIN orders o ON o.shop_id = r.shop_id AND o.shopify_order_id = r.shopify_order_id
    WHERE r.shop_id = ${shop.id} AND ${inWindow}
    ORDER BY r.id`,
    // Only awards that carry a multiplier (a tier's) say anything the replay needs; awards are
    // dated at their order's processed_at, so the window bounds them too.
    multipliers: sql`
    SELECT e.subject_id AS id,
      ARRAY(SELECT (m->>'factorBps')::int FROM jsonb_array_elements(e.inputs->'multipliers') m) AS bps
    FROM ledger_entries e
    WHERE e.shop_id = ${shop.id} AND e.source = 'order'
      AND e.occurred_at >= ${from}::timestamptz AND e.occurred_at <= ${to}::timestamptz
      AND jsonb_typeof(e.inputs->'multipliers') = 'array'
      AND jsonb_array_length(e.inputs->'multipliers') > 0`,
  };
}

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
  const [orderRows, refundRows, multiplierRows] = await Promise.all([
    db.execute(statements.orders) as unknown as Promise<
      Rows<{
        id: string;
        at: number;
        customer: number | null;
        paid: boolean;
        test: boolean;
        pos: boolean;
        cancelled: number | null;
        earn: number;
        total: number;
      }>
    >,
    db.execute(statements.refunds) as unknown as Promise<
      Rows<{ id: string; at: number; merchandise: number }>
    >,
    db.execute(statements.multipliers) as unknown as Promise<Rows<{ id: string; bps: number[] }>>,
  ]);

  const refunds = new Map<string, SimulationRefund[]>();
  for (const r of refundRows.rows) {
    const list = refunds.get(r.id);
    const refund = { processedAt: r.at, merchandiseMinor: r.merchandise };
    if (list) list.push(refund);
    else refunds.set(r.id, [refund]);
  }
  const multipliers = new Map(multiplierRows.rows.map((r) => [r.id, r.bps]));
  const none: SimulationRefund[] = [];
  return orderRows.rows.map((o) => ({
    processedAt: o.at,
    customerId: o.customer,
    paid: o.paid,
    test: o.test,
    pos: o.pos,
    cancelledAt: o.cancelled,
    earnAmountMinor: o.earn,
    totalMinor: o.total,
    multipliersBps: multipliers.get(o.id) ?? [],
    refunds: refunds.get(o.id) ?? none,
  }));
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
