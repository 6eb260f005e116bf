// More codes on one discount, segments of new customers, and changing a discount after its create,
// over HTTP against the emulator with Laurel's own documents (Shopify's schema validates each).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DiscountCodeActivate,
  DiscountCodeBasicCreate,
  DiscountCodeBasicUpdate,
  DiscountCodeDeactivate,
  DiscountRedeemCodeBulkAdd,
  DiscountRedeemCodeBulkCreation,
  ReferralCodeOwner,
  ReferralDiscount,
  SegmentCreate,
} from '../../app/graphql';
import {
  AdminApiError,
  createAdminClient,
  type AdminClient,
} from '../../app/shopify/admin-client.server';
import { inSegment, segmentMembers, segmentsOf } from './segments';
import { startAdminEmulator, type AdminEmulator } from './server';

let emulator: AdminEmulator;
let clock = Date.parse('2026-07-01T12:00:00Z');
let shop: string;
let client: AdminClient;

beforeAll(async () => {
  emulator = await startAdminEmulator({ now: () => clock });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  clock = Date.parse('2026-07-01T12:00:00Z');
  shop = `codes-${randomUUID().slice(0, 8)}.myshopify.com`;
  client = createAdminClient({
    shop,
    accessToken: 'shpat_any',
    endpoint: emulator.endpointTemplate,
    baseDelayMs: 1,
    maxDelayMs: 2,
    maxAttempts: 1,
  });
});

async function newCustomersDiscount(code = 'FRIEND-AAAA2222') {
  const segment = await client.request(SegmentCreate, {
    name: 'New customers',
    query: 'number_of_orders = 0',
  });
  const segmentId = segment.segmentCreate!.segment!.id;
  const created = await client.request(DiscountCodeBasicCreate, {
    basicCodeDiscount: {
      title: 'Welcome',
      code,
      startsAt: '2026-07-01T00:00:00Z',
      context: { customerSegments: { add: [segmentId] } },
      appliesOncePerCustomer: true,
      customerGets: { value: { percentage: 0.1 }, items: { all: true } },
    },
  });
  return { segmentId, discountId: created.discountCodeBasicCreate!.codeDiscountNode!.id };
}

const results = async (id: string) =>
  (await client.request(DiscountRedeemCodeBulkCreation, { id, after: null }))
    .discountRedeemCodeBulkCreation!;

describe('segments of customers with no orders', () => {
  it('holds exactly the customers the emulator knows no order of', async () => {
    const fresh = emulator.state.addCustomer(shop, { firstName: 'New' });
    const buyer = emulator.state.addCustomer(shop, { firstName: 'Buyer' });
    emulator.state.addOrder(shop, { customerId: buyer, subtotalMinor: 1_000 });
    await newCustomersDiscount();
    const store = emulator.state.store(shop);
    const [segment] = [...segmentsOf(store).values()];
    expect(segmentMembers(store, segment!).map((c) => `gid://shopify/Customer/${c.id}`)).toEqual([
      fresh,
    ]);
    expect(() => inSegment(segment!, ['vip'])).toThrow(/about orders/);
    await expect(
      client.request(SegmentCreate, { name: 'Big spenders', query: 'amount_spent > 100' }),
    ).rejects.toThrow(/not implemented by the Laurel emulator: segment query/);
  });
});

describe('discountRedeemCodeBulkAdd', () => {
  it('queues the codes, then adds each or says why not, per code', async () => {
    const { discountId, segmentId } = await newCustomersDiscount();
    // Another discount holds one code already (codes are unique across the shop).
    await client.request(DiscountCodeBasicCreate, {
      basicCodeDiscount: {
        title: 'Sale',
        code: 'SALE-10',
        startsAt: '2026-07-01T00:00:00Z',
        context: { all: 'ALL' },
        customerGets: { value: { percentage: 0.1 }, items: { all: true } },
      },
    });
    const added = await client.request(DiscountRedeemCodeBulkAdd, {
      discountId,
      codes: [
        { code: 'FRIEND-B' },
        { code: 'sale-10' },
        { code: 'FRIEND-C' },
        { code: 'friend-b' },
      ],
    });
    const creation = added.discountRedeemCodeBulkAdd!.bulkCreation!;
    expect(creation).toMatchObject({ done: false, codesCount: 4 });
    // Not in the discount before it ran.
    expect(
      emulator.state.store(shop).discounts.get(Number(discountId.split('/').pop()))!.moreCodes,
    ).toEqual([]);

    const done = await results(creation.id);
    expect(done).toMatchObject({ done: true, codesCount: 4, importedCount: 2, failedCount: 2 });
    expect(done.codes.nodes.map((n) => [n.code, n.errors.map((e) => e.code)])).toEqual([
      ['FRIEND-B', []],
      ['sale-10', ['TAKEN']],
      ['FRIEND-C', []],
      ['friend-b', ['TAKEN']],
    ]);
    // Found by any of its codes, case-insensitively.
    const owner = await client.request(ReferralCodeOwner, { code: 'friend-c' });
    expect(owner.codeDiscountNodeByCode?.id).toBe(discountId);
    const read = await client.request(ReferralDiscount, { id: discountId });
    expect(read.discountNode).toMatchObject({
      id: discountId,
      discount: {
        __typename: 'DiscountCodeBasic',
        codesCount: { count: 3 },
        context: { __typename: 'DiscountCustomerSegments', segments: [{ id: segmentId }] },
      },
    });
  });

  it('refuses more than 250 codes, none, or a discount the shop does not have', async () => {
    const { discountId } = await newCustomersDiscount();
    const many = Array.from({ length: 251 }, (_, i) => ({ code: `C${i}` }));
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: AdminApiError) => error.userErrors.map((e) => [e.field, e.code]),
      );
    expect(
      await refusal(client.request(DiscountRedeemCodeBulkAdd, { discountId, codes: many })),
    ).toEqual([[['codes'], 'TOO_MANY_ARGUMENTS']]);
    expect(
      await refusal(client.request(DiscountRedeemCodeBulkAdd, { discountId, codes: [] })),
    ).toEqual([[['codes'], 'BLANK']]);
    expect(
      await refusal(
        client.request(DiscountRedeemCodeBulkAdd, {
          discountId: 'gid://shopify/DiscountCodeNode/1',
          codes: [{ code: 'X' }],
        }),
      ),
    ).toEqual([[['discountId'], 'INVALID']]);
    expect(
      await results('gid://shopify/DiscountRedeemCodeBulkCreation/1').catch(() => null),
    ).toBeNull();
  });

  it('stays queued until its delay has passed', async () => {
    const { discountId } = await newCustomersDiscount();
    emulator.state.bulkCreationDelayMs = 5_000;
    try {
      const added = await client.request(DiscountRedeemCodeBulkAdd, {
        discountId,
        codes: [{ code: 'LATER-1' }],
      });
      const id = added.discountRedeemCodeBulkAdd!.bulkCreation!.id;
      expect((await results(id)).done).toBe(false);
      expect(emulator.state.discountByCode(shop, 'LATER-1')).toBeUndefined();
      clock += 5_000;
      expect(await results(id)).toMatchObject({ done: true, importedCount: 1 });
    } finally {
      emulator.state.bulkCreationDelayMs = 0;
    }
  });
});

describe('discountCodeBasicUpdate and discountCodeActivate', () => {
  it('change the value and minimum, and reactivate a deactivated discount', async () => {
    const { discountId } = await newCustomersDiscount();
    await client.request(DiscountCodeBasicUpdate, {
      id: discountId,
      basicCodeDiscount: {
        customerGets: { value: { discountAmount: { amount: '15.00', appliesOnEachItem: false } } },
        minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: '40.00' } },
      },
    });
    expect(emulator.state.discountByCode(shop, 'FRIEND-AAAA2222')).toMatchObject({
      value: { kind: 'amount', amountMinor: 1_500 },
      minimumSubtotalMinor: 4_000,
      title: 'Welcome',
    });
    await client.request(DiscountCodeBasicUpdate, {
      id: discountId,
      basicCodeDiscount: { minimumRequirement: null },
    });
    expect(emulator.state.discountByCode(shop, 'FRIEND-AAAA2222')?.minimumSubtotalMinor).toBeNull();

    await client.request(DiscountCodeDeactivate, { id: discountId });
    clock += 1_000;
    const activated = await client.request(DiscountCodeActivate, { id: discountId });
    expect(activated.discountCodeActivate?.codeDiscountNode?.codeDiscount).toMatchObject({
      status: 'ACTIVE',
      endsAt: null,
    });

    const bad = await client
      .request(DiscountCodeBasicUpdate, {
        id: discountId,
        basicCodeDiscount: { customerGets: { value: { percentage: 1.5 } } },
      })
      .catch((error: AdminApiError) => error.userErrors.map((e) => e.code));
    expect(bad).toEqual(['VALUE_OUTSIDE_RANGE']);
  });
});
