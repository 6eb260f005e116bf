/**
 * The referral surfaces of the app proxy, signed as Shopify signs them: the share link's landing
 * (/apps/loyalty/r/<code> → /proxy/r/<code>) for every outcome, each Shopify-signed landing
 * recorded with its IP as the shop's keyed hash and nothing recorded for a forged one; and
 * GET /apps/loyalty/referral for a member (code made on the first call, counts), logged out, and
 * shops without a referral program.
 */
import { createHmac } from 'node:crypto';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { useDatabase } from '../../app/db.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { fingerprint, fingerprintKeyOf } from '../../app/models/fingerprints.server';
import { post } from '../../app/models/ledger.server';
import {
  ensureReferralCodes,
  referralCodeOf,
  setReferralCodeStatus,
  type ReferralCode,
} from '../../app/models/referral-codes.server';
import { publishReferralProgram } from '../../app/models/referral-programs.server';
import { ensureShop, markShopUninstalled, type Shop } from '../../app/models/shops.server';
import { clientIpOf, memberReferralLoader } from '../../app/referral-proxy.server';
import { action as landingAction, loader as landingLoader } from '../../app/routes/proxy.r.$code';
import { referralClicks, referrals } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import {
  OTHER_SHOP,
  proxyRequest,
  seedStorefront,
  SHOP,
  STOREFRONT_ENV,
  type StorefrontSeed,
} from '../helpers/storefront';

const PROGRAM = {
  enabled: true,
  currency: 'USD',
  friendDiscount: { percentage: 10 },
  referrerReward: { points: 500 },
};
const NO_PROGRAM_SHOP = 'laurel-no-referrals.myshopify.com';
const GONE_SHOP = 'laurel-uninstalled.myshopify.com';
const WELCOME = `?redirect=${encodeURIComponent('/?laurel_referral=1')}`;

let handle: TestDatabase;
let seed: StorefrontSeed;
let adaCode: ReferralCode;
let bobCode: ReferralCode;
let eveCode: ReferralCode;
let noProgramShop: Shop;
const syncRequests: string[] = [];
const referralLoader = memberReferralLoader(() => ({
  requestSync: async (shop) => {
    syncRequests.push(shop);
  },
}));

const args = (request: Request, params: Record<string, string> = {}) =>
  ({ request, params, context: {} }) as LoaderFunctionArgs;

/** A share link followed by a shopper at `ip`, as Shopify's proxy forwards it. */
function landingRequest(
  code: string,
  options: { ip?: string; shop?: string; secret?: string; timestamp?: number } = {},
) {
  const { ip, ...signing } = options;
  return proxyRequest(
    `/proxy/r/${encodeURIComponent(code)}`,
    {},
    {
      ...signing,
      headers: ip === undefined ? {} : { 'X-Forwarded-For': `${ip}, 10.0.0.7` },
    },
  );
}

async function land(code: string, options: Parameters<typeof landingRequest>[1] = {}) {
  const response = await landingLoader(args(landingRequest(code, options), { code }));
  expect(response.status).toBe(302);
  expect(response.headers.get('Cache-Control')).toBe('private, no-store');
  expect(await response.text()).toBe('');
  return response.headers.get('Location');
}

async function clicks(shopId: number) {
  return handle.db
    .select()
    .from(referralClicks)
    .where(eq(referralClicks.shopId, shopId))
    .orderBy(referralClicks.id);
}

async function askReferral(params: Record<string, string>, shop?: string) {
  const response = await referralLoader(
    args(proxyRequest('/proxy/referral', params, shop ? { shop } : {})),
  );
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  seed = await seedStorefront(handle.db);
  useDatabase(handle);
  const db = handle.db;
  await publishReferralProgram(db, seed.shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
  const codes = await ensureReferralCodes(
    db,
    seed.shop.id,
    [seed.customerIds.ada, seed.customerIds.bob],
    'FRIEND-',
  );
  adaCode = codes.get(seed.customerIds.ada)!;
  bobCode = codes.get(seed.customerIds.bob)!;
  await setReferralCodeStatus(db, seed.shop.id, [adaCode.id], 'active');

  await publishReferralProgram(
    db,
    seed.otherShop.id,
    { ...PROGRAM, currency: 'EUR' },
    new Date('2026-01-01T00:00:00Z'),
  );
  const eve = await ensureCustomer(db, seed.otherShop.id, { externalId: '7001' });
  eveCode = (await ensureReferralCodes(db, seed.otherShop.id, [eve.id], 'PAL-')).get(eve.id)!;
  await setReferralCodeStatus(db, seed.otherShop.id, [eveCode.id], 'active');

  noProgramShop = await ensureShop(db, { domain: NO_PROGRAM_SHOP, currency: 'USD' });
  await ensureCustomer(db, noProgramShop.id, { externalId: '7001' });
  const gone = await ensureShop(db, { domain: GONE_SHOP, currency: 'USD' });
  await publishReferralProgram(db, gone.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
  await markShopUninstalled(db, gone.id);
});
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});

describe('the client IP Shopify forwards', () => {
  it.each([
    ['203.0.113.5', '203.0.113.5'],
    ['203.0.113.5, 10.0.0.7', '203.0.113.5'],
    [' 2001:DB8::1 ,10.0.0.7', '2001:db8::1'],
    ['::ffff:203.0.113.5', '203.0.113.5'],
    ['unknown', null],
    ['', null],
  ])('X-Forwarded-For %j → %j', (header, ip) => {
    expect(clientIpOf(new Headers({ 'X-Forwarded-For': header }))).toBe(ip);
  });

  it('is null without the header', () => {
    expect(clientIpOf(new Headers())).toBeNull();
  });
});

describe('GET /proxy/r/<code>: the share link landing', () => {
  it("an active code of the shop's enabled program: Shopify's discount URL, then home welcomed", async () => {
    expect(await land(adaCode.friendCode, { ip: '203.0.113.5' })).toBe(
      `/discount/${adaCode.friendCode}${WELCOME}`,
    );
    // The bare random part and any letter case are the same code.
    expect(await land(adaCode.code.toLowerCase(), { ip: '203.0.113.5' })).toBe(
      `/discount/${adaCode.friendCode}${WELCOME}`,
    );
    const key = await fingerprintKeyOf(handle.db, seed.shop.id);
    const recorded = (await clicks(seed.shop.id)).slice(-2);
    expect(recorded.map((c) => [c.codeId, c.outcome, c.ipHash])).toEqual([
      [adaCode.id, 'redirected', fingerprint(key, 'ip', '203.0.113.5')],
      [adaCode.id, 'redirected', fingerprint(key, 'ip', '203.0.113.5')],
    ]);
    // A keyed hash, never the address.
    expect(recorded[0]!.ipHash).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['an unknown code', 'FRIEND-ZZZZZZZZ', 'unknown_code'],
    ['text that cannot be a code', 'not a code!', 'unknown_code'],
    ['an empty code', '', 'unknown_code'],
  ])('%s: home, recorded as %s', async (_what, code, outcome) => {
    expect(await land(code, { ip: '198.51.100.9' })).toBe('/');
    const [last] = (await clicks(seed.shop.id)).slice(-1);
    expect(last).toMatchObject({ codeId: null, outcome });
  });

  it('a code Shopify does not hold yet (pending), or refused (failed): home, recorded', async () => {
    expect(await land(bobCode.friendCode, { ip: '198.51.100.9' })).toBe('/');
    expect((await clicks(seed.shop.id)).at(-1)).toMatchObject({
      codeId: bobCode.id,
      outcome: 'inactive_code',
    });
    await setReferralCodeStatus(handle.db, seed.shop.id, [bobCode.id], 'failed', 'refused');
    expect(await land(bobCode.friendCode)).toBe('/');
    expect((await clicks(seed.shop.id)).at(-1)).toMatchObject({
      codeId: bobCode.id,
      outcome: 'inactive_code',
      ipHash: null,
    });
    await setReferralCodeStatus(handle.db, seed.shop.id, [bobCode.id], 'pending');
  });

  it("another shop's code: home, recorded as unknown in this shop, nothing in the other", async () => {
    const before = (await clicks(seed.otherShop.id)).length;
    expect(await land(eveCode.friendCode, { ip: '198.51.100.9' })).toBe('/');
    expect((await clicks(seed.shop.id)).at(-1)).toMatchObject({
      codeId: null,
      outcome: 'unknown_code',
    });
    expect(await clicks(seed.otherShop.id)).toHaveLength(before);
    // The same code through the other shop's proxy works there.
    expect(await land(eveCode.friendCode, { shop: OTHER_SHOP })).toBe(
      `/discount/${eveCode.friendCode}${WELCOME}`,
    );
  });

  it('a shop without a referral program, or uninstalled: home', async () => {
    expect(await land(adaCode.friendCode, { shop: NO_PROGRAM_SHOP })).toBe('/');
    expect(await clicks(noProgramShop.id)).toMatchObject([{ codeId: null, outcome: 'disabled' }]);
    expect(await land('FRIEND-ABCDEFGH', { shop: GONE_SHOP })).toBe('/');
    expect(await land('FRIEND-ABCDEFGH', { shop: 'laurel-unknown.myshopify.com' })).toBe('/');
  });

  it.each([
    ['unsigned', () => new Request(`https://laurel.test/proxy/r/${adaCode.friendCode}`)],
    [
      'signed with another secret',
      () => landingRequest(adaCode.friendCode, { secret: 'forged', ip: '203.0.113.5' }),
    ],
    [
      'stale (signed 10 minutes ago)',
      () => landingRequest(adaCode.friendCode, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
    ],
    [
      'with a repeated shop parameter',
      () =>
        new Request(
          `${landingRequest(adaCode.friendCode).url}&shop=${encodeURIComponent(OTHER_SHOP)}`,
        ),
    ],
  ])('%s: home, no error page, and no click recorded', async (_what, request) => {
    const before = (await clicks(seed.shop.id)).length;
    const response = await landingLoader(args(request(), { code: adaCode.friendCode }));
    expect(response.status).toBe(302);
    expect(response.headers.get('Location')).toBe('/');
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
    expect(await clicks(seed.shop.id)).toHaveLength(before);
  });

  it('a POST to a share link goes home too', async () => {
    const response = landingAction();
    expect(response.status).toBe(302);
    expect(response.headers.get('Location')).toBe('/');
  });
});

describe("GET /proxy/referral: the member's link and counts", () => {
  it('answers the member their friend code, link and counts, active once Shopify holds it', async () => {
    // Two friends (one rewarded, one held), a rejected one not counted; 500 points net of a reversal.
    const db = handle.db;
    for (const [order, status] of [
      ['9001', 'rewarded'],
      ['9002', 'held'],
      ['9003', 'rejected'],
    ] as const) {
      await db.insert(referrals).values({
        shopId: seed.shop.id,
        referrerCustomerId: seed.customerIds.ada,
        codeId: adaCode.id,
        shopifyOrderId: order,
        orderName: `#${order}`,
        discountCode: adaCode.friendCode,
        programVersion: 1,
        status,
        orderAmountMinor: 5000,
        paidAt: new Date('2026-03-01T12:00:00Z'),
      });
    }
    for (const [key, points] of [
      ['referral:1:reward', 500],
      ['referral:2:reward', 500],
      ['referral:2:reverse', -500],
      ['referral:3:reward', 500],
    ] as const) {
      await post(db, seed.shop.id, {
        customerId: seed.customerIds.ada,
        idempotencyKey: key,
        source: 'referral',
        points,
        occurredAt: new Date('2026-03-02T12:00:00Z'),
        inputs: { rule: points > 0 ? 'referral-reward' : 'referral-reversal' },
      });
    }
    const { status, headers, body } = await askReferral({ logged_in_customer_id: '7001' });
    expect(status).toBe(200);
    expect(headers.get('Cache-Control')).toBe('private, no-store');
    expect(body).toEqual({
      code: adaCode.friendCode,
      url: `https://${SHOP}/apps/loyalty/r/${adaCode.friendCode}`,
      active: true,
      friendsJoined: 2,
      rewardsEarned: 1000,
    });
    expect(syncRequests).toEqual([]);
  });

  it("a pending code is answered as not active yet; nobody's code is made twice", async () => {
    const { body } = await askReferral({ logged_in_customer_id: '7002' });
    expect(body).toMatchObject({ code: bobCode.friendCode, active: false, friendsJoined: 0 });
    expect(syncRequests).toEqual([]);
  });

  it('makes the code of a member who has none on the first call, with the prefix, and asks for a sync', async () => {
    const many = seed.customerIds.many;
    expect(await referralCodeOf(handle.db, seed.shop.id, many)).toBeUndefined();
    const first = await askReferral({ logged_in_customer_id: '7003' });
    expect(first.status).toBe(200);
    const made = await referralCodeOf(handle.db, seed.shop.id, many);
    expect(made).toMatchObject({ status: 'pending' });
    expect(made!.friendCode).toMatch(/^FRIEND-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/);
    expect(first.body).toEqual({
      code: made!.friendCode,
      url: `https://${SHOP}/apps/loyalty/r/${made!.friendCode}`,
      active: false,
      friendsJoined: 0,
      rewardsEarned: 0,
    });
    expect(syncRequests).toEqual([SHOP]);
    // The second call answers the same code and asks for nothing.
    const again = await askReferral({ logged_in_customer_id: '7003' });
    expect(again.body.code).toBe(made!.friendCode);
    expect(syncRequests).toEqual([SHOP]);
  });

  it('a failed sync request still answers the code (the sweep adds it later)', async () => {
    const failing = memberReferralLoader(() => ({
      requestSync: () => Promise.reject(new Error('redis down')),
    }));
    const customer = await ensureCustomer(handle.db, seed.shop.id, { externalId: '7009' });
    const response = await failing(
      args(proxyRequest('/proxy/referral', { logged_in_customer_id: '7009' })),
    );
    expect(response.status).toBe(200);
    const made = await referralCodeOf(handle.db, seed.shop.id, customer.id);
    expect(await response.json()).toMatchObject({ code: made!.friendCode, active: false });
  });

  it('builds the link under the path prefix Shopify signed (a merchant may move the proxy)', async () => {
    const response = await referralLoader(args(movedProxyRequest('7001', '/a/rewards')));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      url: `https://${SHOP}/a/rewards/r/${adaCode.friendCode}`,
    });
  });

  it('logged out: 401 NOT_LOGGED_IN in the shared shape', async () => {
    const { status, body } = await askReferral({});
    expect(status).toBe(401);
    expect(body).toEqual({
      error: { code: 'NOT_LOGGED_IN', message: 'log in to get your referral link' },
    });
  });

  it('a shop with no referral program: 404 NOT_FOUND; no code is made', async () => {
    const { status, body } = await askReferral({ logged_in_customer_id: '7001' }, NO_PROGRAM_SHOP);
    expect(status).toBe(404);
    expect(body).toEqual({
      error: { code: 'NOT_FOUND', message: 'this shop has no referral program' },
    });
  });

  it('a customer Laurel has not enrolled: 404 NOT_FOUND, nothing made', async () => {
    const { status, body } = await askReferral({ logged_in_customer_id: '7999' });
    expect(status).toBe(404);
    expect((body.error as { code: string }).code).toBe('NOT_FOUND');
  });

  it('a shop Laurel is not installed on: 409 SHOP_INACTIVE', async () => {
    const { status, body } = await askReferral({ logged_in_customer_id: '7001' }, GONE_SHOP);
    expect(status).toBe(409);
    expect((body.error as { code: string }).code).toBe('SHOP_INACTIVE');
  });

  it('unsigned: 401 UNAUTHORIZED, nothing read', async () => {
    const response = await referralLoader(
      args(new Request('https://laurel.test/proxy/referral?logged_in_customer_id=7001')),
    );
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'UNAUTHORIZED',
    );
  });
});

describe('a program turned off', () => {
  beforeAll(async () => {
    await publishReferralProgram(handle.db, seed.shop.id, { ...PROGRAM, enabled: false });
  });

  it('the landing of an active code goes home, recorded as disabled', async () => {
    expect(await land(adaCode.friendCode, { ip: '203.0.113.5' })).toBe('/');
    expect((await clicks(seed.shop.id)).at(-1)).toMatchObject({
      codeId: adaCode.id,
      outcome: 'disabled',
    });
  });

  it('GET /proxy/referral: 404 NOT_FOUND, the program is off', async () => {
    const { status, body } = await askReferral({ logged_in_customer_id: '7001' });
    expect(status).toBe(404);
    expect(body).toEqual({
      error: { code: 'NOT_FOUND', message: "this shop's referral program is turned off" },
    });
  });

  it('counted every Shopify-signed landing of this file, in this shop only', async () => {
    const all = await clicks(seed.shop.id);
    const ada = await handle.db
      .select()
      .from(referralClicks)
      .where(and(eq(referralClicks.shopId, seed.shop.id), eq(referralClicks.codeId, adaCode.id)));
    expect(all.length).toBeGreaterThan(ada.length);
    expect(ada.map((c) => c.outcome)).toEqual(['redirected', 'redirected', 'disabled']);
  });
});

/** /proxy/referral as Shopify signs it with the proxy mounted at `pathPrefix`. */
function movedProxyRequest(customerId: string, pathPrefix: string): Request {
  const query: [string, string][] = [
    ['shop', SHOP],
    ['logged_in_customer_id', customerId],
    ['path_prefix', pathPrefix],
    ['timestamp', String(Math.floor(Date.now() / 1000))],
  ];
  const message = [...query]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('');
  const signature = createHmac('sha256', STOREFRONT_ENV.SHOPIFY_API_SECRET)
    .update(message)
    .digest('hex');
  return new Request(
    `https://laurel.test/proxy/referral?${new URLSearchParams([...query, ['signature', signature]])}`,
  );
}
