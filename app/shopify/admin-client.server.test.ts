import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMoney } from '../../loyalty/money';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import {
  CodeDiscountNodeByCode,
  CustomerById,
  CustomersPage,
  DiscountCodeBasicCreate,
  LOYALTY_METAFIELD_NAMESPACE,
  MetafieldDefinitionCreate,
  MetafieldsSet,
  OrdersPage,
  POINTS_BALANCE_METAFIELD_KEY,
  ShopInfo,
  StoreCreditAccountCredit,
  StoreCreditAccountDebit,
  TagsAdd,
  TagsRemove,
  type AdminDocument,
  type OrdersPageResult,
} from '../graphql';
import {
  AdminApiError,
  createAdminClient,
  ShopThrottleTracker,
  type AdminClientOptions,
} from './admin-client.server';

// One emulator for the file; each test has its own shop, token, clock and throttle knowledge.
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
let sleeps: number[];

beforeEach(() => {
  shop = `laurel-${randomUUID().slice(0, 8)}.myshopify.com`;
  token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop, token);
  sleeps = [];
});

/** A client whose sleeps are recorded and advance the shared fake clock instead of waiting. */
function client(overrides: Partial<AdminClientOptions> = {}) {
  return createAdminClient({
    shop,
    accessToken: token,
    endpoint: emulator.url(shop),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    now: () => clock,
    throttle: new ShopThrottleTracker(),
    ...overrides,
  });
}

function requestsFor(forShop: string) {
  return emulator.requests.filter((r) => r.shop === forShop);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function adminError(promise: Promise<unknown>): Promise<AdminApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdminApiError);
  return error as AdminApiError;
}

describe('createAdminClient against the emulator', () => {
  it('runs a query and returns its typed result', async () => {
    emulator.state.shop(shop, {
      name: 'Fleur & Co',
      currencyCode: 'EUR',
      ianaTimezone: 'Europe/Paris',
    });
    const { shop: info } = await client().request(ShopInfo);
    const timezone: string = info.ianaTimezone;
    expect(info).toEqual({
      id: expect.stringMatching(/^gid:\/\/shopify\/Shop\/\d+$/),
      name: 'Fleur & Co',
      currencyCode: 'EUR',
      ianaTimezone: 'Europe/Paris',
      myshopifyDomain: shop,
    });
    expect(timezone).toBe('Europe/Paris');
    expect(sleeps).toEqual([]);
  });

  it('retries THROTTLED answers with exponential backoff and jitter, then succeeds', async () => {
    emulator.throttleNext(2, shop);
    const response = await client().execute(ShopInfo);
    expect(response.data.shop.myshopifyDomain).toBe(shop);
    expect(response.attempts).toBe(3);
    // Equal jitter with random() = 0.5: three quarters of 1 s, then of 2 s.
    expect(sleeps).toEqual([750, 1500]);
    expect(requestsFor(shop).map((r) => r.outcome)).toEqual(['throttled', 'throttled', 'executed']);
  });

  it('gives up after the maximum attempts with a clear, transient THROTTLED error', async () => {
    emulator.throttleNext(10, shop);
    const error = await adminError(client({ maxAttempts: 5 }).request(ShopInfo));
    expect(error.code).toBe('THROTTLED');
    expect(error.transient).toBe(true);
    expect(error.attempts).toBe(5);
    expect(error.message).toBe(
      `Shopify Admin API ShopInfo for ${shop} failed (THROTTLED after 5 attempts): Throttled`,
    );
    expect(sleeps).toEqual([750, 1500, 3000, 6000]);
    expect(requestsFor(shop)).toHaveLength(5);
  });

  it('caps the backoff at maxDelayMs', async () => {
    emulator.throttleNext(4, shop);
    await client({ baseDelayMs: 1000, maxDelayMs: 2000, random: () => 1 }).request(ShopInfo);
    expect(sleeps).toEqual([1000, 2000, 2000, 2000]);
  });

  it('waits for the bucket to refill when Shopify reported too few points for the next query', async () => {
    emulator.state.addCustomer(shop, { email: 'ada@example.com' });
    emulator.setAvailable(shop, 5);
    const adminClient = client();
    // Costs 1 point; Shopify then reports 4 available.
    await adminClient.request(ShopInfo);
    expect(sleeps).toEqual([]);
    // Unknown cost is assumed to be 10: (10 - 4) points at 100 per second = 60 ms.
    const page = await adminClient.request(CustomersPage, { first: 2 });
    expect(sleeps).toEqual([60]);
    expect(page.customers.nodes.map((c) => c.defaultEmailAddress?.emailAddress)).toEqual([
      'ada@example.com',
    ]);
    // The wait avoided a THROTTLED round trip.
    expect(requestsFor(shop).map((r) => r.outcome)).toEqual(['executed', 'executed']);
  });

  it('learns a document’s requested cost and waits for it next time', async () => {
    const adminClient = client();
    // customers(first: 50): 2 + 50 × (node + defaultEmailAddress) = 102 points requested.
    await adminClient.request(CustomersPage, { first: 50 });
    // Another process drains the bucket: this client only finds out from a THROTTLED answer.
    emulator.setAvailable(shop, 0);
    await adminClient.request(ShopInfo);
    expect(sleeps).toEqual([750]); // backoff; 75 points restore meanwhile, ShopInfo takes 1
    sleeps = [];
    // 74 points known, 102 needed: (102 - 74) / 100 per second = 280 ms. With the default
    // estimate of 10 it would not wait and be THROTTLED.
    await adminClient.request(CustomersPage, { first: 50 });
    expect(sleeps).toEqual([280]);
    expect(requestsFor(shop).map((r) => r.outcome)).toEqual([
      'executed',
      'throttled',
      'executed',
      'executed',
    ]);
  });

  it('retries a 503 for a query and honours Retry-After on a 429', async () => {
    emulator.failNext(1, 503, { shop });
    await client().request(ShopInfo);
    expect(sleeps).toEqual([750]);

    sleeps = [];
    emulator.failNext(1, 429, { shop });
    await client().request(ShopInfo);
    expect(sleeps).toEqual([1000]); // Retry-After: 1.0 outweighs the 750 ms backoff
  });

  it('never resends a store credit after a 5xx: the outcome is unknown and may have applied', async () => {
    const customerId = emulator.state.addCustomer(shop, { firstName: 'Ada' });
    emulator.failNext(1, 502, { shop, afterExecution: true });
    const error = await adminError(
      client().request(StoreCreditAccountCredit, {
        id: customerId,
        creditInput: { creditAmount: { amount: '10.00', currencyCode: 'USD' } },
      }),
    );
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(error.transient).toBe(false);
    expect(error.status).toBe(502);
    expect(requestsFor(shop)).toHaveLength(1);
    // Shopify did apply it: a blind retry would have credited 20.00.
    expect(emulator.state.storeCreditBalance(shop, customerId, 'USD')).toBe(1000);
  });

  it('resends even a store credit when the connection was refused (it never reached Shopify)', async () => {
    // A port that was just free: nothing listens, so the connection is refused before sending.
    const port = await freePort();
    const unreachable = client({
      endpoint: `http://127.0.0.1:${port}/admin/api/2026-07/graphql.json`,
      maxAttempts: 3,
    });
    const error = await adminError(
      unreachable.request(StoreCreditAccountCredit, {
        id: 'gid://shopify/Customer/1',
        creditInput: { creditAmount: { amount: '1.00', currencyCode: 'USD' } },
      }),
    );
    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.transient).toBe(true);
    expect(error.messages[0]).toContain('ECONNREFUSED');
    expect(sleeps).toEqual([750, 1500]);
  });

  it('resends a retry-safe mutation after a 5xx', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    emulator.failNext(1, 500, { shop, afterExecution: true });
    await client().request(TagsAdd, { id: customerId, tags: ['VIP'] });
    expect(sleeps).toEqual([750]);
    expect(emulator.state.customer(shop, customerId)?.tags).toEqual(['VIP']);
  });

  it('surfaces a document Shopify rejects as GRAPHQL_ERRORS, and the emulator executes nothing', async () => {
    const customerId = emulator.state.addCustomer(shop, { tags: ['Bronze'] });
    const before = emulator.state.snapshot(shop);
    const misspelt: AdminDocument<unknown, { id: string }> = {
      operationName: 'TagWithTypo',
      kind: 'mutation',
      file: '(inline)',
      source: `mutation TagWithTypo($id: ID!) {
        tagsAdd(id: $id, tags: ["Gold"]) { node { id } userErrrors { message } }
      }`,
      retrySafe: false,
    };
    const error = await adminError(client().request(misspelt, { id: customerId }));
    expect(error.code).toBe('GRAPHQL_ERRORS');
    expect(error.transient).toBe(false);
    expect(error.graphqlErrors).toEqual([
      {
        message:
          'Cannot query field "userErrrors" on type "TagsAddPayload". Did you mean "userErrors"?',
        code: 'undefinedField',
        path: null,
      },
    ]);
    expect(emulator.state.snapshot(shop)).toEqual(before);
    expect(requestsFor(shop).map((r) => r.outcome)).toEqual(['invalid']);
  });

  it('reports a wrong token as UNAUTHORIZED without ever showing the token', async () => {
    const warnings: unknown[] = [];
    const wrongToken = `shpat_${randomUUID().replaceAll('-', '')}`;
    const error = await adminError(
      client({
        accessToken: wrongToken,
        logger: { warn: (...args) => warnings.push(args) },
      }).request(ShopInfo),
    );
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.status).toBe(401);
    expect(error.message).toContain('[API] Invalid API key or access token');
    expect(
      JSON.stringify({ error, message: error.message, stack: error.stack, warnings }),
    ).not.toContain(wrongToken);
    expect(sleeps).toEqual([]);
  });

  it('creates a customer-restricted discount code and finds it again by code', async () => {
    const customerId = emulator.state.addCustomer(shop, { email: 'ada@example.com' });
    const created = await client().request(DiscountCodeBasicCreate, {
      basicCodeDiscount: {
        title: 'Laurel reward: 5.00 off',
        code: 'LAUREL-7Q2X',
        startsAt: '2026-07-01T00:00:00Z',
        usageLimit: 1,
        appliesOncePerCustomer: true,
        context: { customers: { add: [customerId] } },
        customerGets: { value: { discountAmount: { amount: '5.00' } }, items: { all: true } },
      },
    });
    const node = created.discountCodeBasicCreate?.codeDiscountNode;
    expect(node?.codeDiscount).toMatchObject({
      __typename: 'DiscountCodeBasic',
      title: 'Laurel reward: 5.00 off',
      status: 'ACTIVE',
      usageLimit: 1,
      codes: { nodes: [{ code: 'LAUREL-7Q2X' }] },
    });

    // Codes are case-insensitive at checkout and in lookups.
    const found = await client().request(CodeDiscountNodeByCode, { code: 'laurel-7q2x' });
    expect(found.codeDiscountNodeByCode?.id).toBe(node?.id);
    const discount = found.codeDiscountNodeByCode?.codeDiscount;
    if (discount?.__typename !== 'DiscountCodeBasic')
      throw new Error('expected a basic code discount');
    expect(discount.context).toEqual({
      __typename: 'DiscountCustomers',
      customers: [{ id: customerId }],
    });
    expect(discount.customerGets.value).toEqual({
      __typename: 'DiscountAmount',
      amount: { amount: '5.0', currencyCode: 'USD' },
      appliesOnEachItem: false,
    });
    if (discount.customerGets.value.__typename !== 'DiscountAmount')
      throw new Error('expected an amount');
    expect(parseMoney(discount.customerGets.value.amount.amount, 'USD')).toBe(500);

    expect(
      (await client().request(CodeDiscountNodeByCode, { code: 'NO-SUCH-CODE' }))
        .codeDiscountNodeByCode,
    ).toBeNull();
  });

  it('turns a duplicate discount code into USER_ERRORS with Shopify’s TAKEN code', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    const input = {
      title: 'Reward',
      code: 'SAME-CODE',
      startsAt: '2026-07-01T00:00:00Z',
      context: { customers: { add: [customerId] } },
      customerGets: { value: { percentage: 0.1 }, items: { all: true as const } },
    };
    await client().request(DiscountCodeBasicCreate, { basicCodeDiscount: input });
    const error = await adminError(
      client().request(DiscountCodeBasicCreate, {
        basicCodeDiscount: { ...input, code: 'same-code' },
      }),
    );
    expect(error.code).toBe('USER_ERRORS');
    expect(error.userErrors).toEqual([
      {
        field: ['basicCodeDiscount', 'code'],
        message: 'Code must be unique. Please try a different code.',
        code: 'TAKEN',
        extraInfo: null,
      },
    ]);
    expect(error.messages).toEqual([
      'basicCodeDiscount.code: Code must be unique. Please try a different code.',
    ]);
  });

  it('writes the points balance metafield and reads it back on the customer', async () => {
    const customerId = emulator.state.addCustomer(shop, { firstName: 'Ada', lastName: 'Lovelace' });
    const definition = await client().request(MetafieldDefinitionCreate, {
      definition: {
        name: 'Loyalty points balance',
        namespace: LOYALTY_METAFIELD_NAMESPACE,
        key: POINTS_BALANCE_METAFIELD_KEY,
        type: 'number_integer',
        ownerType: 'CUSTOMER',
        access: { storefront: 'PUBLIC_READ', customerAccount: 'READ' },
      },
    });
    expect(definition.metafieldDefinitionCreate?.createdDefinition).toMatchObject({
      namespace: 'app--1000000',
      key: 'points_balance',
      type: { name: 'number_integer' },
      access: { storefront: 'PUBLIC_READ', customerAccount: 'READ' },
    });

    // The definition fixes the type, so it can be omitted.
    await client().request(MetafieldsSet, {
      metafields: [
        {
          ownerId: customerId,
          namespace: LOYALTY_METAFIELD_NAMESPACE,
          key: POINTS_BALANCE_METAFIELD_KEY,
          value: '120',
        },
      ],
    });
    const { customer } = await client().request(CustomerById, { id: customerId });
    expect(customer?.displayName).toBe('Ada Lovelace');
    expect(customer?.pointsBalance).toMatchObject({
      namespace: 'app--1000000',
      key: 'points_balance',
      type: 'number_integer',
      value: '120',
    });

    // Compare-and-set: a write based on a stale read is refused and changes nothing.
    const digest = customer!.pointsBalance!.compareDigest;
    await client().request(MetafieldsSet, {
      metafields: [
        {
          ownerId: customerId,
          namespace: LOYALTY_METAFIELD_NAMESPACE,
          key: POINTS_BALANCE_METAFIELD_KEY,
          value: '150',
          compareDigest: digest,
        },
      ],
    });
    const stale = await adminError(
      client().request(MetafieldsSet, {
        metafields: [
          {
            ownerId: customerId,
            namespace: LOYALTY_METAFIELD_NAMESPACE,
            key: POINTS_BALANCE_METAFIELD_KEY,
            value: '999',
            compareDigest: digest,
          },
        ],
      }),
    );
    expect(stale.code).toBe('USER_ERRORS');
    expect(stale.userErrors[0]?.code).toBe('STALE_OBJECT');
    const after = await client().request(CustomerById, { id: customerId });
    expect(after.customer?.pointsBalance?.value).toBe('150');
  });

  it('adds and removes tags, ignoring duplicates and case', async () => {
    const customerId = emulator.state.addCustomer(shop, { tags: ['newsletter'] });
    await client().request(TagsAdd, {
      id: customerId,
      tags: ['Laurel Gold', 'laurel member', 'Newsletter'],
    });
    expect((await client().request(CustomerById, { id: customerId })).customer?.tags).toEqual([
      'newsletter',
      'Laurel Gold',
      'laurel member',
    ]);
    await client().request(TagsRemove, { id: customerId, tags: ['laurel gold', 'not-there'] });
    expect((await client().request(CustomerById, { id: customerId })).customer?.tags).toEqual([
      'newsletter',
      'laurel member',
    ]);
  });

  it('credits and debits store credit exactly, and refuses an overdraft', async () => {
    const customerId = emulator.state.addCustomer(shop, {});
    const credit = await client().request(StoreCreditAccountCredit, {
      id: customerId,
      creditInput: { creditAmount: { amount: '25.00', currencyCode: 'USD' } },
    });
    const creditTx = credit.storeCreditAccountCredit?.storeCreditAccountTransaction;
    expect(parseMoney(creditTx!.balanceAfterTransaction.amount, 'USD')).toBe(2500);

    const debit = await client().request(StoreCreditAccountDebit, {
      id: creditTx!.account.id,
      debitInput: { debitAmount: { amount: '10.10', currencyCode: 'USD' } },
    });
    const debitTx = debit.storeCreditAccountDebit?.storeCreditAccountTransaction;
    expect(parseMoney(debitTx!.balanceAfterTransaction.amount, 'USD')).toBe(1490);
    expect(debitTx!.account.id).toBe(creditTx!.account.id);

    const overdraft = await adminError(
      client().request(StoreCreditAccountDebit, {
        id: customerId,
        debitInput: { debitAmount: { amount: '14.91', currencyCode: 'USD' } },
      }),
    );
    expect(overdraft.userErrors.map((e) => e.code)).toEqual(['INSUFFICIENT_FUNDS']);
    const { customer } = await client().request(CustomerById, { id: customerId });
    expect(customer?.storeCreditAccounts.nodes.map((a) => a.balance)).toEqual([
      { amount: '14.9', currencyCode: 'USD' },
    ]);
    expect(emulator.state.storeCreditBalance(shop, customerId, 'USD')).toBe(1490);
  });

  it('pages through orders oldest first for a history import', async () => {
    const customerId = emulator.state.addCustomer(shop, { email: 'grace@example.com' });
    const processed = ['2026-03-05', '2026-01-10', '2026-02-20', '2026-04-01', '2026-02-01'];
    processed.forEach((day, i) =>
      emulator.state.addOrder(shop, {
        customerId: i % 2 === 0 ? customerId : null,
        subtotalMinor: 1000 + i,
        processedAt: `${day}T10:00:00Z`,
        test: i === 4,
      }),
    );
    const seen: {
      processedAt: string;
      subtotal: number;
      customer: string | null;
      test: boolean;
    }[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const { orders }: OrdersPageResult = await client().request(OrdersPage, { first: 2, after });
      pages += 1;
      for (const order of orders.nodes) {
        seen.push({
          processedAt: order.processedAt,
          subtotal: parseMoney(order.currentSubtotalPriceSet.shopMoney.amount, 'USD'),
          customer: order.customer?.id ?? null,
          test: order.test,
        });
      }
      after = orders.pageInfo.hasNextPage ? orders.pageInfo.endCursor : null;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual([
      { processedAt: '2026-01-10T10:00:00Z', subtotal: 1001, customer: null, test: false },
      { processedAt: '2026-02-01T10:00:00Z', subtotal: 1004, customer: customerId, test: true },
      { processedAt: '2026-02-20T10:00:00Z', subtotal: 1002, customer: customerId, test: false },
      { processedAt: '2026-03-05T10:00:00Z', subtotal: 1000, customer: customerId, test: false },
      { processedAt: '2026-04-01T10:00:00Z', subtotal: 1003, customer: null, test: false },
    ]);

    const recent = await client().request(OrdersPage, {
      first: 10,
      query: "processed_at:>='2026-03-01'",
    });
    expect(recent.orders.nodes.map((o) => o.processedAt)).toEqual([
      '2026-03-05T10:00:00Z',
      '2026-04-01T10:00:00Z',
    ]);
  });
});

describe('createAdminClient configuration', () => {
  const base = { shop: 'laurel-demo.myshopify.com', accessToken: 'shpat_test' };

  it('defaults to Shopify’s own endpoint for the shop and version', () => {
    expect(createAdminClient({ ...base, nodeEnv: 'production' }).endpoint).toBe(
      'https://laurel-demo.myshopify.com/admin/api/2026-07/graphql.json',
    );
  });

  it('refuses any other endpoint in production, but accepts Shopify’s written out', () => {
    expect(() =>
      createAdminClient({ ...base, nodeEnv: 'production', endpoint: emulator.url(base.shop) }),
    ).toThrow(/^Refusing Admin API endpoint http:\/\/127\.0\.0\.1:\d+\/shops\/.* in production/);
    expect(() =>
      createAdminClient({ ...base, nodeEnv: 'production', endpoint: emulator.endpointTemplate }),
    ).toThrow(/in production/);
    expect(
      createAdminClient({
        ...base,
        nodeEnv: 'production',
        endpoint: 'https://{shop}/admin/api/{version}/graphql.json',
      }).endpoint,
    ).toBe('https://laurel-demo.myshopify.com/admin/api/2026-07/graphql.json');
  });

  it('fills {shop} and {version} in an endpoint template outside production', () => {
    expect(
      createAdminClient({ ...base, nodeEnv: 'development', endpoint: emulator.endpointTemplate })
        .endpoint,
    ).toBe(emulator.url(base.shop));
  });

  it('names what is wrong with bad options', () => {
    expect(() => createAdminClient({ ...base, shop: 'laurel-demo.com' })).toThrow(
      "shop must be a myshopify domain such as laurel-demo.myshopify.com; got 'laurel-demo.com'",
    );
    expect(() => createAdminClient({ ...base, accessToken: ' ' })).toThrow(
      'accessToken for laurel-demo.myshopify.com is empty',
    );
    expect(() => createAdminClient({ ...base, apiVersion: '2026-08' })).toThrow(
      "apiVersion must look like 2026-07; got '2026-08'",
    );
    expect(() => createAdminClient({ ...base, endpoint: 'ftp://x' })).toThrow(
      "Admin API endpoint must be an http(s) URL; got 'ftp://x'",
    );
    expect(() => createAdminClient({ ...base, maxAttempts: 0 })).toThrow(
      'maxAttempts must be a whole number ≥ 1; got 0',
    );
  });

  it('the emulator refuses to start in production', async () => {
    await expect(startAdminEmulator({ nodeEnv: 'production' })).rejects.toThrow(
      'refusing to start with NODE_ENV=production',
    );
  });
});
