/**
 * POST /apps/loyalty/birthday and /apps/loyalty/social-follow (→ /proxy/…), signed as Shopify's app
 * proxy signs them: the shopper is only the signed logged_in_customer_id, bodies are validated
 * naming the field, refusals come in the shared shape (401 logged out, 405 GET, 409 a birthday
 * changed too soon, 429 with Retry-After), and the awards land on the ledger.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { useDatabase } from '../../app/db.server';
import { getBirthday } from '../../app/models/birthdays.server';
import { publishBonusProgram } from '../../app/models/bonus-programs.server';
import { findCustomerByExternalId, redactCustomer } from '../../app/models/customers.server';
import { entriesFor } from '../../app/models/ledger.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import * as birthdayRoute from '../../app/routes/proxy.birthday';
import * as socialRoute from '../../app/routes/proxy.social-follow';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { OTHER_SHOP, proxyRequest, SHOP } from '../helpers/storefront';

let handle: TestDatabase;
let shop: Shop;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  useDatabase(handle);
  shop = await ensureShop(handle.db, { domain: SHOP, currency: 'USD', timezone: 'UTC' });
  await publishBonusProgram(
    handle.db,
    shop.id,
    {
      birthdayPoints: 200,
      social: { instagram: { url: 'https://instagram.com/laurel', points: 25 } },
    },
    new Date('2020-01-01T00:00:00Z'),
  );
});
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});

type Route = { action: (args: ActionFunctionArgs) => Promise<Response> };

async function send(
  route: Route,
  path: string,
  body: unknown,
  customer: string | null,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
) {
  const signed = proxyRequest(path, customer ? { logged_in_customer_id: customer } : {});
  const request = new Request(signed.url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const response = await route.action({ request, params: {}, context: {} } as ActionFunctionArgs);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const bonusKeysOf = async (externalId: string) => {
  const customer = await findCustomerByExternalId(handle.db, shop.id, externalId);
  if (!customer) return [];
  return (await entriesFor(handle.db, shop.id, customer.id)).map((e) => e.idempotencyKey);
};

describe('POST /apps/loyalty/birthday', () => {
  it('stores month and day, awards at once in the current month, refuses a change too soon', async () => {
    const month = new Date().getUTCMonth() + 1;
    const first = await send(birthdayRoute, '/proxy/birthday', { month, day: 1 }, '8801');
    expect(first).toMatchObject({
      status: 200,
      body: { birthday: { month, day: 1 }, status: 'saved', pointsAwarded: 200 },
    });
    expect(first.headers.get('Cache-Control')).toBe('private, no-store');
    const again = await send(birthdayRoute, '/proxy/birthday', { month, day: '1' }, '8801');
    expect(again.body).toMatchObject({ status: 'unchanged', pointsAwarded: 0 });
    const changed = await send(birthdayRoute, '/proxy/birthday', { month, day: 2 }, '8801');
    expect(changed.status).toBe(409);
    expect(changed.body).toEqual({
      error: {
        code: 'CONFLICT',
        message: expect.stringMatching(
          /^your birthday was set recently; it can be changed from \d{4}-\d{2}-\d{2}$/,
        ) as string,
      },
    });
    expect(await bonusKeysOf('8801')).toEqual([`birthday:8801:${new Date().getUTCFullYear()}`]);
  });

  it('refuses bad bodies naming the field, and saves nothing', async () => {
    const cases: [unknown, string][] = [
      [{ month: 2, day: 30 }, 'day month 2 has no day 30'],
      [{ month: 13, day: 1 }, 'month must be a whole number from 1 to 12'],
      [{ month: 5, day: 1, year: 1990 }, 'year is not accepted (month and day only)'],
      [{}, 'month must be a whole number from 1 to 12'],
    ];
    for (const [body, message] of cases) {
      const answer = await send(birthdayRoute, '/proxy/birthday', body, '8802');
      expect(answer, JSON.stringify(body)).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION', message } },
      });
    }
    const form = await send(birthdayRoute, '/proxy/birthday', 'month=5&day=1', '8802', {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const customer = await findCustomerByExternalId(handle.db, shop.id, '8802');
    expect(customer).toBeUndefined();
  });

  it('logged out is 401, GET is 405, unsigned is 401', async () => {
    const loggedOut = await send(birthdayRoute, '/proxy/birthday', { month: 1, day: 1 }, null);
    expect(loggedOut).toMatchObject({ status: 401, body: { error: { code: 'NOT_LOGGED_IN' } } });
    const get = await birthdayRoute.loader({
      request: proxyRequest('/proxy/birthday', { logged_in_customer_id: '8801' }),
      params: {},
      context: {},
    } as LoaderFunctionArgs);
    expect(get.status).toBe(405);
    const unsigned = await birthdayRoute.action({
      request: new Request('https://laurel.test/proxy/birthday?logged_in_customer_id=8801', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"month":1,"day":1}',
      }),
      params: {},
      context: {},
    } as ActionFunctionArgs);
    expect(unsigned.status).toBe(401);
  });
});

describe('POST /apps/loyalty/social-follow', () => {
  it('awards once; a second claim within 30 s is 429 with Retry-After', async () => {
    const first = await send(socialRoute, '/proxy/social-follow', { network: 'instagram' }, '8803');
    expect(first).toMatchObject({
      status: 200,
      body: { network: 'instagram', status: 'awarded', pointsAwarded: 25 },
    });
    const second = await send(
      socialRoute,
      '/proxy/social-follow',
      { network: 'instagram' },
      '8803',
    );
    expect(second.status).toBe(429);
    expect(second.body).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: 'too many claims: one claim per 30 seconds; try again later',
      },
    });
    const retryAfter = Number(second.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await bonusKeysOf('8803')).toEqual(['social:8803:instagram']);
  });

  it('refuses an unknown network or one that gives no points, naming the field', async () => {
    const unknown = await send(socialRoute, '/proxy/social-follow', { network: 'myspace' }, '8804');
    expect(unknown).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION',
          message: 'network must be one of instagram, facebook, tiktok, x, youtube, pinterest',
        },
      },
    });
    const off = await send(socialRoute, '/proxy/social-follow', { network: 'youtube' }, '8804');
    expect(off).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'VALIDATION',
          message: 'network: the shop gives no points for following it on YouTube',
        },
      },
    });
    expect(await bonusKeysOf('8804')).toEqual([]);
    const loggedOut = await send(socialRoute, '/proxy/social-follow', { network: 'x' }, null);
    expect(loggedOut.status).toBe(401);
  });
});

it('a redacted customer gives no birthday: 403, and nothing is stored', async () => {
  const month = new Date().getUTCMonth() + 1;
  await send(birthdayRoute, '/proxy/birthday', { month, day: 3 }, '8805');
  const customer = (await findCustomerByExternalId(handle.db, shop.id, '8805'))!;
  expect(await getBirthday(handle.db, shop.id, customer.id)).toMatchObject({ month, day: 3 });
  await redactCustomer(handle.db, shop.id, customer.id);
  expect(await getBirthday(handle.db, shop.id, customer.id)).toBeNull();
  const after = await send(birthdayRoute, '/proxy/birthday', { month, day: 3 }, '8805');
  expect(after).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
  expect(await getBirthday(handle.db, shop.id, customer.id)).toBeNull();
});

describe('both bonus routes through the proxy helper', () => {
  const routes: [string, Route, string, unknown][] = [
    ['birthday', birthdayRoute, '/proxy/birthday', { month: 5, day: 6 }],
    ['social-follow', socialRoute, '/proxy/social-follow', { network: 'instagram' }],
  ];
  const post = (route: Route, request: Request, body: unknown) =>
    route.action({
      request: new Request(request.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }),
      params: {},
      context: {},
    } as ActionFunctionArgs);

  it.each(routes)(
    '%s: a stale signature is 401, a repeated customer id 400, another shop’s customer changes nothing here',
    async (_name, route, path, body) => {
      const member = '8850';
      const stale = await post(
        route,
        proxyRequest(
          path,
          { logged_in_customer_id: member },
          { timestamp: Date.now() / 1000 - 300 },
        ),
        body,
      );
      expect(stale.status).toBe(401);
      const repeated = await post(
        route,
        proxyRequest(path, [
          ['logged_in_customer_id', member],
          ['logged_in_customer_id', '8851'],
        ]),
        body,
      );
      expect(repeated.status).toBe(400);
      const elsewhere = await post(
        route,
        proxyRequest(path, { logged_in_customer_id: member }, { shop: OTHER_SHOP }),
        body,
      );
      // Signed for a shop Laurel does not run: refused, whatever customer id it names.
      expect(elsewhere.status).toBe(404);
      expect(await elsewhere.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
      // None of the three touched this shop's member.
      expect(await findCustomerByExternalId(handle.db, shop.id, member)).toBeUndefined();
      expect(await bonusKeysOf(member)).toEqual([]);
    },
  );
});
