// One order delivered several times at once over real HTTP to the built server, with real worker
// processes: Shopify's retries (same X-Shopify-Webhook-Id) store one inbox row, and the same order
// under different webhook ids still earns once (the ledger's idempotency key).
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { balanceOf, sumOfEntries } from '../../app/models/ledger.server';
import { ledgerEntries, webhookInbox } from '../../db/schema';
import { orderPayload } from '../fixtures/shopify';
import { openStack, type Delivery, type Stack } from '../helpers/e2e-stack';

let stack: Stack;

beforeAll(async () => {
  stack = await openStack();
  await stack.startWeb();
  // Two worker processes: the deliveries of one order race across processes, not just within one.
  await stack.startWorker();
  await stack.startWorker();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stdout.write(`${stack.diagnostics()}\n`);
  });
});

/** A $120.00 order (plus shipping and tax, which never earn) of a customer with an account. */
function order120(orderId: number, customerId: number) {
  return orderPayload({
    id: orderId,
    customer: { id: customerId },
    subtotal: '120.00',
    shipping: '9.99',
    tax: '10.80',
    processedAt: '2026-03-14T10:15:00-04:00',
  });
}

async function customerPoints(customerId: number) {
  const customer = await findCustomerByExternalId(stack.db.db, stack.shop.id, String(customerId));
  expect(customer, `customer ${customerId} enrolled`).toBeDefined();
  return {
    projection: await balanceOf(stack.db.db, stack.shop.id, customer!.id),
    entries: await sumOfEntries(stack.db.db, stack.shop.id, customer!.id),
    customer: customer!,
  };
}

async function entriesOf(customerDbId: number) {
  return stack.db.db
    .select()
    .from(ledgerEntries)
    .where(
      and(eq(ledgerEntries.shopId, stack.shop.id), eq(ledgerEntries.customerId, customerDbId)),
    );
}

describe('duplicate deliveries over HTTP (dist/server.mjs + 2 × dist/worker.mjs)', () => {
  it('one webhook delivered 3 times at once: three 200s, one inbox row, one award, balance 90', async () => {
    const orderId = 5_100_000_000_001;
    const customerId = 7_100_000_000_001;
    const delivery: Delivery = {
      topic: 'orders/paid',
      payload: order120(orderId, customerId),
      webhookId: randomUUID(),
    };

    const results = await Promise.all([1, 2, 3].map(() => stack.post(delivery)));

    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    // Exactly one of the three stored the row; the other two were recognised as repeats.
    expect(results.map((r) => r.body.duplicate).sort()).toEqual([false, true, true]);
    const rows = await stack.db.db
      .select()
      .from(webhookInbox)
      .where(eq(webhookInbox.webhookId, delivery.webhookId));
    expect(rows).toHaveLength(1);

    await stack.waitUntilSettled(30_000);
    const [row] = await stack.db.db
      .select()
      .from(webhookInbox)
      .where(eq(webhookInbox.webhookId, delivery.webhookId));
    expect(row).toMatchObject({ status: 'processed', lastError: null });

    const { projection, entries, customer } = await customerPoints(customerId);
    const posted = await entriesOf(customer.id);
    expect(posted.map((e) => [e.idempotencyKey, e.source, e.points])).toEqual([
      [`order:${orderId}:earn`, 'order', 90],
    ]);
    expect(posted[0]!.inputs).toMatchObject({ amountMinor: 12_000 });
    expect(projection).toEqual({ balance: 90, lifetimeEarned: 90 });
    expect(entries).toEqual({ balance: 90, lifetimeEarned: 90 });
  }, 60_000);

  it('the same order under 3 different webhook ids at once: three rows processed, still one award', async () => {
    const orderId = 5_100_000_000_002;
    const customerId = 7_100_000_000_002;
    const payload = order120(orderId, customerId);
    const deliveries: Delivery[] = [1, 2, 3].map(() => ({
      topic: 'orders/paid',
      payload,
      webhookId: randomUUID(),
    }));

    const results = await Promise.all(deliveries.map((d) => stack.post(d)));

    expect(results.map((r) => [r.status, r.body.duplicate])).toEqual([
      [200, false],
      [200, false],
      [200, false],
    ]);
    await stack.waitUntilSettled(30_000);
    for (const d of deliveries) {
      const rows = await stack.db.db
        .select()
        .from(webhookInbox)
        .where(eq(webhookInbox.webhookId, d.webhookId));
      expect(rows.map((r) => r.status)).toEqual(['processed']);
    }

    const { projection, entries, customer } = await customerPoints(customerId);
    const posted = await entriesOf(customer.id);
    expect(posted.map((e) => [e.idempotencyKey, e.points])).toEqual([
      [`order:${orderId}:earn`, 90],
    ]);
    expect(projection.balance).toBe(90);
    expect(entries.balance).toBe(90);
    // Nothing was dead-lettered or left behind on either test.
    expect(await stack.inboxCounts()).toMatchObject({ received: 0, dead: 0 });
    expect((await stack.queue.getJobCounts('failed')).failed).toBe(0);
  }, 60_000);
});
