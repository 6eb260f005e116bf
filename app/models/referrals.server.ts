/**
 * Referrals (docs/referrals.md): what a friend's order carrying a member's friend code does — the
 * referral row with its status and every reason, the referrer's reward — and what later becomes of
 * it: the reward taken back when the order is refunded or cancelled within the program's window,
 * or a held referral approved or rejected by the merchant.
 *
 * The rules are pure (loyalty/referrals.ts referralVerdict, referralReversal); their facts — both
 * parties' contact fingerprints, the friend's earlier orders and referrals, the referrer's and the
 * IP address's recent referrals — are read by app/models/referral-facts.server.ts; this module
 * writes the outcomes. Attribution and
 * reversals run in the worker transaction of the order (workers/handlers/orders.ts), under the
 * orders' locks; a review runs in its own transaction.
 *
 * Lock order (the repo's: customer rows, then orders, then balance rows): the worker locks every
 * customer whose balance a batch may change first (referral-facts referralParties), then the orders; here the
 * parties' referral locks (advisory, per friend and per referrer), then referral rows, then the
 * ledger takes the balance rows. A review takes the referrer's customer row, the order, the
 * referral row, then balances: the same order.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { ledgerEntries, referrals } from '../../db/schema';
import {
  referralReversal,
  referralVerdict,
  type CompiledReferralProgram,
  type ReferralReversalVerdict,
  type ReferralReason,
  type ReferralStatus,
} from '../../loyalty/referrals';
import type { OrderFacts } from '../../loyalty/shopify-order';
import { formatMinorMoney } from '../../loyalty/explain';
import { AppError, ErrorCode } from '../errors';
import { lockCustomers } from './customers.server';
import {
  contactFingerprints,
  fingerprint,
  fingerprintKeyOf,
  fingerprintsOf,
} from './fingerprints.server';
import { findEntryByKey, postMany, type LedgerEntry, type LedgerEntryInput } from './ledger.server';
import { lockOrders } from './orders.server';
import { findFriendCodes, type ReferralCode } from './referral-codes.server';
import {
  lockParties,
  mergeParty,
  orderContact,
  orderStates,
  redactedAmong,
  referralFacts,
  referralProgramVersions,
} from './referral-facts.server';
import type { Shop } from './shops.server';
import { evaluateMembers } from './tier-evaluation.server';

export type Referral = Omit<typeof referrals.$inferSelect, 'status' | 'reasons'> & {
  status: ReferralStatus;
  reasons: ReferralReason[];
};

export const referralRewardKey = (referralId: number) => `referral:${referralId}:reward`;
export const referralReversalKey = (referralId: number) => `referral:${referralId}:reverse`;

/** The version a referral records when no referral program was in force at its order. */
export const NO_PROGRAM_VERSION = 0;

const MAX_STAFF = 200;
const MAX_NOTE = 500;

// ---------------------------------------------------------------------------------------------
// Attribution

export interface ReferredOrder {
  facts: OrderFacts;
  /** The order's customer (null: a guest checkout). */
  customerId: number | null;
  /** The order's business time: what the program in force, the limits and the window count from. */
  paidAt: Date;
}

export interface AttributedReferral {
  referralId: number;
  status: ReferralStatus;
  referrerCustomerId: number;
}

function toReferral(row: typeof referrals.$inferSelect): Referral {
  return row as Referral;
}

/** The first friend code among the order's discount codes, as the order carried it. */
function friendCodeOf(
  facts: OrderFacts,
  codes: ReadonlyMap<string, ReferralCode>,
): { code: ReferralCode; typed: string } | null {
  for (const typed of facts.discountCodes) {
    const code = codes.get(typed.trim().toUpperCase());
    if (code) return { code, typed };
  }
  return null;
}

/**
 * Paid orders that carry a member's friend code become referrals (docs/referrals.md,
 * "Attribution"): each gets its row — rewarded, held or rejected, with every reason — under the
 * referral program in force at its `paidAt`, and a rewarded one its referrer's reward entry
 * (`referral:<id>:reward`). An order already attributed (a redelivery) changes nothing and
 * answers with its referral; an order with no friend code, or another shop's, is no referral.
 * Orders are taken in time order, so a batch holding a friend's two orders refers them once.
 * Call it with the orders locked and their rows and fingerprints recorded
 * (workers/handlers/orders.ts). Returns each referred order's referral, by Shopify order id.
 */
export async function attributeReferrals(
  tx: Executor,
  shop: Shop,
  paidOrders: readonly ReferredOrder[],
  now: Date,
): Promise<Map<string, AttributedReferral>> {
  const result = new Map<string, AttributedReferral>();
  const eligible = paidOrders.filter(
    (o) => o.facts.discountCodes.length > 0 && (!o.facts.test || shop.testOrdersEarn),
  );
  if (eligible.length === 0) return result;
  const codes = await findFriendCodes(
    tx,
    shop.id,
    eligible.flatMap((o) => o.facts.discountCodes),
  );
  const candidates = eligible
    .map((o) => ({ ...o, friendCode: friendCodeOf(o.facts, codes) }))
    .filter((o): o is typeof o & { friendCode: NonNullable<typeof o.friendCode> } =>
      Boolean(o.friendCode),
    )
    .sort(
      (a, b) =>
        a.paidAt.getTime() - b.paidAt.getTime() ||
        (a.facts.orderId < b.facts.orderId ? -1 : a.facts.orderId > b.facts.orderId ? 1 : 0),
    );
  if (candidates.length === 0) return result;

  const existing = await tx
    .select()
    .from(referrals)
    .where(
      and(
        eq(referrals.shopId, shop.id),
        inArray(
          referrals.shopifyOrderId,
          candidates.map((c) => c.facts.orderId),
        ),
      ),
    );
  for (const row of existing) {
    result.set(row.shopifyOrderId, {
      referralId: row.id,
      status: row.status as ReferralStatus,
      referrerCustomerId: row.referrerCustomerId,
    });
  }
  const fresh = candidates.filter((c) => !result.has(c.facts.orderId));
  if (fresh.length === 0) return result;

  await lockParties(
    tx,
    shop.id,
    fresh.flatMap((c) => [
      `referrer:${c.friendCode.code.customerId}`,
      c.customerId !== null ? `friend:${c.customerId}` : `guest:${c.facts.email ?? ''}`,
    ]),
  );
  const programs = await referralProgramVersions(tx, shop);
  const key = await fingerprintKeyOf(tx, shop.id);
  const partyIds = [
    ...new Set(
      fresh.flatMap((c) => [
        c.friendCode.code.customerId,
        ...(c.customerId !== null ? [c.customerId] : []),
      ]),
    ),
  ];
  const prints = await fingerprintsOf(tx, shop.id, partyIds);
  const redacted = await redactedAmong(tx, shop.id, partyIds);

  const rewards: LedgerEntryInput[] = [];
  for (const order of fresh) {
    const { facts, customerId, paidAt } = order;
    const referrerId = order.friendCode.code.customerId;
    const current = programs.at(paidAt);
    const friendRedacted = customerId !== null && redacted.has(customerId);
    const ipHash =
      facts.browserIp !== null && !friendRedacted ? fingerprint(key, 'ip', facts.browserIp) : null;
    let status: 'rewarded' | 'held' | 'rejected';
    let reasons: ReferralReason[];
    if (!current) {
      status = 'rejected';
      reasons = [
        {
          rule: 'program_disabled',
          action: 'reject',
          detail: 'the shop had no referral program when the order was paid',
        },
      ];
    } else {
      const verdict = referralVerdict(
        current.program,
        await referralFacts(tx, shop.id, current.program, {
          order,
          referrerId,
          referrer: prints.get(referrerId)!,
          // The friend's side: what Laurel recorded for them, and this order's own details.
          friendPrints: mergeParty(
            customerId !== null ? prints.get(customerId)! : null,
            contactFingerprints(key, orderContact(facts)),
          ),
          ipHash: facts.browserIp !== null ? fingerprint(key, 'ip', facts.browserIp) : null,
        }),
      );
      status = verdict.status;
      reasons = verdict.reasons;
    }
    const points = status === 'rewarded' ? current!.program.referrerPoints : 0;
    const [inserted] = await tx
      .insert(referrals)
      .values({
        shopId: shop.id,
        referrerCustomerId: referrerId,
        friendCustomerId: customerId,
        codeId: order.friendCode.code.id,
        shopifyOrderId: facts.orderId,
        orderName: facts.name,
        discountCode: order.friendCode.typed,
        programVersion: current?.version ?? NO_PROGRAM_VERSION,
        status,
        reasons,
        orderAmountMinor: facts.earnAmountMinor,
        paidAt,
        ipHash,
        rewardPoints: points,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: [referrals.shopId, referrals.shopifyOrderId] })
      .returning();
    // Under the order's lock nothing else inserts it; the guard keeps a repeat harmless anyway.
    if (!inserted) continue;
    result.set(facts.orderId, { referralId: inserted.id, status, referrerCustomerId: referrerId });
    if (status === 'rewarded') {
      rewards.push(rewardEntry(toReferral(inserted), points, paidAt));
    }
  }
  await postMany(tx, shop.id, rewards);
  return result;
}

/** The referrer's reward for a referral: the program's points, once (`referral:<id>:reward`). */
function rewardEntry(referral: Referral, points: number, occurredAt: Date): LedgerEntryInput {
  return {
    customerId: referral.referrerCustomerId,
    idempotencyKey: referralRewardKey(referral.id),
    source: 'referral',
    points,
    occurredAt,
    programVersion: referral.programVersion,
    inputs: {
      rule: 'referral-reward',
      referralId: referral.id,
      order: referral.orderName,
      shopifyOrderId: referral.shopifyOrderId,
      programVersion: referral.programVersion,
    },
    subjectId: referral.shopifyOrderId,
  };
}

// ---------------------------------------------------------------------------------------------
// Reversals

export interface ReversedReferral {
  referralId: number;
  referrerCustomerId: number;
}

/**
 * Takes back the rewards of these orders' referrals that their refunds or cancellation now undo
 * (docs/referrals.md, "Reversal"): under the program version each referral ran under (its window
 * and minimum, not today's), an entry `referral:<id>:reverse` for exactly the reward's points; the
 * referral becomes `reversed` with the reason appended. Only rewarded referrals are looked at, so
 * a repeat does nothing. Call it with the orders locked, after their refunds and cancellation are
 * recorded. Returns each reversed order's referral, by Shopify order id.
 */
export async function settleReferralReversals(
  tx: Executor,
  shop: Shop,
  shopifyOrderIds: readonly string[],
  now: Date,
): Promise<Map<string, ReversedReferral>> {
  const result = new Map<string, ReversedReferral>();
  const ids = [...new Set(shopifyOrderIds)].sort();
  if (ids.length === 0) return result;
  const rewarded = (await tx
    .select()
    .from(referrals)
    .where(
      and(
        eq(referrals.shopId, shop.id),
        inArray(referrals.shopifyOrderId, ids),
        eq(referrals.status, 'rewarded'),
      ),
    )
    .orderBy(asc(referrals.id))
    .for('update')) as Referral[];
  if (rewarded.length === 0) return result;
  const programs = await referralProgramVersions(tx, shop);
  const states = await orderStates(
    tx,
    shop.id,
    rewarded.map((r) => r.shopifyOrderId),
  );

  const reversals: LedgerEntryInput[] = [];
  const decided: { referral: Referral; reason: string }[] = [];
  for (const referral of rewarded) {
    const version = programs.byVersion.get(referral.programVersion);
    const reward = await findEntryByKey(tx, shop.id, referralRewardKey(referral.id));
    if (!version || !reward) {
      throw new AppError(
        ErrorCode.INTERNAL,
        `rewarded referral ${referral.id} has no ${version ? 'reward entry' : `program version ${referral.programVersion}`}`,
        { referralId: referral.id },
      );
    }
    const state = states.get(referral.shopifyOrderId)!;
    const verdict = referralReversal(version.program, {
      paidAt: referral.paidAt.getTime(),
      amountMinor: referral.orderAmountMinor,
      refunds: state.refunds,
      cancelledAt: state.cancelledAt,
    });
    if (!verdict) continue;
    reversals.push(reversalEntry(referral, reward, verdict));
    decided.push({ referral, reason: verdict.reason });
  }
  await postMany(tx, shop.id, reversals);
  for (const { referral, reason } of decided) {
    await tx
      .update(referrals)
      .set({
        status: 'reversed',
        reasons: [...referral.reasons, { rule: 'reversal', action: 'reject', detail: reason }],
        updatedAt: now,
      })
      .where(and(eq(referrals.shopId, shop.id), eq(referrals.id, referral.id)));
    result.set(referral.shopifyOrderId, {
      referralId: referral.id,
      referrerCustomerId: referral.referrerCustomerId,
    });
  }
  return result;
}

function reversalEntry(
  referral: Referral,
  reward: LedgerEntry,
  verdict: ReferralReversalVerdict,
): LedgerEntryInput {
  return {
    customerId: reward.customerId,
    idempotencyKey: referralReversalKey(referral.id),
    source: 'referral',
    points: -reward.points,
    // Business time: when the order stopped deserving it, never before the reward itself.
    occurredAt: new Date(Math.max(verdict.at, reward.occurredAt.getTime())),
    programVersion: referral.programVersion,
    inputs: {
      rule: 'referral-reversal',
      referralId: referral.id,
      order: referral.orderName,
      shopifyOrderId: referral.shopifyOrderId,
      programVersion: referral.programVersion,
      reason: verdict.reason,
      // What the shopper's history says (loyalty/explain.ts), in the redemption returns' words.
      cause: verdict.cancelled ? 'order-cancelled' : 'order-refunded',
    },
    subjectId: referral.shopifyOrderId,
    reversesEntryId: reward.id,
  };
}

// ---------------------------------------------------------------------------------------------
// Review

export interface ReviewDecision {
  action: 'approve' | 'reject';
  /** Who decided (the staff member's name or email, as the admin session names them). */
  staff: string;
  note?: string;
}

function checkDecision(decision: ReviewDecision): { staff: string; note: string | null } {
  if (decision?.action !== 'approve' && decision?.action !== 'reject') {
    throw new AppError(ErrorCode.VALIDATION, 'review action must be "approve" or "reject"', {
      field: 'action',
    });
  }
  const staff = typeof decision.staff === 'string' ? decision.staff.trim() : '';
  if (staff === '' || staff.length > MAX_STAFF) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `review staff must be 1–${MAX_STAFF} characters naming who decided`,
      { field: 'staff' },
    );
  }
  if (decision.note !== undefined && typeof decision.note !== 'string') {
    throw new AppError(ErrorCode.VALIDATION, 'review note must be text', { field: 'note' });
  }
  const note = decision.note?.replace(/\s+/g, ' ').trim() ?? '';
  if (note.length > MAX_NOTE) {
    throw new AppError(ErrorCode.VALIDATION, `review note must be at most ${MAX_NOTE} characters`, {
      field: 'note',
    });
  }
  return { staff, note: note === '' ? null : note };
}

/** Why an approved referral's order no longer deserves a reward, or null. */
function undoneSince(
  program: CompiledReferralProgram,
  referral: Referral,
  state: { cancelledAt: number | null; refunds: { merchandiseMinor: number }[] },
): string | null {
  if (state.cancelledAt !== null) return 'the order was since cancelled';
  const left =
    referral.orderAmountMinor - state.refunds.reduce((sum, r) => sum + r.merchandiseMinor, 0);
  if (left <= 0) return 'the order was since refunded';
  if (left < program.minimumOrderMinor) {
    return `the order was since refunded to ${formatMinorMoney(left, program.currency, 'en')}, below the minimum`;
  }
  return null;
}

/**
 * The merchant's decision on a held referral (docs/referrals.md, "Review"): approve rewards the
 * referrer now (`referral:<id>:reward`, in this transaction with the status change) unless the
 * order was since cancelled or refunded below the minimum — then it is rejected; reject rejects.
 * Both record who decided and when, and append a `review` reason. NOT_FOUND for an id the shop
 * does not have; CONFLICT for a referral that is not held (decided already — of two concurrent
 * decisions, one wins and the other gets CONFLICT).
 */
export async function reviewReferral(
  db: Executor,
  shop: Shop,
  referralId: number,
  decision: ReviewDecision,
  now: Date = new Date(),
): Promise<Referral> {
  const { staff, note } = checkDecision(decision);
  if (!Number.isSafeInteger(referralId) || referralId <= 0) {
    throw new AppError(ErrorCode.NOT_FOUND, `referral ${String(referralId)} not found`, {
      referralId,
    });
  }
  return db.transaction(async (tx) => {
    const [found] = await tx
      .select({
        referrer: referrals.referrerCustomerId,
        shopifyOrderId: referrals.shopifyOrderId,
      })
      .from(referrals)
      .where(and(eq(referrals.shopId, shop.id), eq(referrals.id, referralId)));
    if (!found) {
      throw new AppError(ErrorCode.NOT_FOUND, `referral ${referralId} not found`, { referralId });
    }
    await lockCustomers(tx, shop.id, { ids: [found.referrer] });
    await lockOrders(tx, shop.id, [found.shopifyOrderId]);
    const [locked] = (await tx
      .select()
      .from(referrals)
      .where(and(eq(referrals.shopId, shop.id), eq(referrals.id, referralId)))
      .for('update')) as Referral[];
    const referral = locked!;
    if (referral.status !== 'held') {
      throw new AppError(
        ErrorCode.CONFLICT,
        `referral ${referralId} is ${referral.status}, not held: it was decided already`,
        { referralId, status: referral.status },
      );
    }

    let status: 'rewarded' | 'rejected' = 'rejected';
    let detail = `rejected by ${staff}`;
    let points = 0;
    if (decision.action === 'approve') {
      const programs = await referralProgramVersions(tx, shop);
      const version = programs.byVersion.get(referral.programVersion);
      if (!version) {
        throw new AppError(
          ErrorCode.INTERNAL,
          `referral ${referralId} names program version ${referral.programVersion}, which the shop does not have`,
          { referralId },
        );
      }
      const state = (await orderStates(tx, shop.id, [referral.shopifyOrderId])).get(
        referral.shopifyOrderId,
      )!;
      const undone = undoneSince(version.program, referral, state);
      if (undone) {
        detail = `approved by ${staff}, but ${undone}: not rewarded`;
      } else {
        status = 'rewarded';
        detail = `approved by ${staff}`;
        points = version.program.referrerPoints;
      }
    }
    const reason: ReferralReason = {
      rule: 'review',
      action: status === 'rewarded' ? 'approve' : 'reject',
      detail: note ? `${detail}: ${note}` : detail,
    };
    const [updated] = await tx
      .update(referrals)
      .set({
        status,
        reasons: [...referral.reasons, reason],
        rewardPoints: points,
        reviewedBy: staff,
        reviewedAt: now,
        updatedAt: now,
      })
      .where(and(eq(referrals.shopId, shop.id), eq(referrals.id, referralId)))
      .returning();
    if (status === 'rewarded') {
      await postMany(tx, shop.id, [rewardEntry(referral, points, now)]);
      // Referral points count as earned points: the referrer's tier may move (docs/tiers.md).
      await evaluateMembers(tx, shop, [referral.referrerCustomerId], now);
    }
    return toReferral(updated!);
  });
}

/**
 * Guest orders claimed by an account (docs/earning-rules.md, "Guest orders"): the referrals made on
 * them now name the account as the friend, so "a friend is referred once" follows the account.
 */
export async function attachReferralFriend(
  tx: Executor,
  shopId: number,
  shopifyOrderIds: readonly string[],
  customerId: number,
): Promise<void> {
  if (shopifyOrderIds.length === 0) return;
  await tx
    .update(referrals)
    .set({ friendCustomerId: customerId, updatedAt: sql`now()` })
    .where(
      and(
        eq(referrals.shopId, shopId),
        inArray(referrals.shopifyOrderId, [...shopifyOrderIds]),
        isNull(referrals.friendCustomerId),
      ),
    );
}

/** One referral of the shop, or undefined. */
export async function getReferral(
  db: Executor,
  shopId: number,
  referralId: number,
): Promise<Referral | undefined> {
  const [row] = await db
    .select()
    .from(referrals)
    .where(and(eq(referrals.shopId, shopId), eq(referrals.id, referralId)));
  return row ? toReferral(row) : undefined;
}

/** The referral made on an order, or undefined. */
export async function referralOfOrder(
  db: Executor,
  shopId: number,
  shopifyOrderId: string,
): Promise<Referral | undefined> {
  const [row] = await db
    .select()
    .from(referrals)
    .where(and(eq(referrals.shopId, shopId), eq(referrals.shopifyOrderId, shopifyOrderId)));
  return row ? toReferral(row) : undefined;
}

/** The ledger entries of a referral: its reward and the reward's reversal, as posted. */
export async function referralEntries(
  db: Executor,
  shopId: number,
  referralId: number,
): Promise<LedgerEntry[]> {
  return (await db
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shopId),
        inArray(ledgerEntries.idempotencyKey, [
          referralRewardKey(referralId),
          referralReversalKey(referralId),
        ]),
      ),
    )
    .orderBy(asc(ledgerEntries.id))) as LedgerEntry[];
}
