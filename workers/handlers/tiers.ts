/**
 * The daily tier run (docs/tiers.md): `sweep-tiers` (repeatable, hourly) enqueues `evaluate-tiers`
 * for every shop whose local midnight has passed since its last finished run, and
 * `evaluate-tiers` evaluates that shop's members whose standing can change by time alone — a grace
 * period that ended, a year that rolled over, activity leaving a rolling window. The job id is the
 * shop and its local day, and a tier_daily_runs row makes the run once per shop and day however
 * often it is enqueued. The clock is injectable (`now`), so tests move time without sleeping.
 */
import { UnrecoverableError, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import { getShopByDomain } from '../../app/models/shops.server';
import {
  runDailyTierEvaluation,
  shopsDueForTierRun,
  type DailyRunResult,
} from '../../app/models/tier-evaluation.server';
import { evaluateTiersJob, sweepTiersJob, TIER_QUEUE } from '../../app/queues/jobs';
import { openQueue, type QueueSettings } from '../../app/queues/connection.server';

/** How often the sweep looks for shops past their local midnight by default. */
export const TIER_SWEEP_EVERY_MS = 3_600_000;

/** A failed run is retried a few times; the next sweep enqueues it again anyway. */
export const TIER_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 30_000 },
  removeOnComplete: true,
  removeOnFail: { count: 100 },
};

export function createTierQueue(settings: QueueSettings, connection: RedisOptions): Queue {
  return openQueue(TIER_QUEUE, settings, connection, TIER_JOB_OPTIONS);
}

/** Creates or refreshes the sweep's schedule (idempotent, like the reconciler's). */
export async function scheduleTierSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    sweepTiersJob.jobId({}),
    { every: everyMs },
    {
      name: sweepTiersJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}

export interface TierJobDeps {
  db: Database;
  queue: Queue;
  log: Logger;
  /** The clock (default: the system's). */
  now?: () => Date;
}

/** Enqueues the day's run of every shop due; returns the job ids. */
export async function runTierSweepJob(deps: TierJobDeps): Promise<string[]> {
  const now = deps.now?.() ?? new Date();
  const due = await shopsDueForTierRun(deps.db, now);
  const ids: string[] = [];
  for (const { domain, day } of due) {
    const data = { shop: domain, day };
    const jobId = evaluateTiersJob.jobId(data);
    await deps.queue.add(evaluateTiersJob.name, data, { jobId });
    ids.push(jobId);
  }
  if (due.length > 0) deps.log.info({ shops: due.length }, 'daily tier runs enqueued');
  return ids;
}

/** Runs one shop's day (already run: nothing). A shop no longer installed ends the job. */
export async function runEvaluateTiersJob(
  job: Pick<Job, 'data'>,
  deps: Omit<TierJobDeps, 'queue'>,
): Promise<DailyRunResult & { shop: string; day: string }> {
  const parsed = evaluateTiersJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { shop: domain, day } = parsed.data;
  const shop = await getShopByDomain(deps.db, domain);
  if (!shop) throw new UnrecoverableError(`shop ${domain} is not installed`);
  const result = await runDailyTierEvaluation(deps.db, shop, day, deps.now?.() ?? new Date());
  if (result.ran) deps.log.info({ shop: domain, day, ...result }, 'daily tier run finished');
  return { shop: domain, day, ...result };
}
