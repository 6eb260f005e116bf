/**
 * The points liability rollforward of a range of shop-local months (loyalty/liability.ts), in
 * points and at the program's redemption value, with the breakage estimated from the shop's whole
 * history up to now. docs/liability.md.
 */
import type { Executor } from '../../db/client.server';
import {
  estimateBreakage,
  rollforward,
  type BreakageEstimate,
  type LiabilityRow,
} from '../../loyalty/liability';
import { netMovement } from '../../loyalty/ledger-movements';
import type { PointValue } from '../../loyalty/point-value';
import { addZonedMonths, monthRange, zonedMidnight } from '../../loyalty/time';
import {
  compactMovements,
  dormantPoints,
  movementTimeline,
  outstandingPoints,
} from './movements.server';
import { shopPointValue } from './point-value.server';

/** Months without a ledger entry for a balance to count as dormant. */
export const DORMANT_MONTHS = 12;

export interface LiabilityReport {
  rows: LiabilityRow[];
  /** The redemption value the money columns use; null: points only. */
  value: PointValue | null;
  breakage: BreakageEstimate;
  /** Points members hold now (the sum of customer_balances). */
  outstandingNow: number;
  /** Where balances count as dormant: no entry since this instant. */
  dormantSince: Date;
}

/**
 * The rollforward of months `from`..`to` (YYYY-MM, valid, in order: the caller checks) in the
 * shop's timezone. The last closing is today's balances less every movement dated after the range.
 */
export async function liabilityReport(
  db: Executor,
  shop: { id: number; timezone: string; currency: string },
  range: { from: string; to: string },
  now = Date.now(),
): Promise<LiabilityReport> {
  const tz = shop.timezone;
  const months = monthRange(range.from, range.to);
  const after = addZonedMonths(zonedMidnight(`${range.to}-01`, tz), 1, tz);
  const starts = [...months.map((m) => zonedMidnight(`${m}-01`, tz)), after];
  const dormantSince = new Date(addZonedMonths(now, -DORMANT_MONTHS, tz));
  await compactMovements(db, shop.id);
  const [timeline, outstandingNow, dormant, value] = await Promise.all([
    movementTimeline(db, shop.id, [-Infinity, ...starts, Infinity]),
    outstandingPoints(db, shop.id),
    dormantPoints(db, shop.id, dormantSince),
    shopPointValue(db, shop),
  ]);
  const closing = outstandingNow - netMovement(timeline.between(after, Infinity));
  const rows = rollforward(
    months.map((month, i) => ({ month, movements: timeline.intervals[i + 1]! })),
    closing,
  );
  const lifetime = timeline.between(-Infinity, Infinity);
  return {
    rows,
    value,
    breakage: estimateBreakage({
      redeemed: lifetime.redeemed,
      expired: lifetime.expired,
      dormant,
    }),
    outstandingNow,
    dormantSince,
  };
}
