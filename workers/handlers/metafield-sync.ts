/**
 * The metafield sync jobs: `sync-metafields` (one shop, coalesced) runs app/metafield-sync.server.ts
 * and enqueues itself again while work is left; `sweep-metafields` (repeatable) enqueues a sync for
 * every shop with pending work, which catches whatever a lost job (Redis flushed or restarted) or a
 * writer that does not enqueue (the CLI) left behind. Payloads carry the shop domain only.
 */
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import {
  syncShopMetafields,
  type MetafieldSyncOptions,
  type MetafieldSyncResult,
} from '../../app/metafield-sync.server';
import { sqlStateOf } from '../../app/errors';
import { shopsDueForSync } from '../../app/models/metafield-sync.server';
import { syncMetafieldsJob } from '../../app/queues/jobs';
import { enqueueMetafieldSync } from '../../app/queues/metafield-queue.server';

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
