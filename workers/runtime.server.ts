/**
 * The worker runtime: a BullMQ worker on the webhook queue that runs each job through its handler,
 * the reconciler's job scheduler, a second worker on the metafield queue (the storefront sync, fed
 * after every committed inbox batch, and its sweep's scheduler), a third on the redemptions queue
 * (the sweep that settles redemptions Shopify left pending, every 60 s: docs/redemption.md), a
 * fourth on the tiers queue (the daily tier run per shop, found by an hourly sweep: docs/tiers.md),
 * the referral sync and its sweep on the metafield queue (docs/referrals.md), a fifth on the imports
 * queue (history imports uploaded in the admin, one at a time, and their sweep: docs/import.md),
 * a sixth on the lifecycle queue (the daily expiry and reminder run per shop, and reminder
 * sending: docs/expiry.md), and a graceful close. Used by
 * `npm run worker` (workers/main.ts) and, with INLINE_WORKERS, inside the web process.
 *
 * Retries: about 4 hours of capped exponential backoff (app/queues/webhook-queue.server.ts
 * RETRY_SCHEDULE).
 * Permanent failures and last attempts make the inbox row a dead letter and throw BullMQ's
 * UnrecoverableError; a delivery whose shop is not installed yet parks its row and ends the job
 * (the reconciler replays it once the shop exists). A worker killed mid-job leaves its job locked
 * until its lock expires (at most WORKER_LOCK_MS after the kill); the next stalled check
 * (stalledCheckMs) hands it to another worker, and the inbox row's state makes the retry exact.
 */
import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import { getDatabase } from '../app/db.server';
import { env } from '../app/env.server';
import { loggerFor } from '../app/logger.server';
import {
  jobDefinitions,
  METAFIELD_QUEUE,
  processInboxBatchJob,
  processInboxJob,
  reconcileInboxJob,
  reconcileRedemptionsJob,
  REDEMPTION_QUEUE,
  sweepEarlyAccessJob,
  sweepMetafieldsJob,
  sweepTiersJob,
  evaluateTiersJob,
  historyImportJob,
  IMPORT_QUEUE,
  sweepImportsJob,
  syncEarlyAccessJob,
  syncMetafieldsJob,
  syncReferralCodesJob,
  sweepReferralsJob,
  TIER_QUEUE,
  WEBHOOK_QUEUE,
  LIFECYCLE_QUEUE,
  runLifecycleDayJob,
  sweepLifecycleJob,
  sendRemindersJob,
  type JobName,
} from '../app/queues/jobs';
import {
  createLifecycleQueue,
  LIFECYCLE_SWEEP_EVERY_MS,
  runLifecycleDayJobHandler,
  runLifecycleSweepJob,
  runSendRemindersJob,
  scheduleLifecycleSweep,
  type LifecycleJobDeps,
} from './handlers/lifecycle';
import { emailNotifierFromEnv } from '../app/notify/email.server';
import { shopifyCustomerChannel } from '../app/notify/shopify-customer.server';
import {
  createTierQueue,
  runEvaluateTiersJob,
  runTierSweepJob,
  scheduleTierSweep,
  TIER_SWEEP_EVERY_MS,
  type TierJobDeps,
} from './handlers/tiers';
import {
  runMetafieldSweepJob,
  runMetafieldSyncJob,
  type MetafieldJobDeps,
} from './handlers/metafield-sync';
import { createMetafieldQueue, enqueueMetafieldSync } from '../app/queues/metafield-queue.server';
import {
  EARLY_ACCESS_SWEEP_EVERY_MS,
  runEarlyAccessSweepJob,
  runEarlyAccessSyncJob,
  scheduleEarlyAccessSweep,
  type EarlyAccessJobDeps,
} from './handlers/early-access';
import {
  REFERRAL_SWEEP_EVERY_MS,
  runReferralSweepJob,
  runReferralSyncJob,
  scheduleReferralSweep,
  type ReferralJobDeps,
} from './handlers/referrals';
import {
  createRedemptionQueue,
  runRedemptionSweepJob,
  scheduleRedemptionSweep,
  type RedemptionJobDeps,
} from './handlers/redemptions';
import {
  IMPORT_SWEEP_EVERY_MS,
  runHistoryImportJob,
  runImportSweepJob,
  scheduleImportSweep,
  type HistoryImportJobDeps,
} from './handlers/history-import';
import { createImportQueue } from '../app/queues/import-queue.server';
import { Batcher } from '../app/batcher';
import { inboxRowRefs } from '../app/models/inbox.server';
import { failureReason, processInboxBatch, recordFailure, type RowResult } from './process-inbox';
import { createWebhookQueue, requeueInbox, retryDelayMs } from '../app/queues/webhook-queue.server';
import { queueSettings, workerOptions, type QueueSettings } from '../app/queues/connection.server';
import { reconcileInbox } from './reconcile';

export interface StartWorkersOptions {
  /** Default: the process database (app/db.server.ts getDatabase()). */
  db?: Database;
  /** Default: queueSettings() from env (REDIS_URL, QUEUE_PREFIX). */
  queue?: QueueSettings;
  /** Default: env WORKER_CONCURRENCY (jobs held at once). */
  concurrency?: number;
  /** Default: env WORKER_BATCH_SIZE / WORKER_TRANSACTIONS. */
  batchSize?: number;
  transactions?: number;
  /** Default: env RECONCILE_AFTER_MS / RECONCILE_EVERY_MS / WORKER_LOCK_MS / INBOX_RETENTION_DAYS. */
  reconcileAfterMs?: number;
  reconcileEveryMs?: number;
  lockMs?: number;
  retentionDays?: number;
  /** The storefront metafield sync (docs/metafields.md). */
  metafields?: {
    /** Coalescing window and delay of a shop's sync job. Default 250 ms. */
    delayMs?: number;
    /** How often the sweep looks for shops with pending work. Default 30 s. */
    sweepEveryMs?: number;
    /** Shops synced at once by this process. Default 4. */
    concurrency?: number;
    /** Admin endpoint and client options, lease length, members per run. */
    sync?: MetafieldJobDeps['sync'];
  };
  /** The early-access mirror sync, on the metafield queue (docs/early-access.md). */
  earlyAccess?: {
    /** How often its sweep runs. Default 5 minutes. */
    sweepEveryMs?: number;
    sync?: EarlyAccessJobDeps['sync'];
  };
  /** The referral friend discount and codes, on the metafield queue (docs/referrals.md). */
  referrals?: {
    /**
     * How often its sweep looks for shops with referral work: a new member's code reaches Shopify
     * within about this long of customers/create. Default 5 s.
     */
    sweepEveryMs?: number;
    sync?: ReferralJobDeps['sync'];
  };
  /** The redemption sweep: pending redemptions and expired codes (docs/redemption.md). */
  redemptions?: {
    /** How often it runs. Default 60 s. */
    sweepEveryMs?: number;
    /** Admin endpoint and client options; the issuer (tests); idle time before reconciling. */
    shopify?: RedemptionJobDeps['shopify'];
    issuer?: RedemptionJobDeps['issuer'];
    idleMs?: number;
    /** How long after its end an unused code is closed. Default 1 hour. */
    expiryGraceMs?: number;
  };
  /** The daily tier run (docs/tiers.md). */
  tiers?: {
    /** How often the sweep looks for shops past their local midnight. Default 1 hour. */
    sweepEveryMs?: number;
    /** The clock (tests). */
    now?: () => Date;
  };
  /** The daily lifecycle run: expiry and reminders (docs/expiry.md). */
  lifecycle?: {
    /** How often the sweep looks for shops past their local midnight. Default 1 hour. */
    sweepEveryMs?: number;
    /** The reminder notifiers by channel; a channel without one keeps its deliveries pending. */
    notifiers?: LifecycleJobDeps['notifiers'];
    /** The day's steps (default LIFECYCLE_STEPS). */
    steps?: LifecycleJobDeps['steps'];
    /** The clock (tests). */
    now?: () => Date;
  };
  /** History imports uploaded in the admin (docs/import.md). */
  imports?: {
    /** How often the sweep gives queued imports without a job one. Default 30 s. */
    sweepEveryMs?: number;
    /** Rows per batch (transaction). Default 5,000. */
    batchRows?: number;
  };
}

/** Metafield sync defaults (see StartWorkersOptions.metafields). */
export const METAFIELD_SYNC_DEFAULTS = { delayMs: 250, sweepEveryMs: 30_000, concurrency: 4 };
/** How often the redemption sweep runs by default. */
export const REDEMPTION_SWEEP_EVERY_MS = 60_000;

export interface WorkerRuntime {
  /** Resolves once the worker's Redis connection is ready (it keeps retrying while Redis is down). */
  ready: Promise<void>;
  /** Stops taking jobs, waits for the active ones, closes the Redis connections. */
  close(): Promise<void>;
}

type Processor = (job: Job, token?: string) => Promise<unknown>;

const DAY_MS = 86_400_000;

/**
 * How often workers look for jobs whose worker died. BullMQ moves a job at the first check after
 * its lock expired, so with the check every WORKER_LOCK_MS (BullMQ's habit) a killed worker's jobs
 * waited up to twice the lock (31–61 s measured); checked every fifth of it (at most 5 s), they
 * wait at most WORKER_LOCK_MS + this (35 s by default). A check is one Lua script over the active
 * list, run by one worker per interval: cheap at this rate.
 */
export function stalledCheckMs(lockMs: number): number {
  return Math.min(5_000, Math.round(lockMs / 5));
}
/** Redis connection errors repeat every reconnect attempt; log them at most this often. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * BullMQ's words when a job it is finishing is no longer its own in Redis: the key is gone (Redis
 * was flushed or restarted without persistence while the job ran) or its lock is (the lock expired
 * and the job was handed to another worker).
 */
const LOST_JOB = /^(Missing key|Missing lock|Lock mismatch) for job (\S+?)\./;

/** Calls `write` at most once per interval, telling it how many calls it skipped meanwhile. */
function throttled(write: (skipped: number, error: Error) => void): (error: Error) => void {
  let last = -Infinity;
  let skipped = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < ERROR_LOG_INTERVAL_MS) {
      skipped++;
      return;
    }
    last = now;
    write(skipped, error);
    skipped = 0;
  };
}

/**
 * The worker's 'error' listener. A job that outlived its Redis record is the expected outcome of a
 * flushed or restarted Redis, not a connection problem: the inbox row, not the job, holds the
 * outcome (processed in the same transaction as its entries, or still `received` and re-enqueued
 * by the reconciler), so it is logged at info (a lost lock at warn: the worker was stalled) with
 * words that say so. Everything else is a Redis connection error, retried by ioredis.
 */
export function workerErrorListener(log: Logger): (error: Error) => void {
  const lostKey = throttled((skipped, error) =>
    log.info(
      { err: error.message, jobId: LOST_JOB.exec(error.message)?.[2], skipped },
      'job finished after Redis lost it (flushed or restarted): harmless, the inbox row holds ' +
        'the outcome and the reconciler re-enqueues the row if it is still unprocessed',
    ),
  );
  const lostLock = throttled((skipped, error) =>
    log.warn(
      { err: error.message, jobId: LOST_JOB.exec(error.message)?.[2], skipped },
      'job lost its lock (the worker was stalled longer than WORKER_LOCK_MS) and went to another ' +
        'worker: harmless, the inbox row lock lets only one of them process it',
    ),
  );
  const connection = throttled((skipped, error) =>
    log.warn({ err: error.message, skipped }, 'worker connection error (retrying)'),
  );
  return (error) => {
    const lost = LOST_JOB.exec(error.message);
    if (lost?.[1] === 'Missing key') lostKey(error);
    else if (lost) lostLock(error);
    else connection(error);
  };
}

async function runProcessInbox(
  db: Database,
  batcher: Batcher<number, RowResult>,
  job: Job,
  log: Logger,
): Promise<string> {
  const parsed = processInboxJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const data = parsed.data;
  const attempt = job.attemptsMade + 1;
  const jobLog = log.child({
    shop: data.shop,
    topic: data.topic,
    inboxId: data.inboxId,
    jobId: job.id,
    attempt,
  });
  const started = performance.now();
  try {
    const result = await batcher.submit(data.inboxId);
    if (result.status === 'failed') throw result.error;
    const outcome = result;
    const ms = Math.round(performance.now() - started);
    if (outcome.status === 'processed')
      jobLog.info({ ...outcome.summary, ms }, 'webhook processed');
    else jobLog.debug({ reason: outcome.reason, ms }, 'webhook skipped');
    return outcome.status;
  } catch (error) {
    const finalAttempt = attempt >= (job.opts.attempts ?? 1);
    const outcome = await recordFailure(db, data.inboxId, error, { finalAttempt });
    const reason = failureReason(error);
    if (outcome === 'parked') {
      jobLog.info({ reason }, 'webhook parked until its shop is installed');
      return 'parked';
    }
    if (outcome === 'dead') {
      jobLog.error({ err: reason }, 'webhook dead-lettered (replay with `loyalty inbox replay`)');
      throw new UnrecoverableError(reason);
    }
    jobLog.warn({ err: reason }, 'webhook failed; will retry');
    throw error;
  }
}

/**
 * A group commit's rows (processInboxBatchJob): each goes through the same batcher as a single
 * row's job, so rows of several batch jobs still settle together. A row that fails is recorded as
 * a failed attempt and continues alone as a processInboxJob on the retry schedule (or is parked or
 * dead-lettered, as it would be there), so the batch job itself completes. It fails — and BullMQ
 * runs it again, its processed rows being skipped — only when the failed rows could not be handed
 * on (the database or Redis down).
 */
async function runProcessInboxBatch(
  db: Database,
  batcher: Batcher<number, RowResult>,
  queue: Queue,
  job: Job,
  log: Logger,
): Promise<string> {
  const parsed = processInboxBatchJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const ids = [...new Set(parsed.data.inboxIds)];
  const jobLog = log.child({ jobId: job.id, attempt: job.attemptsMade + 1 });
  const started = performance.now();
  const results = await Promise.all(ids.map((id) => batcher.submit(id)));
  const ms = Math.round(performance.now() - started);
  const failed = new Map<number, unknown>();
  let processed = 0;
  ids.forEach((inboxId, i) => {
    const result = results[i]!;
    if (result.status === 'failed') failed.set(inboxId, result.error);
    else if (result.status === 'processed') {
      processed++;
      jobLog.info({ inboxId, topic: result.topic, ...result.summary, ms }, 'webhook processed');
    } else jobLog.debug({ inboxId, reason: result.reason, ms }, 'webhook skipped');
  });
  for (const row of await inboxRowRefs(db, [...failed.keys()])) {
    const error = failed.get(row.id);
    const rowLog = jobLog.child({ shop: row.shopDomain, topic: row.topic, inboxId: row.id });
    const outcome = await recordFailure(db, row.id, error, { finalAttempt: false });
    const reason = failureReason(error);
    if (outcome === 'parked') rowLog.info({ reason }, 'webhook parked until its shop is installed');
    else if (outcome === 'dead') {
      rowLog.error({ err: reason }, 'webhook dead-lettered (replay with `loyalty inbox replay`)');
    } else {
      await requeueInbox(queue, row, { delayMs: retryDelayMs(1) });
      rowLog.warn({ err: reason }, 'webhook failed; will retry on its own');
    }
  }
  return `${ids.length} rows: ${processed} processed, ${failed.size} failed`;
}

/** Creates or refreshes the metafield sweep's schedule (idempotent, like the reconciler's). */
export async function scheduleMetafieldSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    sweepMetafieldsJob.jobId({}),
    { every: everyMs },
    {
      name: sweepMetafieldsJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}

/** Creates or refreshes the reconciler's schedule (idempotent; survives a Redis that lost it). */
export async function scheduleReconciler(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    reconcileInboxJob.jobId({}),
    { every: everyMs },
    { name: reconcileInboxJob.name, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function startWorkers(options: StartWorkersOptions = {}): Promise<WorkerRuntime> {
  const e = env();
  const db = options.db ?? (await getDatabase()).db;
  const settings = options.queue ?? queueSettings();
  const concurrency = options.concurrency ?? e.WORKER_CONCURRENCY;
  const reconcileAfterMs = options.reconcileAfterMs ?? e.RECONCILE_AFTER_MS;
  const reconcileEveryMs = options.reconcileEveryMs ?? e.RECONCILE_EVERY_MS;
  const lockMs = options.lockMs ?? e.WORKER_LOCK_MS;
  const retentionDays = options.retentionDays ?? e.INBOX_RETENTION_DAYS;
  const log = loggerFor({ component: 'worker', prefix: settings.prefix });

  // The reconciler adds jobs from inside a job: a normal (queueing) connection, not a fail-fast one.
  const queue = createWebhookQueue(settings, workerOptions(settings.redisUrl));
  const metafields = { ...METAFIELD_SYNC_DEFAULTS, ...definedOnly(options.metafields ?? {}) };
  const metafieldQueue = createMetafieldQueue(settings, workerOptions(settings.redisUrl));
  const metafieldDeps: MetafieldJobDeps = {
    db,
    queue: metafieldQueue,
    log: loggerFor({ component: 'metafield-sync', prefix: settings.prefix }),
    delayMs: metafields.delayMs,
    ...(options.metafields?.sync ? { sync: options.metafields.sync } : {}),
  };
  // After a commit, not inside it: the sync must be able to read what it was enqueued for. Never
  // awaited by the webhook job; a lost enqueue is the sweep's to catch.
  const requestSync = (shops: ReadonlySet<string>) => {
    for (const shop of shops) {
      enqueueMetafieldSync(metafieldQueue, shop, metafields.delayMs).catch((error: Error) =>
        log.warn(
          { shop, err: error.message },
          'could not enqueue a metafield sync; the sweep will',
        ),
      );
    }
  };
  // Jobs arriving while every transaction slot is busy are settled together (workers/batcher.ts).
  const batcher = new Batcher<number, RowResult>(
    (ids) => processInboxBatch(db, ids, log, { committed: requestSync }),
    {
      maxBatch: options.batchSize ?? e.WORKER_BATCH_SIZE,
      maxInFlight: options.transactions ?? e.WORKER_TRANSACTIONS,
    },
  );
  const processors: Partial<Record<JobName, Processor>> = {
    [processInboxJob.name]: (job) => runProcessInbox(db, batcher, job, log),
    [processInboxBatchJob.name]: (job) => runProcessInboxBatch(db, batcher, queue, job, log),
    [reconcileInboxJob.name]: async () => {
      const now = Date.now();
      const result = await reconcileInbox(db, queue, {
        olderThan: new Date(now - reconcileAfterMs),
        pruneBefore: new Date(now - retentionDays * DAY_MS),
      });
      if (result.requeued + result.unparked + result.parkedExpired + result.payloadsPruned > 0) {
        log.info(result, 'inbox reconciled');
      }
      return result;
    },
  };
  const earlyAccessDeps: EarlyAccessJobDeps = {
    db,
    queue: metafieldQueue,
    log: loggerFor({ component: 'early-access-sync', prefix: settings.prefix }),
    delayMs: metafields.delayMs,
    ...(options.earlyAccess?.sync ? { sync: options.earlyAccess.sync } : {}),
  };
  const earlyAccessSweepEveryMs = options.earlyAccess?.sweepEveryMs ?? EARLY_ACCESS_SWEEP_EVERY_MS;
  const referralDeps: ReferralJobDeps = {
    db,
    queue: metafieldQueue,
    log: loggerFor({ component: 'referral-sync', prefix: settings.prefix }),
    metafieldDelayMs: metafields.delayMs,
    ...(options.referrals?.sync ? { sync: options.referrals.sync } : {}),
  };
  const referralSweepEveryMs = options.referrals?.sweepEveryMs ?? REFERRAL_SWEEP_EVERY_MS;
  const metafieldProcessors: Partial<Record<JobName, Processor>> = {
    [syncMetafieldsJob.name]: (job) => runMetafieldSyncJob(job, metafieldDeps),
    [sweepMetafieldsJob.name]: () => runMetafieldSweepJob(metafieldDeps),
    [syncEarlyAccessJob.name]: (job) => runEarlyAccessSyncJob(job, earlyAccessDeps),
    [sweepEarlyAccessJob.name]: () => runEarlyAccessSweepJob(earlyAccessDeps),
    [syncReferralCodesJob.name]: (job) => runReferralSyncJob(job, referralDeps),
    [sweepReferralsJob.name]: () => runReferralSweepJob(referralDeps),
  };
  const redemptionQueue = createRedemptionQueue(settings, workerOptions(settings.redisUrl));
  const redemptionSweepEveryMs = options.redemptions?.sweepEveryMs ?? REDEMPTION_SWEEP_EVERY_MS;
  const redemptionDeps: RedemptionJobDeps = {
    db,
    log: loggerFor({ component: 'redemption-sweep', prefix: settings.prefix }),
    ...definedOnly({
      issuer: options.redemptions?.issuer,
      shopify: options.redemptions?.shopify,
      idleMs: options.redemptions?.idleMs,
      expiryGraceMs: options.redemptions?.expiryGraceMs,
    }),
  };
  const redemptionProcessors: Partial<Record<JobName, Processor>> = {
    [reconcileRedemptionsJob.name]: () => runRedemptionSweepJob(redemptionDeps),
  };
  const tierQueue = createTierQueue(settings, workerOptions(settings.redisUrl));
  const tierSweepEveryMs = options.tiers?.sweepEveryMs ?? TIER_SWEEP_EVERY_MS;
  const tierDeps: TierJobDeps = {
    db,
    queue: tierQueue,
    log: loggerFor({ component: 'tiers', prefix: settings.prefix }),
    ...definedOnly({ now: options.tiers?.now }),
  };
  const tierProcessors: Partial<Record<JobName, Processor>> = {
    [sweepTiersJob.name]: () => runTierSweepJob(tierDeps),
    [evaluateTiersJob.name]: (job) => runEvaluateTiersJob(job, tierDeps),
  };
  const lifecycleQueue = createLifecycleQueue(settings, workerOptions(settings.redisUrl));
  // Email only when SMTP_URL is set (docs/notifications.md); the Shopify channel always, each
  // reminder through its own shop's offline token.
  const emailNotifier = options.lifecycle?.notifiers ? null : emailNotifierFromEnv(e);
  const defaultNotifiers: LifecycleJobDeps['notifiers'] = {
    shopify: shopifyCustomerChannel(db, { log: loggerFor({ component: 'reminders' }) }),
    ...(emailNotifier ? { email: emailNotifier } : {}),
  };
  const lifecycleSweepEveryMs = options.lifecycle?.sweepEveryMs ?? LIFECYCLE_SWEEP_EVERY_MS;
  const lifecycleDeps: LifecycleJobDeps = {
    db,
    queue: lifecycleQueue,
    log: loggerFor({ component: 'lifecycle', prefix: settings.prefix }),
    notifiers: options.lifecycle?.notifiers ?? defaultNotifiers,
    ...definedOnly({ now: options.lifecycle?.now, steps: options.lifecycle?.steps }),
  };
  const lifecycleProcessors: Partial<Record<JobName, Processor>> = {
    [sweepLifecycleJob.name]: () => runLifecycleSweepJob(lifecycleDeps),
    [runLifecycleDayJob.name]: (job) => runLifecycleDayJobHandler(job, lifecycleDeps),
    [sendRemindersJob.name]: (job) => runSendRemindersJob(job, lifecycleDeps),
  };
  const importQueue = createImportQueue(settings, workerOptions(settings.redisUrl));
  const importSweepEveryMs = options.imports?.sweepEveryMs ?? IMPORT_SWEEP_EVERY_MS;
  // Closing stops an import between batches rather than waiting for a file of any size.
  const importStop = new AbortController();
  const importDeps: HistoryImportJobDeps = {
    db,
    signal: importStop.signal,
    log: loggerFor({ component: 'history-import', prefix: settings.prefix }),
    metafieldQueue,
    metafieldDelayMs: metafields.delayMs,
    ...definedOnly({ batchRows: options.imports?.batchRows }),
  };
  const importProcessors: Partial<Record<JobName, Processor>> = {
    [historyImportJob.name]: (job, token) => runHistoryImportJob(job, importDeps, token),
    [sweepImportsJob.name]: () =>
      runImportSweepJob({ db, queue: importQueue, log: importDeps.log }),
  };
  const processorsOf: Record<string, Partial<Record<JobName, Processor>>> = {
    [WEBHOOK_QUEUE]: processors,
    [METAFIELD_QUEUE]: metafieldProcessors,
    [REDEMPTION_QUEUE]: redemptionProcessors,
    [TIER_QUEUE]: tierProcessors,
    [IMPORT_QUEUE]: importProcessors,
    [LIFECYCLE_QUEUE]: lifecycleProcessors,
  };
  // House rule: startup fails if a job name has no handler (on its own queue).
  for (const definition of jobDefinitions) {
    if (typeof processorsOf[definition.queue]?.[definition.name] !== 'function') {
      throw new Error(`job ${definition.name} has no handler on queue ${definition.queue}`);
    }
  }

  /**
   * A worker for one queue: jobs by name from `processors`, `concurrency` at once. A job whose
   * worker died three times (stalled more than twice) is failed; for webhooks the reconciler
   * re-enqueues its row, the side queues' schedules run again.
   */
  const queueWorker = (
    queueName: string,
    processors: Partial<Record<JobName, Processor>>,
    concurrency: number,
    logger: Logger,
    retries?: { backoffStrategy: typeof retryDelayMs },
  ): Worker => {
    const created = new Worker(
      queueName,
      async (job, token) => {
        const processor = processors[job.name as JobName];
        if (!processor) throw new UnrecoverableError(`no handler for job ${job.name}`);
        return processor(job, token);
      },
      {
        connection: workerOptions(settings.redisUrl),
        prefix: settings.prefix,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: stalledCheckMs(lockMs),
        maxStalledCount: 2,
        ...(retries ? { settings: retries } : {}),
      },
    );
    created.on('error', workerErrorListener(logger));
    return created;
  };
  const worker = queueWorker(WEBHOOK_QUEUE, processors, concurrency, log, {
    backoffStrategy: retryDelayMs,
  });
  const metafieldWorker = queueWorker(
    METAFIELD_QUEUE,
    metafieldProcessors,
    metafields.concurrency,
    metafieldDeps.log,
  );
  // One sweep at a time: it talks to Shopify for every shop with pending redemptions.
  const redemptionWorker = queueWorker(
    REDEMPTION_QUEUE,
    redemptionProcessors,
    1,
    redemptionDeps.log,
  );
  // One shop's run at a time: each is a series of transactions over that shop's members.
  const tierWorker = queueWorker(TIER_QUEUE, tierProcessors, 1, tierDeps.log);
  // One import at a time: each is a long series of batches over the ledger.
  const importWorker = queueWorker(IMPORT_QUEUE, importProcessors, 1, importDeps.log);
  // One job at a time: a shop's day is a series of transactions over its members.
  const lifecycleWorker = queueWorker(LIFECYCLE_QUEUE, lifecycleProcessors, 1, lifecycleDeps.log);

  const reschedule = () =>
    scheduleReconciler(queue, reconcileEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the reconciler; will retry'),
    );
  const rescheduleSweep = () =>
    scheduleMetafieldSweep(metafieldQueue, metafields.sweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the metafield sweep; will retry'),
    );
  const rescheduleEarlyAccess = () =>
    scheduleEarlyAccessSweep(metafieldQueue, earlyAccessSweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the early-access sweep; will retry'),
    );
  const rescheduleReferrals = () =>
    scheduleReferralSweep(metafieldQueue, referralSweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the referral sweep; will retry'),
    );
  const rescheduleRedemptions = () =>
    scheduleRedemptionSweep(redemptionQueue, redemptionSweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the redemption sweep; will retry'),
    );
  const rescheduleTiers = () =>
    scheduleTierSweep(tierQueue, tierSweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the tier sweep; will retry'),
    );
  const rescheduleImports = () =>
    scheduleImportSweep(importQueue, importSweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the import sweep; will retry'),
    );
  const rescheduleLifecycle = () =>
    scheduleLifecycleSweep(lifecycleQueue, lifecycleSweepEveryMs).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not schedule the lifecycle sweep; will retry'),
    );
  const ready = Promise.all([
    worker.waitUntilReady(),
    metafieldWorker.waitUntilReady(),
    redemptionWorker.waitUntilReady(),
    tierWorker.waitUntilReady(),
    importWorker.waitUntilReady(),
    lifecycleWorker.waitUntilReady(),
  ]).then(async () => {
    await Promise.all([
      rescheduleLifecycle(),
      reschedule(),
      rescheduleImports(),
      rescheduleSweep(),
      rescheduleRedemptions(),
      rescheduleTiers(),
      rescheduleEarlyAccess(),
      rescheduleReferrals(),
    ]);
    log.info(
      {
        concurrency,
        lockMs,
        reconcileEveryMs,
        metafieldSweepEveryMs: metafields.sweepEveryMs,
        metafieldDelayMs: metafields.delayMs,
      },
      'workers started',
    );
  });
  // Re-asserted on a timer: a Redis that lost its data (FLUSHALL, restart) loses the schedule too.
  const timer = setInterval(reschedule, reconcileEveryMs);
  timer.unref();
  const sweepTimer = setInterval(rescheduleSweep, metafields.sweepEveryMs);
  sweepTimer.unref();
  const redemptionTimer = setInterval(rescheduleRedemptions, redemptionSweepEveryMs);
  redemptionTimer.unref();
  const tierTimer = setInterval(rescheduleTiers, Math.min(tierSweepEveryMs, reconcileEveryMs));
  tierTimer.unref();
  const earlyAccessTimer = setInterval(rescheduleEarlyAccess, earlyAccessSweepEveryMs);
  earlyAccessTimer.unref();
  // Re-asserted no more often than the reconciler's: the sweep itself runs every few seconds.
  const referralTimer = setInterval(
    rescheduleReferrals,
    Math.max(referralSweepEveryMs, Math.min(reconcileEveryMs, 60_000)),
  );
  referralTimer.unref();
  const importTimer = setInterval(
    rescheduleImports,
    Math.max(importSweepEveryMs, Math.min(reconcileEveryMs, 60_000)),
  );
  importTimer.unref();
  const lifecycleTimer = setInterval(
    rescheduleLifecycle,
    Math.min(lifecycleSweepEveryMs, reconcileEveryMs),
  );
  lifecycleTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    ready: ready.then(() => undefined),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        clearInterval(sweepTimer);
        clearInterval(redemptionTimer);
        clearInterval(tierTimer);
        clearInterval(earlyAccessTimer);
        clearInterval(referralTimer);
        clearInterval(importTimer);
        clearInterval(lifecycleTimer);
        importStop.abort(new Error('the worker is closing'));
        await Promise.all([
          worker.close(),
          metafieldWorker.close(),
          redemptionWorker.close(),
          tierWorker.close(),
          importWorker.close(),
          lifecycleWorker.close(),
        ]);
        await Promise.all([
          queue.close(),
          metafieldQueue.close(),
          redemptionQueue.close(),
          tierQueue.close(),
          importQueue.close(),
          lifecycleQueue.close(),
        ]);
        emailNotifier?.close();
        log.info('workers stopped');
      })();
      return closing;
    },
  };
}
