/**
 * The program as the storefront reads it: the compact, minor-unit form Laurel writes to its
 * app-data metafield (`app.metafields.laurel.program`) so a theme block can compute "Earn N points"
 * in Liquid with the same maths as {@link earnPoints} — no request, no rounding of its own.
 */
import type { CampaignSummary } from './campaigns';
import type { CompiledProgram } from './program';
import type { CompiledReferralProgram } from './referrals';
import { formatMoney } from './money';
import {
  formatMetric,
  formatMultiplier,
  type CompiledTierProgram,
  type TierMetric,
  type TierWindow,
} from './tiers';

export interface ProgramSummaryBand {
  /** Minor units of `currency`; a band earns on spend above `over` up to `upTo` (null: no ceiling). */
  over: number;
  upTo: number | null;
  pointsPerUnit: number;
}

export interface ProgramSummary {
  /** The program version this summary was written from. */
  version: number;
  name: string;
  currency: string;
  /** Minor digits of `currency` (USD 2, JPY 0, KWD 3): Liquid prices are in hundredths. */
  digits: number;
  earnOn: CompiledProgram['earnOn'];
  unitMinor: number;
  bands: ProgramSummaryBand[];
  signupBonus: number;
  /** The tier program in force (absent when the shop has none): what the blocks and checkout list. */
  tiers?: ProgramSummaryTiers;
  /** The referral offer in force; null when the shop has no enabled referral program. */
  referral: ProgramSummaryReferral | null;
  /**
   * Campaigns not over when written, soonest first (empty: none): the blocks show one while
   * `now` is inside its window (docs/campaigns.md). Not in the summary version: saving or ending a
   * campaign asks for the summary to be read back (programSummaryDue).
   */
  campaigns: CampaignSummary[];
}

/** What the referral block says to members and their friends (amounts in minor units). */
export interface ProgramSummaryReferral {
  /** The friend's welcome discount: a whole percentage, or an amount off. */
  friendDiscount: { percentage: number } | { amountMinor: number };
  /** The order subtotal the friend's code needs; null: none. */
  friendMinimumOrderMinor: number | null;
  /** Points the member gets once per friend. */
  referrerPoints: number;
  /** The friend's first order must reach this (after discounts) to reward the member. */
  minimumOrderMinor: number;
}

/** The referral part of the summary: null unless the program is enabled. */
export function referralSummary(
  program: CompiledReferralProgram | null | undefined,
): ProgramSummaryReferral | null {
  if (!program?.enabled) return null;
  const discount = program.friendDiscount;
  return {
    friendDiscount:
      discount.kind === 'percentage'
        ? { percentage: discount.percentage }
        : { amountMinor: discount.amountMinor },
    friendMinimumOrderMinor: program.friendMinimumOrderMinor,
    referrerPoints: program.referrerPoints,
    minimumOrderMinor: program.minimumOrderMinor,
  };
}

export interface ProgramSummaryTier {
  key: string;
  name: string;
  /** Entry threshold in the metric's unit: minor units of `currency` for spend, points, orders. */
  threshold: number;
  /** The threshold as an English shopper reads it: "$1,000.00", "500 points", "5 orders". */
  thresholdText: string;
  /** Earn multiplier as decimal text ("1.5"; "1" for none). */
  multiplier: string;
  perks: { freeShipping: boolean; entryPoints: number };
}

export interface ProgramSummaryTiers {
  /** The tier program version. */
  version: number;
  metric: TierMetric;
  window: TierWindow;
  currency: string | null;
  /** Lowest first. */
  levels: ProgramSummaryTier[];
}

/** The tier part of the summary. */
export function tierSummary(program: CompiledTierProgram, version: number): ProgramSummaryTiers {
  return {
    version,
    metric: program.metric,
    window: program.window,
    currency: program.currency,
    levels: program.tiers.map((tier) => ({
      key: tier.key,
      name: tier.name,
      threshold: tier.threshold,
      thresholdText: thresholdText(program, tier.threshold),
      multiplier: formatMultiplier(tier.multiplierBps),
      perks: { freeShipping: tier.freeShipping, entryPoints: tier.entryPoints },
    })),
  };
}

/** "$1,000.00" (the exact decimal, formatted as en-US shows it), "500 points", "5 orders". */
function thresholdText(program: CompiledTierProgram, threshold: number): string {
  if (program.metric === 'spend' && program.currency) {
    const exact = formatMoney(threshold, program.currency);
    // A decimal string is formatted exactly (no float on the way).
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: program.currency }).format(
      exact as unknown as number,
    );
  }
  return formatMetric(program.metric, threshold, program.currency);
}

/**
 * The version a written summary stands for, in the one integer shop_metafield_sync.program_version
 * holds: the earn program's version plus the tier program's times {@link TIER_VERSION_FACTOR} (0
 * without tiers, so a shop without a tier program records what it always did). Either changing
 * makes the summary due again.
 */
export const TIER_VERSION_FACTOR = 100_000;
export function summaryVersion(programVersion: number, tierVersion: number | null): number {
  if (!Number.isSafeInteger(programVersion) || programVersion < 1) {
    throw new RangeError(`program version ${programVersion} is not a positive integer`);
  }
  if (programVersion >= TIER_VERSION_FACTOR) {
    throw new RangeError(
      `program version ${programVersion} does not fit the summary version (below ${TIER_VERSION_FACTOR})`,
    );
  }
  const combined = programVersion + (tierVersion ?? 0) * TIER_VERSION_FACTOR;
  // program_version is a Postgres integer.
  if (combined > 2 ** 31 - 1) {
    throw new RangeError(`tier program version ${tierVersion} does not fit the summary version`);
  }
  return combined;
}

/**
 * The summary of the versions in force. The referral program's version is not in the recorded
 * summary version ({@link summaryVersion}): the referral sync, which notices a new one first, asks
 * for the summary to be read back instead (programSummaryDue in app/models/metafield-sync.server.ts).
 */
export function programSummary(
  program: CompiledProgram,
  version: number,
  tiers?: { version: number; program: CompiledTierProgram } | null,
  referral?: CompiledReferralProgram | null,
  campaigns?: readonly CampaignSummary[] | null,
): ProgramSummary {
  return {
    version,
    name: program.name,
    currency: program.currency,
    digits: program.digits,
    earnOn: program.earnOn,
    unitMinor: program.unitMinor,
    bands: program.bands.map((band) => ({
      over: band.overMinor,
      upTo: band.upToMinor,
      pointsPerUnit: band.pointsPerUnit,
    })),
    signupBonus: program.signupBonus,
    ...(tiers ? { tiers: tierSummary(tiers.program, tiers.version) } : {}),
    referral: referralSummary(referral),
    // Always present (empty: none), so a block reads it without asking whether it exists.
    campaigns: [...(campaigns ?? [])],
  };
}

/**
 * Liquid money values (`variant.price`) are hundredths of the currency whatever its digits; the
 * program's amounts are minor units. Undefined when the price cannot be expressed exactly.
 */
export function liquidPriceToMinor(price: number, digits: number): number | undefined {
  if (!Number.isSafeInteger(price) || price < 0) return undefined;
  if (digits === 2) return price;
  if (digits > 2) return price * 10 ** (digits - 2);
  const scale = 10 ** (2 - digits);
  return price % scale === 0 ? price / scale : undefined;
}
