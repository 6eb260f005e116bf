/**
 * Redemptions as stored: reads for the shopper's surfaces (app proxy, checkout, account) and the
 * admin. Writing them — the balance-checked debit, Shopify's answer, usage and expiry — is in
 * app/redemption.server.ts and its models. Lifecycle: docs/redemption.md.
 */
import { and, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { redemptions, rewardVersions } from '../../db/schema';
import type { IssuedValue, RewardDefinition } from '../../loyalty/rewards';

export const REDEMPTION_STATUSES = [
  'pending',
  'issued',
  'credited',
  'failed',
  'used',
  'expired',
  'refunded',
] as const;
export type RedemptionStatus = (typeof REDEMPTION_STATUSES)[number];

export type Redemption = Omit<typeof redemptions.$inferSelect, 'status' | 'value'> & {
  status: RedemptionStatus;
  value: IssuedValue;
};

/** A redemption with the title of the reward version it used (what the shopper redeemed). */
export type RedemptionWithTitle = Redemption & { title: string; rewardType: string };

export const MAX_REDEMPTIONS_PAGE = 100;

export interface RedemptionFilter {
  customerId?: number;
  statuses?: readonly RedemptionStatus[];
  rewardId?: number;
  /** Keyset paging: only redemptions with a smaller id. */
  beforeId?: number;
  /** 1–100, default 50. */
  limit?: number;
}

/** Newest first, with the redeemed version's title. Every query is the shop's own. */
export async function searchRedemptions(
  db: Executor,
  shopId: number,
  filter: RedemptionFilter = {},
): Promise<RedemptionWithTitle[]> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), MAX_REDEMPTIONS_PAGE);
  const conditions: SQL[] = [eq(redemptions.shopId, shopId)];
  if (filter.customerId !== undefined)
    conditions.push(eq(redemptions.customerId, filter.customerId));
  if (filter.statuses && filter.statuses.length > 0) {
    conditions.push(inArray(redemptions.status, [...filter.statuses]));
  }
  if (filter.rewardId !== undefined) conditions.push(eq(redemptions.rewardId, filter.rewardId));
  if (filter.beforeId !== undefined) conditions.push(lt(redemptions.id, filter.beforeId));
  const rows = await db
    .select({ redemption: redemptions, definition: rewardVersions.definition })
    .from(redemptions)
    .innerJoin(
      rewardVersions,
      and(
        eq(rewardVersions.shopId, redemptions.shopId),
        eq(rewardVersions.rewardId, redemptions.rewardId),
        eq(rewardVersions.version, redemptions.rewardVersion),
      ),
    )
    .where(and(...conditions))
    .orderBy(desc(redemptions.id))
    .limit(limit);
  return rows.map(({ redemption, definition }) => {
    const def = definition as RewardDefinition;
    return { ...(redemption as Redemption), title: def.title, rewardType: def.type };
  });
}

/** One customer's redemptions, newest first (the shopper's "your rewards"). */
export function listRedemptions(
  db: Executor,
  shopId: number,
  customerId: number,
  options: { statuses?: readonly RedemptionStatus[]; limit?: number } = {},
): Promise<RedemptionWithTitle[]> {
  return searchRedemptions(db, shopId, { ...options, customerId });
}

export async function getRedemption(
  db: Executor,
  shopId: number,
  redemptionId: number,
): Promise<Redemption | undefined> {
  const [row] = await db
    .select()
    .from(redemptions)
    .where(and(eq(redemptions.shopId, shopId), eq(redemptions.id, redemptionId)));
  return row as Redemption | undefined;
}

/** The redemption that issued `code` (compared without case, as Shopify does); undefined if none. */
export async function findRedemptionByCode(
  db: Executor,
  shopId: number,
  code: string,
): Promise<Redemption | undefined> {
  const [row] = await db
    .select()
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        sql`upper(${redemptions.code}) = upper(${code})`,
        sql`${redemptions.code} IS NOT NULL`,
      ),
    );
  return row as Redemption | undefined;
}
