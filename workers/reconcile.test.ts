import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookInbox } from '../db/schema';
import { getInboxRow, markParked, recordDelivery } from '../app/models/inbox.server';
import { ensureShop } from '../app/models/shops.server';
import { orderPayload } from '../tests/fixtures/shopify';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { TEST_REDIS_URL } from '../tests/helpers/pipeline';
import { createWebhookQueue } from '../app/queues/webhook-queue.server';
import { reconcileInbox } from './reconcile';

const DAY_MS = 86_400_000;

let handle: TestDatabase;
let queue: Queue;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: `test-${randomUUID()}` });
});
afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await handle?.close();
});

async function parkedDelivery(domain: string, receivedAt = new Date()) {
  const { id } = await recordDelivery(handle.db, {
    shopDomain: domain,
    webhookId: randomUUID(),
    topic: 'orders/paid',
    payload: orderPayload({ id: 1, customer: { id: 2 }, subtotal: '120.00' }),
  });
  await handle.db.update(webhookInbox).set({ receivedAt }).where(eq(webhookInbox.id, id));
  await markParked(handle.db, id, `shop ${domain} is not installed yet (no shops row)`);
  return id;
}

const reconcile = (now = Date.now()) =>
  reconcileInbox(handle.db, queue, {
    olderThan: new Date(now - 120_000),
    pruneBefore: new Date(now - 7 * DAY_MS),
  });

describe('the reconciler and parked deliveries', () => {
  it('leaves a parked row alone until its shop exists, then puts it back and enqueues it', async () => {
    const domain = `parked-${randomUUID().slice(0, 8)}.myshopify.com`;
    const id = await parkedDelivery(domain);
    expect(await reconcile()).toMatchObject({ unparked: 0, parkedExpired: 0 });
    expect((await getInboxRow(handle.db, id))?.status).toBe('parked');
    expect(await queue.getJob(`inbox-${id}`)).toBeUndefined();

    await ensureShop(handle.db, { domain });
    expect(await reconcile()).toMatchObject({ unparked: 1, parkedExpired: 0 });
    expect(await getInboxRow(handle.db, id)).toMatchObject({ status: 'received', lastError: null });
    expect(await (await queue.getJob(`inbox-${id}`))?.getState()).toBe('waiting');
  });

  it('keeps a parked body for the retention period, then dead-letters the row without it', async () => {
    const domain = `never-${randomUUID().slice(0, 8)}.myshopify.com`;
    const recent = await parkedDelivery(domain, new Date(Date.now() - 6 * DAY_MS));
    const old = await parkedDelivery(domain, new Date(Date.now() - 8 * DAY_MS));
    expect(await reconcile()).toMatchObject({ unparked: 0, parkedExpired: 1 });
    const expired = await getInboxRow(handle.db, old);
    expect(expired).toMatchObject({ status: 'dead', payload: null, payloadText: null });
    expect(expired!.lastError).toMatch(
      /^parked until the retention period ended and the shop was never installed; the body was dropped/,
    );
    expect(await getInboxRow(handle.db, recent)).toMatchObject({ status: 'parked' });
    expect((await getInboxRow(handle.db, recent))!.payload).not.toBeNull();
    expect(await queue.getJob(`inbox-${old}`)).toBeUndefined();
  });
});
