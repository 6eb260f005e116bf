import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDataRequests, orders, sessions, shops, webhookInbox } from '../db/schema';
import { AppError, ErrorCode } from '../app/errors';
import {
  ensureCustomer,
  findCustomerByExternalId,
  getCustomer,
} from '../app/models/customers.server';
import {
  getInboxRow,
  recordDelivery,
  recordUnstorableDelivery,
  resetForReplay,
} from '../app/models/inbox.server';
import { balanceOf, entriesFor, post, sumOfEntries } from '../app/models/ledger.server';
import { getOrder } from '../app/models/orders.server';
import { publishProgram } from '../app/models/programs.server';
import { ensureShop, getShopByDomain, type Shop } from '../app/models/shops.server';
import { referenceProgram } from '../loyalty/program';
import { ShopifyPayloadError } from '../loyalty/shopify-payload';
import {
  cancelledOrderPayload,
  customerPayload,
  customersDataRequestPayload,
  customersRedactPayload,
  orderPayload,
  refundPayload,
  shopRedactPayload,
} from '../tests/fixtures/shopify';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { ShopNotInstalled } from './handlers/context';
import {
  isPermanentFailure,
  processInbox,
  processInboxBatch,
  recordFailure,
} from './process-inbox';

const log = pino({ level: 'silent' });
type Json = Record<string, unknown>;

let handle: TestDatabase;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
});
afterAll(async () => {
  await handle?.close();
});

let nextId = 7_000_000_000_000;
const id = () => ++nextId;

async function newShop(options: { testOrdersEarn?: boolean; signupBonus?: number } = {}) {
  const db = handle.db;
  const shop = await ensureShop(db, {
    domain: `inbox-${randomUUID().slice(0, 8)}.myshopify.com`,
    timezone: 'America/New_York',
  });
  await publishProgram(
    db,
    shop.id,
    { ...referenceProgram, signupBonus: options.signupBonus ?? 0 },
    new Date('2026-01-01T00:00:00Z'),
  );
  if (options.testOrdersEarn) {
    await db.update(shops).set({ testOrdersEarn: true }).where(eq(shops.id, shop.id));
  }
  return (await getShopByDomain(db, shop.domain))!;
}

/** Records a delivery and processes it, as the route and the worker do. */
async function deliver(shop: Shop, topic: string, payload: Json, webhookId = randomUUID()) {
  const { id: inboxId } = await recordDelivery(handle.db, {
    shopDomain: shop.domain,
    webhookId,
    topic,
    apiVersion: '2026-07',
    payload: JSON.parse(JSON.stringify(payload)),
  });
  const outcome = await processInbox(handle.db, inboxId, log);
  return { inboxId, outcome };
}

async function balanceOfExternal(shop: Shop, externalId: number | string) {
  const customer = await findCustomerByExternalId(handle.db, shop.id, String(externalId));
  if (!customer) return undefined;
  const balance = await balanceOf(handle.db, shop.id, customer.id);
  // The projection always equals the entries.
  expect(await sumOfEntries(handle.db, shop.id, customer.id)).toEqual(balance);
  return balance.balance;
}

function order120(customerId: number, extra: Partial<Parameters<typeof orderPayload>[0]> = {}) {
  return orderPayload({
    id: id(),
    customer: { id: customerId },
    lineItems: [
      { price: '20.00', quantity: 1 },
      { price: '100.00', quantity: 1 },
    ],
    ...extra,
  });
}

const lineIds = (order: Json) => (order.line_items as Json[]).map((l) => Number(l.id));

describe('orders/paid', () => {
  it('awards the subtotal after discounts with the program version, exactly once', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer);
    const first = await deliver(shop, 'orders/paid', order);
    expect(first.outcome).toMatchObject({ status: 'processed', summary: { awardedPoints: 90 } });
    expect(await balanceOfExternal(shop, customer)).toBe(90);

    // The same row again (job retried) and a second delivery of the same order: nothing new.
    expect(await processInbox(handle.db, first.inboxId, log)).toEqual({
      status: 'skipped',
      reason: 'already-processed',
    });
    const again = await deliver(shop, 'orders/paid', order);
    expect(again.outcome).toMatchObject({ status: 'processed', summary: { entriesPosted: 0 } });
    expect(await balanceOfExternal(shop, customer)).toBe(90);

    const row = await getOrder(handle.db, shop.id, String(order.id));
    expect(row).toMatchObject({ programVersion: 1, earnAmountMinor: 12_000, sourceName: 'web' });
    expect(row?.paidAt).toBeInstanceOf(Date);
    const c = await findCustomerByExternalId(handle.db, shop.id, String(customer));
    const [award] = await entriesFor(handle.db, shop.id, c!.id);
    expect(award).toMatchObject({
      idempotencyKey: `order:${order.id}:earn`,
      source: 'order',
      points: 90,
      programVersion: 1,
      occurredAt: new Date(String(order.processed_at)),
    });
    expect(award!.inputs).toMatchObject({
      amountMinor: 12_000,
      earnOn: 'subtotal_after_discounts',
    });
    expect((await getInboxRow(handle.db, first.inboxId))?.status).toBe('processed');
  });

  it('earns on the discounted subtotal, never tax or shipping', async () => {
    const shop = await newShop();
    const customer = id();
    await deliver(
      shop,
      'orders/paid',
      orderPayload({
        id: id(),
        customer: { id: customer },
        lineItems: [{ price: '150.00' }],
        discounts: [{ code: 'SAVE30', amount: '30.00' }],
        shipping: '15.00',
        tax: '9.60',
      }),
    );
    expect(await balanceOfExternal(shop, customer)).toBe(90);
  });

  it('POS orders earn like online ones; test orders earn only when the shop opted in', async () => {
    const shop = await newShop();
    const pos = id();
    await deliver(shop, 'orders/paid', order120(pos, { sourceName: 'pos' }));
    expect(await balanceOfExternal(shop, pos)).toBe(90);

    const tester = id();
    const testOrder = order120(tester, { test: true });
    const { outcome } = await deliver(shop, 'orders/paid', testOrder);
    expect(outcome).toMatchObject({ summary: { noAward: 'test-order' } });
    expect(await balanceOfExternal(shop, tester)).toBe(0);
    expect((await getOrder(handle.db, shop.id, String(testOrder.id)))?.test).toBe(true);

    const optedIn = await newShop({ testOrdersEarn: true });
    const other = id();
    await deliver(optedIn, 'orders/paid', order120(other, { test: true }));
    expect(await balanceOfExternal(optedIn, other)).toBe(90);
  });

  it('guest orders earn nothing until an account with that email is created', async () => {
    const shop = await newShop();
    const guestOrder = orderPayload({
      id: id(),
      customer: null,
      email: 'Guest.Shopper@Example.com ',
      lineItems: [{ price: '120.00' }],
    });
    const { outcome } = await deliver(shop, 'orders/paid', guestOrder);
    expect(outcome).toMatchObject({ summary: { noAward: 'guest', customerId: null } });
    const stored = await getOrder(handle.db, shop.id, String(guestOrder.id));
    expect(stored).toMatchObject({ customerId: null, email: 'guest.shopper@example.com' });

    // A partial refund while still a guest: recorded, reversed once the order is claimed.
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: Number(guestOrder.id),
        order: guestOrder,
        lineItems: [{ lineItemId: lineIds(guestOrder)[0]!, subtotal: '60.00' }],
      }),
    );

    const customer = id();
    const created = await deliver(
      shop,
      'customers/create',
      customerPayload({ id: customer, email: 'guest.shopper@example.com' }),
    );
    expect(created.outcome).toMatchObject({
      summary: { guestOrdersClaimed: 1, claimedPoints: 45 },
    });
    expect(await balanceOfExternal(shop, customer)).toBe(45);
    // A second account with the same email claims nothing: the order is taken.
    const second = id();
    const again = await deliver(
      shop,
      'customers/create',
      customerPayload({ id: second, email: 'guest.shopper@example.com' }),
    );
    expect(again.outcome).toMatchObject({ summary: { guestOrdersClaimed: 0 } });
    expect(await balanceOfExternal(shop, second)).toBe(0);
  });

  it('an order in another currency than the shop is a permanent failure', async () => {
    const shop = await newShop();
    const eur = orderPayload({
      id: id(),
      customer: { id: id() },
      currency: 'EUR',
      lineItems: [{ price: '120.00' }],
    });
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: eur,
    });
    const error = await processInbox(handle.db, inboxId, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/in EUR but shop .* in USD/);
    expect(isPermanentFailure(error)).toBe(true);
    expect(await recordFailure(handle.db, inboxId, error, { finalAttempt: false })).toBe('dead');
    const row = await getInboxRow(handle.db, inboxId);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row?.lastError).toMatch(/EUR/);
    // Nothing was written.
    expect(await getOrder(handle.db, shop.id, String(eur.id))).toBeUndefined();
  });

  it('a malformed body is a permanent failure naming the path; nothing is written', async () => {
    const shop = await newShop();
    const broken = order120(id());
    (broken.subtotal_price_set as { shop_money: { amount: string } }).shop_money.amount = '12.345';
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: broken,
    });
    const error = await processInbox(handle.db, inboxId, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopifyPayloadError);
    expect(String(error)).toMatch(/subtotal_price_set\.shop_money\.amount/);
    expect(isPermanentFailure(error)).toBe(true);
    expect((await getInboxRow(handle.db, inboxId))?.status).toBe('received');
  });

  it('a delivery for a shop not installed is parked, not retried, even on its last attempt', async () => {
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: 'not-installed.myshopify.com',
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: order120(id()),
    });
    const error = await processInbox(handle.db, inboxId, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopNotInstalled);
    expect(await recordFailure(handle.db, inboxId, error, { finalAttempt: true })).toBe('parked');
    const parked = await getInboxRow(handle.db, inboxId);
    expect(parked).toMatchObject({ status: 'parked', attempts: 1 });
    expect(parked!.lastError).toMatch(/not-installed\.myshopify\.com is not installed yet/);
    expect(parked!.payload).not.toBeNull();
    // A job still queued for it changes nothing: the reconciler replays it (workers/reconcile.ts).
    expect(await processInbox(handle.db, inboxId, log)).toEqual({
      status: 'skipped',
      reason: 'parked',
    });
  });

  it('a body kept as text (jsonb refused it) is processed from the text when replayed', async () => {
    const shop = await newShop();
    const customer = id();
    const order = { ...order120(customer), note: 'gift \u0000 wrap' };
    const { id: inboxId } = await recordUnstorableDelivery(
      handle.db,
      {
        shopDomain: shop.domain,
        webhookId: randomUUID(),
        topic: 'orders/paid',
        payload: null,
        payloadText: JSON.stringify(order),
      },
      'the body cannot be stored as jsonb (22P05: unsupported Unicode escape sequence)',
    );
    // Dead on arrival: nothing runs until ops replays it.
    expect(await processInbox(handle.db, inboxId, log)).toEqual({
      status: 'skipped',
      reason: 'dead',
    });
    expect(await resetForReplay(handle.db, inboxId)).toBe(true);
    expect(await processInbox(handle.db, inboxId, log)).toMatchObject({
      status: 'processed',
      summary: { awardedPoints: 90 },
    });
    expect(await balanceOfExternal(shop, customer)).toBe(90);
  });

  it('a transient failure is retried, and dead only after the last attempt of the schedule', async () => {
    const shop = await newShop();
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: order120(id()),
    });
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(isPermanentFailure(down)).toBe(false);
    expect(await recordFailure(handle.db, inboxId, down, { finalAttempt: false })).toBe('retry');
    expect(await getInboxRow(handle.db, inboxId)).toMatchObject({
      status: 'received',
      attempts: 1,
    });
    expect(await recordFailure(handle.db, inboxId, down, { finalAttempt: true })).toBe('dead');
    expect(await getInboxRow(handle.db, inboxId)).toMatchObject({
      status: 'dead',
      attempts: 2,
      lastError: 'retries exhausted: connect ECONNREFUSED 127.0.0.1:5432',
    });
    expect(await processInbox(handle.db, inboxId, log)).toEqual({
      status: 'skipped',
      reason: 'dead',
    });
  });
});

describe('refunds and cancellations', () => {
  it('partial refunds adding up to the whole order net to zero', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer);
    const [small, big] = lineIds(order);
    await deliver(shop, 'orders/paid', order);
    const r1 = await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: Number(order.id),
        order,
        lineItems: [{ lineItemId: small! }],
      }),
    );
    expect(r1.outcome).toMatchObject({ summary: { pointsPosted: -15 } });
    expect(await balanceOfExternal(shop, customer)).toBe(75);
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: Number(order.id),
        order,
        lineItems: [{ lineItemId: big!, subtotal: '40.00' }],
        shipping: '5.00',
      }),
    );
    expect(await balanceOfExternal(shop, customer)).toBe(45);
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: Number(order.id),
        order,
        lineItems: [{ lineItemId: big!, subtotal: '60.00' }],
      }),
    );
    expect(await balanceOfExternal(shop, customer)).toBe(0);
  });

  it('a refund that arrives before its orders/paid still ends in the right balance', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer);
    const refund = refundPayload({
      id: id(),
      orderId: Number(order.id),
      order,
      lineItems: [{ lineItemId: lineIds(order)[0]! }],
    });
    const early = await deliver(shop, 'refunds/create', refund);
    expect(early.outcome).toMatchObject({ summary: { noAward: 'no-order', entriesPosted: 0 } });
    const paid = await deliver(shop, 'orders/paid', order);
    expect(paid.outcome).toMatchObject({
      summary: { awardedPoints: 90, entriesPosted: 2, pointsPosted: 75 },
    });
    expect(await balanceOfExternal(shop, customer)).toBe(75);
    // The refund delivered again later changes nothing.
    await deliver(shop, 'refunds/create', refund);
    expect(await balanceOfExternal(shop, customer)).toBe(75);
  });

  it("a program change between award and refund: the reversal uses the award's maths", async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer);
    await deliver(shop, 'orders/paid', order);
    // Ten times the points from now on, and earning on the total.
    await publishProgram(
      handle.db,
      shop.id,
      {
        ...referenceProgram,
        earnOn: 'total',
        earn: { unit: '1.00', bands: [{ over: '0.00', pointsPerUnit: 10 }] },
      },
      new Date('2026-01-02T00:00:00Z'),
    );
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: Number(order.id),
        order,
        lineItems: [{ lineItemId: lineIds(order)[1]!, subtotal: '60.00' }],
      }),
    );
    // floor(90 × 6000 / 12000) = 45, not anything the new program would say.
    expect(await balanceOfExternal(shop, customer)).toBe(45);
    const c = await findCustomerByExternalId(handle.db, shop.id, String(customer));
    const reversal = (await entriesFor(handle.db, shop.id, c!.id)).find(
      (e) => e.source === 'refund',
    );
    expect(reversal).toMatchObject({ points: -45, programVersion: 1 });
    expect(reversal!.inputs).toMatchObject({ awardPoints: 90, awardAmountMinor: 12_000 });
  });

  it('a cancellation reverses what the refunds left, before or after orders/paid', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer);
    await deliver(shop, 'orders/paid', order);
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: Number(order.id),
        order,
        lineItems: [{ lineItemId: lineIds(order)[0]! }],
      }),
    );
    const cancel = await deliver(shop, 'orders/cancelled', cancelledOrderPayload(order));
    expect(cancel.outcome).toMatchObject({ summary: { pointsPosted: -75 } });
    expect(await balanceOfExternal(shop, customer)).toBe(0);

    // Cancelled first, then paid (deliveries out of order): still zero.
    const other = id();
    const late = order120(other);
    await deliver(shop, 'orders/cancelled', cancelledOrderPayload(late));
    expect(await balanceOfExternal(shop, other)).toBe(0);
    const paid = await deliver(shop, 'orders/paid', late);
    expect(paid.outcome).toMatchObject({ summary: { entriesPosted: 2, pointsPosted: 0 } });
    expect(await balanceOfExternal(shop, other)).toBe(0);
  });

  it('a refund in another currency is dead-lettered, not misread', async () => {
    const shop = await newShop();
    const refund = refundPayload({
      id: id(),
      orderId: id(),
      currency: 'CAD',
      lineItems: [{ lineItemId: 1, subtotal: '10.00' }],
    });
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic: 'refunds/create',
      payload: refund,
    });
    const error = await processInbox(handle.db, inboxId, log).catch((e: unknown) => e);
    expect(isPermanentFailure(error)).toBe(true);
  });
});

describe('customers', () => {
  it('customers/create enrols the member with the signup bonus once; update keeps fields current', async () => {
    const shop = await newShop({ signupBonus: 25 });
    const customer = id();
    const created = await deliver(
      shop,
      'customers/create',
      customerPayload({
        id: customer,
        email: 'Ada@Example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
      }),
    );
    expect(created.outcome).toMatchObject({ summary: { bonusPosted: true } });
    expect(await balanceOfExternal(shop, customer)).toBe(25);
    const again = await deliver(shop, 'customers/create', customerPayload({ id: customer }));
    expect(again.outcome).toMatchObject({ summary: { bonusPosted: false } });
    expect(await balanceOfExternal(shop, customer)).toBe(25);

    await deliver(
      shop,
      'customers/update',
      customerPayload({
        id: customer,
        email: 'ada.king@example.com',
        firstName: 'Augusta Ada',
        lastName: 'King',
        birthday: '1815-12-10',
      }),
    );
    const stored = await findCustomerByExternalId(handle.db, shop.id, String(customer));
    expect(stored).toMatchObject({
      email: 'ada.king@example.com',
      firstName: 'Augusta Ada',
      lastName: 'King',
      birthday: '1815-12-10',
    });
    // An update without the birthday metafield keeps the birthday.
    await deliver(
      shop,
      'customers/update',
      customerPayload({ id: customer, email: 'ada.king@example.com' }),
    );
    expect((await findCustomerByExternalId(handle.db, shop.id, String(customer)))?.birthday).toBe(
      '1815-12-10',
    );
  });
});

describe('app/uninstalled and compliance', () => {
  it('app/uninstalled marks the shop inactive and deletes its sessions, repeatably', async () => {
    const shop = await newShop();
    await handle.db.insert(sessions).values({
      id: `offline_${shop.domain}`,
      shop: shop.domain,
      state: 'x',
      accessToken: 'shpat_test',
    });
    const first = await deliver(shop, 'app/uninstalled', { id: 1, domain: shop.domain });
    expect(first.outcome).toMatchObject({ summary: { active: false, sessionsDeleted: 1 } });
    const again = await deliver(shop, 'app/uninstalled', { id: 1, domain: shop.domain });
    expect(again.outcome).toMatchObject({ summary: { active: false, sessionsDeleted: 0 } });
    const stored = await getShopByDomain(handle.db, shop.domain);
    expect(stored).toMatchObject({ active: false });
    expect(stored?.uninstalledAt).toBeInstanceOf(Date);
  });

  it('customers/redact scrubs personal data and stored bodies, keeps the ledger totals', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer, { customer: { id: customer, email: 'private@example.com' } });
    const paid = await deliver(shop, 'orders/paid', order);
    expect(await balanceOfExternal(shop, customer)).toBe(90);
    const redact = await deliver(
      shop,
      'customers/redact',
      customersRedactPayload({
        shopDomain: shop.domain,
        customer: { id: customer, email: 'private@example.com' },
        ordersToRedact: [Number(order.id)],
      }),
    );
    expect(redact.outcome).toMatchObject({
      summary: { customersRedacted: 1, ordersRedacted: 1 },
    });
    const stored = await findCustomerByExternalId(handle.db, shop.id, String(customer));
    expect(stored).toMatchObject({ email: null, firstName: null, lastName: null, birthday: null });
    expect(stored?.redactedAt).toBeInstanceOf(Date);
    expect(await balanceOfExternal(shop, customer)).toBe(90);
    expect((await getOrder(handle.db, shop.id, String(order.id)))?.email).toBeNull();
    expect((await getInboxRow(handle.db, paid.inboxId))?.payload).toBeNull();
    // A late redelivery of the order does not bring the personal data back.
    await deliver(shop, 'orders/paid', order);
    expect((await getOrder(handle.db, shop.id, String(order.id)))?.email).toBeNull();
    expect((await getCustomer(handle.db, shop.id, stored!.id))?.email).toBeNull();
  });

  it('customers/data_request stores an export of what is held, once', async () => {
    const shop = await newShop();
    const customer = id();
    const order = order120(customer, { customer: { id: customer, email: 'export@example.com' } });
    await deliver(shop, 'orders/paid', order);
    const body = customersDataRequestPayload({
      shopDomain: shop.domain,
      customer: { id: customer, email: 'export@example.com' },
      ordersRequested: [Number(order.id)],
      dataRequestId: 9911,
    });
    const { outcome } = await deliver(shop, 'customers/data_request', body);
    expect(outcome).toMatchObject({ summary: { created: true, customers: 1, orders: 1 } });
    const [row] = await handle.db
      .select()
      .from(customerDataRequests)
      .where(
        and(
          eq(customerDataRequests.shopId, shop.id),
          eq(customerDataRequests.dataRequestId, '9911'),
        ),
      );
    expect(row?.export).toMatchObject({
      format: 'laurel-customer-data/1',
      customers: [
        {
          externalId: String(customer),
          email: 'export@example.com',
          balance: 90,
          ledger: [{ source: 'order', points: 90, reference: `order:${order.id}:earn` }],
        },
      ],
      orders: [{ shopifyOrderId: String(order.id), earnAmountMinor: 12_000 }],
    });
    const again = await deliver(shop, 'customers/data_request', body);
    expect(again.outcome).toMatchObject({ summary: { created: false } });
  });

  it('a compliance body about another shop is refused', async () => {
    const shop = await newShop();
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic: 'shop/redact',
      payload: shopRedactPayload({ shopDomain: 'someone-else.myshopify.com' }),
    });
    const error = await processInbox(handle.db, inboxId, log).catch((e: unknown) => e);
    expect(isPermanentFailure(error)).toBe(true);
    expect(await getShopByDomain(handle.db, shop.domain)).toBeDefined();
  });

  it("shop/redact deletes all of the shop's data, and only that shop's", async () => {
    const shop = await newShop();
    const bystander = await newShop();
    const customer = id();
    await deliver(shop, 'orders/paid', order120(customer));
    await deliver(bystander, 'orders/paid', order120(customer));
    const { outcome } = await deliver(
      shop,
      'shop/redact',
      shopRedactPayload({ shopDomain: shop.domain }),
    );
    expect(outcome).toMatchObject({ status: 'processed', summary: { deleted: true } });
    expect(await getShopByDomain(handle.db, shop.domain)).toBeUndefined();
    const leftovers = await handle.db
      .select()
      .from(webhookInbox)
      .where(eq(webhookInbox.shopDomain, shop.domain));
    expect(leftovers).toEqual([]);
    expect(await handle.db.select().from(orders).where(eq(orders.shopId, shop.id))).toEqual([]);
    expect(await balanceOfExternal(bystander, customer)).toBe(90);
    // A redelivery after the redaction finds nothing to do.
    const again = await deliver(bystander, 'app/uninstalled', {});
    expect(again.outcome.status).toBe('processed');
  });
});

describe('batches', () => {
  async function record(shop: Shop | string, topic: string, payload: unknown) {
    const { id: inboxId } = await recordDelivery(handle.db, {
      shopDomain: typeof shop === 'string' ? shop : shop.domain,
      webhookId: randomUUID(),
      topic,
      payload: JSON.parse(JSON.stringify(payload)),
    });
    return inboxId;
  }

  it('processes many deliveries in one transaction exactly as one by one', async () => {
    const shop = await newShop();
    const [a, b, c] = [id(), id(), id()];
    const orderA = order120(a);
    const orderB = order120(b);
    const orderC = orderPayload({ id: id(), customer: { id: c }, lineItems: [{ price: '75.00' }] });
    const refundB = refundPayload({
      id: id(),
      orderId: Number(orderB.id),
      order: orderB,
      lineItems: [{ lineItemId: lineIds(orderB)[0]! }],
    });
    const broken = { ...order120(id()), name: '' };
    const ids = [
      await record(shop, 'refunds/create', refundB), // before its order, in the same batch
      await record(shop, 'orders/paid', orderA),
      await record(shop, 'orders/paid', orderA), // a duplicate delivery in the same batch
      await record(shop, 'orders/paid', orderB),
      await record(shop, 'orders/paid', orderC),
      await record(shop, 'orders/cancelled', cancelledOrderPayload(orderC)),
      await record(shop, 'orders/paid', broken),
      await record('elsewhere.myshopify.com', 'orders/paid', order120(id())),
      await record(shop, 'customers/create', customerPayload({ id: id() })),
    ];
    const results = await processInboxBatch(handle.db, ids, log);
    expect([...results.values()].map((r) => r.status)).toEqual([
      'processed',
      'processed',
      'processed',
      'processed',
      'processed',
      'processed',
      'failed',
      'failed',
      'processed',
    ]);
    expect(results.get(ids[6]!)).toMatchObject({ error: expect.any(ShopifyPayloadError) });
    expect(results.get(ids[7]!)).toMatchObject({ error: { code: ErrorCode.UNAVAILABLE } });
    expect(results.get(ids[1]!)).toMatchObject({ summary: { awardedPoints: 90, batch: 7 } });
    expect(await balanceOfExternal(shop, a)).toBe(90);
    expect(await balanceOfExternal(shop, b)).toBe(75);
    expect(await balanceOfExternal(shop, c)).toBe(0);
    const statuses = await Promise.all(
      ids.map(async (i) => (await getInboxRow(handle.db, i))?.status),
    );
    expect(statuses).toEqual([
      'processed',
      'processed',
      'processed',
      'processed',
      'processed',
      'processed',
      'received',
      'received',
      'processed',
    ]);
  });

  it('a row that makes the transaction fail is isolated; the others still commit', async () => {
    const shop = await newShop();
    const [good, bad] = [id(), id()];
    const goodOrder = order120(good);
    const badOrder = order120(bad);
    // An award that records no amount: settling its order must refuse (the maths would be a guess).
    const customer = await ensureCustomer(handle.db, shop.id, { externalId: String(bad) });
    await post(handle.db, shop.id, {
      customerId: customer.id,
      idempotencyKey: `order:${badOrder.id}:earn`,
      source: 'order',
      points: 10,
      occurredAt: new Date(),
      inputs: { note: 'no amount' },
    });
    const ids = [
      await record(shop, 'orders/paid', goodOrder),
      await record(
        shop,
        'refunds/create',
        refundPayload({
          id: id(),
          orderId: Number(badOrder.id),
          order: badOrder,
          lineItems: [{ lineItemId: lineIds(badOrder)[0]! }],
        }),
      ),
    ];
    const results = await processInboxBatch(handle.db, ids, log);
    expect(results.get(ids[0]!)).toMatchObject({ status: 'processed' });
    expect(results.get(ids[1]!)).toMatchObject({
      status: 'failed',
      error: { message: expect.stringMatching(/records no amountMinor/) },
    });
    expect(await balanceOfExternal(shop, good)).toBe(90);
    expect(await balanceOfExternal(shop, bad)).toBe(10);
  });
});
