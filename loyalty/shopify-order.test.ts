import { describe, expect, it } from 'vitest';
import {
  cancelledOrderPayload,
  posRefundPayload,
  orderPayload,
  refundPayload,
} from '../tests/fixtures/shopify';
import { edited, issuesOf, type Json } from '../tests/helpers/shopify-payload';
import { parseOrderPayload, parseRefundPayload } from './shopify-order';

const ORDER_ID = 5_912_345_678_901;
/** The fixtures' default address, as the order facts carry it. */
const ottawa = {
  address1: '1 Analytical Row',
  address2: null,
  city: 'Ottawa',
  zip: 'K1A 0B1',
  countryCode: 'CA',
};

describe('parseOrderPayload', () => {
  it('reads the facts of a realistic orders/paid body', () => {
    const order = orderPayload({
      id: ORDER_ID,
      customer: {
        id: 7_301_234_567_890,
        email: ' Ada@Example.COM ',
        firstName: 'Ada',
        lastName: 'Byron',
      },
      lineItems: [
        { title: 'Linen Shirt', price: '100.00' },
        { title: 'Socks', price: '15.00', quantity: 2 },
      ],
      discounts: [{ code: 'SPRING10', amount: '10.00' }],
      shipping: '5.00',
      tax: '7.50',
      processedAt: '2026-03-14T10:15:00-04:00',
      name: '#1001',
    });
    const facts = parseOrderPayload(order);
    expect(facts).toEqual({
      orderId: '5912345678901',
      adminGraphqlId: 'gid://shopify/Order/5912345678901',
      name: '#1001',
      customer: {
        id: '7301234567890',
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Byron',
        phone: null,
      },
      email: 'ada@example.com',
      shopCurrency: 'USD',
      presentmentCurrency: 'USD',
      // $130 of goods − $10 discount = $120; shipping and tax are not earned on.
      earnAmountMinor: 12_000,
      totalMinor: 13_250,
      taxesIncluded: false,
      sourceName: 'web',
      test: false,
      financialStatus: 'paid',
      processedAt: Date.UTC(2026, 2, 14, 14, 15),
      updatedAt: Date.UTC(2026, 2, 14, 14, 15),
      cancelledAt: null,
      cancelReason: null,
      refunds: [],
      discountCodes: ['SPRING10'],
      phone: null,
      shippingAddress: ottawa,
      billingAddress: ottawa,
      addressPhones: [],
      browserIp: null,
      // Each line after its share of the discount (loyalty/shopify-order-lines.test.ts).
      lines: [
        { productId: expect.any(String), amountMinor: 9_231 },
        { productId: expect.any(String), amountMinor: 2_769 },
      ],
    });
  });

  it('reads the contact facts the referral rules compare: phones, addresses, the browser IP', () => {
    const order = edited(orderPayload({ id: ORDER_ID, subtotal: '120.00' }), (o) => {
      o.phone = ' +1 613 555 0100 ';
      (o.customer as Json).phone = '+16135550199';
      o.shipping_address = {
        first_name: 'Ada',
        address1: ' 12 Rue de la Paix ',
        address2: '',
        city: 'Paris',
        zip: '75002',
        country_code: 'fr',
        phone: '01 42 00 00 00',
      };
      o.billing_address = null;
      o.client_details = { browser_ip: ' 2001:DB8::1 ', user_agent: 'Mozilla/5.0' };
    });
    const facts = parseOrderPayload(order);
    expect(facts.phone).toBe('+1 613 555 0100');
    expect(facts.customer?.phone).toBe('+16135550199');
    expect(facts.shippingAddress).toEqual({
      address1: '12 Rue de la Paix',
      address2: null,
      city: 'Paris',
      zip: '75002',
      countryCode: 'FR',
    });
    expect(facts.billingAddress).toBeNull();
    expect(facts.addressPhones).toEqual(['01 42 00 00 00']);
    expect(facts.browserIp).toBe('2001:db8::1');
  });

  it('takes absent or empty contact facts as none, and refuses ones of the wrong shape', () => {
    const bare = edited(orderPayload({ id: ORDER_ID, subtotal: '120.00' }), (o) => {
      delete o.phone;
      delete o.shipping_address;
      o.billing_address = { address1: ' ', zip: null };
      delete o.client_details;
    });
    expect(parseOrderPayload(bare)).toMatchObject({
      phone: null,
      shippingAddress: null,
      billingAddress: null,
      addressPhones: [],
      browserIp: null,
    });
    const wrong = edited(orderPayload({ id: ORDER_ID, subtotal: '120.00' }), (o) => {
      o.shipping_address = 'Paris';
      (o.billing_address as Json).zip = 75002;
      o.client_details = { browser_ip: 203 };
      o.phone = false;
    });
    expect(issuesOf(parseOrderPayload, wrong)).toEqual([
      { path: 'phone', message: 'must be a string' },
      { path: 'shipping_address', message: 'must be an object or null' },
      { path: 'billing_address.zip', message: 'must be a string' },
      { path: 'client_details.browser_ip', message: 'must be a string' },
    ]);
  });

  it('reads the discount codes leniently: a malformed entry never stops the order', () => {
    const order = orderPayload({ id: ORDER_ID, subtotal: '120.00' });
    order.discount_codes = [
      { code: ' LRL-7KQ2-M9XP-4HTV ', amount: '5.00', type: 'fixed_amount' },
      { code: 42 },
      null,
      { code: '' },
      { code: 'LRL-7KQ2-M9XP-4HTV' },
    ];
    expect(parseOrderPayload(order).discountCodes).toEqual(['LRL-7KQ2-M9XP-4HTV']);
    delete order.discount_codes;
    expect(parseOrderPayload(order).discountCodes).toEqual([]);
  });

  it('earns on shop money and ignores the presentment currency', () => {
    const order = orderPayload({
      id: ORDER_ID,
      subtotal: '120.00',
      presentmentCurrency: 'EUR',
      presentmentRate: '0.9150',
    });
    expect((order.subtotal_price_set as Json).presentment_money).toEqual({
      amount: '109.80',
      currency_code: 'EUR',
    });
    const facts = parseOrderPayload(order);
    expect(facts.shopCurrency).toBe('USD');
    expect(facts.presentmentCurrency).toBe('EUR');
    expect(facts.earnAmountMinor).toBe(12_000);
  });

  it('uses each currency’s own minor digits (JPY 0, KWD 3)', () => {
    expect(
      parseOrderPayload(orderPayload({ id: 1, subtotal: '12000', currency: 'JPY' }))
        .earnAmountMinor,
    ).toBe(12_000);
    expect(
      parseOrderPayload(orderPayload({ id: 2, subtotal: '12.345', currency: 'KWD' }))
        .earnAmountMinor,
    ).toBe(12_345);
  });

  it('prefers subtotal_price_set and falls back to subtotal_price only when the set is absent', () => {
    const order = orderPayload({ id: ORDER_ID, subtotal: '120.00' });
    // The set is the shop-money truth even if the legacy field disagreed.
    expect(
      parseOrderPayload(edited(order, (o) => (o.subtotal_price = '999.00'))).earnAmountMinor,
    ).toBe(12_000);
    const legacy = edited(order, (o) => {
      delete o.subtotal_price_set;
      delete o.total_price_set;
      o.subtotal_price = '80.10';
      o.total_price = '86.50';
    });
    const facts = parseOrderPayload(legacy);
    expect(facts).toMatchObject({ earnAmountMinor: 8_010, totalMinor: 8_650, shopCurrency: 'USD' });
  });

  it('accepts amounts written as JSON numbers without float arithmetic', () => {
    const order = edited(orderPayload({ id: ORDER_ID, subtotal: '0.30' }), (o) => {
      (o.subtotal_price_set as { shop_money: { amount: unknown } }).shop_money.amount = 0.3;
    });
    // 0.1 + 0.2 style drift would give 29 or 30.000000000000004; the text "0.3" is exactly 30.
    expect(parseOrderPayload(order).earnAmountMinor).toBe(30);
  });

  it('treats a missing or null customer as a guest and keeps the order email', () => {
    const guest = orderPayload({
      id: ORDER_ID,
      subtotal: '45.00',
      customer: null,
      email: 'Guest@Shop.Example ',
    });
    expect(guest.customer).toBeNull();
    expect(parseOrderPayload(guest)).toMatchObject({ customer: null, email: 'guest@shop.example' });
    const noKey = edited(guest, (o) => delete o.customer);
    expect(parseOrderPayload(noKey).customer).toBeNull();
  });

  it('falls back to contact_email, and reads a blank email as none', () => {
    const order = orderPayload({ id: ORDER_ID, subtotal: '45.00', customer: null, email: null });
    expect(parseOrderPayload(order).email).toBeNull();
    expect(
      parseOrderPayload(edited(order, (o) => (o.contact_email = 'Buyer@Example.com'))).email,
    ).toBe('buyer@example.com');
    expect(parseOrderPayload(edited(order, (o) => (o.email = '   '))).email).toBeNull();
  });

  it('earns on the tax-inclusive subtotal when prices include tax', () => {
    // A UK shop: £120 shelf price includes £20 VAT; the shopper saw and paid £120.
    const order = orderPayload({
      id: ORDER_ID,
      subtotal: '120.00',
      tax: '20.00',
      taxesIncluded: true,
      currency: 'GBP',
    });
    expect(parseOrderPayload(order)).toMatchObject({
      taxesIncluded: true,
      earnAmountMinor: 12_000,
      totalMinor: 12_000,
      shopCurrency: 'GBP',
    });
  });

  it('reports POS, test and draft orders as such', () => {
    expect(
      parseOrderPayload(orderPayload({ id: 1, subtotal: '10.00', sourceName: 'pos' })).sourceName,
    ).toBe('pos');
    expect(parseOrderPayload(orderPayload({ id: 2, subtotal: '10.00', test: true })).test).toBe(
      true,
    );
    expect(
      parseOrderPayload(
        orderPayload({ id: 3, subtotal: '10.00', sourceName: 'shopify_draft_order' }),
      ).sourceName,
    ).toBe('shopify_draft_order');
  });

  it('reads a cancelled order and falls back to created_at for the business time', () => {
    const order = orderPayload({ id: ORDER_ID, subtotal: '120.00' });
    const cancelled = cancelledOrderPayload(order, {
      cancelledAt: '2026-03-15T09:00:00+01:00',
      reason: 'customer',
    });
    expect(parseOrderPayload(cancelled)).toMatchObject({
      cancelledAt: Date.UTC(2026, 2, 15, 8, 0),
      cancelReason: 'customer',
      // Cancelling does not change what the order earned on; reversal handles the points.
      earnAmountMinor: 12_000,
    });
    const noProcessedAt = edited(order, (o) => {
      o.processed_at = null;
      o.created_at = '2026-01-02T03:04:05.678Z';
    });
    expect(parseOrderPayload(noProcessedAt).processedAt).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  });

  it('parses the refunds an order body carries', () => {
    const order = orderPayload({ id: ORDER_ID, subtotal: '120.00' });
    const lineItemId = (order.line_items as Json[])[0]!.id as number;
    const refund = refundPayload({
      id: 880_011,
      orderId: ORDER_ID,
      lineItems: [{ lineItemId, subtotal: '20.00' }],
    });
    const updated = orderPayload({ id: ORDER_ID, subtotal: '120.00', refunds: [refund] });
    const facts = parseOrderPayload(updated);
    expect(facts.refunds).toHaveLength(1);
    expect(facts.refunds[0]).toMatchObject({ refundId: '880011', merchandiseMinor: 2_000 });

    const foreign = edited(updated, (o) => ((o.refunds as Json[])[0]!.order_id = 42));
    expect(issuesOf(parseOrderPayload, foreign)).toEqual([
      { path: 'refunds[0].order_id', message: 'names another order than this one' },
    ]);
  });

  it('recovers an id above 2^53 from admin_graphql_api_id', () => {
    // JSON.parse rounds 820982911946154508 to 820982911946154500: the gid keeps the real digits.
    const text = JSON.stringify(orderPayload({ id: 1, subtotal: '10.00' }))
      .replace('"id":1,', '"id":820982911946154508,')
      .replace('gid://shopify/Order/1"', 'gid://shopify/Order/820982911946154508"');
    const order = JSON.parse(text) as Json;
    expect(order.id).toBe(820982911946154500);
    expect(parseOrderPayload(order).orderId).toBe('820982911946154508');

    const noGid = edited(order, (o) => delete o.admin_graphql_api_id);
    expect(issuesOf(parseOrderPayload, noGid)).toEqual([
      {
        path: 'id',
        message: 'is above 2^53 and was rounded when the JSON was parsed; the exact id is unknown',
      },
    ]);
  });

  it('refuses a gid that names another order', () => {
    const order = edited(orderPayload({ id: 1001, subtotal: '10.00' }), (o) => {
      o.admin_graphql_api_id = 'gid://shopify/Order/1002';
    });
    expect(issuesOf(parseOrderPayload, order)).toEqual([
      { path: 'admin_graphql_api_id', message: 'names another id than id' },
    ]);
  });

  it('lists every problem with its path', () => {
    const order = edited(orderPayload({ id: ORDER_ID, subtotal: '120.00' }), (o) => {
      (o.subtotal_price_set as { shop_money: { amount: unknown } }).shop_money.amount = '12.345';
      delete o.test;
      o.processed_at = '2026-03-14 10:15:00';
      o.name = 7;
    });
    const issues = issuesOf(parseOrderPayload, order);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'name', message: 'must be a string' },
        { path: 'test', message: 'is required' },
      ]),
    );
    // Structure is checked first; fix it and the value problems are reported together.
    const fixed = edited(order, (o) => {
      o.test = false;
      o.name = '#1001';
    });
    expect(issuesOf(parseOrderPayload, fixed)).toEqual([
      {
        path: 'subtotal_price_set.shop_money.amount',
        message: 'has 3 decimal places; USD allows 2',
      },
      {
        path: 'processed_at',
        message: 'is not an ISO 8601 timestamp with an offset, e.g. 2026-03-14T10:15:00-04:00',
      },
    ]);
  });

  it('refuses amounts in more than one shop currency', () => {
    const order = edited(orderPayload({ id: ORDER_ID, subtotal: '120.00' }), (o) => {
      (o.total_price_set as { shop_money: { currency_code: string } }).shop_money.currency_code =
        'EUR';
    });
    expect(issuesOf(parseOrderPayload, order)).toEqual([
      {
        path: 'total_price_set.shop_money.currency_code',
        message:
          "is 'EUR' but subtotal_price_set.shop_money.currency_code is 'USD'; all shop_money amounts must be in the shop currency",
      },
    ]);
  });

  it('names unknown currencies, impossible dates and missing amounts', () => {
    const base = orderPayload({ id: ORDER_ID, subtotal: '120.00' });
    expect(
      issuesOf(
        parseOrderPayload,
        edited(base, (o) => {
          (
            o.subtotal_price_set as { shop_money: { currency_code: string } }
          ).shop_money.currency_code = 'XYZ';
        }),
      ),
    ).toContainEqual({
      path: 'subtotal_price_set.shop_money.currency_code',
      message: 'is not an ISO 4217 currency code such as "USD"',
    });
    expect(
      issuesOf(
        parseOrderPayload,
        edited(base, (o) => (o.processed_at = '2026-02-30T10:00:00Z')),
      ),
    ).toEqual([{ path: 'processed_at', message: 'is not a real date and time' }]);
    expect(
      issuesOf(
        parseOrderPayload,
        edited(base, (o) => {
          delete o.total_price_set;
          delete o.total_price;
        }),
      ),
    ).toEqual([{ path: 'total_price_set', message: 'is required (or total_price with currency)' }]);
  });

  it('rejects a body that is not an object', () => {
    for (const body of [null, [], 'order', 42]) {
      expect(issuesOf(parseOrderPayload, body)).toEqual([
        { path: '', message: 'must be a JSON object' },
      ]);
    }
    expect(() => parseOrderPayload(null)).toThrow(
      /invalid order payload:\n {2}- \(root\): must be a JSON object/,
    );
  });
});

/** The order the refund tests refund: a shirt, two pairs of socks and shipping. */
const order = orderPayload({
  id: ORDER_ID,
  lineItems: [
    { title: 'Linen Shirt', price: '100.00' },
    { title: 'Socks', price: '10.00', quantity: 2 },
  ],
  shipping: '5.00',
});
const [shirt, socks] = (order.line_items as Json[]).map((l) => l.id as number) as [number, number];

describe('parseRefundPayload', () => {
  it('sums the refunded merchandise in shop currency', () => {
    const refund = refundPayload({
      id: 880_011,
      orderId: ORDER_ID,
      order,
      lineItems: [
        { lineItemId: shirt, subtotal: '100.00', tax: '8.00' },
        { lineItemId: socks, quantity: 1, subtotal: '10.00', restockType: 'no_restock' },
      ],
      createdAt: '2026-03-20T15:45:00-04:00',
      presentmentCurrency: 'CAD',
      presentmentRate: '1.3650',
    });
    expect(parseRefundPayload(refund)).toEqual({
      refundId: '880011',
      orderId: '5912345678901',
      adminGraphqlId: 'gid://shopify/Refund/880011',
      createdAt: Date.UTC(2026, 2, 20, 19, 45),
      processedAt: Date.UTC(2026, 2, 20, 19, 45),
      merchandiseMinor: 11_000,
      shippingMinor: 0,
      discrepancyMinor: 0,
      shopCurrency: 'USD',
      lineItems: [
        { lineItemId: String(shirt), quantity: 1, subtotalMinor: 10_000, restockType: 'return' },
        { lineItemId: String(socks), quantity: 1, subtotalMinor: 1_000, restockType: 'no_restock' },
      ],
    });
  });

  it('gives a shipping-only refund no merchandise', () => {
    const refund = refundPayload({ id: 880_012, orderId: ORDER_ID, order, shipping: '5.00' });
    expect(parseRefundPayload(refund)).toMatchObject({ merchandiseMinor: 0, shippingMinor: 500 });
  });

  it('gives a restock-only refund no merchandise', () => {
    const refund = refundPayload({
      id: 880_013,
      orderId: ORDER_ID,
      lineItems: [{ lineItemId: shirt, subtotal: '0.00', restockType: 'return' }],
    });
    expect(parseRefundPayload(refund)).toMatchObject({ merchandiseMinor: 0, shippingMinor: 0 });
  });

  it('reads pre-2024-10 shipping adjustments as a positive shipping amount', () => {
    const refund = refundPayload({
      id: 880_014,
      orderId: ORDER_ID,
      lineItems: [{ lineItemId: shirt, subtotal: '100.00' }],
      shipping: '5.00',
      legacyShippingAdjustment: true,
    });
    const adjustment = (refund.order_adjustments as Json[])[0]!;
    expect(adjustment).toMatchObject({ kind: 'shipping_refund', amount: '-5.00' });
    expect(parseRefundPayload(refund)).toMatchObject({
      merchandiseMinor: 10_000,
      shippingMinor: 500,
    });
  });

  it('counts shipping once when a payload has both refund_shipping_lines and a shipping adjustment', () => {
    const modern = refundPayload({ id: 880_015, orderId: ORDER_ID, order, shipping: '5.00' });
    const legacy = refundPayload({
      id: 880_015,
      orderId: ORDER_ID,
      shipping: '5.00',
      legacyShippingAdjustment: true,
    });
    const both = { ...modern, order_adjustments: legacy.order_adjustments };
    expect(parseRefundPayload(both).shippingMinor).toBe(500);
  });

  it('records discrepancies signed, and never as merchandise', () => {
    // A goodwill refund: no line items, the money shows up as a discrepancy only.
    const goodwill = refundPayload({ id: 880_016, orderId: ORDER_ID, discrepancy: '-15.00' });
    expect(parseRefundPayload(goodwill)).toMatchObject({
      merchandiseMinor: 0,
      discrepancyMinor: -1_500,
      shopCurrency: 'USD',
    });
    // Refunding an item for less than it cost: the item still counts in full.
    const partial = refundPayload({
      id: 880_017,
      orderId: ORDER_ID,
      lineItems: [{ lineItemId: shirt, subtotal: '100.00' }],
      discrepancy: '40.00',
      legacyShippingAdjustment: true,
    });
    expect((partial.order_adjustments as Json[])[0]!.kind).toBe('refund_discrepancy');
    expect(parseRefundPayload(partial)).toMatchObject({
      merchandiseMinor: 10_000,
      discrepancyMinor: 4_000,
    });
  });

  it('reads an adjustment without amount_set in the shop currency of the rest of the refund', () => {
    const refund = refundPayload({
      id: 880_018,
      orderId: ORDER_ID,
      lineItems: [{ lineItemId: shirt, subtotal: '100.00' }],
      discrepancy: '2.37',
    });
    delete (refund.order_adjustments as Json[])[0]!.amount_set;
    expect(parseRefundPayload(refund).discrepancyMinor).toBe(237);
  });

  it('has no shop currency when it carries no amount at all', () => {
    const refund = refundPayload({ id: 880_019, orderId: ORDER_ID });
    expect(parseRefundPayload(refund)).toMatchObject({ merchandiseMinor: 0, shopCurrency: null });
  });

  it('parses the Refund example from Shopify’s REST reference (2026-01)', () => {
    // The documented create-refund response, trimmed of the nested line item's product fields.
    const documented = {
      id: 929361483,
      order_id: 450789469,
      created_at: '2026-01-09T19:00:17-05:00',
      note: 'wrong size',
      user_id: null,
      processed_at: '2026-01-09T19:00:17-05:00',
      duties: [],
      total_duties_set: {
        shop_money: { amount: '0.00', currency_code: 'USD' },
        presentment_money: { amount: '0.00', currency_code: 'USD' },
      },
      return: null,
      restock: false,
      additional_fees: [],
      total_additional_fees_set: {
        shop_money: { amount: '0.00', currency_code: 'USD' },
        presentment_money: { amount: '0.00', currency_code: 'USD' },
      },
      refund_shipping_lines: [],
      admin_graphql_api_id: 'gid://shopify/Refund/929361483',
      order_adjustments: [],
      refund_line_items: [
        {
          location_id: null,
          restock_type: 'no_restock',
          quantity: 1,
          id: 1058498334,
          line_item_id: 518995019,
          subtotal: 0.0,
          total_tax: 0.0,
          subtotal_set: {
            shop_money: { amount: '0.00', currency_code: 'USD' },
            presentment_money: { amount: '0.00', currency_code: 'USD' },
          },
          total_tax_set: {
            shop_money: { amount: '0.00', currency_code: 'USD' },
            presentment_money: { amount: '0.00', currency_code: 'USD' },
          },
          line_item: { id: 518995019, price: '199.00', quantity: 1 },
        },
      ],
      transactions: [
        {
          id: 1068278588,
          order_id: 450789469,
          kind: 'refund',
          gateway: 'bogus',
          status: 'success',
          amount: '41.94',
          currency: 'USD',
        },
      ],
    };
    expect(parseRefundPayload(documented)).toMatchObject({
      refundId: '929361483',
      orderId: '450789469',
      merchandiseMinor: 0,
      shippingMinor: 0,
      shopCurrency: 'USD',
      createdAt: Date.UTC(2026, 0, 10, 0, 0, 17),
    });
  });

  it('uses processed_at for an imported refund and keeps created_at', () => {
    const refund = refundPayload({
      id: 880_020,
      orderId: ORDER_ID,
      lineItems: [{ lineItemId: shirt, subtotal: '100.00' }],
      createdAt: '2026-04-01T12:00:00Z',
      processedAt: '2025-12-24T12:00:00Z',
    });
    expect(parseRefundPayload(refund)).toMatchObject({
      createdAt: Date.UTC(2026, 3, 1, 12),
      processedAt: Date.UTC(2025, 11, 24, 12),
    });
  });

  it('names missing amounts, negative subtotals and mixed currencies by path', () => {
    const refund = refundPayload({
      id: 880_021,
      orderId: ORDER_ID,
      lineItems: [
        { lineItemId: shirt, subtotal: '100.00' },
        { lineItemId: socks, subtotal: '10.00' },
      ],
    });
    const lines = () => refund.refund_line_items as Json[];
    expect(
      issuesOf(
        parseRefundPayload,
        edited(refund, (r) => delete (r.refund_line_items as Json[])[1]!.subtotal_set),
      ),
    ).toEqual([{ path: 'refund_line_items[1].subtotal_set', message: 'is required' }]);
    expect(lines()).toHaveLength(2); // edited() broke a copy, not the refund the next cases use
    expect(
      issuesOf(
        parseRefundPayload,
        edited(refund, (r) => {
          (
            (r.refund_line_items as Json[])[0]!.subtotal_set as { shop_money: { amount: string } }
          ).shop_money.amount = '-100.00';
        }),
      ),
    ).toEqual([
      {
        path: 'refund_line_items[0].subtotal_set.shop_money.amount',
        message: 'is negative',
      },
    ]);
    expect(
      issuesOf(
        parseRefundPayload,
        edited(refund, (r) => {
          (
            (r.refund_line_items as Json[])[1]!.subtotal_set as {
              shop_money: { currency_code: string };
            }
          ).shop_money.currency_code = 'CAD';
        }),
      ),
    ).toEqual([
      {
        path: 'refund_line_items[1].subtotal_set.shop_money.currency_code',
        message:
          "is 'CAD' but refund_line_items[0].subtotal_set.shop_money.currency_code is 'USD'; all shop_money amounts must be in the shop currency",
      },
    ]);
    expect(
      issuesOf(
        parseRefundPayload,
        edited(refund, (r) => delete r.refund_line_items),
      ),
    ).toEqual([{ path: 'refund_line_items', message: 'is required' }]);
  });
});

describe('refunds whose lines state no currency ("XXX", Shopify POS)', () => {
  const posRefund = (options: Partial<Parameters<typeof refundPayload>[0]> = {}) =>
    posRefundPayload(
      refundPayload({
        id: 880_031,
        orderId: ORDER_ID,
        order,
        lineItems: [
          { lineItemId: shirt, subtotal: '100.00', tax: '8.00' },
          { lineItemId: socks, quantity: 1, subtotal: '10.00' },
        ],
        ...options,
      }),
    );

  it('reads the line amounts in the shop currency the handler knows', () => {
    const refund = posRefund();
    expect(
      (refund.refund_line_items as Json[]).map(
        (l) => (l.subtotal_set as { shop_money: { currency_code: string } }).shop_money,
      ),
    ).toEqual([
      { amount: '100.00', currency_code: 'XXX' },
      { amount: '10.00', currency_code: 'XXX' },
    ]);
    expect(parseRefundPayload(refund, { shopCurrency: 'USD' })).toMatchObject({
      merchandiseMinor: 11_000,
      shopCurrency: 'USD',
      lineItems: [{ subtotalMinor: 10_000 }, { subtotalMinor: 1_000 }],
    });
  });

  it("uses the shop currency's own decimals", () => {
    const yen = posRefundPayload(
      refundPayload({
        id: 880_032,
        orderId: ORDER_ID,
        currency: 'JPY',
        lineItems: [{ lineItemId: 1, subtotal: '1200' }],
      }),
    );
    expect(parseRefundPayload(yen, { shopCurrency: 'JPY' })).toMatchObject({
      merchandiseMinor: 1_200,
      shopCurrency: 'JPY',
    });
  });

  it('takes the currency the rest of the refund states, and refuses a real mismatch', () => {
    const withShipping = posRefund({ shipping: '5.00' });
    // The shipping line states USD: the lines are read in USD whatever the caller passes.
    expect(parseRefundPayload(withShipping)).toMatchObject({
      merchandiseMinor: 11_000,
      shippingMinor: 500,
      shopCurrency: 'USD',
    });
    // A refund stating EUR in a USD shop is still a EUR refund: the handler refuses it.
    const inEuros = posRefundPayload(
      refundPayload({
        id: 880_033,
        orderId: ORDER_ID,
        currency: 'EUR',
        lineItems: [{ lineItemId: shirt, subtotal: '100.00' }],
        shipping: '5.00',
      }),
    );
    expect(parseRefundPayload(inEuros, { shopCurrency: 'USD' }).shopCurrency).toBe('EUR');
    // Two stated currencies are refused as before.
    const mixed = edited(withShipping, (r) => {
      const line = (r.refund_line_items as Json[])[1]!;
      (line.subtotal_set as { shop_money: { currency_code: string } }).shop_money.currency_code =
        'CAD';
    });
    expect(issuesOf((json) => parseRefundPayload(json, { shopCurrency: 'USD' }), mixed)).toEqual([
      {
        path: 'refund_shipping_lines[0].subtotal_amount_set.shop_money.currency_code',
        message:
          "is 'USD' but refund_line_items[1].subtotal_set.shop_money.currency_code is 'CAD'; all shop_money amounts must be in the shop currency",
      },
    ]);
  });

  it('is refused by path when nothing says which currency the lines are in', () => {
    expect(issuesOf(parseRefundPayload, posRefund())).toEqual(
      [0, 1].map((i) => ({
        path: `refund_line_items[${i}].subtotal_set.shop_money.currency_code`,
        message: 'is XXX (no currency) and nothing else in the refund states the shop currency',
      })),
    );
  });

  it('inside an order body, takes the order currency', () => {
    const body = { ...order, refunds: [posRefund()] };
    expect(parseOrderPayload(body).refunds).toMatchObject([
      { refundId: '880031', merchandiseMinor: 11_000, shopCurrency: 'USD' },
    ]);
  });
});
