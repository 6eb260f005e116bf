/**
 * Referrals: the merchant's referral program (JSON, versioned like earn and tier programs), members'
 * codes, and the pure rules that decide what a referred friend's first order does. Rules:
 * docs/referrals.md.
 *
 * Attribution needs no cookie: every member's friend discount is a code of their own, so an order
 * that carries it names the referrer whatever browser or device the friend used. What the order
 * then does — reward the referrer, wait for the merchant's review, or nothing — is
 * {@link referralVerdict} over facts the caller gathered (the two parties' contact fingerprints,
 * the friend's earlier orders, recent referral counts); {@link referralReversal} says whether a
 * refund or cancellation takes the reward back.
 */
import { z } from 'zod';
import { isRecord, schemaIssues } from './definition-issues';
import { formatMinorMoney } from './explain';
import { formatMoney, isKnownCurrency, MoneyError, parseMoney } from './money';

// ---------------------------------------------------------------------------------------------
// The program

/**
 * The fraud rules, each with what it does to a referral it matches (docs/referrals.md, "Fraud
 * rules"): `reject` (never rewarded) or `hold` (the merchant approves or rejects it).
 */
export const REFERRAL_RULES = [
  'same_customer',
  'same_email',
  'same_address',
  'same_phone',
  'existing_customer',
  'referrer_limit',
  'ip_limit',
] as const;
export type ReferralRule = (typeof REFERRAL_RULES)[number];
export type RuleAction = 'hold' | 'reject';

export const DEFAULT_RULE_ACTIONS: Readonly<Record<ReferralRule, RuleAction>> = {
  same_customer: 'reject',
  same_email: 'reject',
  existing_customer: 'reject',
  same_address: 'hold',
  same_phone: 'hold',
  referrer_limit: 'hold',
  ip_limit: 'hold',
};

export interface ReferralLimit {
  /** Referrals allowed in the period; the one after them matches the rule. */
  count: number;
  periodDays: number;
}

/** The friend's welcome discount: a percentage or an amount off their first order. */
export type FriendDiscountDefinition = { percentage: number } | { amount: string };

export interface ReferralProgramDefinition {
  /** False: links lead to the shop's home with no discount, and no order is attributed. */
  enabled: boolean;
  /** ISO 4217, the shop's: every amount below is in it. */
  currency: string;
  friendDiscount: FriendDiscountDefinition;
  /** Minimum order subtotal for the friend's code at checkout (decimal text); null: none. */
  friendMinimumOrder?: string | null;
  /** What the referrer gets once per friend. */
  referrerReward: { points: number };
  /**
   * The friend's first order must reach this subtotal after discounts (the earn amount, decimal
   * text) to reward the referrer. Default "0.00".
   */
  minimumOrder?: string;
  /** A refund or cancellation within this many days of payment takes the reward back. Default 30. */
  reversalWindowDays?: number;
  /** Default: 10 referrals in 30 days. */
  referrerLimit?: ReferralLimit;
  /** Landings or referred orders from one IP address. Default: 5 in 1 day. */
  ipLimit?: ReferralLimit;
  /** What each fraud rule does; unnamed rules keep {@link DEFAULT_RULE_ACTIONS}. */
  rules?: Partial<Record<ReferralRule, RuleAction>>;
  /** Prefix of the friend discount codes: prefix + the member's code. Default "FRIEND-". */
  codePrefix?: string;
}

export type CompiledFriendDiscount =
  { kind: 'percentage'; percentage: number } | { kind: 'amount'; amountMinor: number };

export interface CompiledReferralProgram {
  enabled: boolean;
  currency: string;
  friendDiscount: CompiledFriendDiscount;
  friendMinimumOrderMinor: number | null;
  referrerPoints: number;
  minimumOrderMinor: number;
  reversalWindowDays: number;
  referrerLimit: ReferralLimit;
  ipLimit: ReferralLimit;
  rules: Readonly<Record<ReferralRule, RuleAction>>;
  codePrefix: string;
  /** The normalised definition (defaults filled in): what a referral program version stores. */
  definition: Required<ReferralProgramDefinition>;
}

export interface ReferralIssue {
  path: string;
  message: string;
}

export class ReferralProgramError extends Error {
  readonly issues: ReferralIssue[];
  constructor(issues: ReferralIssue[]) {
    super(
      `invalid referral program:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ReferralProgramError';
    this.issues = issues;
  }
}

export const DEFAULT_REVERSAL_WINDOW_DAYS = 30;
export const DEFAULT_REFERRER_LIMIT: ReferralLimit = { count: 10, periodDays: 30 };
export const DEFAULT_IP_LIMIT: ReferralLimit = { count: 5, periodDays: 1 };
export const DEFAULT_CODE_PREFIX = 'FRIEND-';
const MAX_REFERRER_POINTS = 1_000_000;
const MAX_WINDOW_DAYS = 365;
const MAX_LIMIT_COUNT = 10_000;
// Shopify discount codes: up to 255 characters; the prefix stays short and plain so codes can be typed.
const CODE_PREFIX = /^[A-Z0-9][A-Z0-9_-]{0,15}$|^$/;

const limitSchema = z.strictObject(
  {
    count: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_LIMIT_COUNT, `must be at most ${MAX_LIMIT_COUNT}`),
    periodDays: z
      .number({ error: 'must be a number' })
      .int('must be a whole number of days')
      .min(1, 'must be at least 1 day')
      .max(MAX_WINDOW_DAYS, `must be at most ${MAX_WINDOW_DAYS} days`),
  },
  { error: 'must be an object such as {"count": 10, "periodDays": 30}' },
);

const ruleAction = z.enum(['hold', 'reject'], { error: 'must be "hold" or "reject"' });

const programSchema = z.strictObject({
  enabled: z.boolean({ error: 'must be true or false' }),
  currency: z.string({ error: 'must be an ISO 4217 code such as "USD"' }),
  friendDiscount: z.union(
    [
      z.strictObject({
        percentage: z
          .number({ error: 'must be a number' })
          .int('must be a whole percentage')
          .min(1, 'must be at least 1')
          .max(100, 'must be at most 100'),
      }),
      z.strictObject({ amount: z.string({ error: 'must be a decimal amount as text' }) }),
    ],
    { error: 'must be {"percentage": 10} or {"amount": "10.00"}' },
  ),
  friendMinimumOrder: z.string({ error: 'must be a decimal amount as text' }).nullable().optional(),
  referrerReward: z.strictObject(
    {
      points: z
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(1, 'must be at least 1')
        .max(MAX_REFERRER_POINTS, `must be at most ${MAX_REFERRER_POINTS}`),
    },
    { error: 'must be an object such as {"points": 500}' },
  ),
  minimumOrder: z.string({ error: 'must be a decimal amount as text' }).optional(),
  reversalWindowDays: z
    .number({ error: 'must be a number' })
    .int('must be a whole number of days')
    .min(0, 'must not be negative')
    .max(MAX_WINDOW_DAYS, `must be at most ${MAX_WINDOW_DAYS} days`)
    .optional(),
  referrerLimit: limitSchema.optional(),
  ipLimit: limitSchema.optional(),
  rules: z
    .strictObject(
      Object.fromEntries(REFERRAL_RULES.map((r) => [r, ruleAction.optional()])) as Record<
        ReferralRule,
        z.ZodOptional<typeof ruleAction>
      >,
    )
    .optional(),
  codePrefix: z.string({ error: 'must be text' }).optional(),
});

/**
 * Validates a referral program (already JSON-parsed) for the shop (`shopCurrency`) and compiles
 * it. Throws {@link ReferralProgramError} listing every problem with its path.
 */
export function parseReferralProgram(
  json: unknown,
  options: { shopCurrency: string },
): CompiledReferralProgram {
  const issues: ReferralIssue[] = [];
  const parsed = programSchema.safeParse(json);
  if (!parsed.success) issues.push(...schemaIssues(parsed.error));
  const raw = isRecord(json) ? json : {};
  let currency: string | null = null;
  if (typeof raw.currency === 'string') {
    if (!isKnownCurrency(raw.currency)) {
      issues.push({
        path: 'currency',
        message: `'${raw.currency}' is not an ISO 4217 currency code`,
      });
    } else if (raw.currency !== options.shopCurrency) {
      issues.push({
        path: 'currency',
        message: `must be the shop's currency (${options.shopCurrency}): orders are counted in it`,
      });
    } else currency = raw.currency;
  }
  const money = (path: string, value: unknown, positive: boolean): number | undefined => {
    if (typeof value !== 'string' || currency === null) return undefined;
    try {
      const minor = parseMoney(value, currency);
      if (positive && minor <= 0) {
        issues.push({ path, message: `'${value}' must be more than zero` });
        return undefined;
      }
      return minor;
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      issues.push({ path, message: `'${value}' ${error.reason}` });
      return undefined;
    }
  };
  const discount = isRecord(raw.friendDiscount) ? raw.friendDiscount : {};
  const amountMinor = money('friendDiscount.amount', discount.amount, true);
  const friendMinimumOrderMinor =
    raw.friendMinimumOrder === null || raw.friendMinimumOrder === undefined
      ? null
      : (money('friendMinimumOrder', raw.friendMinimumOrder, false) ?? null);
  const minimumOrderMinor =
    raw.minimumOrder === undefined ? 0 : money('minimumOrder', raw.minimumOrder, false);
  const codePrefix = typeof raw.codePrefix === 'string' ? raw.codePrefix : DEFAULT_CODE_PREFIX;
  if (!CODE_PREFIX.test(codePrefix)) {
    issues.push({
      path: 'codePrefix',
      message:
        'must be empty or 1–16 upper-case letters, digits, "-" or "_", starting with a letter or digit',
    });
  }
  if (
    amountMinor !== undefined &&
    friendMinimumOrderMinor !== null &&
    friendMinimumOrderMinor > 0 &&
    amountMinor > friendMinimumOrderMinor
  ) {
    issues.push({
      path: 'friendDiscount.amount',
      message: `must not exceed the friend's minimum order (${String(raw.friendMinimumOrder)})`,
    });
  }

  if (
    issues.length > 0 ||
    !parsed.success ||
    currency === null ||
    minimumOrderMinor === undefined
  ) {
    throw new ReferralProgramError(
      issues.length > 0 ? issues : [{ path: '', message: 'is not a valid referral program' }],
    );
  }
  const data = parsed.data;
  const friendDiscount: CompiledFriendDiscount =
    'percentage' in data.friendDiscount
      ? { kind: 'percentage', percentage: data.friendDiscount.percentage }
      : { kind: 'amount', amountMinor: amountMinor! };
  const rules = { ...DEFAULT_RULE_ACTIONS, ...definedOnly(data.rules ?? {}) };
  const referrerLimit = data.referrerLimit ?? DEFAULT_REFERRER_LIMIT;
  const ipLimit = data.ipLimit ?? DEFAULT_IP_LIMIT;
  const reversalWindowDays = data.reversalWindowDays ?? DEFAULT_REVERSAL_WINDOW_DAYS;
  return {
    enabled: data.enabled,
    currency,
    friendDiscount,
    friendMinimumOrderMinor,
    referrerPoints: data.referrerReward.points,
    minimumOrderMinor,
    reversalWindowDays,
    referrerLimit,
    ipLimit,
    rules,
    codePrefix,
    definition: {
      enabled: data.enabled,
      currency,
      friendDiscount: data.friendDiscount,
      friendMinimumOrder: data.friendMinimumOrder ?? null,
      referrerReward: { points: data.referrerReward.points },
      minimumOrder: formatMoney(minimumOrderMinor, currency),
      reversalWindowDays,
      referrerLimit,
      ipLimit,
      rules,
      codePrefix,
    },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------
// Codes

/**
 * Code alphabet: upper-case letters and digits without the ones read alike (0/O, 1/I/L), so a
 * code read aloud or retyped from a message survives.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** 31^8 ≈ 8.5 × 10^11 codes: unguessable at any rate the app proxy lets through. */
export const CODE_LENGTH = 8;

/**
 * A new member code from `randomBytes` (at least {@link CODE_LENGTH} × 2 bytes; pass
 * `crypto.randomBytes(16)`). Rejection sampling keeps every character equally likely.
 */
export function generateReferralCode(randomBytes: Uint8Array): string {
  let code = '';
  // 248 = 8 × 31: bytes at or above it would favour the first characters.
  for (const byte of randomBytes) {
    if (byte >= 248) continue;
    code += CODE_ALPHABET[byte % CODE_ALPHABET.length];
    if (code.length === CODE_LENGTH) return code;
  }
  throw new Error(`generateReferralCode needs more random bytes (got ${randomBytes.length})`);
}

/** The friend discount code of a member code under the program's prefix. */
export function friendCodeOf(code: string, codePrefix: string): string {
  return `${codePrefix}${code}`;
}

// ---------------------------------------------------------------------------------------------
// The verdict on a referred order

/** Status of a referral. Rewarded and held ones count as friends joined. */
export type ReferralStatus = 'rewarded' | 'held' | 'rejected' | 'reversed';

/**
 * Why a referral was held or rejected — the rule, what it did, and the evidence in words — and
 * what happened to it since: a merchant's review (`review`, action `approve` or `reject`) or the
 * reversal of its reward (`reversal`).
 */
export interface ReferralReason {
  rule:
    ReferralRule | 'below_minimum' | 'program_disabled' | 'not_first_order' | 'review' | 'reversal';
  action: RuleAction | 'approve';
  detail: string;
}

/** One side of a referral, as fingerprints (already keyed and hashed by the caller). */
export interface ReferralParty {
  customerId: number | null;
  /** {@link matchableEmail} of each address known for them (hashed or not: compared as given). */
  emails: readonly string[];
  addresses: readonly string[];
  phones: readonly string[];
}

export interface ReferralFacts {
  referrer: ReferralParty;
  friend: ReferralParty;
  /** The friend's orders before this one (paid, not cancelled), by account or email. */
  friendEarlierOrders: number;
  /** The friend was referred before (another referral of theirs exists, whatever its status). */
  friendReferredBefore: boolean;
  /** The friend's order's subtotal after discounts (the earn amount), minor units. */
  orderAmountMinor: number;
  /** Referrals attributed to this referrer in the `referrerLimit` period before this one, not rejected. */
  referrerRecentReferrals: number;
  /**
   * Landings and referred orders from the order's IP address in the `ipLimit` period, this one
   * excluded (the larger of the two counts); null when the order states no IP.
   */
  ipRecentUses: number | null;
}

export interface ReferralVerdict {
  status: 'rewarded' | 'held' | 'rejected';
  /** Every rule that matched, rejections first; empty when rewarded. */
  reasons: ReferralReason[];
}

const shared = (a: readonly string[], b: readonly string[]) => a.some((x) => b.includes(x));

/**
 * What a friend's order with a referral code does under `program`: reward the referrer, hold the
 * referral for the merchant, or reject it — with every matching rule's reason. A rule set to
 * `reject` outweighs any `hold`. A disabled program, an order below the minimum and a friend
 * referred before are rejections whatever the rules say.
 */
export function referralVerdict(
  program: CompiledReferralProgram,
  facts: ReferralFacts,
): ReferralVerdict {
  const reasons: ReferralReason[] = [];
  const match = (rule: ReferralRule, detail: string) =>
    reasons.push({ rule, action: program.rules[rule], detail });
  const { referrer, friend } = facts;
  if (!program.enabled) {
    reasons.push({
      rule: 'program_disabled',
      action: 'reject',
      detail: 'the referral program was off when the order was paid',
    });
  }
  if (facts.friendReferredBefore) {
    reasons.push({
      rule: 'not_first_order',
      action: 'reject',
      detail: 'the friend was already referred: each friend counts once',
    });
  }
  if (facts.orderAmountMinor < program.minimumOrderMinor) {
    reasons.push({
      rule: 'below_minimum',
      action: 'reject',
      detail: `the order's ${formatMinorMoney(facts.orderAmountMinor, program.currency, 'en')} is below the ${formatMinorMoney(program.minimumOrderMinor, program.currency, 'en')} minimum`,
    });
  }
  if (referrer.customerId !== null && referrer.customerId === friend.customerId) {
    match('same_customer', 'the friend is the referrer');
  } else {
    if (shared(referrer.emails, friend.emails)) {
      match('same_email', "the friend's email reaches the referrer's mailbox");
    }
    if (shared(referrer.addresses, friend.addresses)) {
      match('same_address', 'the friend ships to an address the referrer uses');
    }
    if (shared(referrer.phones, friend.phones)) {
      match('same_phone', 'the friend gave a phone number the referrer uses');
    }
  }
  if (facts.friendEarlierOrders > 0) {
    match(
      'existing_customer',
      `the friend had ${facts.friendEarlierOrders} earlier order${facts.friendEarlierOrders === 1 ? '' : 's'}`,
    );
  }
  if (facts.referrerRecentReferrals >= program.referrerLimit.count) {
    match(
      'referrer_limit',
      `the referrer already had ${facts.referrerRecentReferrals} referrals in ${program.referrerLimit.periodDays} days (limit ${program.referrerLimit.count})`,
    );
  }
  if (facts.ipRecentUses !== null && facts.ipRecentUses >= program.ipLimit.count) {
    match(
      'ip_limit',
      `${facts.ipRecentUses} referral landings or orders came from the order's IP address in ${program.ipLimit.periodDays} days (limit ${program.ipLimit.count})`,
    );
  }
  reasons.sort((a, b) => (a.action === b.action ? 0 : a.action === 'reject' ? -1 : 1));
  const status =
    reasons.length === 0 ? 'rewarded' : reasons[0]!.action === 'reject' ? 'rejected' : 'held';
  return { status, reasons };
}

/** The order a reward came from, as it stands now. */
export interface ReferredOrderState {
  /** When the order was paid (epoch ms). */
  paidAt: number;
  /** Earn amount when paid, minor units. */
  amountMinor: number;
  /** Its refunds so far, in any order: merchandise refunded (minor units) and when (epoch ms). */
  refunds: readonly { merchandiseMinor: number; at: number }[];
  /** Cancelled at (epoch ms), or null. */
  cancelledAt: number | null;
}

/** Why a reward is taken back, and the moment the order stopped deserving it (epoch ms). */
export interface ReferralReversalVerdict {
  reason: string;
  at: number;
  /** True when the cancellation decided it, false for a refund. */
  cancelled: boolean;
}

/**
 * Whether an order's refund or cancellation takes its referral reward back: only if the order was
 * cancelled, or what is left of it fell below the program's minimum (a full refund always does),
 * within the program's window after payment. The moment it fell below is read from the refunds
 * themselves, so the verdict is the same whatever order they were delivered in. Returns the
 * reason and that moment, or null.
 */
export function referralReversal(
  program: Pick<CompiledReferralProgram, 'reversalWindowDays' | 'minimumOrderMinor' | 'currency'>,
  order: ReferredOrderState,
): ReferralReversalVerdict | null {
  const windowEnds = order.paidAt + program.reversalWindowDays * 86_400_000;
  const candidates: ReferralReversalVerdict[] = [];
  if (order.cancelledAt !== null) {
    candidates.push({ reason: 'the order was cancelled', at: order.cancelledAt, cancelled: true });
  }
  // Refunds only ever lower what is left: the first one that takes it below the minimum decides.
  let left = order.amountMinor;
  for (const refund of [...order.refunds].sort((a, b) => a.at - b.at)) {
    left -= refund.merchandiseMinor;
    if (left <= 0 || left < program.minimumOrderMinor) {
      candidates.push({
        reason:
          left <= 0
            ? 'the order was refunded'
            : `the order was refunded to ${formatMinorMoney(left, program.currency, 'en')}, below the minimum`,
        at: refund.at,
        cancelled: false,
      });
      break;
    }
  }
  const first = candidates.sort((a, b) => a.at - b.at)[0];
  return first !== undefined && first.at <= windowEnds ? first : null;
}
