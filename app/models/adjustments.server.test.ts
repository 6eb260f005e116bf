import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { customerMetafieldSync, ledgerEntries } from '../../db/schema';
import { validateAdjustment, type Adjustment } from '../../loyalty/adjustment';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode } from '../errors';
import { postAdjustment } from './adjustments.server';
import { ensureCustomer } from './customers.server';
import { balanceOf, entriesFor, post, sumOfEntries } from './ledger.server';
import { ensureShop, type Shop } from './shops.server';
import { publishTierProgram, getCustomerTier } from './tiers.server';

const STAFF = { userId: '42', sessionId: 'session-1' };
const NOW = new Date('2026-11-20T14:00:00Z');

function adjustment(points: number, reason = 'Goodwill', key = randomUUID()): Adjustment {
  const result = validateAdjustment({ points: String(points), reason, key });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.adjustment;
}

async function refusal(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('manual adjustments on postgres', () => {
  let handle: TestDatabase;
  let db: Executor;
  let shop: Shop;
  let other: Shop;

  beforeAll(async () => {
    // Connections enough for the concurrent posts to really overlap.
    handle = await createTestDatabase('postgres', { max: 12 });
    db = handle.db;
    shop = await ensureShop(db, { domain: 'adjust.myshopify.com', currency: 'USD' });
    other = await ensureShop(db, { domain: 'adjust-other.myshopify.com', currency: 'USD' });
  });
  afterAll(async () => {
    await handle?.close();
  });

  const member = async (balance = 0) => {
    const c = await ensureCustomer(db, shop.id, { externalId: randomUUID() });
    if (balance > 0) {
      await post(db, shop.id, {
        customerId: c.id,
        idempotencyKey: `seed:${c.id}`,
        source: 'bonus',
        points: balance,
        occurredAt: NOW,
        inputs: {},
      });
    }
    return c;
  };

  it('posts one adjustment entry recording the reason, the staff member and the time', async () => {
    const c = await member(100);
    const a = adjustment(-40, 'Duplicate award for order #1001');
    const result = await postAdjustment(db, shop, c.id, a, STAFF, NOW);
    expect(result).toMatchObject({ created: true, balance: 60 });
    expect(result.entry).toMatchObject({
      customerId: c.id,
      source: 'adjustment',
      points: -40,
      idempotencyKey: a.idempotencyKey,
      occurredAt: NOW,
      programVersion: null,
      inputs: {
        rule: 'manual-adjustment',
        reason: 'Duplicate award for order #1001',
        staff: { userId: '42', sessionId: 'session-1' },
        at: NOW.toISOString(),
      },
    });
    // Adjustments count towards lifetime earned, either sign (ledger.server.ts EARNING_SOURCES).
    expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: 60, lifetimeEarned: 60 });
    expect(await sumOfEntries(db, shop.id, c.id)).toEqual({ balance: 60, lifetimeEarned: 60 });
    // The storefront sync learns of it through the ledger's pending marker.
    const [sync] = await db
      .select()
      .from(customerMetafieldSync)
      .where(
        and(eq(customerMetafieldSync.shopId, shop.id), eq(customerMetafieldSync.customerId, c.id)),
      );
    expect(sync?.ledgerPosition).toBe(result.entry.id);
  });

  it('posts a double submit once, and refuses the key for a different adjustment', async () => {
    const c = await member(10);
    const a = adjustment(25);
    const first = await postAdjustment(db, shop, c.id, a, STAFF, NOW);
    // The second submit comes later: its time differs, the entry does not.
    const again = await postAdjustment(db, shop, c.id, a, STAFF, new Date(NOW.getTime() + 5_000));
    expect(again).toEqual({ entry: first.entry, created: false, balance: 35 });
    expect(
      (await entriesFor(db, shop.id, c.id)).filter((e) => e.source === 'adjustment'),
    ).toHaveLength(1);
    const other = await refusal(postAdjustment(db, shop, c.id, { ...a, points: 26 }, STAFF, NOW));
    expect(other.code).toBe(ErrorCode.IDEMPOTENCY_CONFLICT);
    expect(other.message).toMatch(/already used for a different adjustment/);
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(35);
  });

  it('refuses a debit below 0 with the reason, and posts nothing', async () => {
    const c = await member(30);
    const error = await refusal(postAdjustment(db, shop, c.id, adjustment(-31), STAFF, NOW));
    expect(error.code).toBe(ErrorCode.INSUFFICIENT_BALANCE);
    expect(error.message).toBe(
      'Points: removing 31 would take the balance of 30 below 0; remove at most 30',
    );
    expect(await entriesFor(db, shop.id, c.id)).toHaveLength(1);
    // Down to exactly 0 is allowed.
    await postAdjustment(db, shop, c.id, adjustment(-30), STAFF, NOW);
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(0);
  });

  it('answers NOT_FOUND for another shop’s customer, posting nothing', async () => {
    const theirs = await ensureCustomer(db, other.id, { externalId: 'theirs' });
    const error = await refusal(postAdjustment(db, shop, theirs.id, adjustment(5), STAFF, NOW));
    expect(error.code).toBe(ErrorCode.NOT_FOUND);
    expect(error.message).toMatch(/This shop has no customer \d+/);
    expect(await entriesFor(db, other.id, theirs.id)).toEqual([]);
  });

  it('lets no pair of concurrent debits overdraw the balance', async () => {
    const c = await member(100);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => postAdjustment(db, shop, c.id, adjustment(-30), STAFF, NOW)),
    );
    const posted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter(
      (r): r is PromiseRejectedResult =>
        r.status === 'rejected' &&
        r.reason instanceof AppError &&
        r.reason.code === ErrorCode.INSUFFICIENT_BALANCE,
    );
    expect(posted).toHaveLength(3);
    expect(refused).toHaveLength(7);
    expect(await balanceOf(db, shop.id, c.id)).toMatchObject({ balance: 10 });
    expect((await sumOfEntries(db, shop.id, c.id)).balance).toBe(10);
  });

  it('posts concurrent submits of one form once', async () => {
    const c = await member(0);
    const a = adjustment(15);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => postAdjustment(db, shop, c.id, a, STAFF, NOW)),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    const rows = await db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.shopId, shop.id), eq(ledgerEntries.customerId, c.id)));
    expect(rows).toHaveLength(1);
    expect((await balanceOf(db, shop.id, c.id)).balance).toBe(15);
  });

  it('evaluates the member’s tier: adjustments count towards a points tier', async () => {
    const tierShop = await ensureShop(db, { domain: 'adjust-tiers.myshopify.com' });
    await publishTierProgram(
      db,
      tierShop.id,
      {
        metric: 'points',
        window: 'lifetime',
        tiers: [
          { key: 'member', name: 'Member', threshold: 0 },
          { key: 'star', name: 'Star', threshold: 1_000, entryReward: { points: 100 } },
        ],
      },
      new Date(NOW.getTime() - 86_400_000),
    );
    const c = await ensureCustomer(db, tierShop.id, { externalId: 'star-to-be' });
    const result = await postAdjustment(db, tierShop, c.id, adjustment(1_000), STAFF, NOW);
    expect(await getCustomerTier(db, tierShop.id, c.id)).toMatchObject({
      tierKey: 'star',
      metricValue: 1_000,
    });
    // The entry reward of the tier reached is in the balance answered.
    expect(result.balance).toBe(1_100);
    const sources = (await entriesFor(db, tierShop.id, c.id)).map((e) => [e.source, e.points]);
    expect(sources).toEqual(
      expect.arrayContaining([
        ['adjustment', 1_000],
        ['tier', 0],
        ['tier', 100],
      ]),
    );
  });
});
