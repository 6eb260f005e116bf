import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { Session } from '@shopify/shopify-api';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const SECRET = vi.hoisted(() => {
  // Before app/shopify.server.ts is imported: it reads the environment once.
  process.env.SHOPIFY_API_KEY = 'laurel-test-key';
  process.env.SHOPIFY_API_SECRET = 'laurel-test-secret';
  process.env.SHOPIFY_APP_URL = 'https://laurel.test';
  process.env.SCOPES = 'read_customers,read_orders';
  process.env.LOG_LEVEL = 'silent';
  return 'laurel-test-secret';
});

import { openDatabase } from '../../db/client.server';
import { useDatabase } from '../../app/db.server';
import { logger } from '../../app/logger.server';
import { sessionStorage } from '../../app/shopify.server';
import {
  DATABASE_WAIT_MS,
  ingestWebhook,
  MAX_WEBHOOK_BODY_BYTES,
  WEBHOOK_TOPICS,
} from '../../app/webhooks.server';
import * as appUninstalled from '../../app/routes/webhooks.app.uninstalled';
import * as customersCreate from '../../app/routes/webhooks.customers.create';
import * as customersDataRequest from '../../app/routes/webhooks.customers.data_request';
import * as customersRedact from '../../app/routes/webhooks.customers.redact';
import * as customersUpdate from '../../app/routes/webhooks.customers.update';
import * as ordersCancelled from '../../app/routes/webhooks.orders.cancelled';
import * as ordersPaid from '../../app/routes/webhooks.orders.paid';
import * as refundsCreate from '../../app/routes/webhooks.refunds.create';
import * as shopRedact from '../../app/routes/webhooks.shop.redact';
import { createWebhookQueue, useWebhookQueue } from '../../app/queues/webhook-queue.server';
import {
  cancelledOrderPayload,
  customerPayload,
  customersDataRequestPayload,
  customersRedactPayload,
  orderPayload,
  refundPayload,
  shopRedactPayload,
  webhookHeaders,
  webhookRequest,
} from '../fixtures/shopify';
import { closedPort, openPipeline, type Pipeline } from '../helpers/pipeline';

const SHOP = 'laurel-ingest.myshopify.com';
const ORIGIN = 'https://laurel.test';

type Route = { action: (args: ActionFunctionArgs) => Promise<Response>; loader: () => Response };
const routes: Record<(typeof WEBHOOK_TOPICS)[number], Route> = {
  'orders/paid': ordersPaid,
  'orders/cancelled': ordersCancelled,
  'refunds/create': refundsCreate,
  'customers/create': customersCreate,
  'customers/update': customersUpdate,
  'app/uninstalled': appUninstalled,
  'customers/data_request': customersDataRequest,
  'customers/redact': customersRedact,
  'shop/redact': shopRedact,
};

const call = (route: Route, request: Request) =>
  route.action({ request, params: {}, context: {} } as ActionFunctionArgs);

const order = orderPayload({
  id: 820982911946154,
  subtotal: '120.00',
  customer: { id: 115310627314723, email: 'ada@example.com' },
});

function paid(options: { webhookId?: string; secret?: string; payload?: unknown } = {}): Request {
  return webhookRequest(`${ORIGIN}/webhooks/orders/paid`, {
    topic: 'orders/paid',
    shop: SHOP,
    secret: options.secret ?? SECRET,
    payload: options.payload ?? order,
    ...(options.webhookId ? { webhookId: options.webhookId } : {}),
  });
}

/** A delivery whose raw body is `body` exactly (signed correctly), for malformed bodies. */
function rawDelivery(body: string, topic = 'orders/paid', headers: Record<string, string> = {}) {
  return new Request(`${ORIGIN}/webhooks/orders/paid`, {
    method: 'POST',
    headers: { ...webhookHeaders({ topic, shop: SHOP, body, secret: SECRET }), ...headers },
    body,
  });
}

async function errorOf(response: Response): Promise<string> {
  const body = (await response.json()) as { error?: string };
  expect(typeof body.error).toBe('string');
  return body.error!;
}

let pipeline: Pipeline;

async function expectNothingStored() {
  expect(await pipeline.inbox()).toEqual([]);
  expect(await pipeline.jobTotal()).toBe(0);
}

describe('webhook ingest', () => {
  beforeEach(async () => {
    pipeline = await openPipeline();
  });
  afterEach(async () => {
    await pipeline.close();
  });

  it('stores a signed delivery in the inbox and enqueues exactly one job for it', async () => {
    const response = await call(ordersPaid, paid({ webhookId: 'delivery-1' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, duplicate: false });

    const rows = await pipeline.inbox();
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      shopDomain: SHOP,
      webhookId: 'delivery-1',
      topic: 'orders/paid',
      apiVersion: '2026-07',
      status: 'received',
    });
    expect((row!.payload as { id: number }).id).toBe(820982911946154);

    expect(await pipeline.jobTotal()).toBe(1);
    const job = await pipeline.queue.getJob(`inbox-${row!.id}`);
    expect(job?.name).toBe('process-inbox');
    expect(job?.data).toEqual({ inboxId: row!.id, shop: SHOP, topic: 'orders/paid' });
  });

  it('logs one line per delivery with ids only, never the payload', async () => {
    const info = vi.spyOn(logger(), 'info');
    try {
      await call(ordersPaid, paid({ webhookId: 'delivery-log' }));
      expect(info).toHaveBeenCalledTimes(1);
      const [fields, message] = info.mock.calls[0] as unknown as [Record<string, unknown>, string];
      const [row] = await pipeline.inbox();
      expect(message).toBe('webhook accepted');
      expect(fields).toMatchObject({
        shop: SHOP,
        topic: 'orders/paid',
        webhookId: 'delivery-log',
        inboxId: row!.id,
        duplicate: false,
        enqueued: true,
      });
      expect(fields).not.toHaveProperty('payload');
      expect(JSON.stringify(info.mock.calls)).not.toContain('ada@example.com');
    } finally {
      info.mockRestore();
    }
  });

  it('answers 200 to a repeat delivery and enqueues nothing new', async () => {
    expect((await call(ordersPaid, paid({ webhookId: 'again' }))).status).toBe(200);
    const repeat = await call(ordersPaid, paid({ webhookId: 'again' }));
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({ ok: true, duplicate: true });
    expect(await pipeline.inbox()).toHaveLength(1);
    expect(await pipeline.jobTotal()).toBe(1);
  });

  it('stores one row and one job when the same delivery arrives three times at once', async () => {
    const responses = await Promise.all(
      [1, 2, 3].map(() => call(ordersPaid, paid({ webhookId: 'concurrent' }))),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { duplicate: boolean }[];
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    const rows = await pipeline.inbox();
    expect(rows).toHaveLength(1);
    expect(await pipeline.jobTotal()).toBe(1);
    expect(await pipeline.queue.getJob(`inbox-${rows[0]!.id}`)).toBeDefined();
  });

  it('accepts a delivery for a shop with an installed (offline) session', async () => {
    await sessionStorage.storeSession(
      new Session({
        id: `offline_${SHOP}`,
        shop: SHOP,
        state: 'installed',
        isOnline: false,
        accessToken: 'shpat_test',
        scope: 'read_customers,read_orders',
      }),
    );
    for (const id of ['with-session-1', 'with-session-2']) {
      expect((await call(ordersPaid, paid({ webhookId: id }))).status).toBe(200);
    }
    expect(await pipeline.inbox()).toHaveLength(2);
  });

  it('stores a delivery whose shop header is in capitals under the lower-case domain', async () => {
    const body = JSON.stringify(order);
    const response = await call(
      ordersPaid,
      rawDelivery(body, 'orders/paid', {
        'X-Shopify-Shop-Domain': SHOP.toUpperCase(),
        'X-Shopify-Webhook-Id': 'capital-shop',
      }),
    );
    expect(response.status).toBe(200);
    const rows = await pipeline.inbox();
    expect(rows.map((r) => [r.shopDomain, r.webhookId])).toEqual([[SHOP, 'capital-shop']]);
  });

  it('refuses a bad HMAC with 401, storing nothing', async () => {
    const response = await call(ordersPaid, paid({ secret: 'not-the-app-secret' }));
    expect(response.status).toBe(401);
    expect(await errorOf(response)).toMatch(/HMAC/);
    await expectNothingStored();
  });

  it('refuses a body altered after signing with 401', async () => {
    const request = paid();
    const tampered = new Request(request.url, {
      method: 'POST',
      headers: request.headers,
      body: JSON.stringify({ ...order, subtotal_price: '9999.00' }),
    });
    expect((await call(ordersPaid, tampered)).status).toBe(401);
    await expectNothingStored();
  });

  it.each([
    'X-Shopify-Hmac-Sha256',
    'X-Shopify-Topic',
    'X-Shopify-Shop-Domain',
    'X-Shopify-API-Version',
    'X-Shopify-Webhook-Id',
  ])('refuses a delivery without %s with 400 naming it', async (header) => {
    const request = paid();
    const headers = new Headers(request.headers);
    headers.delete(header);
    const response = await call(
      ordersPaid,
      new Request(request.url, { method: 'POST', headers, body: await request.text() }),
    );
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error).toContain(header);
    expect(error.match(/X-Shopify-/g)).toHaveLength(1);
    await expectNothingStored();
  });

  it('answers 405 with Allow: POST to anything but POST', async () => {
    const get = ordersPaid.loader();
    expect(get.status).toBe(405);
    expect(get.headers.get('Allow')).toBe('POST');
    const put = await ingestWebhook(
      new Request(`${ORIGIN}/webhooks/orders/paid`, { method: 'PUT', body: '{}' }),
      'orders/paid',
    );
    expect(put.status).toBe(405);
    expect(put.headers.get('Allow')).toBe('POST');
    await expectNothingStored();
  });

  it('refuses malformed JSON with 400 (after checking its signature)', async () => {
    const response = await call(ordersPaid, rawDelivery('{"id": 1,'));
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/not valid JSON/);
    await expectNothingStored();
  });

  it('answers 401, not 400, to malformed JSON with a bad signature', async () => {
    const response = await call(
      ordersPaid,
      rawDelivery('{"id": 1,', 'orders/paid', { 'X-Shopify-Hmac-Sha256': 'AAAA' }),
    );
    expect(response.status).toBe(401);
    await expectNothingStored();
  });

  it.each(['[1,2]', '"text"', '42', 'null', 'true'])(
    'refuses a JSON body that is not an object (%s) with 400',
    async (body) => {
      const response = await call(ordersPaid, rawDelivery(body));
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatch(/JSON object/);
      await expectNothingStored();
    },
  );

  it('refuses an empty body with 400', async () => {
    const response = await call(ordersPaid, rawDelivery(''));
    expect(response.status).toBe(400);
    await expectNothingStored();
  });

  it('refuses a delivery whose topic does not match the route with 400', async () => {
    const request = webhookRequest(`${ORIGIN}/webhooks/refunds/create`, {
      topic: 'orders/paid',
      shop: SHOP,
      secret: SECRET,
      payload: order,
    });
    const response = await call(refundsCreate, request);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/does not match this route \(refunds\/create\)/);
    await expectNothingStored();
  });

  it('refuses a shop domain that is not *.myshopify.com with 400', async () => {
    const request = webhookRequest(`${ORIGIN}/webhooks/orders/paid`, {
      topic: 'orders/paid',
      shop: 'evil.example.com',
      secret: SECRET,
      payload: order,
    });
    const response = await call(ordersPaid, request);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/myshopify\.com/);
    await expectNothingStored();
  });

  it('refuses a body over 1 MiB declared in Content-Length with 413, unread', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const request = new Request(`${ORIGIN}/webhooks/orders/paid`, {
      method: 'POST',
      headers: {
        ...webhookHeaders({ topic: 'orders/paid', shop: SHOP, body: '', secret: SECRET }),
        'Content-Length': String(MAX_WEBHOOK_BODY_BYTES + 1),
      },
      body,
      duplex: 'half',
    } as RequestInit);
    const response = await call(ordersPaid, request);
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatch(/1048576-byte limit/);
    // Only what the stream buffers on its own (its high-water mark), never the body.
    expect(pulled).toBeLessThanOrEqual(1);
    await expectNothingStored();
  });

  it('refuses a chunked body over 1 MiB with 413, stopping at the limit', async () => {
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // An endless body: reading must stop by itself.
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const request = new Request(`${ORIGIN}/webhooks/orders/paid`, {
      method: 'POST',
      headers: webhookHeaders({ topic: 'orders/paid', shop: SHOP, body: '', secret: SECRET }),
      body,
      duplex: 'half',
    } as RequestInit);
    expect(request.headers.get('Content-Length')).toBeNull();
    const response = await call(ordersPaid, request);
    expect(response.status).toBe(413);
    expect(sent).toBeLessThanOrEqual(MAX_WEBHOOK_BODY_BYTES + 2 * chunk.byteLength);
    await expectNothingStored();
  });

  it('accepts a signed body of exactly 1 MiB', async () => {
    const base = JSON.stringify({ id: 1, note: '' });
    const body = JSON.stringify({ id: 1, note: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES - base.length) });
    expect(Buffer.byteLength(body)).toBe(MAX_WEBHOOK_BODY_BYTES);
    expect((await call(ordersPaid, rawDelivery(body))).status).toBe(200);
    expect(await pipeline.inbox()).toHaveLength(1);
  });

  it('keeps a signed body jsonb cannot hold (\\u0000) as text, a dead letter, and answers 200', async () => {
    const body = JSON.stringify({ ...order, note: 'a\u0000b' });
    const delivery = () => rawDelivery(body, 'orders/paid', { 'X-Shopify-Webhook-Id': 'nul-body' });
    const response = await call(ordersPaid, delivery());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, duplicate: false });
    const [row, ...others] = await pipeline.inbox();
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      shopDomain: SHOP,
      webhookId: 'nul-body',
      topic: 'orders/paid',
      status: 'dead',
      attempts: 0,
      payload: null,
      payloadText: body,
    });
    // The reason names the rule, never a value from the body.
    expect(row!.lastError).toMatch(/^the body cannot be stored as jsonb \(22P05: .*Unicode/);
    expect(row!.lastError).not.toContain('ada@example.com');
    expect(row!.lastError).not.toContain('a\\u0000b');
    // A dead letter waits for ops: nothing is enqueued.
    expect(await pipeline.jobTotal()).toBe(0);

    // Shopify's retry of it is a duplicate of that row.
    const repeat = await call(ordersPaid, delivery());
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({ ok: true, duplicate: true });
    expect(await pipeline.inbox()).toEqual([row]);
    expect(await pipeline.jobTotal()).toBe(0);
  });

  /** Holds `LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE` in a session of its own until released. */
  async function lockTable(table: 'webhook_inbox' | 'session') {
    const locker = postgres(pipeline.db.url!, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const transaction = locker.begin(async (sql) => {
      await sql.unsafe(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      locked();
      await held;
    });
    await Promise.race([isLocked, transaction]);
    return async () => {
      release();
      await transaction;
      await locker.end();
    };
  }

  /** The answer and how long it took, or a failure once Shopify would have given up long ago. */
  async function timed(request: Promise<Response>) {
    const started = performance.now();
    const response = await Promise.race([
      request,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer within 8 s')), 8_000),
      ),
    ]);
    return { response, ms: performance.now() - started };
  }

  const waitUntil = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('answers 503 within DATABASE_WAIT_MS when the inbox commit stalls; writes not begun are dropped', async () => {
    const unlock = await lockTable('webhook_inbox');
    let answers: { response: Response; ms: number }[];
    try {
      // Four deliveries take the writer's four transactions (each blocked on the lock); the fifth
      // waits for one.
      const pending: Promise<{ response: Response; ms: number }>[] = [];
      for (const n of [1, 2, 3, 4, 5]) {
        pending.push(timed(call(ordersPaid, paid({ webhookId: `stalled-${n}` }))));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      answers = await Promise.all(pending);
    } finally {
      await unlock();
    }
    for (const { response, ms } of answers) {
      expect(response.status).toBe(503);
      expect(await errorOf(response)).toMatch(/did not answer within 3000 ms; Shopify will retry/);
      expect(ms).toBeGreaterThanOrEqual(DATABASE_WAIT_MS - 100);
      expect(ms).toBeLessThan(DATABASE_WAIT_MS + 500);
    }

    // The four begun commit once the lock goes, and are enqueued; the fifth was never written.
    await waitUntil('the four begun writes', async () => (await pipeline.inbox()).length === 4);
    await waitUntil('their jobs', async () => (await pipeline.jobTotal()) === 4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await pipeline.inbox();
    expect(rows.map((r) => r.webhookId).sort()).toEqual([
      'stalled-1',
      'stalled-2',
      'stalled-3',
      'stalled-4',
    ]);
    for (const row of rows) expect(await pipeline.queue.getJob(`inbox-${row.id}`)).toBeDefined();

    // Shopify's retries: a duplicate of a stored one, a first copy of the dropped one.
    const retry = await call(ordersPaid, paid({ webhookId: 'stalled-1' }));
    expect(await retry.json()).toEqual({ ok: true, duplicate: true });
    const dropped = await call(ordersPaid, paid({ webhookId: 'stalled-5' }));
    expect(await dropped.json()).toEqual({ ok: true, duplicate: false });
    expect(await pipeline.inbox()).toHaveLength(5);
    expect(await pipeline.jobTotal()).toBe(5);
  });

  it('never waits for the shop’s session: a delivery is stored while the session table is locked', async () => {
    // authenticate.webhook loaded the offline session on every delivery; the HMAC check that
    // replaced it (app/webhook-hmac.server.ts) reads nothing, so a stalled session store costs
    // webhooks nothing.
    const unlock = await lockTable('session');
    let answer: { response: Response; ms: number };
    try {
      answer = await timed(call(ordersPaid, paid({ webhookId: 'session-stalled' })));
    } finally {
      await unlock();
    }
    expect(answer.response.status).toBe(200);
    expect(answer.ms).toBeLessThan(DATABASE_WAIT_MS);
  });

  const deliveries: Record<(typeof WEBHOOK_TOPICS)[number], () => unknown> = {
    'orders/paid': () => order,
    'orders/cancelled': () => cancelledOrderPayload(order),
    'refunds/create': () =>
      refundPayload({
        id: 929361462,
        orderId: 820982911946154,
        order,
        lineItems: [{ lineItemId: (order.line_items as { id: number }[])[0]!.id, quantity: 1 }],
      }),
    'customers/create': () => customerPayload({ id: 115310627314723 }),
    'customers/update': () => customerPayload({ id: 115310627314723, firstName: 'Augusta' }),
    'app/uninstalled': () => ({ id: 548380009, name: 'Laurel Ingest', myshopify_domain: SHOP }),
    'customers/data_request': () =>
      customersDataRequestPayload({
        shopDomain: SHOP,
        customer: { id: 115310627314723 },
        dataRequestId: 9999,
      }),
    'customers/redact': () =>
      customersRedactPayload({ shopDomain: SHOP, customer: { id: 115310627314723 } }),
    'shop/redact': () => shopRedactPayload({ shopDomain: SHOP }),
  };

  it.each(WEBHOOK_TOPICS.map((topic) => [topic]))(
    '%s is accepted by its own route and stored under that topic',
    async (topic) => {
      const request = webhookRequest(`${ORIGIN}/webhooks/${topic}`, {
        topic,
        shop: SHOP,
        secret: SECRET,
        payload: deliveries[topic](),
      });
      const response = await call(routes[topic], request);
      expect(response.status).toBe(200);
      const [row] = await pipeline.inbox();
      expect(row?.topic).toBe(topic);
      expect(await pipeline.queue.getJob(`inbox-${row!.id}`)).toBeDefined();
    },
  );
});

describe('webhook ingest with a dependency down', () => {
  let restore: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await restore?.();
    restore = undefined;
  });

  it('answers 200 and keeps the row when Redis is unreachable', async () => {
    const deadQueue = createWebhookQueue({
      redisUrl: `redis://127.0.0.1:${await closedPort()}`,
      prefix: 'test-unreachable',
    });
    const pipeline = await openPipeline({ queue: deadQueue });
    restore = () => pipeline.close();
    const started = Date.now();
    const response = await call(ordersPaid, paid({ webhookId: 'redis-down' }));
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    const rows = await pipeline.inbox();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ webhookId: 'redis-down', status: 'received' });
  });

  it('answers 503 with a reason when the database is unreachable, never 200', async () => {
    const handle = await openDatabase({
      url: `postgresql://postgres@127.0.0.1:${await closedPort()}/nowhere`,
      max: 1,
    });
    const queue = createWebhookQueue({
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: `test-db-down-${Date.now()}`,
    });
    useDatabase(handle);
    useWebhookQueue(queue);
    restore = async () => {
      useDatabase(undefined);
      useWebhookQueue(undefined);
      expect(await queue.getJobCounts()).toEqual(expect.objectContaining({ waiting: 0 }));
      await queue.obliterate({ force: true });
      await queue.close();
      await handle.close();
    };
    const response = await call(ordersPaid, paid());
    expect(response.status).toBe(503);
    expect(await errorOf(response)).toMatch(/database is unavailable/);
  });
});
