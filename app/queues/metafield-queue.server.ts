/**
 * The metafield queue and its coalesced enqueues: the member sync (`sync-metafields`) and the
 * referral sync (`sync-referral-codes`). The web process and the workers both add these jobs; their
 * handlers are workers/handlers/metafield-sync.ts and workers/handlers/referrals.ts.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { openQueue, type QueueSettings } from './connection.server';
import { enqueueCoalesced, METAFIELD_QUEUE, syncMetafieldsJob, syncReferralCodesJob } from './jobs';

/**
 * A failed sync (Shopify throttling or down, the database away) is retried for about a minute;
 * after that the sweep enqueues the shop again while it has pending work.
 */
export const METAFIELD_JOB_OPTIONS: JobsOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
};

export function createMetafieldQueue(settings: QueueSettings, connection: RedisOptions): Queue {
  return openQueue(METAFIELD_QUEUE, settings, connection, METAFIELD_JOB_OPTIONS);
}

/** Asks for a member sync of `shop` after the ledger change that prompted it committed (coalesced). */
export function enqueueMetafieldSync(
  queue: Queue,
  shop: string,
  delayMs: number = syncMetafieldsJob.delayMs,
): Promise<void> {
  return enqueueCoalesced(queue, syncMetafieldsJob, { shop }, delayMs);
}

/** Asks for a referral sync of `shop` after the change that prompted it committed (coalesced). */
export function enqueueReferralSyncJob(
  queue: Queue,
  shop: string,
  delayMs: number = syncReferralCodesJob.delayMs,
): Promise<void> {
  return enqueueCoalesced(queue, syncReferralCodesJob, { shop }, delayMs);
}
