import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findCustomerByExternalId } from '../app/models/customers.server';
import { getInboxRow, recordDelivery } from '../app/models/inbox.server';
import { balanceOf, entriesFor } from '../app/models/ledger.server';
import { publishProgram } from '../app/models/programs.server';
import { ensureShop, type Shop } from '../app/models/shops.server';
import { referenceProgram } from '../loyalty/program';
import { orderPayload } from '../tests/fixtures/shopify';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { obliterateWorkerQueues } from '../tests/helpers/pipeline';
import { createWebhookQueue, enqueueInboxRows } from '../app/queues/webhook-queue.server';
import { type QueueSettings } from '../app/queues/connection.server';
import { startWorkers, workerErrorListener, type WorkerRuntime } from './runtime.server';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let handle: TestDatabase;
let settings: QueueSettings;
let queue: Queue;
let runtime: WorkerRuntime;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  // A Redis Cluster hash tag, as docs/scaling.md asks of deployments on Cluster: every key of
  // every queue in one slot. On this single node it must work exactly like a plain prefix.
  settings = { redisUrl: REDIS_URL, prefix: `{test-${randomUUID()}}` };
  queue = createWebhookQueue(settings);
  runtime = await startWorkers({
    db: handle.db,
    queue: settings,
    concurrency: 4,
    reconcileAfterMs: 300,
    reconcileEveryMs: 250,
    lockMs: 1_000,
  });
  await runtime.ready;
});

afterAll(async () => {
  await runtime?.close();
  await queue?.close();
  // Every queue the runtime made (webhooks, metafield sync, redemptions) and their schedules.
  await obliterateWorkerQueues(settings);
  await handle?.close();
});

let nextId = 8_100_000_000_000;
const id = () => ++nextId;

async function newShop(): Promise<Shop> {
  const shop = await ensureShop(handle.db, {
    domain: `rt-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  await publishProgram(handle.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  return shop;
}

async function record(shopDomain: string, payload: unknown, topic = 'orders/paid') {
  const { id: inboxId } = await recordDelivery(handle.db, {
    shopDomain,
    webhookId: randomUUID(),
    topic,
    payload: JSON.parse(JSON.stringify(payload)),
  });
  return inboxId;
}

async function waitForStatus(inboxId: number, status: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await getInboxRow(handle.db, inboxId);
    if (row?.status === status) return row;
    if (Date.now() > deadline) {
      throw new Error(`inbox row ${inboxId} is ${row?.status} (${row?.lastError}), not ${status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function pointsOf(shop: Shop, externalId: number) {
  const customer = await findCustomerByExternalId(handle.db, shop.id, String(externalId));
  return customer ? (await balanceOf(handle.db, shop.id, customer.id)).balance : 0;
}

const order120 = (customer: number) =>
  orderPayload({ id: id(), customer: { id: customer }, lineItems: [{ price: '120.00' }] });

describe('worker runtime', () => {
  it('processes an enqueued delivery into the ledger', async () => {
    const shop = await newShop();
    const customer = id();
    const inboxId = await record(shop.domain, order120(customer));
    expect(
      await enqueueInboxRows([{ id: inboxId, shopDomain: shop.domain, topic: 'orders/paid' }], {
        queue,
      }),
    ).toBe(true);
    await waitForStatus(inboxId, 'processed');
    expect(await pointsOf(shop, customer)).toBe(90);
  });

  it('many deliveries of one order processed concurrently award once', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer);
    const ids = await Promise.all(Array.from({ length: 12 }, () => record(shop.domain, order)));
    await Promise.all(
      ids.map((inboxId) =>
        enqueueInboxRows([{ id: inboxId, shopDomain: shop.domain, topic: 'orders/paid' }], {
          queue,
        }),
      ),
    );
    await Promise.all(ids.map((inboxId) => waitForStatus(inboxId, 'processed')));
    expect(await pointsOf(shop, customer)).toBe(90);
    const c = await findCustomerByExternalId(handle.db, shop.id, String(customer));
    expect(await entriesFor(handle.db, shop.id, c!.id)).toHaveLength(1);
  });

  it('a permanent failure dead-letters at once (no retries) with the reason', async () => {
    const shop = await newShop();
    const inboxId = await record(shop.domain, { id: 'not an order' });
    await enqueueInboxRows([{ id: inboxId, shopDomain: shop.domain, topic: 'orders/paid' }], {
      queue,
    });
    const row = await waitForStatus(inboxId, 'dead');
    expect(row.attempts).toBe(1);
    expect(row.lastError).toMatch(/invalid order payload/);
    const job = await queue.getJob(`inbox-${inboxId}`);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
  });

  it('a delivery for a shop not installed yet is parked, and processed once the shop exists', async () => {
    const domain = `late-${randomUUID().slice(0, 8)}.myshopify.com`;
    const customer = id();
    const inboxId = await record(domain, order120(customer));
    await enqueueInboxRows([{ id: inboxId, shopDomain: domain, topic: 'orders/paid' }], { queue });
    const parked = await waitForStatus(inboxId, 'parked');
    expect(parked).toMatchObject({ attempts: 1 });
    expect(parked.lastError).toMatch(/is not installed yet/);
    // Parked, not failed: no retries are spent while the shop is missing.
    expect(await (await queue.getJob(`inbox-${inboxId}`))?.getState()).not.toBe('failed');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await getInboxRow(handle.db, inboxId))?.status).toBe('parked');

    // Whatever creates the shop row (install, `loyalty import`): the reconciler replays the row.
    const shop = await ensureShop(handle.db, { domain });
    await publishProgram(handle.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
    const row = await waitForStatus(inboxId, 'processed', 15_000);
    expect(row.lastError).toBeNull();
    expect(await pointsOf(shop, customer)).toBe(90);
  });

  it('a transient failure is retried on the capped schedule until it succeeds', async () => {
    const shop = await newShop();
    const customer = id();
    // The handler's table is missing for a moment (42P01: neither a bad payload nor permanent).
    await handle.db.execute(sql`ALTER TABLE orders RENAME TO orders_away`);
    let renamed = true;
    try {
      const inboxId = await record(shop.domain, order120(customer));
      await enqueueInboxRows([{ id: inboxId, shopDomain: shop.domain, topic: 'orders/paid' }], {
        queue,
      });
      const deadline = Date.now() + 5_000;
      while ((await getInboxRow(handle.db, inboxId))!.attempts === 0) {
        if (Date.now() > deadline) throw new Error('no attempt was made');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const failed = await getInboxRow(handle.db, inboxId);
      expect(failed).toMatchObject({ status: 'received' });
      expect(failed!.lastError).toMatch(/orders/);
      const job = await queue.getJob(`inbox-${inboxId}`);
      expect(job?.opts).toMatchObject({ attempts: 26, backoff: { type: 'capped-exponential' } });
      await handle.db.execute(sql`ALTER TABLE orders_away RENAME TO orders`);
      renamed = false;
      const row = await waitForStatus(inboxId, 'processed', 15_000);
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(await pointsOf(shop, customer)).toBe(90);
    } finally {
      if (renamed) await handle.db.execute(sql`ALTER TABLE orders_away RENAME TO orders`);
    }
  });

  it('the reconciler processes rows that were never enqueued, and after the queue lost everything', async () => {
    const shop = await newShop();
    const first = id();
    // Accepted while Redis was down: the row exists, the job does not.
    const orphan = await record(shop.domain, order120(first));
    await waitForStatus(orphan, 'processed');
    expect(await pointsOf(shop, first)).toBe(90);

    // Redis loses its data (this test's keys only: the Redis is shared with other tests).
    await queue.obliterate({ force: true });
    const second = id();
    const lost = await record(shop.domain, order120(second));
    await waitForStatus(lost, 'processed', 15_000);
    expect(await pointsOf(shop, second)).toBe(90);
    expect(await queue.getJobSchedulersCount()).toBe(1);
  });
});

describe('a job per group commit (process-inbox-batch)', () => {
  // Its own runtime, with a reconciler that waits a minute: every row here must reach the ledger
  // through the batch job or the hand-off of its failed rows, not through the reconciler.
  let batchSettings: QueueSettings;
  let batchQueue: Queue;
  let batchRuntime: WorkerRuntime;
  beforeAll(async () => {
    batchSettings = { redisUrl: REDIS_URL, prefix: `test-batch-${randomUUID()}` };
    batchQueue = createWebhookQueue(batchSettings);
    batchRuntime = await startWorkers({
      db: handle.db,
      queue: batchSettings,
      concurrency: 4,
      reconcileAfterMs: 60_000,
      reconcileEveryMs: 60_000,
      lockMs: 1_000,
    });
    await batchRuntime.ready;
  });
  afterAll(async () => {
    await batchRuntime?.close();
    await batchQueue?.close();
    await obliterateWorkerQueues(batchSettings);
  });

  const enqueueAll = (rows: { id: number; shopDomain: string }[]) =>
    enqueueInboxRows(
      rows.map((row) => ({ ...row, topic: 'orders/paid' })),
      { queue: batchQueue },
    );

  it('one job carries the rows of a commit; each is processed, the bad one dead-lettered alone', async () => {
    const shop = await newShop();
    const customers = [id(), id(), id()];
    const good = await Promise.all(customers.map((c) => record(shop.domain, order120(c))));
    const bad = await record(shop.domain, { id: 'not an order' });
    const rows = [...good, bad].map((inboxId) => ({ id: inboxId, shopDomain: shop.domain }));
    expect(await enqueueAll(rows)).toBe(true);
    const batchId = `inbox-batch-${Math.min(...rows.map((r) => r.id))}`;
    expect(await batchQueue.getJob(batchId)).toBeDefined();
    expect(await batchQueue.getJob(`inbox-${good[0]}`)).toBeUndefined();

    for (const inboxId of good) await waitForStatus(inboxId, 'processed');
    const dead = await waitForStatus(bad, 'dead');
    expect(dead.lastError).toMatch(/invalid order payload/);
    for (const c of customers) expect(await pointsOf(shop, c)).toBe(90);
    // The batch job completed (and was removed); nothing failed, nothing was handed on.
    expect((await batchQueue.getJobCounts('failed')).failed).toBe(0);
    expect(await batchQueue.getJob(`inbox-${bad}`)).toBeUndefined();
  });

  it('a row that fails for a passing reason continues as its own job on the retry schedule', async () => {
    const shop = await newShop();
    const customers = [id(), id()];
    await handle.db.execute(sql`ALTER TABLE orders RENAME TO orders_away`);
    let renamed = true;
    try {
      const ids = await Promise.all(customers.map((c) => record(shop.domain, order120(c))));
      await enqueueAll(ids.map((inboxId) => ({ id: inboxId, shopDomain: shop.domain })));
      // Each failed row is handed on: a job of its own, delayed by the schedule's first step.
      for (const inboxId of ids) {
        const deadline = Date.now() + 5_000;
        let job = await batchQueue.getJob(`inbox-${inboxId}`);
        while (!job) {
          if (Date.now() > deadline) throw new Error(`row ${inboxId} was not handed on`);
          await new Promise((resolve) => setTimeout(resolve, 50));
          job = await batchQueue.getJob(`inbox-${inboxId}`);
        }
        expect(job.opts).toMatchObject({ delay: 1_000, attempts: 26 });
        const row = await getInboxRow(handle.db, inboxId);
        expect(row).toMatchObject({ status: 'received', attempts: 1 });
        expect(row!.lastError).toMatch(/orders/);
      }
      await handle.db.execute(sql`ALTER TABLE orders_away RENAME TO orders`);
      renamed = false;
      for (const inboxId of ids) await waitForStatus(inboxId, 'processed', 15_000);
      for (const c of customers) expect(await pointsOf(shop, c)).toBe(90);
    } finally {
      if (renamed) await handle.db.execute(sql`ALTER TABLE orders_away RENAME TO orders`);
    }
  });

  it('a batch job whose data is malformed fails once, unretried, naming why; no row is touched', async () => {
    const shop = await newShop();
    const untouched = await record(shop.domain, order120(id()));
    const job = await batchQueue.add('process-inbox-batch', { inboxIds: [] });
    const deadline = Date.now() + 5_000;
    while ((await job.getState()) !== 'failed') {
      if (Date.now() > deadline) throw new Error(`the job is ${await job.getState()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const failed = (await batchQueue.getJob(job.id!))!;
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/^malformed job data/);
    expect(await getInboxRow(handle.db, untouched)).toMatchObject({
      status: 'received',
      attempts: 0,
    });
  });

  it('a row whose shop is not installed is parked, the rest of its batch processed', async () => {
    const shop = await newShop();
    const customer = id();
    const domain = `late-${randomUUID().slice(0, 8)}.myshopify.com`;
    const installed = await record(shop.domain, order120(customer));
    const early = await record(domain, order120(id()));
    await enqueueAll([
      { id: installed, shopDomain: shop.domain },
      { id: early, shopDomain: domain },
    ]);
    await waitForStatus(installed, 'processed');
    const parked = await waitForStatus(early, 'parked');
    expect(parked.lastError).toMatch(/is not installed yet/);
    expect(await pointsOf(shop, customer)).toBe(90);
    expect(await batchQueue.getJob(`inbox-${early}`)).toBeUndefined();
  });
});

describe('queue keys under a hash-tagged prefix', () => {
  it('puts every key of every queue the runtime made in one Redis Cluster slot', async () => {
    const tag = settings.prefix.slice(1, -1);
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    try {
      await redis.connect();
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `*${tag}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      // The tests above ran deliveries, retries and the reconciler: webhooks, the metafield sync,
      // redemptions and the rest all left keys.
      const queues = new Set(keys.map((key) => key.split(':')[1]));
      expect(queues.size).toBeGreaterThanOrEqual(3);
      expect(keys.every((key) => key.startsWith(`${settings.prefix}:`))).toBe(true);
      expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
      // Without the braces the same keys would spread over many slots: the tag is what holds
      // them together.
      const untagged = keys.map((key) => key.replace(settings.prefix, tag));
      expect(new Set(untagged.map((key) => calculateSlot(key))).size).toBeGreaterThan(1);
    } finally {
      redis.disconnect();
    }
  });
});

describe('worker error log', () => {
  it('a job Redis lost (FLUSHALL) is logged at info as harmless, not as a connection error', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const listener = workerErrorListener(log);
    listener(new Error('Missing key for job inbox-42. moveToFinished'));
    // A flush with many jobs in flight: one line, then the count of the ones left out.
    listener(new Error('Missing key for job inbox-43. moveToFinished'));
    listener(new Error('Missing lock for job inbox-44. moveToFinished'));
    listener(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        jobId: 'inbox-42',
        skipped: 0,
        msg: expect.stringMatching(/^job finished after Redis lost it .*harmless/),
      }),
      expect.objectContaining({
        level: 40,
        jobId: 'inbox-44',
        msg: expect.stringMatching(/lost its lock .*harmless/),
      }),
      expect.objectContaining({ level: 40, msg: 'worker connection error (retrying)' }),
    ]);
  });
});
