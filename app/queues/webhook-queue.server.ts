/**
 * The webhook queue: the retry schedule of a delivery, the web process's queue handle, and the
 * enqueues of inbox rows (after a group commit, and again by the reconciler and replay). Its
 * connections come from connection.server.ts: fail-fast for the web process and the CLI, blocking
 * for workers.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { loggerFor } from '../logger.server';
import {
  addWithin,
  failFastOptions,
  openQueue,
  queueSettings,
  type QueueSettings,
} from './connection.server';
import { processInboxBatchJob, processInboxJob, WEBHOOK_QUEUE } from './jobs';

/**
 * The retry schedule of a delivery that failed for a reason that may pass (database or Redis down,
 * anything unknown): doubling from 1 s, capped at 15 min, 26 attempts — about 4 h in all, as long
 * as Shopify's own retries of a webhook (8 times over 4 hours,
 * https://shopify.dev/changelog/updates-to-webhook-retry-mechanism). An outage of hours costs no
 * delivery, and once it ends each waiting delivery runs within 15 minutes. Only then is it dead.
 * (Permanent failures are dead at once, and a shop not installed yet parks its deliveries.)
 */
export const RETRY_SCHEDULE = { attempts: 26, firstDelayMs: 1_000, maxDelayMs: 15 * 60_000 };

/** Delay before the next attempt after `attemptsMade` failed ones (BullMQ backoff strategy). */
export function retryDelayMs(attemptsMade: number): number {
  const { firstDelayMs, maxDelayMs } = RETRY_SCHEDULE;
  return Math.min(maxDelayMs, firstDelayMs * 2 ** Math.max(0, attemptsMade - 1));
}

/** The name of that strategy in job options; workers register it (workers/runtime.server.ts). */
export const RETRY_BACKOFF = 'capped-exponential';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: RETRY_SCHEDULE.attempts,
  backoff: { type: RETRY_BACKOFF },
  removeOnComplete: true,
  // Failed jobs stay (bounded) so ops can see them; the inbox row is the durable dead letter.
  removeOnFail: { count: 10_000 },
};

/**
 * The webhook queue. BullMQ opens (and on close() closes) its own connection from `connection`
 * options: fail-fast by default, for the web process and the CLI; workerOptions for workers.
 * Connection errors are expected while Redis is down; callers see them as failed commands.
 */
export function createWebhookQueue(
  settings: QueueSettings,
  connection: RedisOptions = failFastOptions(settings.redisUrl),
): Queue {
  return openQueue(WEBHOOK_QUEUE, settings, connection, DEFAULT_JOB_OPTIONS);
}

let webhookQueue: Queue | undefined;

/** The process-wide webhook queue (web process), created on first use from env. */
export function getWebhookQueue(): Queue {
  webhookQueue ??= createWebhookQueue(queueSettings());
  return webhookQueue;
}

/** Tests point the process at their own queue (own prefix). Pass undefined to forget it. */
export function useWebhookQueue(queue: Queue | undefined): void {
  webhookQueue = queue;
}

export async function closeWebhookQueue(): Promise<void> {
  const queue = webhookQueue;
  webhookQueue = undefined;
  await queue?.close();
}

/** An inbox row as the queue needs it. */
export interface InboxRowRef {
  id: number;
  shopDomain: string;
  topic: string;
}

/**
 * Enqueues the processing of inbox rows stored together: one processInboxJob for a single row,
 * one processInboxBatchJob for several (one Redis round trip either way). Never throws: returns
 * false when Redis did not take the job within `timeoutMs` — the rows are already durable and the
 * reconciler enqueues them later.
 */
export async function enqueueInboxRows(
  rows: readonly InboxRowRef[],
  options: { timeoutMs?: number; queue?: Queue } = {},
): Promise<boolean> {
  if (rows.length === 0) return true;
  const queue = options.queue ?? getWebhookQueue();
  const add = () => {
    if (rows.length === 1) {
      const data = processInboxJob.schema.parse({
        inboxId: rows[0]!.id,
        shop: rows[0]!.shopDomain,
        topic: rows[0]!.topic,
      });
      return queue.add(processInboxJob.name, data, { jobId: processInboxJob.jobId(data) });
    }
    const data = processInboxBatchJob.schema.parse({ inboxIds: rows.map((row) => row.id) });
    return queue.add(processInboxBatchJob.name, data, { jobId: processInboxBatchJob.jobId(data) });
  };
  try {
    await addWithin(add, options.timeoutMs ?? 500);
    return true;
  } catch (error) {
    // Ids only: the shops and topics are in the rows, and a batch may hold many shops.
    loggerFor({ inboxIds: rows.map((row) => row.id) }).warn(
      { err: (error as Error).message },
      'enqueue failed; the reconciler will pick the inbox rows up',
    );
    return false;
  }
}

/** Job states in which the job will still run: re-adding it would change nothing. */
const PENDING_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Enqueues an inbox row again (reconciler, replay, a row that failed in a batch job), after
 * `delayMs` if given. If a job for the row is still pending, nothing is added; a finished job left
 * over from an earlier attempt (failed, or completed before the row was reset) is removed first,
 * because BullMQ ignores an add whose job id already exists. A row waiting in a batch job is not
 * seen here (that job's id is its batch's): it gets a job of its own, and whichever runs second
 * finds it processed. Returns whether a job was added. Throws when Redis does not answer (callers
 * retry later).
 */
export async function requeueInbox(
  queue: Queue,
  row: InboxRowRef,
  options: { delayMs?: number } = {},
): Promise<boolean> {
  const data = processInboxJob.schema.parse({
    inboxId: row.id,
    shop: row.shopDomain,
    topic: row.topic,
  });
  const jobId = processInboxJob.jobId(data);
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (PENDING_STATES.has(state)) return false;
    if (state !== 'unknown') await existing.remove();
  }
  await queue.add(processInboxJob.name, data, {
    jobId,
    ...(options.delayMs ? { delay: options.delayMs } : {}),
  });
  return true;
}
