/**
 * What the admin's referrals page reads (docs/admin.md, "Referrals"): the program's numbers over a
 * date range, and the referrals themselves with both parties, newest first. Writing referrals is
 * app/models/referrals.server.ts's; the rules are loyalty/referrals.ts's.
 */
import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.server';
import {
  customers,
  ledgerEntries,
  referralClicks,
  referralCodes,
  referralDiscounts,
  referrals,
} from '../../db/schema';
import type { ReferralReason, ReferralStatus } from '../../loyalty/referrals';

export const REFERRAL_STATUSES = [
  'rewarded',
  'held',
  'rejected',
  'reversed',
] as const satisfies readonly ReferralStatus[];

/** A half-open range of instants: `from` ≤ t < `to`. */
export interface StatsRange {
  from: Date;
  to: Date;
}

/**
 * The program's numbers for a range. Referral counts and revenue are of the referred orders paid in
 * the range, by their status now; clicks are landings in the range; points are the referral
 * ledger entries that occurred in it.
 */
export interface ReferralStats {
  /** Share-link landings that were sent on to the friend discount (outcome `redirected`). */
  clicks: number;
  /** Referred orders that counted: every status but rejected (rewarded, held, reversed). */
  friendsJoined: number;
  /** Every referred order recorded (an order that carried a member's friend code), any status. */
  firstOrders: number;
  /**
   * The earn amount at payment of the referred orders that stand (rewarded or held), minor units of
   * the shop currency. Rejected and reversed orders are left out.
   */
  revenueMinor: number;
  /** Net points from the referral ledger entries that occurred in the range: rewards − reversals. */
  rewardsPoints: number;
  rewarded: number;
  held: number;
  rejected: number;
  reversed: number;
}

export async function referralStats(
  db: Executor,
  shopId: number,
  range: StatsRange,
): Promise<ReferralStats> {
  const [clicks] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(referralClicks)
    .where(
      and(
        eq(referralClicks.shopId, shopId),
        eq(referralClicks.outcome, 'redirected'),
        gte(referralClicks.at, range.from),
        lt(referralClicks.at, range.to),
      ),
    );
  const byStatus = await db
    .select({
      status: referrals.status,
      n: sql<number>`count(*)::int`,
      amount: sql<string>`coalesce(sum(${referrals.orderAmountMinor}), 0)::text`,
    })
    .from(referrals)
    .where(
      and(
        eq(referrals.shopId, shopId),
        gte(referrals.paidAt, range.from),
        lt(referrals.paidAt, range.to),
      ),
    )
    .groupBy(referrals.status);
  const [points] = await db
    .select({ n: sql<string>`coalesce(sum(${ledgerEntries.points}), 0)::text` })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shopId),
        eq(ledgerEntries.source, 'referral'),
        gte(ledgerEntries.occurredAt, range.from),
        lt(ledgerEntries.occurredAt, range.to),
      ),
    );
  const count = (status: ReferralStatus) => byStatus.find((r) => r.status === status)?.n ?? 0;
  const amount = (status: ReferralStatus) =>
    Number(byStatus.find((r) => r.status === status)?.amount ?? 0);
  const rewarded = count('rewarded');
  const held = count('held');
  const rejected = count('rejected');
  const reversed = count('reversed');
  return {
    clicks: clicks?.n ?? 0,
    friendsJoined: rewarded + held + reversed,
    firstOrders: byStatus.reduce((sum, r) => sum + r.n, 0),
    revenueMinor: amount('rewarded') + amount('held'),
    rewardsPoints: Number(points?.n ?? 0),
    rewarded,
    held,
    rejected,
    reversed,
  };
}

/** One side of a referral as the admin shows it (personal fields are null once redacted). */
export interface ReferralParty {
  customerId: number;
  /** The Shopify customer id. */
  externalId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
}

export interface ListedReferral {
  id: number;
  status: ReferralStatus;
  reasons: ReferralReason[];
  referrer: ReferralParty;
  /** Null: a guest order (no account), or an account since deleted. */
  friend: ReferralParty | null;
  orderName: string;
  shopifyOrderId: string;
  discountCode: string;
  orderAmountMinor: number;
  paidAt: Date;
  programVersion: number;
  rewardPoints: number;
  reviewedBy: string | null;
  reviewedAt: Date | null;
}

export const MAX_REFERRALS_PAGE = 100;

export interface ReferralListQuery {
  status?: ReferralStatus;
  /** 1–100. */
  limit: number;
  /** Keyset paging: only referrals with a smaller id (recorded earlier). */
  before?: number;
}

const referrer = alias(customers, 'referrer');
const friend = alias(customers, 'friend');

/** The shop's referrals, newest recorded first, with referrer and friend. */
export async function listReferrals(
  db: Executor,
  shopId: number,
  query: ReferralListQuery,
): Promise<ListedReferral[]> {
  const conditions: SQL[] = [eq(referrals.shopId, shopId)];
  if (query.status !== undefined) conditions.push(eq(referrals.status, query.status));
  if (query.before !== undefined) conditions.push(lt(referrals.id, query.before));
  const limit = Math.min(Math.max(Math.trunc(query.limit), 1), MAX_REFERRALS_PAGE);
  const rows = await db
    .select({
      referral: referrals,
      referrer: {
        customerId: referrer.id,
        externalId: referrer.externalId,
        email: referrer.email,
        firstName: referrer.firstName,
        lastName: referrer.lastName,
      },
      friend: {
        customerId: friend.id,
        externalId: friend.externalId,
        email: friend.email,
        firstName: friend.firstName,
        lastName: friend.lastName,
      },
    })
    .from(referrals)
    .innerJoin(
      referrer,
      and(eq(referrer.shopId, referrals.shopId), eq(referrer.id, referrals.referrerCustomerId)),
    )
    .leftJoin(
      friend,
      and(eq(friend.shopId, referrals.shopId), eq(friend.id, referrals.friendCustomerId)),
    )
    .where(and(...conditions))
    .orderBy(desc(referrals.id))
    .limit(limit);
  return rows.map(({ referral: r, referrer: by, friend: to }) => ({
    id: r.id,
    status: r.status as ReferralStatus,
    reasons: r.reasons as ReferralReason[],
    referrer: by,
    friend: to,
    orderName: r.orderName,
    shopifyOrderId: r.shopifyOrderId,
    discountCode: r.discountCode,
    orderAmountMinor: r.orderAmountMinor,
    paidAt: r.paidAt,
    programVersion: r.programVersion,
    rewardPoints: r.rewardPoints,
    reviewedBy: r.reviewedBy,
    reviewedAt: r.reviewedAt,
  }));
}

/** Held referrals waiting for the merchant (the page's badge), whenever paid. */
export async function countHeldReferrals(db: Executor, shopId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(referrals)
    .where(and(eq(referrals.shopId, shopId), eq(referrals.status, 'held')));
  return row?.n ?? 0;
}

/** Members' codes by where they are at Shopify (pending: not in the friend discount yet). */
export async function referralCodeCounts(
  db: Executor,
  shopId: number,
): Promise<{ pending: number; active: number; failed: number; sample: string | null }> {
  const rows = await db
    .select({ status: referralCodes.status, n: sql<number>`count(*)::int` })
    .from(referralCodes)
    .where(eq(referralCodes.shopId, shopId))
    .groupBy(referralCodes.status);
  const [sample] = await db
    .select({ friendCode: referralCodes.friendCode })
    .from(referralCodes)
    .where(and(eq(referralCodes.shopId, shopId), eq(referralCodes.status, 'active')))
    .orderBy(referralCodes.id)
    .limit(1);
  const n = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
  return {
    pending: n('pending'),
    active: n('active'),
    failed: n('failed'),
    sample: sample?.friendCode ?? null,
  };
}

/** The shop's friend discount at Shopify as the code sync last left it; undefined: never synced. */
export async function friendDiscountState(
  db: Executor,
  shopId: number,
): Promise<typeof referralDiscounts.$inferSelect | undefined> {
  const [row] = await db
    .select()
    .from(referralDiscounts)
    .where(eq(referralDiscounts.shopId, shopId));
  return row;
}
