/**
 * The redemption sweep with the real issuer against the Admin API emulator: a redemption whose
 * code landed while the answer was lost becomes issued (one discount, no second create); one whose
 * create never ran fails with its points returned. And the worker runtime schedules the sweep.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { balanceOf, post } from '../../app/models/ledger.server';
import { beginRedemption } from '../../app/models/redeem.server';
import { getRedemption } from '../../app/models/redemptions.server';
import { createReward } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { redeem, redemptionDeps } from '../../app/redemption.server';
import * as rewardIssuer from '../../app/reward-issuer.server';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { obliterateWorkerQueues } from '../../tests/helpers/pipeline';
import { storeOfflineSession } from '../../tests/helpers/sessions';
import { redisOptions } from '../../app/queues/connection.server';
import { startWorkers } from '../runtime.server';
import { createRedemptionQueue, runRedemptionSweepJob } from './redemptions';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });
/** The client's retries without the waiting. */
const fastClient = { baseDelayMs: 1, maxDelayMs: 1 };

let handle: TestDatabase;
let emulator: AdminEmulator;
let shop: Shop;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ nodeEnv: 'test', accessTokens: {} });
  shop = await ensureShop(handle.db, {
    domain: `sweep-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  await storeOfflineSession(handle.db, shop.domain, token);
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

describe('runRedemptionSweepJob', () => {
  it('settles pending redemptions from Shopify: the landed code issued, the missing one failed and returned', async () => {
    const gid = emulator.state.addCustomer(shop.domain, { firstName: 'Ada' });
    const shopifyId = gid.split('/').at(-1)!;
    const customer = await ensureCustomer(handle.db, shop.id, { externalId: shopifyId });
    await post(handle.db, shop.id, {
      customerId: customer.id,
      idempotencyKey: 'adjustment:seed',
      source: 'adjustment',
      points: 2000,
      occurredAt: new Date('2026-01-01T00:00:00Z'),
      inputs: { reason: 'seed' },
    });
    const reward = await createReward(handle.db, shop.id, {
      type: 'fixed_amount',
      title: '$5 off',
      pointsCost: 500,
      amountMinor: 500,
    });
    const deps = await redemptionDeps(rewardIssuer, {
      db: handle.db,
      log: silent,
      endpoint: emulator.endpointTemplate,
      client: fastClient,
    });

    // The create runs but its answer is lost, and every look-up fails: pending (202).
    emulator.failNext(1, 502, {
      shop: shop.domain,
      afterExecution: true,
      operation: 'DiscountCodeBasicCreate',
    });
    emulator.failNext(4, 503, { shop: shop.domain, operation: 'CodeDiscountNodeByCode' });
    const landed = await redeem(
      { shop: shop.domain, customerId: shopifyId },
      { rewardId: reward.id, requestId: `sweep-${randomUUID()}` },
      deps,
    );
    expect(landed).toMatchObject({ status: 202, redemption: { status: 'pending' } });
    // A request that died before it called Shopify: pending, nothing at Shopify.
    const crashed = await beginRedemption(handle.db, shop.id, {
      customerId: customer.id,
      rewardId: reward.id,
      requestId: `sweep-${randomUUID()}`,
      now: new Date(),
    });
    expect((await balanceOf(handle.db, shop.id, customer.id)).balance).toBe(1000);

    // Not idle yet: left alone.
    expect(
      await runRedemptionSweepJob({
        db: handle.db,
        log: silent,
        shopify: { endpoint: emulator.endpointTemplate, client: fastClient },
      }),
    ).toMatchObject({ pending: { checked: 0 } });

    const creates = () =>
      emulator.requests.filter(
        (r) => r.operationName === 'DiscountCodeBasicCreate' && r.outcome === 'executed',
      ).length;
    const createsBefore = creates();
    const result = await runRedemptionSweepJob({
      db: handle.db,
      log: silent,
      shopify: { endpoint: emulator.endpointTemplate, client: fastClient },
      idleMs: 0,
    });
    expect(result.pending).toMatchObject({
      checked: 2,
      issued: 1,
      failed: 1,
      pending: 0,
      gaveUp: 0,
    });
    expect(creates()).toBe(createsBefore);

    const issued = (await getRedemption(handle.db, shop.id, landed.redemption.id))!;
    expect(issued.status).toBe('issued');
    expect(emulator.state.discountByCode(shop.domain, issued.code!)).toBeDefined();
    const failed = (await getRedemption(handle.db, shop.id, crashed.redemption.id))!;
    expect(failed).toMatchObject({
      status: 'failed',
      failureReason: 'Shopify has no discount with this code: it was never created',
    });
    expect(emulator.state.discountByCode(shop.domain, failed.code!)).toBeUndefined();
    expect((await balanceOf(handle.db, shop.id, customer.id)).balance).toBe(1500);
  });
});

describe('the worker runtime', () => {
  it('schedules the sweep on its own queue', async () => {
    const settings = { redisUrl: REDIS_URL, prefix: `test-${randomUUID()}` };
    const runtime = await startWorkers({
      db: handle.db,
      queue: settings,
      concurrency: 1,
      lockMs: 1_000,
      redemptions: { sweepEveryMs: 60_000, shopify: { endpoint: emulator.endpointTemplate } },
    });
    try {
      await runtime.ready;
      const queue = createRedemptionQueue(settings, redisOptions(REDIS_URL));
      try {
        const schedulers = await queue.getJobSchedulers();
        expect(schedulers.map((s) => [s.key, s.name, s.every])).toEqual([
          ['reconcile-redemptions', 'reconcile-redemptions', 60_000],
        ]);
      } finally {
        await queue.close();
      }
    } finally {
      await runtime.close();
      await obliterateWorkerQueues(settings);
    }
  });
});
