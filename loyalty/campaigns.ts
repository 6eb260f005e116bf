/**
 * Campaigns: date-windowed multipliers ("Double points weekend") or fixed bonuses per order,
 * optionally limited to some products or collections. Pure: the merchant's definition → a checked
 * campaign (every problem named by its field), which campaigns are in force at an instant, and what
 * they add to one order's award. The spec, with worked examples: docs/campaigns.md.
 *
 * - Window: [startsAt, endsAt) — typed as shop-local date-times, stored as instants. An order
 *   counts when its processedAt is at or after the start and strictly before the end.
 * - Multiplier (factor in basis points, > ×1 and ≤ ×10): on a scoped campaign, only the eligible
 *   share E of the order's amount A is multiplied (loyalty/earn.ts `share`); one floor at the end.
 * - Several multiplier campaigns in force: the one giving the order the most points applies (ties:
 *   the earlier start, then the lower id); they never multiply each other.
 * - Stacking with the tier multiplier, per campaign: `multiply` (tier × campaign) or `best` (the
 *   tier's multiplier or the campaign's, whichever gives the order more points; never both).
 * - Bonus campaigns: every one in force whose eligible amount is > 0 and ≥ its minimum adds its
 *   points, after the multipliers (bonuses are never multiplied).
 */
import { z } from 'zod';
import { computeEarn, type EarnResult, type Multiplier } from './earn';
import { formatLocalTime, parseLocalTime } from './early-access';
import { isKnownCurrency, MoneyError, parseMoney } from './money';
import type { CompiledProgram } from './program';
import { wallTimeOf, zonedInstant } from './time';

export const CAMPAIGN_KINDS = ['multiplier', 'bonus'] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number];
export const CAMPAIGN_SCOPES = ['all', 'products', 'collections'] as const;
export type CampaignScope = (typeof CAMPAIGN_SCOPES)[number];
export const CAMPAIGN_STACKING = ['multiply', 'best'] as const;
export type CampaignStacking = (typeof CAMPAIGN_STACKING)[number];

export const MAX_BONUS_POINTS = 1_000_000;
/** Product or collection ids one campaign may name (a collection's products are not counted). */
export const MAX_TARGETS = 250;
/** A start this far behind `now` still counts as "now" (the form's minute was already running). */
export const START_GRACE_MS = 60_000;

/** A campaign as the merchant writes it (the admin form, the API, the demo). */
export interface CampaignDefinition {
  name: string;
  kind: string;
  /** Multiplier as decimal text, "2" or "1.5": more than 1, at most 10. Multiplier campaigns only. */
  multiplier?: string | null;
  /** Points per qualifying order, 1–1,000,000. Bonus campaigns only. */
  bonusPoints?: number | null;
  /** Minimum eligible amount as money text ("50.00"), shop currency; bonus campaigns only. */
  minimumAmount?: string | null;
  scope: string;
  /** Product ids (scope `products`) or collection ids (`collections`): numeric or gid. */
  targetIds?: readonly string[];
  /** Default `multiply`. */
  stacking?: string | null;
  /** Shop-local `YYYY-MM-DDTHH:MM`. */
  startsAt: string;
  endsAt: string;
}

/** A checked definition, its window as instants. */
export interface ParsedCampaign {
  name: string;
  kind: CampaignKind;
  /** Multiplier campaigns: > 10000, ≤ 100000. */
  factorBps: number | null;
  bonusPoints: number | null;
  minimumMinor: number | null;
  scope: CampaignScope;
  /** Numeric ids, unique, as given (products or collections as the scope says); [] for `all`. */
  targetIds: string[];
  stacking: CampaignStacking;
  startsAt: number;
  endsAt: number;
  /** `YYYY-MM-DDTHH:MM:SS` as typed, on the shop's clock. */
  startsAtLocal: string;
  endsAtLocal: string;
}

/** What settlement needs of a stored campaign (the shop's, loaded once per batch). */
export interface CampaignRule {
  id: number;
  name: string;
  kind: CampaignKind;
  factorBps: number | null;
  bonusPoints: number | null;
  minimumMinor: number | null;
  scope: CampaignScope;
  /** Eligible product ids (for collections: resolved when saved); null for `all`. */
  productIds: ReadonlySet<string> | null;
  stacking: CampaignStacking;
  /** Epoch ms; the effective end (an "end now" moves it earlier). */
  startsAt: number;
  endsAt: number;
}

export interface CampaignIssue {
  path: string;
  message: string;
}

export class CampaignError extends Error {
  readonly issues: CampaignIssue[];
  constructor(issues: CampaignIssue[]) {
    super(
      `invalid campaign:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'CampaignError';
    this.issues = issues;
  }
}

const FACTOR = /^(\d{1,3})(?:\.(\d{1,4}))?$/;
const TARGET_ID = /^(?:gid:\/\/shopify\/(?:Product|Collection)\/)?([1-9]\d{0,19})$/;

/** "2" → 20000, "1.5" → 15000; a reason when not a multiplier above 1 and at most 10. */
export function parseCampaignFactor(text: string): number | string {
  const trimmed = text.trim();
  if (/^-/.test(trimmed) || /^0*(?:\.0*)?$/.test(trimmed)) {
    return 'must be more than 0: a multiplier of 0 or less would take points away (×2 is "2")';
  }
  const m = FACTOR.exec(trimmed);
  if (!m) return 'must be a number such as "2" or "1.5" (at most 4 decimals)';
  const bps = Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
  if (bps <= 10_000) return 'must be more than 1: ×1 or less gives no extra points';
  if (bps > 100_000) return 'must be at most 10';
  return bps;
}

/** 20000 → "2", 15000 → "1.5". */
export function formatFactor(bps: number): string {
  const whole = Math.floor(bps / 10_000);
  const frac = String(bps % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '');
  return frac === '' ? String(whole) : `${whole}.${frac}`;
}

const definitionSchema = z.looseObject({
  name: z.string({ error: 'must be text' }),
  kind: z.string({ error: 'must be "multiplier" or "bonus"' }),
  multiplier: z.string({ error: 'must be decimal text such as "2"' }).nullish(),
  bonusPoints: z.number({ error: 'must be a whole number of points' }).nullish(),
  minimumAmount: z.string({ error: 'must be money text such as "50.00"' }).nullish(),
  scope: z.string({ error: 'must be "all", "products" or "collections"' }),
  targetIds: z.array(z.string({ error: 'must be a Shopify id' })).optional(),
  stacking: z.string({ error: 'must be "multiply" or "best"' }).nullish(),
  startsAt: z.string({ error: 'must be a local date and time, "YYYY-MM-DDTHH:MM"' }),
  endsAt: z.string({ error: 'must be a local date and time, "YYYY-MM-DDTHH:MM"' }),
});

export interface CampaignContext {
  timeZone: string;
  /** Shop currency: what the minimum amount is read in. */
  currency: string;
  /** Epoch ms: a new campaign (or an edit) may not start before it. */
  now: number;
  /**
   * Skip the "start in the past" rule: only for data that was true in the past (the demo's
   * history, an import), never for the merchant's form.
   */
  allowPastStart?: boolean;
}

/**
 * Checks a campaign definition and compiles its window in the shop's timezone. Throws
 * {@link CampaignError} listing every problem with its field: `endsAt: must be after the start`,
 * `multiplier: must be more than 0 …`, `targetIds: choose at least one product`, …
 */
export function parseCampaign(json: unknown, context: CampaignContext): ParsedCampaign {
  const shape = definitionSchema.safeParse(json);
  if (!shape.success) {
    throw new CampaignError(
      shape.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const def = shape.data;
  const issues: CampaignIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });

  const name = def.name.replace(/\s+/g, ' ').trim();
  if (name === '') issue('name', 'must not be empty');
  else if (name.length > 100) issue('name', 'must be at most 100 characters');

  const kind = (CAMPAIGN_KINDS as readonly string[]).includes(def.kind)
    ? (def.kind as CampaignKind)
    : null;
  if (!kind) issue('kind', `'${def.kind}' is not a kind: use "multiplier" or "bonus"`);

  let factorBps: number | null = null;
  let bonusPoints: number | null = null;
  let minimumMinor: number | null = null;
  if (kind === 'multiplier') {
    if (def.multiplier == null || def.multiplier.trim() === '') issue('multiplier', 'is required');
    else {
      const parsed = parseCampaignFactor(def.multiplier);
      if (typeof parsed === 'string') issue('multiplier', parsed);
      else factorBps = parsed;
    }
  } else if (kind === 'bonus') {
    const points = def.bonusPoints;
    if (points == null) issue('bonusPoints', 'is required');
    else if (!Number.isSafeInteger(points) || points < 1 || points > MAX_BONUS_POINTS) {
      issue(
        'bonusPoints',
        `must be a whole number from 1 to ${MAX_BONUS_POINTS.toLocaleString('en-US')}`,
      );
    } else bonusPoints = points;
    const minimum = def.minimumAmount?.trim() ?? '';
    if (minimum !== '') {
      if (!isKnownCurrency(context.currency))
        issue('minimumAmount', `shop currency ${context.currency} is unknown`);
      else {
        try {
          minimumMinor = parseMoney(minimum, context.currency);
        } catch (error) {
          if (!(error instanceof MoneyError)) throw error;
          issue(
            'minimumAmount',
            `'${minimum}' is not an amount in ${context.currency} (such as "50.00")`,
          );
        }
      }
    }
  }

  const scope = (CAMPAIGN_SCOPES as readonly string[]).includes(def.scope)
    ? (def.scope as CampaignScope)
    : null;
  if (!scope)
    issue('scope', `'${def.scope}' is not a scope: use "all", "products" or "collections"`);
  const targetIds: string[] = [];
  if (scope === 'products' || scope === 'collections') {
    const what = scope === 'products' ? 'product' : 'collection';
    const given = (def.targetIds ?? []).map((t) => t.trim()).filter((t) => t !== '');
    if (given.length === 0) issue('targetIds', `choose at least one ${what}`);
    else if (given.length > MAX_TARGETS)
      issue('targetIds', `may name at most ${MAX_TARGETS} ${what}s`);
    for (const [i, text] of given.entries()) {
      const m = TARGET_ID.exec(text);
      if (!m) issue(`targetIds[${i}]`, `'${text}' is not a ${what} id (a number or its gid)`);
      else if (!targetIds.includes(m[1]!)) targetIds.push(m[1]!);
    }
  }

  const stackingText = def.stacking ?? 'multiply';
  const stacking = (CAMPAIGN_STACKING as readonly string[]).includes(stackingText)
    ? (stackingText as CampaignStacking)
    : null;
  if (!stacking)
    issue('stacking', `'${stackingText}' is not a stacking rule: use "multiply" or "best"`);

  const instant = (field: 'startsAt' | 'endsAt', text: string) => {
    if (text.trim() === '') {
      issue(field, 'is required');
      return null;
    }
    const wall = parseLocalTime(text.trim());
    if (typeof wall === 'string') {
      issue(field, wall);
      return null;
    }
    return { at: zonedInstant(wall, context.timeZone), local: formatLocalTime(wall) };
  };
  const start = instant('startsAt', def.startsAt);
  const end = instant('endsAt', def.endsAt);
  if (start && end && end.at <= start.at) issue('endsAt', 'must be after the start');
  if (start && !context.allowPastStart && start.at < context.now - START_GRACE_MS) {
    issue('startsAt', 'must not be in the past: a campaign cannot change orders already placed');
  }

  if (issues.length > 0) throw new CampaignError(issues);
  return {
    name,
    kind: kind!,
    factorBps,
    bonusPoints,
    minimumMinor,
    scope: scope!,
    targetIds,
    stacking: stacking!,
    startsAt: start!.at,
    endsAt: end!.at,
    startsAtLocal: start!.local,
    endsAtLocal: end!.local,
  };
}

export type CampaignStatus = 'upcoming' | 'active' | 'ended';

/** Where `now` falls in the campaign's window [startsAt, endsAt). */
export function campaignStatus(
  c: Pick<CampaignRule, 'startsAt' | 'endsAt'>,
  now: number,
): CampaignStatus {
  if (now < c.startsAt) return 'upcoming';
  return now < c.endsAt ? 'active' : 'ended';
}

/** The campaigns whose window contains `at` (start inclusive, end exclusive). */
export function campaignsInForce<C extends Pick<CampaignRule, 'startsAt' | 'endsAt'>>(
  campaigns: readonly C[],
  at: number,
): C[] {
  return campaigns.filter((c) => c.startsAt <= at && at < c.endsAt);
}

/** One line of an order: its product (null: a custom item) and amount after discounts. */
export interface OrderLine {
  productId: string | null;
  amountMinor: number;
}

/** A campaign as the award records it: explanations and reversals never read the campaign again. */
export interface AppliedCampaign {
  id: number;
  name: string;
  kind: CampaignKind;
  /** Multiplier campaigns. */
  factorBps?: number;
  /** Bonus campaigns: the points added. */
  points?: number;
  scope: CampaignScope;
  stacking: CampaignStacking;
  /** The part of the award's amount the campaign counted (the whole amount for `all`). */
  eligibleAmountMinor: number;
}

export interface CampaignEarn {
  /** Bands × the multipliers that applied (the tier's and/or a campaign's), one floor. */
  earn: EarnResult;
  /** Σ the bonus campaigns' points. */
  bonusPoints: number;
  /** earn.points + bonusPoints: the award's points. */
  points: number;
  /** The campaigns that changed the award (empty: none did). */
  campaigns: AppliedCampaign[];
  /** A `best` campaign beat the tier, whose multiplier therefore did not apply. */
  tierSkipped: boolean;
}

/**
 * The part of `amountMinor` a campaign counts: all of it for scope `all`; else the order lines of
 * its products (never more than the amount; 0 when the order's lines are unknown).
 */
export function eligibleAmount(
  campaign: Pick<CampaignRule, 'productIds'>,
  amountMinor: number,
  lines: readonly OrderLine[] | null,
): number {
  if (!campaign.productIds) return amountMinor;
  if (!lines) return 0;
  let eligible = 0;
  for (const line of lines) {
    if (line.productId !== null && campaign.productIds.has(line.productId)) {
      eligible += line.amountMinor;
    }
  }
  return Math.max(0, Math.min(eligible, amountMinor));
}

const earlierFirst = (a: CampaignRule, b: CampaignRule) => a.startsAt - b.startsAt || a.id - b.id;

/**
 * The award of one order under the campaigns in force at its processedAt (pass only those:
 * {@link campaignsInForce}) and the tier multiplier its member holds. See the module comment for
 * the rules; docs/campaigns.md for worked examples.
 */
export function earnWithCampaigns(input: {
  program: CompiledProgram;
  amountMinor: number;
  lines: readonly OrderLine[] | null;
  tier: Multiplier | null;
  campaigns: readonly CampaignRule[];
}): CampaignEarn {
  const { program, amountMinor, lines, tier } = input;
  const withTier = computeEarn(program, amountMinor, tier ? [tier] : []);
  let best: { earn: EarnResult; applied: AppliedCampaign; tierSkipped: boolean } | null = null;
  for (const c of [...input.campaigns].sort(earlierFirst)) {
    if (c.kind !== 'multiplier' || c.factorBps === null) continue;
    const eligible = eligibleAmount(c, amountMinor, lines);
    if (eligible === 0) continue;
    const multiplier: Multiplier = {
      source: 'campaign',
      id: `campaign:${c.id}`,
      factorBps: c.factorBps,
      ...(eligible < amountMinor ? { share: { eligibleMinor: eligible, amountMinor } } : {}),
    };
    let earn: EarnResult;
    let tierSkipped = false;
    if (c.stacking === 'multiply' || !tier) {
      earn = computeEarn(program, amountMinor, tier ? [tier, multiplier] : [multiplier]);
    } else {
      earn = computeEarn(program, amountMinor, [multiplier]);
      // The tier is the better (or as good): the campaign gives this order nothing.
      if (earn.points <= withTier.points) continue;
      tierSkipped = true;
    }
    if (earn.points <= withTier.points) continue;
    if (best && earn.points <= best.earn.points) continue;
    best = {
      earn,
      tierSkipped,
      applied: {
        id: c.id,
        name: c.name,
        kind: 'multiplier',
        factorBps: c.factorBps,
        scope: c.scope,
        stacking: c.stacking,
        eligibleAmountMinor: eligible,
      },
    };
  }
  const campaigns: AppliedCampaign[] = best ? [best.applied] : [];
  let bonusPoints = 0;
  for (const c of [...input.campaigns].sort(earlierFirst)) {
    if (c.kind !== 'bonus' || c.bonusPoints === null) continue;
    const eligible = eligibleAmount(c, amountMinor, lines);
    if (eligible === 0 || (c.minimumMinor !== null && eligible < c.minimumMinor)) continue;
    bonusPoints += c.bonusPoints;
    campaigns.push({
      id: c.id,
      name: c.name,
      kind: 'bonus',
      points: c.bonusPoints,
      scope: c.scope,
      stacking: c.stacking,
      eligibleAmountMinor: eligible,
    });
  }
  const earn = best ? best.earn : withTier;
  return {
    earn,
    bonusPoints,
    points: earn.points + bonusPoints,
    campaigns,
    tierSkipped: best?.tierSkipped ?? false,
  };
}

/** The local days (`YYYY-MM-DD`, shop clock) a window [startsAt, endsAt) touches, in order. */
export function campaignDays(startsAt: number, endsAt: number, timeZone: string): string[] {
  const days: string[] = [];
  if (endsAt <= startsAt) return days;
  const ymd = (w: { year: number; month: number; day: number }) =>
    `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
  const first = wallTimeOf(startsAt, timeZone);
  // The end is exclusive: a window ending at 00:00 does not touch that day.
  const last = wallTimeOf(endsAt - 1, timeZone);
  const d = new Date(Date.UTC(first.year, first.month - 1, first.day));
  const stop = Date.UTC(last.year, last.month - 1, last.day);
  // Bounded: a campaign longer than ~3 years is not a calendar's business.
  for (let i = 0; d.getTime() <= stop && i < 1100; i++) {
    days.push(ymd({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return days;
}

/** Product ids one campaign lists in the storefront summary (the metafield stays small). */
export const SUMMARY_PRODUCTS = 250;

/**
 * A campaign as the theme blocks read it from the program summary (`campaigns`): the window in
 * epoch seconds, so Liquid compares it with `'now' | date: '%s'` and an ended campaign disappears
 * without a sync; the last minute inside the window as the shopper reads it, per language.
 */
export interface CampaignSummary {
  id: number;
  name: string;
  kind: CampaignKind;
  factorBps: number | null;
  /** The factor as decimal text ("1.5"): Liquid has no exact decimal of its own. */
  multiplier: string | null;
  bonusPoints: number | null;
  minimumMinor: number | null;
  scope: CampaignScope;
  /** Eligible products (numbers, as Liquid's `product.id`); null for `all`. At most 250. */
  productIds: number[] | null;
  startsAt: number;
  endsAt: number;
  /** "Sun 6 Dec, 23:59" / "dim. 6 déc., 23:59": the window's last minute on the shop's clock. */
  until: { en: string; fr: string };
}

const untilFormats = new Map<string, Intl.DateTimeFormat>();

/** The window's last minute (end − 1 min) in `locale`: "Sun 6 Dec, 23:59". */
export function untilText(endsAt: number, timeZone: string, locale: 'en' | 'fr'): string {
  const key = `${locale} ${timeZone}`;
  let format = untilFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'fr-FR', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    untilFormats.set(key, format);
  }
  return format.format(new Date(Math.floor(endsAt / 60_000) * 60_000 - 60_000));
}

/** The storefront summary of the campaigns not over yet, soonest first. */
export function campaignSummaries(
  rules: readonly CampaignRule[],
  timeZone: string,
): CampaignSummary[] {
  return [...rules].sort(earlierFirst).map((c) => ({
    id: c.id,
    name: c.name,
    kind: c.kind,
    factorBps: c.factorBps,
    multiplier: c.factorBps === null ? null : formatFactor(c.factorBps),
    bonusPoints: c.bonusPoints,
    minimumMinor: c.minimumMinor,
    scope: c.scope,
    productIds: c.productIds
      ? [...c.productIds].slice(0, SUMMARY_PRODUCTS).map(Number).filter(Number.isSafeInteger)
      : null,
    startsAt: Math.floor(c.startsAt / 1000),
    endsAt: Math.floor(c.endsAt / 1000),
    until: { en: untilText(c.endsAt, timeZone, 'en'), fr: untilText(c.endsAt, timeZone, 'fr') },
  }));
}
