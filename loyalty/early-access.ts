/**
 * Early access: windows in which only members of some tiers may buy a product or a collection's
 * products, and the pure decision "may this shopper buy it now". Rules: docs/early-access.md.
 *
 * A window is a list of stages in the shop's timezone — "Gold and above from Nov 20 09:00" — and the
 * moment everyone may buy ("everyone from Nov 24 09:00"). Before the first stage nobody may buy;
 * a stage admits its tier and every tier above it. The same decision is made in four places from
 * the same data: the app proxy ({@link earlyAccessDecision}), the theme block and the checkout
 * Function (both from the product mirror, {@link productMirror}), and the admin preview.
 */
import { z } from 'zod';
import { schemaIssues } from './definition-issues';
import type { CompiledTierProgram } from './tiers';
import { wallTimeOf, zonedInstant, type WallTime } from './time';

export type EarlyAccessTargetType = 'product' | 'collection';

export interface EarlyAccessStageDefinition {
  /** Tier key: this tier and every tier above it may buy from `opensAt`. */
  tier: string;
  /** Shop-local wall time, `YYYY-MM-DDTHH:MM`. */
  opensAt: string;
}

export interface EarlyAccessWindowDefinition {
  name: string;
  target: { type: EarlyAccessTargetType; id: string };
  stages: EarlyAccessStageDefinition[];
  /** Shop-local wall time everyone may buy from: the end of early access. */
  everyoneAt: string;
}

export interface CompiledStage {
  tier: string;
  rank: number;
  /** Epoch ms. */
  opensAt: number;
  /** The wall time as entered, normalised to `YYYY-MM-DDTHH:MM:SS` (what the Function compares). */
  opensAtLocal: string;
}

export interface CompiledEarlyAccessWindow {
  name: string;
  target: { type: EarlyAccessTargetType; id: string };
  /** Sorted by opensAt, then by rank descending. */
  stages: readonly CompiledStage[];
  everyoneAt: number;
  everyoneAtLocal: string;
  definition: EarlyAccessWindowDefinition;
}

export interface EarlyAccessIssue {
  path: string;
  message: string;
}

export class EarlyAccessError extends Error {
  readonly issues: EarlyAccessIssue[];
  constructor(issues: EarlyAccessIssue[]) {
    super(
      `invalid early-access window:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'EarlyAccessError';
    this.issues = issues;
  }
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
/** A product or collection: Shopify's numeric id or its gid. */
const TARGET_ID = /^(?:gid:\/\/shopify\/(?:Product|Collection)\/)?[1-9]\d{0,19}$/;
export const MAX_STAGES = 10;

const windowSchema = z.strictObject({
  name: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters'),
  target: z.strictObject(
    {
      type: z.enum(['product', 'collection'], { error: 'must be "product" or "collection"' }),
      id: z.string({ error: 'must be a Shopify id' }),
    },
    { error: 'must be {"type": "product" | "collection", "id": "…"}' },
  ),
  stages: z
    .array(
      z.strictObject({
        tier: z.string({ error: 'must be a tier key' }),
        opensAt: z.string({ error: 'must be a local time such as "2026-11-20T09:00"' }),
      }),
      { error: 'must be a list of stages' },
    )
    .min(1, 'needs at least one tier stage')
    .max(MAX_STAGES, `may have at most ${MAX_STAGES} stages`),
  everyoneAt: z.string({ error: 'must be a local time such as "2026-11-24T09:00"' }),
});

/** Strict `YYYY-MM-DDTHH:MM[:SS]` → wall time, or a reason. */
export function parseLocalTime(text: string): WallTime | string {
  const m = LOCAL_TIME.exec(text);
  if (!m) return 'must be a local date and time, "YYYY-MM-DDTHH:MM"';
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (
    year < 2000 ||
    probe.getUTCMonth() !== month - 1 ||
    probe.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return 'is not a real date and time';
  }
  return { year, month, day, hour, minute, second };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatLocalTime(w: WallTime): string {
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

/** Numeric id of a product/collection id or gid. */
export function targetNumericId(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/**
 * Validates a window against the shop's timezone and tier program and compiles it. Every problem is
 * reported with its path: an unknown tier, a stage opening after everyone may buy ("window end
 * before start"), a higher tier waiting longer than a lower one, a repeated tier.
 */
export function parseEarlyAccessWindow(
  json: unknown,
  context: { timeZone: string; tiers: CompiledTierProgram | null },
): CompiledEarlyAccessWindow {
  const issues: EarlyAccessIssue[] = [];
  const parsed = windowSchema.safeParse(json);
  if (!parsed.success) {
    issues.push(...schemaIssues(parsed.error));
    throw new EarlyAccessError(issues);
  }
  const data = parsed.data;
  if (!TARGET_ID.test(data.target.id)) {
    issues.push({ path: 'target.id', message: `'${data.target.id}' is not a Shopify id` });
  }
  const tiers = context.tiers;
  if (tiers === null) {
    issues.push({
      path: 'stages',
      message: 'define tiers first: a stage admits a tier and those above it',
    });
  }
  const local = (text: string, path: string) => {
    const wall = parseLocalTime(text);
    if (typeof wall === 'string') {
      issues.push({ path, message: `'${text}' ${wall}` });
      return null;
    }
    return { at: zonedInstant(wall, context.timeZone), text: formatLocalTime(wall) };
  };
  const everyone = local(data.everyoneAt, 'everyoneAt');
  const stages: CompiledStage[] = [];
  const seen = new Map<string, number>();
  data.stages.forEach((stage, i) => {
    const at = `stages[${i}]`;
    const tier = tiers?.tiers.find((t) => t.key === stage.tier);
    if (tiers && !tier)
      issues.push({
        path: `${at}.tier`,
        message: `'${stage.tier}' is not a tier (${tiers.tiers.map((t) => t.key).join(', ')})`,
      });
    if (seen.has(stage.tier))
      issues.push({
        path: `${at}.tier`,
        message: `'${stage.tier}' is already stages[${seen.get(stage.tier)}]`,
      });
    seen.set(stage.tier, i);
    const opens = local(stage.opensAt, `${at}.opensAt`);
    if (opens && everyone && opens.at >= everyone.at) {
      issues.push({
        path: 'everyoneAt',
        message: `must be after every tier's opening: ${stage.tier} opens ${opens.text.slice(0, 16)}, everyone ${everyone.text.slice(0, 16)}`,
      });
    }
    if (opens && tier)
      stages.push({ tier: tier.key, rank: tier.rank, opensAt: opens.at, opensAtLocal: opens.text });
  });
  for (const a of stages) {
    for (const b of stages) {
      if (a.rank > b.rank && a.opensAt > b.opensAt) {
        issues.push({
          path: `stages[${data.stages.findIndex((s) => s.tier === a.tier)}].opensAt`,
          message: `${a.tier} opens after ${b.tier}, a lower tier: a higher tier never waits longer`,
        });
      }
    }
  }
  if (issues.length > 0 || !everyone) throw new EarlyAccessError(issues);
  stages.sort((a, b) => a.opensAt - b.opensAt || b.rank - a.rank);
  return {
    name: data.name,
    target: data.target,
    stages,
    everyoneAt: everyone.at,
    everyoneAtLocal: everyone.text,
    definition: data,
  };
}

export type EarlyAccessPhase = 'before' | 'early' | 'open';

export interface EarlyAccessDecision {
  allowed: boolean;
  /** When this shopper may buy (epoch ms); null when they may now. */
  opensAt: number | null;
  phase: EarlyAccessPhase;
}

/**
 * May a shopper of tier rank `rank` (null: not a member, or not logged in) buy at `now`? The
 * earliest stage admitting their rank, or everyoneAt. `phase` is the window's, whoever asks:
 * before its first stage, early (some tiers may buy), open (everyone may).
 */
export function earlyAccessDecision(
  window: Pick<CompiledEarlyAccessWindow, 'stages' | 'everyoneAt'>,
  rank: number | null,
  now: number,
): EarlyAccessDecision {
  const phase: EarlyAccessPhase =
    now >= window.everyoneAt
      ? 'open'
      : window.stages.some((s) => now >= s.opensAt)
        ? 'early'
        : 'before';
  let opens = window.everyoneAt;
  for (const stage of window.stages) {
    if (rank !== null && rank >= stage.rank && stage.opensAt < opens) opens = stage.opensAt;
  }
  return now >= opens
    ? { allowed: true, opensAt: null, phase }
    : { allowed: false, opensAt: opens, phase };
}

/**
 * Several windows on one product: the shopper may buy when every window lets them, from the
 * latest of the moments the blocking windows open for them. The phase is the least open one
 * (before < early < open); no window at all is open.
 */
export function combinedDecision(decisions: readonly EarlyAccessDecision[]): EarlyAccessDecision {
  const phase: EarlyAccessPhase = decisions.some((d) => d.phase === 'before')
    ? 'before'
    : decisions.some((d) => d.phase === 'early')
      ? 'early'
      : 'open';
  const blocked = decisions.filter((d) => !d.allowed);
  if (blocked.length === 0) return { allowed: true, opensAt: null, phase };
  return { allowed: false, opensAt: Math.max(...blocked.map((d) => d.opensAt!)), phase };
}

/**
 * A saved window compiled again for a decision or a mirror, against the tier program and shop
 * timezone in force now (both may have changed since it was saved, so it is not validated again).
 * A stage whose tier the program no longer has is dropped: nobody holds that tier any more, and
 * dropping it can only make the window open later for someone, never sooner (fail closed).
 */
export function compileSavedWindow(
  definition: EarlyAccessWindowDefinition,
  context: { timeZone: string; tiers: CompiledTierProgram | null },
): CompiledEarlyAccessWindow {
  const at = (text: string, path: string) => {
    const wall = parseLocalTime(text);
    if (typeof wall === 'string') throw new EarlyAccessError([{ path, message: wall }]);
    return { at: zonedInstant(wall, context.timeZone), text: formatLocalTime(wall) };
  };
  const everyone = at(definition.everyoneAt, 'everyoneAt');
  const stages: CompiledStage[] = [];
  definition.stages.forEach((stage, i) => {
    const tier = context.tiers?.tiers.find((t) => t.key === stage.tier);
    if (!tier) return;
    const opens = at(stage.opensAt, `stages[${i}].opensAt`);
    stages.push({ tier: tier.key, rank: tier.rank, opensAt: opens.at, opensAtLocal: opens.text });
  });
  stages.sort((a, b) => a.opensAt - b.opensAt || b.rank - a.rank);
  return {
    name: definition.name,
    target: definition.target,
    stages,
    everyoneAt: everyone.at,
    everyoneAtLocal: everyone.text,
    definition,
  };
}

// ---------------------------------------------------------------------------------------------
// What Shopify holds: the product mirror (theme block, Function) and the Function's clock slots

/** Version of the mirror JSON: the theme block and the Function refuse a version they do not know. */
export const MIRROR_VERSION = 1;

/**
 * The product metafield `$app.early_access` (json): every window on the product, with the tiers
 * each stage admits spelled out (so readers need no tier ranks), times both shop-local (the
 * Function compares those with the shop's clock) and as epoch seconds (Liquid compares those).
 */
export interface ProductMirror {
  v: typeof MIRROR_VERSION;
  windows: {
    id: number;
    name: string;
    /** `names[i]` is the shopper-facing name of `tiers[i]` (what the block and the Function say). */
    stages: { tiers: string[]; names: string[]; at: string; epoch: number }[];
    everyone: { at: string; epoch: number };
  }[];
}

export function productMirror(
  windows: readonly { id: number; window: CompiledEarlyAccessWindow }[],
  tiers: CompiledTierProgram,
): ProductMirror {
  return {
    v: MIRROR_VERSION,
    windows: windows.map(({ id, window }) => ({
      id,
      name: window.name,
      stages: window.stages.map((s) => ({
        tiers: tiers.tiers.filter((t) => t.rank >= s.rank).map((t) => t.key),
        names: tiers.tiers.filter((t) => t.rank >= s.rank).map((t) => t.name),
        at: s.opensAtLocal,
        epoch: Math.floor(s.opensAt / 1000),
      })),
      everyone: { at: window.everyoneAtLocal, epoch: Math.floor(window.everyoneAt / 1000) },
    })),
  };
}

/**
 * Functions have no clock: they can only ask whether the shop's local time is after a given
 * date-time, and only for date-times written into their input query as variables. So the query
 * carries FUNCTION_TIME_SLOTS aliases (`t0`…`t15`), filled from the validation's
 * `$app.early_access_times` metafield with the boundaries still ahead, soonest first. A boundary
 * not in a slot is judged by the shop's local date alone (docs/early-access.md).
 */
export const FUNCTION_TIME_SLOTS = 16;
/** Fills unused slots: long past, so its answer is always "after". */
export const FUNCTION_PAST_TIME = '2000-01-01T00:00:00';

/** The slots' values: boundaries not yet passed at `now` (plus ones within a day, for clock skew). */
export function functionTimeSlots(
  windows: readonly CompiledEarlyAccessWindow[],
  now: number,
): Record<string, string> {
  const boundaries = new Map<string, number>();
  for (const w of windows) {
    for (const s of w.stages) boundaries.set(s.opensAtLocal, s.opensAt);
    boundaries.set(w.everyoneAtLocal, w.everyoneAt);
  }
  const upcoming = [...boundaries]
    .filter(([, at]) => at > now - 86_400_000)
    .sort((a, b) => a[1] - b[1])
    .slice(0, FUNCTION_TIME_SLOTS)
    .map(([local]) => local)
    .sort();
  const slots: Record<string, string> = {};
  for (let i = 0; i < FUNCTION_TIME_SLOTS; i++) slots[`t${i}`] = upcoming[i] ?? FUNCTION_PAST_TIME;
  return slots;
}

/** Shop-local wall time of an instant, as the mirror writes it. */
export function localTimeText(epochMs: number, timeZone: string): string {
  return formatLocalTime(wallTimeOf(epochMs, timeZone));
}
