/**
 * The metafield sync jobs: `sync-metafields` (one shop, coalesced) runs app/metafield-sync.server.ts
 * and enqueues itself again while work is left; `sweep-metafields` (repeatable) enqueues a sync for
 * every shop with pending work, which catches whatever a lost job (Redis flushed or restarted) or a
 * writer that does not enqueue (the CLI) left behind. Payloads carry the shop domain only.
 */
import { Queue, UnrecoverableError, type Job, type JobsOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import {
  syncShopMetafields,
  type MetafieldSyncOptions,
  type MetafieldSyncResult,
} from '../../app/metafield-sync.server';
import { sqlStateOf } from '../../app/errors';
import { shopsDueForSync } from '../../app/models/metafield-sync.server';
import { METAFIELD_QUEUE, syncMetafieldsJob } from '../../app/queues/jobs';
import type { QueueSettings } from '../../app/queues/webhook-queue.server';

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

export interface MetafieldJobDeps {
  db: Database;
  queue: Queue;
  log: Logger;
  delayMs: number;
  /** Passed to syncShopMetafields (Admin endpoint and client options, lease). */
  sync?: Pick<MetafieldSyncOptions, 'endpoint' | 'client' | 'leaseMs' | 'maxMembers'>;
}

export async function runMetafieldSyncJob(
  job: Job,
  deps: MetafieldJobDeps,
): Promise<MetafieldSyncResult> {
  const parsed = syncMetafieldsJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { shop } = parsed.data;
  const log = deps.log.child({ jobId: job.id, attempt: job.attemptsMade + 1 });
  let result: MetafieldSyncResult;
  try {
    result = await syncShopMetafields({ db: deps.db, shop, log, ...deps.sync });
  } catch (error) {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const cause = (error as Error).cause;
    log.warn(
      {
        shop,
        err: (error as Error).message,
        // A failed statement's own reason (deadlock, timeout…) is in its cause, not its message.
        ...(cause instanceof Error ? { cause: cause.message, sqlState: sqlStateOf(error) } : {}),
      },
      finalAttempt
        ? 'metafield sync failed; its retries are over, the sweep enqueues the shop again'
        : 'metafield sync failed; will retry',
    );
    throw error;
  }
  if (result.status === 'synced' && result.more) {
    await enqueueMetafieldSync(deps.queue, shop, deps.delayMs).catch((error: Error) =>
      log.warn({ shop, err: error.message }, 'could not enqueue the next sync; the sweep will'),
    );
  }
  return result;
}

export async function runMetafieldSweepJob(deps: MetafieldJobDeps): Promise<{ shops: number }> {
  const shops = await shopsDueForSync(deps.db);
  for (const shop of shops) await enqueueMetafieldSync(deps.queue, shop, deps.delayMs);
  if (shops.length > 0) deps.log.info({ shops: shops.length }, 'metafield sweep enqueued shops');
  return { shops: shops.length };
}
