import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CustomerById,
  OrdersPage,
  ProductVariant,
  ShopInfo,
  type OrdersPageResult,
} from '../../app/graphql';
import { createAdminClient } from '../../app/shopify/admin-client.server';
import { startAdminEmulator, type AdminEmulator } from '../emulator/server';
import { parseMoney } from '../../loyalty/money';
import { DEMO_FREE_PRODUCT_VARIANT_GID, seedDemoProducts, seedEmulatorShop } from './emulator-seed';
import { generateHistory } from './history';
import { demoProduct } from './storefront';

const SHOP = 'laurel-demo.myshopify.com';
const TOKEN = 'shpat_seed';
const history = generateHistory({ shop: SHOP, seed: 7, firstMonth: '2026-08', customers: 25 });

let emulator: AdminEmulator;
beforeAll(async () => {
  emulator = await startAdminEmulator({ accessTokens: { [SHOP]: TOKEN } });
});
afterAll(async () => {
  await emulator?.close();
});

describe('seedEmulatorShop', () => {
  it('holds the shop, its customers and orders under their Shopify ids, for Admin queries', async () => {
    const counts = seedEmulatorShop(
      emulator.state,
      SHOP,
      { name: 'Laurel Demo Tea', currencyCode: 'USD', ianaTimezone: 'America/New_York' },
      history.deliveries,
    );
    expect(counts).toEqual({ customers: 25, orders: history.stats.orders });
    const client = createAdminClient({
      shop: SHOP,
      accessToken: TOKEN,
      endpoint: emulator.endpointTemplate,
    });
    const { shop } = await client.request(ShopInfo);
    expect(shop).toMatchObject({
      name: 'Laurel Demo Tea',
      currencyCode: 'USD',
      ianaTimezone: 'America/New_York',
    });

    // A customer with orders: the counts come from their paid, non-test orders.
    const orders = history.deliveries.filter((d) => d.topic === 'orders/paid');
    const payload = orders.find((d) => (d.payload.customer as { id?: number } | null)?.id)!
      .payload as { customer: { id: number; first_name: string; email: string }; test: boolean };
    const buyer = payload.customer;
    const theirs = orders.filter(
      (d) =>
        (d.payload.customer as { id?: number } | null)?.id === buyer.id && d.payload.test !== true,
    );
    const { customer } = await client.request(CustomerById, {
      id: `gid://shopify/Customer/${buyer.id}`,
    });
    expect(customer).toMatchObject({
      id: `gid://shopify/Customer/${buyer.id}`,
      firstName: buyer.first_name,
      defaultEmailAddress: { emailAddress: buyer.email },
      numberOfOrders: String(theirs.length),
    });

    const seen: OrdersPageResult['orders']['nodes'] = [];
    for (let after: string | null = null; ;) {
      const page: OrdersPageResult = await client.request(OrdersPage, { first: 100, after });
      seen.push(...page.orders.nodes);
      if (!page.orders.pageInfo.hasNextPage) break;
      after = page.orders.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(history.stats.orders);
    const cancelled = history.deliveries.filter((d) => d.topic === 'orders/cancelled');
    const cancelledIds = new Set(
      cancelled.map((d) => `gid://shopify/Order/${String(d.payload.id)}`),
    );
    for (const order of seen) {
      expect(order.cancelledAt !== null).toBe(cancelledIds.has(order.id));
    }
  });
});

describe('seedDemoProducts', () => {
  it('holds the storefront’s products, so a free-product reward can name a real variant', async () => {
    const shop = 'laurel-products.myshopify.com';
    emulator.setAccessToken(shop, TOKEN);
    seedEmulatorShop(emulator.state, shop, { currencyCode: 'USD' }, []);
    // Seeding again (a resumed demo) changes nothing.
    seedDemoProducts(emulator.state, shop);
    expect([...emulator.state.store(shop).products.values()].map((p) => p.title)).toEqual([
      'Gyokuro Reserve',
      'Uji Matcha First Harvest',
    ]);
    const client = createAdminClient({
      shop,
      accessToken: TOKEN,
      endpoint: emulator.endpointTemplate,
    });
    const { productVariant } = await client.request(ProductVariant, {
      id: DEMO_FREE_PRODUCT_VARIANT_GID,
    });
    const tin = demoProduct().variants[0]!;
    expect(productVariant).toMatchObject({
      id: `gid://shopify/ProductVariant/${tin.id}`,
      title: tin.title,
      displayName: `Gyokuro Reserve - ${tin.title}`,
      availableForSale: true,
      product: { title: 'Gyokuro Reserve', status: 'ACTIVE' },
    });
    expect(parseMoney(productVariant!.price, 'USD')).toBe(tin.price);
  });
});
