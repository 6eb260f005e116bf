/**
 * The bonuses page (/app/bonuses, app/routes/app.bonuses.tsx): the settings form's values ↔ a bonus
 * program (loyalty/bonuses.ts), Save as a new version with every problem beside its field, the
 * version history, and the bonuses awarded this month (shop time) by kind. The sign-up bonus is
 * shown from the earn program, edited on /app/program. docs/bonuses.md.
 */
import type { Executor } from '../db/client.server';
import {
  emptyBonusProgram,
  SOCIAL_NETWORK_NAMES,
  SOCIAL_NETWORKS,
  type BonusIssue,
  type BonusProgramDefinition,
  type SocialNetwork,
} from '../loyalty/bonuses';
import { zonedMidnight, wallTimeOf } from '../loyalty/time';
import { isAppError, ErrorCode, AppError } from './errors';
import {
  bonusProgramAt,
  listBonusPrograms,
  publishBonusProgram,
} from './models/bonus-programs.server';
import { bonusCounts, type BonusCounts } from './models/bonuses.server';
import { compiledProgram, programAt } from './models/programs.server';
import type { Shop } from './models/shops.server';

/** The form as text, by field name: `birthdayPoints`, `social.instagram.url`… */
export type BonusFormValues = Record<string, string>;
export type BonusFieldErrors = Record<string, string>;

export const FIELD_LABELS: Record<string, string> = {
  birthdayPoints: 'Birthday points',
  newsletterPoints: 'Newsletter points',
  ...Object.fromEntries(
    SOCIAL_NETWORKS.flatMap((n) => [
      [`social.${n}.url`, `${SOCIAL_NETWORK_NAMES[n]} profile URL`],
      [`social.${n}.points`, `${SOCIAL_NETWORK_NAMES[n]} points`],
    ]),
  ),
};

export const FORM_FIELDS = Object.keys(FIELD_LABELS);

/** A stored program as the form shows it (0 and no URL as empty fields). */
export function bonusFormValues(d: BonusProgramDefinition): BonusFormValues {
  const points = (n: number) => (n === 0 ? '' : String(n));
  const values: BonusFormValues = {
    birthdayPoints: points(d.birthdayPoints),
    newsletterPoints: points(d.newsletterPoints),
  };
  for (const n of SOCIAL_NETWORKS) {
    values[`social.${n}.url`] = d.social[n].url ?? '';
    values[`social.${n}.points`] = points(d.social[n].points);
  }
  return values;
}

/** The posted form's fields; anything missing is empty, anything over 600 characters a 400. */
export function readBonusForm(form: FormData): BonusFormValues {
  const values: BonusFormValues = {};
  for (const field of FORM_FIELDS) {
    const value = form.get(field);
    if (value !== null && typeof value !== 'string') {
      throw new AppError(ErrorCode.VALIDATION, `${field} must be text`);
    }
    if ((value ?? '').length > 600) {
      throw new AppError(ErrorCode.VALIDATION, `${field} is too long`);
    }
    values[field] = value ?? '';
  }
  return values;
}

function definitionOf(values: BonusFormValues): Record<string, unknown> {
  return {
    birthdayPoints: values.birthdayPoints ?? '',
    newsletterPoints: values.newsletterPoints ?? '',
    social: Object.fromEntries(
      SOCIAL_NETWORKS.map((n) => [
        n,
        { url: values[`social.${n}.url`] ?? '', points: values[`social.${n}.points`] ?? '' },
      ]),
    ),
  };
}

/** The rules' issues beside the form's fields: "Instagram profile URL must start with https://". */
export function issuesToBonusErrors(issues: readonly BonusIssue[]): BonusFieldErrors {
  const errors: BonusFieldErrors = {};
  for (const issue of issues) {
    const label = FIELD_LABELS[issue.path];
    if (label) errors[issue.path] ??= `${label} ${issue.message}`;
    else errors.form = [errors.form, `${issue.path} ${issue.message}`].filter(Boolean).join('; ');
  }
  return errors;
}

export type BonusSaveOutcome =
  { ok: true; version: number } | { ok: false; values: BonusFormValues; errors: BonusFieldErrors };

/** Save: a new version effective `now`, or the problems by field and nothing written. */
export async function saveBonusForm(
  db: Executor,
  shop: Shop,
  values: BonusFormValues,
  now: Date = new Date(),
): Promise<BonusSaveOutcome> {
  try {
    const saved = await publishBonusProgram(db, shop.id, definitionOf(values), now);
    return { ok: true, version: saved.version };
  } catch (error) {
    if (!isAppError(error, ErrorCode.VALIDATION)) throw error;
    const issues = (error.details.issues ?? []) as BonusIssue[];
    return { ok: false, values, errors: issuesToBonusErrors(issues) };
  }
}

/** One line per version for the history: what it gave. */
export function bonusSummary(d: BonusProgramDefinition): string {
  const parts: string[] = [];
  const pts = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'point' : 'points'}`;
  if (d.birthdayPoints > 0) parts.push(`birthday ${pts(d.birthdayPoints)}`);
  if (d.newsletterPoints > 0) parts.push(`newsletter ${pts(d.newsletterPoints)}`);
  for (const n of SOCIAL_NETWORKS) {
    if (d.social[n].points > 0) parts.push(`${SOCIAL_NETWORK_NAMES[n]} ${pts(d.social[n].points)}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'all bonuses off';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The shop's current local month as [start, next month's start) and its name. */
export function shopMonth(now: Date, timezone: string) {
  const wall = wallTimeOf(now.getTime(), timezone);
  const next = wall.month === 12 ? { y: wall.year + 1, m: 1 } : { y: wall.year, m: wall.month + 1 };
  const from = new Date(zonedMidnight(`${wall.year}-${pad(wall.month)}-01`, timezone));
  const to = new Date(zonedMidnight(`${next.y}-${pad(next.m)}-01`, timezone));
  const label = new Intl.DateTimeFormat('en-US', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(Date.UTC(wall.year, wall.month - 1, 1)));
  return { from, to, label };
}

export interface BonusPage {
  timezone: string;
  values: BonusFormValues;
  /** The version in force now; null before the first save. */
  inForce: number | null;
  history: { version: number; effectiveFrom: string; summary: string }[];
  signupBonus: number;
  networks: { network: SocialNetwork; name: string }[];
  month: string;
  awarded: { kind: keyof BonusCounts; label: string; entries: number; points: number }[];
}

const KIND_LABELS: Record<keyof BonusCounts, string> = {
  signup: 'Sign-up',
  birthday: 'Birthday',
  newsletter: 'Newsletter',
  social: 'Social follow',
};

/** The page's data for `shop` at `now`. */
export async function bonusesPage(
  db: Executor,
  shop: Shop,
  now: Date = new Date(),
): Promise<BonusPage> {
  const current = await bonusProgramAt(db, shop.id, now);
  const versions = await listBonusPrograms(db, shop.id);
  const program = await programAt(db, shop.id, now);
  const month = shopMonth(now, shop.timezone);
  const counts = await bonusCounts(db, shop.id, month.from, month.to);
  return {
    timezone: shop.timezone,
    values: bonusFormValues(current?.definition ?? emptyBonusProgram()),
    inForce: current?.version ?? null,
    history: versions
      .slice()
      .reverse()
      .map((v) => ({
        version: v.version,
        effectiveFrom: v.effectiveFrom.toISOString(),
        summary: bonusSummary(v.definition),
      })),
    signupBonus: program ? compiledProgram(program).signupBonus : 0,
    networks: SOCIAL_NETWORKS.map((n) => ({ network: n, name: SOCIAL_NETWORK_NAMES[n] })),
    month: month.label,
    awarded: (Object.keys(KIND_LABELS) as (keyof BonusCounts)[]).map((kind) => ({
      kind,
      label: KIND_LABELS[kind],
      entries: counts.entries[kind],
      points: counts.points[kind],
    })),
  };
}
