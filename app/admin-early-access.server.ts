/**
 * The admin's early-access page (app/routes/app.early-access.tsx): the shop's windows as the
 * merchant reads them ("Gold and above from Nov 20, 2026, 09:00", everyone from, who may buy now,
 * where the mirror stands at Shopify), the create form's values → a window definition for
 * saveEarlyAccessWindow, its validation issues → the field they belong to, and archiving.
 *
 * The rules are loyalty/early-access.ts's and saving (the target checked at Shopify, mirrors
 * marked pending) app/early-access.server.ts's; this module reads what the merchant typed, and
 * right after a change runs one mirror sync so the page can say what Shopify now holds (the sweep
 * retries whatever that run could not write). docs/admin.md, docs/early-access.md.
 */
import type { Database } from '../db/client.server';
import {
  compileSavedWindow,
  earlyAccessDecision,
  EarlyAccessError,
  parseEarlyAccessWindow,
  type EarlyAccessIssue,
  type EarlyAccessPhase,
  MAX_STAGES,
  localTimeText,
} from '../loyalty/early-access';
import { tierByKey, type CompiledTierProgram } from '../loyalty/tiers';
import { archiveEarlyAccessWindow, saveEarlyAccessWindow } from './early-access.server';
import { syncShopEarlyAccess } from './early-access-sync.server';
import { env } from './env.server';
import { AppError, ErrorCode, isAppError } from './errors';
import { logger } from './logger.server';
import {
  getShopEarlyAccess,
  listWindows,
  MIRROR_GRACE_MS,
  type EarlyAccessWindow,
} from './models/early-access.server';
import { mirrorStatusByWindow, type WindowMirrorStatus } from './models/early-access-status.server';
import { offlineAccessToken } from './models/sessions.server';
import type { Shop } from './models/shops.server';
import { currentTierProgram } from './models/tiers.server';
import { AdminApiError, createAdminClient, type AdminClient } from './shopify/admin-client.server';

// ---------------------------------------------------------------------------------------------
// The create form

export interface StageValues {
  tier: string;
  /** `YYYY-MM-DDTHH:MM`, shop-local (what a datetime-local input gives). */
  opensAt: string;
}

export interface WindowFormValues {
  name: string;
  targetType: 'product' | 'collection';
  /** Numeric id, gid, or a Shopify admin URL of the product or collection. */
  targetId: string;
  stages: StageValues[];
  everyoneAt: string;
}

/** Field errors by name: `name`, `targetType`, `targetId`, `stages`, `stages[1].opensAt`…, `form`. */
export type WindowFieldErrors = Record<string, string>;

const LABELS: Record<string, string> = {
  name: 'Name',
  targetType: 'Applies to',
  targetId: 'Product or collection',
  stages: 'Tier stages',
  tier: 'Tier',
  opensAt: 'Opens at',
  everyoneAt: 'Everyone from',
};

/**
 * Reads the form's submitted draft (the field `window`, JSON of {@link WindowFormValues}); what
 * the page never sends is a 400.
 */
export function readWindowDraft(text: unknown): WindowFormValues {
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    raw = undefined;
  }
  const bad = new AppError(
    ErrorCode.VALIDATION,
    'window must be the early-access form’s JSON: {name, targetType, targetId, stages: [{tier, opensAt}], everyoneAt}',
  );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad;
  const r = raw as Record<string, unknown>;
  const strings = [r.name, r.targetId, r.everyoneAt];
  if (strings.some((v) => typeof v !== 'string')) throw bad;
  if (r.targetType !== 'product' && r.targetType !== 'collection') throw bad;
  if (!Array.isArray(r.stages) || r.stages.length > MAX_STAGES * 2) throw bad;
  const stages: StageValues[] = [];
  for (const s of r.stages as unknown[]) {
    const stage = s as Record<string, unknown> | null;
    if (typeof stage?.tier !== 'string' || typeof stage.opensAt !== 'string') throw bad;
    stages.push({ tier: stage.tier, opensAt: stage.opensAt });
  }
  return {
    name: r.name as string,
    targetType: r.targetType,
    targetId: r.targetId as string,
    stages,
    everyoneAt: r.everyoneAt as string,
  };
}

/** A product or collection as pasted: `123`, its gid, or its admin URL (…/products/123). */
export function targetIdOf(text: string): string {
  const trimmed = text.trim();
  const url = /\/(?:products|collections)\/([1-9][0-9]{0,19})(?:[/?#].*)?$/.exec(trimmed);
  return url ? url[1]! : trimmed;
}

/** The form's values as the window definition loyalty/early-access.ts validates. */
export function windowDefinition(values: WindowFormValues) {
  return {
    name: values.name,
    target: { type: values.targetType, id: targetIdOf(values.targetId) },
    stages: values.stages.map((s) => ({ tier: s.tier, opensAt: s.opensAt.trim() })),
    everyoneAt: values.everyoneAt.trim(),
  };
}

/** What is empty, said plainly before the rules speak of it ("'' must be a local date…"). */
function requiredErrors(values: WindowFormValues): WindowFieldErrors {
  const errors: WindowFieldErrors = {};
  if (values.targetId.trim() === '') errors.targetId = `${LABELS.targetId} is required`;
  if (values.everyoneAt.trim() === '') errors.everyoneAt = `${LABELS.everyoneAt} is required`;
  values.stages.forEach((s, i) => {
    if (s.tier === '') errors[`stages[${i}].tier`] = 'Tier is required';
    if (s.opensAt.trim() === '') errors[`stages[${i}].opensAt`] = 'Opens at is required';
  });
  return errors;
}

const STAGE_PATH = /^stages\[(\d+)\]\.(tier|opensAt)$/;

/**
 * Validation issues (`stages[0].tier: 'vip' is not a tier (…)`, `target.id: no product 987 in …`)
 * as messages beside the form's fields. An issue no field holds goes to `form`; the first message
 * of a field wins.
 */
export function issuesToWindowErrors(
  issues: readonly EarlyAccessIssue[],
  errors: WindowFieldErrors = {},
): WindowFieldErrors {
  const out: WindowFieldErrors = { ...errors };
  const put = (field: string, label: string, message: string) => {
    // "no product 987 in …" reads best on its own.
    out[field] ??= message.startsWith('no ')
      ? `${message[0]!.toUpperCase()}${message.slice(1)}`
      : `${label} ${message}`;
  };
  for (const issue of issues) {
    const stage = STAGE_PATH.exec(issue.path);
    if (stage) put(`stages[${stage[1]}].${stage[2]}`, LABELS[stage[2]!]!, issue.message);
    else if (issue.path === 'target.id' || issue.path === 'target')
      put('targetId', LABELS.targetId!, issue.message);
    else if (issue.path === 'target.type') put('targetType', LABELS.targetType!, issue.message);
    else if (issue.path in LABELS) put(issue.path, LABELS[issue.path]!, issue.message);
    else {
      const line = issue.path ? `${issue.path} ${issue.message}` : issue.message;
      out.form = out.form ? `${out.form}; ${line}` : line;
    }
  }
  return out;
}

function issuesOf(error: AppError): EarlyAccessIssue[] {
  const issues = error.details.issues;
  return Array.isArray(issues)
    ? (issues as EarlyAccessIssue[])
    : [{ path: '', message: error.message }];
}

/** The shop's Admin client (the emulator's in the demo); undefined without an offline token. */
export async function adminClientFor(db: Database, shop: Shop): Promise<AdminClient | undefined> {
  const accessToken = await offlineAccessToken(db, shop.domain);
  if (!accessToken) return undefined;
  const endpoint = env().ADMIN_API_ENDPOINT;
  return createAdminClient({
    shop: shop.domain,
    accessToken,
    ...(endpoint ? { endpoint } : {}),
    logger: logger(),
    // A merchant is waiting: a few seconds of retries, then the page says so.
    maxAttempts: 3,
    maxDelayMs: 4_000,
  });
}

/**
 * One mirror sync right after a change, said in a sentence: what Shopify now holds. The change is
 * saved whatever happens here; the sweep retries what this run could not write.
 */
export async function syncNow(db: Database, shop: Shop): Promise<string> {
  const log = logger().child({ shop: shop.domain, component: 'admin-early-access' });
  try {
    const result = await syncShopEarlyAccess({ db, shop: shop.domain, log });
    if (result.status === 'skipped') {
      return `The mirror sync did not run (${result.reason}); the sweep writes it within minutes.`;
    }
    const parts = [
      result.written > 0 &&
        `${result.written} product ${result.written === 1 ? 'mirror' : 'mirrors'} written to Shopify`,
      result.deleted > 0 && `${result.deleted} removed`,
      result.failed > 0 && `${result.failed} refused by Shopify (retried by the sweep)`,
    ].filter((p): p is string => typeof p === 'string');
    const validation =
      result.validation === 'created' || result.validation === 'adopted'
        ? 'checkout validation installed'
        : result.validation === 'failed'
          ? 'the checkout validation could not be installed (see below)'
          : null;
    if (validation) parts.push(validation);
    return parts.length > 0 ? `${parts.join('; ')}.` : 'Shopify already held it.';
  } catch (error) {
    if (!(error instanceof AdminApiError)) throw error;
    log.warn({ err: error.message }, 'early-access sync after an admin change failed');
    return `Shopify could not be reached to write the mirror (${error.message}); the sweep retries.`;
  }
}

export type CreateOutcome =
  | { ok: true; name: string; target: string; sync: string }
  | { ok: false; status: number; values: WindowFormValues; errors: WindowFieldErrors };

/**
 * The create form's action: the window saved through saveEarlyAccessWindow (every problem shown
 * at once beside its field, nothing saved; an unknown product is one of them), then one sync.
 */
export async function createWindowFromForm(
  db: Database,
  shop: Shop,
  values: WindowFormValues,
  now: Date = new Date(),
): Promise<CreateOutcome> {
  const admin = await adminClientFor(db, shop);
  if (!admin) {
    return {
      ok: false,
      status: 409,
      values,
      errors: {
        form: 'The shop has no offline access token: reinstall the app so Laurel can check products at Shopify. Nothing was saved.',
      },
    };
  }
  const required = requiredErrors(values);
  if (Object.keys(required).length > 0) {
    // Every other problem shows too; the target is looked up at Shopify only once all is filled.
    return {
      ok: false,
      status: 400,
      values,
      errors: issuesToWindowErrors(await ruleIssues(db, shop, values, now, required), required),
    };
  }
  try {
    const saved = await saveEarlyAccessWindow(
      { db, shopId: shop.id, admin, now },
      windowDefinition(values),
    );
    return {
      ok: true,
      name: saved.window.name,
      target: saved.window.targetTitle ?? `${saved.window.targetType} ${saved.window.targetId}`,
      sync: await syncNow(db, shop),
    };
  } catch (error) {
    if (isAppError(error, ErrorCode.VALIDATION)) {
      return { ok: false, status: 400, values, errors: issuesToWindowErrors(issuesOf(error)) };
    }
    if (isAppError(error, ErrorCode.UPSTREAM)) {
      return { ok: false, status: 502, values, errors: { form: error.message } };
    }
    throw error;
  }
}

/**
 * The rules' issues with a form that has empty fields, leaving out the ones about those fields
 * (the rules would say "'' must be a local date and time" where the form says "is required").
 */
async function ruleIssues(
  db: Database,
  shop: Shop,
  values: WindowFormValues,
  now: Date,
  required: WindowFieldErrors,
): Promise<EarlyAccessIssue[]> {
  const program = await currentTierProgram(db, shop.id, now);
  try {
    parseEarlyAccessWindow(windowDefinition(values), {
      timeZone: shop.timezone,
      tiers: program?.program ?? null,
    });
    return [];
  } catch (error) {
    if (!(error instanceof EarlyAccessError)) throw error;
    const field = (path: string) => (path === 'target.id' || path === 'target' ? 'targetId' : path);
    return error.issues.filter((i) => !(field(i.path) in required));
  }
}

/** Archives a window (NOT_FOUND: another shop's, or none), then one sync; a sentence for the page. */
export async function archiveWindowFromAdmin(
  db: Database,
  shop: Shop,
  windowId: number,
): Promise<{ name: string; sync: string }> {
  const archived = await archiveEarlyAccessWindow({ db, shopId: shop.id }, windowId);
  return { name: archived.window.name, sync: await syncNow(db, shop) };
}

// ---------------------------------------------------------------------------------------------
// The list

export type WindowStatus = 'before' | 'early' | 'open' | 'ended' | 'archived';

export interface WindowRowView {
  id: number;
  name: string;
  target: string;
  /** "Gold and above from Nov 20, 2026, 09:00", soonest first. */
  stages: string[];
  everyone: string;
  status: WindowStatus;
  statusLabel: string;
  /** "Gold, Platinum may buy now; everyone else from …" */
  now: string;
  sync: { text: string; tone: 'success' | 'attention' | 'critical' | 'info' };
}

const STATUS_LABELS: Record<WindowStatus, string> = {
  before: 'Not started',
  early: 'Early access',
  open: 'Open to everyone',
  ended: 'Ended',
  archived: 'Archived',
};

/** "2026-11-20T09:00:00" (shop-local) → "Nov 20, 2026, 09:00": the wall time as the merchant set it. */
export function localText(local: string): string {
  const [date, time] = local.split('T') as [string, string];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  return new Intl.DateTimeFormat('en-US', {
    timeZone: 'UTC',
    dateStyle: 'medium',
    timeStyle: 'short',
    hourCycle: 'h23',
  }).format(new Date(Date.UTC(y, m - 1, d, hh, mm)));
}

function names(program: CompiledTierProgram | null, keys: readonly string[]): string {
  return keys.map((k) => (program && tierByKey(program, k)?.name) ?? k).join(', ');
}

function syncView(
  row: EarlyAccessWindow,
  status: WindowStatus,
  mirror: WindowMirrorStatus | undefined,
): WindowRowView['sync'] {
  if (status === 'archived' || status === 'ended') {
    return mirror
      ? { text: 'Being removed from Shopify', tone: 'attention' }
      : { text: 'Not on Shopify any more', tone: 'info' };
  }
  if (!mirror) {
    return row.targetType === 'collection'
      ? { text: 'The collection had no products when saved', tone: 'attention' }
      : { text: 'Waiting for the sync', tone: 'attention' };
  }
  const of = `${mirror.products} ${mirror.products === 1 ? 'product' : 'products'}`;
  if (mirror.failed > 0) {
    return {
      text: `Shopify refused ${mirror.failed} of ${of} (retried every few minutes): ${mirror.lastError ?? 'no reason given'}`,
      tone: 'critical',
    };
  }
  if (mirror.pending > 0)
    return { text: `Waiting for the sync: ${mirror.pending} of ${of}`, tone: 'attention' };
  return { text: `On Shopify (${of})`, tone: 'success' };
}

/** One window as the list shows it, at `now`, under the tier program in force. */
export function windowRow(
  row: EarlyAccessWindow,
  context: { timeZone: string; program: CompiledTierProgram | null },
  mirror: WindowMirrorStatus | undefined,
  now: Date,
): WindowRowView {
  const compiled = compileSavedWindow(row.definition, {
    timeZone: context.timeZone,
    tiers: context.program,
  });
  const program = context.program;
  const top = program ? program.tiers[program.tiers.length - 1]?.rank : undefined;
  const stages = compiled.stages.map((s) => {
    const name = (program && tierByKey(program, s.tier)?.name) ?? s.tier;
    return `${s.rank === top ? name : `${name} and above`} from ${localText(s.opensAtLocal)}`;
  });
  // Stages whose tier the program no longer has are not compiled: say so rather than hide them.
  for (const stage of row.definition.stages) {
    if (!compiled.stages.some((s) => s.tier === stage.tier)) {
      stages.push(`'${stage.tier}' (no longer a tier) from ${localText(`${stage.opensAt}:00`)}`);
    }
  }
  const t = now.getTime();
  const phase: EarlyAccessPhase = earlyAccessDecision(compiled, null, t).phase;
  const status: WindowStatus =
    row.archivedAt !== null
      ? 'archived'
      : phase === 'open' && t - compiled.everyoneAt >= MIRROR_GRACE_MS
        ? 'ended'
        : phase;
  const everyone = localText(compiled.everyoneAtLocal);
  let whoNow: string;
  if (phase === 'open') whoNow = 'Everyone may buy';
  else {
    const allowed = (program?.tiers ?? [])
      .filter((tier) => earlyAccessDecision(compiled, tier.rank, t).allowed)
      .map((tier) => tier.key);
    whoNow =
      allowed.length === 0
        ? `Nobody yet; everyone from ${everyone}`
        : `${names(program, allowed)} may buy now; everyone else from ${everyone}`;
  }
  return {
    id: row.id,
    name: row.name,
    target: `${row.targetType === 'product' ? 'Product' : 'Collection'}: ${row.targetTitle ?? '(title unknown)'} (${row.targetId})`,
    stages,
    everyone,
    status,
    statusLabel: STATUS_LABELS[status],
    now: whoNow,
    sync: syncView(row, status, mirror),
  };
}

/** "YYYY-MM-DDTHH:MM" on the shop's clock, `hours` from now, on the hour. */
function localInput(now: Date, timeZone: string, hours: number): string {
  const at = Math.ceil(now.getTime() / 3_600_000) * 3_600_000 + hours * 3_600_000;
  return localTimeText(at, timeZone).slice(0, 16);
}

/** The page's loader: the windows (active or archived), the checkout validation, the form. */
export async function earlyAccessPage(
  db: Database,
  shop: Shop,
  view: 'active' | 'archived',
  now: Date = new Date(),
) {
  const current = await currentTierProgram(db, shop.id, now);
  const program = current?.program ?? null;
  const rows = await listWindows(db, shop.id, 'all');
  const mirrors = await mirrorStatusByWindow(db, shop.id);
  const context = { timeZone: shop.timezone, program };
  const windows = rows
    .filter((r) => (r.archivedAt !== null) === (view === 'archived'))
    .map((r) => windowRow(r, context, mirrors.get(r.id), now));
  const validation = await getShopEarlyAccess(db, shop.id);
  const tiers = (program?.tiers ?? []).map((t) => ({ key: t.key, name: t.name }));
  // A new window: the second-highest tier (Gold of four) from the next hour, everyone in a week.
  const suggested = tiers[Math.max(tiers.length - 2, 0)]?.key ?? '';
  return {
    view,
    timezone: shop.timezone,
    tiers,
    windows,
    counts: {
      active: rows.filter((r) => r.archivedAt === null).length,
      archived: rows.filter((r) => r.archivedAt !== null).length,
    },
    validation: validation
      ? {
          installed: validation.validationId !== null,
          lastError: validation.lastError,
          syncedAt: validation.syncedAt
            ? localText(localTimeText(validation.syncedAt.getTime(), shop.timezone))
            : null,
        }
      : null,
    form: {
      name: '',
      targetType: 'product',
      targetId: '',
      stages: [{ tier: suggested, opensAt: localInput(now, shop.timezone, 0) }],
      everyoneAt: localInput(now, shop.timezone, 7 * 24),
    } satisfies WindowFormValues,
    maxStages: MAX_STAGES,
  };
}
