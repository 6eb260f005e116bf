/**
 * Members and their points, for pages that list them (the storefront preview of the demo) and for
 * summaries: every customer of the shop with the balance projection beside it.
 */
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBalances, customers, ledgerEntries } from '../../db/schema';
import type { LedgerSource } from './ledger.server';

/**
 * A customer's row of the balance projection, for a left join from `customers` (a customer with no
 * entries has none); the shop is in the join so it can never reach another shop's row.
 */
export const customerBalanceRow = and(
  eq(customerBalances.customerId, customers.id),
  eq(customerBalances.shopId, customers.shopId),
);

export interface MemberSummary {
  /** Laurel's customer id. */
  id: number;
  /** Shopify customer id. */
  externalId: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  balance: number;
  lifetimeEarned: number;
}

/**
 * The shop's members (redacted customers excluded, as the admin's member count excludes them),
 * highest balance first, then by Shopify id.
 */
export async function listMembers(
  db: Executor,
  shopId: number,
  options: { limit?: number } = {},
): Promise<MemberSummary[]> {
  const balance = sql<number>`coalesce(${customerBalances.balance}, 0)`.mapWith(Number);
  const rows = await db
    .select({
      id: customers.id,
      externalId: customers.externalId,
      firstName: customers.firstName,
      lastName: customers.lastName,
      email: customers.email,
      balance,
      lifetimeEarned: sql<number>`coalesce(${customerBalances.lifetimeEarned}, 0)`.mapWith(Number),
    })
    .from(customers)
    .leftJoin(customerBalances, customerBalanceRow)
    .where(and(eq(customers.shopId, shopId), isNull(customers.redactedAt)))
    .orderBy(desc(sql`coalesce(${customerBalances.balance}, 0)`), asc(customers.externalId))
    .limit(options.limit ?? 10_000);
  return rows;
}

export interface RecentEntry {
  idempotencyKey: string;
  source: LedgerSource;
  points: number;
  occurredAt: Date;
  subjectId: string | null;
}

/** A customer's latest ledger entries, newest first (by business time, then posting order). */
export async function recentEntries(
  db: Executor,
  shopId: number,
  customerId: number,
  limit = 20,
): Promise<RecentEntry[]> {
  const rows = await db
    .select({
      idempotencyKey: ledgerEntries.idempotencyKey,
      source: ledgerEntries.source,
      points: ledgerEntries.points,
      occurredAt: ledgerEntries.occurredAt,
      subjectId: ledgerEntries.subjectId,
    })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.customerId, customerId)))
    .orderBy(desc(ledgerEntries.occurredAt), desc(ledgerEntries.id))
    .limit(limit);
  return rows as RecentEntry[];
}

/** How many ledger entries the shop has (the demo counts what a run added). */
export async function countEntries(db: Executor, shopId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.shopId, shopId));
  return row?.n ?? 0;
}
