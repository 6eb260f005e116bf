/**
 * The customer-account endpoints (/api/account/summary, /api/account/history) with real HS256
 * session tokens signed with the test secret: what authenticate.public.customerAccount accepts,
 * what Laurel refuses on top of it (audience, customer, shop), the shared error shape, and CORS on
 * every answer — preflight and errors included — so the extension can read why it was refused.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  });
});

import { useDatabase } from '../../app/db.server';
import { loader as history } from '../../app/routes/api.account.history';
import { loader as proxyHistory } from '../../app/routes/proxy.history';
import { loader as summary } from '../../app/routes/api.account.summary';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import {
  accountRequest,
  accountToken,
  customerGid,
  OTHER_SHOP,
  proxyRequest,
  seedStorefront,
  SHOP,
  tripwireDatabase,
} from '../helpers/storefront';

const args = (request: Request) => ({ request, params: {}, context: {} }) as LoaderFunctionArgs;
const now = () => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function call(
  loader: (a: LoaderFunctionArgs) => Promise<Response>,
  request: Request,
): Promise<Answer> {
  const response = await loader(args(request));
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

function expectCors(headers: Headers) {
  expect(headers.get('Access-Control-Allow-Origin')).toBe('*');
  expect(headers.get('Access-Control-Allow-Headers')).toBe('Authorization, Content-Type');
}

let handle: TestDatabase;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  await seedStorefront(handle.db);
  useDatabase(handle);
});
afterEach(() => useDatabase(handle));
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});

describe('GET /api/account/summary', () => {
  it("answers the token's customer in the token's shop, with CORS, privately", async () => {
    const answer = await call(summary, accountRequest('/api/account/summary', accountToken()));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      enrolled: true,
      balance: 113,
      lifetimeEarned: 113,
      tier: null,
      referralCode: null,
    });
    expectCors(answer.headers);
    expect(answer.headers.get('Cache-Control')).toBe('private, no-store');
  });

  it('accepts dest with or without https://', async () => {
    const answer = await call(
      summary,
      accountRequest('/api/account/summary', accountToken({ dest: `https://${SHOP}` })),
    );
    expect(answer.body).toMatchObject({ balance: 113 });
  });

  it("shows a customer of another shop only that shop's data, or nothing", async () => {
    // 7002 exists only in SHOP: a token for OTHER_SHOP names nobody Laurel knows there.
    const stranger = accountToken({ dest: OTHER_SHOP, sub: customerGid('7002') });
    expect((await call(summary, accountRequest('/api/account/summary', stranger))).body).toEqual({
      enrolled: false,
      balance: 0,
      lifetimeEarned: 0,
      tier: null,
      referralCode: null,
    });
    const eve = accountToken({ dest: OTHER_SHOP, sub: customerGid('7001') });
    expect((await call(summary, accountRequest('/api/account/summary', eve))).body).toMatchObject({
      enrolled: true,
      balance: 501,
    });
  });
});

describe('GET /api/account/history', () => {
  it('answers the same entries as the proxy, and pages with the same cursors', async () => {
    const first = await call(
      history,
      accountRequest('/api/account/history?limit=3', accountToken()),
    );
    expect(first.status).toBe(200);
    expectCors(first.headers);
    const body = first.body as { entries: unknown[]; nextCursor: string };
    expect(Object.keys(body).sort()).toEqual(['entries', 'nextCursor']);
    expect(body.entries).toEqual([
      {
        id: expect.stringMatching(/^[1-9][0-9]*$/),
        occurredAt: '2026-03-25T12:00:00.000Z',
        points: 10,
        source: 'adjustment',
        explanation: 'Adjustment: Goodwill → 10 points',
      },
      expect.objectContaining({ explanation: 'Refund on order #1001 → −22 points' }),
      expect.objectContaining({ source: 'order', points: 10 }),
    ]);
    // The proxy answers the same page for the same customer.
    const viaProxy = await proxyHistory(
      args(proxyRequest('/proxy/history', { logged_in_customer_id: '7001', limit: '3' })),
    );
    const proxied = (await viaProxy.json()) as { entries: unknown[]; nextCursor: string };
    expect(proxied.entries).toEqual(body.entries);
    // A cursor is the customer's, whichever surface issued it.
    const next = await call(
      history,
      accountRequest(
        `/api/account/history?limit=50&cursor=${encodeURIComponent(proxied.nextCursor)}`,
        accountToken(),
      ),
    );
    expect((next.body as { entries: unknown[] }).entries).toHaveLength(4);
    expect((next.body as { nextCursor: unknown }).nextCursor).toBeNull();
  });

  it('explains in the language asked for', async () => {
    const answer = await call(
      history,
      accountRequest('/api/account/history?limit=1', accountToken(), {
        headers: { 'Accept-Language': 'fr-CA' },
      }),
    );
    expect((answer.body as { entries: { explanation: string }[] }).entries[0]!.explanation).toBe(
      'Ajustement\u00a0: Goodwill → 10 points',
    );
  });

  it("refuses another customer's cursor, a tampered one, and a bad limit, with CORS", async () => {
    const others = await call(
      history,
      accountRequest('/api/account/history?limit=1', accountToken({ sub: customerGid('7003') })),
    );
    const cursor = (others.body as { nextCursor: string }).nextCursor;
    for (const query of [
      `cursor=${encodeURIComponent(cursor)}`,
      `cursor=${encodeURIComponent(cursor.replace(/\.(\d+)\./, (_, id: string) => `.${Number(id) + 1}.`))}`,
    ]) {
      const answer = await call(
        history,
        accountRequest(`/api/account/history?${query}`, accountToken()),
      );
      expect(answer.status, query).toBe(400);
      expect(answer.body).toEqual({
        error: {
          code: 'BAD_CURSOR',
          message: 'the cursor was not issued for this customer; start again without one',
        },
      });
      expectCors(answer.headers);
    }
    for (const query of ['limit=0', 'limit=51', 'limit=ten', 'limit=5&limit=6']) {
      const answer = await call(
        history,
        accountRequest(`/api/account/history?${query}`, accountToken()),
      );
      expect(answer.status, query).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'VALIDATION' } });
      expectCors(answer.headers);
    }
  });

  it('answers an empty history for a customer of another shop', async () => {
    const stranger = accountToken({ dest: OTHER_SHOP, sub: customerGid('7003') });
    expect((await call(history, accountRequest('/api/account/history', stranger))).body).toEqual({
      entries: [],
      nextCursor: null,
    });
  });
});

describe('customer-account endpoints: refused tokens', () => {
  const refusals: [string, () => Request, string][] = [
    [
      'no Authorization header',
      () => accountRequest('/api/account/summary', null),
      'the request has no session token (Authorization: Bearer <token>)',
    ],
    [
      'a header that is not a bearer token',
      () =>
        accountRequest('/api/account/summary', null, {
          headers: { Authorization: `Token ${accountToken()}` },
        }),
      'the request has no session token (Authorization: Bearer <token>)',
    ],
    [
      'an expired token',
      () =>
        accountRequest(
          '/api/account/summary',
          accountToken({ exp: now() - 60, iat: now() - 400, nbf: now() - 400 }),
        ),
      'the session token is not valid: bad signature, expired or not yet valid',
    ],
    [
      'a token not valid yet',
      () => accountRequest('/api/account/summary', accountToken({ nbf: now() + 120 })),
      'the session token is not valid: bad signature, expired or not yet valid',
    ],
    [
      'a token signed with another secret',
      () =>
        accountRequest('/api/account/summary', accountToken({}, { secret: 'another-apps-secret' })),
      'the session token is not valid: bad signature, expired or not yet valid',
    ],
    [
      'a token whose claims were edited after signing',
      () => {
        const [header, , signature] = accountToken().split('.');
        const forged = Buffer.from(
          JSON.stringify({
            dest: SHOP,
            aud: 'laurel-test-key',
            sub: customerGid('7002'),
            exp: now() + 60,
          }),
        ).toString('base64url');
        return accountRequest('/api/account/summary', `${header}.${forged}.${signature}`);
      },
      'the session token is not valid: bad signature, expired or not yet valid',
    ],
    [
      'an unsigned token (alg none)',
      () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString(
          'base64url',
        );
        const body = accountToken().split('.')[1];
        return accountRequest('/api/account/summary', `${header}.${body}.`);
      },
      'the session token is not valid: bad signature, expired or not yet valid',
    ],
    [
      'a token for another app (wrong audience)',
      () => accountRequest('/api/account/summary', accountToken({ aud: 'another-app-key' })),
      'the session token was not issued for this app',
    ],
    [
      'an admin session token (sub is a staff user)',
      () =>
        accountRequest(
          '/api/account/summary',
          accountToken({ iss: `https://${SHOP}/admin`, dest: `https://${SHOP}`, sub: '42' }),
        ),
      'the session token names no signed-in customer',
    ],
    [
      'a token without a customer',
      () => accountRequest('/api/account/summary', accountToken({ sub: undefined })),
      'the session token names no signed-in customer',
    ],
    [
      'a token naming another kind of object',
      () =>
        accountRequest('/api/account/summary', accountToken({ sub: 'gid://shopify/Order/7001' })),
      'the session token names no signed-in customer',
    ],
    [
      'a token whose shop is not a myshopify domain',
      () => accountRequest('/api/account/summary', accountToken({ dest: 'evil.example.com' })),
      'the session token names no shop',
    ],
  ];

  it.each(refusals)(
    'refuses %s with 401, in the shared shape, with CORS',
    async (_, request, message) => {
      const answer = await call(summary, request());
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'UNAUTHORIZED', message } });
      expectCors(answer.headers);
      expect(answer.headers.get('Cache-Control')).toBe('private, no-store');
    },
  );

  it('refuses a crawler with 403, with CORS', async () => {
    const answer = await call(
      summary,
      accountRequest('/api/account/summary', accountToken(), {
        headers: {
          'User-Agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
        },
      }),
    );
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({
      error: { code: 'FORBIDDEN', message: 'requests from crawlers are not answered' },
    });
    expectCors(answer.headers);
  });

  it('reads nothing for a refused token, and reads for a valid one', async () => {
    const tripwire = tripwireDatabase();
    useDatabase(tripwire.handle);
    for (const [, request] of refusals) {
      expect((await call(summary, request())).status).toBe(401);
      expect((await call(history, request())).status).toBe(401);
    }
    expect(tripwire.touched()).toBe(false);
    expect(
      (await call(summary, accountRequest('/api/account/summary', accountToken()))).status,
    ).toBe(500);
    expect(tripwire.touched()).toBe(true);
  });
});

describe('customer-account endpoints: preflight', () => {
  it.each([
    ['summary', summary],
    ['history', history],
  ])('answers OPTIONS on %s with 204 and CORS, without a token', async (_, loader) => {
    const tripwire = tripwireDatabase();
    useDatabase(tripwire.handle);
    const answer = await call(
      loader,
      accountRequest('/api/account/x', null, {
        method: 'OPTIONS',
        headers: {
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization',
        },
      }),
    );
    expect(answer.status).toBe(204);
    expect(answer.body).toBeNull();
    expectCors(answer.headers);
    expect(answer.headers.get('Access-Control-Allow-Methods')).toBe('GET, OPTIONS');
    expect(answer.headers.get('Access-Control-Max-Age')).toBe('7200');
    expect(tripwire.touched()).toBe(false);
  });
});
