/**
 * Jobs the web process adds after an answer-worthy action (a program published, an adjustment, a
 * referral code made, an upload saved). The action is already committed and a sweep finds its work
 * anyway, so the enqueue must never fail or hold the answer: a fail-fast Redis connection, a short
 * timeout, and a warning instead of an error.
 */
import type { Queue } from 'bullmq';
import { loggerFor } from '../logger.server';
import { createMetafieldQueue } from '../../workers/handlers/metafield-sync';
import { failFastOptions, queueSettings } from './webhook-queue.server';

/**
 * Resolves true when `add` finished within `timeoutMs`; otherwise logs a warning (with `log`'s ids,
 * never personal data) and resolves false.
 */
export async function enqueueFromWeb(
  add: () => Promise<unknown>,
  context: { log: Record<string, unknown>; what: string; timeoutMs?: number },
): Promise<boolean> {
  const timeoutMs = context.timeoutMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      add(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return true;
  } catch (error) {
    loggerFor(context.log).warn(
      { err: (error as Error).message },
      `could not enqueue ${context.what}; the sweep will`,
    );
    return false;
  } finally {
    clearTimeout(timer);
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
