/**
 * What the tests of the UI extensions' endpoints share (tests/routes/customer-account.test.ts,
 * tests/routes/checkout-extension.test.ts): a database seeded through the real pipeline for the
 * whole file, a loader's answer read back, CORS on every answer, the browser's preflight, and a
 * token whose claims were changed after signing. The requests and tokens themselves: ./storefront.ts.
 *
 * Import it after the environment is set (./storefront-env.ts in a vi.hoisted block): it loads
 * the app.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { useDatabase } from '../../app/db.server';
import { createTestDatabase, type TestDatabase } from './db';
import {
  customerGid,
  seedStorefront,
  SHOP,
  STOREFRONT_ENV,
  tripwireDatabase,
  type StorefrontSeed,
} from './storefront';

export type Loader = (args: LoaderFunctionArgs) => Promise<Response>;

export const loaderArgs = (request: Request) =>
  ({ request, params: {}, context: {} }) as LoaderFunctionArgs;

/** Now, in a token's seconds. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface Answer {
  status: number;
  headers: Headers;
  /** The JSON body; null when there is none. */
  body: unknown;
}

/** `loader`'s answer to `request`, its body parsed. */
export async function callLoader(loader: Loader, request: Request): Promise<Answer> {
  const response = await loader(loaderArgs(request));
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

/** The CORS an extension's worker needs to read the answer (and, given, the methods allowed). */
export function expectCors(headers: Headers, allowed: { methods?: string } = {}) {
  expect(headers.get('Access-Control-Allow-Origin')).toBe('*');
  expect(headers.get('Access-Control-Allow-Headers')).toBe('Authorization, Content-Type');
  if (allowed.methods !== undefined) {
    expect(headers.get('Access-Control-Allow-Methods')).toBe(allowed.methods);
  }
}

/**
 * A PostgreSQL database seeded with seedStorefront for the calling file, the app's database
 * while it runs (again after each test, so one that swaps in a tripwire leaves no trace); read
 * `handle` and `seed` inside hooks and tests. A beforeAll the file adds later runs after the seed.
 */
export function seededStorefront(): {
  readonly handle: TestDatabase;
  readonly seed: StorefrontSeed;
} {
  let handle: TestDatabase | undefined;
  let seed: StorefrontSeed | undefined;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres');
    seed = await seedStorefront(handle.db);
    useDatabase(handle);
  });
  afterEach(() => useDatabase(handle));
  afterAll(async () => {
    useDatabase(undefined);
    await handle?.close();
  });
  return {
    get handle() {
      if (!handle) throw new Error('the database is created before the tests');
      return handle;
    },
    get seed() {
      if (!seed) throw new Error('the database is seeded before the tests');
      return seed;
    },
  };
}

/** `token` with its claims replaced (customer 7002, still this app and shop), signature kept. */
export function withForgedClaims(token: string): string {
  const [header, , signature] = token.split('.');
  const forged = Buffer.from(
    JSON.stringify({
      dest: SHOP,
      aud: STOREFRONT_ENV.SHOPIFY_API_KEY,
      sub: customerGid('7002'),
      exp: nowSeconds() + 60,
    }),
  ).toString('base64url');
  return `${header}.${forged}.${signature}`;
}

export const CRAWLER_USER_AGENT =
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** What a browser sends before a GET with the session token from an extension's worker. */
export const PREFLIGHT = {
  method: 'OPTIONS',
  headers: {
    'Access-Control-Request-Method': 'GET',
    'Access-Control-Request-Headers': 'authorization',
  },
};

/**
 * `loader` answers the preflight `request` with 204, no body and CORS for GET (cached two hours),
 * without a token and without reading the database (a tripwire stands in for it meanwhile).
 */
export async function expectPreflightAnswered(loader: Loader, request: Request): Promise<void> {
  const tripwire = tripwireDatabase();
  useDatabase(tripwire.handle);
  const answer = await callLoader(loader, request);
  expect(answer.status).toBe(204);
  expect(answer.body).toBeNull();
  expectCors(answer.headers, { methods: 'GET, OPTIONS' });
  expect(answer.headers.get('Access-Control-Max-Age')).toBe('7200');
  expect(tripwire.touched()).toBe(false);
}
