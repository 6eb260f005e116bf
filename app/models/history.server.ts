/**
 * What a shopper sees of their own account: where they stand (balance, lifetime points) and their
 * ledger entries, newest first, a page at a time. Read-only; every query is scoped to the shop and
 * the customer given.
 */
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.server';
import { customerBalances, customers, ledgerEntries, orders, referralCodes } from '../../db/schema';
import { customerBalanceRow } from './members.server';
import { memberTier } from './tiers.server';

export interface MemberStanding {
  /** Laurel's customer id; null when Laurel has not seen this customer. */
  customerId: number | null;
  /** Laurel knows the customer (customers/create, or an order, enrolled them). */
  enrolled: boolean;
  firstName: string | null;
  balance: number;
  lifetimeEarned: number;
  /** The name of the member's tier (docs/tiers.md); null without one or without a tier program. */
  tier: string | null;
  /**
   * The member's friend code once Shopify holds it (docs/referrals.md); null before, and without
   * referrals.
   */
  referralCode: string | null;
}

/** The standing of the shop's customer with Shopify id `externalId`: zeros when unknown. */
export async function memberStanding(
  db: Executor,
  shopId: number,
  externalId: string,
): Promise<MemberStanding> {
  const [row] = await db
    .select({
      id: customers.id,
      firstName: customers.firstName,
      balance: customerBalances.balance,
      lifetimeEarned: customerBalances.lifetimeEarned,
      referralCode: sql<
        string | null
      >`(SELECT ${referralCodes.friendCode} FROM ${referralCodes} WHERE ${referralCodes.shopId} = ${customers.shopId} AND ${referralCodes.customerId} = ${customers.id} AND ${referralCodes.status} = 'active')`,
    })
    .from(customers)
    .leftJoin(customerBalances, customerBalanceRow)
    .where(and(eq(customers.shopId, shopId), eq(customers.externalId, externalId)));
  const tier = row ? await memberTier(db, shopId, row.id) : null;
  return {
    customerId: row?.id ?? null,
    enrolled: row !== undefined,
    firstName: row?.firstName ?? null,
    balance: Number(row?.balance ?? 0),
    lifetimeEarned: Number(row?.lifetimeEarned ?? 0),
    tier: tier?.tier?.name ?? null,
    referralCode: row?.referralCode ?? null,
  };
}

/** A ledger entry as the history shows it. */
export interface HistoryEntry {
  id: number;
  occurredAt: Date;
  points: number;
  source: string;
  inputs: Record<string, unknown>;
  /**
   * The name of the order the entry is about (`#1001`): the order's row when Laurel has it, else
   * the name its award recorded; null for entries about no order.
   */
  orderName: string | null;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** More entries follow the last one. */
  more: boolean;
}

const award = alias(ledgerEntries, 'award');

/**
 * The customer's entries newest first — by business time, then posting order — `limit` of them,
 * after the entry `afterEntryId` when given (keyset: the position is read from that entry, so
 * entries posted meanwhile neither repeat nor go missing). An `afterEntryId` that is not this
 * customer's entry in this shop yields an empty page.
 */
export async function historyPage(
  db: Executor,
  shopId: number,
  customerId: number,
  options: { afterEntryId?: number; limit: number },
): Promise<HistoryPage> {
  let after: SQL | undefined;
  if (options.afterEntryId !== undefined) {
    after = sql`(${ledgerEntries.occurredAt}, ${ledgerEntries.id}) < (
      SELECT c.occurred_at, c.id FROM ledger_entries c
      WHERE c.shop_id = ${shopId} AND c.customer_id = ${customerId} AND c.id = ${options.afterEntryId})`;
  }
  // A reversal names its order through the award it reverses (refunds record only the refund).
  const orderId = sql`coalesce(${ledgerEntries.inputs}->>'orderId', ${award.inputs}->>'orderId')`;
  const rows = await db
    .select({
      id: ledgerEntries.id,
      occurredAt: ledgerEntries.occurredAt,
      points: ledgerEntries.points,
      source: ledgerEntries.source,
      inputs: ledgerEntries.inputs,
      orderName: sql<string | null>`coalesce(${orders.name}, ${award.inputs}->>'orderName')`,
    })
    .from(ledgerEntries)
    .leftJoin(
      award,
      and(eq(award.shopId, ledgerEntries.shopId), eq(award.id, ledgerEntries.reversesEntryId)),
    )
    .leftJoin(
      orders,
      and(eq(orders.shopId, ledgerEntries.shopId), eq(orders.shopifyOrderId, orderId)),
    )
    .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.customerId, customerId), after))
    .orderBy(desc(ledgerEntries.occurredAt), desc(ledgerEntries.id))
    .limit(options.limit + 1);
  const more = rows.length > options.limit;
  return {
    entries: rows.slice(0, options.limit).map((row) => ({
      ...row,
      inputs: (row.inputs ?? {}) as Record<string, unknown>,
    })),
    more,
  };
}
