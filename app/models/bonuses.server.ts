/**
 * Bonus awards (docs/bonuses.md): birthday (the daily run, and at once when a birthday given now
 * falls in the current month), newsletter (customers/create|update consent) and social follow
 * (the storefront's claim). Each is one `bonus` ledger entry whose key makes it happen once, and
 * whose inputs name the rule and the bonus program version that set its points.
 */
import { and, eq, gte, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBirthdays, customers, ledgerEntries, socialFollowClaims } from '../../db/schema';
import {
  bonusKeys,
  socialClaimAllowed,
  SOCIAL_NETWORK_NAMES,
  type BirthMonthDay,
  type SocialNetwork,
} from '../../loyalty/bonuses';
import { parseCalendarDay, wallTimeOf, zonedMidnight } from '../../loyalty/time';
import { AppError, ErrorCode } from '../errors';
import { setBirthday, type BirthdaySource, type SetBirthdayResult } from './birthdays.server';
import { bonusProgramAt } from './bonus-programs.server';
import { post, postMany, type LedgerEntryInput } from './ledger.server';
import type { Shop } from './shops.server';

/** Birthday entries per postMany call: one local day's members of a large shop in a few calls. */
const BIRTHDAY_CHUNK = 2_000;

const pad = (n: number) => String(n).padStart(2, '0');

/** The shop's local calendar day of an instant, YYYY-MM-DD. */
export function localDayOf(at: Date, timezone: string): string {
  const wall = wallTimeOf(at.getTime(), timezone);
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)}`;
}

export interface BirthdayAwardSummary {
  /** The bonus program version used; null when birthday bonuses are off. */
  bonusVersion: number | null;
  awarded: number;
}

interface BirthdayMember {
  id: number;
  externalId: string;
  month: number;
  day: number;
}

function birthdayEntry(
  member: BirthdayMember,
  localDay: string,
  timezone: string,
  points: number,
  bonusVersion: number,
): LedgerEntryInput {
  const { year } = parseCalendarDay(localDay);
  return {
    customerId: member.id,
    idempotencyKey: bonusKeys.birthday(member.externalId, year),
    source: 'bonus',
    points,
    occurredAt: new Date(zonedMidnight(localDay, timezone)),
    inputs: { rule: 'birthday', bonusVersion, month: member.month, day: member.day, year },
    subjectId: member.externalId,
  };
}

/**
 * The daily birthday run for one shop's local day (`localDay`, YYYY-MM-DD in the shop's timezone):
 * every member (not redacted) whose birthday month is that day's month and who has no birthday
 * entry for that local year gets one, dated the start of `localDay`. 29 February counts in
 * February. Points come from the bonus program in effect at `now`. Safe to run again: the
 * entries' keys (`birthday:<customer>:<year>`) make each happen once.
 */
export async function awardBirthdayBonuses(
  db: Executor,
  shop: Shop,
  localDay: string,
  now: Date,
): Promise<BirthdayAwardSummary> {
  const { year, month } = parseCalendarDay(localDay);
  const program = await bonusProgramAt(db, shop.id, now);
  const points = program?.definition.birthdayPoints ?? 0;
  if (!program || points === 0) return { bonusVersion: program?.version ?? null, awarded: 0 };
  const due = await db
    .select({
      id: customers.id,
      externalId: customers.externalId,
      month: customerBirthdays.month,
      day: customerBirthdays.day,
    })
    .from(customerBirthdays)
    .innerJoin(
      customers,
      and(eq(customers.id, customerBirthdays.customerId), eq(customers.shopId, shop.id)),
    )
    .where(
      and(
        eq(customerBirthdays.shopId, shop.id),
        eq(customerBirthdays.month, month),
        isNull(customers.redactedAt),
        sql`NOT EXISTS (SELECT 1 FROM ${ledgerEntries} WHERE ${ledgerEntries.shopId} = ${shop.id} AND ${ledgerEntries.idempotencyKey} = 'birthday:' || ${customers.externalId} || ':' || ${String(year)})`,
      ),
    )
    .orderBy(customers.id);
  let awarded = 0;
  for (let i = 0; i < due.length; i += BIRTHDAY_CHUNK) {
    const entries = due
      .slice(i, i + BIRTHDAY_CHUNK)
      .map((m) => birthdayEntry(m, localDay, shop.timezone, points, program.version));
    const results = await postMany(db, shop.id, entries);
    awarded += results.filter((r) => r.created).length;
  }
  return { bonusVersion: program.version, awarded };
}

/**
 * A birthday just given: awarded at once when it falls in the shop's current local month and the
 * member has no birthday entry for this local year (else the daily run or next year's gives it).
 * Returns the points posted (0 when none).
 */
export async function awardBirthdayNow(
  db: Executor,
  shop: Shop,
  member: BirthdayMember,
  now: Date,
): Promise<number> {
  const today = localDayOf(now, shop.timezone);
  if (Number(today.slice(5, 7)) !== member.month) return 0;
  const program = await bonusProgramAt(db, shop.id, now);
  const points = program?.definition.birthdayPoints ?? 0;
  if (!program || points === 0) return 0;
  const entry = birthdayEntry(member, today, shop.timezone, points, program.version);
  // Already awarded this year (perhaps under an earlier version): nothing more.
  const [existing] = await db
    .select({ id: ledgerEntries.id })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shop.id),
        eq(ledgerEntries.idempotencyKey, entry.idempotencyKey),
      ),
    );
  if (existing) return 0;
  const result = await post(db, shop.id, entry);
  return result.created ? points : 0;
}

/**
 * A member gives their birthday (the storefront block, or the facts.birth_date metafield):
 * recorded unless changed less than 12 months ago, then awarded at once if it falls in the
 * current local month (awardBirthdayNow). Returns what happened and the points posted.
 */
export async function giveBirthday(
  db: Executor,
  shop: Shop,
  member: { id: number; externalId: string },
  birthday: BirthMonthDay,
  source: BirthdaySource,
  now: Date,
): Promise<{ result: SetBirthdayResult; points: number }> {
  const result = await setBirthday(db, shop.id, member.id, birthday, source, now);
  const points =
    result.kind === 'locked'
      ? 0
      : await awardBirthdayNow(db, shop, { ...member, ...result.birthday }, now);
  return { result, points };
}

export interface NewsletterConsent {
  /** `email_marketing_consent.state`. */
  state: string;
  /** `email_marketing_consent.consent_updated_at`, ISO text, or null when Shopify sent none. */
  consentUpdatedAt: string | null;
}

/**
 * The newsletter bonus: once ever per member, when a customers/create|update body shows the email
 * marketing consent `subscribed`. Points from the bonus program in effect when the consent was
 * given (else when the body was received): a shopper subscribed before the bonus existed gets
 * none. Unsubscribing later takes nothing back. Returns the points posted (0 when none).
 */
export async function awardNewsletterBonus(
  db: Executor,
  shopId: number,
  member: { id: number; externalId: string; redactedAt: Date | null },
  consent: NewsletterConsent | null,
  receivedAt: Date,
): Promise<number> {
  if (!consent || consent.state !== 'subscribed' || member.redactedAt !== null) return 0;
  const consentAt = consent.consentUpdatedAt ? new Date(consent.consentUpdatedAt) : null;
  const at = consentAt && !Number.isNaN(consentAt.getTime()) ? consentAt : receivedAt;
  const program = await bonusProgramAt(db, shopId, at);
  const points = program?.definition.newsletterPoints ?? 0;
  if (!program || points === 0) return 0;
  const key = bonusKeys.newsletter(member.externalId);
  const [existing] = await db
    .select({ id: ledgerEntries.id })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.idempotencyKey, key)));
  if (existing) return 0;
  const result = await post(db, shopId, {
    customerId: member.id,
    idempotencyKey: key,
    source: 'bonus',
    points,
    occurredAt: at,
    inputs: {
      rule: 'newsletter',
      bonusVersion: program.version,
      consentUpdatedAt: consent.consentUpdatedAt,
    },
    subjectId: member.externalId,
  });
  return result.created ? points : 0;
}

export type SocialClaimResult =
  | { status: 'awarded'; points: number }
  | { status: 'already-claimed' }
  | { status: 'rate-limited'; reason: string; retryAfterSeconds: number };

/**
 * A member says they followed the shop on `network`: one `bonus` per member per network ever
 * (`social:<customer>:<network>`). Every accepted claim is recorded for the rate limit (one per
 * 30 s, ten per 24 h). A network that is off is a VALIDATION refusal. We cannot verify the
 * follow (docs/bonuses.md).
 */
export async function claimSocialFollow(
  db: Executor,
  shopId: number,
  member: { id: number; externalId: string },
  network: SocialNetwork,
  now: Date,
): Promise<SocialClaimResult> {
  return db.transaction(async (tx) => {
    // One claim at a time per member: the rate limit reads what the last one wrote.
    await tx
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.shopId, shopId), eq(customers.id, member.id)))
      .for('update');
    const program = await bonusProgramAt(tx, shopId, now);
    const setting = program?.definition.social[network];
    if (!program || !setting || setting.points === 0 || !setting.url) {
      throw new AppError(
        ErrorCode.VALIDATION,
        `network: the shop gives no points for following it on ${SOCIAL_NETWORK_NAMES[network]}`,
        { field: 'network', value: network },
      );
    }
    const earlier = await tx
      .select({ at: socialFollowClaims.claimedAt })
      .from(socialFollowClaims)
      .where(
        and(
          eq(socialFollowClaims.shopId, shopId),
          eq(socialFollowClaims.customerId, member.id),
          gte(socialFollowClaims.claimedAt, new Date(now.getTime() - 24 * 60 * 60 * 1000)),
          lt(socialFollowClaims.claimedAt, new Date(now.getTime() + 1)),
        ),
      );
    const allowed = socialClaimAllowed(
      earlier.map((r) => r.at),
      now,
    );
    if (!allowed.ok) {
      const { reason, retryAfterSeconds } = allowed;
      return { status: 'rate-limited', reason, retryAfterSeconds } as const;
    }
    await tx
      .insert(socialFollowClaims)
      .values({ shopId, customerId: member.id, network, claimedAt: now });
    const key = bonusKeys.social(member.externalId, network);
    const [existing] = await tx
      .select({ id: ledgerEntries.id })
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.idempotencyKey, key)));
    if (existing) return { status: 'already-claimed' } as const;
    await post(tx, shopId, {
      customerId: member.id,
      idempotencyKey: key,
      source: 'bonus',
      points: setting.points,
      occurredAt: now,
      inputs: { rule: 'social-follow', bonusVersion: program.version, network, url: setting.url },
      subjectId: member.externalId,
    });
    return { status: 'awarded', points: setting.points } as const;
  });
}

export interface BonusCounts {
  signup: number;
  birthday: number;
  newsletter: number;
  social: number;
}

/** Bonus entries posted in [from, to) by kind, and their points (the admin's "this month"). */
export async function bonusCounts(
  db: Executor,
  shopId: number,
  from: Date,
  to: Date,
): Promise<{ entries: BonusCounts; points: BonusCounts }> {
  const rule = sql<string>`${ledgerEntries.inputs}->>'rule'`;
  const rows = await db
    .select({
      rule,
      entries: sql<number>`count(*)`.mapWith(Number),
      points: sql<number>`coalesce(sum(${ledgerEntries.points}), 0)`.mapWith(Number),
    })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shopId),
        eq(ledgerEntries.source, 'bonus'),
        gte(ledgerEntries.occurredAt, from),
        lt(ledgerEntries.occurredAt, to),
      ),
    )
    .groupBy(rule);
  const empty = (): BonusCounts => ({ signup: 0, birthday: 0, newsletter: 0, social: 0 });
  const out = { entries: empty(), points: empty() };
  const kindOf: Record<string, keyof BonusCounts> = {
    'signup-bonus': 'signup',
    birthday: 'birthday',
    newsletter: 'newsletter',
    'social-follow': 'social',
  };
  for (const row of rows) {
    const kind = kindOf[row.rule];
    if (!kind) continue;
    out.entries[kind] += row.entries;
    out.points[kind] += row.points;
  }
  return out;
}
