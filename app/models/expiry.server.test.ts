import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { expiryPolicies, ledgerEntries } from '../../db/schema';
import { explainEntry } from '../../loyalty/explain';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode } from '../errors';
import { ensureCustomer } from './customers.server';
import { publishExpiryPolicy } from './expiry-policies.server';
import { runExpiry, type ExpiryInputs } from './expiry.server';
import { balanceOf, entriesFor, post, sumOfEntries } from './ledger.server';
import { ensureShop, type Shop } from './shops.server';

const LONG_AGO = new Date('2020-01-01T00:00:00Z');

describe('the expiry run on postgres', () => {
  let handle: TestDatabase;
  let db: Executor;

  beforeAll(async () => {
    handle = await createTestDatabase('postgres');
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.close();
  });

  let shopNumber = 0;
  const newShop = async (timezone: string) =>
    ensureShop(db, { domain: `expiry-${++shopNumber}.myshopify.com`, timezone });

  const member = async (shop: Shop) => ensureCustomer(db, shop.id, { externalId: randomUUID() });

  const earn = async (
    shop: Shop,
    customerId: number,
    points: number,
    at: string,
    extra: { source?: 'order' | 'bonus' | 'redemption' | 'refund'; orderName?: string } = {},
  ) =>
    (
      await post(db, shop.id, {
        customerId,
        idempotencyKey: randomUUID(),
        source: extra.source ?? 'order',
        points,
        occurredAt: new Date(at),
        inputs: extra.orderName ? { orderName: extra.orderName } : {},
      })
    ).entry;

  it('expires a lot exactly at the local midnight ending its last day (New York), once', async () => {
    const shop = await newShop('America/New_York');
    await publishExpiryPolicy(db, shop.id, { policy: { mode: 'lot', months: 12 } }, LONG_AGO);
    const c = await member(shop);
    // Mar 3, 2025 20:00 EST; Apr 9, 2025 12:00 EDT.
    const a = await earn(shop, c.id, 120, '2025-03-04T01:00:00Z', { orderName: '#1001' });
    const b = await earn(shop, c.id, 40, '2025-04-09T16:00:00Z', { source: 'bonus' });
    // Usable through Mar 3, 2026: expires at midnight Mar 4 EST (05:00 UTC).
    const at = new Date('2026-03-04T05:00:00Z');

    const early = await runExpiry(db, shop, new Date(at.getTime() - 1));
    expect(early).toMatchObject({ expired: 0, entries: 0 });
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(160);

    const run = await runExpiry(db, shop, at);
    expect(run).toMatchObject({ expired: 1, entries: 1, points: 120, policyVersion: 1 });
    const expiry = (await entriesFor(db, shop.id, c.id)).find((e) => e.source === 'expiry')!;
    expect(expiry.points).toBe(-120);
    expect(expiry.occurredAt).toEqual(at);
    expect(expiry.idempotencyKey).toBe(`expiry:${c.id}:${at.toISOString()}:${a.id}`);
    const inputs = expiry.inputs as unknown as ExpiryInputs;
    expect(inputs).toMatchObject({ rule: 'expiry', policyVersion: 1, mode: 'lot', months: 12 });
    expect(inputs.lastDay).toBe('2026-03-03');
    expect(inputs.lots).toEqual([
      {
        entryId: a.id,
        points: 120,
        earnedAt: '2025-03-04T01:00:00.000Z',
        earnedDay: '2025-03-03',
        source: 'order',
        orderName: '#1001',
      },
    ]);
    expect(
      explainEntry({ ...expiry, orderName: null }, { locale: 'en', shopCurrency: 'USD' }),
    ).toBe('Points expired: 120 earned Mar 3, 2025 (order #1001) → −120 points');
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(40);

    // Again at the same instant, and later the same day: nothing more.
    expect(await runExpiry(db, shop, at)).toMatchObject({ entries: 0 });
    expect(await runExpiry(db, shop, new Date(at.getTime() + 3_600_000))).toMatchObject({
      entries: 0,
    });
    // The bonus lot goes at midnight ending Apr 9, 2026 (EDT).
    const second = await runExpiry(db, shop, new Date('2026-04-10T04:00:00Z'));
    expect(second).toMatchObject({ entries: 1, points: 40 });
    expect(b.id).toBeGreaterThan(a.id);
    expect(await sumOfEntries(db, shop.id, c.id)).toEqual({ balance: 0, lifetimeEarned: 160 });
  });

  it('expires only what remains: spent points first, never below zero', async () => {
    const shop = await newShop('Europe/Paris');
    await publishExpiryPolicy(db, shop.id, { policy: { mode: 'lot', months: 1 } }, LONG_AGO);
    const c = await member(shop);
    await earn(shop, c.id, 100, '2025-01-10T10:00:00Z');
    await earn(shop, c.id, 50, '2025-01-20T10:00:00Z');
    await earn(shop, c.id, -120, '2025-01-25T10:00:00Z', { source: 'redemption' });
    const run = await runExpiry(db, shop, new Date('2025-03-01T00:00:00Z'));
    // The first lot was spent; 30 of the second remain.
    expect(run).toMatchObject({ entries: 1, points: 30 });
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(0);
  });

  it('inactivity: the whole balance expires N months after the last activity (Paris)', async () => {
    const shop = await newShop('Europe/Paris');
    await publishExpiryPolicy(db, shop.id, { policy: { mode: 'inactivity', months: 3 } }, LONG_AGO);
    const c = await member(shop);
    await earn(shop, c.id, 100, '2025-06-01T10:00:00Z');
    await earn(shop, c.id, 25, '2025-07-30T21:30:00Z'); // Jul 30, 23:30 CEST
    // Usable through Oct 30; midnight Oct 31 is CET (+1) since the change on Oct 26.
    const at = new Date('2025-10-30T23:00:00Z');
    expect(await runExpiry(db, shop, new Date(at.getTime() - 1))).toMatchObject({ entries: 0 });
    expect(await runExpiry(db, shop, at)).toMatchObject({ entries: 1, points: 125 });
  });

  it('reads only members whose balance changed or whose expiry is due', async () => {
    const shop = await newShop('UTC');
    await publishExpiryPolicy(db, shop.id, { policy: { mode: 'lot', months: 6 } }, LONG_AGO);
    const members = [];
    for (let i = 0; i < 5; i++) {
      const c = await member(shop);
      await earn(shop, c.id, 10, '2025-05-01T10:00:00Z');
      members.push(c);
    }
    const now = new Date('2025-07-01T00:00:00Z');
    expect(await runExpiry(db, shop, now)).toMatchObject({ read: 5, entries: 0 });
    expect(await runExpiry(db, shop, now)).toMatchObject({ read: 0 });
    await earn(shop, members[2]!.id, 5, '2025-06-30T10:00:00Z');
    expect(await runExpiry(db, shop, now)).toMatchObject({ read: 1 });
    // Due: all five lots expire at midnight ending Nov 1.
    expect(await runExpiry(db, shop, new Date('2025-11-02T00:00:00Z'))).toMatchObject({
      read: 5,
      expired: 5,
      points: 50,
    });
  });

  it('never expires retroactively: a new policy spares lots whose expiry came before it', async () => {
    const shop = await newShop('UTC');
    const c = await member(shop);
    await earn(shop, c.id, 100, '2023-01-10T10:00:00Z');
    await earn(shop, c.id, 7, '2025-01-10T10:00:00Z');
    const effective = new Date('2025-06-01T00:00:00Z');
    await publishExpiryPolicy(db, shop.id, { policy: { mode: 'lot', months: 12 } }, effective);
    const run = await runExpiry(db, shop, new Date('2026-02-01T00:00:00Z'));
    expect(run).toMatchObject({ entries: 1, points: 7, policyVersion: 1 });
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(100);
  });

  it('refuses bad settings naming the field, and saves nothing', async () => {
    const shop = await newShop('UTC');
    for (const [value, path] of [
      [{ policy: { mode: 'lot', months: 0 } }, 'months'],
      [{ policy: { mode: 'inactivity', months: 121 } }, 'months'],
      [{ policy: { mode: 'weekly' } }, 'mode'],
      [{ policy: { mode: 'lot', months: 3 }, reminderDays: [7, 7] }, 'reminderDays'],
      [{ policy: { mode: 'lot', months: 3 }, reminderDays: [0] }, 'reminderDays'],
      [{ policy: { mode: 'lot', months: 3 }, reminderDays: [1, 2, 3, 4, 5, 6] }, 'reminderDays'],
      [{ policy: { mode: 'lot', months: 3 }, reminderDays: [7] }, 'channels'],
    ] as const) {
      const error = await publishExpiryPolicy(db, shop.id, value, LONG_AGO).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe(ErrorCode.VALIDATION);
      const issues = (error as AppError).details.issues as { path: string }[];
      expect(issues.map((i) => i.path)).toContain(path);
    }
    const saved = await db.select().from(expiryPolicies).where(eq(expiryPolicies.shopId, shop.id));
    expect(saved).toEqual([]);
    const posted = await db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.shopId, shop.id), eq(ledgerEntries.source, 'expiry')));
    expect(posted).toEqual([]);
  });
});
