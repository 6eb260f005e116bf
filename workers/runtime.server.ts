/**
 * The worker runtime: BullMQ workers for the webhook queue, the reconciler schedule, graceful close.
 * Used by `npm run worker` (workers/main.ts) and, with INLINE_WORKERS, by the web process.
 * (Being written: the signature is the contract.)
 */
import type { Database } from '../db/client.server';
import type { QueueSettings } from './queue.server';

export interface StartWorkersOptions {
  /** Default: the process database (app/db.server.ts getDatabase()). */
  db?: Database;
  /** Default: queueSettings() from env (REDIS_URL, QUEUE_PREFIX). */
  queue?: QueueSettings;
  /** Default: env WORKER_CONCURRENCY. */
  concurrency?: number;
}

export interface WorkerRuntime {
  /** Stops taking jobs, waits for the active ones, closes the Redis connections. */
  close(): Promise<void>;
}

export async function startWorkers(_options: StartWorkersOptions = {}): Promise<WorkerRuntime> {
  throw new Error('startWorkers: not written yet');
}
