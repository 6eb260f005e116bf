// The daily lifecycle run through its jobs, with a controlled clock: the sweep enqueues each shop's
// local day once, the day expires what is due and plans reminders, the send job delivers each
// reminder once per channel through the notifiers it is given, retrying a notifier that throws
// and never resending one interrupted mid-send.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../db/client.server';
import { expiryReminders, reminderDeliveries } from '../../db/schema';
import { ensureCustomer } from '../../app/models/customers.server';
import { publishExpiryPolicy } from '../../app/models/expiry-policies.server';
import { planReminders, sendDueReminders } from '../../app/models/expiry-reminders.server';
import { runExpiry } from '../../app/models/expiry.server';
import { balanceOf, post } from '../../app/models/ledger.server';
import { shopsDueForLifecycleRun, runLifecycleDay } from '../../app/models/lifecycle.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import type { ExpiryReminder, Notifier, NotifierChannel } from '../../app/notify/notifier';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../../tests/helpers/pipeline';
import { redisOptions } from '../../app/queues/connection.server';
import { startWorkers } from '../runtime.server';
import {
  createLifecycleQueue,
  runLifecycleDayJobHandler,
  runLifecycleSweepJob,
  runSendRemindersJob,
} from './lifecycle';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const log = pino({ level: 'silent' });
const NY = 'America/New_York';
const LONG_AGO = new Date('2020-01-01T00:00:00Z');

/** A notifier that records what it was asked and can be told to throw or skip. */
function recordingNotifier(channel: NotifierChannel) {
  const calls: ExpiryReminder[] = [];
  const notifier: Notifier & { calls: ExpiryReminder[]; failures: number; skip: string | null } = {
    channel,
    calls,
    failures: 0,
    skip: null,
    async notify(reminder) {
      calls.push(reminder);
      if (notifier.failures > 0) {
        notifier.failures--;
        throw new Error('SMTP 421 try again later');
      }
      if (notifier.skip) return { status: 'skipped', reason: notifier.skip };
      return { status: 'sent', detail: `${channel}-${calls.length}` };
    },
  };
  return notifier;
}

describe('the lifecycle run', () => {
  let handle: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres');
    db = handle.db as Database;
  });
  afterAll(async () => {
    await handle?.close();
  });

  let n = 0;
  async function shopWithMember(
    settings: unknown,
    lots: { points: number; at: string }[],
  ): Promise<{ shop: Shop; customerId: number; entryIds: number[] }> {
    const shop = await ensureShop(db, {
      domain: `lifecycle-${++n}-${randomUUID().slice(0, 8)}.myshopify.com`,
      timezone: NY,
      name: 'Laurel Tea',
    });
    await publishExpiryPolicy(db, shop.id, settings, LONG_AGO);
    const c = await ensureCustomer(db, shop.id, {
      externalId: String(7000 + n),
      email: `m${n}@example.com`,
      firstName: 'Ada',
    });
    const entryIds: number[] = [];
    for (const lot of lots) {
      const { entry } = await post(db, shop.id, {
        customerId: c.id,
        idempotencyKey: randomUUID(),
        source: 'order',
        points: lot.points,
        occurredAt: new Date(lot.at),
        inputs: {},
      });
      entryIds.push(entry.id);
    }
    return { shop, customerId: c.id, entryIds };
  }

  const SETTINGS = {
    policy: { mode: 'lot', months: 12 },
    reminderDays: [30, 7],
    channels: { email: true, shopify: true },
  };

  it('runs a shop day once: expiry first, then one reminder per instant at the smallest threshold', async () => {
    // Lot A (100) expires at midnight ending 2026-03-03 EST; lot B (40) at midnight ending 2026-03-25 EDT.
    const { shop, customerId, entryIds } = await shopWithMember(SETTINGS, [
      { points: 100, at: '2025-03-03T15:00:00Z' },
      { points: 40, at: '2025-03-25T15:00:00Z' },
    ]);
    // 2026-03-01 00:10 EST: A is 3 days away (7-day window), B 25 days (30-day window).
    const now = new Date('2026-03-01T05:10:00Z');
    const due = (await shopsDueForLifecycleRun(db, now)).filter((s) => s.shopId === shop.id);
    expect(due).toEqual([{ shopId: shop.id, domain: shop.domain, day: '2026-03-01' }]);
    const queue = createLifecycleQueue(
      { redisUrl: TEST_REDIS_URL, prefix: `test-${randomUUID()}` },
      redisOptions(TEST_REDIS_URL),
    );
    const email = recordingNotifier('email');
    const shopify = recordingNotifier('shopify');
    const deps = { db, queue, log, notifiers: { email, shopify }, now: () => now };
    try {
      const ids = await runLifecycleSweepJob(deps);
      expect(ids).toContain(`lifecycle-${shop.domain}-2026-03-01`);
      const first = await runLifecycleDayJobHandler(
        { data: { shop: shop.domain, day: '2026-03-01' } },
        deps,
      );
      expect(first.ran).toBe(true);
      expect(first.results).toMatchObject({
        expiry: { entries: 0 },
        reminders: { reminders: 2, deliveries: 4 },
      });
      const again = await runLifecycleDayJobHandler(
        { data: { shop: shop.domain, day: '2026-03-01' } },
        deps,
      );
      expect(again.ran).toBe(false);
      expect((await shopsDueForLifecycleRun(db, now)).map((s) => s.shopId)).not.toContain(shop.id);
      // The day asked for the sending: a coalesced job is waiting.
      expect((await queue.getDelayed()).map((j) => j.name)).toContain('send-reminders');

      const rows = await db
        .select()
        .from(expiryReminders)
        .where(eq(expiryReminders.shopId, shop.id))
        .orderBy(expiryReminders.expiresAt);
      expect(rows.map((r) => [r.thresholdDays, r.points, r.lastDay, r.lots])).toEqual([
        [7, 100, '2026-03-03', [{ entryId: entryIds[0], points: 100 }]],
        [30, 40, '2026-03-25', [{ entryId: entryIds[1], points: 40 }]],
      ]);

      const sent = await runSendRemindersJob({ data: { shop: shop.domain } }, deps);
      expect(sent).toMatchObject({ sent: 4, skipped: 0, failed: 0, nextAttemptAt: null });
      expect(email.calls.map((r) => [r.points, r.thresholdDays, r.lastDay])).toEqual([
        [100, 7, '2026-03-03'],
        [40, 30, '2026-03-25'],
      ]);
      expect(email.calls[0]).toMatchObject({
        shop: { domain: shop.domain, name: 'Laurel Tea', timezone: NY },
        customer: { id: customerId, externalId: expect.any(String), firstName: 'Ada' },
        expiresAt: new Date('2026-03-04T05:00:00Z'),
        balance: 140,
        lots: [{ entryId: entryIds[0], points: 100 }],
      });
      expect(shopify.calls).toHaveLength(2);
      // Sending again sends nothing.
      expect(await sendDueReminders(db, shop, { email, shopify }, now)).toMatchObject({ sent: 0 });
      expect(email.calls).toHaveLength(2);

      // The next days: A expires at midnight ending Mar 3; nothing more is planned until B enters
      // the 7-day window (Mar 18 local), once.
      const day = (local: string, at: string) => runLifecycleDay(db, shop, local, new Date(at));
      expect((await day('2026-03-02', '2026-03-02T05:10:00Z')).results).toMatchObject({
        expiry: { entries: 0 },
        reminders: { reminders: 0 },
      });
      expect((await day('2026-03-10', '2026-03-10T04:10:00Z')).results).toMatchObject({
        expiry: { entries: 1, points: 100 },
        reminders: { reminders: 0 },
      });
      expect((await balanceOf(db, shop.id, customerId)).balance).toBe(40);
      expect((await day('2026-03-18', '2026-03-18T04:10:00Z')).results).toMatchObject({
        reminders: { reminders: 1, deliveries: 2 },
      });
      expect(await planReminders(db, shop, new Date('2026-03-18T04:10:00Z'))).toMatchObject({
        reminders: 0,
      });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a lot joining an instant already reminded is reminded once itself', async () => {
    const { shop, customerId } = await shopWithMember(
      { policy: { mode: 'inactivity', months: 2 }, reminderDays: [10], channels: { email: true } },
      [{ points: 50, at: '2025-01-10T15:00:00Z' }],
    );
    const now = new Date('2025-03-05T05:10:00Z'); // Mar 5 local; expiry at midnight ending Mar 10
    await runExpiry(db, shop, now);
    expect(await planReminders(db, shop, now)).toMatchObject({ reminders: 1, deliveries: 1 });
    // An entry dated the same day joins that instant (the last activity does not move).
    await post(db, shop.id, {
      customerId,
      idempotencyKey: randomUUID(),
      source: 'bonus',
      points: 5,
      occurredAt: new Date('2025-01-10T16:00:00Z'),
      inputs: {},
    });
    await runExpiry(db, shop, now);
    const later = await planReminders(db, shop, new Date('2025-03-06T05:10:00Z'));
    expect(later).toMatchObject({ reminders: 1 });
    const rows = await db
      .select()
      .from(expiryReminders)
      .where(eq(expiryReminders.shopId, shop.id))
      .orderBy(expiryReminders.id);
    expect(rows.map((r) => r.points)).toEqual([50, 5]);
  });

  it('retries a notifier that throws, records skips, gives up after the last attempt, never resends', async () => {
    const { shop } = await shopWithMember(
      {
        policy: { mode: 'lot', months: 1 },
        reminderDays: [5],
        channels: { email: true, shopify: true },
      },
      [{ points: 20, at: '2025-01-20T15:00:00Z' }],
    );
    const now = new Date('2025-02-17T05:10:00Z'); // expiry at midnight ending Feb 20
    await runExpiry(db, shop, now);
    await planReminders(db, shop, now);
    const email = recordingNotifier('email');
    const shopify = recordingNotifier('shopify');
    email.failures = 1;
    shopify.skip = 'no Shopify access token';
    const first = await sendDueReminders(db, shop, { email, shopify }, now);
    expect(first).toMatchObject({ sent: 0, skipped: 1, retrying: 1 });
    expect(first.nextAttemptAt).toEqual(new Date(now.getTime() + 60_000));
    // Not due yet: nothing happens.
    expect(
      await sendDueReminders(db, shop, { email, shopify }, new Date(now.getTime() + 59_000)),
    ).toMatchObject({ sent: 0, retrying: 0 });
    const second = await sendDueReminders(
      db,
      shop,
      { email, shopify },
      new Date(now.getTime() + 60_000),
    );
    expect(second).toMatchObject({ sent: 1, nextAttemptAt: null });
    expect(email.calls).toHaveLength(2);
    expect(shopify.calls).toHaveLength(1);
    const rows = await db
      .select()
      .from(reminderDeliveries)
      .where(eq(reminderDeliveries.shopId, shop.id))
      .orderBy(reminderDeliveries.channel);
    expect(rows.map((r) => [r.channel, r.status, r.attempts, r.reason])).toEqual([
      ['email', 'sent', 2, null],
      ['shopify', 'skipped', 1, 'no Shopify access token'],
    ]);

    // A notifier that never recovers: failed after six attempts.
    const { shop: other } = await shopWithMember(
      { policy: { mode: 'lot', months: 1 }, reminderDays: [5], channels: { email: true } },
      [{ points: 20, at: '2025-01-20T15:00:00Z' }],
    );
    await runExpiry(db, other, now);
    await planReminders(db, other, now);
    const down = recordingNotifier('email');
    down.failures = 100;
    let clock = now;
    for (let i = 0; i < 6; i++) {
      const r = await sendDueReminders(db, other, { email: down }, clock);
      clock = r.nextAttemptAt ?? clock;
    }
    expect(down.calls).toHaveLength(6);
    const [failed] = await db
      .select()
      .from(reminderDeliveries)
      .where(eq(reminderDeliveries.shopId, other.id));
    expect(failed).toMatchObject({ status: 'failed', attempts: 6 });
    expect(failed!.reason).toMatch(/gave up after 6 attempts: SMTP 421/);
  });

  it('a delivery interrupted mid-send is failed, never sent again; a channel without a notifier waits', async () => {
    const { shop } = await shopWithMember(
      {
        policy: { mode: 'lot', months: 1 },
        reminderDays: [5],
        channels: { email: true, shopify: true },
      },
      [{ points: 20, at: '2025-01-20T15:00:00Z' }],
    );
    const now = new Date('2025-02-17T05:10:00Z');
    await runExpiry(db, shop, now);
    await planReminders(db, shop, now);
    // A worker claimed the email and died.
    await db.execute(sql`
      UPDATE reminder_deliveries SET status = 'sending', attempts = 1, updated_at = ${now.toISOString()}::timestamptz
      WHERE shop_id = ${shop.id} AND channel = 'email'`);
    const email = recordingNotifier('email');
    const result = await sendDueReminders(db, shop, { email }, new Date(now.getTime() + 600_000));
    expect(result).toMatchObject({ failed: 1, sent: 0, waiting: 1 });
    expect(email.calls).toEqual([]);
    const [row] = await db
      .select()
      .from(reminderDeliveries)
      .where(and(eq(reminderDeliveries.shopId, shop.id), eq(reminderDeliveries.channel, 'email')));
    expect(row!.reason).toMatch(/interrupted while sending/);
  });

  it('refuses a malformed job for good', async () => {
    await expect(
      runLifecycleDayJobHandler(
        { data: { shop: 'x', day: 'tomorrow' } },
        { db, queue: undefined as never, log, notifiers: {} },
      ),
    ).rejects.toThrow(/malformed job data/);
  });

  it('the worker runtime schedules the sweep on the lifecycle queue and runs due shops with its clock', async () => {
    const { shop } = await shopWithMember(SETTINGS, [{ points: 10, at: '2025-03-03T15:00:00Z' }]);
    const clock = new Date('2026-03-05T06:00:00Z');
    const settings = { redisUrl: TEST_REDIS_URL, prefix: `test-${randomUUID()}` };
    const email = recordingNotifier('email');
    const runtime = await startWorkers({
      db,
      queue: settings,
      concurrency: 1,
      lockMs: 1_000,
      lifecycle: { sweepEveryMs: 3_600_000, now: () => clock, notifiers: { email } },
    });
    try {
      await runtime.ready;
      const queue = createLifecycleQueue(settings, redisOptions(TEST_REDIS_URL));
      try {
        const schedulers = await queue.getJobSchedulers();
        expect(schedulers.map((s) => [s.key, s.name, s.every])).toEqual([
          ['sweep-lifecycle', 'sweep-lifecycle', 3_600_000],
        ]);
      } finally {
        await queue.close();
      }
      await vi.waitFor(
        async () => {
          const due = await shopsDueForLifecycleRun(db, clock);
          expect(due.filter((s) => s.shopId === shop.id)).toEqual([]);
          expect((await balanceOf(db, shop.id, await firstMember(shop))).balance).toBe(0);
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      await runtime.close();
      await obliterateWorkerQueues(settings);
    }
  });

  async function firstMember(shop: Shop): Promise<number> {
    const rows = (await db.execute(
      sql`SELECT id FROM customers WHERE shop_id = ${shop.id} ORDER BY id LIMIT 1`,
    )) as unknown as { id: number }[] | { rows: { id: number }[] };
    const list = Array.isArray(rows) ? rows : rows.rows;
    return Number(list[0]!.id);
  }
});
