/**
 * The rewards catalog's rules: what a reward is (a versioned definition, stored as data), what a
 * redemption of it costs, what Shopify is asked to create for it, and whether a member may redeem
 * it now. Pure: the database and Shopify calls live in app/. Spec: docs/redemption.md.
 */
import { currencyDigits } from './money';

export const REWARD_TYPES = [
  'fixed_amount',
  'percentage',
  'free_shipping',
  'free_product',
  'store_credit',
  'points_slider',
] as const;
export type RewardType = (typeof REWARD_TYPES)[number];

export interface PointsSlider {
  /** Points for one major unit of the currency (1 USD, 1 JPY, 1 KWD). */
  pointsPerUnit: number;
  minPoints: number;
  maxPoints: number;
  /** Points between two allowed values, counted from minPoints. */
  stepPoints: number;
}

export interface DiscountCombinations {
  orderDiscounts: boolean;
  productDiscounts: boolean;
  shippingDiscounts: boolean;
}

/** A reward version as stored (normalised: every field present, null where it does not apply). */
export interface RewardDefinition {
  type: RewardType;
  title: string;
  /** Points one redemption costs; null only for a slider (the shopper picks). */
  pointsCost: number | null;
  /** fixed_amount: off the order; store_credit: credited. Minor units of the shop currency. */
  amountMinor: number | null;
  /** percentage: whole percent off the order, 1–100. */
  percentage: number | null;
  /** free_product: `gid://shopify/ProductVariant/<n>`; one unit of it is free. */
  variantId: string | null;
  slider: PointsSlider | null;
  /** The code needs an order subtotal of at least this (minor units); null: none. */
  minimumOrderMinor: number | null;
  /** Redemptions per member, ever (failed ones do not count); null: unlimited. */
  limitPerCustomer: number | null;
  /** Redemptions per member in any rolling window of `days`; null: unlimited. */
  limitPerPeriod: { count: number; days: number } | null;
  /**
   * Tiers whose members may redeem, by key (`gold`; the model maps names to keys when the shop has a
   * tier program); compared without case. Null: every member.
   */
  tiers: string[] | null;
  /** Days the code (or store credit) stays valid after issue; null: never expires (store credit only). */
  expiryDays: number | null;
  /** An unused code that expires gives its points back. */
  refundPointsOnExpiry: boolean;
  combinesWith: DiscountCombinations;
}

/** What Shopify is asked to create for one redemption. */
export type IssuedValue =
  | { kind: 'amount_off_order'; amountMinor: number; currency: string }
  | { kind: 'percentage_off_order'; percentage: number }
  | { kind: 'free_shipping' }
  | { kind: 'free_product'; variantId: string }
  | { kind: 'store_credit'; amountMinor: number; currency: string };

export type UnavailableReason =
  'INSUFFICIENT_BALANCE' | 'LIMIT_REACHED' | 'PERIOD_LIMIT_REACHED' | 'TIER';

export type Availability = { canRedeem: true } | { canRedeem: false; reason: UnavailableReason };

export interface MemberStanding {
  balance: number;
  /** The member's tier name, or null (no tier: issue [7] assigns them). */
  tier: string | null;
  /** Redemptions of this reward by the member that did not fail. */
  redeemedTotal: number;
  /** The same, created within the reward's period window ending now. */
  redeemedInPeriod: number;
}

export interface RewardIssue {
  path: string;
  message: string;
}

export class RewardError extends Error {
  readonly issues: RewardIssue[];
  constructor(issues: RewardIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
    this.name = 'RewardError';
    this.issues = issues;
  }
}

export const MAX_TITLE_LENGTH = 80;
export const MAX_POINTS_COST = 10_000_000;
export const MAX_EXPIRY_DAYS = 365;
export const DEFAULT_EXPIRY_DAYS = 30;
const MAX_LIMIT = 10_000;
const MAX_PERIOD_DAYS = 366;
const MAX_TIERS = 20;
const VARIANT_GID = /^gid:\/\/shopify\/ProductVariant\/[1-9][0-9]{0,19}$/;

const DEFAULT_COMBINATIONS: Record<RewardType, DiscountCombinations> = {
  // An order discount from points stacks with the shop's product and shipping offers, not with
  // another order discount (Shopify's own default for a new code).
  fixed_amount: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
  percentage: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
  points_slider: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
  free_shipping: { orderDiscounts: true, productDiscounts: true, shippingDiscounts: false },
  free_product: { orderDiscounts: true, productDiscounts: false, shippingDiscounts: true },
  store_credit: { orderDiscounts: false, productDiscounts: false, shippingDiscounts: false },
};

/** Reward types that become a Shopify discount code (store credit does not). */
export function issuesCode(type: RewardType): boolean {
  return type !== 'store_credit';
}

type Reader = {
  issues: RewardIssue[];
  source: Record<string, unknown>;
};

function wholeNumber(
  r: Reader,
  path: string,
  min: number,
  max: number,
  value: unknown = r.source[path],
): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    r.issues.push({ path, message: `must be a whole number from ${min} to ${max}` });
    return null;
  }
  return value;
}

/** Reports `path` missing unless something under it was already reported (a given, invalid value). */
function required<T>(r: Reader, path: string, value: T | null, why: string): T | null {
  if (value === null && !r.issues.some((i) => i.path === path || i.path.startsWith(`${path}.`))) {
    r.issues.push({ path, message: `is required ${why}` });
  }
  return value;
}

function forbidden(r: Reader, path: string, type: RewardType): void {
  const value = r.source[path];
  if (value !== undefined && value !== null) {
    r.issues.push({ path, message: `does not apply to a ${type} reward` });
  }
}

function readSlider(r: Reader, digits: number): PointsSlider | null {
  const raw = r.source.slider;
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    r.issues.push({ path: 'slider', message: 'must be an object' });
    return null;
  }
  const s = raw as Record<string, unknown>;
  const pointsPerUnit = wholeNumber(r, 'slider.pointsPerUnit', 1, 1_000_000, s.pointsPerUnit);
  const minPoints = wholeNumber(r, 'slider.minPoints', 1, MAX_POINTS_COST, s.minPoints);
  const maxPoints = wholeNumber(r, 'slider.maxPoints', 1, MAX_POINTS_COST, s.maxPoints);
  const stepPoints = wholeNumber(r, 'slider.stepPoints', 1, MAX_POINTS_COST, s.stepPoints);
  for (const [name, value] of Object.entries({ pointsPerUnit, minPoints, maxPoints, stepPoints })) {
    if (value === null) required(r, `slider.${name}`, value, 'for a slider');
  }
  if (pointsPerUnit === null || minPoints === null || maxPoints === null || stepPoints === null) {
    return null;
  }
  if (maxPoints < minPoints) {
    r.issues.push({ path: 'slider.maxPoints', message: 'must be at least minPoints' });
  } else if ((maxPoints - minPoints) % stepPoints !== 0) {
    r.issues.push({
      path: 'slider.maxPoints',
      message: 'must be minPoints plus a whole number of steps',
    });
  }
  // Every value on the slider must be a whole number of minor units: min and step must be.
  const scale = 10 ** digits;
  if ((minPoints * scale) % pointsPerUnit !== 0) {
    r.issues.push({
      path: 'slider.minPoints',
      message: `is not a whole amount of money at ${pointsPerUnit} points per unit`,
    });
  }
  if ((stepPoints * scale) % pointsPerUnit !== 0) {
    r.issues.push({
      path: 'slider.stepPoints',
      message: `is not a whole amount of money at ${pointsPerUnit} points per unit`,
    });
  }
  return { pointsPerUnit, minPoints, maxPoints, stepPoints };
}

function readCombinations(r: Reader, type: RewardType): DiscountCombinations {
  const defaults = DEFAULT_COMBINATIONS[type];
  const raw = r.source.combinesWith;
  if (raw === undefined || raw === null) return { ...defaults };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    r.issues.push({ path: 'combinesWith', message: 'must be an object of booleans' });
    return { ...defaults };
  }
  const out = { ...defaults };
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(name in defaults)) {
      r.issues.push({ path: `combinesWith.${name}`, message: 'is not a discount class' });
    } else if (typeof value !== 'boolean') {
      r.issues.push({ path: `combinesWith.${name}`, message: 'must be true or false' });
    } else {
      out[name as keyof DiscountCombinations] = value;
    }
  }
  return out;
}

/** Newlines, tabs, NUL or DEL would break the code's title in Shopify's admin and in emails. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const KNOWN_FIELDS = new Set([
  'type',
  'title',
  'pointsCost',
  'amountMinor',
  'percentage',
  'variantId',
  'slider',
  'minimumOrderMinor',
  'limitPerCustomer',
  'limitPerPeriod',
  'tiers',
  'expiryDays',
  'refundPointsOnExpiry',
  'combinesWith',
]);

/**
 * Validates a reward definition in `currency` (the shop's) and returns it normalised, every issue
 * named by its field; throws RewardError listing all of them.
 */
export function parseRewardDefinition(input: unknown, currency: string): RewardDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RewardError([{ path: '', message: 'a reward must be a JSON object' }]);
  }
  const r: Reader = { issues: [], source: input as Record<string, unknown> };
  const digits = currencyDigits(currency);
  for (const name of Object.keys(r.source)) {
    if (!KNOWN_FIELDS.has(name)) r.issues.push({ path: name, message: 'is not a reward field' });
  }

  const type = r.source.type as RewardType;
  if (!(REWARD_TYPES as readonly unknown[]).includes(type)) {
    throw new RewardError([
      ...r.issues,
      { path: 'type', message: `must be one of ${REWARD_TYPES.join(', ')}` },
    ]);
  }

  const rawTitle = r.source.title;
  let title = '';
  if (typeof rawTitle !== 'string' || rawTitle.trim() === '') {
    r.issues.push({ path: 'title', message: 'is required' });
  } else if (rawTitle.trim().length > MAX_TITLE_LENGTH || hasControlCharacter(rawTitle)) {
    r.issues.push({
      path: 'title',
      message: `must be at most ${MAX_TITLE_LENGTH} characters on one line`,
    });
  } else {
    title = rawTitle.trim();
  }

  const slider = type === 'points_slider' ? readSlider(r, digits) : null;
  if (type === 'points_slider') {
    required(r, 'slider', slider, 'for a points_slider reward');
    forbidden(r, 'pointsCost', type);
  } else {
    forbidden(r, 'slider', type);
  }
  const pointsCost =
    type === 'points_slider'
      ? null
      : required(
          r,
          'pointsCost',
          wholeNumber(r, 'pointsCost', 1, MAX_POINTS_COST),
          'for this type',
        );

  const maxMinor = Number.MAX_SAFE_INTEGER;
  let amountMinor: number | null = null;
  if (type === 'fixed_amount' || type === 'store_credit') {
    amountMinor = required(
      r,
      'amountMinor',
      wholeNumber(r, 'amountMinor', 1, maxMinor),
      `for a ${type} reward (minor units of ${currency})`,
    );
  } else {
    forbidden(r, 'amountMinor', type);
  }

  let percentage: number | null = null;
  if (type === 'percentage') {
    percentage = required(
      r,
      'percentage',
      wholeNumber(r, 'percentage', 1, 100),
      'for a percentage reward',
    );
  } else {
    forbidden(r, 'percentage', type);
  }

  let variantId: string | null = null;
  if (type === 'free_product') {
    const raw = r.source.variantId;
    if (typeof raw !== 'string' || !VARIANT_GID.test(raw)) {
      r.issues.push({
        path: 'variantId',
        message: 'must be a product variant id (gid://shopify/ProductVariant/<number>)',
      });
    } else {
      variantId = raw;
    }
  } else {
    forbidden(r, 'variantId', type);
  }

  let minimumOrderMinor: number | null = null;
  if (type === 'store_credit') forbidden(r, 'minimumOrderMinor', type);
  else minimumOrderMinor = wholeNumber(r, 'minimumOrderMinor', 1, maxMinor);

  const limitPerCustomer = wholeNumber(r, 'limitPerCustomer', 1, MAX_LIMIT);
  let limitPerPeriod: RewardDefinition['limitPerPeriod'] = null;
  const rawPeriod = r.source.limitPerPeriod;
  if (rawPeriod !== undefined && rawPeriod !== null) {
    if (typeof rawPeriod !== 'object' || Array.isArray(rawPeriod)) {
      r.issues.push({ path: 'limitPerPeriod', message: 'must be {count, days}' });
    } else {
      const p = rawPeriod as Record<string, unknown>;
      const count = wholeNumber(r, 'limitPerPeriod.count', 1, MAX_LIMIT, p.count);
      const days = wholeNumber(r, 'limitPerPeriod.days', 1, MAX_PERIOD_DAYS, p.days);
      required(r, 'limitPerPeriod.count', count, 'for a period limit');
      required(r, 'limitPerPeriod.days', days, 'for a period limit');
      if (count !== null && days !== null) limitPerPeriod = { count, days };
    }
  }

  let tiers: string[] | null = null;
  const rawTiers = r.source.tiers;
  if (rawTiers !== undefined && rawTiers !== null) {
    if (
      !Array.isArray(rawTiers) ||
      rawTiers.length === 0 ||
      rawTiers.length > MAX_TIERS ||
      !rawTiers.every((t) => typeof t === 'string' && t.trim() !== '' && t.length <= 60)
    ) {
      r.issues.push({
        path: 'tiers',
        message: `must be null (everyone) or 1–${MAX_TIERS} tier keys or names`,
      });
    } else {
      tiers = [...new Set(rawTiers.map((t: string) => t.trim()))];
    }
  }

  let expiryDays: number | null;
  if (r.source.expiryDays === undefined) {
    expiryDays = type === 'store_credit' ? null : DEFAULT_EXPIRY_DAYS;
  } else {
    expiryDays = wholeNumber(r, 'expiryDays', 1, MAX_EXPIRY_DAYS);
    if (expiryDays === null && type !== 'store_credit') {
      required(r, 'expiryDays', expiryDays, 'for a reward that issues a code');
    }
  }

  const rawRefund = r.source.refundPointsOnExpiry;
  if (rawRefund !== undefined && typeof rawRefund !== 'boolean') {
    r.issues.push({ path: 'refundPointsOnExpiry', message: 'must be true or false' });
  }
  if (rawRefund === true && type === 'store_credit') {
    // Shopify takes expired store credit back itself; Laurel cannot know it was unspent.
    r.issues.push({ path: 'refundPointsOnExpiry', message: 'does not apply to store credit' });
  }
  const combinesWith = readCombinations(r, type);

  if (r.issues.length > 0) throw new RewardError(r.issues);
  return {
    type,
    title,
    pointsCost,
    amountMinor,
    percentage,
    variantId,
    slider,
    minimumOrderMinor,
    limitPerCustomer,
    limitPerPeriod,
    tiers,
    expiryDays,
    refundPointsOnExpiry: rawRefund === true,
    combinesWith,
  };
}

/**
 * The points one redemption of `reward` costs. A fixed-cost reward takes no `requested` points
 * (or exactly its cost); a slider takes the shopper's choice, whole, within min..max, on a step.
 */
export function redemptionPoints(reward: RewardDefinition, requested: unknown): number {
  const fail = (message: string): never => {
    throw new RewardError([{ path: 'points', message }]);
  };
  if (reward.slider === null) {
    if (requested !== undefined && requested !== null && requested !== reward.pointsCost) {
      fail(`this reward costs ${reward.pointsCost} points; points cannot be chosen`);
    }
    return reward.pointsCost!;
  }
  const { minPoints, maxPoints, stepPoints } = reward.slider;
  if (requested === undefined || requested === null) fail('choose how many points to spend');
  if (typeof requested !== 'number' || !Number.isSafeInteger(requested)) {
    fail('must be a whole number of points');
  }
  const points = requested as number;
  if (points < minPoints || points > maxPoints) {
    fail(`must be from ${minPoints} to ${maxPoints}`);
  }
  if ((points - minPoints) % stepPoints !== 0) {
    fail(`must be ${minPoints} plus a multiple of ${stepPoints}`);
  }
  return points;
}

/** What a redemption of `points` issues. `points` must come from {@link redemptionPoints}. */
export function issuedValue(
  reward: RewardDefinition,
  points: number,
  currency: string,
): IssuedValue {
  switch (reward.type) {
    case 'fixed_amount':
      return { kind: 'amount_off_order', amountMinor: reward.amountMinor!, currency };
    case 'points_slider': {
      const slider = reward.slider!;
      // Exact: parseRewardDefinition made min and step whole amounts, so every step is.
      const amountMinor = (points * 10 ** currencyDigits(currency)) / slider.pointsPerUnit;
      return { kind: 'amount_off_order', amountMinor, currency };
    }
    case 'percentage':
      return { kind: 'percentage_off_order', percentage: reward.percentage! };
    case 'free_shipping':
      return { kind: 'free_shipping' };
    case 'free_product':
      return { kind: 'free_product', variantId: reward.variantId! };
    case 'store_credit':
      return { kind: 'store_credit', amountMinor: reward.amountMinor!, currency };
  }
}

/**
 * Whether `member` may redeem `reward` now, for `points` (the cost, or the smallest slider value
 * when not given); the first reason that stops it otherwise. Tier first: a reward not meant for
 * the member should not be shown as "save up for it".
 */
export function rewardAvailability(
  reward: RewardDefinition,
  member: MemberStanding,
  points?: number,
): Availability {
  if (
    reward.tiers !== null &&
    (member.tier === null ||
      !reward.tiers.some((t) => t.toLowerCase() === member.tier!.toLowerCase()))
  ) {
    return { canRedeem: false, reason: 'TIER' };
  }
  if (reward.limitPerCustomer !== null && member.redeemedTotal >= reward.limitPerCustomer) {
    return { canRedeem: false, reason: 'LIMIT_REACHED' };
  }
  if (reward.limitPerPeriod !== null && member.redeemedInPeriod >= reward.limitPerPeriod.count) {
    return { canRedeem: false, reason: 'PERIOD_LIMIT_REACHED' };
  }
  const cost = points ?? reward.pointsCost ?? reward.slider!.minPoints;
  if (member.balance < cost) return { canRedeem: false, reason: 'INSUFFICIENT_BALANCE' };
  return { canRedeem: true };
}

/** When a code issued at `issuedAt` stops working; null: never. */
export function expiryOf(reward: RewardDefinition, issuedAt: Date): Date | null {
  return reward.expiryDays === null
    ? null
    : new Date(issuedAt.getTime() + reward.expiryDays * 86_400_000);
}

// Crockford's base32 without I, L, O, U: nothing a shopper could misread or mistype.
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_RANDOM_BYTES = 12;

/**
 * A discount code from 12 random bytes: `LRL-` and three groups of four characters (60 bits),
 * e.g. `LRL-7KQ2-M9XP-4HTV`. Unguessable enough that trying codes is pointless, short enough to type.
 */
export function generateRewardCode(random: Uint8Array): string {
  if (random.length < CODE_RANDOM_BYTES) {
    throw new RangeError(`generateRewardCode needs ${CODE_RANDOM_BYTES} random bytes`);
  }
  let out = '';
  for (let i = 0; i < 12; i++) out += CODE_ALPHABET[random[i]! & 31];
  return `LRL-${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8, 12)}`;
}
