// startAppServer in-process over the real build, as benchmarks and the demo use it.
import { randomUUID } from 'node:crypto';
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
import { WEBHOOK_TOPICS } from '../app/webhook-topics';
import { signedWebhook } from '../tests/fixtures/shopify';
import { ensureAppBuilt } from '../tests/helpers/app-server';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { TEST_REDIS_URL } from '../tests/helpers/pipeline';
import { directActions, startAppServer, type AppServer } from './app-server';

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
  const { createWebhookQueue } = await import('../workers/queue.server');
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
