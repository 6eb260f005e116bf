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
  CHECKOUT_PROGRAM_METAFIELD,
  PROGRAM_METAFIELD,
} from './metafields';
import { canonicalJson } from './models/ledger.server';
import {
  acquireSyncLease,
  pendingMembers,
  pendingWork,
  PROGRAM_CHECK_MS,
  programToSync,
  recordProgramSynced,
  recordSynced,
  recordSyncFailures,
  releaseSyncLease,
  renewSyncLease,
  syncTarget,
  type PendingMember,
} from './models/metafield-sync.server';
import { compiledProgram } from './models/programs.server';
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
    const members =
      options.members === false
        ? []
        : await pendingMembers(tx, shop.shopId, { limit: Math.min(READ_CHUNK, maxMembers) });
    return { shop, accessToken, program, members };
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
  try {
    program = await run.syncProgram(start.program, options.forceProgram ?? false);
    outcome =
      options.members === false
        ? { written: 0, failed: 0, skipped: 0, calls: 0, more: false }
        : await run.syncMembers(maxMembers, start.members);
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
  const more =
    outcome.more ||
    (options.members !== false && left!.members) ||
    (program !== 'failed' && left!.program);
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

function stopReason(error: unknown): 'unauthorized' | 'shop-unavailable' | undefined {
  if (!(error instanceof AdminApiError)) return undefined;
  if (error.code === 'UNAUTHORIZED') return 'unauthorized';
  if (error.code === 'HTTP_ERROR') return 'shop-unavailable';
  return undefined;
}

/** One run holding the shop's lease: every Admin call is fenced by it. */
class LeasedRun {
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
  private async call<R, V>(document: AdminDocument<R, V>, variables: V): Promise<R> {
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
  }

  /**
   * Writes the summary of the version in force unless Shopify is known to hold it: recorded as
   * written and checked within PROGRAM_CHECK_MS, or read back now and found equal. The daily read
   * back finds a summary that went missing (deleted, or lost with an installation whose set-up
   * did not run).
   */
  async syncProgram(
    found: Awaited<ReturnType<typeof programToSync>>,
    force: boolean,
  ): Promise<ProgramOutcome> {
    if (!found) return 'none';
    const { version, state } = found;
    const checkedRecently =
      state.programCheckedAt !== null &&
      Date.now() - state.programCheckedAt.getTime() < PROGRAM_CHECK_MS;
    if (!force && state.programVersion === version.version && checkedRecently) return 'current';
    const summary = programSummary(compiledProgram(version), version.version);
    const { currentAppInstallation, shop } = await this.call(CurrentAppInstallation, {});
    const held = [currentAppInstallation.program?.value, shop.checkoutProgram?.value];
    if (!force && held.every((value) => value !== undefined && sameJson(value, summary))) {
      await recordProgramSynced(
        this.db,
        this.shopId,
        version.version,
        currentAppInstallation.id,
        'checked',
      );
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
        { programVersion: version.version, err: error.message },
        'Shopify refused the program summary metafield; the sweep tries again',
      );
      return 'failed';
    }
    await recordProgramSynced(this.db, this.shopId, version.version, currentAppInstallation.id);
    return 'written';
  }

  /** Writes `first` (read with the lease), then reads on in customer id order. */
  async syncMembers(maxMembers: number, first: PendingMember[]) {
    const totals = { written: 0, failed: 0, skipped: 0, calls: 0, more: false };
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
      // A few calls at once (each member is in one call only, so their order does not matter;
      // the Admin client paces them by the shop's cost bucket). Recorded once per chunk, not per
      // call: fewer database round trips, and a write never recorded (a crash) is written again.
      const batches: PendingMember[][] = [];
      for (let start = 0; start < writable.length; start += MEMBERS_PER_CALL) {
        batches.push(writable.slice(start, start + MEMBERS_PER_CALL));
      }
      const written: PendingMember[] = [];
      let failure: { error: unknown } | undefined;
      const worker = async () => {
        for (let batch = batches.shift(); batch && !failure; batch = batches.shift()) {
          try {
            const result = await this.writeMembers(batch);
            written.push(...result.written);
            totals.failed += result.failed;
            totals.calls += result.calls;
          } catch (error) {
            failure ??= { error };
          }
        }
      };
      await Promise.all(Array.from({ length: CALLS_IN_FLIGHT }, worker));
      await recordSynced(this.db, this.shopId, written);
      totals.written += written.length;
      if (failure) throw failure.error;
      if (last) break;
    }
    return totals;
  }

  /**
   * One metafieldsSet for the batch. It is atomic, so when Shopify refuses some members
   * (userErrors name their element) those are recorded as failed and the rest sent again.
   */
  private async writeMembers(batch: PendingMember[]) {
    const result = { written: [] as PendingMember[], failed: 0, calls: 0 };
    let remaining = batch;
    while (remaining.length > 0) {
      const inputs = remaining.flatMap((member) => memberMetafields(member));
      const memberAt = (index: number) => remaining[Math.floor(index / MEMBER_METAFIELDS.length)];
      try {
        result.calls++;
        await this.call(MetafieldsSet, { metafields: inputs });
        result.written.push(...remaining);
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
