/**
 * The stack the fuzz suite (tests/fuzz/) attacks: the real Remix build served by startAppServer on
 * loopback, in this process, over a fresh database and queue prefix. Real HTTP (node:http parses
 * every request, so duplicated, oddly cased and non-ASCII headers arrive as Shopify's would) without
 * a child process per test file, so a thousand requests take seconds.
 *
 *   const stack = await openFuzzStack();
 *   const before = await stack.snapshot();
 *   const answer = await stack.send({ method: 'POST', path: '/webhooks/orders/paid', headers, body });
 *   expect(await stack.snapshot()).toEqual(before);   // a rejected request stored nothing
 *   await stack.close();
 *
 * The caller sets SHOPIFY_API_SECRET & co. in process.env before importing anything (vi.hoisted):
 * the build reads them once.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { ServerBuild } from '@remix-run/server-runtime';
import type { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { LaurelRuntime } from '../../app/entry.server';
import { openDatabase } from '../../db/client.server';
import { startAppServer, type AppServer } from '../../server/app-server';
import { createWebhookQueue } from '../../app/queues/webhook-queue.server';
import { ensureAppBuilt } from './app-server';
import { createTestDatabase, type TestDatabase } from './db';
import { closedPort, obliterateWorkerQueues, TEST_REDIS_URL } from './pipeline';

/** Row counts of every table a request could write, and the queue's job count. */
export interface Snapshot {
  webhook_inbox: number;
  ledger_entries: number;
  customers: number;
  customer_balances: number;
  orders: number;
  order_refunds: number;
  customer_data_requests: number;
  shops: number;
  programs: number;
  session: number;
  jobs: number;
}

const TABLES = [
  'webhook_inbox',
  'ledger_entries',
  'customers',
  'customer_balances',
  'orders',
  'order_refunds',
  'customer_data_requests',
  'shops',
  'programs',
  'session',
] as const;

export interface RawRequest {
  method: string;
  /** Sent as is: path and query string, percent-encoding and all. */
  path: string;
  /** An array value sends the header once per element (a duplicated header). */
  headers: OutgoingHttpHeaders;
  body?: Buffer;
  /** No answer by then fails the request (default 5 s: Shopify's own webhook timeout). */
  timeoutMs?: number;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FuzzStack {
  url: string;
  db: TestDatabase;
  queue: Queue;
  /** Anything the server reported through onError (a failure outside any route). */
  serverErrors: unknown[];
  /**
   * One request. Requests share one keep-alive connection, as a client like Shopify's may, so a
   * request that leaves the connection unusable fails the next one (see probe()).
   */
  send(request: RawRequest): Promise<RawAnswer>;
  /** A cheap request on the shared connection: the connection still answers. */
  probe(): Promise<void>;
  snapshot(): Promise<Snapshot>;
  /**
   * Points the running server at a PostgreSQL that does not answer, for `run`, then back.
   * The server's own handle stays open; nothing is written meanwhile.
   */
  withDeadDatabase<T>(run: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openFuzzStack(): Promise<FuzzStack> {
  await ensureAppBuilt();
  const build = (await import(pathToFileURL('build/server/index.js').href)) as ServerBuild;
  const laurel = (build.entry.module as unknown as { laurel: LaurelRuntime }).laurel;
  const db = await createTestDatabase('postgres', { max: 4 });
  const prefix = `test-fuzz-${randomUUID()}`;
  const queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix });
  laurel.useDatabase(db);
  laurel.useWebhookQueue(queue);

  const serverErrors: unknown[] = [];
  let server: AppServer;
  try {
    server = await startAppServer({
      build,
      port: 0,
      host: '127.0.0.1',
      mode: 'production',
      onError: (error) => serverErrors.push(error),
    });
  } catch (error) {
    await queue.close();
    await db.close();
    throw error;
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  function send(request: RawRequest): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          method: request.method,
          path: request.path,
          headers: request.headers,
          agent,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      // A server refusing a body early (413) may close before the body is written: once an
      // answer has arrived, the broken pipe is the expected end of that request.
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      const timeoutMs = request.timeoutMs ?? 5_000;
      const timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.end(request.body);
    });
  }

  async function probe(): Promise<void> {
    // GET of a webhook route: 405 from the route itself, no database, no body.
    const answer = await send({
      method: 'GET',
      path: '/webhooks/orders/paid',
      headers: {},
      timeoutMs: 2_000,
    });
    if (answer.status !== 405) throw new Error(`probe answered ${answer.status}: ${answer.body}`);
  }

  async function snapshot(): Promise<Snapshot> {
    const counts = TABLES.map((table) => `(SELECT count(*)::int FROM "${table}") AS "${table}"`);
    // node-postgres answers a raw statement with a result object: its rows are in `rows`.
    const { rows } = (await db.db.execute(sql.raw(`SELECT ${counts.join(', ')}`))) as unknown as {
      rows: Omit<Snapshot, 'jobs'>[];
    };
    const [row] = rows;
    const jobs = Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
    return { ...row!, jobs };
  }

  async function withDeadDatabase<T>(run: () => Promise<T>): Promise<T> {
    const dead = await openDatabase({
      url: `postgresql://postgres@127.0.0.1:${await closedPort()}/nowhere`,
      max: 1,
    });
    laurel.useDatabase(dead);
    try {
      return await run();
    } finally {
      laurel.useDatabase(db);
      await dead.close();
    }
  }

  return {
    url: server.url,
    db,
    queue,
    serverErrors,
    send,
    probe,
    snapshot,
    withDeadDatabase,
    async close() {
      agent.destroy();
      await server.close();
      laurel.useWebhookQueue(undefined);
      laurel.useDatabase(undefined);
      try {
        await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix });
      } finally {
        await queue.close();
        await db.close();
      }
    },
  };
}
