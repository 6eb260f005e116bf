/**
 * Bonus programs (docs/bonuses.md): points for a birthday, a newsletter subscription and following
 * the shop on a social network. Pure: the settings' parse/validate, the birthday a shopper gives,
 * who is due a birthday bonus on a local day, and the social claim rate limit. The sign-up bonus is
 * the earn program's (`signupBonus`, loyalty/program.ts), not repeated here.
 */
import { daysInMonth } from './time';

export const SOCIAL_NETWORKS = [
  'instagram',
  'facebook',
  'tiktok',
  'x',
  'youtube',
  'pinterest',
] as const;
export type SocialNetwork = (typeof SOCIAL_NETWORKS)[number];

export const SOCIAL_NETWORK_NAMES: Record<SocialNetwork, string> = {
  instagram: 'Instagram',
  facebook: 'Facebook',
  tiktok: 'TikTok',
  x: 'X',
  youtube: 'YouTube',
  pinterest: 'Pinterest',
};

export function isSocialNetwork(value: unknown): value is SocialNetwork {
  return typeof value === 'string' && (SOCIAL_NETWORKS as readonly string[]).includes(value);
}

export interface SocialFollowSetting {
  /** The shop's profile, https only; null when the network is off. */
  url: string | null;
  /** 0 = off. */
  points: number;
}

export interface BonusProgramDefinition {
  /** Points on the member's birthday month, once a local year; 0 = off. */
  birthdayPoints: number;
  /** Points once ever when the member's email marketing consent is `subscribed`; 0 = off. */
  newsletterPoints: number;
  social: Record<SocialNetwork, SocialFollowSetting>;
}

export const MAX_BONUS_POINTS = 1_000_000;
const MAX_URL_LENGTH = 500;

export const emptyBonusProgram = (): BonusProgramDefinition => ({
  birthdayPoints: 0,
  newsletterPoints: 0,
  social: Object.fromEntries(
    SOCIAL_NETWORKS.map((n) => [n, { url: null, points: 0 }]),
  ) as BonusProgramDefinition['social'],
});

export interface BonusIssue {
  path: string;
  message: string;
}

export class BonusProgramError extends Error {
  readonly issues: BonusIssue[];
  constructor(issues: BonusIssue[]) {
    super(
      `invalid bonus settings:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'BonusProgramError';
    this.issues = issues;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whole points 0–1,000,000; a form's text ("250", "") is read as a number, "" as 0. */
function points(value: unknown, path: string, issues: BonusIssue[]): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    issues.push({ path, message: 'must be a whole number of points' });
    return 0;
  }
  if (n < 0 || n > MAX_BONUS_POINTS) {
    issues.push({
      path,
      message: `must be between 0 (off) and ${MAX_BONUS_POINTS.toLocaleString('en')}`,
    });
    return 0;
  }
  return n;
}

function profileUrl(value: unknown, path: string, issues: BonusIssue[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    issues.push({ path, message: 'must be a URL' });
    return null;
  }
  const trimmed = value.trim();
  if (trimmed === '') return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    issues.push({ path, message: 'is not a URL (https://…)' });
    return null;
  }
  if (url.protocol !== 'https:') {
    issues.push({ path, message: 'must start with https://' });
    return null;
  }
  if (trimmed.length > MAX_URL_LENGTH || url.username || url.password) {
    issues.push({
      path,
      message: `must be a plain https URL of at most ${MAX_URL_LENGTH} characters`,
    });
    return null;
  }
  return url.href;
}

/**
 * Validates bonus settings (JSON, or the admin form's text values) and returns them normalised.
 * Throws BonusProgramError listing every problem with the field's path (`social.instagram.url`).
 */
export function parseBonusProgram(json: unknown): BonusProgramDefinition {
  const issues: BonusIssue[] = [];
  if (!isObject(json)) throw new BonusProgramError([{ path: '', message: 'must be an object' }]);
  const known = new Set(['birthdayPoints', 'newsletterPoints', 'social']);
  for (const key of Object.keys(json)) {
    if (!known.has(key)) issues.push({ path: key, message: 'is not a bonus setting' });
  }
  const definition = emptyBonusProgram();
  definition.birthdayPoints = points(json.birthdayPoints, 'birthdayPoints', issues);
  definition.newsletterPoints = points(json.newsletterPoints, 'newsletterPoints', issues);
  const social = json.social ?? {};
  if (!isObject(social)) {
    issues.push({ path: 'social', message: 'must be an object keyed by network' });
  } else {
    for (const key of Object.keys(social)) {
      if (!isSocialNetwork(key)) {
        issues.push({
          path: `social.${key}`,
          message: `is not a network (${SOCIAL_NETWORKS.join(', ')})`,
        });
      }
    }
    for (const network of SOCIAL_NETWORKS) {
      const entry = social[network] ?? {};
      const path = `social.${network}`;
      if (!isObject(entry)) {
        issues.push({ path, message: 'must be an object with url and points' });
        continue;
      }
      const pts = points(entry.points, `${path}.points`, issues);
      const url = profileUrl(entry.url, `${path}.url`, issues);
      if (pts > 0 && url === null && !issues.some((i) => i.path === `${path}.url`)) {
        issues.push({ path: `${path}.url`, message: 'is required when the network gives points' });
      }
      definition.social[network] = { url, points: pts };
    }
  }
  if (issues.length > 0) throw new BonusProgramError(issues);
  return definition;
}

/** The networks that give points, in display order. */
export function activeNetworks(
  definition: BonusProgramDefinition,
): { network: SocialNetwork; url: string; points: number }[] {
  return SOCIAL_NETWORKS.flatMap((network) => {
    const { url, points: pts } = definition.social[network];
    return pts > 0 && url ? [{ network, url, points: pts }] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Birthdays

/** Month and day only: Laurel never stores a birth year. */
export interface BirthMonthDay {
  month: number;
  day: number;
}

/**
 * A birthday the shopper gives ({ month, day } as numbers or digit strings). 29 February is
 * accepted. Throws BonusProgramError naming `month` or `day`.
 */
export function parseBirthMonthDay(json: unknown): BirthMonthDay {
  const issues: BonusIssue[] = [];
  if (!isObject(json)) throw new BonusProgramError([{ path: '', message: 'must be an object' }]);
  const read = (name: 'month' | 'day', max: number): number => {
    const raw = json[name];
    const n = typeof raw === 'string' && /^\d{1,2}$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
      issues.push({ path: name, message: `must be a whole number from 1 to ${max}` });
      return 0;
    }
    return n;
  };
  const month = read('month', 12);
  const day = read('day', 31);
  // 2000 is a leap year: the longest each month can be.
  if (month > 0 && day > 0 && day > daysInMonth(2000, month)) {
    issues.push({ path: 'day', message: `month ${month} has no day ${day}` });
  }
  const extra = Object.keys(json).filter((k) => k !== 'month' && k !== 'day');
  for (const key of extra)
    issues.push({ path: key, message: 'is not accepted (month and day only)' });
  if (issues.length > 0) throw new BonusProgramError(issues);
  return { month, day };
}

/** `facts.birth_date` (YYYY-MM-DD, already checked) → month and day; the year is dropped. */
export function monthDayOfDate(ymd: string): BirthMonthDay {
  return { month: Number(ymd.slice(5, 7)), day: Number(ymd.slice(8, 10)) };
}

/** A birthday may change once per this many months (docs/bonuses.md, "Abuse limits"). */
export const BIRTHDAY_CHANGE_MONTHS = 12;

/**
 * Whether a stored birthday may be replaced at `now`: the first one always, the same one is no
 * change, another only 12 months after the last was set.
 */
export function birthdayChange(
  current: (BirthMonthDay & { setAt: Date }) | null,
  next: BirthMonthDay,
  now: Date,
): { kind: 'new' | 'same' | 'change' } | { kind: 'locked'; until: Date } {
  if (!current) return { kind: 'new' };
  if (current.month === next.month && current.day === next.day) return { kind: 'same' };
  const until = new Date(current.setAt);
  until.setUTCMonth(until.getUTCMonth() + BIRTHDAY_CHANGE_MONTHS);
  return now.getTime() >= until.getTime() ? { kind: 'change' } : { kind: 'locked', until };
}

/** The idempotency keys of the bonus entries (docs/bonuses.md). */
export const bonusKeys = {
  birthday: (customerExternalId: string, year: number) => `birthday:${customerExternalId}:${year}`,
  newsletter: (customerExternalId: string) => `newsletter:${customerExternalId}`,
  social: (customerExternalId: string, network: SocialNetwork) =>
    `social:${customerExternalId}:${network}`,
};

// ---------------------------------------------------------------------------------------------
// Social claims: rate limit

/** At most one claim per 30 s and 10 per rolling 24 h per member (docs/bonuses.md). */
export const SOCIAL_CLAIM_LIMITS = { spacingSeconds: 30, perDay: 10 } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a member may claim now, given the times of their earlier claims (any order). A refusal
 * says why and in how many whole seconds (at least 1) a claim would be accepted.
 */
export function socialClaimAllowed(
  earlier: readonly Date[],
  now: Date,
): { ok: true } | { ok: false; reason: string; retryAfterSeconds: number } {
  const t = now.getTime();
  const times = earlier.map((d) => d.getTime()).filter((x) => x <= t && x > t - DAY_MS);
  const latest = Math.max(-Infinity, ...times);
  const spacing = SOCIAL_CLAIM_LIMITS.spacingSeconds * 1000;
  if (t - latest < spacing) {
    return {
      ok: false,
      reason: `one claim per ${SOCIAL_CLAIM_LIMITS.spacingSeconds} seconds`,
      retryAfterSeconds: Math.max(1, Math.ceil((latest + spacing - t) / 1000)),
    };
  }
  if (times.length >= SOCIAL_CLAIM_LIMITS.perDay) {
    const sorted = [...times].sort((a, b) => a - b);
    // The claim that must leave the 24 h window for one more to fit.
    const leaving = sorted[sorted.length - SOCIAL_CLAIM_LIMITS.perDay]!;
    return {
      ok: false,
      reason: `at most ${SOCIAL_CLAIM_LIMITS.perDay} claims a day`,
      retryAfterSeconds: Math.max(1, Math.ceil((leaving + DAY_MS - t) / 1000)),
    };
  }
  return { ok: true };
}
