/**
 * Bonus programs (versioned, insert-only, like earn and tier programs): the birthday, newsletter
 * and social follow points (loyalty/bonuses.ts; docs/bonuses.md).
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { bonusPrograms } from '../../db/schema';
import {
  BonusProgramError,
  parseBonusProgram,
  type BonusProgramDefinition,
} from '../../loyalty/bonuses';
import { validationFrom } from '../errors';
import { retryVersionRace } from './versions.server';

export interface BonusProgramVersion {
  version: number;
  effectiveFrom: Date;
  createdAt: Date;
  definition: BonusProgramDefinition;
}

/** Validates bonus settings; VALIDATION lists every problem with the field's path. */
export function compileBonusProgram(json: unknown): BonusProgramDefinition {
  try {
    return parseBonusProgram(json);
  } catch (error) {
    if (error instanceof BonusProgramError) throw validationFrom(error);
    throw error;
  }
}

const versionOf = (row: typeof bonusPrograms.$inferSelect): BonusProgramVersion => ({
  version: row.version,
  effectiveFrom: row.effectiveFrom,
  createdAt: row.createdAt,
  definition: compileBonusProgram(row.definition),
});

/**
 * Publishes a new version (max+1) effective from `effectiveFrom`. Nothing is written when the
 * settings are invalid; concurrent publishes meet on the unique (shop, version) index.
 */
export async function publishBonusProgram(
  db: Executor,
  shopId: number,
  json: unknown,
  effectiveFrom: Date = new Date(),
): Promise<BonusProgramVersion> {
  const definition = compileBonusProgram(json);
  return retryVersionRace(async () => {
    const [row] = await db.transaction((tx) =>
      tx
        .insert(bonusPrograms)
        .values({
          shopId,
          version: sql`(SELECT coalesce(max(${bonusPrograms.version}), 0) + 1 FROM ${bonusPrograms} WHERE ${bonusPrograms.shopId} = ${shopId})`,
          effectiveFrom,
          definition,
        })
        .returning(),
    );
    return versionOf(row!);
  });
}

/** The newest version effective at `at`; null when the shop never set bonuses up. */
export async function bonusProgramAt(
  db: Executor,
  shopId: number,
  at: Date = new Date(),
): Promise<BonusProgramVersion | null> {
  const [row] = await db
    .select()
    .from(bonusPrograms)
    .where(and(eq(bonusPrograms.shopId, shopId), sql`${bonusPrograms.effectiveFrom} <= ${at}`))
    .orderBy(desc(bonusPrograms.effectiveFrom), desc(bonusPrograms.version))
    .limit(1);
  return row ? versionOf(row) : null;
}

/** Every version, oldest first (the admin's history). */
export async function listBonusPrograms(
  db: Executor,
  shopId: number,
): Promise<BonusProgramVersion[]> {
  const rows = await db
    .select()
    .from(bonusPrograms)
    .where(eq(bonusPrograms.shopId, shopId))
    .orderBy(asc(bonusPrograms.version));
  return rows.map(versionOf);
}
