/**
 * `loyalty import` of Shopify's orders export: each order is recorded and settled exactly as the
 * webhook path does it (app/models/orders.server.ts), under the same key `order:<id>:earn`, so an
 * order paid by webhook and also imported — in either order — earns once. The export names no
 * customer id: an order goes to the account that owns its email the way a guest-order claim does
 * (verified and enabled), else it waits as a guest order for that claim. Rules: docs/cli.md.
 */
import type { Executor } from '../db/client.server';
import { verifiedCustomersByEmail } from '../app/models/customers.server';
import {
  attachGuestOrdersByEmail,
  lockOrders,
  recordImportedOrders,
  settleOrders,
  type ImportedOrder,
} from '../app/models/orders.server';
import type { ProgramTimeline } from '../app/models/programs.server';
import { evaluateMembers } from '../app/models/tier-evaluation.server';
import type { Shop } from '../app/models/shops.server';
import type { NoAwardReason } from '../loyalty/settlement';
import type { TransactionRow } from './transactions';

/** Shopify order ids are decimal (the webhooks' `id`). */
const ORDER_ID = /^[0-9]{1,20}$/;

/**
 * Why an exported order cannot be imported, or undefined. Its key must be the order's Shopify id,
 * which only the export's `Id` column carries (the reader falls back to the Name without it).
 */
export function exportedOrderProblem(row: TransactionRow): string | undefined {
  const id = row.transactionId;
  if (id === undefined || id === row.orderName) {
    return `order ${row.orderName} has no Id: import keys Shopify orders by their id, as the webhooks do (export with the Id column)`;
  }
  if (!ORDER_ID.test(id)) return `Id '${id}' of order ${row.orderName} is not a Shopify order id`;
  return undefined;
}

/** What the import keeps of an exported order row (the reader reuses its row object). */
export function exportedOrder(row: TransactionRow, timeline: ProgramTimeline): ImportedOrder {
  const processedAt = new Date(row.epochMs!);
  const cancelled = row.nonEarningReason === 'cancelled';
  return {
    shopifyOrderId: row.transactionId!,
    name: row.orderName!,
    email: row.customerId,
    currency: row.currency,
    amountMinor: row.amountMinor,
    processedAt,
    paid: row.nonEarningReason === undefined,
    cancelledAt: cancelled ? processedAt : null,
    programVersion: timeline.at(processedAt.getTime())?.version ?? null,
  };
}

export interface OrderImportCounts {
  /** Orders Laurel had no row for. */
  recorded: number;
  /** Orders already recorded (by a webhook or an earlier import): left as they were. */
  alreadyPresent: number;
  /** Guest orders attached to the verified account with their email. */
  attached: number;
  /** Ledger entries posted (awards, and reversals of orders cancelled before). */
  posted: number;
  /** Orders still waiting as guest orders for an account to claim them. */
  guests: number;
  /** Each order's outcome by Shopify id: what a history import reports a skipped order with. */
  outcomes: Map<string, OrderImportOutcome>;
}

export interface OrderImportOutcome {
  /** Recorded by this call (false: a webhook or an earlier import had recorded it). */
  recorded: boolean;
  /** Ledger entries posted for it by this call. */
  posted: number;
  /** Why it has no award (settlement's reason), or null when it has one. */
  noAwardReason: NoAwardReason | null;
}

/** Records, attaches and settles one batch of exported orders in the caller's transaction. */
export async function importOrders(
  tx: Executor,
  shop: Shop,
  batch: readonly ImportedOrder[],
  timeline: ProgramTimeline,
): Promise<OrderImportCounts> {
  const ids = batch.map((o) => o.shopifyOrderId);
  await lockOrders(tx, shop.id, ids);
  const recorded = await recordImportedOrders(tx, shop.id, batch);
  const owners = await verifiedCustomersByEmail(
    tx,
    shop.id,
    batch.map((o) => o.email),
  );
  const attached = await attachGuestOrdersByEmail(tx, shop.id, ids, owners);
  const settled = await settleOrders(tx, shop, ids, timeline);
  let posted = 0;
  let guests = 0;
  const members = new Set<number>();
  const outcomes = new Map<string, OrderImportOutcome>();
  for (const [id, result] of settled) {
    posted += result.posted.length;
    if (result.noAwardReason === 'guest') guests++;
    if (result.award) members.add(result.award.customerId);
    outcomes.set(id, {
      recorded: recorded.has(id),
      posted: result.posted.length,
      noAwardReason: result.award ? null : result.noAwardReason,
    });
  }
  // Imported history moves tiers as webhooks do (docs/tiers.md): same rules, same transaction.
  await evaluateMembers(tx, shop, members, new Date());
  return {
    recorded: recorded.size,
    alreadyPresent: new Set(ids).size - recorded.size,
    attached: attached.length,
    posted,
    guests,
    outcomes,
  };
}
