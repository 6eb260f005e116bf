/**
 * What a point is worth in money: the program's redemption value, which the what-if simulator
 * prices a draft with and the liability rollforward states outstanding points in.
 *
 * The value is read off the rewards catalog, not typed in a second time: each active reward that
 * gives a fixed amount of money for a fixed number of points offers a rate (fixed amount off and
 * store credit: amount / points cost; a points slider: one major unit / points per unit). The
 * value is the **highest** of those rates — what outstanding points would cost if every one were
 * redeemed at the best rate a member can choose, so the liability is never understated.
 * Percentage, free-shipping and free-product rewards have no fixed money value and offer no rate;
 * a catalog without a money reward has no value (pages show points only and say why).
 * docs/liability.md has the method and a worked example.
 */
import { currencyDigits } from './money';
import type { RewardDefinition } from './rewards';

/** `amountMinor` minor units of `currency` for `points` points (a rate kept as a fraction). */
export interface PointValue {
  amountMinor: number;
  points: number;
  currency: string;
  /** The reward the rate comes from, to say where the figure comes from. */
  rewardId: number;
  rewardTitle: string;
}

export interface CatalogReward {
  id: number;
  definition: RewardDefinition;
}

function rateOf(reward: CatalogReward, currency: string): PointValue | null {
  const d = reward.definition;
  const base = { currency, rewardId: reward.id, rewardTitle: d.title };
  if ((d.type === 'fixed_amount' || d.type === 'store_credit') && d.pointsCost && d.amountMinor) {
    return { ...base, amountMinor: d.amountMinor, points: d.pointsCost };
  }
  if (d.type === 'points_slider' && d.slider) {
    return { ...base, amountMinor: 10 ** currencyDigits(currency), points: d.slider.pointsPerUnit };
  }
  return null;
}

/** The catalog's best money rate per point, or null when no active reward has one. */
export function pointValueOf(
  catalog: readonly CatalogReward[],
  currency: string,
): PointValue | null {
  let best: PointValue | null = null;
  for (const reward of catalog) {
    const rate = rateOf(reward, currency);
    // a/p > b/q ⇔ a·q > b·p (all positive integers well inside 2^53 at the catalog's limits).
    if (rate && (!best || rate.amountMinor * best.points > best.amountMinor * rate.points)) {
      best = rate;
    }
  }
  return best;
}

/**
 * `points` at `value`, in minor units, rounded half away from zero (exact: BigInt, since a
 * billion points at a large rate passes 2^53).
 */
export function pointsToMinor(
  points: number,
  value: Pick<PointValue, 'amountMinor' | 'points'>,
): number {
  const numerator = BigInt(points) * BigInt(value.amountMinor);
  const denominator = BigInt(value.points);
  const sign = numerator < 0n ? -1n : 1n;
  const abs = numerator * sign;
  const rounded = (abs * 2n + denominator) / (denominator * 2n);
  return Number(rounded * sign);
}
