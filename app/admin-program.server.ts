/**
 * The program page (app/routes/app.program.tsx): the program as the editor shows it, every version
 * with what changed from the one before (loyalty/program-diff.ts), Save — a new version effective
 * now or at a future shop-local time, then the storefront's program summary asked for — and
 * Simulate, the draft replayed over the shop's own orders (app/models/simulation.server.ts).
 * The form's reading is app/admin-program-form.ts's, shared with the browser's live preview.
 * docs/program-editor.md.
 */
import type { Executor } from '../db/client.server';
import { currencyDigits } from '../loyalty/money';
import { pointsToMinor } from '../loyalty/point-value';
import { diffCompiled } from '../loyalty/program-diff';
import { parseProgram, type CompiledProgram, type ProgramDefinition } from '../loyalty/program';
import type { SimulationSide } from '../loyalty/simulation';
import { daysInMonth, zonedInstant } from '../loyalty/time';
import { enqueueMetafieldSync } from './queues/metafield-queue.server';
import { enqueueFromWeb, webMetafieldQueue } from './queues/web-enqueue.server';
import {
  issuesToProgramFieldErrors,
  parseProgramForm,
  programFormValues,
  starterForm,
  type ProgramFieldErrors,
  type ProgramFormValues,
} from './admin-program-form';
import { formatInstant, formatInteger, formatMinor, formatMonth } from './admin-format';
import { AppError, ErrorCode, isAppError } from './errors';
import { listPrograms, publishProgram, ProgramTimeline } from './models/programs.server';
import { setTestOrdersEarn } from './models/shop-settings.server';
import type { Shop } from './models/shops.server';
import {
  DEFAULT_SIMULATION_MONTHS,
  MAX_SIMULATION_MONTHS,
  MIN_SIMULATION_MONTHS,
  simulateShopProgram,
} from './models/simulation.server';

// ---------------------------------------------------------------------------------------------
// Reading the submitted draft

/**
 * The form's submitted draft (the field `draft`, JSON of {@link ProgramFormValues}). Text that is
 * not the shape the page sends is a 400 (not a field error: the page never sends it).
 */
export function readProgramDraft(text: unknown): ProgramFormValues {
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    raw = undefined;
  }
  const bad = () =>
    new AppError(
      ErrorCode.VALIDATION,
      "draft must be the program editor's JSON: {name, unit, bands: [{over, upTo, pointsPerUnit}], earnOn, posOrdersEarn, testOrdersEarn, signupBonus, redemptionRefunds, effective, effectiveAt}",
    );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad();
  const r = raw as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string';
  if (!Array.isArray(r.bands) || r.bands.length > 50) throw bad();
  const bands = (r.bands as unknown[]).map((b) => {
    const row = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>;
    if (!str(row.over) || !str(row.upTo) || !str(row.pointsPerUnit)) throw bad();
    return { over: row.over, upTo: row.upTo, pointsPerUnit: row.pointsPerUnit };
  });
  if (
    !str(r.name) ||
    !str(r.unit) ||
    !str(r.signupBonus) ||
    !str(r.effectiveAt) ||
    typeof r.posOrdersEarn !== 'boolean' ||
    typeof r.testOrdersEarn !== 'boolean' ||
    (r.effective !== 'now' && r.effective !== 'scheduled') ||
    (r.earnOn !== 'subtotal_after_discounts' && r.earnOn !== 'total') ||
    (r.redemptionRefunds !== 'keep_points' && r.redemptionRefunds !== 'return_points')
  ) {
    throw bad();
  }
  return {
    name: r.name,
    unit: r.unit,
    bands,
    earnOn: r.earnOn,
    posOrdersEarn: r.posOrdersEarn,
    testOrdersEarn: r.testOrdersEarn,
    signupBonus: r.signupBonus,
    redemptionRefunds: r.redemptionRefunds,
    effective: r.effective,
    effectiveAt: r.effectiveAt,
  };
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/**
 * When a save takes effect: `now`, or the shop-local date-time typed (`YYYY-MM-DDTHH:MM`, what a
 * datetime-local input sends), which must be in the future.
 */
export function effectiveInstant(
  values: Pick<ProgramFormValues, 'effective' | 'effectiveAt'>,
  timezone: string,
  now: Date,
): { at: Date } | { error: string } {
  if (values.effective === 'now') return { at: now };
  const text = values.effectiveAt.trim();
  if (text === '') return { error: 'Effective from is required when the change is scheduled' };
  const m = LOCAL_TIME.exec(text);
  const [year, month, day, hour, minute] = m ? m.slice(1).map(Number) : [];
  if (
    !m ||
    month! < 1 ||
    month! > 12 ||
    day! < 1 ||
    day! > daysInMonth(year!, month!) ||
    hour! > 23 ||
    minute! > 59
  ) {
    return { error: `Effective from '${text}' is not a date and time (YYYY-MM-DD HH:MM)` };
  }
  const at = new Date(
    zonedInstant(
      { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: 0 },
      timezone,
    ),
  );
  if (at.getTime() <= now.getTime()) {
    return {
      error: `Effective from must be in the future: ${text.replace('T', ' ')} in ${timezone} has passed`,
    };
  }
  return { at };
}

// ---------------------------------------------------------------------------------------------
// The page

export interface ProgramVersionView {
  version: number;
  effectiveFrom: string;
  status: 'in force' | 'scheduled' | 'superseded';
  /** What changed from the version before, one phrase each ("first version" for version 1). */
  changes: string[];
}

/** The program page's loader: the editor's values, the versions, and what Simulate prices at. */
export async function programPage(db: Executor, shop: Shop, locale: string, now = new Date()) {
  const versions = await listPrograms(db, shop.id);
  const timeline = new ProgramTimeline(versions);
  const inForce = timeline.at(now)?.version ?? null;
  const compiled = versions.map((v) => parseProgram(v.definition));
  const history: ProgramVersionView[] = versions
    .map((v, i) => ({
      version: v.version,
      effectiveFrom: formatInstant(v.effectiveFrom, shop.timezone, locale),
      status:
        v.version === inForce
          ? ('in force' as const)
          : v.effectiveFrom > now
            ? ('scheduled' as const)
            : ('superseded' as const),
      changes: i === 0 ? ['first version'] : diffCompiled(compiled[i - 1]!, compiled[i]!),
    }))
    .reverse();
  const latest = versions.at(-1);
  return {
    currency: shop.currency,
    timezone: shop.timezone,
    inForce,
    latestVersion: latest?.version ?? 0,
    values: latest
      ? programFormValues(latest.definition, shop.testOrdersEarn)
      : starterForm(shop.currency, currencyDigits(shop.currency)),
    hasProgram: latest !== undefined,
    history,
    months: {
      default: DEFAULT_SIMULATION_MONTHS,
      min: MIN_SIMULATION_MONTHS,
      max: MAX_SIMULATION_MONTHS,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Save

/**
 * For the web process after a publish: a metafield sync of the shop soon, so the storefront's
 * program summary (`app.metafields.laurel.program`) follows. Never throws: resolves false when
 * Redis did not take the job — the sweep finds the stale summary anyway (a version coming into
 * force later is found by the same sweep when its time comes).
 */
export function enqueueProgramSync(shopDomain: string): Promise<boolean> {
  return enqueueFromWeb(() => enqueueMetafieldSync(webMetafieldQueue(), shopDomain), {
    log: { shop: shopDomain, component: 'program-editor' },
    what: 'a metafield sync after a program publish',
  });
}

export type SaveOutcome =
  | {
      ok: true;
      /** The version published; null when only the test-order setting changed. */
      version: number | null;
      effectiveFrom: string | null;
      scheduled: boolean;
      changes: string[];
      sync: string | null;
    }
  | { ok: false; values: ProgramFormValues; errors: ProgramFieldErrors };

function sameDefinition(a: ProgramDefinition, b: ProgramDefinition): boolean {
  return diffCompiled(parseProgram(a), parseProgram(b)).length === 0;
}

/**
 * Save: the draft published as the next version, effective now or at the future time chosen, the
 * shop's test-order setting written with it (one transaction), then the storefront sync asked
 * for. Nothing is written when anything is invalid or nothing changed.
 */
export async function saveProgramForm(
  db: Executor,
  shop: Shop,
  values: ProgramFormValues,
  requestSync: (shopDomain: string) => Promise<unknown>,
  locale: string,
  now: Date = new Date(),
): Promise<SaveOutcome> {
  const parsed = parseProgramForm(values, shop.currency);
  const errors = { ...parsed.errors };
  const effective = effectiveInstant(values, shop.timezone, now);
  if ('error' in effective) errors.effectiveAt ??= effective.error;
  if (Object.keys(errors).length > 0 || 'error' in effective) return { ok: false, values, errors };

  const versions = await listPrograms(db, shop.id);
  const latest = versions.at(-1);
  const draft = parseProgram(parsed.definition);
  const unchanged = latest !== undefined && sameDefinition(latest.definition, draft.definition);
  const testChanged = values.testOrdersEarn !== shop.testOrdersEarn;
  if (unchanged && !testChanged) {
    return {
      ok: false,
      values,
      errors: { form: `Nothing changed: the draft is version ${latest.version}.` },
    };
  }
  if (unchanged) {
    await setTestOrdersEarn(db, shop.id, values.testOrdersEarn);
    return {
      ok: true,
      version: null,
      effectiveFrom: null,
      scheduled: false,
      changes: [values.testOrdersEarn ? 'test orders now earn' : 'test orders no longer earn'],
      sync: null,
    };
  }
  let published;
  try {
    published = await db.transaction(async (tx) => {
      const row = await publishProgram(tx, shop.id, parsed.definition, effective.at);
      if (testChanged) await setTestOrdersEarn(tx, shop.id, values.testOrdersEarn);
      return row;
    });
  } catch (error) {
    if (!isAppError(error, ErrorCode.VALIDATION)) throw error;
    const issues = Array.isArray(error.details.issues)
      ? (error.details.issues as { path: string; message: string }[])
      : [{ path: '', message: error.message }];
    return { ok: false, values, errors: issuesToProgramFieldErrors(issues) };
  }
  const changes = latest ? diffCompiled(parseProgram(latest.definition), draft) : ['first version'];
  if (testChanged)
    changes.push(values.testOrdersEarn ? 'test orders now earn' : 'test orders no longer earn');
  let sync: string;
  try {
    if ((await requestSync(shop.domain)) === false) throw new Error('not queued');
    sync =
      values.effective === 'now'
        ? 'The storefront’s program summary follows within seconds.'
        : 'The storefront’s program summary changes when the version comes into force.';
  } catch {
    sync =
      'The storefront sync could not be queued just now: the sweep brings the program summary up to date within minutes.';
  }
  return {
    ok: true,
    version: published.version,
    effectiveFrom: formatInstant(published.effectiveFrom, shop.timezone, locale),
    scheduled: values.effective === 'scheduled',
    changes,
    sync,
  };
}

// ---------------------------------------------------------------------------------------------
// Simulate

export interface SimulationSideView {
  issued: string;
  reversed: string;
  net: string;
  cost: string | null;
}

export interface SimulationRowView {
  month: string;
  orders: string;
  current: SimulationSideView;
  draft: SimulationSideView;
  /** Draft minus current, net points: "+1,234" / "−56" / "0". */
  difference: string;
  membersAffected: string;
}

export interface SimulationView {
  months: number;
  period: string;
  rows: SimulationRowView[];
  totals: SimulationRowView;
  /** The headline: how the draft compares over the period. */
  summary: string;
  /** What the costs are at, or why there are none. */
  valueNote: string;
  /** Raw figures for tests and the docs: net points per side over the period. */
  net: { current: number; draft: number; membersAffected: number; orders: number };
  elapsedMs: number;
}

export type SimulateOutcome =
  | { ok: true; simulation: SimulationView }
  | { ok: false; values: ProgramFormValues; errors: ProgramFieldErrors };

/** The months field as typed: a whole number from 1 to 24, else a field error. */
export function readMonths(text: unknown): number | string {
  const t = typeof text === 'string' ? text.trim() : '';
  const n = /^[0-9]{1,3}$/.test(t) ? Number(t) : NaN;
  if (Number.isInteger(n) && n >= MIN_SIMULATION_MONTHS && n <= MAX_SIMULATION_MONTHS) return n;
  return `Months must be a whole number from ${MIN_SIMULATION_MONTHS} to ${MAX_SIMULATION_MONTHS}`;
}

const signed = (n: number, locale: string) =>
  n > 0 ? `+${formatInteger(n, locale)}` : n < 0 ? `−${formatInteger(-n, locale)}` : '0';

/**
 * Simulate: the draft against the versions in force over the shop's last `months` months (the
 * current one included), side by side per month. Reads only. An invalid draft gives its field
 * errors (the effective date is not read: simulating needs none).
 */
export async function simulateProgramForm(
  db: Executor,
  shop: Shop,
  values: ProgramFormValues,
  monthsText: unknown,
  locale: string,
  now: Date = new Date(),
): Promise<SimulateOutcome> {
  const parsed = parseProgramForm(values, shop.currency);
  const errors = { ...parsed.errors };
  const months = readMonths(monthsText);
  if (typeof months === 'string') errors.months = months;
  if (Object.keys(errors).length > 0 || typeof months === 'string') {
    return { ok: false, values, errors };
  }
  const draft: CompiledProgram = parseProgram(parsed.definition);
  const started = performance.now();
  const sim = await simulateShopProgram(db, shop, draft, {
    months,
    now,
    draftTestOrdersEarn: values.testOrdersEarn,
  });
  const elapsedMs = Math.round(performance.now() - started);
  const { result, pointValue } = sim;
  const money = (minor: number | null) =>
    minor === null ? null : formatMinor(minor, shop.currency, locale);
  const side = (s: SimulationSide): SimulationSideView => ({
    issued: formatInteger(s.issued, locale),
    reversed: formatInteger(s.reversed, locale),
    net: formatInteger(s.net, locale),
    cost: money(s.costMinor),
  });
  const row = (
    month: string,
    m: (typeof result.months)[number] | typeof result.totals,
  ): SimulationRowView => ({
    month,
    orders: formatInteger(m.orders, locale),
    current: side(m.current),
    draft: side(m.draft),
    difference: signed(m.draft.net - m.current.net, locale),
    membersAffected: formatInteger(m.membersAffected, locale),
  });
  const first = formatMonth(sim.window.months[0]!, locale);
  const last = formatMonth(sim.window.months.at(-1)!, locale);
  const period = first === last ? first : `${first} – ${last}`;
  const delta = result.totals.draft.net - result.totals.current.net;
  const deltaCost = pointValue ? pointsToMinor(delta, pointValue) : null;
  const summary =
    delta === 0 && result.totals.membersAffected === 0
      ? `Over ${period} the draft would have issued exactly what your program did: no member’s points differ.`
      : `Over ${period} the draft would have issued ${formatInteger(Math.abs(delta), locale)} ${delta >= 0 ? 'more' : 'fewer'} points net${deltaCost === null ? '' : ` (${delta >= 0 ? '+' : '−'}${money(Math.abs(deltaCost))} at the redemption value)`} than your program did; ${formatInteger(result.totals.membersAffected, locale)} of ${formatInteger(result.members, locale)} earning members would have a different balance.`;
  const valueNote = pointValue
    ? `Costs are at the redemption value: ${money(pointValue.amountMinor)} for ${formatInteger(pointValue.points, locale)} points, the best rate in your rewards catalog (“${pointValue.rewardTitle}”).`
    : 'Points only: no active reward gives a fixed amount of money for points (an amount off, store credit or a points slider), so a point has no money value to price the cost at.';
  return {
    ok: true,
    simulation: {
      months,
      period,
      rows: result.months.map((m) => row(formatMonth(m.month, locale), m)),
      totals: row('Total', result.totals),
      summary,
      valueNote,
      net: {
        current: result.totals.current.net,
        draft: result.totals.draft.net,
        membersAffected: result.totals.membersAffected,
        orders: result.totals.orders,
      },
      elapsedMs,
    },
  };
}
