/**
 * The admin's tiers page (app/routes/app.tiers.tsx): the tier program in force as the merchant
 * reads it (thresholds in the shop currency, members per tier, its versions), the editor's text →
 * a tier program definition, the rules' validation issues → the editor field they belong to, and
 * the two steps of an edit — preview (nothing written) and apply (a new version, every member
 * re-evaluated, then the tier perks synced).
 *
 * The rules are loyalty/tiers.ts's (parseTierProgram) and the evaluation
 * app/models/tier-evaluation.server.ts's; this module only reads what a merchant typed and names
 * the field when that fails.
 *
 * Apply is accepted only for the draft that was previewed, under the version that was in force
 * then: the preview answers a hash of both, the page sends it back with Apply, and a draft that
 * changed (or a version applied meanwhile by someone else) is refused with "preview again" — so
 * what the merchant confirmed is what happens.
 */
import { createHash } from 'node:crypto';
import type { Database, Executor } from '../db/client.server';
import { formatMinorMoney } from '../loyalty/explain';
import { currencyDigits, formatMoney } from '../loyalty/money';
import {
  DEFAULT_GRACE_DAYS,
  DEFAULT_TAG_PREFIX,
  formatMultiplier,
  MAX_TIERS,
  parseTierProgram,
  TIER_METRICS,
  TIER_WINDOWS,
  TierProgramError,
  type CompiledTierProgram,
  type TierIssue,
  type TierMetric,
  type TierProgramDefinition,
  type TierWindow,
} from '../loyalty/tiers';
import { remirrorShop } from './early-access.server';
import { syncShopEarlyAccess } from './early-access-sync.server';
import { AppError, ErrorCode, isAppError } from './errors';
import { logger } from './logger.server';
import { SyncLeaseLost, type MetafieldSyncResult } from './metafield-sync.server';
import { applyTierProgram, previewTierProgram } from './models/tier-evaluation.server';
import { countMembersByTier } from './models/tier-members.server';
import { currentTierProgram, listTierPrograms } from './models/tiers.server';
import type { Shop } from './models/shops.server';
import { AdminApiError } from './shopify/admin-client.server';
import { syncTierPerks } from './tier-perks.server';

// ---------------------------------------------------------------------------------------------
// The editor's values

/** One tier row as typed. */
export interface TierRowValues {
  key: string;
  name: string;
  /** Decimal amount in the shop currency (spend), whole number (points, orders). */
  threshold: string;
  /** Decimal text, empty = 1. */
  multiplier: string;
  /** Whole points given once on reaching the tier, empty = none. */
  entryPoints: string;
  freeShipping: boolean;
}

export interface TierFormValues {
  metric: TierMetric;
  window: TierWindow;
  graceDays: string;
  tagPrefix: string;
  tiers: TierRowValues[];
}

/** Field errors by path: `metric`, `graceDays`, `tiers[2].threshold`…, `tiers`, and `form`. */
export type TierFieldErrors = Record<string, string>;

export const METRIC_LABELS: Record<TierMetric, string> = {
  spend: 'Money spent',
  points: 'Points earned',
  orders: 'Orders placed',
};

export const WINDOW_LABELS: Record<TierWindow, string> = {
  lifetime: 'Lifetime',
  calendar_year: 'Calendar year',
  rolling_12_months: 'Rolling 12 months',
};

const ROW_LABELS: Record<keyof TierRowValues, string> = {
  key: 'Key',
  name: 'Name',
  threshold: 'Threshold',
  multiplier: 'Earn multiplier',
  entryPoints: 'Entry reward',
  freeShipping: 'Free shipping',
};

const PROGRAM_LABELS: Record<string, string> = {
  metric: 'Measure',
  window: 'Window',
  graceDays: 'Grace period',
  tagPrefix: 'Customer tag prefix',
  tiers: 'Tiers',
};

/** A stored definition as the editor shows it. */
export function tierFormValues(definition: TierProgramDefinition): TierFormValues {
  return {
    metric: definition.metric,
    window: definition.window,
    graceDays: String(definition.graceDays ?? DEFAULT_GRACE_DAYS),
    tagPrefix: definition.tagPrefix ?? DEFAULT_TAG_PREFIX,
    tiers: definition.tiers.map((tier) => ({
      key: tier.key,
      name: tier.name,
      threshold: String(tier.threshold),
      multiplier: tier.multiplier ?? '1',
      entryPoints: tier.entryReward ? String(tier.entryReward.points) : '',
      freeShipping: tier.freeShipping ?? false,
    })),
  };
}

/**
 * "Start from a template": Bronze, Silver, Gold and Platinum on money spent in the calendar
 * year, at 0 / 250 / 1,000 / 5,000 of the shop currency (×100 for currencies without decimals,
 * where 250 would be a coffee).
 */
export function templateTierForm(currency: string): TierFormValues {
  const digits = currencyDigits(currency);
  const amount = (major: number) =>
    formatMoney(major * (digits === 0 ? 100 : 1) * 10 ** digits, currency);
  const row = (
    key: string,
    name: string,
    major: number,
    multiplier: string,
    entryPoints: string,
    freeShipping: boolean,
  ): TierRowValues => ({
    key,
    name,
    threshold: amount(major),
    multiplier,
    entryPoints,
    freeShipping,
  });
  return {
    metric: 'spend',
    window: 'calendar_year',
    graceDays: String(DEFAULT_GRACE_DAYS),
    tagPrefix: DEFAULT_TAG_PREFIX,
    tiers: [
      row('bronze', 'Bronze', 0, '1', '', false),
      row('silver', 'Silver', 250, '1.25', '50', false),
      row('gold', 'Gold', 1000, '1.5', '200', true),
      row('platinum', 'Platinum', 5000, '2', '500', true),
    ],
  };
}

const WHOLE = /^[0-9]{1,15}$/;

/**
 * Reads the editor's submitted draft (the form field `draft`, JSON of {@link TierFormValues}).
 * Text that is not the shape the page sends is a 400 (not a field error: the page never sends
 * it).
 */
export function readTierDraft(text: unknown): TierFormValues {
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    raw = undefined;
  }
  const bad = () =>
    new AppError(
      ErrorCode.VALIDATION,
      'draft must be the tier editor’s JSON: {metric, window, graceDays, tagPrefix, tiers: [{key, name, threshold, multiplier, entryPoints, freeShipping}]}',
    );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad();
  const r = raw as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  if (!Array.isArray(r.tiers) || r.tiers.length > MAX_TIERS * 2) throw bad();
  const tiers: TierRowValues[] = [];
  for (const t of r.tiers as unknown[]) {
    if (typeof t !== 'object' || t === null) throw bad();
    const row = t as Record<string, unknown>;
    const values = {
      key: str(row.key),
      name: str(row.name),
      threshold: str(row.threshold),
      multiplier: str(row.multiplier),
      entryPoints: str(row.entryPoints),
    };
    if (Object.values(values).some((v) => v === null) || typeof row.freeShipping !== 'boolean') {
      throw bad();
    }
    tiers.push({
      ...(values as Record<keyof typeof values, string>),
      freeShipping: row.freeShipping,
    });
  }
  const metric = str(r.metric);
  const window = str(r.window);
  const graceDays = str(r.graceDays);
  const tagPrefix = str(r.tagPrefix);
  if (metric === null || window === null || graceDays === null || tagPrefix === null) throw bad();
  // An unknown metric or window is the rules' to name (a field error), so it passes through.
  return {
    metric: metric as TierMetric,
    window: window as TierWindow,
    graceDays,
    tagPrefix,
    tiers,
  };
}

export interface ParsedTierForm {
  /** The definition for preview/apply; only meaningful when `errors` is empty. */
  definition: Record<string, unknown>;
  errors: TierFieldErrors;
}

/**
 * The editor's values → a tier program definition for the shop's `currency`, and every problem
 * with it by field: first what the text itself cannot say (a whole number that is not one), then
 * what loyalty/tiers.ts finds wrong with the program, mapped from its paths. The first message of
 * a field wins. Pure: nothing is read or written.
 */
export function parseTierForm(values: TierFormValues, currency: string): ParsedTierForm {
  const errors: TierFieldErrors = {};
  const whole = (text: string, path: string, label: string, unit: string): number | string => {
    const t = text.trim();
    if (!WHOLE.test(t)) {
      errors[path] ??= `${label} must be a whole number${unit ? ` of ${unit}` : ''}`;
      return t;
    }
    return Number(t);
  };
  const metric = values.metric;
  const counted = metric === 'points' || metric === 'orders';
  const definition: Record<string, unknown> = {
    metric,
    window: values.window,
    ...(metric === 'spend' ? { currency } : {}),
    graceDays: whole(values.graceDays, 'graceDays', PROGRAM_LABELS.graceDays!, 'days'),
    tagPrefix: values.tagPrefix.trim() === '' ? DEFAULT_TAG_PREFIX : values.tagPrefix.trim(),
    tiers: values.tiers.map((row, i) => {
      const at = `tiers[${i}]`;
      const entry = row.entryPoints.trim();
      const tier: Record<string, unknown> = {
        key: row.key.trim(),
        name: row.name,
        threshold: counted
          ? whole(row.threshold, `${at}.threshold`, ROW_LABELS.threshold, metric)
          : row.threshold.trim(),
        multiplier: row.multiplier.trim() === '' ? '1' : row.multiplier.trim(),
        freeShipping: row.freeShipping,
      };
      if (entry !== '') {
        tier.entryReward = {
          points: whole(entry, `${at}.entryPoints`, ROW_LABELS.entryPoints, 'points'),
        };
      }
      return tier;
    }),
  };
  try {
    parseTierProgram(definition, { shopCurrency: currency });
  } catch (error) {
    if (!(error instanceof TierProgramError)) throw error;
    Object.assign(errors, issuesToTierFieldErrors(error.issues, errors));
  }
  return { definition, errors };
}

const TIER_PATH = /^tiers\[(\d+)\](?:\.([A-Za-z]+))?(?:\.([A-Za-z]+))?$/;

/**
 * The rules' issues (`tiers[2].threshold: must be above Silver's (250.00)…`) as messages beside
 * the editor's fields: `Threshold must be above Silver's (250.00)…`. An issue no field holds
 * (the currency, the program as a whole) goes to `form`.
 */
export function issuesToTierFieldErrors(
  issues: readonly TierIssue[],
  errors: TierFieldErrors = {},
): TierFieldErrors {
  const out: TierFieldErrors = { ...errors };
  const put = (field: string, message: string) => {
    out[field] ??= message;
  };
  for (const issue of issues) {
    const tier = TIER_PATH.exec(issue.path);
    if (tier) {
      const [, index, field] = tier;
      const column =
        field === 'entryReward'
          ? 'entryPoints'
          : field && field in ROW_LABELS
            ? (field as keyof TierRowValues)
            : null;
      if (column) {
        put(`tiers[${index}].${column}`, `${ROW_LABELS[column]} ${issue.message}`);
        continue;
      }
    } else if (issue.path in PROGRAM_LABELS) {
      put(issue.path, `${PROGRAM_LABELS[issue.path]} ${issue.message}`);
      continue;
    }
    const line = issue.path ? `${issue.path} ${issue.message}` : issue.message;
    out.form = out.form ? `${out.form}; ${line}` : line;
  }
  return out;
}

/** The issues of a VALIDATION AppError from the tier models, or undefined for any other error. */
function validationIssues(error: unknown): TierIssue[] | undefined {
  if (!isAppError(error, ErrorCode.VALIDATION)) return undefined;
  const issues = error.details.issues;
  return Array.isArray(issues) ? (issues as TierIssue[]) : [{ path: '', message: error.message }];
}

/**
 * What Apply must bring back from the preview: the normalised draft and the version it was
 * previewed against. Any change to either gives another hash.
 */
export function draftHash(definition: TierProgramDefinition, basedOnVersion: number): string {
  return createHash('sha256')
    .update(JSON.stringify({ basedOnVersion, definition }))
    .digest('hex')
    .slice(0, 32);
}

// ---------------------------------------------------------------------------------------------
// Preview and apply

const integer = new Intl.NumberFormat('en-US');
const plural = (n: number, one: string, many: string) =>
  `${integer.format(n)} ${n === 1 ? one : many}`;

export interface TierPreviewView {
  members: number;
  up: number;
  down: number;
  same: number;
  /** "312 customers move up, 40 move down, 1,203 stay where they are" */
  summary: string;
  /** Per tier (draft order, removed tiers last), then members with no tier. */
  rows: { key: string | null; name: string; before: number; after: number }[];
  hash: string;
  /** The version Apply will create. */
  nextVersion: number;
}

export type PreviewOutcome =
  | { ok: true; values: TierFormValues; preview: TierPreviewView }
  | { ok: false; values: TierFormValues; errors: TierFieldErrors };

/** The version in force now, 0 when none (what a preview is based on). */
async function versionInForce(db: Executor, shopId: number, now: Date): Promise<number> {
  return (await currentTierProgram(db, shopId, now))?.version ?? 0;
}

/**
 * The editor's Preview: what applying the draft at `now` would do — who moves up or down, and
 * members per tier before and after — computed by previewTierProgram, writing nothing. An
 * invalid draft gives its field errors instead.
 */
export async function previewTierForm(
  db: Executor,
  shop: Shop,
  values: TierFormValues,
  now: Date,
): Promise<PreviewOutcome> {
  const parsed = parseTierForm(values, shop.currency);
  if (Object.keys(parsed.errors).length > 0) {
    return { ok: false, values, errors: parsed.errors };
  }
  const compiled = parseTierProgram(parsed.definition, { shopCurrency: shop.currency });
  let preview;
  try {
    preview = await previewTierProgram(db, shop, parsed.definition, now);
  } catch (error) {
    const issues = validationIssues(error);
    if (!issues) throw error;
    return { ok: false, values, errors: issuesToTierFieldErrors(issues) };
  }
  const basedOn = await versionInForce(db, shop.id, now);
  const before = preview.byTier.reduce((sum, r) => sum + r.before, 0);
  const after = preview.byTier.reduce((sum, r) => sum + r.after, 0);
  const rows: TierPreviewView['rows'] = preview.byTier.map((r) => ({ ...r }));
  rows.push({
    key: null,
    name: 'No tier',
    before: preview.members - before,
    after: preview.members - after,
  });
  return {
    ok: true,
    values,
    preview: {
      members: preview.members,
      up: preview.up,
      down: preview.down,
      same: preview.same,
      summary: `${plural(preview.up, 'customer moves', 'customers move')} up, ${integer.format(preview.down)} ${preview.down === 1 ? 'moves' : 'move'} down, ${integer.format(preview.same)} ${preview.same === 1 ? 'stays' : 'stay'} where they are`,
      rows,
      hash: draftHash(compiled.definition, basedOn),
      nextVersion: (await listTierPrograms(db, shop.id)).length + 1,
    },
  };
}

/** What follows an apply at Shopify (perks, early-access mirrors), in sentences for the page. */
export type AfterApply = () => Promise<string | null>;

export type ApplyOutcome =
  | {
      ok: true;
      version: number;
      evaluated: number;
      changed: number;
      perks: string | null;
    }
  | { ok: false; values: TierFormValues; errors: TierFieldErrors; stale?: true };

/**
 * The editor's Apply: only for the draft previewed (`previewHash`) under the version still in
 * force. Publishes it as the next version effective `now`, evaluates every member under it, then
 * runs the perks sync (tags, segments, free shipping). A draft that changed since its preview, or
 * a version applied meanwhile, is refused (`stale`) and nothing is written.
 */
export async function applyTierForm(
  db: Executor,
  shop: Shop,
  values: TierFormValues,
  previewHash: string,
  now: Date,
  afterApply?: AfterApply,
): Promise<ApplyOutcome> {
  const parsed = parseTierForm(values, shop.currency);
  if (Object.keys(parsed.errors).length > 0) {
    return { ok: false, values, errors: parsed.errors };
  }
  const compiled: CompiledTierProgram = parseTierProgram(parsed.definition, {
    shopCurrency: shop.currency,
  });
  const basedOn = await versionInForce(db, shop.id, now);
  if (previewHash !== draftHash(compiled.definition, basedOn)) {
    return {
      ok: false,
      values,
      stale: true,
      errors: {
        form:
          previewHash === ''
            ? 'Preview the draft before applying it: apply publishes exactly what was previewed.'
            : 'The draft changed since its preview, or another version was applied meanwhile: preview it again before applying.',
      },
    };
  }
  let applied;
  try {
    applied = await applyTierProgram(db, shop, parsed.definition, now);
  } catch (error) {
    const issues = validationIssues(error);
    if (issues) return { ok: false, values, errors: issuesToTierFieldErrors(issues) };
    if (isAppError(error, ErrorCode.CONFLICT)) {
      return {
        ok: false,
        values,
        stale: true,
        errors: { form: `${error.message}: preview again before applying.` },
      };
    }
    throw error;
  }
  const perks = afterApply ? await afterApply() : null;
  return { ok: true, ...applied, perks };
}

function perksSentence(result: MetafieldSyncResult): string | null {
  if (result.status === 'skipped') {
    switch (result.reason) {
      case 'busy':
        return 'A metafield sync is running for the shop; it syncs the tier perks next.';
      case 'no-token':
        return 'Tier perks were not synced: the shop has no offline access token yet.';
      default:
        return `Tier perks were not synced (${result.reason}).`;
    }
  }
  switch (result.perks) {
    case 'synced':
      return 'Tier perks synced to Shopify: a customer segment and a free-shipping discount for each tier with free shipping. Members’ tags and metafields follow within seconds.';
    case 'current':
      return 'Tier perks at Shopify already matched. Members’ tags and metafields follow within seconds.';
    case 'failed':
      return 'Shopify refused some tier perks; the sync tries them again.';
    case 'none':
      return null;
  }
}

/**
 * What an apply sets off at Shopify, run right after it so the page can say what happened:
 * the tier perks (syncTierPerks: segments and free-shipping discounts of the new version), and the
 * early-access mirrors (a stage "Gold and above" names tier keys, so a new program re-mirrors
 * every product that has one, then one sync run writes them). The version is already in force: a
 * Shopify that cannot be reached is said, and the sweeps finish the job.
 */
export async function syncAfterTierApply(db: Database, shop: Shop): Promise<string | null> {
  const log = logger().child({ shop: shop.domain, component: 'admin-tiers' });
  const sentences: string[] = [];
  const unreachable = (what: string, error: unknown) => {
    if (!(error instanceof AdminApiError) && !(error instanceof SyncLeaseLost)) throw error;
    log.warn({ err: error.message }, `${what} after a tier apply failed; the sweep retries`);
    sentences.push(
      `Shopify could not be reached for the ${what} (${error.message}); the sync retries.`,
    );
  };
  const products = await remirrorShop(db, shop.id);
  try {
    const perks = perksSentence(await syncTierPerks({ db, shop: shop.domain, log }));
    if (perks) sentences.push(perks);
  } catch (error) {
    unreachable('tier perks', error);
  }
  if (products.length > 0) {
    try {
      const synced = await syncShopEarlyAccess({ db, shop: shop.domain, log });
      sentences.push(
        synced.status === 'synced'
          ? `${plural(products.length, 'early-access product', 'early-access products')} re-mirrored for the new tiers (${integer.format(synced.written)} written to Shopify).`
          : `${plural(products.length, 'early-access product', 'early-access products')} re-mirrored for the new tiers; the early-access sync writes them (${synced.reason}).`,
      );
    } catch (error) {
      unreachable('early-access mirrors', error);
    }
  }
  return sentences.length > 0 ? sentences.join(' ') : null;
}

// ---------------------------------------------------------------------------------------------
// The program in force, as the page shows it

export interface TierRowView {
  key: string;
  name: string;
  threshold: string;
  multiplier: string;
  entryReward: string;
  freeShipping: boolean;
  tag: string;
  members: number;
}

export interface TierProgramView {
  version: number;
  effectiveFrom: string;
  metric: string;
  window: string;
  graceDays: string;
  tagPrefix: string;
  tiers: TierRowView[];
  /** Members below the lowest tier, and members never evaluated. */
  none: number;
  unevaluated: number;
  total: number;
}

export interface TierVersionView {
  version: number;
  effectiveFrom: string;
  summary: string;
  inForce: boolean;
}

/** A threshold as the merchant reads it: "$1,000.00", "500 points", "3 orders". */
export function thresholdText(
  metric: TierMetric,
  threshold: number,
  currency: string | null,
): string {
  switch (metric) {
    case 'spend':
      return formatMinorMoney(threshold, currency!, 'en');
    case 'points':
      return plural(threshold, 'point', 'points');
    case 'orders':
      return plural(threshold, 'order', 'orders');
  }
}

function when(shop: Pick<Shop, 'timezone'>, at: Date): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: shop.timezone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(at);
}

/** The tiers page's loader: the program in force with members per tier, and every version. */
export async function tierPage(db: Executor, shop: Shop, now: Date = new Date()) {
  const current = await currentTierProgram(db, shop.id, now);
  const versions = await listTierPrograms(db, shop.id);
  let program: TierProgramView | null = null;
  if (current) {
    const counts = await countMembersByTier(db, shop.id);
    const p = current.program;
    let inOtherTiers = 0;
    for (const [key, n] of counts.byTier) {
      if (!p.tiers.some((t) => t.key === key)) inOtherTiers += n;
    }
    program = {
      version: current.version,
      effectiveFrom: when(shop, current.effectiveFrom),
      metric: METRIC_LABELS[p.metric],
      window: WINDOW_LABELS[p.window],
      graceDays: plural(p.graceDays, 'day', 'days'),
      tagPrefix: p.tagPrefix,
      tiers: p.tiers.map((t) => ({
        key: t.key,
        name: t.name,
        threshold: thresholdText(p.metric, t.threshold, p.currency),
        multiplier: `×${formatMultiplier(t.multiplierBps)}`,
        entryReward: t.entryPoints > 0 ? plural(t.entryPoints, 'point', 'points') : '—',
        freeShipping: t.freeShipping,
        tag: t.tag,
        members: counts.byTier.get(t.key) ?? 0,
      })),
      // A tier of an older version counts as none until the next evaluation moves its members.
      none: counts.none + inOtherTiers,
      unevaluated: counts.unevaluated,
      total: counts.total,
    };
  }
  const history: TierVersionView[] = versions
    .slice()
    .reverse()
    .map((v) => {
      const compiled = parseTierProgram(v.definition, { shopCurrency: shop.currency });
      return {
        version: v.version,
        effectiveFrom: when(shop, v.effectiveFrom),
        inForce: current?.version === v.version,
        summary: `${METRIC_LABELS[compiled.metric]}, ${WINDOW_LABELS[compiled.window].toLowerCase()}: ${compiled.tiers
          .map((t) => `${t.name} ${thresholdText(compiled.metric, t.threshold, compiled.currency)}`)
          .join(' · ')}`,
      };
    });
  return {
    currency: shop.currency,
    program,
    history,
    values: current ? tierFormValues(current.program.definition) : null,
    template: templateTierForm(shop.currency),
    nextVersion: versions.length + 1,
    metricOptions: TIER_METRICS.map((m) => ({ value: m, label: METRIC_LABELS[m] })),
    windowOptions: TIER_WINDOWS.map((w) => ({ value: w, label: WINDOW_LABELS[w] })),
    maxTiers: MAX_TIERS,
  };
}
