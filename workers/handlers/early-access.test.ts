// The early-access sync on the real worker runtime: a saved window asks for a sync through the
// metafield queue, the job writes the product's mirror and installs the validation; a product
// Shopify refused is written by the sweep once Shopify takes it.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { saveEarlyAccessWindow } from '../../app/early-access.server';
import { getProductMirror } from '../../app/models/early-access.server';
import { ensureShop } from '../../app/models/shops.server';
import { createAdminClient } from '../../app/shopify/admin-client.server';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { storeOfflineSession } from '../../tests/helpers/sessions';
import { seedTierProgram } from '../../tests/helpers/tiers';
import { redisOptions, type QueueSettings } from '../../app/queues/connection.server';
import { startWorkers, type WorkerRuntime } from '../runtime.server';
import { enqueueEarlyAccessSync } from './early-access';
import { createMetafieldQueue } from '../../app/queues/metafield-queue.server';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let handle: TestDatabase;
let emulator: AdminEmulator;
let settings: QueueSettings;
let queue: Queue;
let runtime: WorkerRuntime;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({
    functions: [
      { handle: 'laurel-early-access', apiType: 'cart_checkout_validation', title: 'Early access' },
    ],
  });
  settings = { redisUrl: REDIS_URL, prefix: `test-${randomUUID()}` };
  queue = createMetafieldQueue(settings, redisOptions(REDIS_URL));
  runtime = await startWorkers({
    db: handle.db,
    queue: settings,
    lockMs: 2_000,
    metafields: { delayMs: 100, sync: { endpoint: emulator.endpointTemplate } },
    earlyAccess: {
      sweepEveryMs: 500,
      sync: { endpoint: emulator.endpointTemplate, client: { baseDelayMs: 1, maxDelayMs: 5 } },
    },
  });
  await runtime.ready;
});

afterAll(async () => {
  await runtime?.close();
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close();
  await emulator?.close();
  await handle?.close();
});

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the early-access sync jobs', () => {
  it('a saved window reaches Shopify through the job; a refused product through the sweep', async () => {
    const shop = await ensureShop(handle.db, {
      domain: `wearly-${randomUUID().slice(0, 8)}.myshopify.com`,
    });
    await storeOfflineSession(handle.db, shop.domain, 'shpat_worker');
    await seedTierProgram(handle.db, shop.id);
    const products = ['Sencha', 'Matcha'].map((title) =>
      emulator.state
        .addProduct(shop.domain, { title, variants: [{ priceMinor: 3000 }] })
        .productGid.split('/')
        .pop()!,
    );
    const admin = createAdminClient({
      shop: shop.domain,
      accessToken: 'shpat_worker',
      endpoint: emulator.url(shop.domain),
    });
    const soon = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 16);
    const save = (product: string) =>
      saveEarlyAccessWindow(
        {
          db: handle.db,
          shopId: shop.id,
          admin,
          requestSync: (domain) => enqueueEarlyAccessSync(queue, domain, 100),
        },
        {
          name: `Preview ${product}`,
          target: { type: 'product', id: product },
          stages: [{ tier: 'gold', opensAt: soon }],
          everyoneAt: later,
        },
      );
    const mirrorAt = (product: string) =>
      emulator.state
        .metafields(shop.domain, `gid://shopify/Product/${product}`)
        .find((m) => m.key === 'early_access');

    await save(products[0]!);
    await until('the mirror at Shopify', () => mirrorAt(products[0]!) !== undefined);
    await until('the validation', () => emulator.state.validations(shop.domain).length === 1);

    // The second product is gone at Shopify when its window is saved... (deleted after the check)
    const store = emulator.state.store(shop.domain);
    const record = store.products.get(Number(products[1]))!;
    const saved = save(products[1]!);
    await saved;
    store.products.delete(record.id);
    await until('the refusal recorded', async () =>
      Boolean((await getProductMirror(handle.db, shop.id, products[1]!))?.lastError),
    );
    // ...and back: the sweep retries it without anyone asking.
    store.products.set(record.id, record);
    await until(
      'the retried mirror recorded',
      async () => (await getProductMirror(handle.db, shop.id, products[1]!))?.syncedRevision === 1,
    );
    expect(mirrorAt(products[1]!)).toBeDefined();
    expect(await getProductMirror(handle.db, shop.id, products[1]!)).toMatchObject({
      syncedRevision: 1,
      attempts: 0,
      lastError: null,
    });
    expect(emulator.state.validations(shop.domain)).toHaveLength(1);
  });
});
