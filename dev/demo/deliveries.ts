/**
 * What the demo replays: webhook deliveries, each a topic, a Shopify REST body and a webhook id.
 *
 * Webhook ids are derived from what the delivery is about (shop, topic, resource id) as a name-based
 * UUID (RFC 9562 version 5), so generating the same history twice gives the same ids and the inbox,
 * which deduplicates on (shop, webhook id), recognises a second replay as repeats.
 */
import { createHash } from 'node:crypto';

export const DELIVERY_TOPICS = [
  'customers/create',
  'orders/paid',
  'refunds/create',
  'orders/cancelled',
] as const;
export type DeliveryTopic = (typeof DELIVERY_TOPICS)[number];

export interface Delivery {
  topic: DeliveryTopic;
  /** The webhook body (plain JSON: send it through JSON.stringify). */
  payload: Record<string, unknown>;
  /** X-Shopify-Webhook-Id: the same for the same shop, topic and resource. */
  webhookId: string;
  /** When the event happened (ISO 8601, UTC): the business time of the customer, order, refund… */
  occurredAt: string;
}

// A fixed namespace for Laurel demo deliveries (a random UUID, chosen once).
const NAMESPACE = Buffer.from('5c1d3a8e9f2b4c6d8e0f1a2b3c4d5e6f', 'hex');

/** UUID v5 of `name` in the demo namespace. */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The webhook id of the delivery of `topic` about resource `resourceId` to `shop`. */
export function webhookIdFor(shop: string, topic: string, resourceId: string | number): string {
  return nameBasedUuid(`webhook\u0000${shop}\u0000${topic}\u0000${resourceId}`);
}

/** The delivery of `topic` about resource `resourceId` to `shop`, which happened at `at` (epoch ms). */
export function deliveryOf(
  shop: string,
  topic: DeliveryTopic,
  resourceId: number,
  at: number,
  payload: Record<string, unknown>,
): Delivery {
  return {
    topic,
    payload,
    webhookId: webhookIdFor(shop, topic, resourceId),
    occurredAt: new Date(at).toISOString(),
  };
}

/** X-Shopify-Event-Id for a delivery: stable too, so a retried delivery is byte-for-byte the same. */
export function eventIdFor(webhookId: string): string {
  return nameBasedUuid(`event\u0000${webhookId}`);
}

const TOPIC_RANK: Record<string, number> = {
  'customers/create': 0,
  'orders/paid': 1,
  'refunds/create': 2,
  'orders/cancelled': 3,
};

/**
 * Sorts deliveries by occurredAt; at the same instant a customer comes before orders, an order
 * before its refunds and a refund before the cancellation. Stable otherwise (Array.prototype.sort).
 */
export function sortDeliveries<D extends { topic: string; occurredAt: string }>(
  deliveries: D[],
): D[] {
  const at = (d: D) => Date.parse(d.occurredAt);
  return deliveries.sort(
    (a, b) => at(a) - at(b) || (TOPIC_RANK[a.topic] ?? 9) - (TOPIC_RANK[b.topic] ?? 9),
  );
}

/** A numeric Shopify id from a payload field: the exact tail of the gid when there is one. */
function idOf(value: unknown, gid: unknown): string | undefined {
  if (typeof gid === 'string') {
    const m = /\/(\d+)$/.exec(gid);
    if (m) return m[1];
  }
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  return undefined;
}

/**
 * Which resource a delivery is about, and which resources must have been delivered before it:
 * an order follows its customer's customers/create; refunds and the cancellation follow the order.
 * Refunds and the cancellation of one order share the order's key, so they stay in order too.
 */
export function resourceOf(delivery: { topic: string; payload: unknown; webhookId: string }): {
  key: string;
  after: string[];
} {
  const p = (delivery.payload ?? {}) as Record<string, unknown>;
  switch (delivery.topic) {
    case 'customers/create':
    case 'customers/update': {
      const id = idOf(p.id, p.admin_graphql_api_id);
      if (id !== undefined) return { key: `customer:${id}`, after: [] };
      break;
    }
    case 'orders/create':
    case 'orders/paid':
    case 'orders/updated':
    case 'orders/cancelled': {
      const id = idOf(p.id, p.admin_graphql_api_id);
      const customer = p.customer as Record<string, unknown> | null | undefined;
      const customerId = customer ? idOf(customer.id, customer.admin_graphql_api_id) : undefined;
      if (id !== undefined) {
        return { key: `order:${id}`, after: customerId ? [`customer:${customerId}`] : [] };
      }
      break;
    }
    case 'refunds/create': {
      const orderId = idOf(p.order_id, undefined);
      if (orderId !== undefined) return { key: `order:${orderId}`, after: [] };
      break;
    }
  }
  return { key: `delivery:${delivery.webhookId}`, after: [] };
}
