/**
 * The admin's campaigns page (app/routes/app.campaigns.tsx): the shop's campaigns as the merchant
 * reads them (upcoming, active, ended; what each gives, on what, when, on the shop's clock), the
 * create/edit form's values → a campaign definition, its validation issues → the field they belong
 * to, "end now", and a month calendar in the shop's timezone. The rules are loyalty/campaigns.ts's
 * and saving app/campaigns.server.ts's. docs/campaigns.md, docs/admin.md.
 */
import type { Database } from '../db/client.server';
import {
  campaignDays,
  campaignStatus,
  formatFactor,
  type CampaignDefinition,
  type CampaignIssue,
  type CampaignStatus,
} from '../loyalty/campaigns';
import { localTimeText } from '../loyalty/early-access';
import { formatMinorMoney } from '../loyalty/explain';
import { formatMoney, isKnownCurrency } from '../loyalty/money';
import { daysInMonth } from '../loyalty/time';
import { enqueueProgramSync } from './admin-program.server';
import { adminClientFor } from './admin-early-access.server';
import { endCampaign, saveCampaign } from './campaigns.server';
import { AppError, ErrorCode, isAppError } from './errors';
import {
  campaignRule,
  effectiveEnd,
  listCampaigns,
  type Campaign,
} from './models/campaigns.server';
import type { Shop } from './models/shops.server';

// ---------------------------------------------------------------------------------------------
// The form

export interface CampaignFormValues {
  name: string;
  kind: 'multiplier' | 'bonus';
  /** Decimal text ("2"). */
  multiplier: string;
  /** Whole points, as typed. */
  bonusPoints: string;
  /** Money text in the shop currency, empty: none. */
  minimumAmount: string;
  scope: 'all' | 'products' | 'collections';
  /** Ids, gids or admin URLs, one per line or comma-separated. */
  targetIds: string;
  stacking: 'multiply' | 'best';
  /** `YYYY-MM-DDTHH:MM`, shop-local (what a datetime-local input gives). */
  startsAt: string;
  endsAt: string;
}

/** Field errors by name (`name`, `multiplier`, `endsAt`, `targetIds`…) and `form`. */
export type CampaignFieldErrors = Record<string, string>;

const LABELS: Record<string, string> = {
  name: 'Name',
  kind: 'Kind',
  multiplier: 'Multiplier',
  bonusPoints: 'Bonus points',
  minimumAmount: 'Minimum order',
  scope: 'Applies to',
  targetIds: 'Products or collections',
  stacking: 'With tier multipliers',
  startsAt: 'Starts',
  endsAt: 'Ends',
};

const FIELDS = Object.keys(LABELS);

/** Reads the form's submitted draft (`campaign`, JSON of {@link CampaignFormValues}); else a 400. */
export function readCampaignDraft(text: unknown): CampaignFormValues {
  let raw: unknown;
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    raw = undefined;
  }
  const bad = new AppError(
    ErrorCode.VALIDATION,
    `campaign must be the campaign form’s JSON: {${FIELDS.join(', ')}}`,
  );
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad;
  const r = raw as Record<string, unknown>;
  if (FIELDS.some((f) => typeof r[f] !== 'string')) throw bad;
  return r as unknown as CampaignFormValues;
}

/** Ids as pasted: numbers, gids or admin URLs (…/products/123), one per line or comma-separated. */
export function targetIdsOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => /\/(?:products|collections)\/([1-9][0-9]{0,19})(?:[/?#].*)?$/.exec(t)?.[1] ?? t);
}

/** The form's values as the definition loyalty/campaigns.ts checks. */
export function campaignDefinition(values: CampaignFormValues): CampaignDefinition {
  const points = values.bonusPoints.trim();
  return {
    name: values.name,
    kind: values.kind,
    ...(values.kind === 'multiplier'
      ? { multiplier: values.multiplier }
      : {
          // Not a whole number: NaN, which the rules name ("must be a whole number…").
          bonusPoints: points === '' ? null : /^\d+$/.test(points) ? Number(points) : Number.NaN,
          minimumAmount: values.minimumAmount,
        }),
    scope: values.scope,
    targetIds: values.scope === 'all' ? [] : targetIdsOf(values.targetIds),
    stacking: values.stacking,
    startsAt: values.startsAt,
    endsAt: values.endsAt,
  };
}

/** Issues (`endsAt: must be after the start`) as messages beside the fields; others in `form`. */
export function issuesToCampaignErrors(issues: readonly CampaignIssue[]): CampaignFieldErrors {
  const out: CampaignFieldErrors = {};
  for (const issue of issues) {
    const field = issue.path.replace(/\[\d+\]$/, '');
    if (field in LABELS) {
      // "must be after the start" reads with its label; "choose at least one product" alone.
      const message = /^(?:must|is|may) /.test(issue.message)
        ? `${LABELS[field]} ${issue.message}`
        : `${issue.message[0]!.toUpperCase()}${issue.message.slice(1)}`;
      out[field] ??= message;
    } else {
      const line = issue.path ? `${issue.path} ${issue.message}` : issue.message;
      out.form = out.form ? `${out.form}; ${line}` : line;
    }
  }
  return out;
}

export type SaveOutcome =
  | { ok: true; id: number; name: string }
  | { ok: false; status: number; values: CampaignFormValues; errors: CampaignFieldErrors };

/**
 * The form's action (create, or edit with `campaignId`): every problem beside its field and
 * nothing saved; a started campaign, or a scoped one without a token, as a form-level error.
 */
export async function saveCampaignFromForm(
  db: Database,
  shop: Shop,
  values: CampaignFormValues,
  options: { campaignId?: number; staff?: string | null; now?: Date } = {},
): Promise<SaveOutcome> {
  try {
    const admin = values.scope === 'all' ? undefined : await adminClientFor(db, shop);
    const saved = await saveCampaign(
      {
        db,
        shop,
        ...(admin ? { admin } : {}),
        ...(options.now ? { now: options.now } : {}),
        staff: options.staff ?? null,
        requestSync: enqueueProgramSync,
      },
      campaignDefinition(values),
      options.campaignId,
    );
    return { ok: true, id: saved.id, name: saved.name };
  } catch (error) {
    if (isAppError(error, ErrorCode.VALIDATION)) {
      const issues = error.details.issues;
      return {
        ok: false,
        status: 400,
        values,
        errors: Array.isArray(issues)
          ? issuesToCampaignErrors(issues as CampaignIssue[])
          : { form: error.message },
      };
    }
    for (const [code, status] of [
      [ErrorCode.CONFLICT, 409],
      [ErrorCode.NOT_FOUND, 404],
      [ErrorCode.UPSTREAM, 502],
    ] as const) {
      if (isAppError(error, code))
        return { ok: false, status, values, errors: { form: error.message } };
    }
    throw error;
  }
}

/** "End now" from the list; NOT_FOUND / CONFLICT as AppErrors for the route to refuse. */
export async function endCampaignFromAdmin(
  db: Database,
  shop: Shop,
  campaignId: number,
  now: Date = new Date(),
): Promise<{ name: string }> {
  const ended = await endCampaign({ db, shop, now, requestSync: enqueueProgramSync }, campaignId);
  return { name: ended.name };
}

// ---------------------------------------------------------------------------------------------
// The list and the calendar

export interface CampaignRowView {
  id: number;
  name: string;
  status: CampaignStatus;
  statusLabel: string;
  /** "×2 points", "+50 points per order of $50.00 or more". */
  gives: string;
  /** "All products", "2 products", "1 collection (48 products)". */
  on: string;
  /** "Multiplies the tier multiplier", "The better of it and the tier multiplier". */
  stacking: string;
  /** "Sat, 5 Dec 2026, 00:00 → Mon, 7 Dec 2026, 00:00" (shop clock); "ended early …" when it was. */
  window: string;
  editable: boolean;
  endable: boolean;
  /** The row as form values, for Edit. */
  values: CampaignFormValues;
}

const STATUS_LABELS: Record<CampaignStatus, string> = {
  upcoming: 'Upcoming',
  active: 'Active',
  ended: 'Ended',
};

/** "2026-12-05T00:00:00" (shop-local) → "Sat, 5 Dec 2026, 00:00". */
export function localText(local: string): string {
  const [date, time] = local.split('T') as [string, string];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(Date.UTC(y, m - 1, d, hh, mm)));
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function campaignRow(row: Campaign, shop: Shop, now: Date): CampaignRowView {
  const rule = campaignRule(row);
  const status = campaignStatus(rule, now.getTime());
  const money = (minor: number) =>
    isKnownCurrency(shop.currency) ? formatMinorMoney(minor, shop.currency, 'en') : String(minor);
  const gives =
    row.kind === 'multiplier'
      ? `×${formatFactor(row.factorBps!)} points`
      : `+${plural(row.bonusPoints!, 'point')} per order${row.minimumMinor ? ` of ${money(row.minimumMinor)} or more` : ''}`;
  const on =
    row.scope === 'all'
      ? 'All products'
      : row.scope === 'products'
        ? plural(row.productIds.length, 'product')
        : `${plural(row.targetIds.length, 'collection')} (${plural(row.productIds.length, 'product')})`;
  const end = effectiveEnd(row);
  const endedEarly = row.endedAt !== null && end < row.endsAt;
  const window = `${localText(row.startsAtLocal)} → ${
    endedEarly
      ? `ended early ${localText(localTimeText(end.getTime(), shop.timezone))} (was ${localText(row.endsAtLocal)})`
      : localText(row.endsAtLocal)
  }`;
  return {
    id: row.id,
    name: row.name,
    status,
    statusLabel: endedEarly && row.endedAt! <= row.startsAt ? 'Cancelled' : STATUS_LABELS[status],
    gives,
    on,
    stacking:
      row.kind === 'bonus'
        ? 'Added after multipliers'
        : row.stacking === 'multiply'
          ? 'Multiplies the tier multiplier'
          : 'The better of it and the tier multiplier',
    window,
    editable: status === 'upcoming' && row.endedAt === null,
    endable: status !== 'ended',
    values: {
      name: row.name,
      kind: row.kind as CampaignFormValues['kind'],
      multiplier: row.factorBps ? formatFactor(row.factorBps) : '2',
      bonusPoints: row.bonusPoints ? String(row.bonusPoints) : '',
      minimumAmount:
        row.minimumMinor !== null && isKnownCurrency(shop.currency)
          ? formatMoney(row.minimumMinor, shop.currency)
          : '',
      scope: row.scope as CampaignFormValues['scope'],
      targetIds: row.targetIds.join('\n'),
      stacking: row.stacking as CampaignFormValues['stacking'],
      startsAt: row.startsAtLocal.slice(0, 16),
      endsAt: row.endsAtLocal.slice(0, 16),
    },
  };
}

export interface CalendarDay {
  /** `YYYY-MM-DD`. */
  date: string;
  day: number;
  /** In the month shown (the grid pads whole weeks from Monday). */
  inMonth: boolean;
  today: boolean;
  campaigns: { id: number; name: string; status: CampaignStatus }[];
}

export interface CalendarMonth {
  /** `YYYY-MM`. */
  month: string;
  /** "December 2026". */
  title: string;
  previous: string;
  next: string;
  /** Weeks, Monday first. */
  weeks: CalendarDay[][];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The month grid of `month` (`YYYY-MM`) with the days each campaign's window touches, shop clock. */
export function campaignCalendar(
  rows: readonly Campaign[],
  month: string,
  timeZone: string,
  now: Date,
): CalendarMonth {
  const m = MONTH.exec(month);
  if (!m) throw new AppError(ErrorCode.VALIDATION, `month must be YYYY-MM (got '${month}')`);
  const year = Number(m[1]);
  const mon = Number(m[2]);
  const byDay = new Map<string, CalendarDay['campaigns']>();
  for (const row of rows) {
    const rule = campaignRule(row);
    const status = campaignStatus(rule, now.getTime());
    for (const day of campaignDays(rule.startsAt, rule.endsAt, timeZone)) {
      const list = byDay.get(day) ?? [];
      list.push({ id: row.id, name: row.name, status });
      byDay.set(day, list);
    }
  }
  const today = localTimeText(now.getTime(), timeZone).slice(0, 10);
  const first = new Date(Date.UTC(year, mon - 1, 1));
  // Monday-first: back to the Monday on or before the 1st.
  const start = new Date(first);
  start.setUTCDate(1 - ((first.getUTCDay() + 6) % 7));
  const lastOfMonth = Date.UTC(year, mon - 1, daysInMonth(year, mon));
  const weeks: CalendarDay[][] = [];
  const cursor = new Date(start);
  while (cursor.getTime() <= lastOfMonth) {
    const week: CalendarDay[] = [];
    for (let i = 0; i < 7; i++) {
      const date = cursor.toISOString().slice(0, 10);
      week.push({
        date,
        day: cursor.getUTCDate(),
        inMonth: cursor.getUTCMonth() === mon - 1,
        today: date === today,
        campaigns: byDay.get(date) ?? [],
      });
      cursor.setUTCDate(cursor.getUTCDate() + 1);
    }
    weeks.push(week);
  }
  const shift = (delta: number) => {
    const d = new Date(Date.UTC(year, mon - 1 + delta, 1));
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
  };
  return {
    month,
    title: new Intl.DateTimeFormat('en-US', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    }).format(first),
    previous: shift(-1),
    next: shift(1),
    weeks,
  };
}

/** "YYYY-MM-DDTHH:MM" on the shop's clock: the next local midnight `days` days on. */
function localDayInput(now: Date, timeZone: string, days: number): string {
  const today = localTimeText(now.getTime(), timeZone).slice(0, 10);
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return `${d.toISOString().slice(0, 10)}T00:00`;
}

/** The page's loader: campaigns by status, the calendar of `month` (default: this one), the form. */
export async function campaignsPage(
  db: Database,
  shop: Shop,
  options: { month?: string | null; now?: Date } = {},
) {
  const now = options.now ?? new Date();
  const rows = await listCampaigns(db, shop.id);
  const views = rows.map((r) => campaignRow(r, shop, now));
  const thisMonth = localTimeText(now.getTime(), shop.timezone).slice(0, 7);
  const month = options.month && MONTH.test(options.month) ? options.month : thisMonth;
  return {
    timezone: shop.timezone,
    currency: shop.currency,
    upcoming: views.filter((v) => v.status === 'upcoming'),
    active: views.filter((v) => v.status === 'active'),
    // Most recent first.
    ended: views.filter((v) => v.status === 'ended').reverse(),
    calendar: campaignCalendar(rows, month, shop.timezone, now),
    form: {
      name: '',
      kind: 'multiplier',
      multiplier: '2',
      bonusPoints: '',
      minimumAmount: '',
      scope: 'all',
      targetIds: '',
      stacking: 'multiply',
      startsAt: localDayInput(now, shop.timezone, 1),
      endsAt: localDayInput(now, shop.timezone, 3),
    } satisfies CampaignFormValues,
  };
}
