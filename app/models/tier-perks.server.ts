/**
 * What Shopify holds for each tier's perks (tier_perks): the customer segment of the tier's tag and
 * the automatic free-shipping discount limited to it, with the tier program version they match.
 * app/tier-perks.server.ts makes Shopify match the tier program in force; docs/metafields.md.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { tierPerks } from '../../db/schema';

export type TierPerkRow = typeof tierPerks.$inferSelect;

export async function listTierPerks(db: Executor, shopId: number): Promise<TierPerkRow[]> {
  return db.select().from(tierPerks).where(eq(tierPerks.shopId, shopId)).orderBy(tierPerks.tierKey);
}

/** Records a tier's objects as matching `syncedVersion` (null ids: the tier has no such perk). */
export async function recordTierPerk(
  db: Executor,
  shopId: number,
  perk: {
    tierKey: string;
    segmentId: string | null;
    freeShippingDiscountId: string | null;
    syncedVersion: number;
  },
): Promise<void> {
  const set = {
    segmentId: perk.segmentId,
    freeShippingDiscountId: perk.freeShippingDiscountId,
    syncedVersion: perk.syncedVersion,
    lastError: null,
    updatedAt: sql`now()`,
  };
  await db
    .insert(tierPerks)
    .values({ shopId, tierKey: perk.tierKey, ...set })
    .onConflictDoUpdate({ target: [tierPerks.shopId, tierPerks.tierKey], set });
}

/**
 * Records why a tier's perks could not be synced, with what exists of them so far; the version is
 * left as it was, so the sweep tries again.
 */
export async function recordTierPerkError(
  db: Executor,
  shopId: number,
  perk: { tierKey: string; segmentId: string | null; freeShippingDiscountId: string | null },
  error: string,
): Promise<void> {
  const set = {
    segmentId: perk.segmentId,
    freeShippingDiscountId: perk.freeShippingDiscountId,
    lastError: error.slice(0, 500),
    updatedAt: sql`now()`,
  };
  await db
    .insert(tierPerks)
    .values({ shopId, tierKey: perk.tierKey, ...set })
    .onConflictDoUpdate({ target: [tierPerks.shopId, tierPerks.tierKey], set });
}

/** Forgets a tier that left the program (its objects on Shopify are deleted first). */
export async function deleteTierPerk(db: Executor, shopId: number, tierKey: string): Promise<void> {
  await db
    .delete(tierPerks)
    .where(and(eq(tierPerks.shopId, shopId), eq(tierPerks.tierKey, tierKey)));
}

/**
 * Whether shop `s`'s perks are not synced to the tier program in force at `at`, in SQL: a row of
 * another version, or not one row per tier of the version in force. False without a tier program.
 */
export const tierPerksDueAt = (at: SQL) => sql`(WITH v AS (
    SELECT t.version, t.definition FROM tier_programs t
    WHERE t.shop_id = s.id AND t.effective_from <= ${at}
    ORDER BY t.effective_from DESC, t.version DESC LIMIT 1)
  SELECT coalesce(bool_or(
    EXISTS (SELECT 1 FROM tier_perks p WHERE p.shop_id = s.id
              AND p.synced_version IS DISTINCT FROM v.version)
    OR (SELECT count(*) FROM tier_perks p WHERE p.shop_id = s.id AND p.synced_version = v.version)
       <> jsonb_array_length(v.definition->'tiers')), false)
  FROM v)`;

/** Whether the shop's tier perks need a sync at `at`. */
export async function tierPerksDue(db: Executor, shopId: number, at: Date): Promise<boolean> {
  const result = await db.execute(
    sql`SELECT ${tierPerksDueAt(sql`${at.toISOString()}::timestamptz`)} AS due FROM shops s WHERE s.id = ${shopId}`,
  );
  const [row] = (result as unknown as { rows: { due: boolean }[] }).rows;
  return row?.due === true;
}
