/**
 * The daily lifecycle run (docs/expiry.md): `sweep-lifecycle` (repeatable, hourly) enqueues
 * `run-lifecycle-day` for every shop whose local midnight passed since its last finished run (the
 * job id is the shop and its local day; a lifecycle_daily_runs row makes the day once however
 * often it is enqueued), and `send-reminders` for every shop with reminder deliveries due.
 * `run-lifecycle-day` runs the day's steps (expiry, then reminders, …) and asks for the sending;
 * `send-reminders` delivers through the notifiers it is given. The clock is injectable (`now`),
 * so tests move time without sleeping.
 */
import { UnrecoverableError, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import {
  sendDueReminders,
  shopsWithDueReminders,
  type ReminderNotifiers,
  type SendResult,
} from '../../app/models/expiry-reminders.server';
import {
  LIFECYCLE_STEPS,
  runLifecycleDay,
  shopsDueForLifecycleRun,
  type LifecycleDayResult,
  type LifecycleStep,
} from '../../app/models/lifecycle.server';
import { getShopByDomain } from '../../app/models/shops.server';
import {
  enqueueCoalesced,
  LIFECYCLE_QUEUE,
  runLifecycleDayJob,
  sendRemindersJob,
  sweepLifecycleJob,
} from '../../app/queues/jobs';
import { openQueue, type QueueSettings } from '../../app/queues/connection.server';

/** How often the sweep looks for shops past their local midnight by default. */
export const LIFECYCLE_SWEEP_EVERY_MS = 3_600_000;
/** A retry due within this long is waited for by a delayed job; later ones by the sweep. */
export const SEND_RETRY_JOB_WITHIN_MS = 300_000;

export const LIFECYCLE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 30_000 },
  removeOnComplete: true,
  removeOnFail: { count: 100 },
};

export function createLifecycleQueue(settings: QueueSettings, connection: RedisOptions): Queue {
  return openQueue(LIFECYCLE_QUEUE, settings, connection, LIFECYCLE_JOB_OPTIONS);
}

/** Creates or refreshes the sweep's schedule (idempotent). */
export async function scheduleLifecycleSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    sweepLifecycleJob.jobId({}),
    { every: everyMs },
    {
      name: sweepLifecycleJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}

/**
 * Asks for a send of `shop`'s reminders in `delayMs`; enqueues within the delay coalesce into one
 * job (enqueueCoalesced: the job starts after the window, so it sees what they were for).
 */
export async function enqueueSendReminders(
  queue: Queue,
  shop: string,
  delayMs: number = sendRemindersJob.delayMs,
): Promise<void> {
  await enqueueCoalesced(queue, sendRemindersJob, { shop }, delayMs, Math.max(delayMs, 1));
}

export interface LifecycleJobDeps {
  db: Database;
  queue: Queue;
  log: Logger;
  /** The notifiers of each channel (the lead wires app/notify's); a missing one waits. */
  notifiers: ReminderNotifiers;
  /** The day's steps (default LIFECYCLE_STEPS). */
  steps?: readonly LifecycleStep[];
  /** The clock (default: the system's). */
  now?: () => Date;
}

/** Enqueues the day of every shop due and the sending of every shop with deliveries due. */
export async function runLifecycleSweepJob(deps: LifecycleJobDeps): Promise<string[]> {
  const now = deps.now?.() ?? new Date();
  const ids: string[] = [];
  const due = await shopsDueForLifecycleRun(deps.db, now);
  for (const { domain, day } of due) {
    const data = { shop: domain, day };
    const jobId = runLifecycleDayJob.jobId(data);
    await deps.queue.add(runLifecycleDayJob.name, data, { jobId });
    ids.push(jobId);
  }
  for (const shop of await shopsWithDueReminders(deps.db, now)) {
    await enqueueSendReminders(deps.queue, shop);
  }
  if (due.length > 0) deps.log.info({ shops: due.length }, 'daily lifecycle runs enqueued');
  return ids;
}

/** Runs one shop's day (already run: nothing). A shop no longer installed ends the job. */
export async function runLifecycleDayJobHandler(
  job: Pick<Job, 'data'>,
  deps: LifecycleJobDeps,
): Promise<LifecycleDayResult & { shop: string; day: string }> {
  const parsed = runLifecycleDayJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { shop: domain, day } = parsed.data;
  const shop = await getShopByDomain(deps.db, domain);
  if (!shop) throw new UnrecoverableError(`shop ${domain} is not installed`);
  const result = await runLifecycleDay(
    deps.db,
    shop,
    day,
    deps.now?.() ?? new Date(),
    deps.steps ?? LIFECYCLE_STEPS,
  );
  if (result.ran) {
    deps.log.info({ shop: domain, day, results: result.results }, 'daily lifecycle run finished');
    const reminders = result.results.reminders as { deliveries?: number } | undefined;
    if ((reminders?.deliveries ?? 0) > 0) await enqueueSendReminders(deps.queue, domain);
  }
  return { shop: domain, day, ...result };
}

/** Sends one shop's due reminders; a retry due soon gets a delayed job, later ones the sweep. */
export async function runSendRemindersJob(
  job: Pick<Job, 'data'>,
  deps: LifecycleJobDeps,
): Promise<SendResult & { shop: string }> {
  const parsed = sendRemindersJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { shop: domain } = parsed.data;
  const shop = await getShopByDomain(deps.db, domain);
  if (!shop) throw new UnrecoverableError(`shop ${domain} is not installed`);
  const now = deps.now?.() ?? new Date();
  const result = await sendDueReminders(deps.db, shop, deps.notifiers, now);
  if (result.sent + result.skipped + result.failed + result.retrying > 0) {
    deps.log.info({ shop: domain, ...result }, 'expiry reminders sent');
  }
  if (result.nextAttemptAt) {
    const wait = result.nextAttemptAt.getTime() - now.getTime();
    if (wait <= SEND_RETRY_JOB_WITHIN_MS) {
      await enqueueSendReminders(deps.queue, domain, Math.max(wait, sendRemindersJob.delayMs));
    }
  }
  return { shop: domain, ...result };
}
