/**
 * The early-access sync jobs (docs/early-access.md): `sync-early-access` (one shop, coalesced)
 * runs app/early-access-sync.server.ts and enqueues itself again while products are left or
 * another run held the shop; `sweep-early-access` (repeatable) enqueues a sync for every shop with
 * work — what a lost job missed, refused writes to retry, windows to drop a day after they ended,
 * clock slots that moved. Payloads carry the shop domain only.
 */
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import {
  syncShopEarlyAccess,
  type EarlyAccessSyncOptions,
  type EarlyAccessSyncResult,
} from '../../app/early-access-sync.server';
import { shopsWithEarlyAccessWork } from '../../app/models/early-access.server';
import { enqueueCoalesced, sweepEarlyAccessJob, syncEarlyAccessJob } from '../../app/queues/jobs';

/** How often the sweep runs by default: boundaries pass by the hour, retries need not wait long. */
export const EARLY_ACCESS_SWEEP_EVERY_MS = 5 * 60_000;

/** Asks for an early-access sync of `shop` after the change that prompted it committed (coalesced). */
export function enqueueEarlyAccessSync(
  queue: Queue,
  shop: string,
  delayMs: number = syncEarlyAccessJob.delayMs,
): Promise<void> {
  return enqueueCoalesced(queue, syncEarlyAccessJob, { shop }, delayMs);
}

export interface EarlyAccessJobDeps {
  db: Database;
  queue: Queue;
  log: Logger;
  delayMs: number;
  sync?: Pick<EarlyAccessSyncOptions, 'endpoint' | 'client' | 'maxProducts'>;
  now?: () => Date;
}

export async function runEarlyAccessSyncJob(
  job: Job,
  deps: EarlyAccessJobDeps,
): Promise<EarlyAccessSyncResult> {
  const parsed = syncEarlyAccessJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { shop } = parsed.data;
  const log = deps.log.child({ jobId: job.id, attempt: job.attemptsMade + 1 });
  const result = await syncShopEarlyAccess({
    db: deps.db,
    shop,
    log,
    ...deps.sync,
    ...(deps.now ? { now: deps.now } : {}),
  });
  // Left over (a run's limit), or another run held the shop and may have read before our change.
  const again =
    (result.status === 'synced' && result.more) ||
    (result.status === 'skipped' && result.reason === 'busy');
  if (again) {
    await enqueueEarlyAccessSync(deps.queue, shop, Math.max(deps.delayMs, 1_000)).catch(
      (error: Error) =>
        log.warn(
          { shop, err: error.message },
          'could not enqueue the next early-access sync; the sweep will',
        ),
    );
  }
  return result;
}

export async function runEarlyAccessSweepJob(deps: EarlyAccessJobDeps): Promise<{ shops: number }> {
  const shops = await shopsWithEarlyAccessWork(deps.db, deps.now?.() ?? new Date());
  for (const shop of shops) await enqueueEarlyAccessSync(deps.queue, shop, deps.delayMs);
  if (shops.length > 0)
    deps.log.debug({ shops: shops.length }, 'early-access sweep enqueued shops');
  return { shops: shops.length };
}

/** Creates or refreshes the sweep's schedule (idempotent; survives a Redis that lost it). */
export async function scheduleEarlyAccessSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    sweepEarlyAccessJob.jobId({}),
    { every: everyMs },
    {
      name: sweepEarlyAccessJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}
