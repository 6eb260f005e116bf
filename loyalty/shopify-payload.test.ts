import { describe, expect, it } from 'vitest';
import {
  customerPayload,
  customersDataRequestPayload,
  customersRedactPayload,
  orderPayload,
  refundPayload,
  shopRedactPayload,
} from '../tests/fixtures/shopify';
import { edited, issuesOf, type Json } from '../tests/helpers/shopify-payload';
import {
  parseCustomersDataRequestPayload,
  parseCustomersRedactPayload,
  parseShopRedactPayload,
} from './shopify-compliance';
import { parseCustomerPayload } from './shopify-customer';
import { parseOrderPayload, parseRefundPayload } from './shopify-order';
import { ShopifyPayloadError } from './shopify-payload';

const ORDER_ID = 5_912_345_678_901;

describe('messages never carry payload values', () => {
  // What an auditor found in last_error: a birth_date metafield holding an SSN, quoted verbatim.
  const SENTINELS: unknown[] = ['SSN 123-45-6789', '123-45-6789', -123456789, 1234567.891];
  const leaks = (text: string) => /123-?45-?6789|123456789|1234567\.891/.test(text);

  /** Every path of `json` (objects and arrays included), as key lists. */
  function paths(json: unknown, prefix: PropertyKey[] = []): PropertyKey[][] {
    if (json === null || typeof json !== 'object') return [prefix];
    const children = Array.isArray(json)
      ? json.flatMap((value, i) => paths(value, [...prefix, i]))
      : Object.entries(json).flatMap(([key, value]) => paths(value, [...prefix, key]));
    return prefix.length === 0 ? children : [prefix, ...children];
  }

  function withValue(json: unknown, path: PropertyKey[], value: unknown): unknown {
    const copy = structuredClone(json) as Record<PropertyKey, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<PropertyKey, unknown>;
    node[path.at(-1)!] = value;
    return copy;
  }

  const order = orderPayload({
    id: ORDER_ID,
    customer: { id: 7_301_234_567_890, email: 'ada@example.com' },
    lineItems: [{ title: 'Linen Shirt', price: '100.00' }],
    shipping: '5.00',
  });
  const refund = refundPayload({
    id: 880_021,
    orderId: ORDER_ID,
    order,
    lineItems: [{ lineItemId: (order.line_items as Json[])[0]!.id as number }],
    shipping: '5.00',
    discrepancy: '-1.00',
  });
  const legacyRefund = refundPayload({
    id: 880_022,
    orderId: ORDER_ID,
    lineItems: [{ lineItemId: 1, subtotal: '10.00' }],
    shipping: '5.00',
    legacyShippingAdjustment: true,
  });
  const cases: Array<[string, (json: unknown) => unknown, Json]> = [
    ['order', parseOrderPayload, { ...order, refunds: [refund] }],
    [
      'order (amounts without sets)',
      parseOrderPayload,
      edited(order, (o) => {
        delete o.subtotal_price_set;
        delete o.total_price_set;
      }),
    ],
    ['refund', parseRefundPayload, refund],
    ['legacy refund', parseRefundPayload, legacyRefund],
    ['customer', parseCustomerPayload, customerPayload({ id: 42, birthday: '1990-07-14' })],
    [
      'customers/redact',
      parseCustomersRedactPayload,
      customersRedactPayload({
        shopDomain: 'laurel-demo.myshopify.com',
        customer: { id: 191_167, email: 'john@example.com', phone: '555-625-1199' },
        ordersToRedact: [299_938],
      }),
    ],
    [
      'customers/data_request',
      parseCustomersDataRequestPayload,
      customersDataRequestPayload({
        shopDomain: 'laurel-demo.myshopify.com',
        customer: { id: 191_167, email: 'john@example.com' },
        ordersRequested: [299_938],
        dataRequestId: 9_999,
      }),
    ],
    [
      'shop/redact',
      parseShopRedactPayload,
      shopRedactPayload({ shopDomain: 'laurel-demo.myshopify.com' }),
    ],
  ];

  it.each(cases)(
    '%s: every field holding a sentinel is refused without quoting it',
    (_, parse, body) => {
      parse(body); // the unedited body is valid, so every refusal below is the sentinel's doing
      let refused = 0;
      for (const path of paths(body)) {
        for (const sentinel of SENTINELS) {
          let error: unknown;
          try {
            parse(withValue(body, path, sentinel));
          } catch (e) {
            error = e;
          }
          if (error === undefined) continue;
          refused++;
          expect(error).toBeInstanceOf(ShopifyPayloadError);
          const where = `${path.join('.')} = ${JSON.stringify(sentinel)}`;
          expect(leaks((error as Error).message), `${where}: ${(error as Error).message}`).toBe(
            false,
          );
          for (const issue of (error as ShopifyPayloadError).issues) {
            expect(leaks(issue.path), where).toBe(false);
          }
        }
      }
      expect(refused).toBeGreaterThan(5);
    },
  );

  it('a birth_date metafield that is not a date is named by path and rule only', () => {
    const body = edited(customerPayload({ id: 42, birthday: '1990-07-14' }), (c) => {
      (c.metafields as Json[])[0]!.value = 'SSN 123-45-6789';
    });
    expect(issuesOf(parseCustomerPayload, body)).toEqual([
      { path: 'metafields[0].value', message: 'is not a date (YYYY-MM-DD)' },
    ]);
  });
});
