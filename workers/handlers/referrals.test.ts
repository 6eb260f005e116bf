// The referral sync on the real worker runtime and Redis: a web caller's enqueue (or the sweep)
// makes a new member's code, adds it at Shopify and the member sync writes `$app.referral_code`.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { referralCodeOf } from '../../app/models/referral-codes.server';
import { publishReferralProgram } from '../../app/models/referral-programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { storeOfflineSession } from '../../tests/helpers/sessions';
import { redisOptions, type QueueSettings } from '../../app/queues/connection.server';
import { startWorkers, type WorkerRuntime } from '../runtime.server';
import { createMetafieldQueue } from '../../app/queues/metafield-queue.server';
import { enqueueReferralSync, useWebMetafieldQueue } from '../../app/queues/web-enqueue.server';
import { runReferralSweepJob } from './referrals';

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
  emulator = await startAdminEmulator({ appId: '4242', appConfig: 'shopify.app.toml' });
  settings = { redisUrl: REDIS_URL, prefix: `test-${randomUUID()}` };
  queue = createMetafieldQueue(settings, redisOptions(REDIS_URL));
  useWebMetafieldQueue(queue);
  const client = { baseDelayMs: 1, maxDelayMs: 5 };
  runtime = await startWorkers({
    db: handle.db,
    queue: settings,
    lockMs: 2_000,
    metafields: { delayMs: 100, sync: { endpoint: emulator.endpointTemplate, client } },
    // The sweep is called by hand below; its schedule stays out of the way.
    referrals: { sweepEveryMs: 600_000, sync: { endpoint: emulator.endpointTemplate, client } },
  });
  await runtime.ready;
});

afterAll(async () => {
  useWebMetafieldQueue(undefined);
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

async function shopWithMember(): Promise<{ shop: Shop; customerId: number; gid: string }> {
  const shop = await ensureShop(handle.db, {
    domain: `wref-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  await storeOfflineSession(handle.db, shop.domain, 'shpat_worker');
  await publishReferralProgram(handle.db, shop.id, {
    enabled: true,
    currency: 'USD',
    friendDiscount: { percentage: 15 },
    referrerReward: { points: 500 },
  });
  const gid = emulator.state.addCustomer(shop.domain, { firstName: 'Ada' });
  const customer = await ensureCustomer(handle.db, shop.id, { externalId: gid.split('/').pop()! });
  return { shop, customerId: customer.id, gid };
}

const referralMetafield = (shop: Shop, gid: string) =>
  emulator.state
    .metafields(shop.domain, gid)
    .find((m) => m.namespace === 'app--4242' && m.key === 'referral_code')?.value;

describe('the referral sync jobs', () => {
  it("a web caller's enqueue gives a new member a code that reaches their metafield", async () => {
    const { shop, customerId, gid } = await shopWithMember();
    expect(await enqueueReferralSync(shop.domain)).toBe(true);
    await until('the referral code metafield', () => referralMetafield(shop, gid) !== undefined);
    const code = await referralCodeOf(handle.db, shop.id, customerId);
    expect(code?.status).toBe('active');
    expect(referralMetafield(shop, gid)).toBe(code!.friendCode);
    expect(emulator.state.discountByCode(shop.domain, code!.friendCode)).toMatchObject({
      value: { kind: 'percentage', percentage: 0.15 },
    });
  });

  it('the sweep finds a shop with a member without a code, and only while there is work', async () => {
    const { shop, customerId, gid } = await shopWithMember();
    const deps = { db: handle.db, queue, log: pino({ level: 'silent' }), metafieldDelayMs: 100 };
    expect((await runReferralSweepJob(deps)).shops).toBeGreaterThanOrEqual(1);
    await until('the referral code metafield', () => referralMetafield(shop, gid) !== undefined);
    expect((await referralCodeOf(handle.db, shop.id, customerId))?.status).toBe('active');
    await until('no referral work left', async () => (await runReferralSweepJob(deps)).shops === 0);
  });

  it('refuses a payload that is not a shop domain', async () => {
    await expect(enqueueReferralSync('not a shop')).resolves.toBe(false);
  });
});
