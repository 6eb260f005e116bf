/**
 * The referrals page's settings form (app/routes/app.referrals.tsx): the form's values ↔ a referral
 * program definition, the rules' issues → the field they belong to, and Save — a new version, then
 * the referral code sync asked for. docs/admin.md, "Referrals"; the rules: docs/referrals.md.
 *
 * The rules are loyalty/referrals.ts's (parseReferralProgram); this module only reads what the
 * merchant typed and names the field when that fails. What happens at Shopify after a save (the
 * friend discount's value, minimum and codes) is the referral code sync's, asked for through
 * `requestSync` (enqueueReferralSync).
 */
import type { Executor } from '../db/client.server';
import { formatMoney } from '../loyalty/money';
import {
  DEFAULT_CODE_PREFIX,
  DEFAULT_IP_LIMIT,
  DEFAULT_REFERRER_LIMIT,
  DEFAULT_REVERSAL_WINDOW_DAYS,
  DEFAULT_RULE_ACTIONS,
  REFERRAL_RULES,
  type ReferralIssue,
  type ReferralProgramDefinition,
  type ReferralRule,
  type RuleAction,
} from '../loyalty/referrals';
import { AppError, ErrorCode, isAppError } from './errors';
import { compileReferralProgram, publishReferralProgram } from './models/referral-programs.server';
import type { Shop } from './models/shops.server';

export interface ReferralFormValues {
  enabled: boolean;
  discountKind: 'percentage' | 'amount';
  /** Whole percent, or a decimal amount in the shop currency. */
  discountValue: string;
  /** Decimal amount; empty: no minimum for the friend's code. */
  friendMinimum: string;
  referrerPoints: string;
  /** Decimal amount; empty: any order. */
  minimumOrder: string;
  reversalWindowDays: string;
  referrerLimitCount: string;
  referrerLimitDays: string;
  ipLimitCount: string;
  ipLimitDays: string;
  rules: Record<ReferralRule, RuleAction>;
  codePrefix: string;
}

/** Field errors by form field (`discountValue`, `rules.same_email`…) and `form` for the rest. */
export type ReferralFieldErrors = Record<string, string>;

export const FIELD_LABELS: Record<string, string> = {
  enabled: 'Referrals on',
  discountKind: 'Friend discount type',
  discountValue: 'Friend discount',
  friendMinimum: "Friend's minimum order",
  referrerPoints: 'Referrer reward',
  minimumOrder: 'First order minimum',
  reversalWindowDays: 'Reversal window',
  referrerLimitCount: 'Referrals per referrer',
  referrerLimitDays: 'Referrer limit period',
  ipLimitCount: 'Uses per IP address',
  ipLimitDays: 'IP limit period',
  codePrefix: 'Code prefix',
};

/** What each fraud rule checks, as the settings and the list say it. */
export const RULE_LABELS: Record<ReferralRule, string> = {
  same_customer: 'The friend is the referrer',
  same_email: "The friend's email reaches the referrer's mailbox (case, dots, +tags)",
  same_address: 'Same shipping or billing address',
  same_phone: 'Same phone number',
  existing_customer: 'The friend had ordered before',
  referrer_limit: 'Too many referrals from one referrer',
  ip_limit: 'Too many landings or orders from one IP address',
};

/** A stored definition as the form shows it. */
export function referralFormValues(d: Required<ReferralProgramDefinition>): ReferralFormValues {
  const percentage = 'percentage' in d.friendDiscount;
  return {
    enabled: d.enabled,
    discountKind: percentage ? 'percentage' : 'amount',
    discountValue:
      'percentage' in d.friendDiscount
        ? String(d.friendDiscount.percentage)
        : d.friendDiscount.amount,
    friendMinimum: d.friendMinimumOrder ?? '',
    referrerPoints: String(d.referrerReward.points),
    minimumOrder: d.minimumOrder === formatMoney(0, d.currency) ? '' : d.minimumOrder,
    reversalWindowDays: String(d.reversalWindowDays),
    referrerLimitCount: String(d.referrerLimit.count),
    referrerLimitDays: String(d.referrerLimit.periodDays),
    ipLimitCount: String(d.ipLimit.count),
    ipLimitDays: String(d.ipLimit.periodDays),
    rules: { ...DEFAULT_RULE_ACTIONS, ...d.rules },
    codePrefix: d.codePrefix,
  };
}

/**
 * The form for a shop that never set referrals up: off until the merchant turns it on, 10% off
 * for the friend, 500 points for the referrer, the rules' defaults.
 */
export function defaultReferralForm(): ReferralFormValues {
  return {
    enabled: false,
    discountKind: 'percentage',
    discountValue: '10',
    friendMinimum: '',
    referrerPoints: '500',
    minimumOrder: '',
    reversalWindowDays: String(DEFAULT_REVERSAL_WINDOW_DAYS),
    referrerLimitCount: String(DEFAULT_REFERRER_LIMIT.count),
    referrerLimitDays: String(DEFAULT_REFERRER_LIMIT.periodDays),
    ipLimitCount: String(DEFAULT_IP_LIMIT.count),
    ipLimitDays: String(DEFAULT_IP_LIMIT.periodDays),
    rules: { ...DEFAULT_RULE_ACTIONS },
    codePrefix: DEFAULT_CODE_PREFIX,
  };
}

const TEXT_FIELDS = [
  'discountValue',
  'friendMinimum',
  'referrerPoints',
  'minimumOrder',
  'reversalWindowDays',
  'referrerLimitCount',
  'referrerLimitDays',
  'ipLimitCount',
  'ipLimitDays',
  'codePrefix',
] as const;

/**
 * Reads the form's submitted draft (the field `draft`, JSON of {@link ReferralFormValues}). Text
 * that is not the shape the page sends is a 400 (not a field error: the page never sends it).
 */
export function readReferralDraft(text: unknown): ReferralFormValues {
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    raw = undefined;
  }
  const bad = () =>
    new AppError(
      ErrorCode.VALIDATION,
      `draft must be the referral settings' JSON: {enabled, discountKind, ${TEXT_FIELDS.join(', ')}, rules}`,
    );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad();
  const r = raw as Record<string, unknown>;
  if (typeof r.enabled !== 'boolean') throw bad();
  if (r.discountKind !== 'percentage' && r.discountKind !== 'amount') throw bad();
  if (TEXT_FIELDS.some((f) => typeof r[f] !== 'string' || (r[f] as string).length > 100)) {
    throw bad();
  }
  if (typeof r.rules !== 'object' || r.rules === null || Array.isArray(r.rules)) throw bad();
  const given = r.rules as Record<string, unknown>;
  const rules = { ...DEFAULT_RULE_ACTIONS };
  for (const [rule, action] of Object.entries(given)) {
    if (!(REFERRAL_RULES as readonly string[]).includes(rule)) throw bad();
    if (action !== 'hold' && action !== 'reject') throw bad();
    rules[rule as ReferralRule] = action;
  }
  const texts = Object.fromEntries(TEXT_FIELDS.map((f) => [f, r[f] as string])) as Record<
    (typeof TEXT_FIELDS)[number],
    string
  >;
  return { enabled: r.enabled, discountKind: r.discountKind, ...texts, rules };
}

const WHOLE = /^[0-9]{1,9}$/;

export interface ParsedReferralForm {
  /** The definition to publish; only meaningful when `errors` is empty. */
  definition: Record<string, unknown>;
  errors: ReferralFieldErrors;
}

/**
 * The form's values → a referral program definition for the shop's `currency`, and every problem
 * by field: first what the text itself cannot say (a whole number that is not one), then what
 * loyalty/referrals.ts finds wrong, mapped from its paths. Pure: nothing is read or written.
 */
export function parseReferralForm(
  values: ReferralFormValues,
  currency: string,
): ParsedReferralForm {
  const errors: ReferralFieldErrors = {};
  const whole = (field: keyof typeof FIELD_LABELS, unit: string): number | string => {
    const text = (values[field as keyof ReferralFormValues] as string).trim();
    if (!WHOLE.test(text)) {
      errors[field] ??= `${FIELD_LABELS[field]} must be a whole number of ${unit}`;
      return text;
    }
    return Number(text);
  };
  const amount = (text: string) => text.trim();
  const definition: Record<string, unknown> = {
    enabled: values.enabled,
    currency,
    friendDiscount:
      values.discountKind === 'percentage'
        ? { percentage: whole('discountValue', 'percent') }
        : { amount: amount(values.discountValue) },
    friendMinimumOrder: values.friendMinimum.trim() === '' ? null : amount(values.friendMinimum),
    referrerReward: { points: whole('referrerPoints', 'points') },
    ...(values.minimumOrder.trim() === '' ? {} : { minimumOrder: amount(values.minimumOrder) }),
    reversalWindowDays: whole('reversalWindowDays', 'days'),
    referrerLimit: {
      count: whole('referrerLimitCount', 'referrals'),
      periodDays: whole('referrerLimitDays', 'days'),
    },
    ipLimit: { count: whole('ipLimitCount', 'uses'), periodDays: whole('ipLimitDays', 'days') },
    rules: { ...values.rules },
    codePrefix: values.codePrefix.trim().toUpperCase(),
  };
  try {
    compileReferralProgram(definition, currency);
  } catch (error) {
    if (!isAppError(error, ErrorCode.VALIDATION)) throw error;
    Object.assign(errors, issuesToReferralErrors(issuesOf(error), errors));
  }
  return { definition, errors };
}

/** Where each of the rules' paths is shown. */
const PATH_FIELDS: Record<string, string> = {
  enabled: 'enabled',
  friendDiscount: 'discountValue',
  'friendDiscount.percentage': 'discountValue',
  'friendDiscount.amount': 'discountValue',
  friendMinimumOrder: 'friendMinimum',
  referrerReward: 'referrerPoints',
  'referrerReward.points': 'referrerPoints',
  minimumOrder: 'minimumOrder',
  reversalWindowDays: 'reversalWindowDays',
  referrerLimit: 'referrerLimitCount',
  'referrerLimit.count': 'referrerLimitCount',
  'referrerLimit.periodDays': 'referrerLimitDays',
  ipLimit: 'ipLimitCount',
  'ipLimit.count': 'ipLimitCount',
  'ipLimit.periodDays': 'ipLimitDays',
  codePrefix: 'codePrefix',
};

/**
 * The rules' issues (`friendDiscount.amount: '0.00' must be more than zero`) as messages beside
 * the form's fields (`Friend discount '0.00' must be more than zero`). An issue no field holds (the
 * currency, the program as a whole) goes to `form`. The first message of a field wins.
 */
export function issuesToReferralErrors(
  issues: readonly ReferralIssue[],
  errors: ReferralFieldErrors = {},
): ReferralFieldErrors {
  const out: ReferralFieldErrors = { ...errors };
  for (const issue of issues) {
    const field = PATH_FIELDS[issue.path];
    const rule = /^rules\.([a-z_]+)$/.exec(issue.path)?.[1];
    if (field) {
      out[field] ??= `${FIELD_LABELS[field]} ${issue.message}`;
    } else if (rule && (REFERRAL_RULES as readonly string[]).includes(rule)) {
      out[`rules.${rule}`] ??= `${RULE_LABELS[rule as ReferralRule]}: ${issue.message}`;
    } else {
      const line = issue.path ? `${issue.path} ${issue.message}` : issue.message;
      out.form = out.form ? `${out.form}; ${line}` : line;
    }
  }
  return out;
}

function issuesOf(error: AppError): ReferralIssue[] {
  const issues = error.details.issues;
  return Array.isArray(issues)
    ? (issues as ReferralIssue[])
    : [{ path: '', message: error.message }];
}

export type SaveOutcome =
  | { ok: true; version: number; enabled: boolean; sync: string }
  | { ok: false; values: ReferralFormValues; errors: ReferralFieldErrors };

/**
 * The form's Save: the program published as the next version, effective `now`, then the referral
 * code sync asked for (the friend discount's value and minimum, its codes, on or off). Nothing is
 * written when anything is invalid. The version is in force whatever the enqueue does: a failed
 * one is the sync's sweep's to catch, and the page says so.
 */
export async function saveReferralForm(
  db: Executor,
  shop: Shop,
  values: ReferralFormValues,
  requestSync: (shopDomain: string) => Promise<unknown>,
  now: Date = new Date(),
): Promise<SaveOutcome> {
  const parsed = parseReferralForm(values, shop.currency);
  if (Object.keys(parsed.errors).length > 0) return { ok: false, values, errors: parsed.errors };
  let saved;
  try {
    saved = await publishReferralProgram(db, shop.id, parsed.definition, now);
  } catch (error) {
    if (!isAppError(error, ErrorCode.VALIDATION)) throw error;
    return { ok: false, values, errors: issuesToReferralErrors(issuesOf(error)) };
  }
  const enabled = saved.definition.enabled;
  let sync: string;
  try {
    // enqueueReferralSync answers false (or a caller may throw) when the queue is unreachable.
    if ((await requestSync(shop.domain)) === false) throw new Error('not queued');
    sync = enabled
      ? "The friend discount at Shopify follows within seconds; members' codes reach the storefront as Shopify takes them."
      : 'The friend discount at Shopify is turned off within seconds; share links lead to the shop’s home page.';
  } catch {
    sync =
      'The referral sync could not be queued just now: the sweep brings the friend discount at Shopify up to date within minutes.';
  }
  return { ok: true, version: saved.version, enabled, sync };
}
