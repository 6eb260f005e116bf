/**
 * Orders and refunds as Laurel has seen them, and their settlement into the ledger.
 *
 * Every writer of an order's entries first takes the order's lock ({@link lockOrder}, a
 * transaction-scoped advisory lock), records what the delivery says, then calls
 * {@link settleOrder}, which reads the whole state of the order and posts what
 * loyalty/settlement.ts plans. Under the lock the plan is computed from committed state, so the
 * entries' inputs never depend on which delivery came first, and a repeat plans nothing.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { ledgerEntries, orderRefunds, orders } from '../../db/schema';
import {
  awardKey,
  planOrderSettlement,
  type NoAwardReason,
  type SettlementOrder,
} from '../../loyalty/settlement';
import type { OrderFacts, RefundFacts } from '../../loyalty/shopify-order';
import { AppError, ErrorCode } from '../errors';
import { findEntryByKey, post, type LedgerEntry } from './ledger.server';
import { compiledProgram, programAt, type ProgramVersion } from './programs.server';
import type { Shop } from './shops.server';

export type Order = typeof orders.$inferSelect;
export type OrderRefund = typeof orderRefunds.$inferSelect;

/**
 * Serialises every writer of one order's entries until the transaction ends. An advisory lock,
 * not a row lock, because a refund can arrive before Laurel has any row for its order.
 */
export async function lockOrder(tx: Executor, shopId: number, shopifyOrderId: string) {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${shopId}::int, hashtext(${shopifyOrderId}))`);
}

export interface RecordOrderOptions {
  customerId: number | null;
  /** When orders/paid was received; null for other topics (an existing paid_at is kept). */
  paidAt: Date | null;
  /** Program version in force at the order's processedAt (recorded for explanation). */
  programVersion: number | null;
}

/**
 * Creates or refreshes the order's row from an order body. Amounts, customer and flags follow the
 * latest body; paid_at and cancelled_at, once known, are kept.
 */
export async function recordOrder(
  tx: Executor,
  shopId: number,
  facts: OrderFacts,
  options: RecordOrderOptions,
): Promise<Order> {
  const values = {
    shopId,
    shopifyOrderId: facts.orderId,
    name: facts.name,
    customerId: options.customerId,
    email: facts.email,
    currency: facts.shopCurrency,
    sourceName: facts.sourceName,
    test: facts.test,
    earnAmountMinor: facts.earnAmountMinor,
    totalMinor: facts.totalMinor,
    processedAt: new Date(facts.processedAt),
    paidAt: options.paidAt,
    cancelledAt: facts.cancelledAt === null ? null : new Date(facts.cancelledAt),
    programVersion: options.programVersion,
  };
  const [row] = await tx
    .insert(orders)
    .values(values)
    .onConflictDoUpdate({
      target: [orders.shopId, orders.shopifyOrderId],
      set: {
        name: sql`excluded.name`,
        // A claimed guest order keeps its customer even if a later body still says guest.
        customerId: sql`coalesce(excluded.customer_id, ${orders.customerId})`,
        // A redacted order's email stays empty.
        email: sql`CASE WHEN ${orders.redactedAt} IS NULL THEN excluded.email ELSE NULL END`,
        currency: sql`excluded.currency`,
        sourceName: sql`excluded.source_name`,
        test: sql`excluded.test`,
        earnAmountMinor: sql`excluded.earn_amount_minor`,
        totalMinor: sql`excluded.total_minor`,
        processedAt: sql`excluded.processed_at`,
        paidAt: sql`coalesce(${orders.paidAt}, excluded.paid_at)`,
        cancelledAt: sql`coalesce(${orders.cancelledAt}, excluded.cancelled_at)`,
        programVersion: sql`coalesce(excluded.program_version, ${orders.programVersion})`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row!;
}

/** Records a refund once (a repeat is ignored). Returns whether it was new. */
export async function recordRefund(
  tx: Executor,
  shopId: number,
  refund: RefundFacts,
): Promise<boolean> {
  const rows = await tx
    .insert(orderRefunds)
    .values({
      shopId,
      shopifyOrderId: refund.orderId,
      shopifyRefundId: refund.refundId,
      merchandiseMinor: refund.merchandiseMinor,
      shippingMinor: refund.shippingMinor,
      discrepancyMinor: refund.discrepancyMinor,
      currency: refund.shopCurrency,
      processedAt: new Date(refund.processedAt),
    })
    .onConflictDoNothing({ target: [orderRefunds.shopId, orderRefunds.shopifyRefundId] })
    .returning({ id: orderRefunds.id });
  return rows.length > 0;
}

export async function getOrder(
  db: Executor,
  shopId: number,
  shopifyOrderId: string,
): Promise<Order | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.shopId, shopId), eq(orders.shopifyOrderId, shopifyOrderId)));
  return row;
}

/** The order's refunds in the order Laurel recorded them. */
export async function refundsOf(
  db: Executor,
  shopId: number,
  shopifyOrderId: string,
): Promise<OrderRefund[]> {
  return db
    .select()
    .from(orderRefunds)
    .where(and(eq(orderRefunds.shopId, shopId), eq(orderRefunds.shopifyOrderId, shopifyOrderId)))
    .orderBy(asc(orderRefunds.id));
}

export interface SettlementResult {
  /** The award entry (posted now or before), if the order has one. */
  award: LedgerEntry | null;
  /** Entries posted by this call (award first, then reversals). */
  posted: LedgerEntry[];
  noAwardReason: NoAwardReason | null;
}

function settlementOrder(row: Order): SettlementOrder {
  return {
    orderId: row.shopifyOrderId,
    name: row.name,
    customerId: row.customerId,
    paid: row.paidAt !== null,
    test: row.test,
    sourceName: row.sourceName,
    // Rows written before processed_at existed fall back to their creation time.
    processedAt: row.processedAt ?? row.createdAt,
    cancelledAt: row.cancelledAt,
    currency: row.currency,
    earnAmountMinor: Number(row.earnAmountMinor),
    totalMinor: Number(row.totalMinor),
  };
}

function awardAmount(award: LedgerEntry): number {
  const amount = award.inputs.amountMinor;
  if (!Number.isSafeInteger(amount) || (amount as number) < 0) {
    throw new AppError(
      ErrorCode.INTERNAL,
      `award ${award.idempotencyKey} records no amountMinor; its reversals cannot be computed`,
      { entryId: award.id },
    );
  }
  return amount as number;
}

/**
 * Posts whatever the order's state calls for: its award (when paid, not a guest or excluded test
 * order, and a program exists) and the reversals of its refunds and cancellation not yet posted.
 * Call it with the order locked ({@link lockOrder}) inside the transaction that recorded the
 * delivery. `program` may pass the version already looked up for the order's processedAt.
 */
export async function settleOrder(
  tx: Executor,
  shop: Shop,
  shopifyOrderId: string,
  program?: ProgramVersion | null,
): Promise<SettlementResult> {
  const row = await getOrder(tx, shop.id, shopifyOrderId);
  const existing = await findEntryByKey(tx, shop.id, awardKey(shopifyOrderId));
  const order = row ? settlementOrder(row) : null;
  let version = program;
  if (!existing && order && version === undefined) {
    version = (await programAt(tx, shop.id, order.processedAt)) ?? null;
  }
  const posted = existing
    ? await tx
        .select({ key: ledgerEntries.idempotencyKey, points: ledgerEntries.points })
        .from(ledgerEntries)
        .where(
          and(eq(ledgerEntries.shopId, shop.id), eq(ledgerEntries.reversesEntryId, existing.id)),
        )
    : [];
  const refunds = await refundsOf(tx, shop.id, shopifyOrderId);

  const plan = planOrderSettlement({
    order,
    testOrdersEarn: shop.testOrdersEarn,
    program: version ? { version: version.version, program: compiledProgram(version) } : null,
    award: existing
      ? {
          id: existing.id,
          customerId: existing.customerId,
          points: existing.points,
          amountMinor: awardAmount(existing),
          programVersion: existing.programVersion,
        }
      : null,
    postedReversalKeys: new Set(posted.map((p) => p.key)),
    alreadyReversed: -posted.reduce((sum, p) => sum + p.points, 0),
    refunds: refunds.map((r) => ({
      refundId: r.shopifyRefundId,
      merchandiseMinor: Number(r.merchandiseMinor),
      processedAt: r.processedAt,
    })),
  });

  const written: LedgerEntry[] = [];
  let award = existing ?? null;
  if (plan.award) {
    const result = await post(tx, shop.id, { ...plan.award, customerId: plan.customerId! });
    award = result.entry;
    written.push(result.entry);
  }
  for (const reversal of plan.reversals) {
    const result = await post(tx, shop.id, {
      ...reversal,
      customerId: plan.customerId!,
      reversesEntryId: award!.id,
    });
    written.push(result.entry);
  }
  return { award, posted: written, noAwardReason: plan.noAwardReason };
}

/**
 * Guest orders (no customer) with this email, oldest first: what a new account can claim.
 * See docs/earning-rules.md ("Guest orders").
 */
export async function unclaimedGuestOrders(
  db: Executor,
  shopId: number,
  email: string,
): Promise<Order[]> {
  return db
    .select()
    .from(orders)
    .where(and(eq(orders.shopId, shopId), isNull(orders.customerId), eq(orders.email, email)))
    .orderBy(asc(orders.id));
}

/** Attaches a guest order to the customer who claimed it (only while it is still unclaimed). */
export async function attachCustomer(
  tx: Executor,
  shopId: number,
  shopifyOrderId: string,
  customerId: number,
): Promise<boolean> {
  const rows = await tx
    .update(orders)
    .set({ customerId, updatedAt: sql`now()` })
    .where(
      and(
        eq(orders.shopId, shopId),
        eq(orders.shopifyOrderId, shopifyOrderId),
        isNull(orders.customerId),
      ),
    )
    .returning({ id: orders.id });
  return rows.length > 0;
}

/** Orders of a customer (for data requests), oldest first. */
export async function ordersOfCustomer(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<Order[]> {
  return db
    .select()
    .from(orders)
    .where(and(eq(orders.shopId, shopId), eq(orders.customerId, customerId)))
    .orderBy(asc(orders.id));
}
