/**
 * GET /apps/loyalty/early-access?product=… (→ /proxy/early-access), signed as Shopify's app proxy
 * signs it: a Gold member, a Bronze member and a logged-out shopper asking about products whose
 * window has not started, is under way (Gold may buy, everyone else waits) and has ended — decided
 * from the database and the server's clock. Bad product parameters are refused before anything is
 * read; the shopper is only ever the signed logged_in_customer_id.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { useDatabase } from '../../app/db.server';
import type { EarlyAccessAnswer } from '../../app/early-access.server';
import {
  createWindow,
  lockShopMirrors,
  markProductMirrorsPending,
} from '../../app/models/early-access.server';
import { currentTierProgram } from '../../app/models/tiers.server';
import { action, loader } from '../../app/routes/proxy.early-access';
import { localTimeText, parseEarlyAccessWindow } from '../../loyalty/early-access';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import {
  OTHER_SHOP,
  proxyRequest,
  seedStorefront,
  type StorefrontSeed,
} from '../helpers/storefront';
import { seedTierProgram, setMemberTier } from '../helpers/tiers';

const NY = 'America/New_York';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Whole minutes, so the shop-local text a window is written in names exactly these instants.
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const local = (ms: number) => localTimeText(ms, NY).slice(0, 16);
const iso = (ms: number) => new Date(ms).toISOString();

const PRODUCTS = {
  before: '9101',
  during: '9102',
  after: '9103',
  none: '9104',
  viaCollection: '9105',
};

let handle: TestDatabase;
let seed: StorefrontSeed;
const windowIds: Record<string, number> = {};

const args = (request: Request) => ({ request, params: {}, context: {} }) as LoaderFunctionArgs;

async function ask(params: Record<string, string>) {
  const response = await loader(args(proxyRequest('/proxy/early-access', params)));
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as unknown,
  };
}

async function answer(product: string, customer?: '7001' | '7002') {
  const result = await ask({
    product,
    ...(customer ? { logged_in_customer_id: customer } : {}),
  });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body as EarlyAccessAnswer;
}

async function addWindow(
  name: string,
  target: { type: 'product' | 'collection'; id: string },
  goldAt: number,
  everyoneAt: number,
  products: string[],
) {
  const db = handle.db;
  const program = await currentTierProgram(db, seed.shop.id);
  const context = { timeZone: NY, tiers: program!.program };
  const window = parseEarlyAccessWindow(
    {
      name,
      target,
      stages: [{ tier: 'gold', opensAt: local(goldAt) }],
      everyoneAt: local(everyoneAt),
    },
    context,
  );
  await db.transaction(async (tx) => {
    await lockShopMirrors(tx, seed.shop.id);
    const row = await createWindow(tx, seed.shop.id, {
      window,
      targetId: target.id,
      targetTitle: name,
    });
    windowIds[name] = row.id;
    await markProductMirrorsPending(tx, seed.shop.id, products, {
      context,
      now: new Date(NOW),
      include: [row.id],
    });
  });
}

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  seed = await seedStorefront(handle.db);
  useDatabase(handle);
  await seedTierProgram(handle.db, seed.shop.id);
  await setMemberTier(handle.db, seed.shop.id, seed.customerIds.ada, 'gold');
  await setMemberTier(handle.db, seed.shop.id, seed.customerIds.bob, 'bronze');
  await addWindow('Not yet', { type: 'product', id: PRODUCTS.before }, NOW + HOUR, NOW + 2 * DAY, [
    PRODUCTS.before,
  ]);
  await addWindow('Under way', { type: 'product', id: PRODUCTS.during }, NOW - HOUR, NOW + DAY, [
    PRODUCTS.during,
  ]);
  await addWindow('Over', { type: 'product', id: PRODUCTS.after }, NOW - 2 * DAY, NOW - HOUR, [
    PRODUCTS.after,
  ]);
  await addWindow('Winter teas', { type: 'collection', id: '5001' }, NOW - HOUR, NOW + DAY, [
    PRODUCTS.viaCollection,
  ]);
});
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});

describe('GET /proxy/early-access: Gold, Bronze and logged out, before, during and after', () => {
  it('before the window: nobody may buy; Gold opens at its stage, the others when everyone does', async () => {
    const gold = await answer(PRODUCTS.before, '7001');
    expect(gold).toEqual({
      allowed: false,
      opensAt: iso(NOW + HOUR),
      tier: { key: 'gold', name: 'Gold' },
      windows: [
        { id: windowIds['Not yet'], name: 'Not yet', opensAt: iso(NOW + HOUR), phase: 'before' },
      ],
    });
    expect(await answer(PRODUCTS.before, '7002')).toMatchObject({
      allowed: false,
      opensAt: iso(NOW + 2 * DAY),
      tier: { key: 'bronze', name: 'Bronze' },
    });
    expect(await answer(PRODUCTS.before)).toMatchObject({
      allowed: false,
      opensAt: iso(NOW + 2 * DAY),
      tier: null,
    });
  });

  it('during the window: Gold may buy; Bronze and logged-out shoppers wait for everyone', async () => {
    expect(await answer(PRODUCTS.during, '7001')).toEqual({
      allowed: true,
      opensAt: null,
      tier: { key: 'gold', name: 'Gold' },
      windows: [{ id: windowIds['Under way'], name: 'Under way', opensAt: null, phase: 'early' }],
    });
    expect(await answer(PRODUCTS.during, '7002')).toEqual({
      allowed: false,
      opensAt: iso(NOW + DAY),
      tier: { key: 'bronze', name: 'Bronze' },
      windows: [
        { id: windowIds['Under way'], name: 'Under way', opensAt: iso(NOW + DAY), phase: 'early' },
      ],
    });
    expect(await answer(PRODUCTS.during)).toMatchObject({
      allowed: false,
      opensAt: iso(NOW + DAY),
    });
    // The product's gid is the same product.
    expect(await answer(`gid://shopify/Product/${PRODUCTS.during}`, '7001')).toMatchObject({
      allowed: true,
    });
  });

  it('after the window: everyone may buy', async () => {
    for (const customer of ['7001', '7002', undefined] as const) {
      expect(await answer(PRODUCTS.after, customer)).toMatchObject({
        allowed: true,
        opensAt: null,
        windows: [{ id: windowIds.Over, phase: 'open', opensAt: null }],
      });
    }
  });

  it('a collection window covers the products recorded for it', async () => {
    expect(await answer(PRODUCTS.viaCollection, '7001')).toMatchObject({ allowed: true });
    expect(await answer(PRODUCTS.viaCollection, '7002')).toMatchObject({
      allowed: false,
      windows: [{ id: windowIds['Winter teas'], name: 'Winter teas' }],
    });
  });

  it('a product no window covers, and a customer Laurel does not know, may buy', async () => {
    expect(await answer(PRODUCTS.none, '7002')).toEqual({
      allowed: true,
      opensAt: null,
      tier: { key: 'bronze', name: 'Bronze' },
      windows: [],
    });
    const stranger = await ask({ product: PRODUCTS.during, logged_in_customer_id: '99999' });
    expect(stranger.body).toMatchObject({ allowed: false, tier: null });
  });

  it('answers privately: one shopper’s answer', async () => {
    const result = await ask({ product: PRODUCTS.during, logged_in_customer_id: '7001' });
    expect(result.headers.get('Cache-Control')).toBe('private, no-store');
  });
});

describe('GET /proxy/early-access: refusals', () => {
  it.each([
    [{}, 'the product parameter is required (?product=<id>)'],
    [{ product: '' }, 'the product parameter is required (?product=<id>)'],
    [
      { product: 'tea' },
      'the product parameter must be a product id such as 8001 or gid://shopify/Product/8001',
    ],
    [
      { product: 'gid://shopify/Collection/9102' },
      'the product parameter must be a product id such as 8001 or gid://shopify/Product/8001',
    ],
  ])('%j → 400 with the reason', async (params, message) => {
    const result = await ask(params as Record<string, string>);
    expect(result.status).toBe(400);
    expect(result.body).toEqual({ error: { code: 'VALIDATION', message } });
  });

  it('a product parameter given twice is refused', async () => {
    const response = await loader(
      args(
        proxyRequest('/proxy/early-access', [
          ['product', PRODUCTS.during],
          ['product', PRODUCTS.none],
        ]),
      ),
    );
    expect(response.status).toBe(400);
  });

  it('an unsigned request or a customer id added to a signed one: 401', async () => {
    const unsigned = await loader(
      args(new Request(`https://laurel.test/proxy/early-access?product=${PRODUCTS.during}`)),
    );
    expect(unsigned.status).toBe(401);
    const signed = proxyRequest('/proxy/early-access', { product: PRODUCTS.during });
    const forged = new Request(`${signed.url}&logged_in_customer_id=7001`);
    expect((await loader(args(forged))).status).toBe(401);
  });

  it("a stale signature: 401; a Gold member's id signed for another shop is nobody there", async () => {
    const stale = await loader(
      args(
        proxyRequest(
          '/proxy/early-access',
          { product: PRODUCTS.during, logged_in_customer_id: '7001' },
          { timestamp: Math.floor(Date.now() / 1000) - 600 },
        ),
      ),
    );
    expect(stale.status).toBe(401);
    // 7001 is Ada (Gold) in SHOP; in OTHER_SHOP it is Eve, who holds no tier and sees no window.
    const elsewhere = await loader(
      args(
        proxyRequest(
          '/proxy/early-access',
          { product: PRODUCTS.during, logged_in_customer_id: '7001' },
          { shop: OTHER_SHOP },
        ),
      ),
    );
    expect(elsewhere.status).toBe(200);
    expect(await elsewhere.json()).toEqual({
      allowed: true,
      opensAt: null,
      tier: null,
      windows: [],
    });
  });

  it('anything but GET: 405', async () => {
    const response = await action(
      args(
        new Request(proxyRequest('/proxy/early-access', { product: PRODUCTS.during }).url, {
          method: 'POST',
        }),
      ),
    );
    expect(response.status).toBe(405);
  });
});
