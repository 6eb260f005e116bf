/**
 * Referral programs: versioned, insert-only (a trigger forbids updates), each referral naming the
 * version it ran under. The rules are in loyalty/referrals.ts; docs/referrals.md.
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { referralPrograms } from '../../db/schema';
import {
  parseReferralProgram,
  ReferralProgramError,
  type CompiledReferralProgram,
  type ReferralProgramDefinition,
} from '../../loyalty/referrals';
import { validationFrom } from '../errors';
import { requireShop } from './shops.server';
import { retryVersionRace } from './versions.server';

export type ReferralProgramVersion = Omit<typeof referralPrograms.$inferSelect, 'definition'> & {
  definition: Required<ReferralProgramDefinition>;
};

export interface CurrentReferralProgram {
  version: number;
  effectiveFrom: Date;
  program: CompiledReferralProgram;
}

/** Validates a referral program for the shop; VALIDATION lists every problem with its JSON path. */
export function compileReferralProgram(
  definitionJson: unknown,
  shopCurrency: string,
): CompiledReferralProgram {
  try {
    return parseReferralProgram(definitionJson, { shopCurrency });
  } catch (error) {
    if (error instanceof ReferralProgramError) throw validationFrom(error);
    throw error;
  }
}

/**
 * Publishes a new referral program version (max+1), effective from `effectiveFrom`. Nothing is
 * written when the definition is invalid. Syncing the friend discount is the caller's next step.
 */
export async function publishReferralProgram(
  db: Executor,
  shopId: number,
  definitionJson: unknown,
  effectiveFrom: Date = new Date(),
): Promise<ReferralProgramVersion> {
  const shop = await requireShop(db, shopId);
  const program = compileReferralProgram(definitionJson, shop.currency);
  return retryVersionRace(() =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(referralPrograms)
        .values({
          shopId,
          version: sql`(SELECT coalesce(max(${referralPrograms.version}), 0) + 1 FROM ${referralPrograms} WHERE ${referralPrograms.shopId} = ${shopId})`,
          effectiveFrom,
          definition: program.definition,
        })
        .returning();
      return row as ReferralProgramVersion;
    }),
  );
}

/**
 * The newest version effective at `at` (default now), compiled; null when the shop never set up
 * referrals. A disabled program is returned too (`program.enabled` false).
 */
export async function currentReferralProgram(
  db: Executor,
  shopId: number,
  at: Date = new Date(),
): Promise<CurrentReferralProgram | null> {
  const [row] = await db
    .select()
    .from(referralPrograms)
    .where(
      and(eq(referralPrograms.shopId, shopId), sql`${referralPrograms.effectiveFrom} <= ${at}`),
    )
    .orderBy(desc(referralPrograms.effectiveFrom), desc(referralPrograms.version))
    .limit(1);
  if (!row) return null;
  const shop = await requireShop(db, shopId);
  return {
    version: row.version,
    effectiveFrom: row.effectiveFrom,
    program: compileReferralProgram(row.definition, shop.currency),
  };
}

/** Every version, oldest first (the admin's history; every code prefix ever issued). */
export async function listReferralPrograms(
  db: Executor,
  shopId: number,
): Promise<ReferralProgramVersion[]> {
  const rows = await db
    .select()
    .from(referralPrograms)
    .where(eq(referralPrograms.shopId, shopId))
    .orderBy(asc(referralPrograms.version));
  return rows as ReferralProgramVersion[];
}
