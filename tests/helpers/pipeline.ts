/**
 * A test's own slice of the webhook pipeline: a fresh migrated database and a BullMQ queue with its
 * own prefix, both made the process's (useDatabase/useWebhookQueue) so routes called directly use
 * them. close() forgets them, obliterates the worker's queues and drops the database.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Queue } from 'bullmq';
import { asc } from 'drizzle-orm';
import { useDatabase } from '../../app/db.server';
import { webhookInbox } from '../../db/schema';
import {
  IMPORT_QUEUE,
  LIFECYCLE_QUEUE,
  METAFIELD_QUEUE,
  REDEMPTION_QUEUE,
  TIER_QUEUE,
  WEBHOOK_QUEUE,
} from '../../app/queues/jobs';
import { createWebhookQueue, useWebhookQueue } from '../../app/queues/webhook-queue.server';
import { failFastOptions, type QueueSettings } from '../../app/queues/connection.server';
import { createTestDatabase, type TestDatabase } from './db';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Removes everything the worker's queues hold under `settings.prefix`: the webhooks and the
 * metafield sync (whose sweep reschedules itself, so it outlives the test unless removed). Tries
 * both, then throws the first failure.
 */
export async function obliterateWorkerQueues(settings: QueueSettings): Promise<void> {
  const failures: unknown[] = [];
  for (const name of [
    WEBHOOK_QUEUE,
    METAFIELD_QUEUE,
    REDEMPTION_QUEUE,
    TIER_QUEUE,
    IMPORT_QUEUE,
    LIFECYCLE_QUEUE,
  ]) {
    const queue = new Queue(name, {
      connection: failFastOptions(settings.redisUrl),
      prefix: settings.prefix,
    });
    queue.on('error', () => {});
    try {
      await queue.obliterate({ force: true });
    } catch (error) {
      failures.push(error);
    } finally {
      await queue.close().catch(() => undefined);
    }
  }
  if (failures.length > 0) throw failures[0];
}

export interface Pipeline {
  db: TestDatabase;
  queue: Queue;
  prefix: string;
  /** Every inbox row, oldest first. */
  inbox(): Promise<(typeof webhookInbox.$inferSelect)[]>;
  /** Jobs in the queue in any state. */
  jobTotal(): Promise<number>;
  close(): Promise<void>;
}

export async function openPipeline(
  options: { kind?: 'postgres' | 'pglite'; queue?: Queue } = {},
): Promise<Pipeline> {
  const db = await createTestDatabase(options.kind ?? 'postgres');
  const prefix = `test-${randomUUID()}`;
  const queue = options.queue ?? createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix });
  useDatabase(db);
  useWebhookQueue(queue);
  return {
    db,
    queue,
    prefix,
    inbox: () => db.db.select().from(webhookInbox).orderBy(asc(webhookInbox.id)),
    async jobTotal() {
      const counts = await queue.getJobCounts();
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async close() {
      useWebhookQueue(undefined);
      useDatabase(undefined);
      try {
        if (!options.queue) await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix });
      } finally {
        await queue.close();
        await db.close();
      }
    },
  };
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
