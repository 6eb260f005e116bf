/**
 * VIP tiers: the merchant's tier program (JSON, versioned like earn programs) and the pure rules
 * that place a member in a tier. Rules: docs/tiers.md.
 *
 * A member's standing is derived from facts, as order settlement is: the activity in the window
 * (signed values at business times), the tier they hold and until when it is protected, and the
 * clock. {@link evaluateTier} returns the tier they should hold and, when it differs, the change
 * with its reason — the same answer whichever order the facts arrived in, and nothing new when
 * nothing changed (the evaluation is idempotent).
 *
 * Retention: reaching a tier holds it for the rest of the window that qualified it — the calendar
 * year for `calendar_year`; until the qualifying activity leaves the window for
 * `rolling_12_months`; for `lifetime`, until a reversal takes the member below. After that comes
 * the grace period (`graceDays`, local calendar days); only then does the member move down.
 */
import { z } from 'zod';
import { isRecord, schemaIssues } from './definition-issues';
import { formatMinorMoney } from './explain';
import { isKnownCurrency, MoneyError, parseMoney } from './money';
import { addZonedDays, addZonedMonths, wallTimeOf, zonedYearStart } from './time';

export type TierMetric = 'points' | 'spend' | 'orders';
export type TierWindow = 'lifetime' | 'calendar_year' | 'rolling_12_months';

export const TIER_METRICS: readonly TierMetric[] = ['points', 'spend', 'orders'];
export const TIER_WINDOWS: readonly TierWindow[] = [
  'lifetime',
  'calendar_year',
  'rolling_12_months',
];

/** What reaching a tier gives once (per member, per tier, ever). */
export interface TierEntryReward {
  points: number;
}

export interface TierLevelDefinition {
  /** Stable id: `[a-z0-9-]`, 1–32 characters. Tags, metafields, windows and ledger entries name it. */
  key: string;
  name: string;
  /**
   * Entry threshold on the program's metric: money as decimal text in the program currency for
   * `spend` ("1000.00"), a whole number for `points` and `orders`.
   */
  threshold: string | number;
  /** Earn multiplier as decimal text, 1–10 with up to 4 decimals ("1.5"). Default "1". */
  multiplier?: string;
  entryReward?: TierEntryReward;
  /** Free shipping for members of this tier (a Shopify automatic discount for the tier's segment). */
  freeShipping?: boolean;
}

export interface TierProgramDefinition {
  metric: TierMetric;
  window: TierWindow;
  /** ISO 4217; required for `spend` (thresholds are in it), must be the shop's currency. */
  currency?: string;
  /** Days a member keeps a tier after its protection ends before moving down. Default 30. */
  graceDays?: number;
  /** Customer tag prefix: `laurel-tier-` + key. Default "laurel-tier-". */
  tagPrefix?: string;
  /** Lowest first; thresholds strictly increasing. */
  tiers: TierLevelDefinition[];
}

export interface CompiledTier {
  key: string;
  name: string;
  /** 0 = lowest tier. */
  rank: number;
  /** Minor units (spend), points or orders. */
  threshold: number;
  /** 10000 = ×1. */
  multiplierBps: number;
  entryPoints: number;
  freeShipping: boolean;
  /** The customer tag members of this tier carry. */
  tag: string;
}

export interface CompiledTierProgram {
  metric: TierMetric;
  window: TierWindow;
  /** Set for spend (and for the others when the definition names one). */
  currency: string | null;
  graceDays: number;
  tagPrefix: string;
  tiers: readonly CompiledTier[];
  /** The normalised definition (defaults filled in): what a tier program version stores. */
  definition: TierProgramDefinition;
}

export interface TierIssue {
  path: string;
  message: string;
}

export class TierProgramError extends Error {
  readonly issues: TierIssue[];
  constructor(issues: TierIssue[]) {
    super(
      `invalid tier program:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'TierProgramError';
    this.issues = issues;
  }
}

export const DEFAULT_GRACE_DAYS = 30;
export const DEFAULT_TAG_PREFIX = 'laurel-tier-';
export const MAX_TIERS = 10;
const MAX_GRACE_DAYS = 730;
const MAX_COUNT_THRESHOLD = 1_000_000_000;
const MAX_ENTRY_POINTS = 1_000_000;
const TIER_KEY = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
// Shopify tags: up to 255 characters; keep the prefix short and plain so segments can match it.
const TAG_PREFIX = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const MULTIPLIER = /^(\d{1,2})(?:\.(\d{1,4}))?$/;

const tierSchema = z.strictObject({
  key: z.string({ error: 'must be text' }),
  name: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'must not be empty')
    .max(60, 'must be at most 60 characters'),
  threshold: z.union([z.string(), z.number()], { error: 'must be a number or a decimal amount' }),
  multiplier: z.string({ error: 'must be decimal text such as "1.5"' }).optional(),
  entryReward: z
    .strictObject(
      {
        points: z
          .number({ error: 'must be a number' })
          .int('must be a whole number')
          .min(0, 'must not be negative')
          .max(MAX_ENTRY_POINTS, `must be at most ${MAX_ENTRY_POINTS}`),
      },
      { error: 'must be an object such as {"points": 100}' },
    )
    .optional(),
  freeShipping: z.boolean({ error: 'must be true or false' }).optional(),
});

const programSchema = z.strictObject({
  metric: z.enum(['points', 'spend', 'orders'], {
    error: 'must be "points", "spend" or "orders"',
  }),
  window: z.enum(['lifetime', 'calendar_year', 'rolling_12_months'], {
    error: 'must be "lifetime", "calendar_year" or "rolling_12_months"',
  }),
  currency: z.string({ error: 'must be an ISO 4217 code such as "USD"' }).optional(),
  graceDays: z
    .number({ error: 'must be a number' })
    .int('must be a whole number of days')
    .min(0, 'must not be negative')
    .max(MAX_GRACE_DAYS, `must be at most ${MAX_GRACE_DAYS} days`)
    .optional(),
  tagPrefix: z.string({ error: 'must be text' }).optional(),
  tiers: z
    .array(tierSchema, { error: 'must be a list of tiers' })
    .min(1, 'needs at least one tier')
    .max(MAX_TIERS, `may have at most ${MAX_TIERS} tiers`),
});

/** "1.5" → 15000 basis points; null when not a multiplier in 1–10 with ≤ 4 decimals. */
export function parseMultiplier(text: string): number | null {
  const m = MULTIPLIER.exec(text);
  if (!m) return null;
  const bps = Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
  return bps >= 10_000 && bps <= 100_000 ? bps : null;
}

/** 15000 → "1.5". */
export function formatMultiplier(bps: number): string {
  const whole = Math.floor(bps / 10_000);
  const frac = String(bps % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '');
  return frac === '' ? String(whole) : `${whole}.${frac}`;
}

/**
 * Validates a tier program (already JSON-parsed) against the shop (`shopCurrency`) and compiles it.
 * Throws {@link TierProgramError} listing every problem with its path, e.g.
 * `tiers[2].threshold: must be above Silver's (250.00): list tiers from lowest to highest`.
 */
export function parseTierProgram(
  json: unknown,
  options: { shopCurrency: string },
): CompiledTierProgram {
  const issues: TierIssue[] = [];
  const parsed = programSchema.safeParse(json);
  if (!parsed.success) issues.push(...schemaIssues(parsed.error));
  const raw = isRecord(json) ? json : {};
  const metric = raw.metric;
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
        message: `must be the shop's currency (${options.shopCurrency}): spend is counted in it`,
      });
    } else currency = raw.currency;
  } else if (metric === 'spend') {
    issues.push({ path: 'currency', message: 'is required when the metric is "spend"' });
  }
  const tagPrefix = typeof raw.tagPrefix === 'string' ? raw.tagPrefix : DEFAULT_TAG_PREFIX;
  if (!TAG_PREFIX.test(tagPrefix)) {
    issues.push({
      path: 'tagPrefix',
      message:
        'must be 1–40 lower-case letters, digits, "-" or "_", starting with a letter or digit',
    });
  }

  const rawTiers = Array.isArray(raw.tiers) ? raw.tiers : [];
  const tiers: CompiledTier[] = [];
  const keys = new Map<string, number>();
  const names = new Map<string, number>();
  let previous: { threshold: number; name: string; text: string } | null = null;
  rawTiers.forEach((tier: unknown, i) => {
    if (!isRecord(tier)) return;
    const at = `tiers[${i}]`;
    const key = typeof tier.key === 'string' ? tier.key : undefined;
    if (key !== undefined) {
      if (!TIER_KEY.test(key)) {
        issues.push({
          path: `${at}.key`,
          message: 'must be 1–32 lower-case letters, digits or "-" (e.g. "gold")',
        });
      } else if (keys.has(key)) {
        issues.push({ path: `${at}.key`, message: `'${key}' is already tiers[${keys.get(key)}]` });
      } else keys.set(key, i);
    }
    const name = typeof tier.name === 'string' ? tier.name.trim() : undefined;
    if (name) {
      const folded = name.toLowerCase();
      if (names.has(folded))
        issues.push({
          path: `${at}.name`,
          message: `'${name}' is already tiers[${names.get(folded)}]`,
        });
      else names.set(folded, i);
    }
    let threshold: number | undefined;
    const t = tier.threshold;
    if (metric === 'spend') {
      if (typeof t !== 'string') {
        if (t !== undefined)
          issues.push({
            path: `${at}.threshold`,
            message: 'must be a decimal amount as text, e.g. "1000.00"',
          });
      } else if (currency !== null) {
        try {
          threshold = parseMoney(t, currency);
        } catch (error) {
          if (!(error instanceof MoneyError)) throw error;
          issues.push({ path: `${at}.threshold`, message: `'${t}' ${error.reason}` });
        }
      }
    } else if (metric === 'points' || metric === 'orders') {
      if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || t > MAX_COUNT_THRESHOLD) {
        if (t !== undefined)
          issues.push({
            path: `${at}.threshold`,
            message: `must be a whole number from 0 to ${MAX_COUNT_THRESHOLD} of ${metric}`,
          });
      } else threshold = t;
    }
    if (threshold !== undefined && previous && threshold <= previous.threshold) {
      issues.push({
        path: `${at}.threshold`,
        message: `must be above ${previous.name}'s (${previous.text}): list tiers from lowest to highest, each threshold higher than the last`,
      });
    }
    let multiplierBps = 10_000;
    if (typeof tier.multiplier === 'string') {
      const bps = parseMultiplier(tier.multiplier);
      if (bps === null)
        issues.push({
          path: `${at}.multiplier`,
          message: `'${tier.multiplier}' must be a number from 1 to 10 with at most 4 decimals`,
        });
      else multiplierBps = bps;
    }
    if (threshold !== undefined && key !== undefined && name) {
      tiers.push({
        key,
        name,
        rank: tiers.length,
        threshold,
        multiplierBps,
        entryPoints:
          isRecord(tier.entryReward) && typeof tier.entryReward.points === 'number'
            ? tier.entryReward.points
            : 0,
        freeShipping: tier.freeShipping === true,
        tag: `${tagPrefix}${key}`,
      });
      previous = { threshold, name, text: typeof t === 'string' ? t : String(t) };
    }
  });

  if (issues.length > 0 || !parsed.success) {
    throw new TierProgramError(
      issues.length > 0 ? issues : [{ path: '', message: 'is not a valid tier program' }],
    );
  }
  const data = parsed.data;
  const definition: TierProgramDefinition = {
    metric: data.metric,
    window: data.window,
    ...(currency !== null ? { currency } : {}),
    graceDays: data.graceDays ?? DEFAULT_GRACE_DAYS,
    tagPrefix,
    tiers: data.tiers.map((tier) => ({
      key: tier.key,
      name: tier.name,
      threshold: tier.threshold,
      multiplier: formatMultiplier(parseMultiplier(tier.multiplier ?? '1')!),
      ...(tier.entryReward && tier.entryReward.points > 0 ? { entryReward: tier.entryReward } : {}),
      freeShipping: tier.freeShipping ?? false,
    })),
  };
  return {
    metric: data.metric,
    window: data.window,
    currency,
    graceDays: definition.graceDays!,
    tagPrefix,
    tiers,
    definition,
  };
}

// ---------------------------------------------------------------------------------------------
// Windows and metrics

/** One fact that moves a metric: +amount of an order, −a refund, +points of an award… */
export interface TierActivity {
  /** Business time (epoch ms) the value counts at. */
  at: number;
  /** Signed: minor units (spend), points, or orders (±1). */
  value: number;
}

/** Months an activity counts for in a `rolling_12_months` window. */
const ROLLING_MONTHS = 12;
/** More than any DST shift or month-end clamp moves "12 months later" by (one day at most). */
const ROLLING_MARGIN_MS = 3 * 86_400_000;

/**
 * When an activity stops counting in a rolling window: the same wall-clock time 12 calendar months
 * later in `tz` (the day clamped to the month's end: Feb 29 → Feb 28). Defining the window by each
 * activity's own end makes {@link qualifiedUntil} exact — at that instant the activity has left.
 */
export function rollingActivityEnd(at: number, tz: string): number {
  return addZonedMonths(at, ROLLING_MONTHS, tz);
}

/**
 * The first instant whose activity counts at `now` (−Infinity for lifetime). For rolling windows
 * this is 12 months before `now` on the wall clock: activity later than it counts, except within a
 * day of it, where {@link rollingActivityEnd} decides.
 */
export function windowStart(window: TierWindow, now: number, tz: string): number {
  switch (window) {
    case 'lifetime':
      return Number.NEGATIVE_INFINITY;
    case 'calendar_year':
      return zonedYearStart(wallTimeOf(now, tz).year, tz);
    case 'rolling_12_months':
      return addZonedMonths(now, -ROLLING_MONTHS, tz);
  }
}

/**
 * The earliest business time whose activity can count at `now`: what a loader must read from
 * (−Infinity: everything). A little earlier than {@link windowStart} for rolling windows.
 */
export function activityNeededFrom(window: TierWindow, now: number, tz: string): number {
  const start = windowStart(window, now, tz);
  return window === 'rolling_12_months' ? start - ROLLING_MARGIN_MS : start;
}

/** Whether an activity at `at` counts at `now`: it has happened and its window has not moved past it. */
function counts(window: TierWindow, at: number, start: number, now: number, tz: string): boolean {
  if (at > now) return false;
  if (window !== 'rolling_12_months') return at >= start;
  // Far from the window's start the comparison with it is exact; near it, the activity's own end.
  if (at > start + ROLLING_MARGIN_MS) return true;
  if (at < start - ROLLING_MARGIN_MS) return false;
  return now < rollingActivityEnd(at, tz);
}

/**
 * Sum of the activity that counts at `now`: calendar year — from the year's first instant; rolling
 * — each activity until {@link rollingActivityEnd}; both up to and including `now`.
 */
export function metricValue(
  window: TierWindow,
  activity: readonly TierActivity[],
  now: number,
  tz: string,
): number {
  const start = windowStart(window, now, tz);
  let sum = 0;
  for (const a of activity) if (counts(window, a.at, start, now, tz)) sum += a.value;
  return sum;
}

/**
 * Until when, with no new activity, the window keeps `threshold` met (null: it never stops, e.g. a
 * lifetime window or a threshold of 0). Calendar year: the start of the next year. Rolling: the
 * moment the activity that keeps the sum at the threshold leaves the window.
 */
export function qualifiedUntil(
  window: TierWindow,
  activity: readonly TierActivity[],
  threshold: number,
  now: number,
  tz: string,
): number | null {
  if (threshold <= 0) return null;
  switch (window) {
    case 'lifetime':
      return null;
    case 'calendar_year':
      return zonedYearStart(wallTimeOf(now, tz).year + 1, tz);
    case 'rolling_12_months': {
      const start = windowStart(window, now, tz);
      // Activity leaves in the order it happened (its end is monotone in its time).
      const inWindow = activity
        .filter((a) => counts(window, a.at, start, now, tz))
        .sort((a, b) => a.at - b.at);
      let sum = inWindow.reduce((s, a) => s + a.value, 0);
      for (let i = 0; i < inWindow.length; i++) {
        const a = inWindow[i]!;
        sum -= a.value;
        // Activity at the same instant leaves together.
        if (i + 1 < inWindow.length && inWindow[i + 1]!.at === a.at) continue;
        if (sum < threshold) return rollingActivityEnd(a.at, tz);
      }
      return null;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** What Laurel holds for a member (customer_tiers), or nothing yet. */
export interface TierStanding {
  /** Null: no tier (below the lowest threshold). */
  tierKey: string | null;
  /**
   * Until when the current tier is protected without further activity (null: for as long as it
   * qualifies). The grace period starts here.
   */
  heldUntil: number | null;
}

export type TierChangeDirection = 'up' | 'down';

/** Why a member moved: structured, so the ledger entry explains itself in any locale. */
export interface TierChangeReason {
  metric: TierMetric;
  window: TierWindow;
  /** The metric's value over the window when the change was decided. */
  value: number;
  /** Up: the threshold reached. Down: the threshold of the tier left, no longer met. */
  threshold: number;
  /** Calendar year the window covers (calendar_year windows). */
  year: number | null;
  /** Down: when the protection ended and when the grace period ended (epoch ms). */
  heldUntil: number | null;
  graceEndedAt: number | null;
  currency: string | null;
}

export interface TierChange {
  from: string | null;
  to: string | null;
  direction: TierChangeDirection;
  reason: TierChangeReason;
}

export interface TierEvaluation {
  value: number;
  /** The highest tier the window meets now. */
  qualifying: CompiledTier | null;
  /** The tier the member holds after this evaluation. */
  tier: CompiledTier | null;
  /** Store this as the standing's heldUntil. */
  heldUntil: number | null;
  /** When the member will move down if nothing else happens (null: not scheduled). */
  downgradeAt: number | null;
  change: TierChange | null;
}

export function tierByKey(program: CompiledTierProgram, key: string | null): CompiledTier | null {
  if (key === null) return null;
  return program.tiers.find((t) => t.key === key) ?? null;
}

/** The highest tier whose threshold `value` meets. */
export function qualifyingTier(program: CompiledTierProgram, value: number): CompiledTier | null {
  let found: CompiledTier | null = null;
  for (const tier of program.tiers) if (value >= tier.threshold) found = tier;
  return found;
}

const rankOf = (tier: CompiledTier | null) => (tier === null ? -1 : tier.rank);

/**
 * The tier a member should hold at `now`, from their activity (for the program's metric) and what
 * they hold. A standing whose tier is not in this program (renamed or removed by a new version)
 * counts as no tier. Idempotent: evaluating the result again at the same `now` changes nothing.
 */
export function evaluateTier(
  program: CompiledTierProgram,
  activity: readonly TierActivity[],
  standing: TierStanding | null,
  now: number,
  tz: string,
): TierEvaluation {
  const value = metricValue(program.window, activity, now, tz);
  const qualifying = qualifyingTier(program, value);
  const current = tierByKey(program, standing?.tierKey ?? null);
  const year = program.window === 'calendar_year' ? wallTimeOf(now, tz).year : null;
  const held = (tier: CompiledTier | null) =>
    tier === null ? null : qualifiedUntil(program.window, activity, tier.threshold, now, tz);
  const reason = (threshold: number, extra: Partial<TierChangeReason> = {}): TierChangeReason => ({
    metric: program.metric,
    window: program.window,
    value,
    threshold,
    year,
    heldUntil: null,
    graceEndedAt: null,
    currency: program.currency,
    ...extra,
  });

  if (rankOf(qualifying) >= rankOf(current)) {
    const heldUntil = held(qualifying);
    const moved = rankOf(qualifying) > rankOf(current);
    return {
      value,
      qualifying,
      tier: qualifying,
      heldUntil,
      downgradeAt: null,
      change: moved
        ? {
            // A tier the program no longer has is still what the member moved from.
            from: standing?.tierKey ?? null,
            to: qualifying!.key,
            direction: 'up',
            reason: reason(qualifying!.threshold),
          }
        : // A tier that vanished from the program and nothing to replace it: still a change.
          standing?.tierKey && current === null && qualifying === null
          ? { from: standing.tierKey, to: null, direction: 'down', reason: reason(0) }
          : null,
    };
  }

  // Below the tier held: protected until heldUntil, then the grace period.
  const protectedUntil = standing?.heldUntil ?? now;
  const downgradeAt = addZonedDays(protectedUntil, program.graceDays, tz);
  if (now < downgradeAt) {
    return {
      value,
      qualifying,
      tier: current,
      heldUntil: protectedUntil,
      downgradeAt,
      change: null,
    };
  }
  return {
    value,
    qualifying,
    tier: qualifying,
    heldUntil: held(qualifying),
    downgradeAt: null,
    change: {
      from: current!.key,
      to: qualifying?.key ?? null,
      direction: 'down',
      reason: reason(current!.threshold, { heldUntil: protectedUntil, graceEndedAt: downgradeAt }),
    },
  };
}

/** "How far to the next tier", for the storefront: "$180.00 more to Gold". */
export interface TierProgress {
  current: { key: string; name: string } | null;
  next: { key: string; name: string; threshold: number } | null;
  value: number;
  /** What is still missing to reach `next` (0 when next is null). */
  remaining: number;
}

export function tierProgress(
  program: CompiledTierProgram,
  tierKey: string | null,
  value: number,
): TierProgress {
  const current = tierByKey(program, tierKey);
  const next = program.tiers.find((t) => t.rank > rankOf(current) && t.threshold > value) ?? null;
  return {
    current: current && { key: current.key, name: current.name },
    next: next && { key: next.key, name: next.name, threshold: next.threshold },
    value,
    remaining: next ? next.threshold - value : 0,
  };
}

/** A metric amount as a shopper reads it: "$1,000.00", "1,000 points", "5 orders" (English). */
export function formatMetric(metric: TierMetric, amount: number, currency: string | null): string {
  if (metric === 'spend' && currency) return formatMinorMoney(amount, currency, 'en');
  const n = amount.toLocaleString('en-US');
  if (metric === 'points') return `${n} ${Math.abs(amount) === 1 ? 'point' : 'points'}`;
  return `${n} ${Math.abs(amount) === 1 ? 'order' : 'orders'}`;
}

/** The sentence a tier change's ledger entry shows (English; explain.ts localises from `reason`). */
export function describeTierChange(change: TierChange, names: ReadonlyMap<string, string>): string {
  const r = change.reason;
  const what = formatMetric(r.metric, r.threshold, r.currency);
  const verb = r.metric === 'spend' ? 'spent' : r.metric === 'points' ? 'earned' : 'placed';
  const span =
    r.window === 'calendar_year'
      ? ` in ${r.year}`
      : r.window === 'rolling_12_months'
        ? ' in the last 12 months'
        : '';
  const to = change.to === null ? 'no tier' : (names.get(change.to) ?? change.to);
  // A threshold of 0 (a starting tier, or a tier the program removed) is no reason worth a figure.
  const figure = r.threshold > 0;
  if (change.direction === 'up')
    return figure ? `Reached ${to}: ${what} ${verb}${span}` : `Reached ${to}`;
  const from = change.from === null ? 'no tier' : (names.get(change.from) ?? change.from);
  const head = `Moved from ${from} to ${to}`;
  return figure ? `${head}: below ${what} ${verb}${span} after the grace period` : head;
}

/** The multiplier a member's tier gives on earn (recorded on the award; see loyalty/earn.ts). */
export function tierMultiplier(
  tier: Pick<CompiledTier, 'key' | 'multiplierBps'> | null | undefined,
  tierVersion: number,
): { source: 'tier'; id: string; factorBps: number } | null {
  if (!tier || tier.multiplierBps === 10_000) return null;
  return { source: 'tier', id: `${tier.key}@v${tierVersion}`, factorBps: tier.multiplierBps };
}
