/**
 * The referral sync jobs (docs/referrals.md): `sync-referral-codes` (one shop, coalesced) runs
 * app/referral-discount.server.ts — members' missing codes made, the friend discount in step with
 * the referral program, pending codes added at Shopify — then asks for the metafield sync that
 * writes the codes that became active; `sweep-referrals` (repeatable, every few seconds) enqueues
 * it for every shop with referral work, which is how a new member's code appears within seconds of
 * customers/create. Web callers (publishing a program, a member's first GET /proxy/referral) ask
 * with enqueueReferralSync (app/queues/web-enqueue.server.ts). Payloads carry the shop domain only.
 */
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import { env } from '../../app/env.server';
import { pendingWork } from '../../app/models/metafield-sync.server';
import { shopsDueForReferralSync } from '../../app/models/referral-discounts.server';
import { offlineAccessToken } from '../../app/models/sessions.server';
import { getShopByDomain } from '../../app/models/shops.server';
import {
  syncReferralCodes,
  type ReferralSyncOptions,
  type ReferralSyncResult,
} from '../../app/referral-discount.server';
import { createAdminClient, type AdminClientOptions } from '../../app/shopify/admin-client.server';
import { sweepReferralsJob, syncReferralCodesJob } from '../../app/queues/jobs';
import {
  enqueueMetafieldSync,
  enqueueReferralSyncJob,
} from '../../app/queues/metafield-queue.server';

/** How often the sweep runs by default: a new member's code is due at Shopify within seconds. */
export const REFERRAL_SWEEP_EVERY_MS = 5_000;

export interface ReferralJobDeps {
  db: Database;
  /** The metafield queue: the referral sync and the member sync it asks for. */
  queue: Queue;
  log: Logger;
  /** The member sync's coalescing delay, for the sync asked for after codes became active. */
  metafieldDelayMs: number;
  /** Admin endpoint (default env ADMIN_API_ENDPOINT) and client and run options (tests). */
  sync?: {
    endpoint?: string;
    client?: Partial<Omit<AdminClientOptions, 'shop' | 'accessToken' | 'endpoint'>>;
    run?: Omit<ReferralSyncOptions, 'log'>;
  };
  now?: () => Date;
}

export type ReferralJobResult =
  ReferralSyncResult | { status: 'skipped'; reason: 'unknown-shop' | 'uninstalled' | 'no-token' };

export async function runReferralSyncJob(
  job: Job,
  deps: ReferralJobDeps,
): Promise<ReferralJobResult> {
  const parsed = syncReferralCodesJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { shop: domain } = parsed.data;
  const log = deps.log.child({ jobId: job.id, attempt: job.attemptsMade + 1, shop: domain });
  const shop = await getShopByDomain(deps.db, domain);
  if (!shop) return { status: 'skipped', reason: 'unknown-shop' };
  if (!shop.active) return { status: 'skipped', reason: 'uninstalled' };
  const accessToken = await offlineAccessToken(deps.db, domain);
  if (!accessToken) return { status: 'skipped', reason: 'no-token' };
  const endpoint = deps.sync?.endpoint ?? env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: shop.domain,
    accessToken,
    ...(endpoint ? { endpoint } : {}),
    logger: log,
    // Bounded so a run stays inside its lease; then the job retries.
    maxAttempts: 4,
    maxDelayMs: 8_000,
    ...deps.sync?.client,
  });
  const now = deps.now?.() ?? new Date();
  const result = await syncReferralCodes(deps.db, shop, client, now, {
    log,
    ...deps.sync?.run,
  });
  const again =
    (result.status === 'synced' && result.more) ||
    (result.status === 'skipped' && result.reason === 'busy');
  if (again) {
    await enqueueReferralSyncJob(deps.queue, domain, 2_000).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not enqueue the next referral sync; the sweep will'),
    );
  }
  if (result.status !== 'skipped') {
    // Codes that became active are written by the member sync; and a member sync that found the
    // lease held by this run looked before it was released, so whatever it left is asked for now.
    const left = await pendingWork(deps.db, shop.id, now);
    if (left.members || left.program || left.perks) {
      await enqueueMetafieldSync(deps.queue, domain, deps.metafieldDelayMs).catch((error: Error) =>
        log.warn({ err: error.message }, 'could not enqueue a metafield sync; the sweep will'),
      );
    }
  }
  return result;
}

export async function runReferralSweepJob(deps: ReferralJobDeps): Promise<{ shops: number }> {
  const shops = await shopsDueForReferralSync(deps.db);
  for (const shop of shops) await enqueueReferralSyncJob(deps.queue, shop);
  if (shops.length > 0) deps.log.debug({ shops: shops.length }, 'referral sweep enqueued shops');
  return { shops: shops.length };
}

/** Creates or refreshes the sweep's schedule (idempotent; survives a Redis that lost it). */
export async function scheduleReferralSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    sweepReferralsJob.jobId({}),
    { every: everyMs },
    {
      name: sweepReferralsJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}
