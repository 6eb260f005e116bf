/**
 * The what-if simulator: replays a shop's own orders and refunds under two programs — the versions
 * as they were in force ("current": what the ledger holds) and a draft — and counts, per month of
 * the shop's timezone, the points each would have issued net of reversals, the members whose
 * points differ, and their cost at the redemption value. Pure: app/models/simulation.server.ts
 * loads the orders, docs/program-editor.md has the method and a worked example.
 *
 * The replay is settlement's own rules (loyalty/settlement.ts) in a lean form, without the ledger
 * entries: an order earns when it is paid, has a customer, is not an excluded test order and not
 * a POS order under a program that excludes them; its award is the bands' points on the program's
 * earn base times the multipliers its real award recorded (a tier's, which the replay cannot
 * re-derive); refunds and the cancellation reverse it with loyalty/reversal.ts's cumulative floor.
 * simulation.test.ts checks the replay against planOrderSettlement on random orders.
 */
import { earnPoints } from './earn';
import { pointsToMinor, type PointValue } from './point-value';
import type { CompiledProgram } from './program';
import { targetReversed } from './reversal';
import { zonedMidnight } from './time';

export interface SimulationRefund {
  /** Epoch ms: the reversal's month. */
  processedAt: number;
  merchandiseMinor: number;
}

/** One stored order, as compact as the replay needs it (amounts in the shop currency). */
export interface SimulationOrder {
  /** Epoch ms of processed_at: the award's month and the version in force. */
  processedAt: number;
  /** Null: a guest order (earns nothing until claimed). */
  customerId: number | null;
  paid: boolean;
  test: boolean;
  /** Shopify source_name is `pos`. */
  pos: boolean;
  /** Epoch ms, or null. */
  cancelledAt: number | null;
  earnAmountMinor: number;
  totalMinor: number;
  /**
   * factorBps of the multipliers the order's real award recorded (a tier's); empty when it has
   * none or no award. Applied under both programs, after the bands, with one floor.
   */
  multipliersBps: readonly number[];
  /** In the order recorded. */
  refunds: readonly SimulationRefund[];
}

export interface SimulationInput {
  orders: Iterable<SimulationOrder>;
  /** Months to report ("YYYY-MM", ascending, contiguous); entries outside go to the nearest end. */
  months: readonly string[];
  timezone: string;
  /** The version in force at an instant (epoch ms); null when the shop had none. */
  currentAt: (instant: number) => CompiledProgram | null;
  draft: CompiledProgram;
  /** Whether test orders earn today, and under the draft. */
  testOrdersEarn: { current: boolean; draft: boolean };
  /** The redemption value; null: costs are not given. */
  pointValue: Pick<PointValue, 'amountMinor' | 'points'> | null;
}

export interface SimulationSide {
  /** Points awarded on orders placed in the month. */
  issued: number;
  /** Points taken back by refunds and cancellations in the month (≥ 0). */
  reversed: number;
  /** issued − reversed. */
  net: number;
  /** net at the redemption value, minor units; null without a value. */
  costMinor: number | null;
  /** Orders of the month that earned. */
  awardedOrders: number;
}

export interface SimulationMonth {
  month: string;
  /** Orders placed in the month (every stored order, earning or not). */
  orders: number;
  current: SimulationSide;
  draft: SimulationSide;
  /** Members whose net points of the month differ between the two. */
  membersAffected: number;
}

export interface SimulationResult {
  months: SimulationMonth[];
  /** The whole period; membersAffected: members whose net points over it differ. */
  totals: Omit<SimulationMonth, 'month'>;
  /** Members with any award under either program. */
  members: number;
  refunds: number;
}

interface Tally {
  issued: number;
  reversed: number;
  awardedOrders: number;
}

const tally = (): Tally => ({ issued: 0, reversed: 0, awardedOrders: 0 });

function multiplied(base: number, multipliersBps: readonly number[]): number {
  if (multipliersBps.length === 0 || base === 0) return base;
  if (multipliersBps.length === 1) {
    const product = base * multipliersBps[0]!;
    if (Number.isSafeInteger(product)) return Math.floor(product / 10_000);
  }
  let numerator = BigInt(base);
  let denominator = 1n;
  for (const bps of multipliersBps) {
    numerator *= BigInt(bps);
    denominator *= 10_000n;
  }
  return Number(numerator / denominator);
}

/** The award an order gets under `program` (0: none), as planOrderSettlement would post it. */
export function replayAward(
  order: SimulationOrder,
  program: CompiledProgram | null,
  testOrdersEarn: boolean,
): { points: number; amountMinor: number } {
  const none = { points: 0, amountMinor: 0 };
  if (!order.paid || order.customerId === null || program === null) return none;
  if (order.test && !testOrdersEarn) return none;
  if (order.pos && program.posOrders === 'exclude') return none;
  const amountMinor = program.earnOn === 'total' ? order.totalMinor : order.earnAmountMinor;
  return {
    points: multiplied(earnPoints(program, amountMinor), order.multipliersBps),
    amountMinor,
  };
}

/**
 * Replays every order under both programs. Linear in orders + refunds; months are found by
 * comparing with their first instants (an order before the first month counts in it, after the
 * last in the last).
 */
export function simulate(input: SimulationInput): SimulationResult {
  const { months, timezone } = input;
  if (months.length === 0) throw new RangeError('a simulation needs at least one month');
  const count = months.length;
  // Month starts as instants: a month lookup is a few comparisons, no calendar maths per order.
  const starts = months.map((m) => zonedMidnight(`${m}-01`, timezone));
  const monthOf = (instant: number): number => {
    let i = count - 1;
    while (i > 0 && instant < starts[i]!) i--;
    return i;
  };
  const ordersPerMonth = new Array<number>(count).fill(0);
  const current = months.map(tally);
  const draft = months.map(tally);
  // Per member: the draft's net minus the current net, per month, then over the whole period.
  const deltas = new Map<number, Float64Array>();
  let refunds = 0;

  const replay = (
    order: SimulationOrder,
    award: { points: number; amountMinor: number },
    tallies: Tally[],
    orderMonth: number,
    sign: 1 | -1,
  ) => {
    if (award.points === 0) return;
    const customer = order.customerId!;
    let delta = deltas.get(customer);
    if (!delta) deltas.set(customer, (delta = new Float64Array(count + 1)));
    tallies[orderMonth]!.issued += award.points;
    tallies[orderMonth]!.awardedOrders++;
    delta[orderMonth]! += sign * award.points;
    delta[count]! += sign * award.points;
    let refunded = 0;
    let reversed = 0;
    const reverse = (instant: number, points: number) => {
      reversed += points;
      const month = monthOf(instant);
      tallies[month]!.reversed += points;
      delta[month]! -= sign * points;
      delta[count]! -= sign * points;
    };
    for (const refund of order.refunds) {
      refunded += refund.merchandiseMinor;
      const target = targetReversed(award.points, award.amountMinor, refunded, false);
      if (target > reversed) reverse(refund.processedAt, target - reversed);
    }
    if (order.cancelledAt !== null && reversed < award.points) {
      reverse(order.cancelledAt, award.points - reversed);
    }
  };

  for (const order of input.orders) {
    const orderMonth = monthOf(order.processedAt);
    ordersPerMonth[orderMonth]!++;
    refunds += order.refunds.length;
    const was = replayAward(
      order,
      input.currentAt(order.processedAt),
      input.testOrdersEarn.current,
    );
    const would = replayAward(order, input.draft, input.testOrdersEarn.draft);
    replay(order, was, current, orderMonth, -1);
    replay(order, would, draft, orderMonth, 1);
  }

  const side = (t: Tally): SimulationSide => {
    const net = t.issued - t.reversed;
    return {
      issued: t.issued,
      reversed: t.reversed,
      net,
      costMinor: input.pointValue ? pointsToMinor(net, input.pointValue) : null,
      awardedOrders: t.awardedOrders,
    };
  };
  const affected = (slot: number) => {
    let n = 0;
    for (const delta of deltas.values()) if (delta[slot] !== 0) n++;
    return n;
  };
  const sum = (tallies: Tally[]): Tally =>
    tallies.reduce(
      (a, t) => ({
        issued: a.issued + t.issued,
        reversed: a.reversed + t.reversed,
        awardedOrders: a.awardedOrders + t.awardedOrders,
      }),
      tally(),
    );
  return {
    months: months.map((month, i) => ({
      month,
      orders: ordersPerMonth[i]!,
      current: side(current[i]!),
      draft: side(draft[i]!),
      membersAffected: affected(i),
    })),
    totals: {
      orders: ordersPerMonth.reduce((a, b) => a + b, 0),
      current: side(sum(current)),
      draft: side(sum(draft)),
      membersAffected: affected(count),
    },
    members: deltas.size,
    refunds,
  };
}
