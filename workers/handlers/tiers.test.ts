// Tiers through the worker: webhook deliveries processed as the worker runs them move members
// between tiers in the same transaction as their points (award first, then the change it causes),
// awards carry the multiplier of the tier held before them and refunds reverse exactly that; and
// the daily run, with a controlled clock, rolls the calendar year over in New York and moves
// members down once their grace period ends.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { balanceOf, entriesFor, sumOfEntries } from '../../app/models/ledger.server';
import type { Shop } from '../../app/models/shops.server';
import { getCustomerTier } from '../../app/models/tiers.server';
import { localDay, shopsDueForTierRun } from '../../app/models/tier-evaluation.server';
import { explainEntry } from '../../loyalty/explain';
import { wallTimeOf, zonedInstant } from '../../loyalty/time';
import { customerPayload, orderPayload, refundPayload } from '../../tests/fixtures/shopify';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../../tests/helpers/pipeline';
import { FOUR_TIERS, seedTierProgram } from '../../tests/helpers/tiers';
import { redisOptions } from '../../app/queues/connection.server';
import { startWorkers } from '../runtime.server';
import { createTierQueue, runEvaluateTiersJob, runTierSweepJob } from './tiers';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const NY = 'America/New_York';
const log = pino({ level: 'silent' });
type Json = Record<string, unknown>;

const handle = useInboxHarness();

async function newShop(): Promise<Shop> {
  const shop = await handle.newShop('tiers', { currency: 'USD', timezone: NY });
  await seedTierProgram(handle.db, shop.id, FOUR_TIERS, new Date('2020-01-01T00:00:00Z'));
  return shop;
}

let nextId = 9_700_000_000_000;
const id = () => ++nextId;

/** A minute ago: in this local year (the handlers evaluate tiers at the real clock). */
const recently = () => new Date(Date.now() - 60_000).toISOString();

async function deliver(shop: Shop, topic: string, payload: Json) {
  const { outcome } = await handle.deliver(shop, topic, payload);
  expect(outcome).toMatchObject({ status: 'processed' });
  return outcome as { status: 'processed'; summary: Json };
}

async function member(shop: Shop, externalId: number) {
  return (await findCustomerByExternalId(handle.db, shop.id, String(externalId)))!;
}

/** The wall-clock reading in New York, as an instant, in `year`. */
const local = (year: number, month: number, day: number, hour = 0, minute = 0) =>
  new Date(zonedInstant({ year, month, day, hour, minute, second: 0 }, NY));

describe('orders move members between tiers', () => {
  it('award, then the change to Gold and its reward; the next order ×1.5; refunds reverse exactly', async () => {
    const shop = await newShop();
    const customerId = id();
    const first = orderPayload({
      id: id(),
      customer: { id: customerId },
      subtotal: '1100.00',
      processedAt: recently(),
    });
    const outcome = await deliver(shop, 'orders/paid', first);
    expect(outcome.summary).toMatchObject({ awardedPoints: 2_050, tier: 'gold' });
    const buyer = await member(shop, customerId);
    let entries = await entriesFor(handle.db, shop.id, buyer.id);
    // Posting order: the award (no tier held before it: no multiplier), then the change, then the reward.
    const byId = [...entries].sort((a, b) => a.id - b.id);
    expect(byId.map((e) => [e.source, e.idempotencyKey, e.points])).toEqual([
      ['order', `order:${first.id}:earn`, 2_050],
      ['tier', `tier:${buyer.id}:change:1`, 0],
      ['tier', `tier:${buyer.id}:entry:gold`, 200],
    ]);
    expect(byId[0]!.inputs.multipliers).toEqual([]);
    expect(byId[1]!.inputs).toMatchObject({ from: null, to: 'gold', direction: 'up' });
    const year = wallTimeOf(Date.now() - 60_000, NY).year;
    const en = { locale: 'en', shopCurrency: 'USD' } as const;
    expect(explainEntry({ ...byId[1]!, orderName: null }, en)).toBe(
      `Reached Gold: $1,000.00 spent in ${year}`,
    );
    expect(explainEntry({ ...byId[2]!, orderName: null }, en)).toBe('Welcome to Gold → 200 points');
    expect(await getCustomerTier(handle.db, shop.id, buyer.id)).toMatchObject({
      tierKey: 'gold',
      metricValue: 110_000,
      changes: 1,
    });

    // The next order earns ×1.5: floor(90 × 1.5) = 135, and names the multiplier it applied.
    const second = orderPayload({
      id: id(),
      customer: { id: customerId },
      lineItems: [
        { title: 'Coat', price: '100.00' },
        { title: 'Scarf', price: '20.00' },
      ],
      processedAt: recently(),
    });
    expect((await deliver(shop, 'orders/paid', second)).summary).toMatchObject({
      awardedPoints: 135,
    });
    const award = (await entriesFor(handle.db, shop.id, buyer.id)).find(
      (e) => e.idempotencyKey === `order:${second.id}:earn`,
    )!;
    expect(award.inputs).toMatchObject({
      basePoints: 90,
      points: 135,
      multipliers: [{ source: 'tier', id: 'gold@v1', factorBps: 15_000 }],
      tier: { key: 'gold', name: 'Gold' },
    });
    expect(explainEntry({ ...award, orderName: second.name as string }, en)).toBe(
      `Order ${second.name as string}, $120.00 → 135 points (Gold ×1.5)`,
    );

    // A repeat delivery of the same order posts nothing new.
    const before = await entriesFor(handle.db, shop.id, buyer.id);
    expect((await deliver(shop, 'orders/paid', second)).summary).toMatchObject({
      entriesPosted: 0,
    });
    expect(await entriesFor(handle.db, shop.id, buyer.id)).toEqual(before);

    // Refund the scarf, then the coat: −22, then −113 — exactly the 135 the award gave.
    const lines = (second.line_items as Json[]).map((l) => l.id as number);
    const refund = (lineItemId: number, subtotal: string) =>
      refundPayload({
        id: id(),
        orderId: second.id as number,
        order: second,
        lineItems: [{ lineItemId, subtotal }],
        processedAt: recently(),
      });
    expect(
      (await deliver(shop, 'refunds/create', refund(lines[1]!, '20.00'))).summary,
    ).toMatchObject({ pointsPosted: -22 });
    expect(
      (await deliver(shop, 'refunds/create', refund(lines[0]!, '100.00'))).summary,
    ).toMatchObject({ pointsPosted: -113 });
    entries = await entriesFor(handle.db, shop.id, buyer.id);
    const ofSecond = entries.filter((e) => e.id === award.id || e.reversesEntryId === award.id);
    expect(ofSecond.reduce((s, e) => s + e.points, 0)).toBe(0);
    expect((await balanceOf(handle.db, shop.id, buyer.id)).balance).toBe(2_050 + 200);
    expect(await balanceOf(handle.db, shop.id, buyer.id)).toEqual(
      await sumOfEntries(handle.db, shop.id, buyer.id),
    );
    // Spend is $1,100 again: still Gold, no new tier entry.
    expect(entries.filter((e) => e.source === 'tier')).toHaveLength(2);
  });

  it('a new member is placed in the starting tier when Shopify creates them', async () => {
    const shop = await newShop();
    const customerId = id();
    const outcome = await deliver(shop, 'customers/create', customerPayload({ id: customerId }));
    expect(outcome.summary).toMatchObject({ tier: 'bronze' });
    const created = await member(shop, customerId);
    expect(await getCustomerTier(handle.db, shop.id, created.id)).toMatchObject({
      tierKey: 'bronze',
      changes: 1,
    });
  });
});

describe('the daily run', () => {
  /** A member who reached `subtotal` this year through a delivery. */
  async function buyer(shop: Shop, subtotal: string) {
    const customerId = id();
    await deliver(
      shop,
      'orders/paid',
      orderPayload({ id: id(), customer: { id: customerId }, subtotal, processedAt: recently() }),
    );
    return member(shop, customerId);
  }
  const run = (shop: Shop, now: Date) =>
    runEvaluateTiersJob(
      { data: { shop: shop.domain, day: localDay(now, NY) } },
      { db: handle.db, log, now: () => now },
    );

  it('rolls the calendar year over at midnight in New York, then moves down after the grace period', async () => {
    const shop = await newShop();
    const silver = await buyer(shop, '300.00');
    const bronze = await buyer(shop, '100.00');
    const year = wallTimeOf(Date.now() - 60_000, NY).year;

    // New Year's Eve, 23:30 in New York (already January 1 in UTC): still this year.
    const eve = local(year, 12, 31, 23, 30);
    expect(await run(shop, eve)).toMatchObject({ ran: true, day: `${year}-12-31`, changed: 0 });
    expect(await getCustomerTier(handle.db, shop.id, silver.id)).toMatchObject({
      tierKey: 'silver',
      metricValue: 30_000,
      downgradeAt: null,
    });
    // The same day again: the run is not repeated.
    expect(await run(shop, local(year, 12, 31, 23, 45))).toMatchObject({ ran: false });

    // Midnight: the new year's window is empty. Silver is kept through the grace period (30 days).
    const midnight = local(year + 1, 1, 1);
    const graceEnd = local(year + 1, 1, 31);
    expect(await run(shop, midnight)).toMatchObject({ ran: true, changed: 0 });
    expect(await getCustomerTier(handle.db, shop.id, silver.id)).toMatchObject({
      tierKey: 'silver',
      metricValue: 0,
      heldUntil: midnight,
      downgradeAt: graceEnd,
    });
    // Bronze (threshold 0) cannot be lost: its member is re-read for the new year's value only.
    expect(await getCustomerTier(handle.db, shop.id, bronze.id)).toMatchObject({
      tierKey: 'bronze',
      metricValue: 0,
    });

    // The day before the grace period ends nothing moves; on its last midnight, Silver → Bronze.
    expect(await run(shop, local(year + 1, 1, 30, 12))).toMatchObject({ changed: 0 });
    expect(await run(shop, graceEnd)).toMatchObject({ ran: true, changed: 1 });
    expect(await getCustomerTier(handle.db, shop.id, silver.id)).toMatchObject({
      tierKey: 'bronze',
      downgradeAt: null,
      since: graceEnd,
      changes: 2,
    });
    const change = (await entriesFor(handle.db, shop.id, silver.id)).find(
      (e) => e.idempotencyKey === `tier:${silver.id}:change:2`,
    )!;
    expect(change).toMatchObject({ points: 0, occurredAt: graceEnd });
    expect(change.inputs).toMatchObject({
      from: 'silver',
      to: 'bronze',
      direction: 'down',
      reason: { year: year + 1, heldUntil: midnight.getTime(), graceEndedAt: graceEnd.getTime() },
    });
    expect(
      explainEntry({ ...change, orderName: null }, { locale: 'en', shopCurrency: 'USD' }),
    ).toBe(
      `Moved from Silver to Bronze: below $250.00 spent in ${year + 1} after the grace period`,
    );
  });

  it('the sweep enqueues each shop once its local day has no finished run', async () => {
    const shop = await newShop();
    await buyer(shop, '50.00');
    const year = wallTimeOf(Date.now() - 60_000, NY).year;
    const settings = { redisUrl: TEST_REDIS_URL, prefix: `test-${randomUUID()}` };
    const queue = createTierQueue(settings, redisOptions(TEST_REDIS_URL));
    try {
      // 04:30 UTC on January 1 is still December 31 in New York.
      const beforeMidnight = local(year, 12, 31, 23, 30);
      const due = (now: Date) =>
        shopsDueForTierRun(handle.db, now).then((all) => all.filter((s) => s.shopId === shop.id));
      expect(await due(beforeMidnight)).toEqual([
        { shopId: shop.id, domain: shop.domain, day: `${year}-12-31` },
      ]);
      const ids = await runTierSweepJob({
        db: handle.db,
        queue,
        log,
        now: () => beforeMidnight,
      });
      expect(ids).toContain(`evaluate-tiers-${shop.domain}-${year}-12-31`);
      const job = (await queue.getJob(`evaluate-tiers-${shop.domain}-${year}-12-31`))!;
      expect(job.data).toEqual({ shop: shop.domain, day: `${year}-12-31` });
      await run(shop, beforeMidnight);
      expect(await due(beforeMidnight)).toEqual([]);
      expect(await due(local(year + 1, 1, 1, 0, 5))).toEqual([
        { shopId: shop.id, domain: shop.domain, day: `${year + 1}-01-01` },
      ]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('refuses a malformed job for good', async () => {
    await expect(
      runEvaluateTiersJob({ data: { shop: 'x', day: 'tomorrow' } }, { db: handle.db, log }),
    ).rejects.toThrow(/malformed job data/);
  });
});

describe('the worker runtime', () => {
  it('schedules the tier sweep on its own queue and runs due shops with its clock', async () => {
    const shop = await newShop();
    const settings = { redisUrl: TEST_REDIS_URL, prefix: `test-${randomUUID()}` };
    const year = wallTimeOf(Date.now() - 60_000, NY).year;
    const clock = local(year + 1, 2, 1, 3);
    const runtime = await startWorkers({
      db: handle.db,
      queue: settings,
      concurrency: 1,
      lockMs: 1_000,
      tiers: { sweepEveryMs: 3_600_000, now: () => clock },
    });
    try {
      await runtime.ready;
      const queue = createTierQueue(settings, redisOptions(TEST_REDIS_URL));
      try {
        const schedulers = await queue.getJobSchedulers();
        expect(schedulers.map((s) => [s.key, s.name, s.every])).toEqual([
          ['sweep-tiers', 'sweep-tiers', 3_600_000],
        ]);
      } finally {
        await queue.close();
      }
      // The scheduler's first sweep runs at once and enqueues this shop's day, which then runs.
      await vi.waitFor(
        async () => {
          const due = await shopsDueForTierRun(handle.db, clock);
          expect(due.filter((s) => s.shopId === shop.id)).toEqual([]);
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      await runtime.close();
      await obliterateWorkerQueues(settings);
    }
  });
});
