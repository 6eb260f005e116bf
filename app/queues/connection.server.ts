/**
 * Redis connections, as options BullMQ opens (and closes with its queue or worker). The web process
 * enqueues with a connection that fails fast (no offline queue, one retry) so a dead Redis never
 * holds a webhook answer past its budget; workers use blocking connections as BullMQ requires
 * (maxRetriesPerRequest: null).
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { env } from '../env.server';

export interface QueueSettings {
  redisUrl: string;
  prefix: string;
}

export function queueSettings(): QueueSettings {
  const { REDIS_URL, QUEUE_PREFIX } = env();
  return { redisUrl: REDIS_URL, prefix: QUEUE_PREFIX };
}

/** ioredis options for a redis:// or rediss:// URL (user, password, database number, TLS). */
export function redisOptions(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.replace(/^\//, '');
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(db && { db: Number(db) }),
    ...(url.protocol === 'rediss:' && { tls: {} }),
  };
}

/**
 * Options for the request path: errors surface at once instead of queueing in memory, so a dead
 * Redis costs a webhook answer at most the enqueue timeout.
 */
export function failFastOptions(redisUrl: string): RedisOptions {
  return {
    ...redisOptions(redisUrl),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
  };
}

/** Options for workers (blocking commands; BullMQ needs maxRetriesPerRequest null). */
export function workerOptions(redisUrl: string): RedisOptions {
  return { ...redisOptions(redisUrl), maxRetriesPerRequest: null };
}

/**
 * Runs `add` (a Redis command), rejecting if Redis has not answered within `timeoutMs`: the request
 * path's budget for an enqueue whose work something else (a sweep, the reconciler) would find.
 */
export async function addWithin(add: () => Promise<unknown>, timeoutMs: number): Promise<void> {
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
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A BullMQ queue under the deployment's prefix, opening its own connection from `connection` and
 * closing it with the queue. Connection errors are expected while Redis is down; callers see them
 * as failed commands, so the queue's own error events are dropped.
 */
export function openQueue(
  name: string,
  settings: QueueSettings,
  connection: RedisOptions,
  defaultJobOptions: JobsOptions,
): Queue {
  const queue = new Queue(name, { connection, prefix: settings.prefix, defaultJobOptions });
  queue.on('error', () => {});
  return queue;
}
