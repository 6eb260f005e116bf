/**
 * A stream of orders/paid deliveries whose points are known by hand, for the end-to-end tests
 * that break something (a worker, Redis) and then check that every order earned exactly once.
 */
import { randomUUID } from 'node:crypto';
import { orderPayload } from '../fixtures/shopify';
import type { Delivery } from './e2e-stack';

/** Order subtotals with their points under the reference program, worked out by hand. */
export const HAND_WORKED_AMOUNTS: readonly (readonly [subtotal: string, points: number])[] = [
  ['120.00', 90], // 50 + 2 × 20
  ['75.50', 25], // 25 whole dollars over $50
  ['250.00', 350], // 50 + 2 × 150
  ['49.99', 0], // below the first band: no award entry at all
  ['100.00', 50], // the top of the first band
  ['100.99', 50], // not a whole dollar over $100
  ['101.00', 52],
];

export interface StreamOrder {
  orderId: number;
  customerId: number;
  subtotal: string;
  points: number;
  delivery: Delivery;
}

export interface OrderStreamOptions {
  count: number;
  /** Order ids are firstOrderId, firstOrderId + 1, … */
  firstOrderId: number;
  /** Customer of order i: firstCustomerId + (i mod customers), unless customerOf says otherwise. */
  firstCustomerId: number;
  customers: number;
  customerOf?: (i: number) => number | undefined;
}

export function orderStream(options: OrderStreamOptions): StreamOrder[] {
  return Array.from({ length: options.count }, (_, i) => {
    const [subtotal, points] = HAND_WORKED_AMOUNTS[i % HAND_WORKED_AMOUNTS.length]!;
    const orderId = options.firstOrderId + i;
    const customerId = options.customerOf?.(i) ?? options.firstCustomerId + (i % options.customers);
    return {
      orderId,
      customerId,
      subtotal,
      points,
      delivery: {
        topic: 'orders/paid',
        // Shipping and tax never earn: only the subtotal above decides the points.
        payload: orderPayload({
          id: orderId,
          customer: { id: customerId },
          subtotal,
          shipping: '5.00',
          tax: '3.25',
        }),
        webhookId: randomUUID(),
      },
    };
  });
}

/** Points per Shopify customer id the stream should leave. */
export function expectedBalances(orders: readonly StreamOrder[]): Map<string, number> {
  const expected = new Map<string, number>();
  for (const o of orders) {
    expected.set(String(o.customerId), (expected.get(String(o.customerId)) ?? 0) + o.points);
  }
  return expected;
}

/** The award keys the stream should leave: one per order that earns. */
export function expectedAwardKeys(orders: readonly StreamOrder[]): string[] {
  return orders
    .filter((o) => o.points > 0)
    .map((o) => `order:${o.orderId}:earn`)
    .sort();
}
