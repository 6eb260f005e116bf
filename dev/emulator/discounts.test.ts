// Discounts of every kind Laurel issues, products, and per-operation fault injection, over HTTP
// against the emulator (Shopify's schema validates every document first).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAdminEmulator, type AdminEmulator } from './server';

let emulator: AdminEmulator;
let clock = Date.parse('2026-07-01T12:00:00Z');

beforeAll(async () => {
  emulator = await startAdminEmulator({ now: () => clock });
});
afterAll(async () => {
  await emulator.close();
});

let shop: string;
let customerId: string;
beforeEach(() => {
  clock = Date.parse('2026-07-01T12:00:00Z');
  shop = `discounts-${randomUUID().slice(0, 8)}.myshopify.com`;
  customerId = emulator.state.addCustomer(shop, { firstName: 'Ada' });
});

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; body: Body }> {
  const response = await fetch(emulator.url(shop), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': 'shpat_any' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const FREE_SHIPPING = `mutation FreeShipping($input: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) {
    codeDiscountNode { id codeDiscount { __typename ... on DiscountCodeFreeShipping { status summary } } }
    userErrors { field code }
  }
}`;
const BASIC = `mutation Basic($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id codeDiscount { __typename ... on DiscountCodeBasic { summary discountClasses } } }
    userErrors { field code message }
  }
}`;
const BY_CODE = `query ByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      __typename
      ... on DiscountCodeFreeShipping {
        status startsAt endsAt
        destinationSelection {
          __typename
          ... on DiscountCountries { countries includeRestOfWorld }
        }
        maximumShippingPrice { amount currencyCode }
      }
      ... on DiscountCodeBasic { status endsAt }
    }
  }
}`;
const DEACTIVATE = `mutation Deactivate($id: ID!) {
  discountCodeDeactivate(id: $id) {
    codeDiscountNode { id codeDiscount { __typename ... on DiscountCodeBasic { status endsAt } } }
    userErrors { field code message }
  }
}`;

function freeShippingInput(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Free shipping reward',
    code: 'SHIP-1',
    startsAt: '2026-07-01T00:00:00Z',
    context: { customers: { add: [customerId] } },
    destination: { all: true },
    usageLimit: 1,
    appliesOncePerCustomer: true,
    ...overrides,
  };
}

describe('discountCodeFreeShippingCreate', () => {
  it('creates a free-shipping code and reads it back by code', async () => {
    const { body } = await post(FREE_SHIPPING, {
      input: freeShippingInput({
        destination: { countries: { add: ['GB', 'IE'], includeRestOfWorld: false } },
        maximumShippingPrice: '12.50',
        endsAt: '2026-08-01T00:00:00Z',
      }),
    });
    expect(body.data).toEqual({
      discountCodeFreeShippingCreate: {
        codeDiscountNode: {
          id: expect.stringMatching(/^gid:\/\/shopify\/DiscountCodeNode\/\d+$/),
          codeDiscount: {
            __typename: 'DiscountCodeFreeShipping',
            status: 'ACTIVE',
            summary: 'Free shipping on entire order to GB, IE, for rates up to 12.5 USD',
          },
        },
        userErrors: [],
      },
    });
    const found = await post(BY_CODE, { code: 'ship-1' });
    expect(found.body.data?.codeDiscountNodeByCode).toMatchObject({
      codeDiscount: {
        __typename: 'DiscountCodeFreeShipping',
        endsAt: '2026-08-01T00:00:00Z',
        destinationSelection: {
          __typename: 'DiscountCountries',
          countries: ['GB', 'IE'],
          includeRestOfWorld: false,
        },
        maximumShippingPrice: { amount: '12.5', currencyCode: 'USD' },
      },
    });
  });

  it('validates like the basic create: unique code across kinds, title, dates, buyers, destination', async () => {
    await post(BASIC, {
      input: {
        title: 'Basic',
        code: 'Taken-Code',
        startsAt: '2026-07-01T00:00:00Z',
        context: { all: 'ALL' },
        customerGets: { value: { percentage: 0.1 }, items: { all: true } },
      },
    });
    const before = emulator.state.snapshot(shop);
    const { body } = await post(FREE_SHIPPING, {
      input: freeShippingInput({
        code: 'TAKEN-CODE',
        title: '',
        startsAt: '2026-07-10T00:00:00Z',
        endsAt: '2026-07-09T00:00:00Z',
        context: { customers: { add: ['gid://shopify/Customer/424242'] } },
        destination: null,
      }),
    });
    expect(body.data).toEqual({
      discountCodeFreeShippingCreate: {
        codeDiscountNode: null,
        userErrors: [
          { field: ['freeShippingCodeDiscount', 'code'], code: 'TAKEN' },
          { field: ['freeShippingCodeDiscount', 'title'], code: 'BLANK' },
          { field: ['freeShippingCodeDiscount', 'endsAt'], code: 'END_DATE_BEFORE_START_DATE' },
          {
            field: ['freeShippingCodeDiscount', 'context', 'customers', 'add', '0'],
            code: 'INVALID',
          },
          { field: ['freeShippingCodeDiscount', 'destination'], code: 'BLANK' },
        ],
      },
    });
    expect(emulator.state.snapshot(shop)).toEqual(before);
  });
});

describe('discountCodeBasicCreate on products', () => {
  it('takes an amount off listed variants, and reports them as DiscountProducts', async () => {
    const { variantGids } = emulator.state.addProduct(shop, {
      title: 'Gyokuro',
      variants: [{ title: '50 g', priceMinor: 2_400 }],
    });
    const { body } = await post(BASIC, {
      input: {
        title: 'Free tin',
        code: 'FREE-TIN',
        startsAt: '2026-07-01T00:00:00Z',
        context: { customers: { add: [customerId] } },
        customerGets: {
          value: { discountAmount: { amount: '24.00', appliesOnEachItem: false } },
          items: { products: { productVariantsToAdd: variantGids } },
        },
      },
    });
    expect(body.data?.discountCodeBasicCreate).toMatchObject({
      codeDiscountNode: {
        codeDiscount: {
          summary: '24.0 USD off Gyokuro - 50 g (once per order)',
          discountClasses: ['PRODUCT'],
        },
      },
      userErrors: [],
    });
    const read = await post(
      `query { codeDiscountNodeByCode(code: "FREE-TIN") { codeDiscount { ... on DiscountCodeBasic {
        customerGets { items { __typename ... on DiscountProducts {
          productVariants(first: 5) { nodes { id price product { title } } }
        } } }
      } } } }`,
    );
    expect(read.body.data).toEqual({
      codeDiscountNodeByCode: {
        codeDiscount: {
          customerGets: {
            items: {
              __typename: 'DiscountProducts',
              productVariants: {
                nodes: [{ id: variantGids[0], price: '24.0', product: { title: 'Gyokuro' } }],
              },
            },
          },
        },
      },
    });
  });

  it('refuses variants the shop does not have, and items that are both all and listed', async () => {
    const base = {
      title: 'Free tin',
      code: 'FREE-TIN',
      startsAt: '2026-07-01T00:00:00Z',
      context: { customers: { add: [customerId] } },
    };
    const unknown = await post(BASIC, {
      input: {
        ...base,
        customerGets: {
          value: { discountAmount: { amount: '24.00' } },
          items: { products: { productVariantsToAdd: ['gid://shopify/ProductVariant/777'] } },
        },
      },
    });
    expect(unknown.body.data?.discountCodeBasicCreate).toEqual({
      codeDiscountNode: null,
      userErrors: [
        {
          field: [
            'basicCodeDiscount',
            'customerGets',
            'items',
            'products',
            'productVariantsToAdd',
            '0',
          ],
          code: 'INVALID',
          message: 'Product variant gid://shopify/ProductVariant/777 does not exist',
        },
      ],
    });
    const both = await post(BASIC, {
      input: {
        ...base,
        customerGets: {
          value: { percentage: 0.5 },
          items: { all: true, products: { productVariantsToAdd: [] } },
        },
      },
    });
    expect(
      (both.body.data?.discountCodeBasicCreate as { userErrors: { code: string }[] }).userErrors,
    ).toEqual([expect.objectContaining({ code: 'CONFLICT' })]);
    expect(emulator.state.discountByCode(shop, 'FREE-TIN')).toBeUndefined();
  });
});

describe('discountCodeDeactivate', () => {
  it('ends a scheduled discount now (EXPIRED), and names an unknown id', async () => {
    const created = await post(FREE_SHIPPING, {
      input: freeShippingInput({ startsAt: '2026-07-05T00:00:00Z' }),
    });
    const id = (
      created.body.data?.discountCodeFreeShippingCreate as { codeDiscountNode: { id: string } }
    ).codeDiscountNode.id;
    expect(
      (
        (await post(BY_CODE, { code: 'SHIP-1' })).body.data?.codeDiscountNodeByCode as {
          codeDiscount: { status: string };
        }
      ).codeDiscount.status,
    ).toBe('SCHEDULED');
    const { body } = await post(DEACTIVATE, { id });
    expect(body.data?.discountCodeDeactivate).toEqual({
      codeDiscountNode: { id, codeDiscount: { __typename: 'DiscountCodeFreeShipping' } },
      userErrors: [],
    });
    expect(
      (await post(BY_CODE, { code: 'SHIP-1' })).body.data?.codeDiscountNodeByCode,
    ).toMatchObject({ codeDiscount: { status: 'EXPIRED', endsAt: '2026-07-01T12:00:00Z' } });

    const missing = await post(DEACTIVATE, { id: 'gid://shopify/DiscountCodeNode/1' });
    expect(missing.body.data?.discountCodeDeactivate).toEqual({
      codeDiscountNode: null,
      userErrors: [{ field: ['id'], code: 'INVALID', message: 'Code discount does not exist.' }],
    });
  });
});

describe('products', () => {
  it('answers productVariant with its price, names and whether it can be bought', async () => {
    const active = emulator.state.addProduct(shop, {
      title: 'Gyokuro Reserve',
      variants: [{ id: 47_120_394_821_001, title: '50 g tin', priceMinor: 2_400, sku: 'GYO-50' }],
    });
    const draft = emulator.state.addProduct(shop, {
      title: 'Hojicha',
      status: 'DRAFT',
      variants: [{ priceMinor: 1_500 }],
    });
    const query = `query V($id: ID!) { productVariant(id: $id) {
      id title displayName price availableForSale sku product { id title status }
    } }`;
    expect((await post(query, { id: active.variantGids[0] })).body.data).toEqual({
      productVariant: {
        id: 'gid://shopify/ProductVariant/47120394821001',
        title: '50 g tin',
        displayName: 'Gyokuro Reserve - 50 g tin',
        price: '24.0',
        availableForSale: true,
        sku: 'GYO-50',
        product: { id: active.productGid, title: 'Gyokuro Reserve', status: 'ACTIVE' },
      },
    });
    const drafted = (await post(query, { id: draft.variantGids[0] })).body.data?.productVariant;
    expect(drafted).toMatchObject({ title: 'Default Title', availableForSale: false });
    expect((await post(query, { id: 'gid://shopify/ProductVariant/5' })).body.data).toEqual({
      productVariant: null,
    });
    // An id of another type is simply not found, as in Shopify.
    expect((await post(query, { id: customerId })).body.data).toEqual({ productVariant: null });
  });

  it('names what is wrong with bad product seeds', () => {
    expect(() => emulator.state.addProduct(shop, { title: 'Empty', variants: [] })).toThrow(
      'addProduct: Empty needs at least one variant',
    );
    expect(() =>
      emulator.state.addProduct(shop, { title: 'Tea', variants: [{ priceMinor: 12.5 }] }),
    ).toThrow('priceMinor must be a whole number of minor units ≥ 0; got 12.5');
    emulator.state.addProduct(shop, { id: 5, title: 'Tea', variants: [{ id: 6, priceMinor: 1 }] });
    expect(() =>
      emulator.state.addProduct(shop, { title: 'Tea 2', variants: [{ id: 6, priceMinor: 1 }] }),
    ).toThrow('addProduct: variant id 6 is not a free positive whole number');
  });
});

describe('faults for one operation only', () => {
  it('fails or throttles the named operation and lets every other request through', async () => {
    emulator.failNext(1, 502, { shop, operation: 'Deactivate', afterExecution: true });
    emulator.throttleNext(1, shop, { operation: 'FreeShipping' });
    expect((await post('query Shop { shop { name } }')).status).toBe(200);
    const throttled = await post(FREE_SHIPPING, { input: freeShippingInput() });
    expect(throttled.body.errors?.[0]?.extensions?.code).toBe('THROTTLED');
    const created = await post(FREE_SHIPPING, { input: freeShippingInput() });
    const id = (
      created.body.data?.discountCodeFreeShippingCreate as { codeDiscountNode: { id: string } }
    ).codeDiscountNode.id;
    // The lost answer came after the deactivation applied.
    expect((await post(DEACTIVATE, { id })).status).toBe(502);
    expect(emulator.state.discountByCode(shop, 'SHIP-1')?.endsAt).toBe(clock);
    expect((await post(DEACTIVATE, { id })).status).toBe(200);
  });
});
