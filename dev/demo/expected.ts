/**
 * What the ledger should say after a list of deliveries has been processed: the points each
 * customer holds and the points they earned per calendar month, under the reference program.
 *
 * Written from the rules (docs/earning-rules.md, docs/cli.md), not from loyalty/earn.ts,
 * loyalty/reversal.ts or the payload parsers, so the demo can check them against an independent
 * answer. It reads the raw REST bodies itself.
 *
 * - An order earns on `subtotal_price_set.shop_money` (after discounts, before shipping and tax):
 *   2 points per whole dollar over $100 plus 1 point per whole dollar between $50 and $100.
 *   Presentment money is ignored. The shop currency must be USD, the reference program's.
 * - Test orders and guest orders earn nothing. A guest order is claimed by a customer whose
 *   customers/create arrives later with the same email (lower-cased, trimmed): it then earns as
 *   if it had been theirs, in the month of the order.
 * - With tiers, an award is multiplied by the multiplier of the tier its member held when it was
 *   posted, with one floor at the end: floor(bandPoints × factorBps / 10000). Which tier that was
 *   depends on when the workers processed the order, so the caller says it
 *   (`awardMultiplierBps`, read from the ledger's tier-change entries by dev/demo/tiers.ts); the
 *   band points and everything after them are computed here. Reversals are proportional to the
 *   multiplied award, as below.
 * - An order worth 0 points has no award entry (and so no reversal entries).
 * - Each refund reverses floor(P × refundedSoFar / A) minus what was already reversed, where
 *   refundedSoFar is the refunded merchandise (Σ refund_line_items[].subtotal_set.shop_money),
 *   this refund included, and becomes P once refundedSoFar ≥ A. Shipping, tax and discrepancies
 *   reverse nothing. A cancellation reverses whatever is left. Reversal entries exist even when
 *   they reverse 0 points.
 * - Entries fall in the month (in `timezone`) of their business time: the order's `processed_at`
 *   (else `created_at`), the refund's `processed_at` (else `created_at`), the order's `cancelled_at`.
 *
 * Deliveries are taken in list order, as the replay keeps per-resource order. A refund or
 * cancellation that arrives before its order waits for it, as the workers do.
 */
import type { Report } from '../../loyalty/report';
import { monthOfInstant } from './zoned';

const PROGRAM_CURRENCY = 'USD';
const CENTS = 100;

/**
 * Points of the reference program for an amount in cents: 1 per whole dollar between $50 and
 * $100, plus 2 per whole dollar over $100 ($120.00 → 90, $100.99 → 50, $50.99 → 0, $101 → 52).
 */
export function referencePoints(amountCents: number): number {
  if (!Number.isSafeInteger(amountCents) || amountCents < 0) {
    throw new RangeError(`amount must be whole cents ≥ 0 (got ${amountCents})`);
  }
  const between =
    amountCents > 50 * CENTS
      ? Math.floor((Math.min(amountCents, 100 * CENTS) - 50 * CENTS) / CENTS)
      : 0;
  const over = amountCents > 100 * CENTS ? Math.floor((amountCents - 100 * CENTS) / CENTS) : 0;
  return between + 2 * over;
}

export interface ExpectedEntry {
  /** The ledger's idempotency key: `order:<id>:earn`, `refund:<id>:reverse`, `order:<id>:cancel`. */
  key: string;
  /** Shopify customer id. */
  customerId: string;
  /** "YYYY-MM" in the timezone. */
  month: string;
  points: number;
}

export interface ExpectedOrder {
  orderId: string;
  /** The customer the order belongs to (after a claim); null for an unclaimed guest order. */
  customerId: string | null;
  test: boolean;
  paid: boolean;
  /** Subtotal after discounts in cents. */
  amountMinor: number;
  /** Month of the order in the timezone. */
  month: string;
  /** Points awarded (0 when it earned nothing). */
  points: number;
  /** Merchandise refunded so far (cents). */
  refundedMinor: number;
  /** Points taken back so far. */
  reversed: number;
  cancelled: boolean;
}

export interface ExpectedCustomer {
  customerId: string;
  email: string | null;
  /** Points held: Σ of the customer's entries. */
  balance: number;
  /** Points earned per month, net of reversals; only months with entries. */
  monthly: Record<string, number>;
  /** Paid, non-test orders of the customer (claimed guest orders included). */
  orders: number;
}

export interface ExpectedResults {
  timezone: string;
  /** Every customer seen (customers/create or an order's customer), by id in code-unit order. */
  customers: ExpectedCustomer[];
  orders: ExpectedOrder[];
  /** Ledger entries in the order the workers would post them. */
  entries: ExpectedEntry[];
}

type Json = Record<string, unknown>;

interface RefundState {
  refundId: string;
  merchandiseMinor: number;
  at: number;
}

interface OrderState {
  orderId: string;
  customerId: string | null;
  email: string | null;
  test: boolean;
  paid: boolean;
  amountMinor: number;
  processedAt: number;
  cancelledAt: number | null;
  refunds: RefundState[];
  award: { points: number; amountMinor: number } | null;
  reversed: number;
  settledRefunds: Set<string>;
  cancelSettled: boolean;
}

class ExpectedError extends Error {
  constructor(index: number, topic: string, message: string) {
    super(`delivery ${index} (${topic}): ${message}`);
    this.name = 'ExpectedError';
  }
}

function idOf(value: unknown, gid: unknown): string | null {
  if (typeof gid === 'string') {
    const m = /\/(\d+)$/.exec(gid);
    if (m) return m[1]!;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  return null;
}

function email(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim().toLowerCase();
  return trimmed === '' ? null : trimmed;
}

/** Cents of a shop-money bag in USD; throws on another currency or a malformed amount. */
function shopCents(bag: unknown, what: string): number {
  const money = (bag as { shop_money?: { amount?: unknown; currency_code?: unknown } } | null)
    ?.shop_money;
  if (!money) throw new Error(`${what} has no shop_money`);
  if (money.currency_code !== PROGRAM_CURRENCY) {
    throw new Error(
      `${what} is in ${String(money.currency_code)}; the reference program is in ${PROGRAM_CURRENCY}`,
    );
  }
  const text = typeof money.amount === 'number' ? String(money.amount) : money.amount;
  const m = typeof text === 'string' ? /^(\d+)(?:\.(\d{1,2}))?$/.exec(text) : null;
  if (!m) throw new Error(`${what} amount ${JSON.stringify(money.amount)} is not a USD amount`);
  return Number(m[1]) * CENTS + Number((m[2] ?? '').padEnd(2, '0'));
}

function instant(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${what} ${JSON.stringify(value)} is not a timestamp`);
  return ms;
}

function refundOf(payload: Json, what: string): RefundState {
  const refundId = idOf(payload.id, payload.admin_graphql_api_id);
  if (refundId === null) throw new Error(`${what} has no id`);
  const lines = (payload.refund_line_items as Json[] | undefined) ?? [];
  let merchandiseMinor = 0;
  lines.forEach((line, i) => {
    merchandiseMinor += shopCents(
      line.subtotal_set,
      `${what} refund_line_items[${i}].subtotal_set`,
    );
  });
  const at = instant(payload.processed_at ?? payload.created_at, `${what} processed_at`);
  return { refundId, merchandiseMinor, at };
}

/** Computes the expected ledger from `deliveries` (see the module comment for the rules). */
export function expectedResults(
  deliveries: readonly { topic: string; payload: unknown }[],
  options: {
    timezone: string;
    /** The multiplier (basis points, 10000 = ×1) of an order's award; default ×1. */
    awardMultiplierBps?: (orderId: string) => number;
  },
): ExpectedResults {
  const tz = options.timezone;
  const customers = new Map<string, ExpectedCustomer>();
  const orders = new Map<string, OrderState>();
  const entries: ExpectedEntry[] = [];

  const customer = (id: string, mail: string | null) => {
    let c = customers.get(id);
    if (!c) {
      c = { customerId: id, email: mail, balance: 0, monthly: {}, orders: 0 };
      customers.set(id, c);
    } else if (c.email === null) {
      c.email = mail;
    }
    return c;
  };
  const post = (key: string, customerId: string, at: number, points: number) => {
    const month = monthOfInstant(at, tz);
    entries.push({ key, customerId, month, points });
    const c = customers.get(customerId)!;
    c.balance += points;
    c.monthly[month] = (c.monthly[month] ?? 0) + points;
  };

  /** Posts whatever the order's state now calls for (award, pending reversals, cancellation). */
  const settle = (order: OrderState) => {
    if (!order.award) {
      if (!order.paid || order.customerId === null || order.test) return;
      const base = referencePoints(order.amountMinor);
      if (base === 0) return;
      const bps = options.awardMultiplierBps?.(order.orderId) ?? 10_000;
      const points = Number((BigInt(base) * BigInt(bps)) / 10_000n);
      order.award = { points, amountMinor: order.amountMinor };
      post(`order:${order.orderId}:earn`, order.customerId, order.processedAt, points);
    }
    const { points: P, amountMinor: A } = order.award;
    const customerId = order.customerId!;
    let refunded = 0;
    const reverseTo = (target: number, key: string, at: number) => {
      const delta = Math.max(0, target - order.reversed);
      order.reversed += delta;
      post(key, customerId, at, delta === 0 ? 0 : -delta);
    };
    for (const refund of order.refunds) {
      refunded += refund.merchandiseMinor;
      if (order.settledRefunds.has(refund.refundId)) continue;
      order.settledRefunds.add(refund.refundId);
      const target =
        A === 0 ? 0 : refunded >= A ? P : Number((BigInt(P) * BigInt(refunded)) / BigInt(A));
      reverseTo(target, `refund:${refund.refundId}:reverse`, refund.at);
    }
    if (order.cancelledAt !== null && !order.cancelSettled) {
      order.cancelSettled = true;
      reverseTo(P, `order:${order.orderId}:cancel`, order.cancelledAt);
    }
  };

  const orderState = (orderId: string): OrderState => {
    let order = orders.get(orderId);
    if (!order) {
      order = {
        orderId,
        customerId: null,
        email: null,
        test: false,
        paid: false,
        amountMinor: 0,
        processedAt: NaN,
        cancelledAt: null,
        refunds: [],
        award: null,
        reversed: 0,
        settledRefunds: new Set(),
        cancelSettled: false,
      };
      orders.set(orderId, order);
    }
    return order;
  };

  /** Reads an order body into the state (orders/paid, orders/cancelled). */
  const readOrder = (payload: Json, what: string): OrderState => {
    const orderId = idOf(payload.id, payload.admin_graphql_api_id);
    if (orderId === null) throw new Error(`${what} has no id`);
    const order = orderState(orderId);
    if (Number.isNaN(order.processedAt)) {
      const nested = payload.customer as Json | null | undefined;
      if (nested) {
        const customerId = idOf(nested.id, nested.admin_graphql_api_id);
        if (customerId === null) throw new Error(`${what} customer has no id`);
        customer(customerId, email(nested.email));
        order.customerId = customerId;
      }
      order.email = email(payload.email ?? payload.contact_email);
      order.test = payload.test === true;
      order.amountMinor = shopCents(payload.subtotal_price_set, `${what} subtotal_price_set`);
      order.processedAt = instant(
        payload.processed_at ?? payload.created_at,
        `${what} processed_at`,
      );
    }
    return order;
  };

  const addRefund = (order: OrderState, refund: RefundState) => {
    if (order.refunds.some((r) => r.refundId === refund.refundId)) return;
    order.refunds.push(refund);
  };

  deliveries.forEach((delivery, index) => {
    const payload = delivery.payload as Json;
    const what = delivery.topic;
    try {
      switch (delivery.topic) {
        case 'customers/create': {
          const customerId = idOf(payload.id, payload.admin_graphql_api_id);
          if (customerId === null) throw new Error('customer has no id');
          const mail = email(payload.email);
          customer(customerId, mail);
          if (mail === null) break;
          // The shopper's earlier guest orders become theirs.
          for (const order of orders.values()) {
            if (order.customerId === null && order.email === mail) {
              order.customerId = customerId;
              if (order.paid && !order.test) customers.get(customerId)!.orders++;
              settle(order);
            }
          }
          break;
        }
        case 'orders/paid': {
          const order = readOrder(payload, what);
          if (order.paid) break; // a repeat
          order.paid = true;
          if (order.customerId !== null && !order.test) customers.get(order.customerId)!.orders++;
          settle(order);
          break;
        }
        case 'refunds/create': {
          const orderId = idOf(payload.order_id, undefined);
          if (orderId === null) throw new Error('refund has no order_id');
          const order = orderState(orderId);
          addRefund(order, refundOf(payload, 'refund'));
          settle(order);
          break;
        }
        case 'orders/cancelled': {
          const order = readOrder(payload, what);
          // A cancellation body lists the refunds made so far; any not yet delivered count too.
          ((payload.refunds as Json[] | undefined) ?? []).forEach((refund, i) =>
            addRefund(order, refundOf(refund, `refunds[${i}]`)),
          );
          if (order.cancelledAt === null) {
            order.cancelledAt = instant(payload.cancelled_at, 'cancelled_at');
          }
          settle(order);
          break;
        }
        default:
          break; // other topics do not move points
      }
    } catch (error) {
      throw new ExpectedError(index, delivery.topic, (error as Error).message);
    }
  });

  const byId = (a: { customerId: string }, b: { customerId: string }) =>
    a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;
  return {
    timezone: tz,
    customers: [...customers.values()].sort(byId),
    orders: [...orders.values()].map((o) => ({
      orderId: o.orderId,
      customerId: o.customerId,
      test: o.test,
      paid: o.paid,
      amountMinor: o.amountMinor,
      month: Number.isNaN(o.processedAt) ? '' : monthOfInstant(o.processedAt, tz),
      points: o.award?.points ?? 0,
      refundedMinor: o.refunds.reduce((sum, r) => sum + r.merchandiseMinor, 0),
      reversed: o.reversed,
      cancelled: o.cancelledAt !== null,
    })),
    entries,
  };
}

export interface ExpectedReportOptions {
  /**
   * Which customers are listed. `awarded` (default): those with at least one ledger entry, as
   * `loyalty report --shop` lists them. `ordered`: those with at least one paid, non-test order,
   * even one worth 0 points, as `loyalty report --input` lists the customers of a file.
   */
  include?: 'awarded' | 'ordered';
  /** First month to list ("YYYY-MM"); default the earliest month with a listed fact. */
  fromMonth?: string;
  toMonth?: string;
}

/** The expected results in the shape `loyalty report` prints. */
export function expectedReport(
  results: ExpectedResults,
  options: ExpectedReportOptions = {},
): Report {
  const include = options.include ?? 'awarded';
  // customer → month → points; a 0 makes the customer and the month appear.
  const facts = new Map<string, Map<string, number>>();
  const add = (customerId: string, month: string, points: number) => {
    let months = facts.get(customerId);
    if (!months) facts.set(customerId, (months = new Map()));
    months.set(month, (months.get(month) ?? 0) + points);
  };
  for (const entry of results.entries) add(entry.customerId, entry.month, entry.points);
  if (include === 'ordered') {
    for (const order of results.orders) {
      if (order.paid && !order.test && order.customerId !== null)
        add(order.customerId, order.month, 0);
    }
  }

  const allMonths = [...facts.values()].flatMap((m) => [...m.keys()]).sort();
  const from = options.fromMonth ?? allMonths[0];
  const to = options.toMonth ?? allMonths[allMonths.length - 1];
  if (from === undefined || to === undefined) {
    return { months: [], customers: [], totals: { monthly: {}, total: 0 } };
  }
  const months: string[] = [];
  for (let [y, m] = from.split('-').map(Number) as [number, number]; ;) {
    const key = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
    if (key > to) break;
    months.push(key);
    m += 1;
    if (m === 13) [y, m] = [y + 1, 1];
  }
  const totals: Record<string, number> = Object.fromEntries(months.map((m) => [m, 0]));
  const customers = [...facts.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .filter((id) => [...facts.get(id)!.keys()].some((m) => m >= from && m <= to))
    .map((customerId) => {
      const byMonth = facts.get(customerId)!;
      const monthly: Record<string, number> = {};
      let total = 0;
      for (const m of months) {
        monthly[m] = byMonth.get(m) ?? 0;
        total += monthly[m]!;
        totals[m]! += monthly[m]!;
      }
      return { customerId, monthly, total };
    });
  return {
    months,
    customers,
    totals: { monthly: totals, total: months.reduce((sum, m) => sum + totals[m]!, 0) },
  };
}
