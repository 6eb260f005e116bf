/**
 * Keeps Shopify's copy of the loyalty data the storefront reads equal to the ledger: one run per
 * shop writes each member's metafields and tier tag (app/metafield-sync-members.server.ts), the
 * shop's program summary (app/metafield-sync-program.server.ts) and the tier perks
 * (app/tier-perks.server.ts). Run by the metafield sync job (workers/handlers/metafield-sync.ts)
 * after ledger changes and by a periodic sweep, and for the program summary alone after an install
 * (app/shop-setup.server.ts). Design: docs/metafields.md and
 * docs/decisions/011-declarative-metafield-definitions.md.
 *
 * Never an older value over a newer one: one run per shop at a time (a lease with a fence before
 * every write), each run reads the pending members with their balances in one snapshot taken after
 * it holds the lease, and records what it wrote only where that is newer than what was recorded.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import { AppError, ErrorCode } from './errors';
import { campaignSummaries, type CampaignSummary } from '../loyalty/campaigns';
import { campaignRule, currentCampaigns } from './models/campaigns.server';
import { env } from './env.server';
import type { AdminDocument } from './graphql';
import {
  acquireSyncLease,
  pendingMembers,
  pendingWork,
  programToSync,
  releaseSyncLease,
  renewSyncLease,
  syncTarget,
  type PendingMember,
} from './models/metafield-sync.server';
import { tierPerksDue } from './models/tier-perks.server';
import { currentTierProgram, type CurrentTierProgram } from './models/tiers.server';
import type { CompiledReferralProgram } from '../loyalty/referrals';
import { READ_CHUNK, stopReason, syncMemberMetafields } from './metafield-sync-members.server';
import {
  referralProgramInForce,
  syncProgramSummary,
  type ProgramOutcome,
} from './metafield-sync-program.server';
import { reconcileTierPerks, type AdminCall, type TierPerksOutcome } from './tier-perks.server';
import {
  createAdminClient,
  type AdminClient,
  type AdminClientOptions,
} from './shopify/admin-client.server';

export interface MetafieldSyncOptions {
  db: Database;
  /** The shop's myshopify domain. */
  shop: string;
  log: Logger;
  /** Admin endpoint override (default env ADMIN_API_ENDPOINT, else Shopify). */
  endpoint?: string;
  /** The offline token, when the caller has it (an install); default: the stored session's. */
  accessToken?: string;
  /** Passed to the Admin client (tests shorten retries, count calls). */
  client?: Partial<Omit<AdminClientOptions, 'shop' | 'accessToken' | 'endpoint'>>;
  /** How long the lease lasts without a renewal; each write renews it. Default 60 s. */
  leaseMs?: number;
  /** Members written in one run at most; the rest are left for the next run (`more`). */
  maxMembers?: number;
  /** Write the members' metafields (default) or only the program summary. */
  members?: boolean;
  /** Write the program summary even if the version in force is recorded as written. */
  forceProgram?: boolean;
  /** Sync the tier perks (segments, free-shipping discounts) even if recorded as current. */
  forcePerks?: boolean;
  now?: () => Date;
}

export type MetafieldSyncResult =
  | {
      status: 'skipped';
      /**
       * unknown-shop (no shops row), uninstalled, no-token (no offline session), busy (another run
       * holds the lease: it looks again when it ends), unauthorized (Shopify refused the token),
       * shop-unavailable (Shopify answered 402/404/423: frozen, gone, locked).
       */
      reason:
        'unknown-shop' | 'uninstalled' | 'no-token' | 'busy' | 'unauthorized' | 'shop-unavailable';
    }
  | {
      status: 'synced';
      /** Members whose metafields were written. */
      written: number;
      /** Members Shopify refused (left pending with one more attempt). */
      failed: number;
      /** Members with nothing to write to (redacted, not a Shopify customer). */
      skipped: number;
      /** Admin calls made for members (metafieldsSet, metafieldsDelete, tier tags). */
      calls: number;
      program: ProgramOutcome;
      /** The tier perks (app/tier-perks.server.ts): `current` when nothing was due. */
      perks: TierPerksOutcome;
      /** Work is left (more members than maxMembers, or changes since): run again. */
      more: boolean;
    };

/** The lease was lost before a write (the run stalled past it): writing now could be stale. */
export class SyncLeaseLost extends Error {
  constructor(shop: string) {
    super(`the metafield sync lease of ${shop} expired mid-run; stopped before writing`);
    this.name = 'SyncLeaseLost';
  }
}

export async function syncShopMetafields(
  options: MetafieldSyncOptions,
): Promise<MetafieldSyncResult> {
  const { db } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const log = options.log.child({ shop: options.shop, component: 'metafield-sync' });
  const now = options.now?.() ?? new Date();
  const maxMembers = options.maxMembers ?? 1_200;
  const owner = randomUUID();
  // Measured from before the request: the database's expiry cannot come sooner than this.
  const askedAt = performance.now();
  // One transaction up to the first read: under the embedded PGlite every statement outside it
  // would wait its turn behind the webhook batches on the one connection, and these are what a
  // change waits for before it is written. The members are read after the lease is ours.
  type Start =
    | { skipped: 'unknown-shop' | 'uninstalled' | 'no-token' | 'busy' }
    | {
        skipped?: undefined;
        shop: NonNullable<Awaited<ReturnType<typeof syncTarget>>>;
        accessToken: string;
        program: Awaited<ReturnType<typeof programToSync>>;
        tiers: CurrentTierProgram | null;
        referral: CompiledReferralProgram | null;
        campaigns: CampaignSummary[];
        perksDue: boolean;
        members: PendingMember[];
      };
  const start = await db.transaction(async (tx): Promise<Start> => {
    const shop = await syncTarget(tx, options.shop);
    if (!shop) return { skipped: 'unknown-shop' };
    if (!shop.active) return { skipped: 'uninstalled' };
    const accessToken = options.accessToken ?? shop.accessToken;
    if (!accessToken) return { skipped: 'no-token' };
    if (!(await acquireSyncLease(tx, shop.shopId, owner, leaseMs))) return { skipped: 'busy' };
    const program = await programToSync(tx, shop.shopId, now);
    const tiers = await tierProgramInForce(tx, shop.shopId, now, log);
    const referral = await referralProgramInForce(tx, shop.shopId, now, log);
    // Campaigns not over yet (docs/campaigns.md): the blocks show them while they run.
    const campaigns = campaignSummaries(
      (await currentCampaigns(tx, shop.shopId, now)).map(campaignRule),
      shop.timezone,
    );
    const perksDue = options.forcePerks === true || (await tierPerksDue(tx, shop.shopId, now));
    const members =
      options.members === false
        ? []
        : await pendingMembers(tx, shop.shopId, { limit: Math.min(READ_CHUNK, maxMembers) });
    return { shop, accessToken, program, tiers, referral, campaigns, perksDue, members };
  });
  if (start.skipped !== undefined) {
    const reason = start.skipped;
    if (reason === 'unknown-shop') {
      log.info('metafield sync skipped: the shop is not installed (no shops row)');
    } else if (reason === 'uninstalled') {
      log.info(
        'metafield sync skipped: the shop uninstalled Laurel (pending members stay pending)',
      );
    } else if (reason === 'no-token') {
      log.warn(
        'metafield sync skipped: no offline access token for the shop (not installed through ' +
          'Shopify, or uninstalled); pending members stay pending until it is installed',
      );
    } else {
      log.debug('metafield sync skipped: another run holds the lease and looks again when it ends');
    }
    return { status: 'skipped', reason };
  }
  const { shop } = start;

  const endpoint = options.endpoint ?? env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: shop.domain,
    accessToken: start.accessToken,
    ...(endpoint ? { endpoint } : {}),
    logger: log,
    // Bounded so a run stays well inside its lease: ~15 s of backoff at most, then the job retries.
    maxAttempts: 4,
    maxDelayMs: 8_000,
    ...options.client,
  });
  const run = new LeasedRun(
    db,
    shop.shopId,
    shop.domain,
    owner,
    leaseMs,
    askedAt + leaseMs,
    client,
    log,
  );
  let outcome: { written: number; failed: number; skipped: number; calls: number; more: boolean };
  let program: ProgramOutcome;
  let perks: TierPerksOutcome = 'current';
  try {
    const summary = await syncProgramSummary(
      run,
      start.program,
      start.tiers,
      start.referral,
      options.forceProgram ?? false,
      start.campaigns,
    );
    program = summary.outcome;
    outcome =
      options.members === false
        ? { written: 0, failed: 0, skipped: 0, calls: 0, more: false }
        : // Members marked pending by a new tier program came after the first read: read again.
          await syncMemberMetafields(
            run,
            maxMembers,
            summary.markedTieredMembers ? undefined : start.members,
            start.tiers,
          );
    // After the members: a balance waits for nobody; the perks follow a tier program publish.
    if (start.perksDue) perks = await run.syncPerks(start.tiers, now);
  } catch (error) {
    await releaseSyncLease(db, shop.shopId, owner).catch((releaseError: Error) =>
      log.warn(
        { err: releaseError.message },
        'could not release the metafield sync lease; it expires',
      ),
    );
    const stopped = stopReason(error);
    if (!stopped) throw error;
    log.warn(
      { err: (error as Error).message },
      stopped === 'unauthorized'
        ? 'metafield sync stopped: Shopify refused the offline token (revoked or lacking a scope)'
        : 'metafield sync stopped: Shopify cannot serve this shop now (frozen, locked or gone)',
    );
    return { status: 'skipped', reason: stopped };
  }
  // Release, then look again: a job that found the lease busy was enqueued after its change
  // committed and looked before the release, so that change is visible to this read. (A job
  // that comes while the release is uncommitted waits for it on the row lock, then runs.)
  const left = await db.transaction(async (tx) => {
    await releaseSyncLease(tx, shop.shopId, owner);
    return outcome.more ? undefined : pendingWork(tx, shop.shopId, now);
  });
  // A refused summary or perk is left to the sweep, not retried at once.
  const more =
    outcome.more ||
    (options.members !== false && left!.members) ||
    (program !== 'failed' && left!.program) ||
    (perks !== 'failed' && left!.perks);
  const result = { status: 'synced' as const, ...outcome, program, perks, more };
  if (result.written + result.failed + result.skipped > 0 || program === 'written') {
    log.info(
      {
        written: result.written,
        failed: result.failed,
        skipped: result.skipped,
        calls: result.calls,
        program,
        perks,
        more,
      },
      'metafields synced',
    );
  }
  return result;
}

/**
 * The tier program in force, or null: none, or one that no longer compiles for the shop (its
 * currency changed) — then the points are still written, and the error says why tiers are not.
 */
async function tierProgramInForce(
  tx: Parameters<typeof currentTierProgram>[0],
  shopId: number,
  now: Date,
  log: Logger,
): Promise<CurrentTierProgram | null> {
  try {
    return await currentTierProgram(tx, shopId, now);
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== ErrorCode.VALIDATION) throw error;
    log.error(
      { err: error.message },
      'the tier program in force does not compile for the shop; tier metafields and tags are not written',
    );
    return null;
  }
}

/** One run holding the shop's lease: every Admin call is fenced by it. */
class LeasedRun {
  constructor(
    readonly db: Database,
    readonly shopId: number,
    private readonly domain: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    /** performance.now() before which the lease is certainly still ours. */
    private leaseValidUntil: number,
    private readonly client: AdminClient,
    readonly log: Logger,
  ) {}

  /**
   * Calls Shopify while the lease is certainly held: with less than half of it left, it is renewed
   * first (SyncLeaseLost if it is gone), and the call is abandoned after half a lease, so no call
   * can land after the lease has passed to another run. Renewing only then, not before every
   * call, spares a database round trip per call (under the embedded PGlite each one waits for the
   * webhook transactions holding its single connection).
   */
  readonly call: AdminCall = async <R, V>(
    document: AdminDocument<R, V>,
    variables: V,
  ): Promise<R> => {
    if (this.leaseValidUntil - performance.now() < this.leaseMs / 2) {
      const askedAt = performance.now();
      if (!(await renewSyncLease(this.db, this.shopId, this.owner, this.leaseMs))) {
        throw new SyncLeaseLost(this.domain);
      }
      this.leaseValidUntil = askedAt + this.leaseMs;
    }
    const request = this.client.request as (
      d: AdminDocument<R, V>,
      v: V,
      o: { signal: AbortSignal },
    ) => Promise<R>;
    return request(document, variables, { signal: AbortSignal.timeout(this.leaseMs / 2) });
  };

  /**
   * The tier perks (segments and free-shipping discounts) to match the tier program in force,
   * through this run's fenced calls. A perk Shopify refuses is recorded and left to the sweep.
   */
  async syncPerks(tiers: CurrentTierProgram | null, now: Date): Promise<TierPerksOutcome> {
    const report = await reconcileTierPerks({
      db: this.db,
      shopId: this.shopId,
      tiers,
      call: this.call,
      log: this.log,
      now,
    });
    return report.outcome;
  }
}
