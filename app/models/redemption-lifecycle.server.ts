/**
 * What happens to an issued code after the shopper has it: an order uses it (orders/paid carries
 * the code), the order is undone, or the code expires unused. Rules: docs/redemption.md.
 */
import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { redemptions } from '../../db/schema';
import { returnsRedemptionPoints } from '../../loyalty/redemption-refunds';
import { getOrder, refundsOf } from './orders.server';
import type { ProgramTimeline } from './programs.server';
import { returnPoints } from './redeem.server';
import { moveRedemption, type Redemption } from './redemptions.server';

export interface CodeUse {
  /** Shopify order id. */
  orderId: string;
  /** The order's discount codes as Shopify reported them (any case). */
  codes: readonly string[];
  /** When the order was paid: the redemption's used_at. */
  usedAt: Date;
}

/**
 * Marks the redemptions whose codes these orders used as `used`, linked to the order. A code that
 * Laurel did not issue is no redemption and is ignored. `pending` counts too (Shopify had created
 * the code before Laurel heard back), and so does `expired`: an order paid just before the code
 * expired can arrive after the expiry sweep; and so does a `used` one without an order (the sweep
 * saw Shopify's use count first). A repeat delivery changes nothing. Returns, per order,
 * the ids of the redemptions marked now.
 */
export async function recordCodeUses(
  db: Executor,
  shopId: number,
  uses: readonly CodeUse[],
): Promise<Map<string, number[]>> {
  const marked = new Map<string, number[]>();
  for (const use of uses) {
    if (use.codes.length === 0) continue;
    const rows = await db
      .update(redemptions)
      .set({
        status: 'used',
        usedAt: use.usedAt,
        shopifyOrderId: use.orderId,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(redemptions.shopId, shopId),
          or(
            inArray(redemptions.status, ['issued', 'pending', 'expired']),
            // Shopify's use count seen by the expiry sweep before the order arrived.
            and(eq(redemptions.status, 'used'), isNull(redemptions.shopifyOrderId)),
          ),
          inArray(
            sql`upper(${redemptions.code})`,
            use.codes.map((code) => code.toUpperCase()),
          ),
        ),
      )
      .returning({ id: redemptions.id });
    if (rows.length > 0)
      marked.set(
        use.orderId,
        rows.map((row) => row.id),
      );
  }
  return marked;
}

/** Shops with issued codes past `expiredBefore` (the expiry sweep's first read). */
export async function shopsWithDueExpiries(
  db: Executor,
  expiredBefore: Date,
): Promise<{ shopId: number }[]> {
  return db
    .selectDistinct({ shopId: redemptions.shopId })
    .from(redemptions)
    .where(and(eq(redemptions.status, 'issued'), lte(redemptions.expiresAt, expiredBefore)));
}

/** The shop's issued codes that expired before `expiredBefore`, oldest expiry first. */
export async function dueForExpiry(
  db: Executor,
  shopId: number,
  expiredBefore: Date,
  limit: number,
): Promise<Redemption[]> {
  const rows = await db
    .select()
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.status, 'issued'),
        lte(redemptions.expiresAt, expiredBefore),
      ),
    )
    .orderBy(asc(redemptions.expiresAt), asc(redemptions.id))
    .limit(limit);
  return rows as Redemption[];
}

/**
 * Closes an issued code that expired unused, keeping its points (the reward does not give them
 * back). Guarded: undefined when it is no longer issued (an order used it meanwhile).
 */
export function markExpired(
  db: Executor,
  shopId: number,
  redemptionId: number,
  now: Date,
): Promise<Redemption | undefined> {
  return moveRedemption(db, shopId, redemptionId, 'issued', { status: 'expired', closedAt: now });
}

/**
 * Shopify counted a use of the code but no paid order carrying it has arrived (payment pending, or
 * a lost webhook): `used` without an order; the order is linked when orders/paid comes.
 */
export function markUsedAtShopify(
  db: Executor,
  shopId: number,
  redemptionId: number,
  now: Date,
): Promise<Redemption | undefined> {
  return moveRedemption(db, shopId, redemptionId, 'issued', { status: 'used', usedAt: now });
}

/** The redemptions used on these orders whose points have not come back. */
export async function usedOnOrders(
  db: Executor,
  shopId: number,
  orderIds: readonly string[],
): Promise<Redemption[]> {
  if (orderIds.length === 0) return [];
  const rows = await db
    .select()
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.status, 'used'),
        inArray(redemptions.shopifyOrderId, [...orderIds]),
      ),
    )
    .orderBy(asc(redemptions.id));
  return rows as Redemption[];
}

/**
 * The program's rule for codes spent on orders that were undone (docs/redemption.md, "When the
 * order is undone"): for each redemption used on these orders, if the order is cancelled or fully
 * refunded and the program version the order earned under says `return_points`, the points come
 * back (`refunded`). Decided from the order's recorded state, so the arrival order of orders/paid,
 * refunds/create and orders/cancelled does not matter; a repeat posts nothing. Returns how many
 * redemptions gave their points back now.
 */
export async function settleRedemptionRefunds(
  db: Executor,
  shopId: number,
  orderIds: readonly string[],
  timeline: ProgramTimeline,
  now: Date,
): Promise<Map<string, number>> {
  const returned = new Map<string, number>();
  const used = await usedOnOrders(db, shopId, [...new Set(orderIds)]);
  for (const redemption of used) {
    const orderId = redemption.shopifyOrderId!;
    const order = await getOrder(db, shopId, orderId);
    if (!order) continue;
    const refunds = await refundsOf(db, shopId, orderId);
    const version = timeline.at(order.processedAt ?? order.createdAt);
    if (!version) continue;
    const undone = returnsRedemptionPoints(version.program.redemptionRefunds, {
      cancelledAt: order.cancelledAt,
      earnAmountMinor: order.earnAmountMinor,
      refundedMinor: refunds.reduce((sum, r) => sum + r.merchandiseMinor, 0),
      hasRefunds: refunds.length > 0,
    });
    if (!undone) continue;
    const result = await returnPoints(db, shopId, redemption.id, {
      status: 'refunded',
      cause: undone === 'cancelled' ? 'order-cancelled' : 'order-refunded',
      orderName: order.name,
      reason: `order ${order.name ?? orderId} was ${undone}; program version ${version.version} returns the points spent on its reward code`,
      now,
    });
    if (result.returned) returned.set(orderId, (returned.get(orderId) ?? 0) + 1);
  }
  return returned;
}
