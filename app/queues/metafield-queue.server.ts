/**
 * The metafield queue and its coalesced enqueues: the member sync (`sync-metafields`) and the
 * referral sync (`sync-referral-codes`). The web process and the workers both add these jobs; their
 * handlers are workers/handlers/metafield-sync.ts and workers/handlers/referrals.ts.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { QueueSettings } from './connection.server';
import { METAFIELD_QUEUE, syncMetafieldsJob, syncReferralCodesJob } from './jobs';

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
  const queue = new Queue(METAFIELD_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: METAFIELD_JOB_OPTIONS,
  });
  queue.on('error', () => {});
  return queue;
}

/**
 * Asks for a sync of `shop`, after the ledger change that prompted it committed. Bursts coalesce
 * with BullMQ's deduplication in throttle mode: the first enqueue creates a job delayed by
 * `delayMs` and a deduplication key living `delayMs` (ttl = delay); every enqueue while the key
 * lives is absorbed by that job. Nothing is lost: an absorbed enqueue came after its change
 * committed and before the key expired, and the job starts no earlier than the key expires, so the
 * snapshot it reads after starting holds that change. An enqueue after the key expired makes a new
 * job. (Clocks: the key's ttl is Redis's, the delay the enqueuer's; on one host they agree, and the
 * sweep covers any skew.)
 */
export async function enqueueMetafieldSync(
  queue: Queue,
  shop: string,
  delayMs: number = syncMetafieldsJob.delayMs,
): Promise<void> {
  const data = syncMetafieldsJob.schema.parse({ shop });
  await queue.add(syncMetafieldsJob.name, data, {
    delay: delayMs,
    deduplication: { id: syncMetafieldsJob.deduplicationId(data), ttl: delayMs },
  });
}

/**
 * Asks for a referral sync of `shop` after the change that prompted it committed; bursts coalesce
 * into one job (the member sync's deduplication: enqueueMetafieldSync explains why none is lost).
 */
export async function enqueueReferralSyncJob(
  queue: Queue,
  shop: string,
  delayMs: number = syncReferralCodesJob.delayMs,
): Promise<void> {
  const data = syncReferralCodesJob.schema.parse({ shop });
  await queue.add(syncReferralCodesJob.name, data, {
    delay: delayMs,
    deduplication: { id: syncReferralCodesJob.deduplicationId(data), ttl: delayMs },
  });
}
