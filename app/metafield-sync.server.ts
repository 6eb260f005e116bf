/**
 * Keeps Shopify's copy of the loyalty data the storefront reads — each member's points and tier
 * metafields and tier tag, and the shop's program summary — equal to the ledger. Run by the metafield sync job (workers/
 * handlers/metafield-sync.ts) after ledger changes and by a periodic sweep, and for the program
 * summary alone after an install (app/shop-setup.server.ts). Design: docs/metafields.md and
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
import { currencyDigits } from '../loyalty/money';
import { campaignSummaries, type CampaignSummary } from '../loyalty/campaigns';
import { programSummary, summaryVersion, TIER_VERSION_FACTOR } from '../loyalty/program-summary';
import { campaignRule, currentCampaigns } from './models/campaigns.server';
import { tierByKey, tierProgress } from '../loyalty/tiers';
import { env } from './env.server';
import {
  CurrentAppInstallation,
  CustomerTierTags,
  MetafieldsDelete,
  TagsAdd,
  MetafieldsSet,
  type AdminDocument,
  type MetafieldsSetInput,
  type UserError,
} from './graphql';
import {
  CUSTOMER_METAFIELD_NAMESPACE,
  CUSTOMER_METAFIELDS,
  customerGid,
  isShopifyCustomerId,
  METAFIELDS_PER_SET,
  CHECKOUT_PROGRAM_METAFIELD,
  PROGRAM_METAFIELD,
  type TierStatus,
} from './metafields';
import { canonicalJson } from './models/ledger.server';
import {
  acquireSyncLease,
  markTieredMembersPending,
  pendingMembers,
  pendingWork,
  PROGRAM_CHECK_MS,
  programToSync,
  recordProgramSynced,
  recordSynced,
  recordSyncedTags,
  recordSyncFailures,
  releaseSyncLease,
  renewSyncLease,
  syncTarget,
  type PendingMember,
} from './models/metafield-sync.server';
import { compiledProgram } from './models/programs.server';
import { tierPerksDue } from './models/tier-perks.server';
import { currentTierProgram, type CurrentTierProgram } from './models/tiers.server';
import { currentReferralProgram } from './models/referral-programs.server';
import type { CompiledReferralProgram } from '../loyalty/referrals';
import { reconcileTierPerks, type AdminCall, type TierPerksOutcome } from './tier-perks.server';
import {
  AdminApiError,
  createAdminClient,
  type AdminClient,
  type AdminClientOptions,
} from './shopify/admin-client.server';

/** The metafields written per member. */
const MEMBER_METAFIELDS = [CUSTOMER_METAFIELDS.pointsBalance, CUSTOMER_METAFIELDS.lifetimePoints];
/** Written too, for every member, when the shop has a tier program (`tier` only with a tier). */
const TIER_METAFIELDS = [CUSTOMER_METAFIELDS.tier, CUSTOMER_METAFIELDS.tierStatus];
/** Written too for a member whose referral code Shopify holds (docs/referrals.md). */
const REFERRAL_METAFIELDS = [CUSTOMER_METAFIELDS.referralCode];
/** A member's metafields go in one call (all or none), so at most this many members per call. */
export const MEMBERS_PER_CALL = Math.floor(METAFIELDS_PER_SET / MEMBER_METAFIELDS.length);
/** The same with the tier metafields (a shop with a tier program): 25 / 4. */
export const TIER_MEMBERS_PER_CALL = Math.floor(
  METAFIELDS_PER_SET / (MEMBER_METAFIELDS.length + TIER_METAFIELDS.length),
);
/** Members read per statement. */
const READ_CHUNK = MEMBERS_PER_CALL * 10;
/** metafieldsSet calls a run has in flight at once. */
export const CALLS_IN_FLIGHT = 4;

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

export type ProgramOutcome = 'written' | 'current' | 'none' | 'failed';

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

/**
 * The member's tier status under the tier program in force: the tier they hold (a key this version
 * no longer has reads as none, as memberTier reads it) and the progress to the next.
 */
export function memberTierStatus(
  member: Pick<PendingMember, 'tier'>,
  tiers: CurrentTierProgram,
): TierStatus {
  const { program } = tiers;
  const row = member.tier;
  const tier = tierByKey(program, row?.tierKey ?? null);
  const value = row?.metricValue ?? 0;
  const progress = tierProgress(program, tier?.key ?? null, value);
  return {
    version: tiers.version,
    key: tier?.key ?? null,
    name: tier?.name ?? null,
    since: tier && row ? row.since.toISOString() : null,
    downgradeAt: tier && row?.downgradeAt ? row.downgradeAt.toISOString() : null,
    metric: program.metric,
    window: program.window,
    currency: program.metric === 'spend' ? program.currency : null,
    digits:
      program.metric === 'spend' && program.currency ? currencyDigits(program.currency) : null,
    value,
    next: progress.next && { ...progress.next, remaining: progress.remaining },
  };
}

/** The tier tag the member should carry (null: none) under the tier program in force. */
export function memberTierTag(
  member: Pick<PendingMember, 'tier'>,
  tiers: CurrentTierProgram,
): string | null {
  return tierByKey(tiers.program, member.tier?.tierKey ?? null)?.tag ?? null;
}

/**
 * The values a member's metafields get (integers as text, as metafieldsSet takes them): the points,
 * and with a tier program the tier key (when they hold one) and the tier status.
 */
export function memberMetafields(
  member: {
    externalId: string;
    balance: number;
    lifetimeEarned: number;
  } & Partial<Pick<PendingMember, 'tier' | 'referralCode'>>,
  tiers?: CurrentTierProgram | null,
): MetafieldsSetInput[] {
  const ownerId = customerGid(member.externalId);
  const value = { points_balance: member.balance, lifetime_points: member.lifetimeEarned };
  const inputs: MetafieldsSetInput[] = MEMBER_METAFIELDS.map((field) => ({
    ownerId,
    namespace: CUSTOMER_METAFIELD_NAMESPACE,
    key: field.key,
    type: field.type,
    value: String(value[field.key]),
  }));
  if (tiers) {
    const status = memberTierStatus({ tier: member.tier ?? null }, tiers);
    if (status.key !== null) {
      inputs.push({
        ownerId,
        namespace: CUSTOMER_METAFIELD_NAMESPACE,
        key: CUSTOMER_METAFIELDS.tier.key,
        type: CUSTOMER_METAFIELDS.tier.type,
        value: status.key,
      });
    }
    inputs.push({
      ownerId,
      namespace: CUSTOMER_METAFIELD_NAMESPACE,
      key: CUSTOMER_METAFIELDS.tierStatus.key,
      type: CUSTOMER_METAFIELDS.tierStatus.type,
      value: JSON.stringify(status),
    });
  }
  // Once written it stays: a code is never changed, and only an active one is ever written.
  if (member.referralCode) {
    inputs.push({
      ownerId,
      namespace: CUSTOMER_METAFIELD_NAMESPACE,
      key: CUSTOMER_METAFIELDS.referralCode.key,
      type: CUSTOMER_METAFIELDS.referralCode.type,
      value: member.referralCode,
    });
  }
  return inputs;
}

/**
 * Whether the member's `tier` metafield must be deleted: they hold no tier now and Shopify may
 * hold one — a tier tag was recorded, they changed tier before, or the last write failed midway.
 */
function mayHoldStaleTier(member: PendingMember, tiers: CurrentTierProgram): boolean {
  if (tierByKey(tiers.program, member.tier?.tierKey ?? null) !== null) return false;
  return (
    (member.tier?.syncedTag ?? null) !== null ||
    (member.tier?.changes ?? 0) > 0 ||
    member.lastError !== null
  );
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
    program = await run.syncProgram(
      start.program,
      start.tiers,
      start.referral,
      options.forceProgram ?? false,
      start.campaigns,
    );
    outcome =
      options.members === false
        ? { written: 0, failed: 0, skipped: 0, calls: 0, more: false }
        : // Members marked pending by a new tier program came after the first read: read again.
          await run.syncMembers(
            maxMembers,
            run.markedTieredMembers ? undefined : start.members,
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

/** The referral program in force (null: none, or one that no longer compiles for the shop). */
async function referralProgramInForce(
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

function stopReason(error: unknown): 'unauthorized' | 'shop-unavailable' | undefined {
  if (!(error instanceof AdminApiError)) return undefined;
  if (error.code === 'UNAUTHORIZED') return 'unauthorized';
  if (error.code === 'HTTP_ERROR') return 'shop-unavailable';
  return undefined;
}

/** One run holding the shop's lease: every Admin call is fenced by it. */
class LeasedRun {
  /** The summary sync made members pending (a new tier program version). */
  markedTieredMembers = false;

  constructor(
    private readonly db: Database,
    private readonly shopId: number,
    private readonly domain: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    /** performance.now() before which the lease is certainly still ours. */
    private leaseValidUntil: number,
    private readonly client: AdminClient,
    private readonly log: Logger,
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
   * Writes the summary of the versions in force (earn and tier program) unless Shopify is known to
   * hold it: recorded as written and checked within PROGRAM_CHECK_MS, or read back now and found
   * equal. The daily read back finds a summary that went missing (deleted, or lost with an
   * installation whose set-up did not run). A new tier program version also makes every member
   * with a tier pending: their tier status (names, thresholds, the next tier) reads from it.
   */
  async syncProgram(
    found: Awaited<ReturnType<typeof programToSync>>,
    tiers: CurrentTierProgram | null,
    referral: CompiledReferralProgram | null,
    force: boolean,
    campaigns: readonly CampaignSummary[] = [],
  ): Promise<ProgramOutcome> {
    if (!found) return 'none';
    const { version, state } = found;
    const written = summaryVersion(version.version, tiers?.version ?? null);
    const checkedRecently =
      state.programCheckedAt !== null &&
      Date.now() - state.programCheckedAt.getTime() < PROGRAM_CHECK_MS;
    if (!force && state.programVersion === written && checkedRecently) return 'current';
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
    const record = async (how: 'written' | 'checked', installationId: string) =>
      this.db.transaction(async (tx) => {
        await recordProgramSynced(tx, this.shopId, written, installationId, how);
        if (tierVersionChanged) {
          const marked = await markTieredMembersPending(tx, this.shopId);
          this.markedTieredMembers = marked > 0;
          this.log.info(
            { tierVersion: tiers?.version ?? null, members: marked },
            'tier program changed: members with a tier are written again',
          );
        }
      });
    const { currentAppInstallation, shop } = await this.call(CurrentAppInstallation, {});
    const held = [currentAppInstallation.program?.value, shop.checkoutProgram?.value];
    if (!force && held.every((value) => value !== undefined && sameJson(value, summary))) {
      await record('checked', currentAppInstallation.id);
      return 'current';
    }
    const value = JSON.stringify(summary);
    try {
      await this.call(MetafieldsSet, {
        metafields: [
          { ownerId: currentAppInstallation.id, ...PROGRAM_METAFIELD, value },
          { ownerId: shop.id, ...CHECKOUT_PROGRAM_METAFIELD, value },
        ],
      });
    } catch (error) {
      if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') throw error;
      this.log.error(
        {
          programVersion: version.version,
          tierVersion: tiers?.version ?? null,
          err: error.message,
        },
        'Shopify refused the program summary metafield; the sweep tries again',
      );
      return 'failed';
    }
    await record('written', currentAppInstallation.id);
    return 'written';
  }

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

  /** Writes `first` (read with the lease), then reads on in customer id order. */
  async syncMembers(
    maxMembers: number,
    first: PendingMember[] | undefined,
    tiers: CurrentTierProgram | null = null,
  ) {
    const totals = { written: 0, failed: 0, skipped: 0, calls: 0, more: false };
    const tierPerCall = tiers ? TIER_MEMBERS_PER_CALL : MEMBERS_PER_CALL;
    // With a referral code each member has one metafield more: fewer fit in one call.
    const referralPerCall = Math.floor(
      METAFIELDS_PER_SET /
        (MEMBER_METAFIELDS.length +
          (tiers ? TIER_METAFIELDS.length : 0) +
          REFERRAL_METAFIELDS.length),
    );
    let after = 0;
    let prefetched: PendingMember[] | undefined = first;
    for (;;) {
      const room = maxMembers - (totals.written + totals.failed + totals.skipped);
      if (room <= 0) {
        totals.more = true;
        break;
      }
      const members =
        prefetched ??
        (await pendingMembers(this.db, this.shopId, {
          limit: Math.min(READ_CHUNK, room),
          afterCustomerId: after,
        }));
      prefetched = undefined;
      if (members.length === 0) break;
      after = members.at(-1)!.customerId;
      const last = members.length < Math.min(READ_CHUNK, room);
      const writable: PendingMember[] = [];
      const noTarget: { member: PendingMember; reason: string }[] = [];
      for (const member of members) {
        if (member.redacted) noTarget.push({ member, reason: 'redacted' });
        else if (!isShopifyCustomerId(member.externalId))
          noTarget.push({ member, reason: 'not a Shopify customer id' });
        else writable.push(member);
      }
      for (const reason of new Set(noTarget.map((n) => n.reason))) {
        const skipped = noTarget.filter((n) => n.reason === reason).map((n) => n.member);
        this.log.info(
          { customerIds: skipped.map((m) => m.customerId), reason },
          reason === 'redacted'
            ? 'metafields not written for redacted customers'
            : 'metafields not written for customers without a Shopify customer id (imported)',
        );
        await recordSynced(this.db, this.shopId, skipped, `skipped: ${reason}`);
        totals.skipped += skipped.length;
      }
      // A few batches at once (each member is in one batch only, so their order does not matter;
      // the Admin client paces them by the shop's cost bucket). A batch is one metafieldsSet, then
      // — only for members whose tier changed — a metafieldsDelete and a tag call each, so at
      // most CALLS_IN_FLIGHT calls are in flight. Recorded once per chunk, not per call: fewer
      // database round trips, and a write never recorded (a crash) is written again.
      const batches: PendingMember[][] = [];
      const perCall = writable.some((m) => m.referralCode) ? referralPerCall : tierPerCall;
      for (let start = 0; start < writable.length; start += perCall) {
        batches.push(writable.slice(start, start + perCall));
      }
      const written: PendingMember[] = [];
      const tags: { customerId: number; tag: string | null }[] = [];
      let failure: { error: unknown } | undefined;
      const worker = async () => {
        for (let batch = batches.shift(); batch && !failure; batch = batches.shift()) {
          try {
            const result = await this.writeMembers(batch, tiers);
            written.push(...result.written);
            tags.push(...result.tags);
            totals.failed += result.failed;
            totals.calls += result.calls;
          } catch (error) {
            failure ??= { error };
          }
        }
      };
      await Promise.all(Array.from({ length: CALLS_IN_FLIGHT }, worker));
      // Tags first: a member recorded as synced must have its tag recorded with it.
      await recordSyncedTags(this.db, this.shopId, tags);
      await recordSynced(this.db, this.shopId, written);
      totals.written += written.length;
      if (failure) throw failure.error;
      if (last) break;
    }
    return totals;
  }

  /**
   * One batch: its metafieldsSet; with a tier program, the `tier` metafield deleted for members
   * who left their tier, and the tier tag moved for members whose tag changed. A member counts as
   * written only when all of its steps were accepted; one Shopify refuses is recorded as failed
   * (retried with backoff, like a refused metafield) and the rest go on.
   */
  private async writeMembers(batch: PendingMember[], tiers: CurrentTierProgram | null) {
    const result = {
      written: [] as PendingMember[],
      tags: [] as { customerId: number; tag: string | null }[],
      failed: 0,
      calls: 0,
    };
    const set = await this.setMetafields(batch, tiers);
    result.calls += set.calls;
    result.failed += set.failed;
    let accepted = set.written;
    if (tiers && accepted.length > 0) {
      const deleted = await this.deleteStaleTiers(accepted, tiers);
      result.calls += deleted.calls;
      result.failed += deleted.failed;
      accepted = deleted.written;
      const tagged = await this.moveTierTags(accepted, tiers);
      result.calls += tagged.calls;
      result.failed += tagged.failed;
      accepted = tagged.written;
      result.tags.push(...tagged.tags);
    }
    result.written.push(...accepted);
    return result;
  }

  /**
   * One metafieldsSet for the batch. It is atomic, so when Shopify refuses some members
   * (userErrors name their element) those are recorded as failed and the rest sent again.
   */
  private async setMetafields(batch: PendingMember[], tiers: CurrentTierProgram | null) {
    const result = { written: [] as PendingMember[], failed: 0, calls: 0 };
    let remaining = batch;
    while (remaining.length > 0) {
      const owners: PendingMember[] = [];
      const inputs = remaining.flatMap((member) => {
        const fields = memberMetafields(member, tiers);
        for (let i = 0; i < fields.length; i++) owners.push(member);
        return fields;
      });
      try {
        result.calls++;
        await this.call(MetafieldsSet, { metafields: inputs });
        result.written.push(...remaining);
        return result;
      } catch (error) {
        const refused = await this.refusals(error, remaining, (index) => owners[index]);
        result.failed += refused.size;
        remaining = remaining.filter((m) => !refused.has(m));
      }
    }
    return result;
  }

  /** Deletes the `tier` metafield of members who hold no tier now but may have one on Shopify. */
  private async deleteStaleTiers(members: PendingMember[], tiers: CurrentTierProgram) {
    const result = { written: [...members], failed: 0, calls: 0 };
    const stale = members.filter((m) => mayHoldStaleTier(m, tiers));
    if (stale.length === 0) return result;
    result.calls++;
    try {
      await this.call(MetafieldsDelete, {
        metafields: stale.map((m) => ({
          ownerId: customerGid(m.externalId),
          namespace: CUSTOMER_METAFIELD_NAMESPACE,
          key: CUSTOMER_METAFIELDS.tier.key,
        })),
      });
    } catch (error) {
      // The delete's userErrors name no element: every member of it is retried.
      const refused = await this.refusals(error, stale, () => undefined);
      result.failed += refused.size;
      result.written = members.filter((m) => !refused.has(m));
    }
    return result;
  }

  /**
   * Moves each member's tier tag where it changed (the tag recorded differs from the one their
   * tier gives): one call per member, removing every other tier tag of the program and the one
   * recorded, adding theirs. Removing all of them, not only the recorded one, keeps one tier tag
   * even if a tag was added and never recorded (a crash between the two). A member never tagged
   * gets only the add (tagsAdd): a crash before its record is repaired by the same add next run.
   */
  private async moveTierTags(members: PendingMember[], tiers: CurrentTierProgram) {
    const result = {
      written: [] as PendingMember[],
      tags: [] as { customerId: number; tag: string | null }[],
      failed: 0,
      calls: 0,
    };
    const programTags = tiers.program.tiers.map((t) => t.tag);
    for (const member of members) {
      const tag = memberTierTag(member, tiers);
      const recorded = member.tier?.syncedTag ?? null;
      if (tag === recorded || member.tier === null) {
        result.written.push(member);
        continue;
      }
      const remove = [...new Set([...programTags, ...(recorded ? [recorded] : [])])].filter(
        (t) => t !== tag,
      );
      result.calls++;
      try {
        if (recorded === null && tag !== null) {
          // Never tagged by Laurel: adding is the whole move, at half the cost of a remove and an
          // add (Shopify's rate limit is per shop, and every new member gets here once).
          await this.call(TagsAdd, { id: customerGid(member.externalId), tags: [tag] });
        } else {
          await this.call(CustomerTierTags, {
            id: customerGid(member.externalId),
            add: tag ? [tag] : [],
            adding: tag !== null,
            remove,
            removing: remove.length > 0,
          });
        }
        result.written.push(member);
        result.tags.push({ customerId: member.customerId, tag });
      } catch (error) {
        const refused = await this.refusals(error, [member], () => member);
        result.failed += refused.size;
      }
    }
    return result;
  }

  /**
   * A refused call's members, recorded as failed (one more attempt, backoff, last_error). Rethrows
   * what is not a refusal: transient failures, a revoked token, a frozen shop.
   */
  private async refusals(
    error: unknown,
    members: PendingMember[],
    memberAt: (elementIndex: number) => PendingMember | undefined,
  ): Promise<Map<PendingMember, string[]>> {
    if (!(error instanceof AdminApiError) || error.transient || stopReason(error)) throw error;
    const refused = new Map<PendingMember, string[]>();
    if (error.code === 'USER_ERRORS') {
      for (const userError of error.userErrors as (UserError & {
        elementIndex?: number | null;
      })[]) {
        const member =
          typeof userError.elementIndex === 'number' ? memberAt(userError.elementIndex) : undefined;
        if (!member) continue;
        const messages = refused.get(member) ?? [];
        messages.push(describeUserError(userError));
        refused.set(member, messages);
      }
    }
    // Refused as a whole (no element named, or a GraphQL error about the document): every
    // member of the call counts a failure, so a bad call cannot repeat for ever.
    if (refused.size === 0) {
      for (const member of members) refused.set(member, [error.message]);
    }
    this.log.warn(
      {
        members: [...refused].map(([m, messages]) => ({
          customerId: m.customerId,
          attempt: m.attempts + 1,
          errors: messages,
        })),
      },
      'Shopify refused the metafields of some members; they stay pending and are retried with backoff',
    );
    await recordSyncFailures(
      this.db,
      this.shopId,
      [...refused].map(([m, messages]) => ({ ...m, error: messages.join('; ') })),
    );
    return refused;
  }
}

/** Whether a metafield's JSON text holds `value` (Shopify may reorder keys or spaces). */
function sameJson(text: string, value: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(value);
  } catch {
    return false;
  }
}

function describeUserError(error: UserError): string {
  const field = error.field?.length ? `${error.field.join('.')}: ` : '';
  return `${field}${error.message}${error.code ? ` (${error.code})` : ''}`;
}
