/**
 * The storefront's callers as Shopify makes them, and a shop whose ledger came through the real
 * pipeline:
 *
 *   proxyRequest('/proxy/history', { logged_in_customer_id: '7001', limit: '5' })  // signed query
 *   accountRequest('/api/account/summary', accountToken({ sub: customerGid('7001') }))
 *   const demo = await seedStorefront(db);  // webhooks recorded and processed, as the worker does
 *
 * Signatures follow Shopify's documented schemes (the app proxy's sorted, comma-joined query; an
 * HS256 session token), written here rather than borrowed from the code under test.
 */
import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';
import { recordDelivery } from '../../app/models/inbox.server';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import type { Database, DatabaseHandle } from '../../db/client.server';
import {
  cancelledOrderPayload,
  customerPayload,
  orderPayload,
  refundPayload,
} from '../../dev/shopify-payloads';
import { referenceProgram } from '../../loyalty/program';
import { processInbox } from '../../workers/process-inbox';
import { STOREFRONT_ENV } from './storefront-env';

// What vi.hoisted blocks set in process.env: its own module, which they can import (this one
// imports the app).
export { STOREFRONT_ENV };

export const SHOP = 'laurel-storefront.myshopify.com';
export const OTHER_SHOP = 'laurel-elsewhere.myshopify.com';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A query as Shopify's app proxy signs it: `params` after shop, path_prefix and timestamp. */
export function signedProxyQuery(
  params: Record<string, string> | [string, string][],
  options: { secret?: string; timestamp?: number; shop?: string } = {},
): URLSearchParams {
  const all: [string, string][] = [
    ['shop', options.shop ?? SHOP],
    ['path_prefix', '/apps/loyalty'],
    ['timestamp', String(options.timestamp ?? nowSeconds())],
    ...(Array.isArray(params) ? params : Object.entries(params)),
  ];
  const grouped = new Map<string, string[]>();
  for (const [name, value] of all) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  const message = [...grouped]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, values]) => `${name}=${values.join(',')}`)
    .join('');
  const signature = createHmac('sha256', options.secret ?? STOREFRONT_ENV.SHOPIFY_API_SECRET)
    .update(message)
    .digest('hex');
  return new URLSearchParams([...all, ['signature', signature]]);
}

/** A storefront request forwarded by the app proxy to `path` (`/proxy`, `/proxy/history`). */
export function proxyRequest(
  path: string,
  params: Record<string, string> | [string, string][],
  options: { secret?: string; timestamp?: number; shop?: string; headers?: HeadersInit } = {},
): Request {
  return new Request(`https://laurel.test${path}?${signedProxyQuery(params, options)}`, {
    headers: options.headers,
  });
}

export const customerGid = (id: string) => `gid://shopify/Customer/${id}`;

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * A customer-account session token: HS256 over the claims Shopify sends (dest, aud, sub, exp,
 * nbf, iat, jti, sid), signed with `secret`; `claims` overrides or removes (undefined) any.
 */
export function accountToken(
  claims: Record<string, unknown> = {},
  options: { secret?: string } = {},
): string {
  const now = nowSeconds();
  const payload: Record<string, unknown> = {
    iss: `https://${SHOP}`,
    dest: SHOP,
    aud: STOREFRONT_ENV.SHOPIFY_API_KEY,
    sub: customerGid('7001'),
    exp: now + 300,
    nbf: now - 5,
    iat: now - 5,
    jti: randomUUID(),
    sid: randomUUID(),
    ...claims,
  };
  for (const [name, value] of Object.entries(payload))
    if (value === undefined) delete payload[name];
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  const signature = createHmac('sha256', options.secret ?? STOREFRONT_ENV.SHOPIFY_API_SECRET)
    .update(`${header}.${body}`)
    .digest('base64url');
  return `${header}.${body}.${signature}`;
}

/** A request from the customer-account extension (cross-origin, from Shopify's extension host). */
export function accountRequest(
  path: string,
  token: string | null,
  init: { method?: string; headers?: Record<string, string> } = {},
): Request {
  const headers: Record<string, string> = {
    Origin: 'https://extensions.shopifycdn.com',
    ...init.headers,
  };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return new Request(`https://laurel.test${path}`, { method: init.method ?? 'GET', headers });
}

/** A name no template may run: Liquid output and tags, and HTML that would execute. */
export const HOSTILE_NAME = "{{ customer.email }}{% render 'x' %}<script>alert(1)</script>";

export interface StorefrontSeed {
  shop: Shop;
  otherShop: Shop;
  /** Laurel ids of the seeded customers of `shop`. */
  customerIds: { ada: number; bob: number; many: number };
}

const silent = pino({ level: 'silent' });

async function deliver(db: Database, shop: Shop, topic: string, payload: unknown) {
  const { id } = await recordDelivery(db, {
    shopDomain: shop.domain,
    webhookId: randomUUID(),
    topic,
    payload: JSON.parse(JSON.stringify(payload)) as unknown,
  });
  await processInbox(db, id, silent);
}

/** A customer created by its customers/create webhook; returns its Laurel id. */
async function createCustomer(
  db: Database,
  shop: Shop,
  customer: Parameters<typeof customerPayload>[0],
): Promise<number> {
  await deliver(db, shop, 'customers/create', customerPayload(customer));
  return (await findCustomerByExternalId(db, shop.id, String(customer.id)))!.id;
}

/** A manual adjustment as the admin posts it; `reason` is what the history explains it with. */
async function adjust(
  db: Database,
  shop: Shop,
  customerId: number,
  entry: { key: string; points: number; occurredAt: Date; reason?: string },
): Promise<void> {
  await post(db, shop.id, {
    customerId,
    idempotencyKey: `adjustment:${entry.key}`,
    source: 'adjustment',
    points: entry.points,
    occurredAt: entry.occurredAt,
    inputs: entry.reason === undefined ? {} : { reason: entry.reason },
  });
}

/**
 * `SHOP` (USD, New York, the reference program with a 25-point signup bonus) with:
 * - customer 7001 "Ada", through webhooks: signup bonus (+25, 2026-01-05), order #1001 $120.00
 *   (+90, 2026-03-14), a $30.00 refund on it (−22, 2026-03-20), order #1002 $75.00 (+25,
 *   2026-03-16) cancelled the next day (−25), an order named {@link HOSTILE_NAME} $60.00 (+10,
 *   2026-03-18), and a manual adjustment of +10 "Goodwill" (2026-03-25): balance 113;
 * - customer 7002 "Bob": signup bonus and one adjustment of +5;
 * - customer 7003 (first name {@link HOSTILE_NAME}): signup bonus and 23 adjustments of +1…+23,
 *   three at each instant: 24 entries.
 * `OTHER_SHOP` (EUR) has its own customer 7001 "Eve" (+500, +1), whom `SHOP`'s answers never show.
 */
export async function seedStorefront(db: Database): Promise<StorefrontSeed> {
  const shop = await ensureShop(db, {
    domain: SHOP,
    currency: 'USD',
    timezone: 'America/New_York',
  });
  await publishProgram(
    db,
    shop.id,
    { ...referenceProgram, signupBonus: 25 },
    new Date('2026-01-01T00:00:00Z'),
  );
  const ada = { id: 7001, firstName: 'Ada', lastName: 'Lovelace' };
  const adaId = await createCustomer(db, shop, ada);
  const order1001 = orderPayload({ id: 1001, name: '#1001', customer: ada, subtotal: '120.00' });
  await deliver(db, shop, 'orders/paid', order1001);
  await deliver(
    db,
    shop,
    'refunds/create',
    refundPayload({
      id: 5001,
      orderId: 1001,
      order: order1001,
      lineItems: [
        { lineItemId: (order1001.line_items as { id: number }[])[0]!.id, subtotal: '30.00' },
      ],
      processedAt: '2026-03-20T10:00:00-04:00',
      createdAt: '2026-03-20T10:00:00-04:00',
    }),
  );
  const order1002 = orderPayload({
    id: 1002,
    name: '#1002',
    customer: ada,
    subtotal: '75.00',
    processedAt: '2026-03-16T10:00:00-04:00',
  });
  await deliver(db, shop, 'orders/paid', order1002);
  await deliver(db, shop, 'orders/cancelled', cancelledOrderPayload(order1002));
  await deliver(
    db,
    shop,
    'orders/paid',
    orderPayload({
      id: 1003,
      customer: ada,
      subtotal: '60.00',
      name: HOSTILE_NAME,
      processedAt: '2026-03-18T10:00:00-04:00',
    }),
  );
  await adjust(db, shop, adaId, {
    key: 'ada:goodwill',
    points: 10,
    occurredAt: new Date('2026-03-25T12:00:00Z'),
    reason: 'Goodwill',
  });

  const bobId = await createCustomer(db, shop, { id: 7002, firstName: 'Bob' });
  await adjust(db, shop, bobId, {
    key: 'bob:1',
    points: 5,
    occurredAt: new Date('2026-03-02T12:00:00Z'),
    reason: 'Welcome back',
  });

  const manyId = await createCustomer(db, shop, {
    id: 7003,
    firstName: HOSTILE_NAME,
    lastName: null,
  });
  for (let i = 0; i < 23; i++) {
    await adjust(db, shop, manyId, {
      key: `many:${i}`,
      points: i + 1,
      // Three entries share each instant: the position must break ties by posting order.
      occurredAt: new Date(Date.UTC(2026, 3, 1 + Math.floor(i / 3), 12)),
      reason: `Entry ${i + 1}`,
    });
  }

  const otherShop = await ensureShop(db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await publishProgram(
    db,
    otherShop.id,
    { ...referenceProgram, currency: 'EUR' },
    new Date('2026-01-01T00:00:00Z'),
  );
  const eveId = await createCustomer(db, otherShop, { id: 7001, firstName: 'Eve' });
  await adjust(db, otherShop, eveId, {
    key: 'eve:1',
    points: 500,
    occurredAt: new Date('2026-03-30T12:00:00Z'),
    reason: 'Other shop',
  });
  await adjust(db, otherShop, eveId, {
    key: 'eve:2',
    points: 1,
    occurredAt: new Date('2026-03-01T12:00:00Z'),
  });

  return { shop, otherShop, customerIds: { ada: adaId, bob: bobId, many: manyId } };
}

/**
 * A database that must not be used: any access records it and fails. A refused request must
 * leave it untouched (nothing is read for a request that is not verified); a valid one touches it,
 * which is what shows the check can fail.
 */
export function tripwireDatabase(): { handle: DatabaseHandle; touched: () => boolean } {
  let touched = false;
  const db = new Proxy(
    {},
    {
      get() {
        touched = true;
        throw new Error('tripwire: the database was used');
      },
    },
  ) as Database;
  return { handle: { db, kind: 'postgres', close: async () => {} }, touched: () => touched };
}
