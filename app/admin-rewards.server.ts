/**
 * The admin's rewards pages (app/routes/app.rewards*.tsx): the reward form's text fields → a
 * reward definition for app/models/rewards.server.ts, the catalog's validation issues → the form
 * field they belong to, and the catalog's rows as the list shows them. Validation itself is loyalty/rewards.ts's; this
 * module only reads what a merchant typed (decimal amounts in the shop currency, whole numbers,
 * empty = not set) and names the field when that fails.
 */
import { formatMinorMoney } from '../loyalty/explain';
import { formatMoney, currencyDigits, MoneyError, parseMoney } from '../loyalty/money';
import {
  DEFAULT_EXPIRY_DAYS,
  parseRewardDefinition,
  REWARD_TYPES,
  RewardError,
  type DiscountCombinations,
  type RewardDefinition,
  type RewardIssue,
  type RewardType,
} from '../loyalty/rewards';
import type { Executor } from '../db/client.server';
import { refusal } from './admin-request.server';
import { ErrorCode, isAppError } from './errors';
import { createReward, reviseReward, type Reward } from './models/rewards.server';
import type { Shop } from './models/shops.server';

// ---------------------------------------------------------------------------------------------
// The reward form

/** What the form holds: text as typed, checkboxes as booleans. */
export interface RewardFormValues {
  type: RewardType;
  title: string;
  pointsCost: string;
  /** fixed_amount / store_credit: a decimal in the shop currency (`5`, `5.50`). */
  amount: string;
  percentage: string;
  /** `gid://shopify/ProductVariant/<n>` or the plain number. */
  variantId: string;
  sliderPointsPerUnit: string;
  sliderMinPoints: string;
  sliderMaxPoints: string;
  sliderStepPoints: string;
  minimumOrder: string;
  limitPerCustomer: string;
  periodCount: string;
  periodDays: string;
  /** Comma separated. */
  tiers: string;
  expiryDays: string;
  refundPointsOnExpiry: boolean;
  combinesOrder: boolean;
  combinesProduct: boolean;
  combinesShipping: boolean;
}

export type RewardField = keyof RewardFormValues;
/** A message per field; `form` for what belongs to no field. */
export type FieldErrors = Partial<Record<RewardField | 'form', string>>;

export const REWARD_TYPE_LABELS: Record<RewardType, string> = {
  fixed_amount: 'Fixed amount off',
  percentage: 'Percentage off',
  free_shipping: 'Free shipping',
  free_product: 'Free product',
  store_credit: 'Store credit',
  points_slider: 'Points slider',
};

export const FIELD_LABELS: Record<RewardField, string> = {
  type: 'Type',
  title: 'Title',
  pointsCost: 'Points cost',
  amount: 'Amount',
  percentage: 'Percentage off',
  variantId: 'Product variant',
  sliderPointsPerUnit: 'Points per currency unit',
  sliderMinPoints: 'Minimum points',
  sliderMaxPoints: 'Maximum points',
  sliderStepPoints: 'Step',
  minimumOrder: 'Minimum order',
  limitPerCustomer: 'Limit per customer',
  periodCount: 'Redemptions per period',
  periodDays: 'Period (days)',
  tiers: 'Tiers',
  expiryDays: 'Code expires after (days)',
  refundPointsOnExpiry: 'Refund points on expiry',
  combinesOrder: 'Combines with order discounts',
  combinesProduct: 'Combines with product discounts',
  combinesShipping: 'Combines with shipping discounts',
};

const COMMON_FIELDS: RewardField[] = [
  'type',
  'title',
  'limitPerCustomer',
  'periodCount',
  'periodDays',
  'tiers',
  'expiryDays',
];
const CODE_FIELDS: RewardField[] = [
  'minimumOrder',
  'refundPointsOnExpiry',
  'combinesOrder',
  'combinesProduct',
  'combinesShipping',
];
const SLIDER_FIELDS: RewardField[] = [
  'sliderPointsPerUnit',
  'sliderMinPoints',
  'sliderMaxPoints',
  'sliderStepPoints',
];

/**
 * The fields each reward type has; the others are not shown, and not sent to the catalog even
 * when a stale value is posted (loyalty/rewards.ts refuses fields that do not apply).
 */
export const FIELDS_BY_TYPE: Record<RewardType, RewardField[]> = {
  fixed_amount: [...COMMON_FIELDS, 'pointsCost', 'amount', ...CODE_FIELDS],
  percentage: [...COMMON_FIELDS, 'pointsCost', 'percentage', ...CODE_FIELDS],
  free_shipping: [...COMMON_FIELDS, 'pointsCost', ...CODE_FIELDS],
  free_product: [...COMMON_FIELDS, 'pointsCost', 'variantId', ...CODE_FIELDS],
  // Store credit is no code: no minimum order, no combinations, nothing to refund on expiry.
  store_credit: [...COMMON_FIELDS, 'pointsCost', 'amount'],
  points_slider: [...COMMON_FIELDS, ...SLIDER_FIELDS, ...CODE_FIELDS],
};

/**
 * The discount combinations loyalty/rewards.ts fills in for each type when none are given, read
 * from it (a minimal definition of each type, parsed) rather than copied here.
 */
export const DEFAULT_COMBINATIONS: Record<RewardType, DiscountCombinations> = (() => {
  const minimal: Record<RewardType, Record<string, unknown>> = {
    fixed_amount: { pointsCost: 1, amountMinor: 1 },
    percentage: { pointsCost: 1, percentage: 1 },
    free_shipping: { pointsCost: 1 },
    free_product: { pointsCost: 1, variantId: 'gid://shopify/ProductVariant/1' },
    store_credit: { pointsCost: 1, amountMinor: 1 },
    points_slider: { slider: { pointsPerUnit: 1, minPoints: 1, maxPoints: 1, stepPoints: 1 } },
  };
  const out = {} as Record<RewardType, DiscountCombinations>;
  for (const type of REWARD_TYPES) {
    out[type] = parseRewardDefinition({ type, title: type, ...minimal[type] }, 'USD').combinesWith;
  }
  return out;
})();

/** A new reward's form: a fixed amount off, codes valid for the catalog's default days. */
export function newRewardForm(type: RewardType = 'fixed_amount'): RewardFormValues {
  const combines = DEFAULT_COMBINATIONS[type];
  return {
    type,
    title: '',
    pointsCost: '',
    amount: '',
    percentage: '',
    variantId: '',
    sliderPointsPerUnit: '',
    sliderMinPoints: '',
    sliderMaxPoints: '',
    sliderStepPoints: '',
    minimumOrder: '',
    limitPerCustomer: '',
    periodCount: '',
    periodDays: '',
    tiers: '',
    expiryDays: type === 'store_credit' ? '' : String(DEFAULT_EXPIRY_DAYS),
    refundPointsOnExpiry: false,
    combinesOrder: combines.orderDiscounts,
    combinesProduct: combines.productDiscounts,
    combinesShipping: combines.shippingDiscounts,
  };
}

const text = (value: number | null | undefined) => (value == null ? '' : String(value));

/** A stored definition as the edit form shows it (amounts as decimals in `currency`). */
export function rewardFormValues(def: RewardDefinition, currency: string): RewardFormValues {
  const money = (minor: number | null) => (minor === null ? '' : formatMoney(minor, currency));
  return {
    type: def.type,
    title: def.title,
    pointsCost: text(def.pointsCost),
    amount: money(def.amountMinor),
    percentage: text(def.percentage),
    variantId: def.variantId ?? '',
    sliderPointsPerUnit: text(def.slider?.pointsPerUnit),
    sliderMinPoints: text(def.slider?.minPoints),
    sliderMaxPoints: text(def.slider?.maxPoints),
    sliderStepPoints: text(def.slider?.stepPoints),
    minimumOrder: money(def.minimumOrderMinor),
    limitPerCustomer: text(def.limitPerCustomer),
    periodCount: text(def.limitPerPeriod?.count),
    periodDays: text(def.limitPerPeriod?.days),
    tiers: def.tiers?.join(', ') ?? '',
    expiryDays: text(def.expiryDays),
    refundPointsOnExpiry: def.refundPointsOnExpiry,
    combinesOrder: def.combinesWith.orderDiscounts,
    combinesProduct: def.combinesWith.productDiscounts,
    combinesShipping: def.combinesWith.shippingDiscounts,
  };
}

export interface ParsedRewardForm {
  values: RewardFormValues;
  /** The definition for createReward/reviseReward; only meaningful when `errors` is empty. */
  definition: Record<string, unknown>;
  /** What could not be read from the text (the catalog has not seen it yet). */
  errors: FieldErrors;
}

const WHOLE = /^[0-9]+$/;
const VARIANT_NUMBER = /^[1-9][0-9]{0,19}$/;

/**
 * Reads a submitted reward form in the shop's `currency`. Text fields are trimmed; an empty one
 * is null (not set); fields the chosen type does not have are left out. Whole numbers and
 * decimal amounts that cannot be read are field errors; everything else — ranges, required
 * fields, the slider's arithmetic — is the catalog's to judge (see {@link issuesToFieldErrors}).
 */
export function parseRewardForm(form: Record<string, unknown>, currency: string): ParsedRewardForm {
  const raw = (name: RewardField) => {
    const value = form[name];
    return typeof value === 'string' ? value.trim() : '';
  };
  const checked = (name: RewardField) => form[name] === 'on' || form[name] === 'true';
  const typeText = raw('type');
  const type = (REWARD_TYPES as readonly string[]).includes(typeText)
    ? (typeText as RewardType)
    : undefined;
  const values: RewardFormValues = {
    type: type ?? 'fixed_amount',
    title: typeof form.title === 'string' ? form.title : '',
    pointsCost: raw('pointsCost'),
    amount: raw('amount'),
    percentage: raw('percentage'),
    variantId: raw('variantId'),
    sliderPointsPerUnit: raw('sliderPointsPerUnit'),
    sliderMinPoints: raw('sliderMinPoints'),
    sliderMaxPoints: raw('sliderMaxPoints'),
    sliderStepPoints: raw('sliderStepPoints'),
    minimumOrder: raw('minimumOrder'),
    limitPerCustomer: raw('limitPerCustomer'),
    periodCount: raw('periodCount'),
    periodDays: raw('periodDays'),
    tiers: raw('tiers'),
    expiryDays: raw('expiryDays'),
    refundPointsOnExpiry: checked('refundPointsOnExpiry'),
    combinesOrder: checked('combinesOrder'),
    combinesProduct: checked('combinesProduct'),
    combinesShipping: checked('combinesShipping'),
  };
  const errors: FieldErrors = {};
  if (!type) {
    errors.type = `${FIELD_LABELS.type} must be one of: ${Object.values(REWARD_TYPE_LABELS).join(', ')}`;
    return { values, definition: {}, errors };
  }
  const has = new Set(FIELDS_BY_TYPE[type]);

  const whole = (field: RewardField): number | null => {
    const value = values[field] as string;
    if (value === '') return null;
    if (!WHOLE.test(value)) {
      errors[field] = `${FIELD_LABELS[field]} must be a whole number`;
      return null;
    }
    const n = Number(value);
    if (!Number.isSafeInteger(n)) {
      errors[field] = `${FIELD_LABELS[field]} is too large`;
      return null;
    }
    return n;
  };
  const money = (field: RewardField): number | null => {
    const value = values[field] as string;
    if (value === '') return null;
    try {
      return parseMoney(value, currency);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      errors[field] = `${FIELD_LABELS[field]} ${error.reason}`;
      return null;
    }
  };

  const definition: Record<string, unknown> = { type, title: values.title };
  if (has.has('pointsCost')) definition.pointsCost = whole('pointsCost');
  if (has.has('amount')) definition.amountMinor = money('amount');
  if (has.has('percentage')) definition.percentage = whole('percentage');
  if (has.has('variantId')) {
    // A plain number is the variant's id as the product page's URL shows it.
    const v = values.variantId;
    definition.variantId =
      v === '' ? null : VARIANT_NUMBER.test(v) ? `gid://shopify/ProductVariant/${v}` : v;
  }
  if (has.has('sliderPointsPerUnit')) {
    const slider = {
      pointsPerUnit: whole('sliderPointsPerUnit'),
      minPoints: whole('sliderMinPoints'),
      maxPoints: whole('sliderMaxPoints'),
      stepPoints: whole('sliderStepPoints'),
    };
    definition.slider = Object.values(slider).every((v) => v === null) ? null : slider;
  }
  if (has.has('minimumOrder')) definition.minimumOrderMinor = money('minimumOrder');
  definition.limitPerCustomer = whole('limitPerCustomer');
  const count = whole('periodCount');
  const days = whole('periodDays');
  definition.limitPerPeriod = count === null && days === null ? null : { count, days };
  const tiers = values.tiers
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  definition.tiers = tiers.length === 0 ? null : tiers;
  definition.expiryDays = whole('expiryDays');
  if (has.has('refundPointsOnExpiry')) {
    definition.refundPointsOnExpiry = values.refundPointsOnExpiry;
  }
  if (has.has('combinesOrder')) {
    definition.combinesWith = {
      orderDiscounts: values.combinesOrder,
      productDiscounts: values.combinesProduct,
      shippingDiscounts: values.combinesShipping,
    };
  }
  return { values, definition, errors };
}

/** Each catalog issue path (loyalty/rewards.ts) → the form field that holds it. */
const FIELD_OF_PATH: Record<string, RewardField> = {
  type: 'type',
  title: 'title',
  pointsCost: 'pointsCost',
  amountMinor: 'amount',
  percentage: 'percentage',
  variantId: 'variantId',
  slider: 'sliderPointsPerUnit',
  'slider.pointsPerUnit': 'sliderPointsPerUnit',
  'slider.minPoints': 'sliderMinPoints',
  'slider.maxPoints': 'sliderMaxPoints',
  'slider.stepPoints': 'sliderStepPoints',
  minimumOrderMinor: 'minimumOrder',
  limitPerCustomer: 'limitPerCustomer',
  limitPerPeriod: 'periodCount',
  'limitPerPeriod.count': 'periodCount',
  'limitPerPeriod.days': 'periodDays',
  tiers: 'tiers',
  expiryDays: 'expiryDays',
  refundPointsOnExpiry: 'refundPointsOnExpiry',
  combinesWith: 'combinesOrder',
  'combinesWith.orderDiscounts': 'combinesOrder',
  'combinesWith.productDiscounts': 'combinesProduct',
  'combinesWith.shippingDiscounts': 'combinesShipping',
};

/**
 * The catalog's validation issues (AppError VALIDATION `details.issues`) as messages beside the
 * fields: `Percentage off must be a whole number from 1 to 100`. The catalog speaks of minor
 * units; the form of amounts in the shop currency, so money messages are said in its terms. An
 * issue no field holds goes to `form`. The first message of a field wins.
 */
export function issuesToFieldErrors(
  issues: readonly RewardIssue[],
  currency: string,
  errors: FieldErrors = {},
): FieldErrors {
  const out: FieldErrors = { ...errors };
  for (const issue of issues) {
    const field = FIELD_OF_PATH[issue.path];
    if (!field) {
      const line = issue.path ? `${issue.path} ${issue.message}` : issue.message;
      out.form = out.form ? `${out.form}; ${line}` : line;
      continue;
    }
    if (out[field]) continue;
    let message = issue.message;
    if (field === 'amount' || field === 'minimumOrder') {
      if (message.startsWith('is required')) message = 'is required';
      else if (message.startsWith('must be a whole number')) {
        message = `must be more than ${formatMoney(0, currency)} ${currency}`;
      }
    }
    out[field] = `${FIELD_LABELS[field]} ${message}`;
  }
  return out;
}

/** The issues of a catalog VALIDATION error, or undefined for any other error. */
export function validationIssues(error: unknown): RewardIssue[] | undefined {
  if (!isAppError(error, ErrorCode.VALIDATION)) return undefined;
  const issues = error.details.issues;
  return Array.isArray(issues) ? (issues as RewardIssue[]) : [{ path: '', message: error.message }];
}

export type SaveOutcome =
  { saved: true; reward: Reward } | { saved: false; values: RewardFormValues; errors: FieldErrors };

/**
 * The reward form's action: a new reward (`rewardId` null) or a new version of one. What the
 * form's text cannot say is reported with everything else the catalog finds wrong, so the
 * merchant sees every problem at once; nothing is saved then. Not found is thrown (a 404).
 */
export async function saveRewardForm(
  db: Executor,
  shop: Pick<Shop, 'id' | 'currency'>,
  rewardId: number | null,
  form: Record<string, unknown>,
): Promise<SaveOutcome> {
  const parsed = parseRewardForm(form, shop.currency);
  if (Object.keys(parsed.errors).length > 0) {
    let errors = parsed.errors;
    if (!parsed.errors.type) {
      try {
        parseRewardDefinition(parsed.definition, shop.currency);
      } catch (error) {
        if (!(error instanceof RewardError)) throw error;
        errors = issuesToFieldErrors(error.issues, shop.currency, parsed.errors);
      }
    }
    return { saved: false, values: parsed.values, errors };
  }
  try {
    const reward =
      rewardId === null
        ? await createReward(db, shop.id, parsed.definition)
        : await reviseReward(db, shop.id, rewardId, parsed.definition);
    return { saved: true, reward };
  } catch (error) {
    const issues = validationIssues(error);
    if (!issues) throw isAppError(error) ? refusal(error) : error;
    return {
      saved: false,
      values: parsed.values,
      errors: issuesToFieldErrors(issues, shop.currency),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Display

/** `$5.00`, `¥500`, `KWD 1.500`: minor units with the currency's symbol and its digits, exactly. */
export function displayMoney(minor: number, currency: string): string {
  return formatMinorMoney(minor, currency, 'en');
}

const integer = new Intl.NumberFormat('en-US');
const points = (n: number) => `${integer.format(n)} ${n === 1 ? 'point' : 'points'}`;

/** What one redemption gives, in words: `$5.00 off`, `10% off`, `1 × variant 123`. */
export function rewardValueText(def: RewardDefinition, currency: string): string {
  switch (def.type) {
    case 'fixed_amount':
      return `${displayMoney(def.amountMinor!, currency)} off`;
    case 'percentage':
      return `${def.percentage}% off`;
    case 'free_shipping':
      return 'Free shipping';
    case 'free_product':
      return `1 × variant ${def.variantId!.replace('gid://shopify/ProductVariant/', '')}`;
    case 'store_credit':
      return `${displayMoney(def.amountMinor!, currency)} store credit`;
    case 'points_slider': {
      const s = def.slider!;
      const per = (p: number) => (p * 10 ** currencyDigits(currency)) / s.pointsPerUnit;
      return `${displayMoney(per(s.minPoints), currency)}–${displayMoney(per(s.maxPoints), currency)} off`;
    }
  }
}

/** One row of the catalog page. */
export interface RewardRow {
  id: number;
  title: string;
  type: string;
  cost: string;
  value: string;
  limits: string;
  expiry: string;
  archived: boolean;
  version: number;
}

export function rewardRow(reward: Reward, currency: string): RewardRow {
  const def = reward.definition;
  const cost = def.slider
    ? `${integer.format(def.slider.minPoints)}–${points(def.slider.maxPoints)}, step ${integer.format(def.slider.stepPoints)} (${points(def.slider.pointsPerUnit)} = ${displayMoney(10 ** currencyDigits(currency), currency)})`
    : points(def.pointsCost!);
  const limits = [
    def.limitPerCustomer !== null && `${def.limitPerCustomer} per customer`,
    def.limitPerPeriod !== null &&
      `${def.limitPerPeriod.count} per ${def.limitPerPeriod.days} ${def.limitPerPeriod.days === 1 ? 'day' : 'days'}`,
    def.minimumOrderMinor !== null && `min. order ${displayMoney(def.minimumOrderMinor, currency)}`,
    def.tiers !== null && `tiers: ${def.tiers.join(', ')}`,
  ].filter((x): x is string => typeof x === 'string');
  const expiry =
    def.expiryDays === null
      ? 'Never'
      : `${def.expiryDays} ${def.expiryDays === 1 ? 'day' : 'days'}${def.refundPointsOnExpiry ? ', points back if unused' : ''}`;
  return {
    id: reward.id,
    title: def.title,
    type: REWARD_TYPE_LABELS[def.type],
    cost,
    value: rewardValueText(def, currency),
    limits: limits.length > 0 ? limits.join(' · ') : 'No limit',
    expiry,
    archived: reward.archivedAt !== null,
    version: reward.version,
  };
}
