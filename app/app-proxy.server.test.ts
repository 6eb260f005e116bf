import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers',
    LOG_LEVEL: 'silent',
  });
});

import {
  appProxyRoute,
  appProxySignature,
  proxyJson,
  verifyAppProxyRequest,
} from './app-proxy.server';
import { AppError, ErrorCode } from './errors';

const SECRET = 'laurel-test-secret';
const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_S = String(NOW.getTime() / 1000);

function signed(entries: [string, string][], secret = SECRET): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of entries) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const query = new URLSearchParams(entries);
  query.append('signature', appProxySignature(grouped, secret));
  return query.toString();
}

const base: [string, string][] = [
  ['shop', 'laurel-demo.myshopify.com'],
  ['logged_in_customer_id', '7001'],
  ['path_prefix', '/apps/loyalty'],
  ['timestamp', NOW_S],
];
const request = (query: string) => new Request(`https://laurel.test/proxy/rewards?${query}`);
const verify = (query: string) =>
  verifyAppProxyRequest(request(query), { secret: SECRET, now: NOW });

function refusal(query: string): { code: ErrorCode; message: string } {
  try {
    verify(query);
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('verifyAppProxyRequest', () => {
  it('computes the signature @shopify/shopify-api accepts for a single-valued query', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    try {
      const api = shopifyApi({
        apiKey: 'laurel-test-key',
        apiSecretKey: SECRET,
        apiVersion: ApiVersion.July26,
        hostName: 'laurel.test',
        isEmbeddedApp: true,
        logger: { log: () => {} },
      });
      const query = Object.fromEntries(new URLSearchParams(signed([...base, ['q', 'x y']])));
      expect(await api.utils.validateHmac(query, { signator: 'appProxy' })).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('returns the signed values', () => {
    const proxy = verify(signed([...base, ['tag', 'a'], ['tag', 'b'], ['page', '2']]));
    expect(proxy).toMatchObject({
      shop: 'laurel-demo.myshopify.com',
      customerId: '7001',
      pathPrefix: '/apps/loyalty',
      timestamp: Number(NOW_S),
    });
    expect(proxy.param('page')).toBe('2');
    expect(proxy.param('missing')).toBeUndefined();
    expect(proxy.params('tag')).toEqual(['a', 'b']);
    expect(() => proxy.param('tag')).toThrow('the tag parameter appears more than once');
    expect(proxy.param('signature')).toBeUndefined();
  });

  it('answers null for a visitor who is not logged in', () => {
    const entries = base.map(([n, v]): [string, string] =>
      n === 'logged_in_customer_id' ? [n, ''] : [n, v],
    );
    expect(verify(signed(entries)).customerId).toBeNull();
  });

  it('refuses a repeated reserved parameter before looking at the signature', () => {
    expect(refusal(`shop=evil.myshopify.com&${signed(base)}`)).toEqual({
      code: ErrorCode.VALIDATION,
      message: 'the shop parameter appears more than once',
    });
  });

  it('refuses a timestamp from the future, or none', () => {
    const future = base.map(([n, v]): [string, string] =>
      n === 'timestamp' ? [n, String(Number(v) + 91)] : [n, v],
    );
    expect(refusal(signed(future)).code).toBe(ErrorCode.UNAUTHORIZED);
    const none = base.filter(([n]) => n !== 'timestamp');
    expect(refusal(signed(none))).toEqual({
      code: ErrorCode.UNAUTHORIZED,
      message: 'the request has no valid timestamp',
    });
  });

  it('refuses a signature made with another secret, or of another length', () => {
    expect(refusal(signed(base, 'other')).code).toBe(ErrorCode.UNAUTHORIZED);
    const query = new URLSearchParams(signed(base));
    query.set('signature', 'abc');
    expect(refusal(query.toString()).code).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('refuses a signed shop that is not a myshopify domain', () => {
    const entries = base.map(([n, v]): [string, string] =>
      n === 'shop' ? [n, 'evil.com'] : [n, v],
    );
    expect(refusal(signed(entries))).toEqual({
      code: ErrorCode.VALIDATION,
      message: 'the shop parameter is not a *.myshopify.com domain',
    });
  });
});

describe('appProxyRoute', () => {
  const now = () => String(Math.floor(Date.now() / 1000));
  const live = (): [string, string][] =>
    base.map(([n, v]): [string, string] => (n === 'timestamp' ? [n, now()] : [n, v]));
  const call = (route: ReturnType<typeof appProxyRoute>, query: string) =>
    route({ request: request(query), params: {}, context: {} } as LoaderFunctionArgs);

  it("answers a handler's AppError in the shared shape with its code's status", async () => {
    const route = appProxyRoute(() => {
      throw new AppError(ErrorCode.INSUFFICIENT_BALANCE, 'not enough points');
    });
    const response = await call(route, signed(live()));
    expect(response.status).toBe(409);
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
    expect(await response.json()).toEqual({
      error: { code: 'INSUFFICIENT_BALANCE', message: 'not enough points' },
    });
  });

  it('answers 503 when the database cannot be reached, 500 for anything else', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const down = appProxyRoute(() => {
      throw new Error('Failed query', { cause: refused });
    });
    const unavailable = {
      error: {
        code: 'UNAVAILABLE',
        message: 'the loyalty service is unavailable; try again shortly',
      },
    };
    expect(await (await call(down, signed(live()))).json()).toEqual(unavailable);
    // node-postgres's pool, when no connection opens in time: no code, only its words.
    const poolTimeout = appProxyRoute(() => {
      throw new Error('timeout exceeded when trying to connect');
    });
    expect(await (await call(poolTimeout, signed(live()))).json()).toEqual(unavailable);
    // The process could not open the database at all (app/db.server.ts getDatabase).
    const notOpened = appProxyRoute(() => {
      throw new AppError(ErrorCode.UNAVAILABLE, 'cannot open the database');
    });
    expect((await call(notOpened, signed(live()))).status).toBe(503);
    const bug = appProxyRoute(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    const response = await call(bug, signed(live()));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      error: { code: 'INTERNAL', message: 'the request could not be completed' },
    });
    // Errors keep the proxy's cache policy too.
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
  });

  it('never calls the handler for a refused request', async () => {
    const handler = vi.fn(() => proxyJson({ ok: true }));
    const route = appProxyRoute(handler);
    const response = await call(route, `logged_in_customer_id=1&${signed(live())}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 'VALIDATION',
        message: 'the logged_in_customer_id parameter appears more than once',
      },
    });
    expect(handler).not.toHaveBeenCalled();
  });
});

// The signature helper above must be Shopify's scheme, not a copy of the code under test.
describe('appProxySignature', () => {
  it('joins repeated names with commas and sorts by name (Shopify docs example)', () => {
    const query = new Map([
      ['extra', ['1', '2']],
      ['shop', ['shop-name.myshopify.com']],
      ['path_prefix', ['/apps/awesome_reviews']],
      ['timestamp', ['1317327555']],
    ]);
    // The signature Shopify's documentation gives for this query with the secret `hush`.
    const expected = 'a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3';
    expect(appProxySignature(query, 'hush')).toBe(expected);
  });
});
