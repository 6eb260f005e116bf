// A delivery refused for a bad value is dead-lettered with a reason naming the path and the rule:
// the value itself — whatever personal data a field holds — never reaches webhook_inbox.last_error
// (nor the log line, which carries the same reason), and nothing of the delivery is stored.
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { getInboxRow } from '../../app/models/inbox.server';
import { type Shop } from '../../app/models/shops.server';
import { customers, ledgerEntries, orderRefunds, orders } from '../../db/schema';
import {
  customerPayload,
  customersRedactPayload,
  orderPayload,
  refundPayload,
} from '../../tests/fixtures/shopify';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { failureReason, processInbox, recordFailure } from '../process-inbox';

const log = pino({ level: 'silent' });
const SSN = 'SSN 123-45-6789';
type Json = Record<string, unknown>;

const handle = useInboxHarness();
let shop: Shop;
beforeAll(async () => {
  shop = await handle.newShop('messages', { timezone: 'UTC' });
});

/** Rows of the shop in every table a delivery could write to. */
async function stored() {
  const count = async (table: typeof orders | typeof customers | typeof ledgerEntries) =>
    (
      await handle.db
        .select({ n: sql<number>`count(*)::int` })
        .from(table)
        .where(eq(table.shopId, shop.id))
    )[0]!.n;
  const refunds = await handle.db
    .select({ n: sql<number>`count(*)::int` })
    .from(orderRefunds)
    .where(eq(orderRefunds.shopId, shop.id));
  return {
    orders: await count(orders),
    customers: await count(customers),
    entries: await count(ledgerEntries),
    refunds: refunds[0]!.n,
  };
}

const order = orderPayload({
  id: 9_100_000_000_001,
  customer: { id: 9_100_000_000_002 },
  lineItems: [{ price: '120.00' }],
});
const cases: Array<[string, string, Json]> = [
  [
    'a birth_date metafield',
    'customers/create',
    (() => {
      const body = customerPayload({ id: 9_100_000_000_003, birthday: '1990-07-14' });
      (body.metafields as Json[])[0]!.value = SSN;
      return body;
    })(),
  ],
  [
    'an amount',
    'orders/paid',
    {
      ...order,
      subtotal_price_set: {
        ...(order.subtotal_price_set as Json),
        shop_money: { amount: SSN, currency_code: 'USD' },
      },
    },
  ],
  ['a currency', 'orders/paid', { ...order, currency: SSN }],
  ['a timestamp', 'orders/paid', { ...order, processed_at: SSN }],
  ['an id', 'orders/paid', { ...order, customer: { ...(order.customer as Json), id: SSN } }],
  [
    'a refund line',
    'refunds/create',
    (() => {
      const body = refundPayload({
        id: 9_100_000_000_004,
        orderId: 9_100_000_000_001,
        lineItems: [{ lineItemId: 1, subtotal: '10.00' }],
      });
      (body.refund_line_items as Json[])[0]!.line_item_id = SSN;
      return body;
    })(),
  ],
  [
    'a compliance shop domain',
    'customers/redact',
    {
      ...customersRedactPayload({ shopDomain: 'x.myshopify.com', customer: { id: 1 } }),
      shop_domain: SSN,
    },
  ],
];

it.each(cases)(
  '%s holding personal data is dead-lettered without it',
  async (_, topic, payload) => {
    const before = await stored();
    const inboxId = await handle.record(shop, topic, payload);
    const error = await processInbox(handle.db, inboxId, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(await recordFailure(handle.db, inboxId, error, { finalAttempt: false })).toBe('dead');

    const row = await getInboxRow(handle.db, inboxId);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).not.toMatch(/123-45-6789|SSN/);
    // The reason names where and what rule, e.g. "metafields[0].value: is not a date (YYYY-MM-DD)".
    expect(row!.lastError).toMatch(/: (is|must|has|names)/);
    expect(failureReason(error)).not.toMatch(/123-45-6789|SSN/);
    expect(String(error)).not.toMatch(/123-45-6789|SSN/);
    expect(await stored()).toEqual(before);
  },
);
