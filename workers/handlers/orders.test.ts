// refunds/create through the inbox as the worker runs it, for the refunds Shopify POS sends: line
// amounts in "XXX" (no currency), the money returned in the shop currency.
import pino from 'pino';
import { expect, it } from 'vitest';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { getInboxRow } from '../../app/models/inbox.server';
import { balanceOf, entriesFor } from '../../app/models/ledger.server';
import { type Shop } from '../../app/models/shops.server';
import { orderPayload, posRefundPayload, refundPayload } from '../../tests/fixtures/shopify';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { isPermanentFailure, processInbox } from '../process-inbox';

const log = pino({ level: 'silent' });
type Json = Record<string, unknown>;

const handle = useInboxHarness();

const newShop = () => handle.newShop('pos', { currency: 'USD', timezone: 'UTC' });

/** The outcome, or the error processing threw (a refused refund). */
async function deliver(shop: Shop, topic: string, payload: Json) {
  const inboxId = await handle.record(shop, topic, payload);
  const outcome = await processInbox(handle.db, inboxId, log).catch((error: unknown) => error);
  return { inboxId, outcome };
}

let nextId = 9_200_000_000_000;
const id = () => ++nextId;

async function paidOrder(shop: Shop) {
  const customerId = id();
  const order = orderPayload({
    id: id(),
    customer: { id: customerId },
    sourceName: 'pos',
    lineItems: [
      { title: 'Linen Shirt', price: '100.00' },
      { title: 'Socks', price: '20.00' },
    ],
  });
  await deliver(shop, 'orders/paid', order);
  const customer = (await findCustomerByExternalId(handle.db, shop.id, String(customerId)))!;
  expect((await balanceOf(handle.db, shop.id, customer.id)).balance).toBe(90);
  return { order, customer, lines: (order.line_items as Json[]).map((l) => l.id as number) };
}

it('a POS refund with "XXX" line amounts reverses its points in the shop currency', async () => {
  const shop = await newShop();
  const { order, customer, lines } = await paidOrder(shop);
  const refund = posRefundPayload(
    refundPayload({
      id: id(),
      orderId: order.id as number,
      order,
      lineItems: [{ lineItemId: lines[1]!, subtotal: '20.00', tax: '1.60' }],
    }),
  );
  const { inboxId, outcome } = await deliver(shop, 'refunds/create', refund);
  expect(outcome).toMatchObject({
    status: 'processed',
    summary: { refundRecorded: true, merchandiseMinor: 2000, pointsPosted: -15 },
  });
  expect(await getInboxRow(handle.db, inboxId)).toMatchObject({
    status: 'processed',
    lastError: null,
  });
  expect((await balanceOf(handle.db, shop.id, customer.id)).balance).toBe(75);
  const reversal = (await entriesFor(handle.db, shop.id, customer.id)).find(
    (e) => e.idempotencyKey === `refund:${refund.id}:reverse`,
  );
  expect(reversal).toMatchObject({ points: -15 });
});

it('a POS refund stating another currency elsewhere is still refused, and nothing changes', async () => {
  const shop = await newShop();
  const { order, customer, lines } = await paidOrder(shop);
  const inEuros = posRefundPayload(
    refundPayload({
      id: id(),
      orderId: order.id as number,
      currency: 'EUR',
      lineItems: [{ lineItemId: lines[0]!, subtotal: '100.00' }],
      shipping: '5.00',
    }),
  );
  const entriesBefore = await entriesFor(handle.db, shop.id, customer.id);
  const { outcome } = await deliver(shop, 'refunds/create', inEuros);
  expect(outcome).toBeInstanceOf(Error);
  expect(String(outcome)).toMatch(/is in EUR but shop .* keeps its points in USD/);
  expect(isPermanentFailure(outcome)).toBe(true);
  expect(await entriesFor(handle.db, shop.id, customer.id)).toEqual(entriesBefore);
  expect((await balanceOf(handle.db, shop.id, customer.id)).balance).toBe(90);
});
