// What the processes write at LOG_LEVEL=debug, where Shopify's library prints what it was given
// (request parameters, decoded session tokens, redirect URLs): still no session token, app-proxy
// signature, webhook HMAC, access token or app secret, on any line of any process; and a refused
// delivery's reason does not repeat the personal data a field held.
import { createHmac, randomUUID } from 'node:crypto';
import { Session } from '@shopify/shopify-api';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { hostParam, mintSessionToken } from '../../app/dev-access.server';
import { ProcessSessionStorage } from '../../app/session-storage.server';
import { customerPayload, orderPayload, shopifyHmac } from '../fixtures/shopify';
import { APP_TEST_ENV } from '../helpers/app-server';
import { E2E_SECRET, E2E_SHOP, openStack, type Stack } from '../helpers/e2e-stack';

let stack: Stack;

beforeAll(async () => {
  stack = await openStack();
  // No session cache: the session stored mid-test must be seen by the next admin request.
  await stack.startWeb({ LOG_LEVEL: 'debug', SESSION_CACHE_TTL_MS: '0' });
  await stack.startWorker({ LOG_LEVEL: 'debug' });
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stdout.write(`${stack.diagnostics()}\n`);
  });
});

const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const ACCESS_TOKEN = `shpat_${randomUUID().replaceAll('-', '')}`;

/** A storefront request through the app proxy, signed as Shopify signs it; returns the signature. */
function proxyUrl(params: Record<string, string>, secret = E2E_SECRET) {
  const all = {
    shop: E2E_SHOP,
    path_prefix: '/apps/loyalty',
    timestamp: String(Math.floor(Date.now() / 1000)),
    ...params,
  };
  const message = Object.entries(all)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('');
  const signature = createHmac('sha256', secret).update(message).digest('hex');
  return { url: `/proxy?${new URLSearchParams({ ...all, signature })}`, signature };
}

it('logs no token, signature, HMAC, secret or refused payload value at debug level', async () => {
  const web = stack.web();
  const worker = () => stack.workers[0]!;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${web.url}${path}`, {
      // The library answers requests from bots (Node's own user agent is one) without authenticating.
      headers: { 'User-Agent': BROWSER, ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(20_000),
    });
  const secrets: string[] = [E2E_SECRET, ACCESS_TOKEN];

  // App proxy before the shop has a session: the library logs every query parameter it got.
  const early = proxyUrl({ logged_in_customer_id: '8800000000001' });
  secrets.push(early.signature);
  expect((await get(early.url)).status).toBe(200);
  const forged = proxyUrl({ logged_in_customer_id: '8800000000001' }, 'not-the-secret');
  secrets.push(forged.signature);
  expect((await get(forged.url)).status).toBe(401);

  await new ProcessSessionStorage({
    database: async () => stack.db.db,
    cacheTtlMs: 0,
  }).storeSession(
    new Session({
      id: `offline_${E2E_SHOP}`,
      shop: E2E_SHOP,
      state: '',
      isOnline: false,
      scope: APP_TEST_ENV.SCOPES,
      accessToken: ACCESS_TOKEN,
    }),
  );
  const proxied = proxyUrl({ logged_in_customer_id: '8800000000001' });
  secrets.push(proxied.signature);
  expect((await get(proxied.url)).status).toBe(200);

  // The embedded admin: the document request carries the session token in id_token, data
  // requests in the Authorization header; an expired token is refused with a logged reason.
  const access = {
    shop: E2E_SHOP,
    apiKey: APP_TEST_ENV.SHOPIFY_API_KEY!,
    apiSecret: E2E_SECRET,
  };
  const document = mintSessionToken(access).token;
  const data = mintSessionToken(access).token;
  const expired = mintSessionToken({ ...access, now: Math.floor(Date.now() / 1000) - 3600 }).token;
  secrets.push(document, data, expired);
  const query = new URLSearchParams({
    embedded: '1',
    shop: E2E_SHOP,
    host: hostParam(E2E_SHOP),
    id_token: document,
  });
  expect((await get(`/app?${query}`)).status).toBe(200);
  expect((await get('/app.data', { Authorization: `Bearer ${data}` })).status).toBe(200);
  expect((await get('/app.data', { Authorization: `Bearer ${expired}` })).status).toBe(401);

  // Webhook deliveries: accepted, processed, and two refused by the worker — one for a birth_date
  // metafield holding personal data, which the refusal must not repeat.
  const birthday = customerPayload({ id: 8_800_000_000_002, birthday: '1990-07-14' });
  (birthday.metafields as Array<{ value: unknown }>)[0]!.value = 'SSN 123-45-6789';
  const customer = customerPayload({ id: 8_800_000_000_001 });
  const order = orderPayload({
    id: 8_800_000_000_101,
    customer: { id: 8_800_000_000_001 },
    subtotal: '40.00',
  });
  const invalid = { ...orderPayload({ id: 8_800_000_000_102, subtotal: '5.00' }), currency: 'ZZZ' };
  for (const [topic, payload] of [
    ['customers/create', customer],
    ['orders/paid', order],
    ['orders/paid', invalid],
    ['customers/update', birthday],
  ] as const) {
    secrets.push(shopifyHmac(JSON.stringify(payload), E2E_SECRET));
    const result = await stack.post({ topic, payload, webhookId: randomUUID() });
    expect(result.status).toBe(200);
  }
  await stack.waitUntilSettled();
  expect(await stack.inboxCounts()).toEqual({ received: 0, processed: 2, dead: 2 });
  const dead = worker()
    .logLines()
    .filter((l) => String(l.msg).startsWith('webhook dead-lettered'));
  expect(dead.map((l) => l.topic)).toEqual(expect.arrayContaining(['customers/update']));

  const everything = [web.stdout(), web.stderr(), worker().stdout(), worker().stderr()].join('\n');
  // The library did speak at debug level, so the checks below are about real lines.
  const library = web.logLines().filter((l) => l.component === 'shopify-app');
  expect(library.filter((l) => l.level === 20).length).toBeGreaterThan(3);
  expect(everything).not.toContain('eyJ');
  expect(everything).not.toMatch(/signature=(?!\[redacted\])/);
  expect(everything).not.toMatch(/hmac=(?!\[redacted\])/);
  expect(everything).not.toMatch(/shp(at|ca|pa|ss|ua)_[0-9a-f]/);
  expect(everything).not.toMatch(/Bearer (?!\[redacted\])/);
  expect(everything).not.toMatch(/123-45-6789/);
  for (const secret of secrets) {
    expect(everything, `logs contain ${secret.slice(0, 12)}…`).not.toContain(secret);
  }
});
