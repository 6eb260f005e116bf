/**
 * One end-to-end test file's whole Laurel: its own PostgreSQL database with an installed shop on
 * the reference program, its own BullMQ prefix (on the shared Redis or a private redis-server),
 * the built web server and any number of worker processes as children, and signed HTTP deliveries.
 *
 *   const stack = await openStack({ redisUrl });        // db + shop + program + queue
 *   await stack.startWeb();
 *   await stack.startWorker({ WORKER_LOCK_MS: '1000' });
 *   await stack.post({ topic: 'orders/paid', payload, webhookId });
 *   await stack.waitUntilSettled();                     // no `received` rows, no pending jobs
 *   await stack.close();                                // children, queue, database
 *
 * Every wait fails with what it saw and the tail of each child's output.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { balanceOf, sumOfEntries } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { customers, ledgerEntries, webhookInbox } from '../../db/schema';
import { referenceProgram } from '../../loyalty/program';
import { processInboxBatchJob, processInboxJob } from '../../app/queues/jobs';
import { createWebhookQueue } from '../../app/queues/webhook-queue.server';
import { signedWebhook } from '../fixtures/shopify';
import { ensureAppBuilt, startAppProcess, type AppProcess } from './app-server';
import { createTestDatabase, type TestDatabase } from './db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from './pipeline';
import { ensureWorkerBuilt, startWorkerProcess, type WorkerProcess } from './worker-process';

/** The app secret the web child verifies HMACs with (SHOPIFY_API_SECRET). */
export const E2E_SECRET = 'laurel-e2e-secret';
export const E2E_SHOP = 'laurel-e2e.myshopify.com';

/** One webhook delivery: the same webhookId and payload is the same delivery retried. */
export interface Delivery {
  topic: string;
  payload: unknown;
  webhookId: string;
}

export interface PostResult {
  status: number;
  body: { ok?: boolean; duplicate?: boolean; error?: string };
}

export interface InboxCounts {
  received: number;
  processed: number;
  dead: number;
}

export interface CustomerBalance {
  /** customer_balances, the projection. */
  balance: number;
  /** Σ ledger entries. */
  entriesSum: number;
}

export interface Stack {
  db: TestDatabase;
  shop: Shop;
  prefix: string;
  redisUrl: string;
  /** The webhook queue under this stack's prefix (fail-fast connection), for inspection. */
  queue: Queue;
  web(): AppProcess;
  workers: WorkerProcess[];
  startWeb(env?: Record<string, string>): Promise<AppProcess>;
  /** Starts `node dist/worker.mjs` and waits until it is registered on the queue. */
  startWorker(
    env?: Record<string, string>,
    options?: { waitReady?: boolean },
  ): Promise<WorkerProcess>;
  post(delivery: Delivery): Promise<PostResult>;
  /** Every delivery, at most `concurrency` in flight; results in the deliveries' order. */
  postAll(deliveries: readonly Delivery[], concurrency: number): Promise<PostResult[]>;
  inboxCounts(): Promise<InboxCounts>;
  /** Jobs that will still run: inbox jobs (a row's or a commit's) waiting, active, delayed or prioritized. */
  pendingJobs(): Promise<number>;
  /** Distinct inbox rows those jobs carry (a commit's job carries several). */
  pendingInboxRows(): Promise<number>;
  /** Polls `check` until it returns true; on timeout fails with `describe()` and the children's output. */
  waitFor(
    what: string,
    check: () => Promise<boolean>,
    options?: { timeoutMs?: number; describe?: () => Promise<string> },
  ): Promise<void>;
  /** Waits until the inbox has no `received` row and no job is pending. */
  waitUntilSettled(timeoutMs?: number): Promise<void>;
  /** Balance (projection and Σ entries) of every customer of the shop, by Shopify customer id. */
  balances(): Promise<Map<string, CustomerBalance>>;
  /** Ledger entries per idempotency key (to find a key posted twice). */
  entryCountsByKey(): Promise<Map<string, number>>;
  /** The tail of every child's stdout and stderr. */
  diagnostics(): string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Default: the shared test Redis (TEST_REDIS_URL). */
  redisUrl?: string;
  /** The PostgreSQL server to create the database on (a private cluster); default the shared one. */
  adminDatabaseUrl?: string;
}

const tail = (text: string, chars = 4_000) =>
  text.length > chars ? `…${text.slice(-chars)}` : text;

export async function openStack(options: StackOptions = {}): Promise<Stack> {
  await ensureAppBuilt();
  await ensureWorkerBuilt();
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const db = await createTestDatabase('postgres', {
    max: 4,
    ...(options.adminDatabaseUrl && { adminUrl: options.adminDatabaseUrl }),
  });
  const prefix = `test-${randomUUID()}`;
  const queue = createWebhookQueue({ redisUrl, prefix });
  let shop: Shop;
  try {
    shop = await ensureShop(db.db, { domain: E2E_SHOP, currency: 'USD', timezone: 'UTC' });
    await publishProgram(db.db, shop.id, referenceProgram, new Date('2020-01-01T00:00:00Z'));
  } catch (error) {
    await queue.close().catch(() => undefined);
    await db.close();
    throw error;
  }

  let web: AppProcess | undefined;
  const workers: WorkerProcess[] = [];
  const baseEnv = () => ({
    DATABASE_URL: db.url!,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  });

  const diagnostics = () => {
    const parts: string[] = [];
    if (web) {
      parts.push(`--- web (pid ${web.pid}) stderr:\n${tail(web.stderr())}`);
      parts.push(`--- web stdout:\n${tail(web.stdout())}`);
    }
    workers.forEach((w, i) => {
      parts.push(`--- worker ${i + 1} (pid ${w.pid}) stderr:\n${tail(w.stderr())}`);
      parts.push(`--- worker ${i + 1} stdout:\n${tail(w.stdout())}`);
    });
    return parts.join('\n');
  };

  const inboxCounts = async (): Promise<InboxCounts> => {
    const rows = await db.db
      .select({ status: webhookInbox.status, n: sql<number>`count(*)::int` })
      .from(webhookInbox)
      .groupBy(webhookInbox.status);
    const counts: InboxCounts = { received: 0, processed: 0, dead: 0 };
    for (const row of rows) counts[row.status as keyof InboxCounts] = row.n;
    return counts;
  };

  // A row's own job, or its commit's (the web enqueues one job per group commit).
  const inboxJobNames = new Set([processInboxJob.name, processInboxBatchJob.name]);
  const inboxJobs = async () =>
    (await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'paused'])).filter(
      (job) => job && inboxJobNames.has(job.name),
    );
  const pendingJobs = async () => (await inboxJobs()).length;
  const pendingInboxRows = async () => {
    const ids = new Set<number>();
    for (const job of await inboxJobs()) {
      const data = job.data as { inboxId?: number; inboxIds?: number[] };
      for (const id of data.inboxIds ?? [data.inboxId!]) ids.add(id);
    }
    return ids.size;
  };

  const waitFor: Stack['waitFor'] = async (what, check, waitOptions = {}) => {
    const timeoutMs = waitOptions.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        if (await check()) return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        const seen = waitOptions.describe ? await waitOptions.describe().catch(String) : '';
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}${seen ? `: ${seen}` : ''}` +
            `${lastError ? `\nlast error: ${String(lastError)}` : ''}\n${diagnostics()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const post = async (delivery: Delivery): Promise<PostResult> => {
    if (!web) throw new Error('startWeb() first');
    const { body, headers } = signedWebhook({
      topic: delivery.topic,
      shop: E2E_SHOP,
      secret: E2E_SECRET,
      payload: delivery.payload,
      webhookId: delivery.webhookId,
      // A retried delivery keeps its event id, as Shopify's do.
      eventId: `event-${delivery.webhookId}`,
    });
    const response = await fetch(`${web.url}/webhooks/${delivery.topic}`, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    let parsed: PostResult['body'];
    try {
      parsed = JSON.parse(text) as PostResult['body'];
    } catch {
      parsed = { error: text.slice(0, 300) };
    }
    return { status: response.status, body: parsed };
  };

  return {
    db,
    shop,
    prefix,
    redisUrl,
    queue,
    workers,
    web() {
      if (!web) throw new Error('startWeb() first');
      return web;
    },
    async startWeb(env = {}) {
      web = await startAppProcess({
        env: { ...baseEnv(), SHOPIFY_API_SECRET: E2E_SECRET, ...env },
      });
      return web;
    },
    async startWorker(env = {}, startOptions = {}) {
      const worker = await startWorkerProcess({
        env: { ...baseEnv(), ...env },
        ...((startOptions.waitReady ?? true) && { queue }),
      });
      workers.push(worker);
      return worker;
    },
    post,
    async postAll(deliveries, concurrency) {
      const results = new Array<PostResult>(deliveries.length);
      let next = 0;
      const lane = async () => {
        while (next < deliveries.length) {
          const i = next++;
          results[i] = await post(deliveries[i]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, deliveries.length) }, lane));
      return results;
    },
    inboxCounts,
    pendingJobs,
    pendingInboxRows,
    waitFor,
    async waitUntilSettled(timeoutMs = 60_000) {
      await waitFor(
        'every inbox row processed and the queue drained',
        async () => (await inboxCounts()).received === 0 && (await pendingJobs()) === 0,
        {
          timeoutMs,
          describe: async () =>
            `inbox ${JSON.stringify(await inboxCounts())}, pending jobs ${await pendingJobs()}, job counts ${JSON.stringify(await queue.getJobCounts())}`,
        },
      );
    },
    async balances() {
      const rows = await db.db
        .select({ id: customers.id, externalId: customers.externalId })
        .from(customers)
        .where(eq(customers.shopId, shop.id));
      const result = new Map<string, CustomerBalance>();
      for (const row of rows) {
        const projection = await balanceOf(db.db, shop.id, row.id);
        const entries = await sumOfEntries(db.db, shop.id, row.id);
        result.set(row.externalId, { balance: projection.balance, entriesSum: entries.balance });
      }
      return result;
    },
    async entryCountsByKey() {
      const rows = await db.db
        .select({ key: ledgerEntries.idempotencyKey, n: sql<number>`count(*)::int` })
        .from(ledgerEntries)
        .where(eq(ledgerEntries.shopId, shop.id))
        .groupBy(ledgerEntries.idempotencyKey);
      return new Map(rows.map((r) => [r.key, r.n]));
    },
    diagnostics,
    async close() {
      const children = [...workers, ...(web ? [web] : [])];
      await Promise.all(children.map((child) => child.stop('SIGKILL').catch(() => undefined)));
      try {
        await obliterateWorkerQueues({ redisUrl, prefix });
      } catch {
        // A private Redis may already be stopped; its keys die with it.
      } finally {
        await queue.close().catch(() => undefined);
        await db.close();
      }
    },
  };
}
