// PostgreSQL restarted under load (issue 8, findings 14 and 16): against a private cluster (the
// shared one is never restarted), the web process and two workers keep running through immediate
// restarts, webhook commits resume promptly once the database is back, and every order earns
// exactly once.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStack, type Delivery, type PostResult, type Stack } from '../helpers/e2e-stack';
import { expectedAwardKeys, expectedBalances, orderStream } from '../helpers/order-stream';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server';

let postgresServer: PostgresServer;
let stack: Stack;

/** Rows still `received` a second after arrival are re-enqueued, every second. */
const FAST_RECONCILER = {
  RECONCILE_AFTER_MS: '1000',
  RECONCILE_EVERY_MS: '1000',
  WORKER_LOCK_MS: '2000',
};
/** Shopify gives up on an answer after 5 s and retries the delivery later. */
const SHOPIFY_TIMEOUT_MS = 5_000;

beforeAll(async () => {
  postgresServer = await startPostgresServer();
  stack = await openStack({ adminDatabaseUrl: postgresServer.adminUrl });
  await stack.startWeb();
  await stack.startWorker(FAST_RECONCILER);
  await stack.startWorker(FAST_RECONCILER);
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await postgresServer?.destroy();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stdout.write(
      `${stack.diagnostics()}\n--- postgres (private cluster):\n${postgresServer.output()}\n`,
    );
  });
});

/** Posts like Shopify: a delivery not answered 200 (error, 5xx, no answer in 5 s) is sent again. */
async function deliverUntilAccepted(
  delivery: Delivery,
  accepted: (at: number) => void,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    let result: PostResult | undefined;
    try {
      result = await Promise.race([
        stack.post(delivery),
        sleep(SHOPIFY_TIMEOUT_MS).then(() => undefined),
      ]);
    } catch {
      // Connection refused or reset: the web process itself would be gone (checked below).
    }
    if (result?.status === 200) {
      accepted(performance.now());
      return attempt;
    }
    await sleep(50);
  }
}

describe('PostgreSQL restarted under load (private cluster)', () => {
  it('web and workers stay up through immediate restarts, commits resume promptly, every order earns once', async () => {
    const orders = orderStream({
      count: 600,
      firstOrderId: 5_600_000_000_000,
      firstCustomerId: 7_600_000_000_000,
      customers: 40,
    });
    // Each delivery twice, as Shopify may send it: the second is a duplicate, never a second award.
    const deliveries = [...orders, ...orders].map((o) => o.delivery);
    let lastAccepted = 0;
    let next = 0;
    const lane = async () => {
      while (next < deliveries.length) {
        await deliverUntilAccepted(deliveries[next++]!, (at) => (lastAccepted = at));
        await sleep(5); // a steady stream, not a flood: the restarts must land mid-stream
      }
    };
    const posting = Promise.all(Array.from({ length: 8 }, lane));

    const recoveries: number[] = [];
    for (let restart = 0; restart < 2; restart++) {
      await stack.waitFor('deliveries flowing', async () => next > (restart + 1) * 250, {
        timeoutMs: 60_000,
      });
      await postgresServer.restart('immediate');
      const back = performance.now();
      await stack.waitFor(
        'a webhook committed after the restart',
        async () => lastAccepted > back,
        { timeoutMs: 30_000 },
      );
      recoveries.push(lastAccepted - back);
    }
    await posting;
    process.stdout.write(
      `[postgres-restart] first webhook commit after PostgreSQL was back: ${recoveries
        .map((ms) => `${Math.round(ms)} ms`)
        .join(', ')}\n`,
    );

    await stack.waitUntilSettled(90_000);

    // Every process is still the one started at the beginning.
    for (const child of [stack.web(), ...stack.workers]) {
      expect(
        { pid: child.pid, exitCode: child.child.exitCode, signal: child.child.signalCode },
        child.stderr().slice(-2_000),
      ).toEqual({ pid: child.pid, exitCode: null, signal: null });
    }
    // Connections came back well inside Shopify's timeout, not after a reconnect backoff.
    for (const ms of recoveries) expect(ms).toBeLessThan(SHOPIFY_TIMEOUT_MS);

    const inbox = await stack.inboxCounts();
    expect(inbox).toEqual({ received: 0, processed: orders.length, dead: 0 });
    const counts = await stack.entryCountsByKey();
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...counts.keys()].sort()).toEqual(expectedAwardKeys(orders));
    const balances = await stack.balances();
    for (const [customerId, points] of expectedBalances(orders)) {
      expect(balances.get(customerId), `customer ${customerId}`).toEqual({
        balance: points,
        entriesSum: points,
      });
    }
  }, 300_000);

  it('a web process and a worker started while PostgreSQL is down wait for it, then serve and process', async () => {
    await stack.web().stop();
    await Promise.all(stack.workers.map((worker) => worker.stop()));
    await postgresServer.stop('immediate');

    const worker = await stack.startWorker(FAST_RECONCILER, { waitReady: false });
    const web = stack.startWeb();
    // A loaded machine may take seconds to start a Node process: wait for its first retry line.
    const retrying =
      /"msg":"database not available yet, PostgreSQL \(127\.0\.0\.1:\d+\): retrying"/;
    await stack.waitFor('the worker retrying', async () => retrying.test(worker.stdout()), {
      timeoutMs: 30_000,
    });
    expect(worker.child.exitCode).toBeNull();

    // Back after an immediate shutdown: crash recovery first, answering 57P03 until it is done.
    await postgresServer.start({ wait: false });
    await web;
    await stack.waitFor(
      'the late worker registered on the queue',
      async () => (await stack.queue.getWorkers()).length === 1,
    );

    const orders = orderStream({
      count: 40,
      firstOrderId: 5_610_000_000_000,
      firstCustomerId: 7_610_000_000_000,
      customers: 10,
    });
    const results = await stack.postAll(
      orders.map((o) => o.delivery),
      8,
    );
    expect(results.map((r) => r.status)).toEqual(orders.map(() => 200));
    await stack.waitUntilSettled(60_000);

    expect(worker.child.exitCode).toBeNull();
    expect(worker.stderr()).toBe('');
    const counts = await stack.entryCountsByKey();
    const keys = [...counts].filter(([key]) => key.startsWith('order:561'));
    expect(keys.filter(([, n]) => n !== 1)).toEqual([]);
    expect(keys.map(([key]) => key).sort()).toEqual(expectedAwardKeys(orders));
  }, 120_000);
});
