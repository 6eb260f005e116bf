/**
 * The shop's program summary metafield: the earn program, tier program, referral offer and
 * campaigns in force, on the app installation (the theme reads app.metafields.laurel.program) and
 * on the shop (checkout reads $app.program). Written by a metafield sync run
 * (app/metafield-sync.server.ts) through its lease-fenced calls, unless Shopify is known to hold
 * it. Design: docs/metafields.md.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import type { CampaignSummary } from '../loyalty/campaigns';
import { programSummary, summaryVersion, TIER_VERSION_FACTOR } from '../loyalty/program-summary';
import type { CompiledReferralProgram } from '../loyalty/referrals';
import { AppError, ErrorCode } from './errors';
import { CurrentAppInstallation, MetafieldsSet } from './graphql';
import { CHECKOUT_PROGRAM_METAFIELD, PROGRAM_METAFIELD } from './metafields';
import { canonicalJson } from './models/ledger.server';
import {
  markTieredMembersPending,
  PROGRAM_CHECK_MS,
  programToSync,
  recordProgramSynced,
} from './models/metafield-sync.server';
import { compiledProgram } from './models/programs.server';
import { currentReferralProgram } from './models/referral-programs.server';
import type { CurrentTierProgram } from './models/tiers.server';
import type { AdminCall } from './tier-perks.server';
import { AdminApiError } from './shopify/admin-client.server';

export type ProgramOutcome = 'written' | 'current' | 'none' | 'failed';

/** The referral program in force (null: none, or one that no longer compiles for the shop). */
export async function referralProgramInForce(
  tx: Parameters<typeof currentReferralProgram>[0],
  shopId: number,
  now: Date,
  log: Logger,
): Promise<CompiledReferralProgram | null> {
  try {
    return (await currentReferralProgram(tx, shopId, now))?.program ?? null;
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== ErrorCode.VALIDATION) throw error;
    log.error(
      { err: error.message },
      'the referral program in force does not compile for the shop; the summary offers no referral',
    );
    return null;
  }
}

/**
 * Writes the summary of the versions in force (earn and tier program) unless Shopify is known to
 * hold it: recorded as written and checked within PROGRAM_CHECK_MS, or read back now and found
 * equal. The daily read back finds a summary that went missing (deleted, or lost with an
 * installation whose set-up did not run). A new tier program version also makes every member
 * with a tier pending: their tier status (names, thresholds, the next tier) reads from it, and the
 * run reads its members again when this says it did.
 */
export async function syncProgramSummary(
  run: { db: Database; shopId: number; call: AdminCall; log: Logger },
  found: Awaited<ReturnType<typeof programToSync>>,
  tiers: CurrentTierProgram | null,
  referral: CompiledReferralProgram | null,
  force: boolean,
  campaigns: readonly CampaignSummary[] = [],
): Promise<{ outcome: ProgramOutcome; markedTieredMembers: boolean }> {
  if (!found) return { outcome: 'none', markedTieredMembers: false };
  const { version, state } = found;
  const written = summaryVersion(version.version, tiers?.version ?? null);
  const checkedRecently =
    state.programCheckedAt !== null &&
    Date.now() - state.programCheckedAt.getTime() < PROGRAM_CHECK_MS;
  if (!force && state.programVersion === written && checkedRecently) {
    return { outcome: 'current', markedTieredMembers: false };
  }
  const summary = programSummary(
    compiledProgram(version),
    version.version,
    tiers,
    referral,
    campaigns,
  );
  const tierVersionChanged =
    state.programVersion !== null &&
    Math.floor(state.programVersion / TIER_VERSION_FACTOR) !== (tiers?.version ?? 0);
  let markedTieredMembers = false;
  const record = async (how: 'written' | 'checked', installationId: string) =>
    run.db.transaction(async (tx) => {
      await recordProgramSynced(tx, run.shopId, written, installationId, how);
      if (tierVersionChanged) {
        const marked = await markTieredMembersPending(tx, run.shopId);
        markedTieredMembers = marked > 0;
        run.log.info(
          { tierVersion: tiers?.version ?? null, members: marked },
          'tier program changed: members with a tier are written again',
        );
      }
    });
  const { currentAppInstallation, shop } = await run.call(CurrentAppInstallation, {});
  const held = [currentAppInstallation.program?.value, shop.checkoutProgram?.value];
  if (!force && held.every((value) => value !== undefined && sameJson(value, summary))) {
    await record('checked', currentAppInstallation.id);
    return { outcome: 'current', markedTieredMembers };
  }
  const value = JSON.stringify(summary);
  try {
    await run.call(MetafieldsSet, {
      metafields: [
        { ownerId: currentAppInstallation.id, ...PROGRAM_METAFIELD, value },
        { ownerId: shop.id, ...CHECKOUT_PROGRAM_METAFIELD, value },
      ],
    });
  } catch (error) {
    if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') throw error;
    run.log.error(
      {
        programVersion: version.version,
        tierVersion: tiers?.version ?? null,
        err: error.message,
      },
      'Shopify refused the program summary metafield; the sweep tries again',
    );
    return { outcome: 'failed', markedTieredMembers };
  }
  await record('written', currentAppInstallation.id);
  return { outcome: 'written', markedTieredMembers };
}

/** Whether a metafield's JSON text holds `value` (Shopify may reorder keys or spaces). */
function sameJson(text: string, value: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(value);
  } catch {
    return false;
  }
}
