/**
 * The admin's expiry page (app/routes/app.expiry.tsx): the settings form as typed → a new
 * expiry settings version (loyalty/expiry-settings.ts validates; each problem is shown beside its
 * field and nothing is saved), the version history, and the points due to expire in each of the
 * next 12 months of the shop's calendar, from the members' lots (docs/expiry.md).
 */
import type { Executor } from '../db/client.server';
import { ExpirySettingsError, parseExpirySettings } from '../loyalty/expiry-settings';
import { endOfLocalDay, expiringBetween, localDayOf } from '../loyalty/lots';
import {
  monthKeyOfInstant,
  monthKeyFromNumber,
  monthNumberFromKey,
  zonedInstant,
} from '../loyalty/time';
import { formatInstant, formatMonth } from './admin-format';
import {
  currentExpiryPolicy,
  listExpiryPolicies,
  publishExpiryPolicy,
  type ExpiryPolicyVersion,
} from './models/expiry-policies.server';
import {
  loadLotEntries,
  lotsUnder,
  scheduledExpiryByMonth,
  staleLotMembers,
} from './models/expiry.server';
import type { Shop } from './models/shops.server';
import { env } from './env.server';
import { emailChannelStatus } from './notify/email.server';

/** The form as typed (all text, so what was typed comes back with the errors). */
export interface ExpiryFormValues {
  mode: string;
  months: string;
  /** "30, 7": days before expiry, comma separated. */
  reminderDays: string;
  email: boolean;
  shopify: boolean;
  /** 'now' or 'later'. */
  effective: string;
  /** Local date and time in the shop's timezone (YYYY-MM-DDTHH:MM) when effective is 'later'. */
  effectiveAt: string;
}

/** Field → message: mode, months, reminderDays, channels, effectiveAt. */
export type ExpiryFieldErrors = Record<string, string>;

export type SaveOutcome =
  | { ok: true; version: number; effectiveFrom: string }
  | { ok: false; errors: ExpiryFieldErrors; values: ExpiryFormValues };

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** Reads the form's fields; anything missing reads as empty. */
export function readExpiryForm(form: FormData): ExpiryFormValues {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  return {
    mode: text('mode'),
    months: text('months'),
    reminderDays: text('reminderDays'),
    email: form.get('email') === 'on',
    shopify: form.get('shopify') === 'on',
    effective: text('effective') || 'now',
    effectiveAt: text('effectiveAt'),
  };
}

/** Checks and saves the form as a new version; on any problem nothing is saved. */
export async function saveExpiryForm(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone'>,
  values: ExpiryFormValues,
  now: Date,
): Promise<SaveOutcome> {
  const errors: ExpiryFieldErrors = {};
  const months = values.months === '' ? Number.NaN : Number(values.months);
  const days: number[] = [];
  if (values.reminderDays !== '') {
    for (const part of values.reminderDays.split(',')) {
      const trimmed = part.trim();
      days.push(/^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN);
    }
  }
  let effectiveFrom = now;
  if (values.effective === 'later') {
    const m = LOCAL_TIME.exec(values.effectiveAt);
    const at = m
      ? zonedInstant(
          {
            year: Number(m[1]),
            month: Number(m[2]),
            day: Number(m[3]),
            hour: Number(m[4]),
            minute: Number(m[5]),
            second: 0,
          },
          shop.timezone,
        )
      : Number.NaN;
    if (Number.isNaN(at)) errors.effectiveAt = 'Enter a date and time (YYYY-MM-DDTHH:MM).';
    else if (at <= now.getTime()) errors.effectiveAt = 'Choose a time in the future.';
    else effectiveFrom = new Date(at);
  } else if (values.effective !== 'now') {
    errors.effectiveAt = 'Choose now or a later time.';
  }
  let settings;
  try {
    settings = parseExpirySettings({
      policy: { mode: values.mode, months },
      reminderDays: days,
      channels: { email: values.email, shopify: values.shopify },
    });
  } catch (error) {
    if (!(error instanceof ExpirySettingsError)) throw error;
    for (const issue of error.issues) {
      errors[issue.path] ??= issue.message.charAt(0).toUpperCase() + issue.message.slice(1) + '.';
    }
  }
  if (!settings || Object.keys(errors).length > 0) return { ok: false, errors, values };
  const saved = await publishExpiryPolicy(db, shop.id, settings, effectiveFrom);
  return { ok: true, version: saved.version, effectiveFrom: saved.effectiveFrom.toISOString() };
}

export interface ExpiryMonthView {
  month: string;
  label: string;
  points: number;
  members: number;
}

/**
 * Points that expire in each of the next 12 local months (this one included) under the version
 * in force now, if nothing is spent: summed from the schedules the expiry run recorded
 * (customer_lot_states), plus the lots of members changed since, read live.
 */
export async function expiryForecast(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone'>,
  policy: ExpiryPolicyVersion | null,
  now: Date,
  locale = 'en-US',
): Promise<ExpiryMonthView[]> {
  const first = monthNumberFromKey(monthKeyOfInstant(now.getTime(), shop.timezone));
  const months = Array.from({ length: 12 }, (_, i) => monthKeyFromNumber(first + i));
  const totals = new Map(months.map((m) => [m, { points: 0, members: 0 }]));
  if (policy && policy.policy.mode !== 'never') {
    // The end of the 12th month: the local midnight starting the month after it.
    const lastMonth = months.at(-1)!;
    const lastDay = new Date(Date.UTC(Number(lastMonth.slice(0, 4)), Number(lastMonth.slice(5)), 0))
      .toISOString()
      .slice(0, 10);
    const horizon = endOfLocalDay(lastDay, shop.timezone);
    for (const row of await scheduledExpiryByMonth(db, shop.id, policy.version, now, horizon)) {
      const total = totals.get(row.month);
      if (!total) continue;
      total.points += row.points;
      total.members += row.members;
    }
    // Members changed since their lots were last computed: read live (the next run records them).
    let after = 0;
    for (;;) {
      const ids = await staleLotMembers(db, shop.id, policy.version, after, 2_000);
      if (ids.length === 0) break;
      after = ids.at(-1)!;
      const entriesOf = await loadLotEntries(db, shop.id, ids);
      for (const id of ids) {
        const state = lotsUnder(entriesOf.get(id) ?? [], policy, shop.timezone);
        const counted = new Set<string>();
        for (const group of expiringBetween(state, now, horizon)) {
          // The month of the last usable day: what the member reads as "expires end of March".
          const month = group.lastDay.slice(0, 7);
          const total = totals.get(month);
          if (!total) continue;
          total.points += group.points;
          if (!counted.has(month)) total.members++;
          counted.add(month);
        }
      }
    }
  }
  return months.map((month) => ({
    month,
    label: formatMonth(month, locale),
    points: totals.get(month)!.points,
    members: totals.get(month)!.members,
  }));
}

export interface ExpiryVersionView {
  version: number;
  effectiveFrom: string;
  inForce: boolean;
  scheduled: boolean;
  policy: string;
  reminders: string;
}

/** "Each lot 12 months after it is earned", "The whole balance after 6 months without activity". */
export function policySentence(version: Pick<ExpiryPolicyVersion, 'policy'>): string {
  const p = version.policy;
  if (p.mode === 'never') return 'Points never expire';
  const months = `${p.months} month${p.months === 1 ? '' : 's'}`;
  return p.mode === 'lot'
    ? `Each lot expires ${months} after it is earned`
    : `The whole balance expires after ${months} without activity`;
}

function reminderSentence(version: ExpiryPolicyVersion): string {
  if (version.reminderDays.length === 0) return 'No reminders';
  const channels = [
    version.channels.email ? 'email' : null,
    version.channels.shopify ? 'Shopify customer metafield and tag' : null,
  ].filter(Boolean);
  return `${version.reminderDays.join(', ')} days before, by ${channels.join(' and ')}`;
}

function formValues(version: ExpiryPolicyVersion | null): ExpiryFormValues {
  return {
    mode: version?.policy.mode ?? 'never',
    months: version && version.policy.mode !== 'never' ? String(version.policy.months) : '12',
    reminderDays: version ? version.reminderDays.join(', ') : '',
    email: version?.channels.email ?? false,
    shopify: version?.channels.shopify ?? false,
    effective: 'now',
    effectiveAt: '',
  };
}

/** The expiry page's loader. */
export async function expiryPage(db: Executor, shop: Shop, now: Date = new Date()) {
  const current = await currentExpiryPolicy(db, shop.id, now);
  const versions = await listExpiryPolicies(db, shop.id);
  const forecast = await expiryForecast(db, shop, current, now);
  return {
    timezone: shop.timezone,
    today: localDayOf(now.getTime(), shop.timezone),
    current: current
      ? {
          version: current.version,
          policy: policySentence(current),
          reminders: reminderSentence(current),
        }
      : null,
    values: formValues(versions.at(-1) ?? null),
    versions: versions
      .map((v): ExpiryVersionView => ({
        version: v.version,
        effectiveFrom: formatInstant(v.effectiveFrom, shop.timezone, 'en-US'),
        inForce: v.version === current?.version,
        scheduled: v.effectiveFrom.getTime() > now.getTime(),
        policy: policySentence(v),
        reminders: reminderSentence(v),
      }))
      .reverse(),
    forecast,
    // Whether email can go out from this installation: the form says so beside the checkbox.
    emailChannel: emailChannelStatus(env()),
  };
}
