/** Figures for the embedded admin's home page. */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBalances, customers } from '../../db/schema';

export interface ShopTotals {
  /** Customers enrolled in the program (redacted customers are no longer counted). */
  members: number;
  /** Points held by all customers: the sum of their balances. */
  pointsOutstanding: number;
}

export async function shopTotals(db: Executor, shopId: number): Promise<ShopTotals> {
  const [members] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(customers)
    .where(and(eq(customers.shopId, shopId), isNull(customers.redactedAt)));
  const [points] = await db
    .select({ n: sql<number>`coalesce(sum(${customerBalances.balance}), 0)`.mapWith(Number) })
    .from(customerBalances)
    .where(eq(customerBalances.shopId, shopId));
  return { members: members?.n ?? 0, pointsOutstanding: points?.n ?? 0 };
}
