// Redis only carries work; the PostgreSQL inbox is the record (ADR 008). Against a private
// redis-server (the shared one is never flushed or stopped): webhooks acknowledged and then lost
// to FLUSHALL, and webhooks accepted while Redis is down, are all processed by the reconciler.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { orderPayload } from '../fixtures/shopify';
import { openStack, type Stack } from '../helpers/e2e-stack';
import {
  expectedAwardKeys,
  expectedBalances,
  orderStream,
  type StreamOrder,
} from '../helpers/order-stream';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';

let redis: RedisServer;
let stack: Stack;

beforeAll(async () => {
  redis = await startRedisServer();
  stack = await openStack({ redisUrl: redis.url });
  await stack.startWeb();
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await redis?.stop();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stdout.write(`${stack.diagnostics()}\n--- redis-server:\n${redis.output()}\n`);
  });
});

/** Rows still `received` half a second after arrival are re-enqueued, every half second. */
const FAST_RECONCILER = {
  RECONCILE_AFTER_MS: '500',
  RECONCILE_EVERY_MS: '500',
  WORKER_LOCK_MS: '1000',
};

async function expectEarnedExactly(orders: StreamOrder[], keyPrefix: string) {
  const counts = await stack.entryCountsByKey();
  const keys = [...counts].filter(([key]) => key.startsWith(keyPrefix));
  expect(keys.filter(([, n]) => n !== 1)).toEqual([]);
  expect(keys.map(([key]) => key).sort()).toEqual(expectedAwardKeys(orders));
  const balances = await stack.balances();
  for (const [customerId, points] of expectedBalances(orders)) {
    expect(balances.get(customerId), `customer ${customerId}`).toEqual({
      balance: points,
      entriesSum: points,
    });
  }
}

describe('losing Redis (private redis-server)', () => {
  it('FLUSHALL after 100 webhooks were acknowledged: the reconciler still processes every one', async () => {
    const orders = orderStream({
      count: 100,
      firstOrderId: 5_300_000_000_000,
      firstCustomerId: 7_300_000_000_000,
      customers: 30,
    });

    // No worker yet: every delivery is acknowledged, stored and enqueued, nothing processed.
    const results = await stack.postAll(
      orders.map((o) => o.delivery),
      16,
    );
    expect(results.map((r) => [r.status, r.body.duplicate])).toEqual(
      Array.from({ length: 100 }, () => [200, false]),
    );
    expect(await stack.inboxCounts()).toEqual({ received: 100, processed: 0, dead: 0 });
    // Enqueued a job per group commit: every row is in one.
    expect(await stack.pendingInboxRows()).toBe(100);

    await redis.flushAll();
    expect(await redis.dbSize()).toBe(0);
    expect(await stack.pendingJobs()).toBe(0);

    await stack.startWorker(FAST_RECONCILER);
    await stack.waitUntilSettled(30_000);

    expect(await stack.inboxCounts()).toEqual({ received: 0, processed: 100, dead: 0 });
    await expectEarnedExactly(orders, 'order:530');
  }, 60_000);

  it('webhooks accepted while Redis is down are stored (200) and processed once it is back', async () => {
    expect(stack.workers.length, 'the worker from the previous test runs on').toBe(1);
    const before = await stack.inboxCounts();
    const orders = orderStream({
      count: 30,
      firstOrderId: 5_310_000_000_000,
      firstCustomerId: 7_310_000_000_000,
      customers: 10,
    });

    await redis.stop();
    expect(redis.running).toBe(false);
    const health = await fetch(`${stack.web().url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'error', postgres: 'ok' });

    const started = performance.now();
    const results = await stack.postAll(
      orders.map((o) => o.delivery),
      4,
    );
    const elapsedMs = performance.now() - started;
    expect(results.map((r) => [r.status, r.body.duplicate])).toEqual(
      Array.from({ length: 30 }, () => [200, false]),
    );
    // Stored durably, not processed: the jobs never reached Redis. Each answer stayed far inside
    // Shopify's 5-second budget (the enqueue gives up after 500 ms).
    expect(await stack.inboxCounts()).toEqual({ ...before, received: 30 });
    expect(elapsedMs / (30 / 4)).toBeLessThan(2_000);

    // Back, empty (no persistence): the worker reconnects, re-asserts the reconciler's schedule
    // and the reconciler enqueues the 30 rows.
    await redis.start();
    await stack.waitUntilSettled(30_000);

    expect(await stack.inboxCounts()).toEqual({
      received: 0,
      processed: before.processed + 30,
      dead: 0,
    });
    await expectEarnedExactly(orders, 'order:531');

    // The web process's own Redis connection is back too: a new delivery is enqueued at once,
    // not left for the reconciler.
    const [late] = orderStream({
      count: 1,
      firstOrderId: 5_319_000_000_000,
      firstCustomerId: 7_319_000_000_000,
      customers: 1,
    });
    // One failed enqueue per group commit, naming the rows it carried: the 30 between them.
    const rowsNotEnqueued = () =>
      stack
        .web()
        .logLines()
        .filter((l) => l.msg === 'enqueue failed; the reconciler will pick the inbox rows up')
        .flatMap((l) => l.inboxIds as number[]);
    expect(new Set(rowsNotEnqueued()).size).toBe(30);
    expect(rowsNotEnqueued()).toHaveLength(30);
    expect((await stack.post(late!.delivery)).status).toBe(200);
    await stack.waitUntilSettled(10_000);
    expect(rowsNotEnqueued()).toHaveLength(30);
    await expectEarnedExactly([late!], 'order:5319');
  }, 60_000);

  it('FLUSHALL while a worker holds a job: logged at info as harmless, not as a connection error', async () => {
    for (const other of stack.workers) {
      if (other.child.exitCode === null && other.child.signalCode === null) await other.stop();
    }
    const worker = await stack.startWorker({ ...FAST_RECONCILER, LOG_LEVEL: 'info' });
    const before = await stack.inboxCounts();
    const orderId = 5_320_000_000_001;
    // The test holds the order's advisory lock (app/models/orders.server.ts lockOrders), so the
    // worker sits inside its transaction with the job active while Redis is flushed.
    const locker = postgres(stack.db.url!, { max: 1, onnotice: () => {} });
    const key = [stack.shop.id, String(orderId)] as const;
    try {
      await locker`SELECT pg_advisory_lock(${key[0]}::int, hashtext(${key[1]}))`;
      const delivery = {
        topic: 'orders/paid',
        payload: orderPayload({
          id: orderId,
          customer: { id: 7_320_000_000_001 },
          subtotal: '120.00',
        }),
        webhookId: randomUUID(),
      };
      expect((await stack.post(delivery)).status).toBe(200);
      await stack.waitFor(
        'the job to be active',
        async () => (await stack.queue.getActiveCount()) === 1,
      );
      await redis.flushAll();
      await locker`SELECT pg_advisory_unlock(${key[0]}::int, hashtext(${key[1]}))`;
    } finally {
      await locker.end({ timeout: 1 });
    }
    await stack.waitUntilSettled(15_000);
    expect(await stack.inboxCounts()).toEqual({ ...before, processed: before.processed + 1 });
    expect((await stack.entryCountsByKey()).get(`order:${orderId}:earn`)).toBe(1);

    await stack.waitFor('the lost job to be logged', async () =>
      worker.logLines().some((l) => String(l.msg).startsWith('job finished after Redis lost it')),
    );
    const lost = worker
      .logLines()
      .filter((l) => String(l.err ?? '').startsWith('Missing key for job'));
    expect(lost.length).toBeGreaterThan(0);
    for (const line of lost) {
      expect(line).toMatchObject({ level: 30, msg: expect.stringMatching(/harmless/) });
    }
  }, 60_000);
});
