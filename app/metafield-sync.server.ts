/**
 * Keeps Shopify's copy of the loyalty data the storefront reads — each member's points metafields
 * and the shop's program summary — equal to the ledger. Run by the metafield sync job (workers/
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
import { programSummary } from '../loyalty/program-summary';
import { env } from './env.server';
import {
  CurrentAppInstallation,
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
  PROGRAM_METAFIELD,
} from './metafields';
import {
  acquireSyncLease,
  hasPendingMembers,
  pendingMembers,
  programSyncState,
  recordProgramSynced,
  recordSynced,
  recordSyncFailures,
  releaseSyncLease,
  renewSyncLease,
  type PendingMember,
} from './models/metafield-sync.server';
import { compiledProgram, programAt } from './models/programs.server';
import { offlineAccessToken } from './models/sessions.server';
import { getShopByDomain } from './models/shops.server';
import {
  AdminApiError,
  createAdminClient,
  type AdminClient,
  type AdminClientOptions,
} from './shopify/admin-client.server';

/** The metafields written per member. */
const MEMBER_METAFIELDS = [CUSTOMER_METAFIELDS.pointsBalance, CUSTOMER_METAFIELDS.lifetimePoints];
/** A member's metafields go in one call (all or none), so at most this many members per call. */
export const MEMBERS_PER_CALL = Math.floor(METAFIELDS_PER_SET / MEMBER_METAFIELDS.length);
/** Members read per statement. */
const READ_CHUNK = MEMBERS_PER_CALL * 10;

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
      /** metafieldsSet calls made for members. */
      calls: number;
      program: ProgramOutcome;
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

/** The values a member's metafields get (integers as text, as metafieldsSet takes them). */
export function memberMetafields(member: {
  externalId: string;
  balance: number;
  lifetimeEarned: number;
}): MetafieldsSetInput[] {
  const ownerId = customerGid(member.externalId);
  const value = { points_balance: member.balance, lifetime_points: member.lifetimeEarned };
  return MEMBER_METAFIELDS.map((field) => ({
    ownerId,
    namespace: CUSTOMER_METAFIELD_NAMESPACE,
    key: field.key,
    type: field.type,
    value: String(value[field.key]),
  }));
}

export async function syncShopMetafields(
  options: MetafieldSyncOptions,
): Promise<MetafieldSyncResult> {
  const { db } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const log = options.log.child({ shop: options.shop, component: 'metafield-sync' });
  const shop = await getShopByDomain(db, options.shop);
  if (!shop) {
    log.info('metafield sync skipped: the shop is not installed (no shops row)');
    return { status: 'skipped', reason: 'unknown-shop' };
  }
  if (!shop.active) {
    log.info('metafield sync skipped: the shop uninstalled Laurel (pending members stay pending)');
    return { status: 'skipped', reason: 'uninstalled' };
  }
  const accessToken = options.accessToken ?? (await offlineAccessToken(db, shop.domain));
  if (!accessToken) {
    log.warn(
      'metafield sync skipped: no offline access token for the shop (not installed through ' +
        'Shopify, or uninstalled); pending members stay pending until it is installed',
    );
    return { status: 'skipped', reason: 'no-token' };
  }
  const owner = randomUUID();
  if (!(await acquireSyncLease(db, shop.id, owner, leaseMs))) {
    log.debug('metafield sync skipped: another run holds the lease and looks again when it ends');
    return { status: 'skipped', reason: 'busy' };
  }

  const endpoint = options.endpoint ?? env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: shop.domain,
    accessToken,
    ...(endpoint ? { endpoint } : {}),
    logger: log,
    // Bounded so a run stays well inside its lease: ~15 s of backoff at most, then the job retries.
    maxAttempts: 4,
    maxDelayMs: 8_000,
    ...options.client,
  });
  const run = new LeasedRun(db, shop.id, shop.domain, owner, leaseMs, client, log);
  let outcome: { written: number; failed: number; skipped: number; calls: number; more: boolean };
  let program: ProgramOutcome;
  try {
    program = await run.syncProgram(options.now?.() ?? new Date(), options.forceProgram ?? false);
    outcome =
      options.members === false
        ? { written: 0, failed: 0, skipped: 0, calls: 0, more: false }
        : await run.syncMembers(options.maxMembers ?? 1_200);
  } catch (error) {
    const stopped = stopReason(error);
    if (!stopped) throw error;
    log.warn(
      { err: (error as Error).message },
      stopped === 'unauthorized'
        ? 'metafield sync stopped: Shopify refused the offline token (revoked or lacking a scope)'
        : 'metafield sync stopped: Shopify cannot serve this shop now (frozen, locked or gone)',
    );
    return { status: 'skipped', reason: stopped };
  } finally {
    await releaseSyncLease(db, shop.id, owner).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not release the metafield sync lease; it expires'),
    );
  }
  // After the release, look again: a job that found the lease busy was enqueued after its change
  // committed, and looked before this release, so that change is visible here.
  const more =
    outcome.more ||
    (options.members !== false && (await hasPendingMembers(db, shop.id))) ||
    (program !== 'failed' && (await programOutdated(db, shop.id, options.now?.() ?? new Date())));
  const result = { status: 'synced' as const, ...outcome, program, more };
  if (result.written + result.failed + result.skipped > 0 || program === 'written') {
    log.info(
      {
        written: result.written,
        failed: result.failed,
        skipped: result.skipped,
        calls: result.calls,
        program,
        more,
      },
      'metafields synced',
    );
  }
  return result;
}

/** Whether Shopify's program summary is not the version in force (and there is one). */
async function programOutdated(db: Database, shopId: number, now: Date): Promise<boolean> {
  const version = await programAt(db, shopId, now);
  if (!version) return false;
  return (await programSyncState(db, shopId)).programVersion !== version.version;
}

function stopReason(error: unknown): 'unauthorized' | 'shop-unavailable' | undefined {
  if (!(error instanceof AdminApiError)) return undefined;
  if (error.code === 'UNAUTHORIZED') return 'unauthorized';
  if (error.code === 'HTTP_ERROR') return 'shop-unavailable';
  return undefined;
}

/** One run holding the shop's lease: every Admin call is fenced by a lease renewal. */
class LeasedRun {
  constructor(
    private readonly db: Database,
    private readonly shopId: number,
    private readonly domain: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly client: AdminClient,
    private readonly log: Logger,
  ) {}

  /**
   * Renews the lease, then calls. A call that outlives half the lease is abandoned, so none can
   * land after the lease has passed to another run.
   */
  private async call<R, V>(document: AdminDocument<R, V>, variables: V): Promise<R> {
    if (!(await renewSyncLease(this.db, this.shopId, this.owner, this.leaseMs))) {
      throw new SyncLeaseLost(this.domain);
    }
    const request = this.client.request as (
      d: AdminDocument<R, V>,
      v: V,
      o: { signal: AbortSignal },
    ) => Promise<R>;
    return request(document, variables, { signal: AbortSignal.timeout(this.leaseMs / 2) });
  }

  async syncProgram(now: Date, force: boolean): Promise<ProgramOutcome> {
    const version = await programAt(this.db, this.shopId, now);
    if (!version) return 'none';
    const state = await programSyncState(this.db, this.shopId);
    if (!force && state.programVersion === version.version) return 'current';
    const summary = programSummary(compiledProgram(version), version.version);
    const { currentAppInstallation } = await this.call(CurrentAppInstallation, {});
    try {
      await this.call(MetafieldsSet, {
        metafields: [
          {
            ownerId: currentAppInstallation.id,
            namespace: PROGRAM_METAFIELD.namespace,
            key: PROGRAM_METAFIELD.key,
            type: PROGRAM_METAFIELD.type,
            value: JSON.stringify(summary),
          },
        ],
      });
    } catch (error) {
      if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') throw error;
      this.log.error(
        { programVersion: version.version, err: error.message },
        'Shopify refused the program summary metafield; the sweep tries again',
      );
      return 'failed';
    }
    await recordProgramSynced(this.db, this.shopId, version.version, currentAppInstallation.id);
    return 'written';
  }

  async syncMembers(maxMembers: number) {
    const totals = { written: 0, failed: 0, skipped: 0, calls: 0, more: false };
    let after = 0;
    for (;;) {
      const room = maxMembers - (totals.written + totals.failed + totals.skipped);
      if (room <= 0) {
        totals.more = true;
        break;
      }
      const members = await pendingMembers(this.db, this.shopId, {
        limit: Math.min(READ_CHUNK, room),
        afterCustomerId: after,
      });
      if (members.length === 0) break;
      after = members.at(-1)!.customerId;
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
      for (let start = 0; start < writable.length; start += MEMBERS_PER_CALL) {
        const batch = await this.writeMembers(writable.slice(start, start + MEMBERS_PER_CALL));
        totals.written += batch.written;
        totals.failed += batch.failed;
        totals.calls += batch.calls;
      }
    }
    return totals;
  }

  /**
   * One metafieldsSet for the batch. It is atomic, so when Shopify refuses some members
   * (userErrors name their element) those are recorded as failed and the rest sent again.
   */
  private async writeMembers(batch: PendingMember[]) {
    const result = { written: 0, failed: 0, calls: 0 };
    let remaining = batch;
    while (remaining.length > 0) {
      const inputs = remaining.flatMap((member) => memberMetafields(member));
      const memberAt = (index: number) => remaining[Math.floor(index / MEMBER_METAFIELDS.length)];
      try {
        result.calls++;
        await this.call(MetafieldsSet, { metafields: inputs });
        await recordSynced(this.db, this.shopId, remaining);
        result.written += remaining.length;
        return result;
      } catch (error) {
        if (!(error instanceof AdminApiError) || error.transient || stopReason(error)) throw error;
        const refused = new Map<PendingMember, string[]>();
        if (error.code === 'USER_ERRORS') {
          for (const userError of error.userErrors as (UserError & {
            elementIndex?: number | null;
          })[]) {
            const member =
              typeof userError.elementIndex === 'number'
                ? memberAt(userError.elementIndex)
                : undefined;
            if (!member) continue;
            const messages = refused.get(member) ?? [];
            messages.push(describeUserError(userError));
            refused.set(member, messages);
          }
        }
        // Refused as a whole (no element named, or a GraphQL error about the document): every
        // member of the call counts a failure, so a bad call cannot repeat for ever.
        if (refused.size === 0) {
          for (const member of remaining) refused.set(member, [error.message]);
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
        result.failed += refused.size;
        remaining = remaining.filter((m) => !refused.has(m));
      }
    }
    return result;
  }
}

function describeUserError(error: UserError): string {
  const field = error.field?.length ? `${error.field.join('.')}: ` : '';
  return `${field}${error.message}${error.code ? ` (${error.code})` : ''}`;
}
