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
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { loader as adminIndex } from '../../app/routes/app._index';
import { loader as proxy } from '../../app/routes/proxy';
import { sessionStorage } from '../../app/shopify.server';
import { referenceProgramIn } from '../../app/shop-setup.server';
import { openPipeline, type Pipeline } from '../helpers/pipeline';

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

/** A storefront request through the app proxy, signed as Shopify signs it. */
function proxyRequest(params: Record<string, string>, secret = ENV.SHOPIFY_API_SECRET): Request {
  const all = {
    shop: SHOP,
    path_prefix: '/apps/loyalty',
    timestamp: String(Math.floor(Date.now() / 1000)),
    ...params,
  };
  const message = Object.entries(all)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('');
  const signature = createHmac('sha256', secret).update(message).digest('hex');
  return new Request(`https://laurel.test/proxy?${new URLSearchParams({ ...all, signature })}`);
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
    expect(data).toEqual({
      shop: SHOP,
      setUp: true,
      currency: 'EUR',
      timezone: 'Europe/Paris',
      program: { version: 1, name: 'Reference' },
      members: 3,
      pointsOutstanding: 150,
    });
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
    const thrown = await proxy(
      args(proxyRequest({ logged_in_customer_id: '7001' }, 'wrong-secret')),
    ).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(Response);
    expect((thrown as Response).status).toBe(400);
  });
});
