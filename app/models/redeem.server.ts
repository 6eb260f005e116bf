/**
 * Writing redemptions: the balance-checked debit that pays for one, and every later change of its
 * status. The reads are in redemptions.server.ts; the Shopify side (issuing the code, reconciling)
 * in app/redemption.server.ts. Lifecycle and rules: docs/redemption.md.
 *
 * Never overspent: `beginRedemption` locks the member's customer_balances row (`SELECT … FOR
 * UPDATE`) before it reads the balance, and posts the debit in the same transaction, so concurrent
 * redemptions of one member queue on that lock and each sees the balance the previous one left.
 *
 * Never two movers: every status change is an `UPDATE … WHERE status = <from>` (or a row lock), so
 * two workers — a shopper's retry and the sweep — cannot both move a redemption, and points are
 * returned at most once (the return entry's idempotency key says so too).
 */
import { randomBytes } from 'node:crypto';
import { and, asc, count, eq, lt, lte, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBalances, customers, redemptions, shops } from '../../db/schema';
import {
  expiryOf,
  generateRewardCode,
  CODE_RANDOM_BYTES,
  issuedValue,
  issuesCode,
  redemptionPoints,
  RewardError,
  rewardAvailability,
  type RewardDefinition,
  type UnavailableReason,
} from '../../loyalty/rewards';
import { AppError, ErrorCode, sqlStateOf, validationFrom } from '../errors';
import { post } from './ledger.server';
import { moveRedemption, type Redemption, type RedemptionStatus } from './redemptions.server';
import { getReward } from './rewards.server';
import { requireShop } from './shops.server';
import { memberTier } from './tiers.server';

/** A request id: what the shopper's client sends once per redemption it means (Idempotency-Key). */
export const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;

const DAY_MS = 86_400_000;

export interface BeginRedemptionInput {
  /** Laurel's customer id (not Shopify's). */
  customerId: number;
  rewardId: number;
  requestId: string;
  /** Slider rewards: the points the shopper chose. Fixed-cost rewards: absent or the cost. */
  points?: unknown;
  now: Date;
}

export interface BeginRedemptionResult {
  redemption: Redemption;
  /** False when the request id was seen before: the first request's redemption, nothing debited. */
  created: boolean;
  /** The member's balance after the debit (or now, for a repeated request). */
  balance: number;
}

/** Why a redemption was refused, as the shopper's answer says it (docs/redemption.md). */
export function refusalFor(
  reason: UnavailableReason,
  detail: { balance: number; cost: number },
): AppError {
  switch (reason) {
    case 'INSUFFICIENT_BALANCE':
      return new AppError(
        ErrorCode.INSUFFICIENT_BALANCE,
        `this reward costs ${detail.cost} points and the balance is ${detail.balance}`,
        detail,
      );
    case 'LIMIT_REACHED':
      return new AppError(
        ErrorCode.CONFLICT,
        'this reward can be redeemed only so many times per customer, and that limit is reached',
        { reason },
      );
    case 'PERIOD_LIMIT_REACHED':
      return new AppError(
        ErrorCode.CONFLICT,
        'this reward was redeemed as often as it may be in its period; try again later',
        { reason },
      );
    case 'TIER':
      return new AppError(
        ErrorCode.FORBIDDEN,
        "this reward is not available at the member's tier",
        {
          reason,
        },
      );
  }
}

/** The points a redemption of `reward` costs; a bad choice is a 400 naming what is wrong. */
export function pointsFor(reward: RewardDefinition, requested: unknown): number {
  try {
    return redemptionPoints(reward, requested);
  } catch (error) {
    if (error instanceof RewardError) throw validationFrom(error);
    throw error;
  }
}

function checkRequestId(requestId: unknown): asserts requestId is string {
  if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      'requestId must be 8–64 characters of letters, digits, _ and -',
      { field: 'requestId' },
    );
  }
}

function rewardNotFound(shopId: number, rewardId: number): AppError {
  return new AppError(ErrorCode.NOT_FOUND, `reward ${rewardId} does not exist`, {
    shopId,
    rewardId,
  });
}

/** A reward the shopper may see: the shop's own and not archived (else 404, whichever it is). */
export async function redeemableReward(db: Executor, shopId: number, rewardId: number) {
  const reward =
    Number.isSafeInteger(rewardId) && rewardId > 0
      ? await getReward(db, shopId, rewardId)
      : undefined;
  if (!reward || reward.archivedAt !== null) throw rewardNotFound(shopId, rewardId);
  return reward;
}

async function findByRequest(
  db: Executor,
  shopId: number,
  customerId: number,
  requestId: string,
): Promise<Redemption | undefined> {
  const [row] = await db
    .select()
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.customerId, customerId),
        eq(redemptions.requestId, requestId),
      ),
    );
  return row as Redemption | undefined;
}

/** The first request's redemption, if `input` asks for the same thing; else IDEMPOTENCY_CONFLICT. */
function sameRequest(existing: Redemption, input: BeginRedemptionInput): Redemption {
  const points = input.points;
  const differs =
    existing.rewardId !== input.rewardId ||
    (points !== undefined && points !== null && points !== existing.points);
  if (differs) {
    throw new AppError(
      ErrorCode.IDEMPOTENCY_CONFLICT,
      `requestId ${input.requestId} was already used for another redemption (reward ${existing.rewardId}, ${existing.points} points)`,
      { redemptionId: existing.id },
    );
  }
  return existing;
}

/** Locks the member's balance row (creating a zero row first) and returns the balance. */
async function lockBalance(tx: Executor, shopId: number, customerId: number): Promise<number> {
  await tx
    .insert(customerBalances)
    .values({ customerId, shopId, balance: 0, lifetimeEarned: 0 })
    .onConflictDoNothing({ target: customerBalances.customerId });
  const [row] = await tx
    .select({ balance: customerBalances.balance })
    .from(customerBalances)
    .where(and(eq(customerBalances.shopId, shopId), eq(customerBalances.customerId, customerId)))
    .for('update');
  return Number(row!.balance);
}

/** The member's redemptions of `rewardId` that did not fail: ever, and since `since`. */
async function pastRedemptions(
  tx: Executor,
  shopId: number,
  customerId: number,
  rewardId: number,
  since: Date | null,
): Promise<{ total: number; inPeriod: number }> {
  const [row] = await tx
    .select({
      total: count(),
      inPeriod:
        since === null
          ? sql<number>`0`.mapWith(Number)
          : sql<number>`count(*) FILTER (WHERE ${redemptions.createdAt} > ${since.toISOString()}::timestamptz)`.mapWith(
              Number,
            ),
    })
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.customerId, customerId),
        eq(redemptions.rewardId, rewardId),
        ne(redemptions.status, 'failed'),
      ),
    );
  return { total: Number(row?.total ?? 0), inPeriod: Number(row?.inPeriod ?? 0) };
}

async function beginOnce(
  db: Executor,
  shopId: number,
  currency: string,
  input: BeginRedemptionInput,
): Promise<BeginRedemptionResult> {
  return db.transaction(async (tx) => {
    const [customer] = await tx
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.shopId, shopId), eq(customers.id, input.customerId)));
    if (!customer) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `customer ${input.customerId} is not a customer of shop ${shopId}`,
        { shopId, customerId: input.customerId },
      );
    }
    // Every redemption of this member queues here: the balance read below is the latest.
    const balance = await lockBalance(tx, shopId, input.customerId);

    const existing = await findByRequest(tx, shopId, input.customerId, input.requestId);
    if (existing) return { redemption: sameRequest(existing, input), created: false, balance };

    const reward = await redeemableReward(tx, shopId, input.rewardId);
    const definition = reward.definition;
    const points = pointsFor(definition, input.points);
    const period = definition.limitPerPeriod;
    const past = await pastRedemptions(
      tx,
      shopId,
      input.customerId,
      reward.id,
      period === null ? null : new Date(input.now.getTime() - period.days * DAY_MS),
    );
    // A tier-only reward lists the tier keys that may redeem it (docs/tiers.md).
    const tier = (await memberTier(tx, shopId, input.customerId))?.tier?.key ?? null;
    const availability = rewardAvailability(
      definition,
      { balance, tier, redeemedTotal: past.total, redeemedInPeriod: past.inPeriod },
      points,
    );
    if (!availability.canRedeem) {
      throw refusalFor(availability.reason, { balance, cost: points });
    }

    const value = issuedValue(definition, points, currency);
    // The id first: the debit's key names it, and the redemption row names the debit.
    const result = await tx.execute(
      sql`SELECT nextval(pg_get_serial_sequence('redemptions', 'id'))::bigint AS id`,
    );
    const redemptionId = Number(
      (result as unknown as { rows: { id: string | number }[] }).rows[0]!.id,
    );
    const debit = await post(tx, shopId, {
      customerId: input.customerId,
      idempotencyKey: `redemption:${redemptionId}:debit`,
      source: 'redemption',
      points: -points,
      occurredAt: input.now,
      // Every ledger entry explains itself: what was bought, at which version, for what.
      inputs: {
        redemptionId,
        rewardId: reward.id,
        rewardVersion: reward.version,
        type: definition.type,
        title: definition.title,
        ...(definition.slider === null ? { pointsCost: points } : { sliderPoints: points }),
        points,
        value,
        requestId: input.requestId,
      },
      subjectId: `redemption:${redemptionId}`,
    });
    const code = issuesCode(definition.type)
      ? generateRewardCode(randomBytes(CODE_RANDOM_BYTES))
      : null;
    const [row] = await tx
      .insert(redemptions)
      .values({
        id: redemptionId,
        shopId,
        customerId: input.customerId,
        rewardId: reward.id,
        rewardVersion: reward.version,
        requestId: input.requestId,
        status: 'pending',
        points,
        value,
        code,
        debitEntryId: debit.entry.id,
        expiresAt: expiryOf(definition, input.now),
        // The request that creates it makes the first call to Shopify (app/redemption.server.ts).
        attempts: 1,
        createdAt: input.now,
      })
      .returning();
    return { redemption: row as Redemption, created: true, balance: balance - points };
  });
}

/**
 * Debits the member for one redemption of `rewardId` and records it `pending` with the code
 * Shopify will be asked for — or refuses, having written nothing: NOT_FOUND (unknown, archived or
 * another shop's reward; a customer of another shop), VALIDATION (bad points or requestId),
 * INSUFFICIENT_BALANCE, CONFLICT (a limit reached), FORBIDDEN (tier). The same (customer,
 * requestId) again returns the first redemption with created=false and debits nothing; with
 * another reward or other points it is IDEMPOTENCY_CONFLICT.
 */
export async function beginRedemption(
  db: Executor,
  shopId: number,
  input: BeginRedemptionInput,
): Promise<BeginRedemptionResult> {
  checkRequestId(input.requestId);
  const shop = await requireShop(db, shopId);
  for (let attempt = 1; ; attempt++) {
    try {
      return await beginOnce(db, shopId, shop.currency, input);
    } catch (error) {
      // Two identical requests both inserting (or, once in 2^60, a code taken): the loser's
      // transaction is gone; the next try reads the winner's redemption (or draws a new code).
      if (sqlStateOf(error) === '23505' && attempt < 3) continue;
      throw error;
    }
  }
}

async function currentRow(db: Executor, shopId: number, redemptionId: number): Promise<Redemption> {
  const [row] = await db
    .select()
    .from(redemptions)
    .where(and(eq(redemptions.shopId, shopId), eq(redemptions.id, redemptionId)));
  if (!row) {
    throw new AppError(ErrorCode.NOT_FOUND, `shop ${shopId} has no redemption ${redemptionId}`, {
      shopId,
      redemptionId,
    });
  }
  return row as Redemption;
}

function notPending(row: Redemption, wanted: RedemptionStatus): AppError {
  return new AppError(
    ErrorCode.CONFLICT,
    `redemption ${row.id} is ${row.status}; it cannot become ${wanted}`,
    { redemptionId: row.id, status: row.status, wanted },
  );
}

/**
 * Shopify created the discount: pending → issued. Repeating it with the same discount is harmless;
 * a redemption that is no longer pending (failed by the sweep, say) is a CONFLICT whose details
 * carry its status — the caller must then undo the discount.
 */
export async function markIssued(
  db: Executor,
  shopId: number,
  redemptionId: number,
  issued: { discountId: string; issuedAt: Date },
): Promise<Redemption> {
  const row = await moveRedemption(db, shopId, redemptionId, 'pending', {
    status: 'issued',
    shopifyDiscountId: issued.discountId,
    issuedAt: issued.issuedAt,
  });
  if (row) return row;
  const current = await currentRow(db, shopId, redemptionId);
  if (current.shopifyDiscountId === issued.discountId && current.status !== 'failed') {
    return current;
  }
  throw notPending(current, 'issued');
}

/** Shopify credited the store credit: pending → credited (final). Repeatable like markIssued. */
export async function markCredited(
  db: Executor,
  shopId: number,
  redemptionId: number,
  credited: { storeCreditTransactionId: string; issuedAt: Date },
): Promise<Redemption> {
  const row = await moveRedemption(db, shopId, redemptionId, 'pending', {
    status: 'credited',
    storeCreditTransactionId: credited.storeCreditTransactionId,
    issuedAt: credited.issuedAt,
    closedAt: credited.issuedAt,
  });
  if (row) return row;
  const current = await currentRow(db, shopId, redemptionId);
  if (current.storeCreditTransactionId === credited.storeCreditTransactionId) return current;
  throw notPending(current, 'credited');
}

/** Where a redemption may come from to give its points back. */
const RETURNABLE_FROM: Record<'failed' | 'refunded', readonly RedemptionStatus[]> = {
  // Shopify refused, or the create never happened.
  failed: ['pending'],
  // The code expired unused and the reward gives points back on expiry; or the order that used
  // it was undone and the program gives points back then (docs/redemption.md).
  refunded: ['issued', 'used'],
};

/** Why the points came back, for the shopper's history (loyalty/explain.ts). */
export type ReturnCause = 'not-created' | 'expired' | 'order-cancelled' | 'order-refunded';

export interface ReturnResult {
  redemption: Redemption;
  /** False when the points had already been returned (a repeat): nothing was posted. */
  returned: boolean;
}

/**
 * Gives a redemption's points back in one transaction: the compensating entry
 * `redemption:<id>:return` (positive, reversing the debit, inputs saying why) and the status —
 * `failed` from pending (with failure_reason), `refunded` from issued. Repeating it returns the
 * redemption as it is, posting nothing; from any other status it is a CONFLICT.
 */
export async function returnPoints(
  db: Executor,
  shopId: number,
  redemptionId: number,
  change: {
    status: 'failed' | 'refunded';
    reason: string;
    /** Default: not-created for failed, expired for refunded. */
    cause?: ReturnCause;
    /** The undone order's name (`#1001`), shown in the shopper's history. */
    orderName?: string | null;
    now?: Date;
  },
): Promise<ReturnResult> {
  const reason = change.reason.trim().slice(0, 500) || 'no reason given';
  return db.transaction(async (tx) => {
    const [locked] = await tx
      .select()
      .from(redemptions)
      .where(and(eq(redemptions.shopId, shopId), eq(redemptions.id, redemptionId)))
      .for('update');
    if (!locked) await currentRow(tx, shopId, redemptionId);
    const row = locked as Redemption;
    if (row.status === change.status && row.returnEntryId !== null) {
      return { redemption: row, returned: false };
    }
    if (!RETURNABLE_FROM[change.status].includes(row.status)) throw notPending(row, change.status);
    const now = change.now ?? new Date();
    const entry = await post(tx, shopId, {
      customerId: row.customerId,
      idempotencyKey: `redemption:${row.id}:return`,
      source: 'redemption',
      points: row.points,
      occurredAt: now,
      inputs: {
        redemptionId: row.id,
        rewardId: row.rewardId,
        rewardVersion: row.rewardVersion,
        points: row.points,
        status: change.status,
        cause: change.cause ?? (change.status === 'failed' ? 'not-created' : 'expired'),
        reason,
        ...(row.code === null ? {} : { code: row.code }),
        ...(change.orderName ? { orderName: change.orderName } : {}),
      },
      subjectId: `redemption:${row.id}`,
      reversesEntryId: row.debitEntryId,
    });
    const [updated] = await tx
      .update(redemptions)
      .set({
        status: change.status,
        returnEntryId: entry.entry.id,
        closedAt: now,
        ...(change.status === 'failed' ? { failureReason: reason } : {}),
        updatedAt: sql`now()`,
      })
      .where(and(eq(redemptions.shopId, shopId), eq(redemptions.id, row.id)))
      .returning();
    return { redemption: updated as Redemption, returned: true };
  });
}

/** Shopify refused (or never ran) the create: the redemption fails and its points come back. */
export function failAndReturn(
  db: Executor,
  shopId: number,
  redemptionId: number,
  reason: string,
  now?: Date,
): Promise<ReturnResult> {
  return returnPoints(db, shopId, redemptionId, {
    status: 'failed',
    reason,
    ...(now ? { now } : {}),
  });
}

/**
 * Takes a pending redemption for one call to Shopify: counts the attempt and restarts its idle
 * clock, only if it was idle since `idleBefore` — so a shopper's retry and the sweep never talk
 * to Shopify about one redemption at once, and never while its first call may still be running.
 * Undefined when it is not pending or was touched since.
 */
export async function claimPending(
  db: Executor,
  shopId: number,
  redemptionId: number,
  idleBefore: Date,
): Promise<Redemption | undefined> {
  const [row] = await db
    .update(redemptions)
    .set({ attempts: sql`${redemptions.attempts} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.id, redemptionId),
        eq(redemptions.status, 'pending'),
        lte(redemptions.updatedAt, idleBefore),
      ),
    )
    .returning();
  return row as Redemption | undefined;
}

/** A call about a pending redemption ended without an answer: its idle clock starts now. */
export async function touchPending(db: Executor, shopId: number, redemptionId: number) {
  await db
    .update(redemptions)
    .set({ updatedAt: sql`now()` })
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.id, redemptionId),
        eq(redemptions.status, 'pending'),
      ),
    );
}

/** Shops with pending redemptions idle since `idleBefore` and under `maxAttempts` (the sweep). */
export async function shopsWithStalePending(
  db: Executor,
  idleBefore: Date,
  maxAttempts: number,
): Promise<{ shopId: number; domain: string }[]> {
  return db
    .selectDistinct({ shopId: shops.id, domain: shops.domain })
    .from(redemptions)
    .innerJoin(shops, eq(shops.id, redemptions.shopId))
    .where(
      and(
        eq(redemptions.status, 'pending'),
        lte(redemptions.updatedAt, idleBefore),
        lt(redemptions.attempts, maxAttempts),
        eq(shops.active, true),
      ),
    )
    .orderBy(asc(shops.id));
}

/** The shop's pending redemptions idle since `idleBefore`, oldest first. */
export async function stalePending(
  db: Executor,
  shopId: number,
  options: { idleBefore: Date; maxAttempts: number; limit: number },
): Promise<Redemption[]> {
  const rows = await db
    .select()
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.status, 'pending'),
        lte(redemptions.updatedAt, options.idleBefore),
        lt(redemptions.attempts, options.maxAttempts),
      ),
    )
    .orderBy(asc(redemptions.updatedAt), asc(redemptions.id))
    .limit(options.limit);
  return rows as Redemption[];
}

/**
 * The member's redemptions per reward that did not fail — ever, and within each reward's own
 * period window (its current version's limitPerPeriod.days) ending at `now` — for the catalog's
 * canRedeem. The same counts beginRedemption takes under its lock.
 */
export async function redemptionCounts(
  db: Executor,
  shopId: number,
  customerId: number,
  now: Date,
): Promise<Map<number, { total: number; inPeriod: number }>> {
  const result = await db.execute(sql`
    SELECT d.reward_id AS "rewardId", count(*)::int AS total,
      count(*) FILTER (
        WHERE d.created_at > ${now.toISOString()}::timestamptz
          - make_interval(days => coalesce((v.definition->'limitPerPeriod'->>'days')::int, 0))
      )::int AS "inPeriod"
    FROM redemptions d
    JOIN rewards w ON w.shop_id = d.shop_id AND w.id = d.reward_id
    JOIN reward_versions v
      ON v.shop_id = w.shop_id AND v.reward_id = w.id AND v.version = w.current_version
    WHERE d.shop_id = ${shopId} AND d.customer_id = ${customerId} AND d.status <> 'failed'
    GROUP BY d.reward_id`);
  const rows = (
    result as unknown as { rows: { rewardId: number; total: number; inPeriod: number }[] }
  ).rows;
  return new Map(
    rows.map((r) => [Number(r.rewardId), { total: Number(r.total), inPeriod: Number(r.inPeriod) }]),
  );
}
