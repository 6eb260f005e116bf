/**
 * The points liability rollforward and its breakage estimate (docs/liability.md).
 *
 * Per month: opening, the five movement columns (loyalty/ledger-movements.ts) and closing, with
 * closing = opening + issued − reversed − redeemed − expired + adjusted and each month opening at
 * the previous month's closing. The rollforward is anchored at its end — the last closing is the
 * points members hold at that instant (today's balances less what moved since) — and walks back,
 * so an old month's opening never needs the ledger before it.
 *
 * Breakage (the points that will never be redeemed) is estimated from the shop's own history:
 * ultimate redemption rate = redeemed / (redeemed + expired + dormant), where dormant is the
 * balance of members with no ledger entry in the last 12 months; breakage = 1 − that rate. With
 * no history to divide by, there is no estimate, and the page says so.
 */
import { netMovement, type Movements } from './ledger-movements';
import { pointsToMinor, type PointValue } from './point-value';

export interface LiabilityRow extends Movements {
  /** YYYY-MM in the shop's timezone. */
  month: string;
  opening: number;
  closing: number;
}

/**
 * The rollforward of `months` (ascending, consecutive) whose last month closes at `closing`
 * points. Telescopes: each opening is the previous closing, and the first opening plus every
 * month's net movement is the last closing.
 */
export function rollforward(
  months: readonly { month: string; movements: Movements }[],
  closing: number,
): LiabilityRow[] {
  const rows: LiabilityRow[] = [];
  let close = closing;
  for (let i = months.length - 1; i >= 0; i--) {
    const { month, movements } = months[i]!;
    const opening = close - netMovement(movements);
    rows.push({ month, opening, ...movements, closing: close });
    close = opening;
  }
  return rows.reverse();
}

/** What the breakage estimate is computed from, in points. */
export interface BreakageInputs {
  /** Redeemed over the whole history (net of points given back). */
  redeemed: number;
  /** Expired over the whole history. */
  expired: number;
  /** Held by members with no ledger entry in the 12 months before the estimate. */
  dormant: number;
}

export type BreakageEstimate =
  | (BreakageInputs & {
      status: 'estimated';
      /** redeemed / (redeemed + expired + dormant). */
      redemptionRate: number;
      /** 1 − redemptionRate. */
      breakage: number;
    })
  | (BreakageInputs & { status: 'insufficient'; reason: string });

export function estimateBreakage(inputs: BreakageInputs): BreakageEstimate {
  const { redeemed, expired, dormant } = inputs;
  if (redeemed < 0 || expired < 0 || dormant < 0) {
    return {
      ...inputs,
      status: 'insufficient',
      reason:
        'more points were given back than were redeemed or expired, so the history gives no rate',
    };
  }
  const denominator = redeemed + expired + dormant;
  if (denominator === 0) {
    return {
      ...inputs,
      status: 'insufficient',
      reason:
        'no points have been redeemed or expired yet and no balance is dormant, so the history is too thin to estimate breakage',
    };
  }
  const redemptionRate = redeemed / denominator;
  return { ...inputs, status: 'estimated', redemptionRate, breakage: 1 - redemptionRate };
}

/** `value × numerator / denominator`, rounded half away from zero, exactly (BigInt). */
export function scaleRounded(value: number, numerator: number, denominator: number): number {
  if (denominator <= 0) throw new Error('denominator must be positive');
  const n = BigInt(value) * BigInt(numerator);
  const d = BigInt(denominator);
  const sign = n < 0n ? -1n : 1n;
  return Number(((n * sign * 2n + d) / (d * 2n)) * sign);
}

/** A liability in points, and in money when the program has a redemption value. */
export interface Amount {
  points: number;
  /** Minor units of the value's currency; null without a redemption value. */
  minor: number | null;
}

export function amountOf(points: number, value: PointValue | null): Amount {
  return { points, minor: value ? pointsToMinor(points, value) : null };
}

/**
 * The liability net of breakage: what `closing` points are expected to cost, i.e. closing ×
 * ultimate redemption rate (money converted first, then scaled, each rounded once). Null when
 * there is no estimate.
 */
export function netOfBreakage(
  closing: number,
  estimate: BreakageEstimate,
  value: PointValue | null,
): Amount | null {
  if (estimate.status !== 'estimated') return null;
  const den = estimate.redeemed + estimate.expired + estimate.dormant;
  const gross = amountOf(closing, value);
  return {
    points: scaleRounded(closing, estimate.redeemed, den),
    minor: gross.minor === null ? null : scaleRounded(gross.minor, estimate.redeemed, den),
  };
}
