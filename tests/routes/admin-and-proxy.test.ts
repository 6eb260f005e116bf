import { createHmac, randomUUID } from 'node:crypto';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Session } from '@shopify/shopify-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const ENV = vi.hoisted(() => {
  const env = {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  };
  Object.assign(process.env, env);
  return env;
});

import { ensureCustomer } from '../../app/models/customers.server';
import { customers, ledgerEntries } from '../../db/schema';
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { loader as adminIndex } from '../../app/routes/app._index';
import { loader as proxy } from '../../app/routes/proxy';
import { sessionStorage } from '../../app/shopify.server';
import { referenceProgramIn } from '../../app/shop-setup.server';
import { openPipeline, type Pipeline } from '../helpers/pipeline';
import { signedProxyQuery } from '../helpers/storefront';

const SHOP = 'laurel-admin.myshopify.com';
const args = (request: Request) => ({ request, params: {}, context: {} }) as LoaderFunctionArgs;

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** An App Bridge session token, as the embedded admin sends it on every fetch. */
function sessionToken(shop: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      iss: `https://${shop}/admin`,
      dest: `https://${shop}`,
      aud: ENV.SHOPIFY_API_KEY,
      sub: '42',
      exp: now + 60,
      nbf: now - 5,
      iat: now - 5,
      jti: randomUUID(),
      sid: randomUUID(),
    }),
  );
  const signature = createHmac('sha256', ENV.SHOPIFY_API_SECRET)
    .update(`${header}.${payload}`)
    .digest('base64url');
  return `${header}.${payload}.${signature}`;
}

const OTHER_SHOP = 'laurel-other.myshopify.com';

/** A signed query as Shopify builds it for this file's shop: `entries` in order, repeats allowed. */
const signedQuery = (
  entries: [string, string][],
  options: { secret?: string; timestamp?: number; shop?: string } = {},
): URLSearchParams => signedProxyQuery(entries, { shop: SHOP, ...options });

/** A storefront request through the app proxy, signed as Shopify signs it. */
function proxyRequest(params: Record<string, string>, secret = ENV.SHOPIFY_API_SECRET): Request {
  return proxyRequestFor(signedQuery(Object.entries(params), { secret }).toString());
}

function proxyRequestFor(query: string): Request {
  return new Request(`https://laurel.test/proxy?${query}`);
}

let pipeline: Pipeline;
beforeEach(async () => {
  pipeline = await openPipeline();
});
afterEach(async () => {
  await pipeline.close();
});

async function seed() {
  const db = pipeline.db.db;
  const shop = await ensureShop(db, { domain: SHOP, currency: 'EUR', timezone: 'Europe/Paris' });
  await publishProgram(db, shop.id, referenceProgramIn('EUR'), new Date('2026-01-01T00:00:00Z'));
  for (const [externalId, points] of [
    ['7001', 120],
    ['7002', 30],
  ] as const) {
    const customer = await ensureCustomer(db, shop.id, { externalId });
    await post(db, shop.id, {
      customerId: customer.id,
      idempotencyKey: `order:${externalId}:earn`,
      source: 'order',
      points,
      occurredAt: new Date('2026-03-01T00:00:00Z'),
      programVersion: 1,
      inputs: { amountMinor: points * 100, currency: 'EUR' },
    });
  }
  await ensureCustomer(db, shop.id, { externalId: '7003' });
  return shop;
}

describe('embedded admin index', () => {
  it('shows the shop, its program, members and points outstanding', async () => {
    await seed();
    await sessionStorage.storeSession(
      new Session({
        id: `offline_${SHOP}`,
        shop: SHOP,
        state: 'installed',
        isOnline: false,
        scope: ENV.SCOPES,
        accessToken: 'shpat_admin',
      }),
    );
    const data = await adminIndex(
      args(
        new Request('https://laurel.test/app', {
          headers: { Authorization: `Bearer ${sessionToken(SHOP)}` },
        }),
      ),
    );
    expect(data).toMatchObject({
      setUp: true,
      shop: { domain: SHOP, currency: 'EUR', timezone: 'Europe/Paris' },
      program: { version: 1, name: 'Reference' },
      members: '3',
    });
    const { comparisons } = data as { comparisons: { label: string; current: string }[] };
    expect(comparisons.find((c) => c.label === 'Points outstanding at the end')?.current).toBe(
      '150',
    );
  });

  it('refuses a request without a valid session token', async () => {
    const request = new Request('https://laurel.test/app', {
      headers: { Authorization: 'Bearer not-a-token' },
    });
    const thrown = await adminIndex(args(request)).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(Response);
    expect((thrown as Response).status).toBe(401);
  });
});

describe('app proxy', () => {
  it("answers the logged-in customer's balance", async () => {
    await seed();
    const response = await proxy(args(proxyRequest({ logged_in_customer_id: '7001' })));
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
    expect(await response.json()).toEqual({
      loggedIn: true,
      customerId: '7001',
      enrolled: true,
      balance: 120,
      lifetimeEarned: 120,
      tier: null,
      referralCode: null,
    });
  });

  it('answers zero for a customer Laurel has not seen', async () => {
    await seed();
    const response = await proxy(args(proxyRequest({ logged_in_customer_id: '9999' })));
    expect(await response.json()).toMatchObject({ loggedIn: true, enrolled: false, balance: 0 });
  });

  it('answers loggedIn:false without a customer', async () => {
    const response = await proxy(args(proxyRequest({ logged_in_customer_id: '' })));
    expect(await response.json()).toEqual({ loggedIn: false });
  });

  it('refuses a request not signed by Shopify', async () => {
    const response = await proxy(
      args(proxyRequest({ logged_in_customer_id: '7001' }, 'wrong-secret')),
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        code: 'UNAUTHORIZED',
        message: "the signature does not match the query signed with this app's secret",
      },
    });
  });
});

describe('app proxy: forged and replayed queries', () => {
  /** What an attacker holds: a real signed query for their own customer 7002. */
  const ownQuery = () => signedQuery([['logged_in_customer_id', '7002']]).toString();

  async function refused(query: string) {
    const before = await storedCounts();
    const response = await proxy(args(proxyRequestFor(query)));
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
    expect(await storedCounts()).toEqual(before);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function storedCounts() {
    const db = pipeline.db.db;
    return { customers: await db.$count(customers), entries: await db.$count(ledgerEntries) };
  }

  it("refuses a prepended logged_in_customer_id (another customer's balance) with 400", async () => {
    await seed();
    const answer = await refused(`logged_in_customer_id=7001&${ownQuery()}`);
    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION',
          message: 'the logged_in_customer_id parameter appears more than once',
        },
      },
    });
  });

  it("refuses a prepended shop (another shop's customer) with 400", async () => {
    await seed();
    await ensureShop(pipeline.db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
    const answer = await refused(`shop=${OTHER_SHOP}&${ownQuery()}`);
    expect(answer).toEqual({
      status: 400,
      body: { error: { code: 'VALIDATION', message: 'the shop parameter appears more than once' } },
    });
  });

  it.each(['path_prefix', 'timestamp', 'signature'])(
    'refuses a repeated %s with 400',
    async (name) => {
      const query = ownQuery();
      const value = new URLSearchParams(query).get(name)!;
      const answer = await refused(`${query}&${name}=${encodeURIComponent(value)}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: { code: 'VALIDATION', message: `the ${name} parameter appears more than once` },
      });
    },
  );

  it('refuses a query with another shop put in place of the signed one with 401', async () => {
    await seed();
    const query = new URLSearchParams(ownQuery());
    query.set('shop', OTHER_SHOP);
    expect(await refused(query.toString())).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHORIZED' } },
    });
  });

  it('refuses an unsigned query with 401', async () => {
    const query = new URLSearchParams(ownQuery());
    query.delete('signature');
    expect(await refused(query.toString())).toEqual({
      status: 401,
      body: {
        error: {
          code: 'UNAUTHORIZED',
          message: "the request is not signed: it did not come through Shopify's app proxy",
        },
      },
    });
  });

  it('refuses a correctly signed query older than 90 s with 401', async () => {
    await seed();
    const stale = signedQuery([['logged_in_customer_id', '7001']], {
      timestamp: Math.floor(Date.now() / 1000) - 91,
    });
    expect(await refused(stale.toString())).toEqual({
      status: 401,
      body: {
        error: {
          code: 'UNAUTHORIZED',
          message: 'the signature is more than 90 s old (or from the future)',
        },
      },
    });
  });

  it("answers a query signed for another shop with that shop's data only", async () => {
    await seed();
    const other = await ensureShop(pipeline.db.db, {
      domain: OTHER_SHOP,
      currency: 'EUR',
      timezone: 'UTC',
    });
    await ensureCustomer(pipeline.db.db, other.id, { externalId: '7001' });
    const query = signedQuery([['logged_in_customer_id', '7001']], { shop: OTHER_SHOP });
    const response = await proxy(args(proxyRequestFor(query.toString())));
    expect(await response.json()).toEqual({
      loggedIn: true,
      customerId: '7001',
      enrolled: true,
      balance: 0,
      lifetimeEarned: 0,
      tier: null,
      referralCode: null,
    });
  });

  it('verifies repeated non-reserved parameters the way Shopify signs them (joined with commas)', async () => {
    await seed();
    const query = signedQuery([
      ['logged_in_customer_id', '7001'],
      ['tag', 'a'],
      ['tag', 'b'],
    ]);
    const response = await proxy(args(proxyRequestFor(query.toString())));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ customerId: '7001', balance: 120 });
    // A value prepended to a signed list changes what was signed.
    expect((await refused(`tag=evil&${query.toString()}`)).status).toBe(401);
  });

  it('refuses a signed but malformed logged_in_customer_id with 400', async () => {
    const query = signedQuery([['logged_in_customer_id', '7001 OR 1=1']]);
    expect(await refused(query.toString())).toEqual({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION',
          message: 'logged_in_customer_id is not a Shopify customer id',
        },
      },
    });
  });
});
