/**
 * Reversal maths: how many points a refund or cancellation takes back from an award.
 *
 * Reversals use the award's recorded points P and amount A — never today's program — and are
 * cumulative: the points that should be reversed after all merchandise refunded so far is
 *
 *   target = cancelled || refunded ≥ A ? P : floor(P × refunded / A)      (A = 0: P if cancelled, else 0)
 *
 * and each refund posts `delta = target − alreadyReversed`. Because every refund moves the running
 * total to the same floor of the same cumulative fraction, partial refunds adding up to A reverse
 * exactly P whatever order they arrive in, and a cancellation takes whatever remains. The products
 * use BigInt: P × refunded can pass 2^53 long before either number does. See docs/earning-rules.md.
 */

/** The award a reversal is measured against, exactly as its ledger entry recorded it. */
export interface AwardBasis {
  /** Points the award granted (after multipliers). */
  points: number;
  /** The amount (minor units, shop currency) the award was computed from. */
  amountMinor: number;
}

export interface ReversalInput {
  award: AwardBasis;
  /** Merchandise refunded on the order so far, this refund included (minor units). */
  refundedMinorTotal: number;
  /** The order has been cancelled. */
  cancelled: boolean;
  /** Points already taken back from this award by earlier refund/cancellation entries (≥ 0). */
  alreadyReversed: number;
}

/** Recorded as a reversal entry's `inputs`: everything needed to re-derive its points. */
export interface ReversalExplanation {
  rule: 'proportional-cumulative-floor';
  awardPoints: number;
  awardAmountMinor: number;
  refundedMinorTotal: number;
  cancelled: boolean;
  alreadyReversed: number;
  /** Points that should be reversed in total once this entry is posted. */
  targetReversed: number;
  /** Points this entry reverses (the ledger entry's points are −delta). */
  delta: number;
}

export class ReversalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReversalError';
  }
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ReversalError(`${name} must be a whole, non-negative number (got ${value})`);
  }
}

/**
 * Total points to have reversed from an award of `points` on `amountMinor` once
 * `refundedMinorTotal` of merchandise is refunded (or the order is cancelled). Never exceeds
 * `points`; non-decreasing in `refundedMinorTotal`; rounds down, so a customer keeps a partial
 * point until the last refund or the cancellation takes it.
 */
export function targetReversed(
  points: number,
  amountMinor: number,
  refundedMinorTotal: number,
  cancelled: boolean,
): number {
  assertCount('award points', points);
  assertCount('award amountMinor', amountMinor);
  assertCount('refundedMinorTotal', refundedMinorTotal);
  if (cancelled) return points;
  if (amountMinor === 0) return 0; // nothing was paid for, so no refund is a share of it
  if (refundedMinorTotal >= amountMinor) return points;
  // refunded < A, so the quotient is < P and fits in a Number.
  return Number((BigInt(points) * BigInt(refundedMinorTotal)) / BigInt(amountMinor));
}

/**
 * The points one refund or cancellation entry reverses (a positive number; post it as −delta).
 * `max(0, target − alreadyReversed)`: a reversal never gives points back, and since target ≤ P
 * the award is never reversed beyond P.
 */
export function reversalDelta(input: ReversalInput): number {
  return explainReversal(input).delta;
}

/** {@link reversalDelta} with its working, for the reversal entry's recorded inputs. */
export function explainReversal(input: ReversalInput): ReversalExplanation {
  const { award, refundedMinorTotal, cancelled, alreadyReversed } = input;
  assertCount('alreadyReversed', alreadyReversed);
  if (typeof cancelled !== 'boolean') {
    throw new ReversalError(`cancelled must be true or false (got ${String(cancelled)})`);
  }
  const target = targetReversed(award.points, award.amountMinor, refundedMinorTotal, cancelled);
  // target ≤ P, so alreadyReversed + delta never passes P; the clamp stops points flowing back.
  const delta = Math.max(0, target - alreadyReversed);
  return {
    rule: 'proportional-cumulative-floor',
    awardPoints: award.points,
    awardAmountMinor: award.amountMinor,
    refundedMinorTotal,
    cancelled,
    alreadyReversed,
    targetReversed: target,
    delta,
  };
}
