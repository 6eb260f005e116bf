// startAppServer in-process over the real build, as benchmarks and the demo use it.
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { ServerBuild } from '@remix-run/server-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers',
    LOG_LEVEL: 'silent',
  });
});

import type { LaurelRuntime } from '../app/entry.server';
import { MAX_WEBHOOK_BODY_BYTES } from '../app/webhooks.server';
import { WEBHOOK_TOPICS } from '../app/webhook-topics';
import { sessions, webhookInbox } from '../db/schema';
import { signedWebhook } from '../tests/fixtures/shopify';
import { ensureAppBuilt } from '../tests/helpers/app-server';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { TEST_REDIS_URL } from '../tests/helpers/pipeline';
import {
  DEFAULT_MAX_BODY_BYTES,
  directActions,
  startAppServer,
  type AppServer,
} from './app-server';

let build: ServerBuild;
let laurel: LaurelRuntime;
let db: TestDatabase;
const prefix = `test-${randomUUID()}`;

beforeAll(async () => {
  await ensureAppBuilt();
  build = (await import(pathToFileURL('build/server/index.js').href)) as ServerBuild;
  laurel = (build.entry.module as unknown as { laurel: LaurelRuntime }).laurel;
  db = await createTestDatabase();
  laurel.useDatabase(db);
  const { createWebhookQueue } = await import('../app/queues/webhook-queue.server');
  // A queue made here, handed to the build's copy of the queue module.
  laurel.useWebhookQueue(createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix }));
}, 180_000);

afterAll(async () => {
  const queue = laurel?.getWebhookQueue();
  await queue?.obliterate({ force: true });
  await laurel?.closeWebhookQueue();
  laurel?.useDatabase(undefined);
  await db?.close();
});

function deliver(server: AppServer, topic: string, webhookId: string) {
  const { body, headers } = signedWebhook({
    topic,
    shop: 'laurel-server.myshopify.com',
    secret: 'laurel-test-secret',
    payload: { id: 5 },
    webhookId,
  });
  return fetch(`${server.url}/webhooks/${topic}`, { method: 'POST', headers, body });
}

describe('startAppServer', () => {
  it('sends webhook POSTs straight to their actions, and everything else through Remix', () => {
    const direct = directActions(build, (path) => path.startsWith('/webhooks/'));
    expect([...direct.keys()].sort()).toEqual(WEBHOOK_TOPICS.map((t) => `/webhooks/${t}`).sort());
  });

  it.each([
    ['directly', undefined],
    ['through Remix', () => false],
  ] as const)('answers a webhook the same way %s', async (_how, directPaths) => {
    const server = await startAppServer({
      build,
      port: 0,
      host: '127.0.0.1',
      ...(directPaths ? { directPaths } : {}),
    });
    try {
      const id = randomUUID();
      const first = await deliver(server, 'orders/paid', id);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ ok: true, duplicate: false });
      const again = await deliver(server, 'orders/paid', id);
      expect(await again.json()).toEqual({ ok: true, duplicate: true });
      const get = await fetch(`${server.url}/webhooks/orders/paid`);
      expect(get.status).toBe(405);
      const health = await fetch(`${server.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok' });
    } finally {
      expect(await server.close()).toBe(0);
    }
  });

  it('stops accepting connections on close and resolves once idle', async () => {
    const server = await startAppServer({ build, port: 0, host: '127.0.0.1' });
    // A keep-alive connection left open by the first request must not hold close() up.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await server.close()).toBe(0);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

const MiB = 1024 * 1024;

interface Upload {
  status: number;
  body: string;
  /** Bytes of body the client got onto the wire before the server answered and closed. */
  sent: number;
  /** Whether the client managed to send the whole body. */
  finished: boolean;
}

/**
 * A client that keeps sending a body of `total` bytes as fast as the server takes it (as an
 * attacker would), reading the answer as it comes, until the server closes the connection.
 */
function upload(
  server: AppServer,
  path: string,
  options: { total: number; chunked?: boolean; headers?: Record<string, string> },
): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let received = '';
    let sent = 0;
    let closed = false;
    const head = [
      `POST ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Content-Type: application/x-www-form-urlencoded',
      options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${options.total}`,
      ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.on('data', (data) => (received += data.toString('latin1')));
    socket.on('error', () => {}); // EPIPE / ECONNRESET: the server stopped reading, as it should
    socket.on('close', () => {
      closed = true;
      const match = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n([^]*)$/.exec(received);
      if (!match) return reject(new Error(`no answer (sent ${sent} bytes): ${received}`));
      resolve({ status: Number(match[1]), body: match[2]!, sent, finished: sent >= options.total });
    });
    socket.write(head);
    const pump = () => {
      while (!closed && sent < options.total) {
        const piece = options.chunked
          ? Buffer.concat([
              Buffer.from(`${chunk.length.toString(16)}\r\n`),
              chunk,
              Buffer.from('\r\n'),
            ])
          : chunk;
        sent += chunk.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
      if (!closed && options.chunked) socket.write('0\r\n\r\n');
    };
    pump();
  });
}

describe('request body limits', () => {
  let server: AppServer;
  beforeAll(async () => {
    server = await startAppServer({ build, port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a 300 MB urlencoded POST to /auth/login by its Content-Length, without reading it', async () => {
    const answer = await upload(server, '/auth/login', { total: 300 * MiB });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error: `the body of ${300 * MiB} bytes is over this path's limit of ${DEFAULT_MAX_BODY_BYTES} bytes`,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(answer.finished).toBe(false);
    expect(answer.sent).toBeLessThan(32 * MiB);
    expect(await db.db.$count(sessions)).toBe(0);
  });

  it('refuses a 200 MB chunked POST to /auth/login.data once it passes the limit', async () => {
    const answer = await upload(server, '/auth/login.data', { total: 200 * MiB, chunked: true });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error: `the body is over this path's limit of ${DEFAULT_MAX_BODY_BYTES} bytes`,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(answer.finished).toBe(false);
    expect(answer.sent).toBeLessThan(32 * MiB);
    expect(await db.db.$count(sessions)).toBe(0);
  });

  it('refuses a chunked webhook over the limit and stores nothing', async () => {
    const before = await db.db.$count(webhookInbox);
    const { headers } = signedWebhook({
      topic: 'orders/paid',
      shop: 'laurel-server.myshopify.com',
      secret: 'laurel-test-secret',
      payload: { id: 7 },
    });
    const shopifyHeaders = Object.fromEntries(
      Object.entries(headers).filter(([name]) => /^x-shopify-/i.test(name)),
    );
    const answer = await upload(server, '/webhooks/orders/paid', {
      total: 50 * MiB,
      chunked: true,
      headers: shopifyHeaders,
    });
    expect(answer.status).toBe(413);
    expect(answer.finished).toBe(false);
    expect(await db.db.$count(webhookInbox)).toBe(before);
  });

  it('closes the connection when a route answers before reading a chunked body', async () => {
    // No Shopify headers: the ingest answers 400 without reading the body at all.
    const answer = await upload(server, '/webhooks/orders/paid', {
      total: 200 * MiB,
      chunked: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.finished).toBe(false);
    expect(answer.sent).toBeLessThan(32 * MiB);
  });

  it('answers the next request on a keep-alive connection after a route ignored a declared body', async () => {
    // One connection, reused whenever the server keeps it open (as Shopify's client may): a
    // route that answers without reading a Content-Length body must not leave the connection
    // waiting for it, or the next request on it is answered only by the keep-alive timeout.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (
      method: string,
      path: string,
      body?: Buffer,
      headers: Record<string, string> = {},
    ) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: server.port,
            method,
            path,
            agent,
            headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
            );
          },
        );
        req.on('error', reject);
        req.setTimeout(3_000, () => req.destroy(new Error(`${method} ${path}: no answer in 3 s`)));
        req.end(body);
      });
    const probe = async () => expect((await send('GET', '/webhooks/orders/paid')).status).toBe(405);
    try {
      // No Shopify headers: the ingest answers 400 without reading the body.
      const unread = await send('POST', '/webhooks/orders/paid', Buffer.alloc(300 * 1024, 'a'));
      expect(unread).toEqual({ status: 400, connection: 'close' });
      await probe();
      expect((await send('PUT', '/webhooks/orders/paid', Buffer.alloc(MiB, 'a'))).status).toBe(405);
      await probe();
      // Through Remix's router too (a POST no action reads).
      expect((await send('POST', '/healthz', Buffer.alloc(300 * 1024, 'a'))).status).toBe(405);
      await probe();
      // A delivery the ingest reads to its end keeps the connection.
      const { body, headers } = signedWebhook({
        topic: 'orders/paid',
        shop: 'laurel-server.myshopify.com',
        secret: 'laurel-test-secret',
        payload: { id: 8 },
        webhookId: randomUUID(),
      });
      const accepted = await send('POST', '/webhooks/orders/paid', Buffer.from(body), headers);
      expect(accepted).toEqual({ status: 200, connection: 'keep-alive' });
      await probe();
    } finally {
      agent.destroy();
    }
  });

  it('answers 413 to Expect: 100-continue without asking for the body', async () => {
    const answer = await upload(server, '/auth/login', {
      total: 300 * MiB,
      headers: { Expect: '100-continue' },
    });
    expect(answer.status).toBe(413);
    expect(answer.finished).toBe(false);
  });

  it('lets a route have its own limit', async () => {
    const small = await startAppServer({
      build,
      port: 0,
      host: '127.0.0.1',
      bodyLimitFor: (path) => (path === '/auth/login' ? 1024 : undefined),
    });
    try {
      const form = { method: 'POST', body: `shop=${'a'.repeat(2048)}` };
      const login = await fetch(`${small.url}/auth/login`, form);
      expect(login.status).toBe(413);
      expect(await login.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      // Every other path keeps the default.
      expect((await fetch(`${small.url}/`, form)).status).not.toBe(413);
    } finally {
      await small.close();
    }
  });

  it("never refuses a webhook the ingest's own limit accepts", async () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBeGreaterThanOrEqual(MAX_WEBHOOK_BODY_BYTES);
    const payload = { id: 6, note: '' };
    payload.note = 'x'.repeat(MAX_WEBHOOK_BODY_BYTES - JSON.stringify(payload).length);
    const { body, headers } = signedWebhook({
      topic: 'orders/paid',
      shop: 'laurel-server.myshopify.com',
      secret: 'laurel-test-secret',
      payload,
      webhookId: randomUUID(),
    });
    expect(Buffer.byteLength(body)).toBe(MAX_WEBHOOK_BODY_BYTES);
    const response = await fetch(`${server.url}/webhooks/orders/paid`, {
      method: 'POST',
      headers,
      body,
    });
    expect(response.status).toBe(200);
  });
});
