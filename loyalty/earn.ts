/**
 * Earn maths: points for one purchase amount under a compiled program.
 *
 * Per band: wholeUnits = floor((min(amount, upTo) − over) / unit) when amount > over, else 0;
 * basePoints = Σ wholeUnits × pointsPerUnit. Reference program: $120 → 2×20 + 1×50 = 90.
 * Multipliers (tiers, campaigns) apply after the bands, in basis points, with ONE floor at the end:
 * points = floor(basePoints × Π factorBps / 10000ⁿ). All integer arithmetic. A multiplier with a
 * `share` (a campaign limited to some products, docs/campaigns.md) multiplies only that share of
 * the base: its factor is (10000 × (A − E) + factorBps × E) / (10000 × A), still inside the one floor.
 */
import type { CompiledProgram } from './program';

/** A multiplier on base points: 10000 bps = ×1, 15000 = ×1.5. `source` says where it came from. */
export interface Multiplier {
  source: 'tier' | 'campaign' | (string & {});
  id: string;
  factorBps: number;
  /**
   * Only this part of the order's amount is multiplied (E = eligibleMinor of A = amountMinor);
   * absent: the whole base. Recorded so the award re-derives exactly.
   */
  share?: { eligibleMinor: number; amountMinor: number };
}

export interface BandEarn {
  /** Band floor and ceiling in minor units (ceiling null = open). */
  over: number;
  upTo: number | null;
  wholeUnits: number;
  pointsPerUnit: number;
  points: number;
}

/** Everything needed to explain (and later reverse) an award without re-reading the program. */
export interface EarnResult {
  points: number;
  basePoints: number;
  amountMinor: number;
  currency: string;
  unitMinor: number;
  bands: BandEarn[];
  multipliers: Multiplier[];
}

export class EarnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EarnError';
  }
}

function assertAmount(amountMinor: number): void {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) {
    throw new EarnError(
      `amount must be a whole, non-negative number of minor units (got ${amountMinor})`,
    );
  }
}

/**
 * Base points for an amount — the hot-loop form of {@link computeEarn}: no allocation, no
 * multipliers. `amountMinor` must be a non-negative safe integer (the CSV reader guarantees it).
 */
export function earnPoints(program: CompiledProgram, amountMinor: number): number {
  const bands = program.bands;
  const unit = program.unitMinor;
  let points = 0;
  for (let i = 0; i < bands.length; i++) {
    const band = bands[i]!;
    if (amountMinor <= band.overMinor) break; // bands are sorted: no later band can earn
    const top =
      band.upToMinor !== null && band.upToMinor < amountMinor ? band.upToMinor : amountMinor;
    points += Math.floor((top - band.overMinor) / unit) * band.pointsPerUnit;
  }
  // Each product is exact while the sum is; past 2^53 the result cannot be trusted.
  if (points > Number.MAX_SAFE_INTEGER)
    throw new EarnError(`amount ${amountMinor} earns too many points`);
  return points;
}

/**
 * Points for `amountMinor` with a full explanation: per-band whole units and points, base points,
 * and the multipliers applied. Throws EarnError on a negative/fractional amount or bad multiplier.
 */
export function computeEarn(
  program: CompiledProgram,
  amountMinor: number,
  multipliers: Multiplier[] = [],
): EarnResult {
  assertAmount(amountMinor);
  const bands: BandEarn[] = program.bands.map((band) => {
    let wholeUnits = 0;
    if (amountMinor > band.overMinor) {
      const top =
        band.upToMinor !== null && band.upToMinor < amountMinor ? band.upToMinor : amountMinor;
      wholeUnits = Math.floor((top - band.overMinor) / program.unitMinor);
    }
    return {
      over: band.overMinor,
      upTo: band.upToMinor,
      wholeUnits,
      pointsPerUnit: band.pointsPerUnit,
      points: wholeUnits * band.pointsPerUnit,
    };
  });
  const basePoints = earnPoints(program, amountMinor);

  let numerator = BigInt(basePoints);
  let denominator = 1n;
  for (const m of multipliers) {
    if (!Number.isSafeInteger(m.factorBps) || m.factorBps < 0) {
      throw new EarnError(
        `multiplier ${m.source}:${m.id} must have a whole, non-negative factorBps (got ${m.factorBps})`,
      );
    }
    if (m.share) {
      const { eligibleMinor: e, amountMinor: a } = m.share;
      if (!Number.isSafeInteger(a) || a <= 0 || !Number.isSafeInteger(e) || e < 0 || e > a) {
        throw new EarnError(
          `multiplier ${m.source}:${m.id} share must be 0 ≤ eligibleMinor ≤ amountMinor, amountMinor > 0 (got ${e} of ${a})`,
        );
      }
      numerator *= 10_000n * BigInt(a - e) + BigInt(m.factorBps) * BigInt(e);
      denominator *= 10_000n * BigInt(a);
    } else {
      numerator *= BigInt(m.factorBps);
      denominator *= 10_000n;
    }
  }
  const multiplied = numerator / denominator; // BigInt division floors for non-negative values
  if (multiplied > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EarnError(`amount ${amountMinor} with multipliers earns too many points`);
  }
  return {
    points: Number(multiplied),
    basePoints,
    amountMinor,
    currency: program.currency,
    unitMinor: program.unitMinor,
    bands,
    multipliers: multipliers.map((m) => ({
      source: m.source,
      id: m.id,
      factorBps: m.factorBps,
      ...(m.share
        ? { share: { eligibleMinor: m.share.eligibleMinor, amountMinor: m.share.amountMinor } }
        : {}),
    })),
  };
}
