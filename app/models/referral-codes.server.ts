/**
 * Members' referral codes (docs/referrals.md, "Codes and links"): made once per member and never
 * changed, so a link shared a year ago still works. A code starts `pending`; the referral code sync
 * (app/referral-discount.server.ts) adds its friend code to the shop's friend discount at Shopify
 * and marks it `active` — only then does it reach the storefront.
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import {
  customers,
  ledgerEntries,
  referralClicks,
  referralCodes,
  referrals,
} from '../../db/schema';
import { friendCodeOf, generateReferralCode } from '../../loyalty/referrals';

export type ReferralCode = typeof referralCodes.$inferSelect;
export type ReferralCodeStatus = 'pending' | 'active' | 'failed';

/** What a shared code can look like: a prefix of letters, digits, - or _, and the code. */
const SHARED_CODE = /^[A-Z0-9_-]{1,40}$/;

/** Rounds of fresh codes for the members whose first draw collided (31^8 codes: it never nears this). */
const ATTEMPTS = 5;

/**
 * The members' codes, made now for those who have none (prefix: the program's `codePrefix`).
 * Concurrent callers for one member agree: the unique (shop, customer) index keeps the first.
 */
export async function ensureReferralCodes(
  db: Executor,
  shopId: number,
  customerIds: readonly number[],
  codePrefix: string,
): Promise<Map<number, ReferralCode>> {
  const wanted = [...new Set(customerIds)];
  const found = new Map<number, ReferralCode>();
  for (let attempt = 0; attempt <= ATTEMPTS && wanted.length > 0; attempt++) {
    const existing = await db
      .select()
      .from(referralCodes)
      .where(and(eq(referralCodes.shopId, shopId), inArray(referralCodes.customerId, wanted)));
    for (const row of existing) found.set(row.customerId, row);
    const missing = wanted.filter((id) => !found.has(id));
    if (missing.length === 0 || attempt === ATTEMPTS) break;
    const fresh = missing.map((customerId) => {
      const code = generateReferralCode(randomBytes(16));
      return { shopId, customerId, code, friendCode: friendCodeOf(code, codePrefix) };
    });
    // A code another member drew (or a concurrent caller's row for the member) is skipped here and
    // the member tries again next round.
    await db.insert(referralCodes).values(fresh).onConflictDoNothing();
  }
  return found;
}

/**
 * Members without a code, lowest id first (the code sync makes theirs in pages). A redacted
 * customer is nobody's referrer: they get none.
 */
export async function membersWithoutCodes(
  db: Executor,
  shopId: number,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .select({ id: customers.id })
    .from(customers)
    .leftJoin(
      referralCodes,
      and(eq(referralCodes.shopId, customers.shopId), eq(referralCodes.customerId, customers.id)),
    )
    .where(
      and(eq(customers.shopId, shopId), isNull(customers.redactedAt), isNull(referralCodes.id)),
    )
    .orderBy(asc(customers.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** The member's code, if they have one. */
export async function referralCodeOf(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<ReferralCode | undefined> {
  const [row] = await db
    .select()
    .from(referralCodes)
    .where(and(eq(referralCodes.shopId, shopId), eq(referralCodes.customerId, customerId)));
  return row;
}

/**
 * The code a share link names (/apps/loyalty/r/<code>): the member's friend code as shared, or its
 * bare random part — case and surrounding spaces forgiven. Text that cannot be a code is never
 * looked up.
 */
export async function findReferralCode(
  db: Executor,
  shopId: number,
  typed: string,
): Promise<ReferralCode | undefined> {
  const text = typed.trim().toUpperCase();
  if (!SHARED_CODE.test(text)) return undefined;
  const [row] = await db
    .select()
    .from(referralCodes)
    .where(
      and(
        eq(referralCodes.shopId, shopId),
        or(eq(referralCodes.friendCode, text), eq(referralCodes.code, text)),
      ),
    )
    .limit(1);
  return row;
}

/**
 * The referral codes among the discount codes an order used, matched as Shopify matches codes
 * (case-insensitively, trimmed). Keyed by the upper-case friend code.
 */
export async function findFriendCodes(
  db: Executor,
  shopId: number,
  discountCodes: readonly string[],
): Promise<Map<string, ReferralCode>> {
  const typed = [...new Set(discountCodes.map((c) => c.trim().toUpperCase()))].filter(Boolean);
  if (typed.length === 0) return new Map();
  const rows = await db
    .select()
    .from(referralCodes)
    .where(and(eq(referralCodes.shopId, shopId), inArray(referralCodes.friendCode, typed)));
  return new Map(rows.map((r) => [r.friendCode, r]));
}

/** Pending codes, oldest first, for the code sync. */
export async function pendingReferralCodes(
  db: Executor,
  shopId: number,
  limit: number,
): Promise<ReferralCode[]> {
  return db
    .select()
    .from(referralCodes)
    .where(and(eq(referralCodes.shopId, shopId), eq(referralCodes.status, 'pending')))
    .orderBy(asc(referralCodes.id))
    .limit(limit);
}

/** Records what Shopify said about codes: active (now usable) or failed with its reason. */
export async function setReferralCodeStatus(
  db: Executor,
  shopId: number,
  ids: readonly number[],
  status: ReferralCodeStatus,
  lastError: string | null = null,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(referralCodes)
    .set({
      status,
      lastError,
      ...(status === 'active'
        ? { activatedAt: sql`coalesce(${referralCodes.activatedAt}, now())` }
        : {}),
    })
    .where(and(eq(referralCodes.shopId, shopId), inArray(referralCodes.id, [...ids])));
}

/**
 * What a landing did: sent to the friend discount; home for a code the shop does not have, for
 * one Shopify does not hold yet (pending or failed), or for a program that is off.
 */
export type ClickOutcome = 'redirected' | 'unknown_code' | 'inactive_code' | 'disabled';

/** Records a share-link landing (IP as a keyed hash, or null when the request named none). */
export async function recordReferralClick(
  db: Executor,
  shopId: number,
  click: { codeId: number | null; ipHash: string | null; outcome: ClickOutcome; at?: Date },
): Promise<void> {
  await db.insert(referralClicks).values({
    shopId,
    codeId: click.codeId,
    ipHash: click.ipHash,
    outcome: click.outcome,
    ...(click.at ? { at: click.at } : {}),
  });
}

/** Landings from one IP hash since `since` (the per-IP limit). */
export async function clicksFromIp(
  db: Executor,
  shopId: number,
  ipHash: string,
  since: Date,
): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(referralClicks)
    .where(
      and(
        eq(referralClicks.shopId, shopId),
        eq(referralClicks.ipHash, ipHash),
        sql`${referralClicks.at} >= ${since}`,
      ),
    );
  return row?.n ?? 0;
}

/** What a member sees of their referrals (GET /proxy/referral). */
export interface MemberReferralSummary {
  /** Friends whose first order carried the member's code and was not rejected. */
  friendsJoined: number;
  /** Points the member holds from referrals: rewards net of reversals. */
  rewardsEarned: number;
}

export async function memberReferralSummary(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<MemberReferralSummary> {
  const [friends] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(referrals)
    .where(
      and(
        eq(referrals.shopId, shopId),
        eq(referrals.referrerCustomerId, customerId),
        ne(referrals.status, 'rejected'),
      ),
    );
  const [points] = await db
    .select({ n: sql<number>`coalesce(sum(${ledgerEntries.points}), 0)::int` })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shopId),
        eq(ledgerEntries.customerId, customerId),
        eq(ledgerEntries.source, 'referral'),
      ),
    );
  return { friendsJoined: friends?.n ?? 0, rewardsEarned: points?.n ?? 0 };
}
