import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import type { IssuedValue } from '../loyalty/rewards';
import { CodeDiscountNodeByCode, CustomerStoreCreditTransactions } from './graphql';
import {
  deactivateDiscount,
  findIssuedDiscount,
  issueReward,
  type IssueRequest,
} from './reward-issuer.server';
import {
  AdminApiError,
  createAdminClient,
  ShopThrottleTracker,
  type AdminClientOptions,
} from './shopify/admin-client.server';

// Against the real emulator: Shopify's schema checks every document, its state shows what exists.
let emulator: AdminEmulator;
const START = Date.parse('2026-07-01T12:00:00Z');
let clock = START;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startAdminEmulator({ accessTokens: tokens, now: () => clock });
});
afterAll(async () => {
  await emulator?.close();
});

let shop: string;
let token: string;
let sleeps: number[];
let customerGid: string;

beforeEach(() => {
  clock = START;
  shop = `issuer-${randomUUID().slice(0, 8)}.myshopify.com`;
  token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop, token);
  sleeps = [];
  customerGid = emulator.state.addCustomer(shop, { firstName: 'Ada', email: 'ada@example.com' });
});

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

let codeCounter = 0;
function request(value: IssuedValue, overrides: Partial<IssueRequest> = {}): IssueRequest {
  codeCounter += 1;
  return {
    code: `LRL-TEST-${String(codeCounter).padStart(4, '0')}-${randomUUID().slice(0, 4).toUpperCase()}`,
    title: 'Laurel reward',
    customerGid,
    value,
    startsAt: new Date(clock),
    endsAt: new Date(clock + 30 * 86_400_000),
    minimumOrderMinor: null,
    currency: 'USD',
    combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
    ...overrides,
  };
}

const FIVE_OFF: IssuedValue = { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' };

/** The discount with `code` as Laurel's own lookup document reads it. */
async function readBack(code: string) {
  const { codeDiscountNodeByCode } = await client().request(CodeDiscountNodeByCode, { code });
  return codeDiscountNodeByCode;
}

function discountsIn(forShop: string) {
  return emulator.state.snapshot(forShop).discounts.size;
}

function operationsFor(forShop: string) {
  return emulator.requests
    .filter((r) => r.shop === forShop)
    .map((r) => `${r.operationName}:${r.outcome}`);
}

/** DateTime as Shopify prints it: whole seconds. */
function shopifyDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function thrown(promise: Promise<unknown>): Promise<AdminApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AdminApiError) return error;
    throw error;
  }
  throw new Error('expected an AdminApiError');
}

describe('issueReward: each reward kind creates the right thing in Shopify', () => {
  it('amount off the order: a one-use code for this customer only, with window, minimum and combinations', async () => {
    const req = request(FIVE_OFF, { minimumOrderMinor: 3000, title: '$5 off your next order' });
    const outcome = await issueReward(client(), req);
    expect(outcome).toEqual({ kind: 'issued', discountId: expect.any(String) });
    const node = await readBack(req.code);
    expect(node?.id).toBe((outcome as { discountId: string }).discountId);
    expect(node?.codeDiscount).toMatchObject({
      __typename: 'DiscountCodeBasic',
      title: '$5 off your next order',
      status: 'ACTIVE',
      startsAt: '2026-07-01T12:00:00Z',
      endsAt: '2026-07-31T12:00:00Z',
      usageLimit: 1,
      appliesOncePerCustomer: true,
      codes: { nodes: [{ code: req.code }] },
      context: { __typename: 'DiscountCustomers', customers: [{ id: customerGid }] },
      minimumRequirement: {
        __typename: 'DiscountMinimumSubtotal',
        greaterThanOrEqualToSubtotal: { amount: '30.0', currencyCode: 'USD' },
      },
      combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
      customerGets: {
        value: {
          __typename: 'DiscountAmount',
          amount: { amount: '5.0', currencyCode: 'USD' },
          appliesOnEachItem: false,
        },
        items: { __typename: 'AllDiscountItems', allItems: true },
      },
    });
    // Restricted by `context`, never the deprecated customerSelection.
    expect(emulator.state.discountByCode(shop, req.code)?.viaCustomerSelection).toBe(false);
  });

  it('amounts are exact in the shop currency (JPY has no minor digits, KWD three)', async () => {
    emulator.state.shop(shop, { currencyCode: 'KWD' });
    const req = request(
      { kind: 'amount_off_order', amountMinor: 1_250, currency: 'KWD' },
      { currency: 'KWD', minimumOrderMinor: 10_005 },
    );
    await issueReward(client(), req);
    const record = emulator.state.discountByCode(shop, req.code);
    expect(record).toMatchObject({
      kind: 'basic',
      value: { kind: 'amount', amountMinor: 1_250 },
      minimumSubtotalMinor: 10_005,
    });
  });

  it('percentage off: whole percentages become exact fractions', async () => {
    for (const [percentage, fraction] of [
      [10, 0.1],
      [7, 0.07],
      [33, 0.33],
      [100, 1],
    ] as const) {
      const req = request({ kind: 'percentage_off_order', percentage });
      expect((await issueReward(client(), req)).kind).toBe('issued');
      const node = await readBack(req.code);
      if (node?.codeDiscount.__typename !== 'DiscountCodeBasic') throw new Error('basic expected');
      expect(node.codeDiscount.customerGets.value).toEqual({
        __typename: 'DiscountPercentage',
        percentage: fraction,
      });
    }
    // What went over the wire is the decimal itself, not 0.07000000000000001.
    const sent = emulator.requests.filter(
      (r) => r.shop === shop && r.operationName === 'DiscountCodeBasicCreate',
    );
    expect(JSON.stringify(sent.map((r) => r.variables))).toContain('"percentage":0.07}');
  });

  it('free shipping: a free-shipping code to every country, restricted and single use', async () => {
    const req = request({ kind: 'free_shipping' }, { endsAt: null });
    const outcome = await issueReward(client(), req);
    expect(outcome.kind).toBe('issued');
    expect(await readBack(req.code)).toMatchObject({
      id: (outcome as { discountId: string }).discountId,
      codeDiscount: {
        __typename: 'DiscountCodeFreeShipping',
        status: 'ACTIVE',
        endsAt: null,
        usageLimit: 1,
        appliesOncePerCustomer: true,
        context: { __typename: 'DiscountCustomers', customers: [{ id: customerGid }] },
        destinationSelection: { __typename: 'DiscountCountryAll', allCountries: true },
        minimumRequirement: null,
      },
    });
  });

  it('free product: one unit of the variant, at the price it has when redeemed', async () => {
    const { variantGids } = emulator.state.addProduct(shop, {
      title: 'Gyokuro Reserve',
      variants: [
        { title: '50 g tin', priceMinor: 2_400 },
        { title: '200 g tin', priceMinor: 8_550 },
      ],
    });
    const req = request({ kind: 'free_product', variantId: variantGids[1]! });
    const outcome = await issueReward(client(), req);
    expect(outcome.kind).toBe('issued');
    const node = await readBack(req.code);
    if (node?.codeDiscount.__typename !== 'DiscountCodeBasic') throw new Error('basic expected');
    expect(node.codeDiscount.customerGets).toEqual({
      value: {
        __typename: 'DiscountAmount',
        amount: { amount: '85.5', currencyCode: 'USD' },
        // Once per order, not per item: exactly one unit's price.
        appliesOnEachItem: false,
      },
      items: {
        __typename: 'DiscountProducts',
        productVariants: { nodes: [{ id: variantGids[1] }] },
        products: { nodes: [] },
      },
    });
    expect(node.codeDiscount.context).toEqual({
      __typename: 'DiscountCustomers',
      customers: [{ id: customerGid }],
    });
  });

  it('free product: refuses, creating nothing, when the variant is gone or cannot be bought', async () => {
    const soldOut = emulator.state.addProduct(shop, {
      title: 'Matcha',
      variants: [{ priceMinor: 1_800, availableForSale: false }],
    });
    const draft = emulator.state.addProduct(shop, {
      title: 'Sencha',
      status: 'DRAFT',
      variants: [{ priceMinor: 1_200 }],
    });
    const free = emulator.state.addProduct(shop, {
      title: 'Sample',
      variants: [{ priceMinor: 0 }],
    });
    const cases: [string, RegExp][] = [
      ['gid://shopify/ProductVariant/424242', /no longer exists in Shopify/],
      [soldOut.variantGids[0]!, /Matcha - Default Title .* is not available for sale/],
      [draft.variantGids[0]!, /Sencha - Default Title .* is not for sale: its product is DRAFT/],
      [free.variantGids[0]!, /already costs nothing/],
    ];
    for (const [variantId, reason] of cases) {
      const outcome = await issueReward(client(), request({ kind: 'free_product', variantId }));
      expect(outcome).toEqual({ kind: 'refused', reason: expect.stringMatching(reason) });
    }
    expect(discountsIn(shop)).toBe(0);
  });

  it('store credit: credits the customer exactly, expiring when the reward says', async () => {
    const req = request(
      { kind: 'store_credit', amountMinor: 1_050, currency: 'USD' },
      { endsAt: new Date(clock + 90 * 86_400_000) },
    );
    const outcome = await issueReward(client(), req);
    expect(outcome).toEqual({ kind: 'credited', storeCreditTransactionId: expect.any(String) });
    expect(emulator.state.storeCreditBalance(shop, customerGid, 'USD')).toBe(1_050);
    const { customer } = await client().request(CustomerStoreCreditTransactions, {
      id: customerGid,
      first: 5,
    });
    expect(customer?.storeCreditAccounts.nodes[0]?.transactions.nodes).toEqual([
      {
        __typename: 'StoreCreditAccountCreditTransaction',
        id: (outcome as { storeCreditTransactionId: string }).storeCreditTransactionId,
        amount: { amount: '10.5', currencyCode: 'USD' },
        createdAt: '2026-07-01T12:00:00Z',
        expiresAt: '2026-09-29T12:00:00Z',
      },
    ]);
    expect(discountsIn(shop)).toBe(0);
  });
});

describe('issueReward: refusals', () => {
  it('userErrors are a refusal naming Shopify’s reason, and nothing is created', async () => {
    const stranger = 'gid://shopify/Customer/987654321';
    const outcome = await issueReward(client(), request(FIVE_OFF, { customerGid: stranger }));
    expect(outcome).toEqual({
      kind: 'refused',
      reason: expect.stringContaining(`Customer ${stranger} does not exist`),
    });
    const credit = await issueReward(
      client(),
      request(
        { kind: 'store_credit', amountMinor: 100, currency: 'USD' },
        { customerGid: stranger },
      ),
    );
    expect(credit).toEqual({
      kind: 'refused',
      reason: `Customer ${stranger} does not exist in Shopify`,
    });
    expect(discountsIn(shop)).toBe(0);
  });

  it('refuses a request that cannot be right before calling Shopify', async () => {
    const cases: [IssueRequest, string][] = [
      [
        request({ kind: 'percentage_off_order', percentage: 0 }),
        'percentage must be a whole number from 1 to 100; got 0',
      ],
      [
        request({ kind: 'amount_off_order', amountMinor: 500, currency: 'EUR' }),
        "the reward is in EUR but the shop's currency is USD",
      ],
      [request(FIVE_OFF, { endsAt: new Date(clock - 1000) }), 'endsAt must be after startsAt'],
      [
        request({ kind: 'free_product', variantId: 'gid://shopify/Product/1' }),
        'variantId gid://shopify/Product/1 is not a Shopify product variant id',
      ],
    ];
    for (const [req, reason] of cases) {
      expect(await issueReward(client(), req)).toEqual({ kind: 'refused', reason });
    }
    expect(operationsFor(shop)).toEqual([]);
  });

  it('a code another customer’s discount holds is refused (ours could not have been created)', async () => {
    const req = request(FIVE_OFF);
    await issueReward(client(), req);
    const other = emulator.state.addCustomer(shop, { firstName: 'Grace' });
    const outcome = await issueReward(client(), { ...req, customerGid: other });
    expect(outcome).toEqual({
      kind: 'refused',
      reason: `The code ${req.code} belongs to another discount in Shopify; nothing was created`,
    });
    expect(discountsIn(shop)).toBe(1);
  });

  it('a revoked token is a refusal: nothing ran and retrying will not help', async () => {
    const outcome = await issueReward(client({ accessToken: 'shpat_revoked' }), request(FIVE_OFF));
    expect(outcome).toEqual({
      kind: 'refused',
      reason: expect.stringMatching(/^Shopify refused the request: UNAUTHORIZED: HTTP 401/),
    });
  });
});

describe('issueReward: throttling and lost answers never issue twice', () => {
  it('THROTTLED then success: the client waits and the code is created once', async () => {
    emulator.throttleNext(2, shop, { operation: 'DiscountCodeBasicCreate' });
    const req = request(FIVE_OFF);
    expect((await issueReward(client(), req)).kind).toBe('issued');
    expect(sleeps).toEqual([750, 1500]);
    expect(operationsFor(shop)).toEqual([
      'DiscountCodeBasicCreate:throttled',
      'DiscountCodeBasicCreate:throttled',
      'DiscountCodeBasicCreate:executed',
    ]);
    expect(discountsIn(shop)).toBe(1);
  });

  it('still THROTTLED after every attempt: throws, nothing ran, and a later call issues it', async () => {
    emulator.throttleNext(3, shop, { operation: 'DiscountCodeFreeShippingCreate' });
    const req = request({ kind: 'free_shipping' });
    const error = await thrown(issueReward(client({ maxAttempts: 3 }), req));
    expect(error).toMatchObject({ code: 'THROTTLED', transient: true });
    expect(discountsIn(shop)).toBe(0);
    expect((await issueReward(client(), req)).kind).toBe('issued');
  });

  it('a 5xx after the create applied: reconciled by code as issued, not created twice', async () => {
    emulator.failNext(1, 502, { shop, afterExecution: true, operation: 'DiscountCodeBasicCreate' });
    const req = request(FIVE_OFF);
    const outcome = await issueReward(client(), req);
    expect(outcome).toEqual({
      kind: 'issued',
      discountId: (await readBack(req.code))?.id,
    });
    expect(discountsIn(shop)).toBe(1);
    expect(operationsFor(shop).slice(0, 2)).toEqual([
      'DiscountCodeBasicCreate:failed',
      'CodeDiscountNodeByCode:executed',
    ]);
  });

  it('a 5xx before the create applied: looked up, not found, sent again once', async () => {
    emulator.failNext(1, 503, {
      shop,
      afterExecution: false,
      operation: 'DiscountCodeFreeShippingCreate',
    });
    const req = request({ kind: 'free_shipping' });
    const outcome = await issueReward(client(), req);
    expect(outcome.kind).toBe('issued');
    expect(operationsFor(shop)).toEqual([
      'DiscountCodeFreeShippingCreate:failed',
      'CodeDiscountNodeByCode:executed',
      'DiscountCodeFreeShippingCreate:executed',
    ]);
    expect(discountsIn(shop)).toBe(1);
  });

  it('a free product lost after applying is found too', async () => {
    const { variantGids } = emulator.state.addProduct(shop, {
      title: 'Tea',
      variants: [{ priceMinor: 999 }],
    });
    emulator.failNext(1, 500, { shop, afterExecution: true, operation: 'DiscountCodeBasicCreate' });
    const req = request({ kind: 'free_product', variantId: variantGids[0]! });
    expect((await issueReward(client(), req)).kind).toBe('issued');
    expect(discountsIn(shop)).toBe(1);
  });

  it('both creates lost before applying: unknown, nothing created, and a later call issues it', async () => {
    emulator.failNext(2, 504, { shop, operation: 'DiscountCodeBasicCreate' });
    const req = request(FIVE_OFF);
    const outcome = await issueReward(client(), req);
    expect(outcome).toEqual({
      kind: 'unknown',
      reason: expect.stringMatching(/^Two creates of LRL-TEST-.* ended uncertainly/),
    });
    expect(discountsIn(shop)).toBe(0);
    // The code is ours and unique, so the caller may simply try again later.
    expect((await issueReward(client(), req)).kind).toBe('issued');
    expect(discountsIn(shop)).toBe(1);
  });

  it('the second create lost after applying: reconciled as issued', async () => {
    emulator.failNext(1, 502, { shop, operation: 'DiscountCodeBasicCreate' });
    emulator.failNext(1, 502, { shop, operation: 'DiscountCodeBasicCreate', afterExecution: true });
    const req = request(FIVE_OFF);
    expect((await issueReward(client(), req)).kind).toBe('issued');
    expect(discountsIn(shop)).toBe(1);
  });

  it('lost answer and a failing lookup: unknown, never a blind resend', async () => {
    emulator.failNext(1, 502, { shop, afterExecution: true, operation: 'DiscountCodeBasicCreate' });
    emulator.failNext(2, 503, { shop, operation: 'CodeDiscountNodeByCode' });
    const outcome = await issueReward(client({ maxAttempts: 2 }), request(FIVE_OFF));
    expect(outcome).toEqual({
      kind: 'unknown',
      reason: expect.stringContaining('looking the code up failed: SERVER_ERROR'),
    });
    expect(operationsFor(shop).filter((o) => o.startsWith('DiscountCodeBasicCreate'))).toHaveLength(
      1,
    );
    expect(discountsIn(shop)).toBe(1);
  });

  it('calling again after success answers the same discount (TAKEN on our code is ours)', async () => {
    const req = request({ kind: 'percentage_off_order', percentage: 15 });
    const first = await issueReward(client(), req);
    const again = await issueReward(client(), req);
    expect(again).toEqual(first);
    expect(discountsIn(shop)).toBe(1);
  });

  it('store credit lost after applying: found among the new transactions, credited once', async () => {
    // An older credit of the same amount and expiry is not taken for ours.
    await issueReward(
      client(),
      request({ kind: 'store_credit', amountMinor: 700, currency: 'USD' }, { endsAt: null }),
    );
    emulator.failNext(1, 502, {
      shop,
      afterExecution: true,
      operation: 'StoreCreditAccountCredit',
    });
    const outcome = await issueReward(
      client(),
      request({ kind: 'store_credit', amountMinor: 700, currency: 'USD' }, { endsAt: null }),
    );
    expect(outcome).toEqual({ kind: 'credited', storeCreditTransactionId: expect.any(String) });
    expect(emulator.state.storeCreditBalance(shop, customerGid, 'USD')).toBe(1_400);
    const { customer } = await client().request(CustomerStoreCreditTransactions, {
      id: customerGid,
      first: 5,
    });
    const newest = customer?.storeCreditAccounts.nodes[0]?.transactions.nodes[0];
    expect(newest?.id).toBe(
      (outcome as { storeCreditTransactionId: string }).storeCreditTransactionId,
    );
    expect(newest?.expiresAt).toBeNull();
  });

  it('store credit lost before applying: unknown, and never credited a second time', async () => {
    emulator.failNext(1, 502, { shop, operation: 'StoreCreditAccountCredit' });
    const outcome = await issueReward(
      client(),
      request({ kind: 'store_credit', amountMinor: 2_000, currency: 'USD' }),
    );
    expect(outcome).toEqual({
      kind: 'unknown',
      reason: expect.stringContaining('0 new credit transaction(s) of this amount'),
    });
    expect(emulator.state.storeCreditBalance(shop, customerGid, 'USD')).toBe(0);
    expect(operationsFor(shop)).toEqual([
      'CustomerStoreCreditTransactions:executed',
      'StoreCreditAccountCredit:failed',
      'CustomerStoreCreditTransactions:executed',
    ]);
  });
});

describe('findIssuedDiscount and deactivateDiscount', () => {
  it('finds a code case-insensitively with its status and uses, only for its customer when asked', async () => {
    const req = request({ kind: 'free_shipping' }, { startsAt: new Date(clock + 86_400_000) });
    const { discountId } = (await issueReward(client(), req)) as { discountId: string };
    expect(await findIssuedDiscount(client(), req.code.toLowerCase())).toEqual({
      discountId,
      status: 'SCHEDULED',
      usageCount: 0,
    });
    emulator.state.useDiscountCode(shop, req.code);
    expect(await findIssuedDiscount(client(), req.code, customerGid)).toEqual({
      discountId,
      status: 'SCHEDULED',
      usageCount: 1,
    });
    expect(await findIssuedDiscount(client(), req.code, 'gid://shopify/Customer/1')).toBeNull();
    expect(await findIssuedDiscount(client(), 'LRL-NONE-NONE-NONE')).toBeNull();
  });

  it('deactivates a code (it ends now, EXPIRED), idempotently; an unknown id is an error', async () => {
    for (const value of [FIVE_OFF, { kind: 'free_shipping' } as const]) {
      const req = request(value);
      const { discountId } = (await issueReward(client(), req)) as { discountId: string };
      clock += 60_000;
      await deactivateDiscount(client(), discountId);
      expect(await findIssuedDiscount(client(), req.code)).toMatchObject({ status: 'EXPIRED' });
      expect((await readBack(req.code))?.codeDiscount).toMatchObject({
        endsAt: shopifyDateTime(clock),
      });
      clock += 60_000;
      await deactivateDiscount(client(), discountId);
      expect((await readBack(req.code))?.codeDiscount).toMatchObject({
        status: 'EXPIRED',
        endsAt: shopifyDateTime(clock - 60_000),
      });
    }
    const error = await thrown(
      deactivateDiscount(client(), 'gid://shopify/DiscountCodeNode/404404'),
    );
    expect(error.code).toBe('USER_ERRORS');
    expect(error.userErrors).toEqual([
      expect.objectContaining({ field: ['id'], message: 'Code discount does not exist.' }),
    ]);
  });

  it('deactivation after a lost answer is simply sent again (it is retry-safe)', async () => {
    const req = request(FIVE_OFF);
    const { discountId } = (await issueReward(client(), req)) as { discountId: string };
    emulator.failNext(1, 502, { shop, afterExecution: true, operation: 'DiscountCodeDeactivate' });
    await deactivateDiscount(client(), discountId);
    expect(await findIssuedDiscount(client(), req.code)).toMatchObject({ status: 'EXPIRED' });
  });
});
