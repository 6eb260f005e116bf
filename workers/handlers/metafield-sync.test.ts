// The storefront sync on the real worker runtime: webhooks through the inbox and BullMQ into the
// ledger, the sync jobs they enqueue, and the local Admin API emulator as Shopify.
import { randomUUID } from 'node:crypto';
import { Session } from '@shopify/shopify-api';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findCustomerByExternalId, ensureCustomer } from '../../app/models/customers.server';
import { getInboxRow, recordDelivery } from '../../app/models/inbox.server';
import { balanceOf, postMany } from '../../app/models/ledger.server';
import { hasPendingMembers } from '../../app/models/metafield-sync.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { ProcessSessionStorage } from '../../app/session-storage.server';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { referenceProgram } from '../../loyalty/program';
import { orderPayload } from '../../tests/fixtures/shopify';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { seedTierProgram, setMemberTier } from '../../tests/helpers/tiers';
import { createWebhookQueue, enqueueInboxRows } from '../../app/queues/webhook-queue.server';
import { redisOptions, type QueueSettings } from '../../app/queues/connection.server';
import { startWorkers, type WorkerRuntime } from '../runtime.server';
import { createMetafieldQueue } from '../../app/queues/metafield-queue.server';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let handle: TestDatabase;
let emulator: AdminEmulator;
let settings: QueueSettings;
let webhooks: Queue;
let runtime: WorkerRuntime;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ appConfig: 'shopify.app.toml' });
  settings = { redisUrl: REDIS_URL, prefix: `test-${randomUUID()}` };
  webhooks = createWebhookQueue(settings);
  runtime = await startWorkers({
    db: handle.db,
    queue: settings,
    concurrency: 64,
    reconcileAfterMs: 2_000,
    reconcileEveryMs: 1_000,
    lockMs: 2_000,
    metafields: {
      delayMs: 250,
      sweepEveryMs: 500,
      sync: { endpoint: emulator.endpointTemplate, client: { baseDelayMs: 1 } },
    },
  });
  await runtime.ready;
});

afterAll(async () => {
  await runtime?.close();
  await webhooks?.obliterate({ force: true });
  await webhooks?.close();
  const metafields = createMetafieldQueue(settings, redisOptions(REDIS_URL));
  await metafields.obliterate({ force: true }).catch(() => {});
  await metafields.close();
  await emulator?.close();
  await handle?.close();
});

async function installedShop(): Promise<Shop> {
  const shop = await ensureShop(handle.db, {
    domain: `wsync-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  await publishProgram(handle.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  await new ProcessSessionStorage({ database: async () => handle.db, cacheTtlMs: 0 }).storeSession(
    new Session({
      id: `offline_${shop.domain}`,
      shop: shop.domain,
      state: 'installed',
      isOnline: false,
      accessToken: 'shpat_worker',
    }),
  );
  return shop;
}

/** A Shopify customer (in the emulator); its numeric id is what webhooks carry. */
const shopifyCustomer = (shop: Shop) =>
  Number(emulator.state.addCustomer(shop.domain, {}).split('/').pop());

let nextOrder = 8_300_000_000_000;
async function deliverOrders(shop: Shop, customers: number[]): Promise<number[]> {
  const ids: number[] = [];
  for (const customer of customers) {
    const payload = orderPayload({
      id: ++nextOrder,
      customer: { id: customer },
      lineItems: [{ price: '120.00' }],
    });
    const { id } = await recordDelivery(handle.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: JSON.parse(JSON.stringify(payload)),
    });
    ids.push(id);
  }
  // Enqueued together, as a burst of webhooks is.
  await Promise.all(
    ids.map((inboxId) =>
      enqueueInboxRows([{ id: inboxId, shopDomain: shop.domain, topic: 'orders/paid' }], {
        queue: webhooks,
      }),
    ),
  );
  return ids;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const processed = (ids: number[]) => async () => {
  for (const id of ids)
    if ((await getInboxRow(handle.db, id))?.status !== 'processed') return false;
  return true;
};

/** [balance, lifetime] as Shopify holds them for the customer. */
function shopifyPoints(shop: Shop, customer: number): [number, number] | undefined {
  const fields = emulator.state.metafields(shop.domain, `gid://shopify/Customer/${customer}`);
  const value = (key: string) => fields.find((f) => f.key === key)?.value;
  const balance = value('points_balance');
  const lifetime = value('lifetime_points');
  return balance === undefined || lifetime === undefined
    ? undefined
    : [Number(balance), Number(lifetime)];
}

async function ledgerPoints(shop: Shop, customer: number): Promise<[number, number]> {
  const row = await findCustomerByExternalId(handle.db, shop.id, String(customer));
  const { balance, lifetimeEarned } = await balanceOf(handle.db, shop.id, row!.id);
  return [balance, lifetimeEarned];
}

/** The metafieldsSet calls Shopify executed for the shop's customers, with their sizes. */
function memberCalls(shop: Shop): number[] {
  return emulator.requests
    .filter(
      (r) =>
        r.shop === shop.domain && r.operationName === 'MetafieldsSet' && r.outcome === 'executed',
    )
    .map((r) => r.variables?.metafields as { ownerId: string }[])
    .filter((metafields) => metafields[0]!.ownerId.includes('/Customer/'))
    .map((metafields) => metafields.length);
}

describe('metafield sync on the worker', () => {
  it('after a burst of orders for one customer, Shopify holds the ledger’s figures, in far fewer calls', async () => {
    const shop = await installedShop();
    const customer = shopifyCustomer(shop);
    const orders = 40;
    const ids = await deliverOrders(
      shop,
      Array.from({ length: orders }, () => customer),
    );
    await until('the deliveries', processed(ids));
    const ledger = await ledgerPoints(shop, customer);
    expect(ledger).toEqual([90 * orders, 90 * orders]);
    await until('Shopify to hold the ledger’s figures', async () => {
      const held = shopifyPoints(shop, customer);
      return held?.[0] === ledger[0] && held[1] === ledger[1];
    });
    await until('nothing pending', async () => !(await hasPendingMembers(handle.db, shop.id)));
    // 40 ledger changes, coalesced: a handful of writes (one per 250 ms window at most).
    const calls = memberCalls(shop);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(orders / 4);
    // And the program summary was written on the way.
    const installation = emulator.state.appInstallationGid(shop.domain);
    expect(emulator.state.metafields(shop.domain, installation).map((m) => m.key)).toEqual([
      'program',
    ]);
  });

  it('writes at most 25 metafields a call when many customers change at once', async () => {
    const shop = await installedShop();
    const customers = Array.from({ length: 30 }, () => shopifyCustomer(shop));
    const ids = await deliverOrders(shop, customers);
    await until('the deliveries', processed(ids));
    await until('every customer synced', async () =>
      customers.every((c) => shopifyPoints(shop, c)?.[0] === 90),
    );
    const calls = memberCalls(shop);
    expect(Math.max(...calls)).toBeLessThanOrEqual(25);
    expect(calls.every((size) => size % 2 === 0)).toBe(true);
    expect(calls.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2 * customers.length);
  });

  it('the sweep syncs a change whose writer enqueued nothing (the CLI, a lost job)', async () => {
    const shop = await installedShop();
    const customer = shopifyCustomer(shop);
    const row = await ensureCustomer(handle.db, shop.id, { externalId: String(customer) });
    // An import: straight into the ledger, no queue involved.
    await postMany(handle.db, shop.id, [
      {
        customerId: row.id,
        idempotencyKey: 'import:1',
        source: 'adjustment',
        points: 250,
        occurredAt: new Date('2026-02-01T00:00:00Z'),
        inputs: { file: 'history.csv', line: 2 },
      },
    ]);
    await until('the sweep to sync it', async () => shopifyPoints(shop, customer)?.[0] === 250);
    expect(shopifyPoints(shop, customer)).toEqual([250, 250]);
  });

  it('a member’s tier reaches Shopify in the same write as the balance of the order that changed it', async () => {
    const shop = await installedShop();
    await seedTierProgram(handle.db, shop.id);
    const customer = shopifyCustomer(shop);
    const row = await ensureCustomer(handle.db, shop.id, { externalId: String(customer) });
    // What the evaluation leaves after this order: Gold (the ledger entry of the order marks
    // the member pending; the evaluation writes customer_tiers in the same job).
    await setMemberTier(handle.db, shop.id, row.id, 'gold', { metricValue: 120_000 });
    const ids = await deliverOrders(shop, [customer]);
    await until('the delivery', processed(ids));
    const gid = `gid://shopify/Customer/${customer}`;
    await until('Shopify to hold the tier', async () =>
      emulator.state.metafields(shop.domain, gid).some((m) => m.key === 'tier'),
    );
    const write = emulator.requests.find(
      (r) =>
        r.shop === shop.domain &&
        r.operationName === 'MetafieldsSet' &&
        r.outcome === 'executed' &&
        JSON.stringify(r.variables).includes(gid),
    );
    const written = (write!.variables!.metafields as { key: string; value: string }[]).map((m) => [
      m.key,
      m.key === 'tier_status' ? JSON.parse(m.value).key : m.value,
    ]);
    // $120.00 earns 90 points, ×1.5 for the Gold tier the member held when the award was posted.
    expect(written).toEqual([
      ['points_balance', '135'],
      ['lifetime_points', '135'],
      ['tier', 'gold'],
      ['tier_status', 'gold'],
    ]);
    await until('the tier tag', async () =>
      emulator.state.store(shop.domain).customers.get(customer)!.tags.includes('laurel-tier-gold'),
    );
  });
});
