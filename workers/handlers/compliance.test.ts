/**
 * customers/redact and customers/data_request through the real inbox path: every copy of the
 * subject's personal data goes, points and totals stay, and nothing processed later brings it back.
 * Rules: docs/privacy.md.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ensureCustomer,
  findCustomerByExternalId,
  getCustomer,
} from '../../app/models/customers.server';
import {
  getInboxRow,
  markDead,
  prunePayloads,
  recordUnstorableDelivery,
} from '../../app/models/inbox.server';
import { balanceOf, post } from '../../app/models/ledger.server';
import { getOrder } from '../../app/models/orders.server';
import { type Shop } from '../../app/models/shops.server';
import { customerDataRequests, customers, orders, webhookInbox } from '../../db/schema';
import {
  customerPayload,
  customersDataRequestPayload,
  customersRedactPayload,
  orderPayload,
} from '../../tests/fixtures/shopify';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { processInbox } from '../process-inbox';

const log = pino({ level: 'silent' });
type Json = Record<string, unknown>;

const handle = useInboxHarness();

let nextId = 7_200_000_000_000;
const id = () => ++nextId;

const newShop = () => handle.newShop('privacy');
const record = (shop: Shop, topic: string, payload: Json) => handle.record(shop, topic, payload);

/** A body jsonb refused (a \u0000 escape), kept as text only: a dead letter from the start. */
async function recordAsText(shop: Shop, topic: string, payload: Json) {
  const text = JSON.stringify({ ...payload, note: 'nul \u0000 here' });
  const { id: inboxId } = await recordUnstorableDelivery(
    handle.db,
    { shopDomain: shop.domain, webhookId: randomUUID(), topic, payload: null, payloadText: text },
    'the body cannot be stored as jsonb',
  );
  return inboxId;
}

const deliver = (shop: Shop, topic: string, payload: Json) => handle.deliver(shop, topic, payload);

const EMAIL = 'private.person@example.com';

function order120(customerId: number | null, email = EMAIL) {
  return orderPayload({
    id: id(),
    customer: customerId === null ? null : { id: customerId, email },
    email,
    lineItems: [{ price: '120.00' }],
  });
}

function redactBody(shop: Shop, customerId: number | null, orderIds: number[] = []) {
  return customersRedactPayload({
    shopDomain: shop.domain,
    customer: { id: customerId ?? undefined, email: EMAIL, phone: '+1 555 0100' },
    ordersToRedact: orderIds,
  });
}

/** Every text the shop's rows hold, as one string: the subject's data must appear nowhere. */
async function everythingStored(shop: Shop): Promise<string> {
  const db = handle.db;
  const held = [
    await db.select().from(customers).where(eq(customers.shopId, shop.id)),
    await db.select().from(orders).where(eq(orders.shopId, shop.id)),
    await db.select().from(customerDataRequests).where(eq(customerDataRequests.shopId, shop.id)),
    await db.select().from(webhookInbox).where(eq(webhookInbox.shopDomain, shop.domain)),
  ];
  return JSON.stringify(held).toLowerCase();
}

function expectNoPersonalData(stored: string) {
  // Names as JSON values: a bare 'ada' could be part of a random id.
  for (const text of [EMAIL, 'private.person', '"ada"', '"lovelace"', '555 0100', '1815-12-10']) {
    expect(stored).not.toContain(text);
  }
}

async function pointsOf(shop: Shop, externalId: string) {
  const customer = await findCustomerByExternalId(handle.db, shop.id, externalId);
  return (await balanceOf(handle.db, shop.id, customer!.id)).balance;
}

describe('customers/redact', () => {
  it('scrubs the data-request export, the compliance bodies and dead letters; keeps the points', async () => {
    const shop = await newShop();
    const customer = id();
    await deliver(shop, 'customers/create', {
      ...customerPayload({ id: customer, email: EMAIL, birthday: '1815-12-10' }),
      phone: '+1 555 0100',
    });
    const order = order120(customer);
    await deliver(shop, 'orders/paid', order);
    // The customer's facts.birth_date gave the birthday bonus its month and day: exported, then
    // scrubbed.
    const request = await deliver(
      shop,
      'customers/data_request',
      customersDataRequestPayload({
        shopDomain: shop.domain,
        customer: { id: customer, email: EMAIL, phone: '+1 555 0100' },
        ordersRequested: [Number(order.id)],
        dataRequestId: 4242,
      }),
    );
    expect(request.outcome).toMatchObject({ summary: { created: true, customers: 1, orders: 1 } });
    const [exported] = await handle.db
      .select()
      .from(customerDataRequests)
      .where(eq(customerDataRequests.shopId, shop.id));
    expect(exported?.export).toMatchObject({
      customers: [{ birthMonthDay: { month: 12, day: 10, source: 'metafield' } }],
    });
    // A customers/update that failed for good: a dead letter holding the subject's body.
    const deadId = await record(
      shop,
      'customers/update',
      customerPayload({ id: customer, email: EMAIL }),
    );
    await markDead(handle.db, deadId, 'failed for good');
    // Bodies kept only as text: one naming the subject's email, one about someone else.
    const textId = await recordAsText(
      shop,
      'customers/update',
      customerPayload({ id: id(), email: EMAIL.toUpperCase() }),
    );
    const otherTextId = await recordAsText(
      shop,
      'customers/update',
      customerPayload({ id: id(), email: 'someone.else@example.com' }),
    );

    const redact = await deliver(shop, 'customers/redact', redactBody(shop, customer));
    expect(redact.outcome).toMatchObject({
      status: 'processed',
      summary: { customersRedacted: 1, ordersRedacted: 1 },
    });

    expectNoPersonalData(await everythingStored(shop));
    // The export is still there for the merchant, with the points and totals, no personal fields.
    const [stored] = await handle.db
      .select()
      .from(customerDataRequests)
      .where(eq(customerDataRequests.shopId, shop.id));
    expect(stored?.export).toMatchObject({
      customers: [
        {
          externalId: String(customer),
          email: null,
          firstName: null,
          balance: 90,
          lastName: null,
          birthMonthDay: null,
        },
      ],
      orders: [{ shopifyOrderId: String(order.id), email: null, earnAmountMinor: 12_000 }],
    });
    expect(await pointsOf(shop, String(customer))).toBe(90);
    // The dead letter is still listed (its status and reason), without its body.
    expect(await getInboxRow(handle.db, deadId)).toMatchObject({ status: 'dead', payload: null });
    expect(await getInboxRow(handle.db, textId)).toMatchObject({
      status: 'dead',
      payloadText: null,
    });
    expect((await getInboxRow(handle.db, otherTextId))?.payloadText).toContain('someone.else');
    expect((await getInboxRow(handle.db, request.inboxId))?.payload).toBeNull();
    expect((await getInboxRow(handle.db, redact.inboxId))?.payload).toBeNull();
  });

  it('later deliveries about the subject store no personal data and drop their bodies', async () => {
    const shop = await newShop();
    const customer = id();
    await deliver(shop, 'customers/create', customerPayload({ id: customer, email: EMAIL }));
    const first = order120(customer);
    await deliver(shop, 'orders/paid', first);
    // Waiting in the inbox when the redaction runs: an update and a guest order with the email.
    const pendingUpdate = await record(
      shop,
      'customers/update',
      customerPayload({ id: customer, email: EMAIL }),
    );
    const guest = order120(null);
    const pendingGuest = await record(shop, 'orders/paid', guest);

    await deliver(shop, 'customers/redact', redactBody(shop, customer, [Number(first.id)]));

    // Processed after the redaction: the pending rows, a late update, a new order of theirs.
    for (const inboxId of [pendingUpdate, pendingGuest]) {
      expect(await processInbox(handle.db, inboxId, log)).toMatchObject({ status: 'processed' });
    }
    const late = await deliver(
      shop,
      'customers/update',
      customerPayload({ id: customer, email: EMAIL }),
    );
    expect(late.outcome).toMatchObject({ status: 'processed' });
    const second = order120(customer);
    const secondPaid = await deliver(shop, 'orders/paid', second);
    expect(secondPaid.outcome).toMatchObject({ summary: { awardedPoints: 90 } });

    expectNoPersonalData(await everythingStored(shop));
    expect(await pointsOf(shop, String(customer))).toBe(180);
    expect(await getOrder(handle.db, shop.id, String(guest.id))).toMatchObject({
      customerId: null,
      email: null,
    });
    // Its email is gone, so no account can claim the guest order later.
    const claimer = await deliver(
      shop,
      'customers/create',
      customerPayload({ id: id(), email: 'someone@example.com' }),
    );
    expect(claimer.outcome).toMatchObject({ summary: { guestOrdersClaimed: 0 } });
  });

  it('redacts the email-keyed twin of an old import and its external id', async () => {
    const shop = await newShop();
    const customer = id();
    await deliver(shop, 'customers/create', customerPayload({ id: customer, email: EMAIL }));
    // What `loyalty import` of a Shopify export used to create: a customer keyed by the email.
    const twin = await ensureCustomer(handle.db, shop.id, { externalId: EMAIL, email: EMAIL });
    await post(handle.db, shop.id, {
      customerId: twin.id,
      idempotencyKey: 'import:shopify:1',
      source: 'order',
      points: 90,
      occurredAt: new Date('2026-01-05T00:00:00Z'),
      programVersion: 1,
      inputs: { importedFrom: 'file', amountMinor: 12_000 },
    });

    const redact = await deliver(shop, 'customers/redact', redactBody(shop, customer));
    expect(redact.outcome).toMatchObject({ summary: { customersRedacted: 2 } });
    expectNoPersonalData(await everythingStored(shop));
    const twinAfter = await getCustomer(handle.db, shop.id, twin.id);
    expect(twinAfter).toMatchObject({ externalId: `redacted:${twin.id}`, email: null });
    expect((await balanceOf(handle.db, shop.id, twin.id)).balance).toBe(90);
  });
});

describe('retention', () => {
  it('prunes the bodies of dead letters past the retention period too', async () => {
    const shop = await newShop();
    const deadId = await record(shop, 'customers/update', customerPayload({ id: id() }));
    await markDead(handle.db, deadId, 'failed for good');
    const freshDead = await record(shop, 'customers/update', customerPayload({ id: id() }));
    await markDead(handle.db, freshDead, 'failed for good');
    await handle.db
      .update(webhookInbox)
      .set({ receivedAt: new Date('2026-01-01T00:00:00Z') })
      .where(and(eq(webhookInbox.id, deadId)));

    const oldText = await recordAsText(shop, 'customers/update', customerPayload({ id: id() }));
    const freshText = await recordAsText(shop, 'customers/update', customerPayload({ id: id() }));
    await handle.db
      .update(webhookInbox)
      .set({ receivedAt: new Date('2026-01-01T00:00:00Z') })
      .where(and(eq(webhookInbox.id, oldText)));

    expect(await prunePayloads(handle.db, new Date('2026-01-08T00:00:00Z'))).toBe(2);
    expect(await getInboxRow(handle.db, deadId)).toMatchObject({ status: 'dead', payload: null });
    expect((await getInboxRow(handle.db, freshDead))?.payload).not.toBeNull();
    expect(await getInboxRow(handle.db, oldText)).toMatchObject({ payloadText: null });
    expect((await getInboxRow(handle.db, freshText))?.payloadText).not.toBeNull();
  });
});
