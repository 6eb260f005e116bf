/**
 * The shop's rewards catalog. A reward is a row plus insert-only versions: editing adds a version
 * (redemptions keep the one they used), archiving hides it from shoppers without losing history.
 * Definitions are validated by loyalty/rewards.ts in the shop's currency.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { rewards, rewardVersions } from '../../db/schema';
import { parseRewardDefinition, RewardError, type RewardDefinition } from '../../loyalty/rewards';
import { AppError, ErrorCode, validationFrom } from '../errors';
import { requireShop } from './shops.server';
import { currentTierProgram } from './tiers.server';

export interface Reward {
  id: number;
  version: number;
  position: number;
  archivedAt: Date | null;
  definition: RewardDefinition;
  createdAt: Date;
  updatedAt: Date;
}

function validated(definition: unknown, currency: string): RewardDefinition {
  try {
    return parseRewardDefinition(definition, currency);
  } catch (error) {
    if (error instanceof RewardError)
      throw validationFrom(error, `invalid reward: ${error.message}`);
    throw error;
  }
}

/**
 * A reward's tiers name tiers of the shop's tier program, by key or by name ("gold" or "Gold");
 * stored as keys, which is what members hold. Without a tier program they are kept as given and
 * match no member until one defines them.
 */
async function withTierKeys(
  db: Executor,
  shopId: number,
  definition: RewardDefinition,
): Promise<RewardDefinition> {
  if (definition.tiers === null) return definition;
  const current = await currentTierProgram(db, shopId);
  if (!current) return definition;
  const tiers = current.program.tiers;
  const keys: string[] = [];
  const unknown: string[] = [];
  for (const wanted of definition.tiers) {
    const folded = wanted.toLowerCase();
    const tier = tiers.find((t) => t.key === folded || t.name.toLowerCase() === folded);
    if (tier) keys.push(tier.key);
    else unknown.push(wanted);
  }
  if (unknown.length > 0) {
    const message = `${unknown.map((t) => `'${t}'`).join(', ')} ${unknown.length === 1 ? 'is not a tier' : 'are not tiers'} (${tiers.map((t) => `${t.key}: ${t.name}`).join(', ')})`;
    throw new AppError(ErrorCode.VALIDATION, `invalid reward:\n  - tiers: ${message}`, {
      issues: [{ path: 'tiers', message }],
    });
  }
  return { ...definition, tiers: [...new Set(keys)] };
}

function notFound(shopId: number, rewardId: number): AppError {
  return new AppError(ErrorCode.NOT_FOUND, `shop ${shopId} has no reward ${rewardId}`, {
    shopId,
    rewardId,
  });
}

const rewardColumns = {
  id: rewards.id,
  version: rewards.currentVersion,
  position: rewards.position,
  archivedAt: rewards.archivedAt,
  definition: rewardVersions.definition,
  createdAt: rewards.createdAt,
  updatedAt: rewards.updatedAt,
};

const currentVersionJoin = and(
  eq(rewardVersions.shopId, rewards.shopId),
  eq(rewardVersions.rewardId, rewards.id),
  eq(rewardVersions.version, rewards.currentVersion),
);

/** Adds a reward (version 1) at the end of the catalog unless `position` is given. */
export async function createReward(
  db: Executor,
  shopId: number,
  definitionInput: unknown,
  options: { position?: number } = {},
): Promise<Reward> {
  const shop = await requireShop(db, shopId);
  const definition = await withTierKeys(db, shopId, validated(definitionInput, shop.currency));
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(rewards)
      .values({
        shopId,
        currentVersion: 1,
        position:
          options.position ??
          sql`(SELECT coalesce(max(${rewards.position}), 0) + 1 FROM ${rewards} WHERE ${rewards.shopId} = ${shopId})`,
      })
      .returning();
    await tx.insert(rewardVersions).values({ shopId, rewardId: row!.id, version: 1, definition });
    return { ...row!, version: 1, definition };
  });
}

/**
 * Publishes a new version of a reward. The reward row is locked, so two edits get consecutive
 * versions; a redemption in flight keeps the version it read.
 */
export async function reviseReward(
  db: Executor,
  shopId: number,
  rewardId: number,
  definitionInput: unknown,
): Promise<Reward> {
  const shop = await requireShop(db, shopId);
  const definition = await withTierKeys(db, shopId, validated(definitionInput, shop.currency));
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(rewards)
      .where(and(eq(rewards.shopId, shopId), eq(rewards.id, rewardId)))
      .for('update');
    if (!current) throw notFound(shopId, rewardId);
    const version = current.currentVersion + 1;
    await tx.insert(rewardVersions).values({ shopId, rewardId, version, definition });
    const [row] = await tx
      .update(rewards)
      .set({ currentVersion: version, updatedAt: sql`now()` })
      .where(and(eq(rewards.shopId, shopId), eq(rewards.id, rewardId)))
      .returning();
    return { ...row!, version, definition };
  });
}

/** Hides a reward from shoppers (or shows it again); codes already issued keep working. */
export async function setRewardArchived(
  db: Executor,
  shopId: number,
  rewardId: number,
  archived: boolean,
): Promise<Reward> {
  const [row] = await db
    .update(rewards)
    .set({ archivedAt: archived ? sql`coalesce(${rewards.archivedAt}, now())` : null })
    .where(and(eq(rewards.shopId, shopId), eq(rewards.id, rewardId)))
    .returning({ id: rewards.id });
  if (!row) throw notFound(shopId, rewardId);
  return (await getReward(db, shopId, rewardId))!;
}

/** The reward at its current version; undefined when the shop has no such reward. */
export async function getReward(
  db: Executor,
  shopId: number,
  rewardId: number,
): Promise<Reward | undefined> {
  const [row] = await db
    .select(rewardColumns)
    .from(rewards)
    .innerJoin(rewardVersions, currentVersionJoin)
    .where(and(eq(rewards.shopId, shopId), eq(rewards.id, rewardId)));
  return row as Reward | undefined;
}

/** The catalog in display order; archived rewards only when asked for. */
export async function listRewards(
  db: Executor,
  shopId: number,
  options: { includeArchived?: boolean } = {},
): Promise<Reward[]> {
  const rows = await db
    .select(rewardColumns)
    .from(rewards)
    .innerJoin(rewardVersions, currentVersionJoin)
    .where(
      options.includeArchived
        ? eq(rewards.shopId, shopId)
        : and(eq(rewards.shopId, shopId), isNull(rewards.archivedAt)),
    )
    .orderBy(asc(rewards.position), asc(rewards.id));
  return rows as Reward[];
}

/** One version of a reward's definition, as a redemption recorded it. */
export async function getRewardVersion(
  db: Executor,
  shopId: number,
  rewardId: number,
  version: number,
): Promise<RewardDefinition | undefined> {
  const [row] = await db
    .select({ definition: rewardVersions.definition })
    .from(rewardVersions)
    .where(
      and(
        eq(rewardVersions.shopId, shopId),
        eq(rewardVersions.rewardId, rewardId),
        eq(rewardVersions.version, version),
      ),
    );
  return row?.definition as RewardDefinition | undefined;
}
