// The built server over real HTTP, as a child process: `npm run build && npm start` with only the
// documented environment.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readdirSync } from 'node:fs';
import type { Queue } from 'bullmq';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOK_TOPICS } from '../../app/webhook-topics';
import { webhookInbox } from '../../db/schema';
import { createWebhookQueue } from '../../app/queues/webhook-queue.server';
import { signedWebhook } from '../fixtures/shopify';
import {
  APP_TEST_ENV,
  ensureAppBuilt,
  startAppProcess,
  stopAllAppProcesses,
  type AppProcess,
} from '../helpers/app-server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { TEST_REDIS_URL } from '../helpers/pipeline';

const SHOP = 'laurel-e2e.myshopify.com';
const SECRET = APP_TEST_ENV.SHOPIFY_API_SECRET!;

let db: TestDatabase;
let prefix: string;
let queue: Queue;
let app: AppProcess | undefined;

beforeAll(async () => {
  await ensureAppBuilt();
}, 180_000);
afterAll(async () => {
  await stopAllAppProcesses();
});

beforeEach(async () => {
  db = await createTestDatabase();
  prefix = `test-${randomUUID()}`;
  queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix });
});
afterEach(async () => {
  await app?.stop('SIGKILL');
  app = undefined;
  await queue.obliterate({ force: true });
  await queue.close();
  await db.close();
});

const start = () =>
  startAppProcess({
    env: { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, SHOPIFY_API_SECRET: SECRET },
  });

function post(topic: string, payload: unknown, secret = SECRET) {
  const { body, headers } = signedWebhook({ topic, shop: SHOP, secret, payload });
  return fetch(`${app!.url}/webhooks/${topic}`, { method: 'POST', headers, body });
}

describe('the built web server (dist/server.mjs)', () => {
  it('serves /healthz, ingests every topic over HTTP and shuts down cleanly on SIGTERM', async () => {
    app = await start();
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok' });

    for (const topic of WEBHOOK_TOPICS) {
      const response = await post(topic, { id: 1001, topic });
      expect(response.status, topic).toBe(200);
    }
    expect((await post('orders/paid', { id: 1 }, 'wrong-secret')).status).toBe(401);
    expect((await fetch(`${app.url}/webhooks/orders/paid`)).status).toBe(405);

    const rows = await db.db.select().from(webhookInbox).orderBy(asc(webhookInbox.id));
    expect(rows.map((r) => r.topic)).toEqual([...WEBHOOK_TOPICS]);
    const counts = await queue.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(WEBHOOK_TOPICS.length);
    expect(await queue.getJob(`inbox-${rows[0]!.id}`)).toBeDefined();

    const accepted = app.logLines().filter((l) => l.msg === 'webhook accepted');
    expect(accepted).toHaveLength(WEBHOOK_TOPICS.length);
    expect(accepted[0]).toMatchObject({ shop: SHOP, inboxId: rows[0]!.id, duplicate: false });

    const status = await app.stop('SIGTERM');
    expect(status).toMatchObject({ code: 0, signal: null });
    expect(status.stdout).toMatch(/"msg":"stopped"/);
  });

  it('serves fingerprinted assets with a long cache and pages from Remix', async () => {
    app = await start();
    const asset = readdirSync('build/client/assets').find((f) => f.endsWith('.js'))!;
    const response = await fetch(`${app.url}/assets/${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('Content-Type')).toMatch(/javascript/);
    const landing = await fetch(`${app.url}/`);
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain('<h1>Laurel</h1>');
    const missing = await fetch(`${app.url}/no-such-page`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('There is no page at this address.');
    const favicon = await fetch(`${app.url}/favicon.ico`);
    expect(favicon.status).toBe(404);
    // A page that does not exist is not an error worth a stack trace on stderr.
    expect(app.stderr()).not.toMatch(/No route matches/);
  });

  it('finishes a request in flight when told to stop, then exits 0', async () => {
    app = await start();
    const { body, headers } = signedWebhook({
      topic: 'orders/paid',
      shop: SHOP,
      secret: SECRET,
      payload: { id: 77, note: 'slow upload' },
    });
    const port = app.port;
    // Send half the body, stop the server, then send the rest.
    const answered = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/webhooks/orders/paid',
          headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        void app!.stop('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    expect(await answered).toBe(200);
    expect(await app.exited).toMatchObject({ code: 0 });
    expect(await db.db.select().from(webhookInbox)).toHaveLength(1);
    // Stopped means stopped: nothing listens any more.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('runs in production when NODE_ENV is unset: no stack traces, no 500 for a malformed host', async () => {
    app = await startAppProcess({
      env: { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, NODE_ENV: undefined },
    });
    expect(app.logLines().find((l) => l.msg === 'listening')).toMatchObject({ mode: 'production' });
    const browser = {
      'User-Agent':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    };
    const admin = await fetch(`${app.url}/app?embedded=1&shop=${SHOP}&host=x`, {
      headers: browser,
    });
    expect(admin.status).toBe(400);
    const page = await admin.text();
    expect(page).toContain('the host parameter is not the base64-encoded admin host Shopify sends');
    expect(page).not.toMatch(/InvalidCharacterError|node_modules|\bat \w+ \(/);
    const data = await fetch(`${app.url}/app.data?embedded=1&shop=${SHOP}&host=x`, {
      headers: browser,
    });
    expect(data.status).toBe(400);
    expect(await data.text()).not.toMatch(/InvalidCharacterError|node_modules|\bat \w+ \(/);
    const phish = await fetch(
      `${app.url}/auth/exit-iframe?shop=${SHOP}&exitIframe=https://evil.example/phish`,
      { headers: browser },
    );
    expect(phish.status).toBe(400);
    expect(await phish.text()).not.toContain('evil.example');
    // The development-only routes do not exist in production.
    expect((await fetch(`${app.url}/dev/admin`, { headers: browser })).status).toBe(404);
    expect(app.logLines().filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(app.stderr()).toBe('');
  });

  it('logs a page that does not exist as nothing worse than debug, with no warning on stderr', async () => {
    app = await startAppProcess({
      env: { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: 'debug' },
    });
    expect((await fetch(`${app.url}/favicon.ico`)).status).toBe(404);
    expect((await fetch(`${app.url}/no/such/page`, { method: 'POST' })).status).toBe(404);
    const lines = app.logLines().filter((l) => JSON.stringify(l).includes('favicon'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => (l.level as number) <= 20)).toBe(true);
    expect(app.logLines().filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(app.stderr()).not.toMatch(/No routes? match/);
  });

  it('refuses to start with a list of what is wrong in the environment', async () => {
    await expect(
      startAppProcess({
        env: { DATABASE_URL: db.url, SHOPIFY_API_KEY: undefined, SHOPIFY_APP_URL: 'not a url' },
        readyTimeoutMs: 10_000,
      }),
    ).rejects.toThrow(
      /exited before it was ready \(code 2[\s\S]*SHOPIFY_API_KEY [\s\S]*SHOPIFY_APP_URL must be a URL/,
    );
  });
});
