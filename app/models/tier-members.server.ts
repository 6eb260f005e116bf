/**
 * How many members hold each tier, as the admin's tiers page shows it (app/routes/app.tiers.tsx).
 * Read from customer_tiers (what the last evaluation wrote); members never evaluated are counted
 * apart, so the numbers always add up to the shop's customers.
 */
import { count, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customers, customerTiers } from '../../db/schema';

export interface TierMemberCounts {
  /** Members per tier key held (keys of older versions included, as stored). */
  byTier: Map<string, number>;
  /** Evaluated members below the lowest tier. */
  none: number;
  /** Customers with no customer_tiers row yet (never evaluated). */
  unevaluated: number;
  total: number;
}

export async function countMembersByTier(db: Executor, shopId: number): Promise<TierMemberCounts> {
  const rows = await db
    .select({ tierKey: customerTiers.tierKey, members: sql<number>`count(*)::int` })
    .from(customerTiers)
    .where(eq(customerTiers.shopId, shopId))
    .groupBy(customerTiers.tierKey);
  const [all] = await db
    .select({ total: count() })
    .from(customers)
    .where(eq(customers.shopId, shopId));
  const byTier = new Map<string, number>();
  let none = 0;
  let evaluated = 0;
  for (const row of rows) {
    evaluated += row.members;
    if (row.tierKey === null) none += row.members;
    else byTier.set(row.tierKey, row.members);
  }
  const total = all?.total ?? 0;
  return { byTier, none, unevaluated: Math.max(total - evaluated, 0), total };
}
