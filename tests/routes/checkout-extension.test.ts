/**
 * The checkout endpoint (/api/checkout/rewards) with real HS256 checkout session tokens signed with
 * the test secret — the claims Shopify documents for checkout (dest, aud, exp, nbf, iat, jti and,
 * for a signed-in buyer, sub; no iss or sid) — through authenticate.public.checkout: only the
 * token's customer's issued, unexpired codes; a guest, a refused token, a crawler; CORS on every
 * answer, preflight included.
 */
import { createRequestHandler } from '@remix-run/server-runtime';
import { beforeAll, describe, expect, it, vi } from 'vitest';

// The app reads process.env when imported: set it before the imports below.
await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { useDatabase } from '../../app/db.server';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { createReward, reviseReward } from '../../app/models/rewards.server';
import type { RedemptionStatus } from '../../app/models/redemptions.server';
import * as rewardsRoute from '../../app/routes/api.checkout.rewards';
import { action, loader } from '../../app/routes/api.checkout.rewards';
import { redemptions } from '../../db/schema';
import type { IssuedValue } from '../../loyalty/rewards';
import {
  callLoader,
  CRAWLER_USER_AGENT,
  expectCors as expectCorsHeaders,
  expectPreflightAnswered,
  nowSeconds as now,
  PREFLIGHT,
  seededStorefront,
  withForgedClaims,
  type Answer,
  type Loader,
} from '../helpers/extension-endpoints';
import { routeTreeBuild } from '../helpers/route-tree';
import {
  accountRequest,
  accountToken,
  customerGid,
  OTHER_SHOP,
  SHOP,
  tripwireDatabase,
} from '../helpers/storefront';

const PATH = '/api/checkout/rewards';

/** A checkout session token: the customer-account claims without iss and sid. */
const checkoutToken = (claims: Record<string, unknown> = {}, options: { secret?: string } = {}) =>
  accountToken({ iss: undefined, sid: undefined, ...claims }, options);

/** A request from the checkout extension's worker (cross-origin). */
const checkoutRequest = (
  token: string | null,
  init: { method?: string; headers?: Record<string, string> } = {},
) =>
  accountRequest(PATH, token, {
    ...init,
    headers: { Origin: 'https://checkout.shopifycdn.com', ...init.headers },
  });

const call = (request: Request, handler: Loader = loader): Promise<Answer> =>
  callLoader(handler, request);

/** Every checkout answer also names the methods it allows. */
const expectCors = (headers: Headers) => expectCorsHeaders(headers, { methods: 'GET, OPTIONS' });

const DAY = 86_400_000;
const storefront = seededStorefront();
let redemptionIds = 0;

/** A redemption row as the redeem flow leaves it (that flow is app/redemption.server.ts's). */
async function redeemed(
  shopId: number,
  customerId: number,
  rewardId: number,
  fields: {
    status: RedemptionStatus;
    code: string | null;
    value: IssuedValue;
    expiresAt: Date | null;
    rewardVersion?: number;
  },
): Promise<string> {
  const [row] = await storefront.handle.db
    .insert(redemptions)
    .values({
      shopId,
      customerId,
      rewardId,
      rewardVersion: fields.rewardVersion ?? 1,
      requestId: `checkout-test-${++redemptionIds}`,
      status: fields.status,
      points: 500,
      value: fields.value,
      code: fields.code,
      debitEntryId: redemptionIds,
      expiresAt: fields.expiresAt,
      issuedAt: fields.status === 'pending' ? null : new Date(),
    })
    .returning({ id: redemptions.id });
  return String(row!.id);
}

const FIVE_OFF: IssuedValue = { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' };
const TEN_PERCENT: IssuedValue = { kind: 'percentage_off_order', percentage: 10 };
let ids: Record<string, string>;
let expiries: Record<string, string>;

beforeAll(async () => {
  const { db } = storefront.handle;
  const { shop, otherShop, customerIds } = storefront.seed;
  const fiveOff = await createReward(db, shop.id, {
    type: 'fixed_amount',
    title: '$5 off your next order',
    pointsCost: 500,
    amountMinor: 500,
  });
  const tenPercent = await createReward(db, shop.id, {
    type: 'percentage',
    title: '10% off',
    pointsCost: 800,
    percentage: 10,
  });
  const otherReward = await createReward(db, otherShop.id, {
    type: 'fixed_amount',
    title: '€5 off',
    pointsCost: 500,
    amountMinor: 500,
  });
  const inTenDays = new Date(Date.now() + 10 * DAY);
  const inTwentyDays = new Date(Date.now() + 20 * DAY);
  const ada = customerIds.ada;
  // Ada's $5-off redemptions in every state, in this order (their ids rise with it).
  const adaFiveOff = (status: RedemptionStatus, code: string, expiresAt: Date) =>
    redeemed(shop.id, ada, fiveOff.id, { status, code, value: FIVE_OFF, expiresAt });
  ids = {
    adaFiveOff: await adaFiveOff('issued', 'LRL-AAAA-AAAA-AAA1', inTenDays),
    adaUsed: await adaFiveOff('used', 'LRL-AAAA-AAAA-AAA2', inTenDays),
    adaExpired: await adaFiveOff('expired', 'LRL-AAAA-AAAA-AAA3', new Date(Date.now() - DAY)),
    adaPastExpiryNotSwept: await adaFiveOff(
      'issued',
      'LRL-AAAA-AAAA-AAA4',
      new Date(Date.now() - 60_000),
    ),
    adaPending: await adaFiveOff('pending', 'LRL-AAAA-AAAA-AAA5', inTenDays),
    adaFailed: await adaFiveOff('failed', 'LRL-AAAA-AAAA-AAA6', inTenDays),
    adaTenPercent: await redeemed(shop.id, ada, tenPercent.id, {
      status: 'issued',
      code: 'LRL-AAAA-AAAA-AAA7',
      value: TEN_PERCENT,
      expiresAt: inTwentyDays,
    }),
    bobFiveOff: await redeemed(shop.id, customerIds.bob, fiveOff.id, {
      status: 'issued',
      code: 'LRL-BBBB-BBBB-BBB1',
      value: FIVE_OFF,
      expiresAt: inTenDays,
    }),
  };
  // Eve is customer 7001 too — of the other shop.
  const eve = await findCustomerByExternalId(db, otherShop.id, '7001');
  ids.eve = await redeemed(otherShop.id, eve!.id, otherReward.id, {
    status: 'issued',
    code: 'LRL-EEEE-EEEE-EEE1',
    value: { kind: 'amount_off_order', amountMinor: 500, currency: 'EUR' },
    expiresAt: inTenDays,
  });
  // The reward is renamed after Ada redeemed it: her code keeps the title she redeemed.
  await reviseReward(db, shop.id, tenPercent.id, {
    type: 'percentage',
    title: '10% off (new name)',
    pointsCost: 800,
    percentage: 10,
  });
  expiries = { ten: inTenDays.toISOString(), twenty: inTwentyDays.toISOString() };
});

describe('GET /api/checkout/rewards', () => {
  it("answers the token's customer's issued, unexpired codes, newest first, with CORS, privately", async () => {
    const answer = await call(checkoutRequest(checkoutToken()));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      redemptions: [
        {
          id: ids.adaTenPercent,
          code: 'LRL-AAAA-AAAA-AAA7',
          title: '10% off',
          value: TEN_PERCENT,
          expiresAt: expiries.twenty,
        },
        {
          id: ids.adaFiveOff,
          code: 'LRL-AAAA-AAAA-AAA1',
          title: '$5 off your next order',
          value: FIVE_OFF,
          expiresAt: expiries.ten,
        },
      ],
    });
    expectCors(answer.headers);
    expect(answer.headers.get('Cache-Control')).toBe('private, no-store');
    expect(answer.headers.get('Content-Type')).toMatch(/^application\/json/);
  });

  it("never answers another customer's codes: each token gets its own", async () => {
    const bob = await call(checkoutRequest(checkoutToken({ sub: customerGid('7002') })));
    expect(bob.body).toEqual({
      redemptions: [expect.objectContaining({ id: ids.bobFiveOff, code: 'LRL-BBBB-BBBB-BBB1' })],
    });
    const many = await call(checkoutRequest(checkoutToken({ sub: customerGid('7003') })));
    expect(many.body).toEqual({ redemptions: [] });
    const stranger = await call(checkoutRequest(checkoutToken({ sub: customerGid('9999') })));
    expect(stranger.body).toEqual({ redemptions: [] });
  });

  it("keeps shops apart: customer 7001 of the other shop sees only that shop's code", async () => {
    const eve = await call(checkoutRequest(checkoutToken({ dest: OTHER_SHOP })));
    expect(eve.body).toEqual({
      redemptions: [expect.objectContaining({ id: ids.eve, code: 'LRL-EEEE-EEEE-EEE1' })],
    });
    const unknownShop = await call(
      checkoutRequest(checkoutToken({ dest: 'nobody-here.myshopify.com' })),
    );
    expect(unknownShop.body).toEqual({ redemptions: [] });
  });

  it('accepts dest with https:// and in upper case', async () => {
    const answer = await call(
      checkoutRequest(checkoutToken({ dest: `https://${SHOP.toUpperCase()}` })),
    );
    expect((answer.body as { redemptions: unknown[] }).redemptions).toHaveLength(2);
  });

  it('a guest (a token without sub): 401 NOT_LOGGED_IN, with CORS', async () => {
    const answer = await call(checkoutRequest(checkoutToken({ sub: undefined })));
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: { code: 'NOT_LOGGED_IN', message: 'sign in to use your rewards' },
    });
    expectCors(answer.headers);
  });

  it('answers 405 to anything but GET and OPTIONS, with CORS', async () => {
    const answer = await call(checkoutRequest(checkoutToken(), { method: 'POST' }), action);
    expect(answer.status).toBe(405);
    expect(answer.headers.get('Allow')).toBe('GET, OPTIONS');
    expect(answer.body).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    expectCors(answer.headers);
  });
});

describe('refused tokens', () => {
  it.each([
    ['no Authorization header', () => null],
    ['an expired token', () => checkoutToken({ exp: now() - 60, iat: now() - 400, nbf: now() - 400 })], // prettier-ignore
    ['a token not valid yet', () => checkoutToken({ nbf: now() + 120 })],
    ['a token signed with another secret', () => checkoutToken({}, { secret: 'another-apps-secret' })], // prettier-ignore
    ['a token for another app', () => checkoutToken({ aud: 'another-app' })],
    ['a token naming no shop', () => checkoutToken({ dest: undefined })],
    ['a token naming a shop that is not a myshopify domain', () => checkoutToken({ dest: 'evil.example.com' })], // prettier-ignore
    ['a sub that is not a customer', () => checkoutToken({ sub: 'gid://shopify/StaffMember/1' })],
    ['a tampered payload', () => withForgedClaims(checkoutToken())],
  ])('%s: 401 UNAUTHORIZED, with CORS, nothing read', async (_, token) => {
    const tripwire = tripwireDatabase();
    useDatabase(tripwire.handle);
    const answer = await call(checkoutRequest(token()));
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expectCors(answer.headers);
    expect(tripwire.touched()).toBe(false);
  });

  it('a valid token does read (so the tripwire above can fail)', async () => {
    const tripwire = tripwireDatabase();
    useDatabase(tripwire.handle);
    const answer = await call(checkoutRequest(checkoutToken()));
    expect(answer.status).toBe(500);
    expect(tripwire.touched()).toBe(true);
  });

  it('refuses a crawler with 403, with CORS', async () => {
    const answer = await call(
      checkoutRequest(checkoutToken(), {
        headers: { 'User-Agent': CRAWLER_USER_AGENT },
      }),
    );
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expectCors(answer.headers);
  });
});

describe('preflight', () => {
  it('answers OPTIONS with 204 and CORS, without a token and without reading', async () => {
    await expectPreflightAnswered(loader, checkoutRequest(null, PREFLIGHT));
  });
});

describe('through the real route tree', () => {
  const handler = () =>
    createRequestHandler(routeTreeBuild({ 'routes/api.checkout.rewards': rewardsRoute }));

  it('GET /api/checkout/rewards reaches the loader', async () => {
    const response = await handler()(checkoutRequest(checkoutToken()));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { redemptions: unknown[] }).redemptions).toHaveLength(2);
  });

  it('the browser preflight (Remix sends OPTIONS to the action) is answered 204 with CORS', async () => {
    const response = await handler()(
      checkoutRequest(null, {
        method: 'OPTIONS',
        headers: { 'Access-Control-Request-Method': 'GET' },
      }),
    );
    expect(response.status).toBe(204);
    expectCors(response.headers);
  });
});
