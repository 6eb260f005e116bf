/**
 * Tier programs (versioned, insert-only) and members' tiers (customer_tiers). The rules are in
 * loyalty/tiers.ts; docs/tiers.md. Evaluation (who moves, and the ledger entries that say why)
 * lives in app/models/tier-evaluation.server.ts.
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerTiers, tierPrograms } from '../../db/schema';
import {
  parseTierProgram,
  TierProgramError,
  tierByKey,
  tierProgress,
  type CompiledTier,
  type CompiledTierProgram,
  type TierProgramDefinition,
  type TierProgress,
} from '../../loyalty/tiers';
import type { SettlementTier } from '../../loyalty/settlement';
import { validationFrom } from '../errors';
import { requireShop } from './shops.server';
import { retryVersionRace } from './versions.server';

export type TierProgramVersion = Omit<typeof tierPrograms.$inferSelect, 'definition'> & {
  definition: TierProgramDefinition;
};

export interface CurrentTierProgram {
  version: number;
  effectiveFrom: Date;
  program: CompiledTierProgram;
}

/** Validates a tier program for the shop; VALIDATION lists every problem with its JSON path. */
export function compileTierProgram(
  definitionJson: unknown,
  shopCurrency: string,
): CompiledTierProgram {
  try {
    return parseTierProgram(definitionJson, { shopCurrency });
  } catch (error) {
    if (error instanceof TierProgramError) throw validationFrom(error);
    throw error;
  }
}

/**
 * Publishes a new tier program version (max+1), effective from `effectiveFrom`. Nothing is written
 * when the definition is invalid. Concurrent publishes meet on the unique (shop, version) index
 * and the loser retries in a savepoint. Re-evaluating members is the caller's next step.
 */
export async function publishTierProgram(
  db: Executor,
  shopId: number,
  definitionJson: unknown,
  effectiveFrom: Date = new Date(),
): Promise<TierProgramVersion> {
  const shop = await requireShop(db, shopId);
  const program = compileTierProgram(definitionJson, shop.currency);
  return retryVersionRace(() =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(tierPrograms)
        .values({
          shopId,
          version: sql`(SELECT coalesce(max(${tierPrograms.version}), 0) + 1 FROM ${tierPrograms} WHERE ${tierPrograms.shopId} = ${shopId})`,
          effectiveFrom,
          definition: program.definition,
        })
        .returning();
      return row as TierProgramVersion;
    }),
  );
}

/** The newest version effective at `at` (default now), compiled; null when the shop has no tiers. */
export async function currentTierProgram(
  db: Executor,
  shopId: number,
  at: Date = new Date(),
): Promise<CurrentTierProgram | null> {
  const [row] = await db
    .select()
    .from(tierPrograms)
    .where(and(eq(tierPrograms.shopId, shopId), sql`${tierPrograms.effectiveFrom} <= ${at}`))
    .orderBy(desc(tierPrograms.effectiveFrom), desc(tierPrograms.version))
    .limit(1);
  if (!row) return null;
  const shop = await requireShop(db, shopId);
  return {
    version: row.version,
    effectiveFrom: row.effectiveFrom,
    program: compileTierProgram(row.definition, shop.currency),
  };
}

/** Every version, oldest first (the admin's history). */
export async function listTierPrograms(
  db: Executor,
  shopId: number,
): Promise<TierProgramVersion[]> {
  const rows = await db
    .select()
    .from(tierPrograms)
    .where(eq(tierPrograms.shopId, shopId))
    .orderBy(asc(tierPrograms.version));
  return rows as TierProgramVersion[];
}

export type CustomerTierRow = typeof customerTiers.$inferSelect;

/** What Laurel holds for one member, or undefined when never evaluated. */
export async function getCustomerTier(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<CustomerTierRow | undefined> {
  const [row] = await db
    .select()
    .from(customerTiers)
    .where(and(eq(customerTiers.shopId, shopId), eq(customerTiers.customerId, customerId)));
  return row;
}

/** A member's tier as the storefront, the proxy and the redeem flow read it. */
export interface MemberTier {
  /** Null: below the lowest tier, or tiers not set up. */
  tier: CompiledTier | null;
  /** Tier program version the tier belongs to. */
  version: number;
  since: Date | null;
  downgradeAt: Date | null;
  progress: TierProgress;
}

/**
 * The member's tier under the current program (a tier the current version no longer has reads
 * as none until the next evaluation moves them). Null when the shop has no tier program.
 */
export async function memberTier(
  db: Executor,
  shopId: number,
  customerId: number,
  program?: CurrentTierProgram | null,
): Promise<MemberTier | null> {
  const current = program === undefined ? await currentTierProgram(db, shopId) : program;
  if (!current) return null;
  const row = await getCustomerTier(db, shopId, customerId);
  const tier = tierByKey(current.program, row?.tierKey ?? null);
  return {
    tier,
    version: current.version,
    since: row?.since ?? null,
    downgradeAt: row?.downgradeAt ?? null,
    progress: tierProgress(current.program, tier?.key ?? null, Number(row?.metricValue ?? 0)),
  };
}

/**
 * The tier each of these members holds under the program in force now, as an award needs it (its
 * multiplier), in one statement; members without a tier (or shops without tiers) are absent. A
 * tier the current version no longer has gives no multiplier until the next evaluation.
 */
export async function tiersForAwards(
  db: Executor,
  shop: { id: number; currency: string },
  customerIds: readonly number[],
): Promise<Map<number, SettlementTier>> {
  const out = new Map<number, SettlementTier>();
  if (customerIds.length === 0) return out;
  const result = await db.execute(sql`
    SELECT ct.customer_id, ct.tier_key, p.version, p.definition
    FROM customer_tiers ct
    JOIN LATERAL (
      SELECT version, definition FROM tier_programs
      WHERE shop_id = ${shop.id} AND effective_from <= now()
      ORDER BY effective_from DESC, version DESC LIMIT 1
    ) p ON TRUE
    WHERE ct.shop_id = ${shop.id} AND ct.tier_key IS NOT NULL
      AND ct.customer_id = ANY(${sql.param([...customerIds])}::integer[])`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
    customer_id: number;
    tier_key: string;
    version: number;
    definition: unknown;
  }[];
  let compiled: { version: number; program: CompiledTierProgram } | undefined;
  for (const row of rows) {
    // Every row names the same version (the one in force): compiled once.
    if (compiled?.version !== row.version) {
      compiled = {
        version: row.version,
        program: compileTierProgram(row.definition, shop.currency),
      };
    }
    const tier = tierByKey(compiled.program, row.tier_key);
    if (tier) {
      out.set(row.customer_id, {
        key: tier.key,
        name: tier.name,
        version: row.version,
        multiplierBps: tier.multiplierBps,
      });
    }
  }
  return out;
}
