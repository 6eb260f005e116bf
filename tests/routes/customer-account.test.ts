/**
 * The customer-account endpoints (/api/account/summary, /api/account/history) with real HS256
 * session tokens signed with the test secret: what authenticate.public.customerAccount accepts,
 * what Laurel refuses on top of it (audience, customer, shop), the shared error shape, and CORS on
 * every answer — preflight and errors included — so the extension can read why it was refused.
 */
import { describe, expect, it, vi } from 'vitest';

// The app reads process.env when imported: set it before the imports below.
await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { useDatabase } from '../../app/db.server';
import { loader as history } from '../../app/routes/api.account.history';
import { loader as proxyHistory } from '../../app/routes/proxy.history';
import { loader as summary } from '../../app/routes/api.account.summary';
import {
  callLoader as call,
  CRAWLER_USER_AGENT,
  expectCors,
  expectPreflightAnswered,
  loaderArgs as args,
  nowSeconds as now,
  PREFLIGHT,
  seededStorefront,
  withForgedClaims,
} from '../helpers/extension-endpoints';
import {
  accountRequest,
  accountToken,
  customerGid,
  OTHER_SHOP,
  proxyRequest,
  SHOP,
  tripwireDatabase,
} from '../helpers/storefront';

seededStorefront();

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
      () => accountRequest('/api/account/summary', withForgedClaims(accountToken())),
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
        headers: { 'User-Agent': CRAWLER_USER_AGENT },
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
    await expectPreflightAnswered(loader, accountRequest('/api/account/x', null, PREFLIGHT));
  });
});
