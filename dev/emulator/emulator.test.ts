import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAdminEmulator, type AdminEmulator } from './server';

// Raw HTTP against the emulator, to pin down the wire behaviour Laurel's client relies on.
let emulator: AdminEmulator;
let clock = Date.parse('2026-07-01T12:00:00Z');
const tokens: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startAdminEmulator({ accessTokens: tokens, now: () => clock });
});
afterAll(async () => {
  await emulator.close();
});

let shop: string;
let token: string;
beforeEach(() => {
  shop = `emulated-${randomUUID().slice(0, 8)}.myshopify.com`;
  token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop, token);
});

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{
    message: string;
    locations?: unknown;
    path?: unknown;
    extensions?: { code?: string };
  }>;
  extensions?: {
    cost: {
      requestedQueryCost: number;
      actualQueryCost: number | null;
      throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
    };
  };
}

async function post(
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string | null; url?: string } = {},
): Promise<{ status: number; body: GraphqlBody; headers: Headers }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const sentToken = options.token === undefined ? token : options.token;
  if (sentToken !== null) headers['X-Shopify-Access-Token'] = sentToken;
  const response = await fetch(options.url ?? emulator.url(shop), {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    body: (await response.json()) as GraphqlBody,
    headers: response.headers,
  };
}

const codes = (body: GraphqlBody) => (body.errors ?? []).map((e) => e.extensions?.code);

describe('Admin API emulator: Shopify’s schema decides', () => {
  it('answers an invalid document with HTTP 200 errors like Shopify and executes nothing', async () => {
    const customerId = emulator.state.addCustomer(shop, { tags: ['Bronze'] });
    const before = emulator.state.snapshot(shop);
    const { status, body } = await post(
      `mutation Promote($id: ID!) {
        tagsAdd(id: $id, tags: ["Gold"]) { node { id } userErrors { message } }
        customerUpdate(input: { id: $id, nickname: "Goldie" }) { customer { id } }
      }`,
      { id: customerId },
    );
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([
      {
        message:
          'Field "nickname" is not defined by type "CustomerInput". Did you mean "firstName" or "lastName"?',
        locations: [{ line: 3, column: 42 }],
        extensions: { code: 'argumentLiteralsIncompatible' },
      },
    ]);
    expect(emulator.state.snapshot(shop)).toEqual(before);
    expect(emulator.requests.filter((r) => r.shop === shop).map((r) => r.outcome)).toEqual([
      'invalid',
    ]);
  });

  it('reports syntax errors and unknown fields with locations and Shopify-style codes', async () => {
    const syntax = await post('{ shop { name }');
    expect(syntax.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Syntax Error/),
      locations: [{ line: 1, column: 16 }],
      extensions: { code: 'PARSE_ERROR' },
    });
    const unknown = await post('{ shop { name planName } }');
    expect(unknown.body.errors).toEqual([
      {
        message: 'Cannot query field "planName" on type "Shop". Did you mean "name" or "plan"?',
        locations: [{ line: 1, column: 15 }],
        extensions: { code: 'undefinedField' },
      },
    ]);
  });

  it('rejects variables Shopify would reject, before executing', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    const before = emulator.state.snapshot(shop);
    const createDiscount = `mutation Create($input: DiscountCodeBasicInput!) {
      discountCodeBasicCreate(basicCodeDiscount: $input) { userErrors { message } }
    }`;
    const base = {
      title: 'Reward',
      code: 'R-1',
      startsAt: '2026-07-01T00:00:00Z',
      customerGets: { value: { percentage: 0.1 }, items: { all: true } },
    };
    // context is a oneOf input: exactly one key.
    const both = await post(createDiscount, {
      input: { ...base, context: { all: 'ALL', customers: { add: [customerId] } } },
    });
    expect(codes(both.body)).toEqual(['INVALID_VARIABLE']);
    expect(both.body.errors?.[0]?.message).toContain(
      'Exactly one key must be specified for OneOf type "DiscountContextInput"',
    );
    // DateTime is checked like Shopify checks it.
    const badDate = await post(createDiscount, {
      input: { ...base, startsAt: 'next week', context: { all: 'ALL' } },
    });
    expect(codes(badDate.body)).toEqual(['INVALID_VARIABLE']);
    expect(badDate.body.errors?.[0]?.message).toContain('DateTime must be an ISO 8601 date-time');
    const missing = await post('query C($id: ID!) { customer(id: $id) { id } }', {});
    expect(missing.body.errors?.[0]?.message).toBe(
      'Variable "$id" of required type "ID!" was not provided.',
    );
    expect(emulator.state.snapshot(shop)).toEqual(before);
  });

  it('says plainly when a valid field is not modelled, and undoes the mutation it was part of', async () => {
    const customerId = emulator.state.addCustomer(shop, { tags: ['Bronze'] });
    const before = emulator.state.snapshot(shop);
    const { body } = await post(
      `mutation Tag($id: ID!) {
        tagsAdd(id: $id, tags: ["Gold"]) { node { ... on Customer { id lifetimeDuration } } userErrors { message } }
      }`,
      { id: customerId },
    );
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: 'not implemented by the Laurel emulator: Customer.lifetimeDuration',
        path: ['tagsAdd', 'node', 'lifetimeDuration'],
        extensions: { code: 'NOT_IMPLEMENTED' },
      }),
    ]);
    expect(emulator.state.snapshot(shop)).toEqual(before);
    expect(emulator.state.customer(shop, customerId)?.tags).toEqual(['Bronze']);

    const products = await post('{ products(first: 1) { nodes { id } } }');
    expect(products.body.errors?.[0]?.message).toBe(
      'not implemented by the Laurel emulator: QueryRoot.products',
    );
  });

  it('refuses search syntax it does not understand instead of ignoring the filter', async () => {
    const { body } = await post(
      '{ customers(first: 5, query: "country:Canada") { nodes { id } } }',
    );
    expect(body.errors?.[0]?.message).toBe(
      "not implemented by the Laurel emulator: search field 'country' (supported: id, email, tag, created_at, updated_at)",
    );
  });
});

describe('Admin API emulator: authentication and routing', () => {
  it('answers a wrong or missing token with Shopify’s 401', async () => {
    for (const wrong of ['shpat_wrong', null]) {
      const { status, body } = await post('{ shop { name } }', {}, { token: wrong });
      expect(status).toBe(401);
      expect(body).toEqual({
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });
    }
    // A token is only good for its own shop.
    const other = `other-${randomUUID().slice(0, 8)}.myshopify.com`;
    const { status } = await post('{ shop { name } }', {}, { url: emulator.url(other) });
    expect(status).toBe(401);
  });

  it('accepts the shop from the Host header on Shopify’s own path', async () => {
    emulator.state.shop(shop, { name: 'Hosted Shop' });
    const body = JSON.stringify({ query: '{ shop { name myshopifyDomain } }' });
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: emulator.port,
          method: 'POST',
          path: '/admin/api/2026-07/graphql.json',
          headers: {
            Host: shop,
            'Content-Type': 'application/json',
            'X-Shopify-Access-Token': token,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).data).toEqual({
      shop: { name: 'Hosted Shop', myshopifyDomain: shop },
    });
  });

  it('serves only API version 2026-07 and only POST', async () => {
    const old = await post(
      '{ shop { name } }',
      {},
      { url: emulator.url(shop).replace('2026-07', '2025-01') },
    );
    expect(old.status).toBe(404);
    const get = await fetch(emulator.url(shop), { headers: { 'X-Shopify-Access-Token': token } });
    expect(get.status).toBe(405);
  });
});

describe('Admin API emulator: query cost and throttling', () => {
  it('reports requested and actual cost and a leaky bucket that restores over time', async () => {
    emulator.state.addCustomer(shop, { email: 'a@example.com' });
    const query = '{ customers(first: 10) { nodes { id defaultEmailAddress { emailAddress } } } }';
    const first = await post(query);
    // 2 + 10 × (customer + email object) requested; only one customer came back.
    expect(first.body.extensions?.cost).toEqual({
      requestedQueryCost: 22,
      actualQueryCost: 4,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1996, restoreRate: 100 },
    });
    clock += 20; // 2 points restore in 20 ms
    const second = await post(query);
    expect(second.body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(1994);
    clock += 60_000;
    const mutation = await post(
      'mutation M($id: ID!) { tagsAdd(id: $id, tags: ["x"]) { userErrors { message } } }',
      { id: 'gid://shopify/Customer/1' },
    );
    expect(mutation.body.extensions?.cost).toMatchObject({
      requestedQueryCost: 10,
      actualQueryCost: 10,
    });
    expect(mutation.body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(1990);
  });

  it('answers THROTTLED without executing when the bucket is short, and runs once it refills', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    const tag =
      'mutation T($id: ID!) { tagsAdd(id: $id, tags: ["Gold"]) { userErrors { message } } }';
    emulator.setAvailable(shop, 9);
    const throttled = await post(tag, { id: customerId });
    expect(throttled.status).toBe(200);
    expect(throttled.body).toEqual({
      errors: [
        {
          message: 'Throttled',
          extensions: {
            code: 'THROTTLED',
            documentation: 'https://shopify.dev/api/usage/rate-limits',
          },
        },
      ],
      extensions: {
        cost: {
          requestedQueryCost: 10,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 9, restoreRate: 100 },
        },
      },
    });
    expect(emulator.state.customer(shop, customerId)?.tags).toEqual([]);
    clock += 10; // one more point
    const ok = await post(tag, { id: customerId });
    expect(ok.body.errors).toBeUndefined();
    expect(emulator.state.customer(shop, customerId)?.tags).toEqual(['Gold']);
  });

  it('throttles the next n requests on demand, for one shop only', async () => {
    const other = `other-${randomUUID().slice(0, 8)}.myshopify.com`;
    emulator.setAccessToken(other, token);
    emulator.throttleNext(2, shop);
    expect(codes((await post('{ shop { id } }', {}, { url: emulator.url(other) })).body)).toEqual(
      [],
    );
    expect(codes((await post('{ shop { id } }')).body)).toEqual(['THROTTLED']);
    expect(codes((await post('{ shop { id } }')).body)).toEqual(['THROTTLED']);
    expect(codes((await post('{ shop { id } }')).body)).toEqual([]);
  });

  it('refuses a query above the single-query cost limit', async () => {
    const { body } = await post(
      '{ customers(first: 250) { nodes { metafields(first: 250) { nodes { value } } } } }',
    );
    // 2 + 250 customers × (1 + metafields connection 2 + 250 metafields × 1) = 63252.
    expect(body.errors?.[0]).toMatchObject({
      message: 'Query cost is 63252, which exceeds the single query max cost limit (1000).',
      extensions: { code: 'MAX_COST_EXCEEDED' },
    });
  });
});

describe('Admin API emulator: state and mutations', () => {
  it('pages customers with cursors in both directions', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map((name) =>
      emulator.state.addCustomer(shop, { email: `${name}@example.com` }),
    );
    const page = async (args: string) =>
      (
        await post(
          `{ customers(${args}) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }`,
        )
      ).body.data?.customers as {
        pageInfo: {
          hasNextPage: boolean;
          hasPreviousPage: boolean;
          startCursor: string;
          endCursor: string;
        };
        nodes: { id: string }[];
      };
    const first = await page('first: 2');
    expect(first.nodes.map((n) => n.id)).toEqual(ids.slice(0, 2));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await page(`first: 2, after: "${first.pageInfo.endCursor}"`);
    expect(second.nodes.map((n) => n.id)).toEqual(ids.slice(2, 4));
    const back = await page(`last: 2, before: "${second.pageInfo.startCursor}"`);
    expect(back.nodes.map((n) => n.id)).toEqual(ids.slice(0, 2));
    const reversed = await page('first: 2, reverse: true');
    expect(reversed.nodes.map((n) => n.id)).toEqual([ids[4], ids[3]]);
    const tagged = await post(
      '{ customers(first: 5, query: "email:c@example.com") { nodes { id } } }',
    );
    expect(tagged.body.data).toEqual({ customers: { nodes: [{ id: ids[2] }] } });
    const none = await post('{ customers { nodes { id } } }');
    expect(none.body.errors?.[0]?.message).toBe('you must provide one of first or last');
  });

  it('writes metafields all or nothing', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    const set = `mutation S($m: [MetafieldsSetInput!]!) {
      metafieldsSet(metafields: $m) { metafields { key value } userErrors { field message code elementIndex } }
    }`;
    const { body } = await post(set, {
      m: [
        {
          ownerId: customerId,
          namespace: '$app:loyalty',
          key: 'points_balance',
          type: 'number_integer',
          value: '10',
        },
        {
          ownerId: customerId,
          namespace: '$app:loyalty',
          key: 'tier',
          type: 'number_integer',
          value: 'Gold',
        },
      ],
    });
    expect(body.data).toEqual({
      metafieldsSet: {
        metafields: null,
        userErrors: [
          {
            field: ['metafields', '1', 'value'],
            message: 'Value must be an integer.',
            code: 'INVALID_VALUE',
            elementIndex: 1,
          },
        ],
      },
    });
    expect(emulator.state.metafields(shop, customerId)).toEqual([]);

    // compareDigest: null means "create only"; a second create-only write is refused.
    const create = (value: string) =>
      post(set, {
        m: [
          {
            ownerId: customerId,
            namespace: '$app:loyalty',
            key: 'points_balance',
            type: 'number_integer',
            value,
            compareDigest: null,
          },
        ],
      });
    expect((await create('10')).body.data).toEqual({
      metafieldsSet: { metafields: [{ key: 'points_balance', value: '10' }], userErrors: [] },
    });
    const again = await create('20');
    expect(
      (again.body.data?.metafieldsSet as { userErrors: { code: string }[] }).userErrors[0]?.code,
    ).toBe('STALE_OBJECT');
    expect(emulator.state.metafields(shop, customerId).map((m) => [m.namespace, m.value])).toEqual([
      ['app--1000000--loyalty', '10'],
    ]);
  });

  it('validates discount input like Shopify, with userErrors', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    const { body } = await post(
      `mutation C($input: DiscountCodeBasicInput!) {
        discountCodeBasicCreate(basicCodeDiscount: $input) { codeDiscountNode { id } userErrors { field code } }
      }`,
      {
        input: {
          title: ' ',
          code: 'X',
          startsAt: '2026-07-10T00:00:00Z',
          endsAt: '2026-07-01T00:00:00Z',
          context: { customers: { add: [customerId, 'gid://shopify/Customer/999'] } },
          customerGets: { value: { percentage: 1.5 }, items: { all: true } },
        },
      },
    );
    expect(body.data).toEqual({
      discountCodeBasicCreate: {
        codeDiscountNode: null,
        userErrors: [
          { field: ['basicCodeDiscount', 'title'], code: 'BLANK' },
          { field: ['basicCodeDiscount', 'endsAt'], code: 'END_DATE_BEFORE_START_DATE' },
          { field: ['basicCodeDiscount', 'context', 'customers', 'add', '1'], code: 'INVALID' },
          {
            field: ['basicCodeDiscount', 'customerGets', 'value', 'percentage'],
            code: 'VALUE_OUTSIDE_RANGE',
          },
        ],
      },
    });
    expect(emulator.state.discountByCode(shop, 'X')).toBeUndefined();
  });

  it('keeps store credit per currency and refuses amounts that are not exact', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    emulator.state.shop(shop, { currencyCode: 'JPY' });
    const credit = (amount: string, currencyCode = 'JPY') =>
      post(
        `mutation C($id: ID!, $input: StoreCreditAccountCreditInput!) {
          storeCreditAccountCredit(id: $id, creditInput: $input) {
            storeCreditAccountTransaction { balanceAfterTransaction { amount currencyCode } }
            userErrors { code message }
          }
        }`,
        { id: customerId, input: { creditAmount: { amount, currencyCode } } },
      );
    expect((await credit('1200')).body.data).toEqual({
      storeCreditAccountCredit: {
        storeCreditAccountTransaction: {
          balanceAfterTransaction: { amount: '1200.0', currencyCode: 'JPY' },
        },
        userErrors: [],
      },
    });
    expect(
      ((await credit('0.5')).body.data?.storeCreditAccountCredit as { userErrors: unknown[] })
        .userErrors,
    ).toEqual([{ code: null, message: 'Amount has 1 decimal place; JPY allows 0' }]);
    expect(
      (
        (await credit('-5')).body.data?.storeCreditAccountCredit as {
          userErrors: { code: string }[];
        }
      ).userErrors[0]?.code,
    ).toBe('NEGATIVE_OR_ZERO_AMOUNT');
    expect(
      (
        (await credit('5', 'USD')).body.data?.storeCreditAccountCredit as {
          userErrors: { code: string }[];
        }
      ).userErrors[0]?.code,
    ).toBe('UNSUPPORTED_CURRENCY');
    expect(emulator.state.storeCreditBalance(shop, customerId, 'JPY')).toBe(1200);
  });
});

describe('Admin API emulator: seeding', () => {
  it('names what is wrong with bad seed data', () => {
    expect(() =>
      emulator.state.addOrder(shop, {
        customerId: 'gid://shopify/Customer/42',
        subtotalMinor: 100,
      }),
    ).toThrow(`addOrder: no customer gid://shopify/Customer/42 in ${shop}`);
    expect(() => emulator.state.addOrder(shop, { subtotalMinor: 12.5 })).toThrow(
      'subtotalMinor must be a whole number of minor units ≥ 0; got 12.5',
    );
    expect(() => emulator.state.shop(shop, { currencyCode: 'XYZ' })).toThrow(
      'currencyCode XYZ is not an ISO 4217 code',
    );
    expect(() => emulator.state.shop('not-a-shop', {})).toThrow(/myshopify domain/);
  });

  it('forgets everything on reset', async () => {
    emulator.state.addCustomer(shop, {});
    emulator.reset();
    const { body } = await post('{ customers(first: 5) { nodes { id } } }');
    expect(body.data).toEqual({ customers: { nodes: [] } });
    expect(emulator.requests).toHaveLength(1);
  });
});
