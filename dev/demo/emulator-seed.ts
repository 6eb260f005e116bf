/**
 * Seeds the local Admin API emulator with the demo shop as Shopify would hold it after the replayed
 * history: the shop's settings, its customers and orders under their real Shopify ids (read from
 * the deliveries' REST bodies), so Admin queries the app makes about them answer sensibly; and the
 * demo store's products (dev/demo/storefront.ts), so a free-product reward can name a real variant
 * and an early-access window a real product.
 */
import { currencyDigits, parseMoney } from '../../loyalty/money';
import type {
  CustomerRecord,
  EmulatorState,
  FinancialStatus,
  OrderRecord,
  ShopSettings,
} from '../emulator/state';
import { demoProduct, demoProducts } from './storefront';

type Json = Record<string, unknown>;

const STATUSES: Record<string, FinancialStatus> = {
  authorized: 'AUTHORIZED',
  expired: 'EXPIRED',
  paid: 'PAID',
  partially_paid: 'PARTIALLY_PAID',
  partially_refunded: 'PARTIALLY_REFUNDED',
  pending: 'PENDING',
  refunded: 'REFUNDED',
  voided: 'VOIDED',
};

function time(value: unknown, fallback: number): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? fallback : ms;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function tags(value: unknown): string[] {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
    : [];
}

/** Minor units of a REST money bag's shop money (0 when absent or unreadable). */
function shopMinor(bag: unknown, currency: string): number {
  const amount = (bag as { shop_money?: { amount?: unknown } } | null)?.shop_money?.amount;
  try {
    return typeof amount === 'string' ? parseMoney(amount, currency) : 0;
  } catch {
    return 0;
  }
}

function numericId(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/**
 * The variant a demo free-product reward gives away: the storefront's cheapest size of Gyokuro
 * Reserve (the 50 g tin).
 */
export const DEMO_FREE_PRODUCT_VARIANT_GID = `gid://shopify/ProductVariant/${demoProduct().variants[0]!.id}`;

/**
 * Puts the storefront's demo products (dev/demo/storefront.ts: the tea and the early-access
 * matcha) into the emulator's `shop` under the same ids and prices, as Shopify would hold them.
 * A product already there is left alone (a resumed demo seeds again).
 */
export function seedDemoProducts(state: EmulatorState, shop: string): void {
  const store = state.store(shop);
  // Liquid money is in hundredths of the currency; minor units have the currency's own digits.
  const digits = currencyDigits(store.settings.currencyCode);
  const minor = (hundredths: number) =>
    digits >= 2 ? hundredths * 10 ** (digits - 2) : Math.round(hundredths / 10 ** (2 - digits));
  for (const product of demoProducts()) {
    if (store.products.has(product.id)) continue;
    state.addProduct(shop, {
      id: product.id,
      title: product.title,
      handle: product.handle,
      variants: product.variants.map((v) => ({
        id: v.id,
        title: v.title,
        priceMinor: minor(v.price),
        sku: v.sku,
        availableForSale: v.available,
      })),
    });
  }
}

export interface SeededCounts {
  customers: number;
  orders: number;
}

/** Puts `settings`, the customers and the orders of `deliveries` into the emulator's `shop`. */
export function seedEmulatorShop(
  state: EmulatorState,
  shop: string,
  settings: Partial<ShopSettings>,
  deliveries: readonly { topic: string; payload: unknown; occurredAt?: string }[],
): SeededCounts {
  state.shop(shop, settings);
  const store = state.store(shop);
  const currency = store.settings.currencyCode;
  seedDemoProducts(state, shop);
  const customer = (body: Json, at: number): CustomerRecord | undefined => {
    const id = numericId(body.id);
    if (id === null) return undefined;
    let record = store.customers.get(id);
    if (!record) {
      const createdAt = time(body.created_at, at);
      record = {
        id,
        firstName: text(body.first_name),
        lastName: text(body.last_name),
        email: text(body.email),
        tags: tags(body.tags),
        note: text(body.note),
        createdAt,
        updatedAt: time(body.updated_at, createdAt),
        numberOfOrders: 0,
        amountSpentMinor: 0,
      };
      store.customers.set(id, record);
    }
    return record;
  };

  for (const delivery of deliveries) {
    const body = (delivery.payload ?? {}) as Json;
    const at = time(delivery.occurredAt, Date.now());
    switch (delivery.topic) {
      case 'customers/create':
        customer(body, at);
        break;
      case 'orders/paid': {
        const id = numericId(body.id);
        if (id === null || store.orders.has(id)) break;
        const buyer = body.customer ? customer(body.customer as Json, at) : undefined;
        const processedAt = time(body.processed_at, at);
        const subtotal = shopMinor(body.subtotal_price_set, currency);
        const total = shopMinor(body.total_price_set, currency);
        const order: OrderRecord = {
          id,
          name: text(body.name) ?? `#${id}`,
          email: text(body.email),
          customerId: buyer?.id ?? null,
          processedAt,
          createdAt: time(body.created_at, processedAt),
          updatedAt: time(body.updated_at, processedAt),
          cancelledAt: null,
          test: body.test === true,
          sourceName: text(body.source_name),
          displayFinancialStatus: STATUSES[String(body.financial_status)] ?? 'PAID',
          subtotalMinor: subtotal,
          currentSubtotalMinor: subtotal,
          totalPriceMinor: total,
          tags: tags(body.tags),
        };
        store.orders.set(id, order);
        if (buyer && !order.test) {
          buyer.numberOfOrders += 1;
          buyer.amountSpentMinor += total;
        }
        break;
      }
      case 'refunds/create': {
        const order = store.orders.get(numericId(body.order_id) ?? -1);
        if (!order) break;
        let refunded = 0;
        for (const line of (body.refund_line_items as Json[] | undefined) ?? []) {
          refunded += shopMinor(line.subtotal_set, currency);
        }
        order.currentSubtotalMinor = Math.max(0, order.currentSubtotalMinor - refunded);
        order.displayFinancialStatus =
          order.currentSubtotalMinor === 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
        order.updatedAt = time(body.processed_at ?? body.created_at, at);
        break;
      }
      case 'orders/cancelled': {
        const order = store.orders.get(numericId(body.id) ?? -1);
        if (!order) break;
        order.cancelledAt = time(body.cancelled_at, at);
        order.displayFinancialStatus =
          STATUSES[String(body.financial_status)] ?? order.displayFinancialStatus;
        order.updatedAt = order.cancelledAt;
        break;
      }
    }
  }
  return { customers: store.customers.size, orders: store.orders.size };
}
