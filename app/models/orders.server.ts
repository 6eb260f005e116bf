/**
 * Orders and refunds as Laurel has seen them, and their settlement into the ledger.
 *
 * Every writer of an order's entries first takes the order's lock ({@link lockOrders}, a
 * transaction-scoped advisory lock), records what its deliveries say ({@link recordOrders},
 * {@link recordRefunds}), then calls {@link settleOrders}, which reads the whole state of each order
 * and posts what loyalty/settlement.ts plans. Under the lock the plan is computed from committed
 * state, so the entries' inputs never depend on which delivery came first, and a repeat plans
 * nothing. Every function takes many orders at once: the workers process deliveries in batches.
 */
import { and, asc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customers, ledgerEntries, orderRefunds, orders } from '../../db/schema';
import { anyOf, recordset } from '../../db/sql';
import {
  awardKey,
  planOrderSettlement,
  type EntryDraft,
  type NoAwardReason,
  type SettlementOrder,
} from '../../loyalty/settlement';
import type { OrderFacts, RefundFacts } from '../../loyalty/shopify-order';
import { AppError, ErrorCode } from '../errors';
import { postMany, type LedgerEntry, type LedgerEntryInput } from './ledger.server';
import { programTimeline, type ProgramTimeline } from './programs.server';
import type { Shop } from './shops.server';
import { campaignRulesFor } from './campaigns.server';
import { tiersForAwards } from './tiers.server';

export type Order = typeof orders.$inferSelect;
export type OrderRefund = typeof orderRefunds.$inferSelect;

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Serialises every writer of these orders' entries until the transaction ends. Advisory locks, not
 * row locks, because a refund can arrive before Laurel has any row for its order. Taken in one
 * statement, in sorted order, so two batches sharing orders cannot deadlock on them.
 */
export async function lockOrders(
  tx: Executor,
  shopId: number,
  shopifyOrderIds: Iterable<string>,
): Promise<void> {
  const ids = [...new Set(shopifyOrderIds)].sort(byText);
  if (ids.length === 0) return;
  // unnest yields the array in order, so the locks are taken in sorted order.
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(${shopId}::int, hashtext(o)) FROM unnest(${sql.param(ids)}::text[]) AS o`,
  );
}

export interface OrderRecord {
  facts: OrderFacts;
  customerId: number | null;
  /** When orders/paid was received; null for other topics (an existing paid_at is kept). */
  paidAt: Date | null;
  /** Program version in force at the order's processedAt (recorded for explanation). */
  programVersion: number | null;
}

/**
 * Several bodies of one order in one batch, folded as consecutive upserts would: the latest body's
 * fields, the first known paid_at and cancelled_at, the latest known customer and program version.
 */
function fold(records: readonly OrderRecord[]): Map<string, OrderRecord> {
  const byOrder = new Map<string, OrderRecord>();
  for (const record of records) {
    const previous = byOrder.get(record.facts.orderId);
    if (!previous) {
      byOrder.set(record.facts.orderId, record);
      continue;
    }
    byOrder.set(record.facts.orderId, {
      facts: {
        ...record.facts,
        cancelledAt: previous.facts.cancelledAt ?? record.facts.cancelledAt,
      },
      customerId: record.customerId ?? previous.customerId,
      paidAt: previous.paidAt ?? record.paidAt,
      programVersion: record.programVersion ?? previous.programVersion,
    });
  }
  return byOrder;
}

/** Of these customers, those redacted by customers/redact. */
async function redactedCustomerIds(
  tx: Executor,
  shopId: number,
  customerIds: readonly number[],
): Promise<Set<number>> {
  if (customerIds.length === 0) return new Set();
  const rows = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(
      and(
        eq(customers.shopId, shopId),
        anyOf(customers.id, customerIds),
        isNotNull(customers.redactedAt),
      ),
    );
  return new Set(rows.map((r) => r.id));
}

/**
 * Creates or refreshes order rows from order bodies (in delivery order). Amounts, customer and
 * flags follow the latest body; paid_at and cancelled_at, once known, are kept; a claimed guest
 * order keeps its customer; a redacted order's email stays empty, and so does that of any order of
 * a redacted customer, which is recorded as redacted (docs/privacy.md).
 */
export async function recordOrders(
  tx: Executor,
  shopId: number,
  records: readonly OrderRecord[],
): Promise<void> {
  const folded = [...fold(records).values()].sort((a, b) =>
    byText(a.facts.orderId, b.facts.orderId),
  );
  if (folded.length === 0) return;
  const redacted = await redactedCustomerIds(
    tx,
    shopId,
    folded.flatMap((r) => (r.customerId === null ? [] : [r.customerId])),
  );
  const now = new Date();
  await tx
    .insert(orders)
    .select(
      recordset(
        orders,
        folded.map(({ facts, customerId, paidAt, programVersion }) => ({
          shopId,
          shopifyOrderId: facts.orderId,
          name: facts.name,
          customerId,
          email: customerId !== null && redacted.has(customerId) ? null : facts.email,
          redactedAt: customerId !== null && redacted.has(customerId) ? now : null,
          currency: facts.shopCurrency,
          sourceName: facts.sourceName,
          test: facts.test,
          earnAmountMinor: facts.earnAmountMinor,
          totalMinor: facts.totalMinor,
          processedAt: new Date(facts.processedAt),
          paidAt,
          cancelledAt: facts.cancelledAt === null ? null : new Date(facts.cancelledAt),
          programVersion,
          // Kept for campaigns limited to some products (docs/campaigns.md).
          lines: facts.lines ?? null,
        })),
      ),
    )
    .onConflictDoUpdate({
      target: [orders.shopId, orders.shopifyOrderId],
      set: {
        name: sql`excluded.name`,
        customerId: sql`coalesce(excluded.customer_id, ${orders.customerId})`,
        email: sql`CASE WHEN ${orders.redactedAt} IS NULL THEN excluded.email ELSE NULL END`,
        redactedAt: sql`coalesce(${orders.redactedAt}, excluded.redacted_at)`,
        currency: sql`excluded.currency`,
        sourceName: sql`excluded.source_name`,
        test: sql`excluded.test`,
        earnAmountMinor: sql`excluded.earn_amount_minor`,
        totalMinor: sql`excluded.total_minor`,
        processedAt: sql`excluded.processed_at`,
        paidAt: sql`coalesce(${orders.paidAt}, excluded.paid_at)`,
        cancelledAt: sql`coalesce(${orders.cancelledAt}, excluded.cancelled_at)`,
        programVersion: sql`coalesce(excluded.program_version, ${orders.programVersion})`,
        lines: sql`coalesce(excluded.lines, ${orders.lines})`,
        updatedAt: sql`now()`,
      },
    });
}

/**
 * Records refunds once each, in the order given (which is the order their reversals are computed
 * in); repeats are ignored. Returns the ids of the refunds that were new.
 */
export async function recordRefunds(
  tx: Executor,
  shopId: number,
  refunds: readonly RefundFacts[],
): Promise<Set<string>> {
  const unique = new Map<string, RefundFacts>();
  for (const refund of refunds)
    if (!unique.has(refund.refundId)) unique.set(refund.refundId, refund);
  if (unique.size === 0) return new Set();
  const rows = await tx
    .insert(orderRefunds)
    .select(
      recordset(
        orderRefunds,
        [...unique.values()].map((refund) => ({
          shopId,
          shopifyOrderId: refund.orderId,
          shopifyRefundId: refund.refundId,
          merchandiseMinor: refund.merchandiseMinor,
          shippingMinor: refund.shippingMinor,
          discrepancyMinor: refund.discrepancyMinor,
          currency: refund.shopCurrency,
          processedAt: new Date(refund.processedAt),
        })),
      ),
    )
    .onConflictDoNothing({ target: [orderRefunds.shopId, orderRefunds.shopifyRefundId] })
    .returning({ refundId: orderRefunds.shopifyRefundId });
  return new Set(rows.map((r) => r.refundId));
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
  /** Entries posted for the order by this call (award first, then reversals). */
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
    lines: row.lines ?? null,
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

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Posts whatever each order's state calls for: its award (when paid, not a guest or excluded test
 * order, and a program exists; multiplied by the tier its customer holds now, docs/tiers.md, and
 * by the campaigns in force at its processedAt, docs/campaigns.md) and
 * the reversals of its refunds and cancellation not yet posted.
 * Call it with the orders locked ({@link lockOrders}) inside the transaction that recorded the
 * deliveries. A few queries for the whole set, whatever its size. `timeline` may pass the shop's
 * programs already loaded.
 */
export async function settleOrders(
  tx: Executor,
  shop: Shop,
  shopifyOrderIds: Iterable<string>,
  timeline?: ProgramTimeline,
): Promise<Map<string, SettlementResult>> {
  const ids = [...new Set(shopifyOrderIds)].sort(byText);
  const results = new Map<string, SettlementResult>();
  if (ids.length === 0) return results;

  const orderRows = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.shopId, shop.id), anyOf(orders.shopifyOrderId, ids)));
  const awardRows = (await tx
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shop.id),
        anyOf(ledgerEntries.idempotencyKey, ids.map(awardKey)),
      ),
    )) as LedgerEntry[];
  const reversalRows =
    awardRows.length === 0
      ? []
      : await tx
          .select({
            key: ledgerEntries.idempotencyKey,
            points: ledgerEntries.points,
            reversesEntryId: ledgerEntries.reversesEntryId,
          })
          .from(ledgerEntries)
          .where(
            and(
              eq(ledgerEntries.shopId, shop.id),
              anyOf(
                ledgerEntries.reversesEntryId,
                awardRows.map((a) => a.id),
              ),
            ),
          );
  const refundRows = await tx
    .select()
    .from(orderRefunds)
    .where(and(eq(orderRefunds.shopId, shop.id), anyOf(orderRefunds.shopifyOrderId, ids)))
    .orderBy(asc(orderRefunds.id));

  const orderById = new Map(orderRows.map((o) => [o.shopifyOrderId, o]));
  const awardByKey = new Map(awardRows.map((a) => [a.idempotencyKey, a]));
  const existingAward = (orderId: string) => awardByKey.get(awardKey(orderId));
  const reversalsByAward = groupBy(reversalRows, (r) => String(r.reversesEntryId));
  const refundsByOrder = groupBy(refundRows, (r) => r.shopifyOrderId);
  const needsProgram = ids.some((id) => orderById.has(id) && !existingAward(id));
  const programs = timeline ?? (needsProgram ? await programTimeline(tx, shop.id) : undefined);
  // The tier each awarded customer holds now: its multiplier goes on the award (docs/tiers.md).
  const tiers = needsProgram
    ? await tiersForAwards(tx, shop, [
        ...new Set(
          ids.flatMap((id) => {
            const customerId = orderById.get(id)?.customerId;
            return customerId != null && !existingAward(id) ? [customerId] : [];
          }),
        ),
      ])
    : new Map<number, never>();
  // The campaigns that could apply to the orders still to award: one query for the batch.
  const toAward = ids.flatMap((id) => {
    const row = orderById.get(id);
    return row && !existingAward(id) ? [settlementOrder(row).processedAt.getTime()] : [];
  });
  const campaignRules =
    toAward.length > 0
      ? await campaignRulesFor(tx, shop.id, {
          from: new Date(toAward.reduce((a, b) => Math.min(a, b))),
          to: new Date(toAward.reduce((a, b) => Math.max(a, b))),
        })
      : [];

  interface Planned {
    orderId: string;
    customerId: number | null;
    award: EntryDraft | null;
    reversals: EntryDraft[];
    noAwardReason: NoAwardReason | null;
  }
  const planned: Planned[] = ids.map((orderId) => {
    const row = orderById.get(orderId);
    const existing = existingAward(orderId);
    const order = row ? settlementOrder(row) : null;
    const posted = existing ? (reversalsByAward.get(String(existing.id)) ?? []) : [];
    const version = !existing && order ? programs?.at(order.processedAt) : undefined;
    const plan = planOrderSettlement({
      order,
      testOrdersEarn: shop.testOrdersEarn,
      program: version ? { version: version.version, program: version.program } : null,
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
      tier: row?.customerId != null ? (tiers.get(row.customerId) ?? null) : null,
      campaigns: campaignRules,
      refunds: (refundsByOrder.get(orderId) ?? []).map((r) => ({
        refundId: r.shopifyRefundId,
        merchandiseMinor: Number(r.merchandiseMinor),
        processedAt: r.processedAt,
      })),
    });
    return { orderId, ...plan };
  });

  // Awards first: the reversals posted with them need their entry ids.
  const awardInputs: LedgerEntryInput[] = planned
    .filter((p) => p.award)
    .map((p) => ({ ...p.award!, customerId: p.customerId! }));
  const postedAwards = new Map<string, LedgerEntry>();
  for (const result of await postMany(tx, shop.id, awardInputs)) {
    postedAwards.set(result.entry.idempotencyKey, result.entry);
  }
  const awardOf = (orderId: string) =>
    postedAwards.get(awardKey(orderId)) ?? existingAward(orderId) ?? null;
  const reversalInputs: LedgerEntryInput[] = [];
  for (const p of planned) {
    const award = awardOf(p.orderId);
    for (const reversal of p.reversals) {
      reversalInputs.push({ ...reversal, customerId: p.customerId!, reversesEntryId: award!.id });
    }
  }
  const postedReversals = groupBy(
    (await postMany(tx, shop.id, reversalInputs)).map((r) => r.entry),
    (e) => String(e.reversesEntryId),
  );

  for (const p of planned) {
    const newAward = postedAwards.get(awardKey(p.orderId));
    const award = awardOf(p.orderId);
    results.set(p.orderId, {
      award,
      posted: [
        ...(newAward ? [newAward] : []),
        ...(award ? (postedReversals.get(String(award.id)) ?? []) : []),
      ],
      noAwardReason: p.noAwardReason,
    });
  }
  return results;
}

/** The customers of these orders (guest orders have none), ascending: whose tier they may move. */
export async function customersOfOrders(
  db: Executor,
  shopId: number,
  shopifyOrderIds: Iterable<string>,
): Promise<number[]> {
  const ids = [...new Set(shopifyOrderIds)];
  if (ids.length === 0) return [];
  const rows = await db
    .selectDistinct({ customerId: orders.customerId })
    .from(orders)
    .where(
      and(
        eq(orders.shopId, shopId),
        anyOf(orders.shopifyOrderId, ids),
        isNotNull(orders.customerId),
      ),
    );
  return rows.map((r) => r.customerId!).sort((a, b) => a - b);
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

/**
 * Attaches guest orders to the customer who claimed them, only those still unclaimed. Returns the
 * ids of the orders attached.
 */
export async function attachCustomer(
  tx: Executor,
  shopId: number,
  shopifyOrderIds: readonly string[],
  customerId: number,
): Promise<string[]> {
  if (shopifyOrderIds.length === 0) return [];
  const rows = await tx
    .update(orders)
    .set({ customerId, updatedAt: sql`now()` })
    .where(
      and(
        eq(orders.shopId, shopId),
        anyOf(orders.shopifyOrderId, shopifyOrderIds),
        isNull(orders.customerId),
      ),
    )
    .returning({ shopifyOrderId: orders.shopifyOrderId });
  return rows.map((r) => r.shopifyOrderId);
}

/** An order read from Shopify's orders export (`loyalty import`, docs/cli.md). */
export interface ImportedOrder {
  shopifyOrderId: string;
  name: string;
  /** Lower-cased. */
  email: string;
  currency: string;
  /** Subtotal − Refunded Amount (0 for an order that earns nothing), minor units. */
  amountMinor: number;
  /** Paid at, else Created at. */
  processedAt: Date;
  /** Its financial status earns and it is not cancelled. */
  paid: boolean;
  cancelledAt: Date | null;
  programVersion: number | null;
}

/**
 * Records exported orders Laurel has no row for, as guest orders (the export names no customer),
 * and leaves any existing row as it is: what a webhook recorded is the fuller fact. Returns the ids
 * recorded now. Take the orders' locks first.
 */
export async function recordImportedOrders(
  tx: Executor,
  shopId: number,
  imported: readonly ImportedOrder[],
): Promise<Set<string>> {
  if (imported.length === 0) return new Set();
  const rows = await tx
    .insert(orders)
    .select(
      recordset(
        orders,
        [...imported]
          .sort((a, b) => byText(a.shopifyOrderId, b.shopifyOrderId))
          .map((o) => ({
            shopId,
            shopifyOrderId: o.shopifyOrderId,
            name: o.name,
            customerId: null,
            email: o.email,
            currency: o.currency,
            sourceName: null,
            test: false,
            earnAmountMinor: o.amountMinor,
            totalMinor: o.amountMinor,
            processedAt: o.processedAt,
            paidAt: o.paid ? o.processedAt : null,
            cancelledAt: o.cancelledAt,
            programVersion: o.programVersion,
          })),
      ),
    )
    .onConflictDoNothing({ target: [orders.shopId, orders.shopifyOrderId] })
    .returning({ shopifyOrderId: orders.shopifyOrderId });
  return new Set(rows.map((r) => r.shopifyOrderId));
}

/**
 * Attaches each of these orders that is still a guest order to the account that owns its email
 * (`owners`: lower-cased email → customer id, see verifiedCustomersByEmail), as a claim would.
 * Returns the ids of the orders attached. Take the orders' locks first.
 */
export async function attachGuestOrdersByEmail(
  tx: Executor,
  shopId: number,
  shopifyOrderIds: readonly string[],
  owners: ReadonlyMap<string, number>,
): Promise<string[]> {
  if (shopifyOrderIds.length === 0 || owners.size === 0) return [];
  const owner = sql`(SELECT o.customer_id FROM jsonb_to_recordset(${JSON.stringify(
    [...owners].map(([email, customerId]) => ({ email, customer_id: customerId })),
  )}::jsonb) AS o(email text, customer_id integer) WHERE o.email = ${orders.email})`;
  const rows = await tx
    .update(orders)
    .set({ customerId: owner, updatedAt: sql`now()` })
    .where(
      and(
        eq(orders.shopId, shopId),
        anyOf(orders.shopifyOrderId, shopifyOrderIds),
        isNull(orders.customerId),
        sql`${owner} IS NOT NULL`,
      ),
    )
    .returning({ shopifyOrderId: orders.shopifyOrderId });
  return rows.map((r) => r.shopifyOrderId);
}
