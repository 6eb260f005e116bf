/**
 * Jobs the web process adds after an answer-worthy action (a program published, an adjustment, a
 * referral code made, an upload saved). The action is already committed and a sweep finds its work
 * anyway, so the enqueue must never fail or hold the answer: a fail-fast Redis connection, a short
 * timeout, and a warning instead of an error.
 */
import type { Queue } from 'bullmq';
import { loggerFor } from '../logger.server';
import { addWithin, failFastOptions, queueSettings } from './connection.server';
import { createImportQueue, enqueueHistoryImportJob } from './import-queue.server';
import { createMetafieldQueue, enqueueReferralSyncJob } from './metafield-queue.server';

/**
 * Resolves true when `add` finished within `timeoutMs`; otherwise logs a warning (with `log`'s ids,
 * never personal data) and resolves false.
 */
export async function enqueueFromWeb(
  add: () => Promise<unknown>,
  context: { log: Record<string, unknown>; what: string; timeoutMs?: number },
): Promise<boolean> {
  try {
    await addWithin(add, context.timeoutMs ?? 500);
    return true;
  } catch (error) {
    loggerFor(context.log).warn(
      { err: (error as Error).message },
      `could not enqueue ${context.what}; the sweep will`,
    );
    return false;
  }
}

let metafieldQueue: Queue | undefined;

/** The web process's handle on the metafield queue (member sync, referral sync): one per process. */
export function webMetafieldQueue(): Queue {
  return (metafieldQueue ??= createMetafieldQueue(
    queueSettings(),
    failFastOptions(queueSettings().redisUrl),
  ));
}

/** Tests point the web process at their own queue (own prefix). Pass undefined to forget it. */
export function useWebMetafieldQueue(queue: Queue | undefined): void {
  metafieldQueue = queue;
}

/**
 * For web callers (the admin after publishing a referral program, the app proxy after making a
 * member's code): a referral sync of the shop soon. Never throws — a failed enqueue (Redis down)
 * is logged and the sweep finds the work within seconds. Resolves true when the job was taken.
 */
export function enqueueReferralSync(
  shopDomain: string,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  return enqueueFromWeb(() => enqueueReferralSyncJob(webMetafieldQueue(), shopDomain), {
    log: { shop: shopDomain, component: 'referral-sync' },
    what: 'a referral sync',
    timeoutMs: options.timeoutMs,
  });
}

let importQueue: Queue | undefined;

/** Tests point the web process at their own queue (own prefix). Pass undefined to forget it. */
export function useImportQueue(queue: Queue | undefined): void {
  importQueue = queue;
}

/**
 * For the admin after saving an upload: the import's job, now. Never throws — the upload is
 * already saved as queued, and the sweep (workers/handlers/history-import.ts) gives it its job
 * within IMPORT_SWEEP_EVERY_MS when Redis did not take it. Resolves true when the job was taken.
 */
export function enqueueHistoryImport(
  importId: number,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  // Fail-fast connection: a dead Redis must not hold the upload's answer.
  importQueue ??= createImportQueue(queueSettings(), failFastOptions(queueSettings().redisUrl));
  const queue = importQueue;
  return enqueueFromWeb(() => enqueueHistoryImportJob(queue, importId), {
    log: { importId, component: 'history-import' },
    what: 'the history import',
    timeoutMs: options.timeoutMs ?? 1_000,
  });
}
