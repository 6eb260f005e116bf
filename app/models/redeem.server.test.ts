import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { ledgerEntries, redemptions } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { seedTierProgram, setMemberTier } from '../../tests/helpers/tiers';
import { AppError, ErrorCode } from '../errors';
import { ensureCustomer } from './customers.server';
import { balanceOf, entriesFor, findEntryByKey, post, sumOfEntries } from './ledger.server';
import {
  beginRedemption,
  claimPending,
  failAndReturn,
  markCredited,
  markIssued,
  returnPoints,
  shopsWithStalePending,
  stalePending,
  type BeginRedemptionInput,
} from './redeem.server';
import { getRedemption } from './redemptions.server';
import { createReward, setRewardArchived } from './rewards.server';
import { ensureShop } from './shops.server';

const NOW = new Date('2026-04-01T12:00:00Z');
const DAY = 86_400_000;
const CODE = /^LRL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

const fiveOff = { type: 'fixed_amount', title: '$5 off', pointsCost: 500, amountMinor: 500 };
const slider = {
  type: 'points_slider',
  title: 'Points off',
  slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 2000, stepPoints: 100 },
};
const credit = { type: 'store_credit', title: '$10 credit', pointsCost: 1000, amountMinor: 1000 };

const requestId = () => `req-${randomUUID()}`;

/** The AppError `work` rejects with (failing the test when it resolves). */
async function refusal(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe.each(['postgres', 'pglite'] as const)('redemptions on %s', (kind) => {
  let handle: TestDatabase;
  let db: Executor;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** A shop with one member holding `points` (a manual adjustment: lifetimeEarned = points). */
  async function member(points: number, currency = 'USD') {
    const shop = await ensureShop(db, {
      domain: `rd-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency,
    });
    const customer = await ensureCustomer(db, shop.id, { externalId: '7001' });
    if (points > 0) {
      await post(db, shop.id, {
        customerId: customer.id,
        idempotencyKey: 'adjustment:seed',
        source: 'adjustment',
        points,
        occurredAt: new Date('2026-01-01T00:00:00Z'),
        inputs: { reason: 'seed' },
      });
    }
    const begin = (rewardId: number, extra: Partial<BeginRedemptionInput> = {}) =>
      beginRedemption(db, shop.id, {
        customerId: customer.id,
        rewardId,
        requestId: requestId(),
        now: NOW,
        ...extra,
      });
    return { shop, customerId: customer.id, begin };
  }

  const redemptionCount = async (shopId: number) =>
    Number(
      (
        await db
          .select({ n: sql<number>`count(*)` })
          .from(redemptions)
          .where(eq(redemptions.shopId, shopId))
      )[0]!.n,
    );

  it('debits the cost and records a pending redemption with its code, in one transaction', async () => {
    const { shop, customerId, begin } = await member(1200);
    const reward = await createReward(db, shop.id, fiveOff);
    const id = requestId();
    const result = await begin(reward.id, { requestId: id });
    expect(result.created).toBe(true);
    expect(result.balance).toBe(700);
    const r = result.redemption;
    expect(r).toMatchObject({
      status: 'pending',
      points: 500,
      rewardId: reward.id,
      rewardVersion: 1,
      requestId: id,
      value: { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' },
      attempts: 1,
      returnEntryId: null,
    });
    expect(r.code).toMatch(CODE);
    expect(r.expiresAt).toEqual(new Date(NOW.getTime() + 30 * DAY));
    const debit = await findEntryByKey(db, shop.id, `redemption:${r.id}:debit`);
    expect(debit).toMatchObject({
      id: r.debitEntryId,
      source: 'redemption',
      points: -500,
      occurredAt: NOW,
      inputs: {
        redemptionId: r.id,
        rewardId: reward.id,
        rewardVersion: 1,
        type: 'fixed_amount',
        title: '$5 off',
        pointsCost: 500,
        points: 500,
        value: { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' },
        requestId: id,
      },
    });
    // Spending is not earning: lifetimeEarned keeps what was earned; projection = entries.
    expect(await balanceOf(db, shop.id, customerId)).toEqual({
      balance: 700,
      lifetimeEarned: 1200,
    });
    expect(await sumOfEntries(db, shop.id, customerId)).toEqual({
      balance: 700,
      lifetimeEarned: 1200,
    });
  });

  it('a slider debits the chosen points and records its amount; store credit has no code', async () => {
    const { shop, begin } = await member(5000, 'JPY');
    const slide = await createReward(db, shop.id, slider);
    const s = await begin(slide.id, { points: 1300 });
    expect(s.redemption).toMatchObject({
      points: 1300,
      value: { kind: 'amount_off_order', amountMinor: 13, currency: 'JPY' },
    });
    const debit = await findEntryByKey(db, shop.id, `redemption:${s.redemption.id}:debit`);
    expect(debit!.inputs).toMatchObject({ sliderPoints: 1300, points: 1300 });
    expect(debit!.inputs).not.toHaveProperty('pointsCost');
    const c = await begin((await createReward(db, shop.id, credit)).id);
    expect(c.redemption).toMatchObject({
      code: null,
      expiresAt: null,
      value: { kind: 'store_credit', amountMinor: 1000, currency: 'JPY' },
    });
    expect(c.balance).toBe(5000 - 1300 - 1000);
  });

  it('a tier-only reward: a Gold member redeems it, a Bronze member is refused (TIER, 403)', async () => {
    const gold = await member(1_000);
    await seedTierProgram(db, gold.shop.id);
    await setMemberTier(db, gold.shop.id, gold.customerId, 'gold');
    const reward = await createReward(db, gold.shop.id, {
      ...fiveOff,
      tiers: ['gold', 'platinum'],
    });
    const result = await gold.begin(reward.id);
    expect(result).toMatchObject({ created: true, balance: 500 });

    const bronze = await member(1_000);
    await seedTierProgram(db, bronze.shop.id);
    await setMemberTier(db, bronze.shop.id, bronze.customerId, 'bronze');
    const goldOnly = await createReward(db, bronze.shop.id, { ...fiveOff, tiers: ['gold'] });
    const refused = await refusal(bronze.begin(goldOnly.id));
    expect(refused.code).toBe(ErrorCode.FORBIDDEN);
    expect(refused.message).toBe("this reward is not available at the member's tier");
    expect(await balanceOf(db, bronze.shop.id, bronze.customerId)).toMatchObject({
      balance: 1_000,
    });
    expect(await redemptionCount(bronze.shop.id)).toBe(0);
  });

  it('refuses without debiting anything: balance, reward, points, tier, request id', async () => {
    const { shop, customerId, begin } = await member(400);
    const other = await member(10_000);
    const reward = await createReward(db, shop.id, fiveOff);
    const slide = await createReward(db, shop.id, slider);
    const gold = await createReward(db, shop.id, { ...fiveOff, pointsCost: 1, tiers: ['Gold'] });
    const archived = await createReward(db, shop.id, { ...fiveOff, pointsCost: 1 });
    await setRewardArchived(db, shop.id, archived.id, true);
    const foreign = await createReward(db, other.shop.id, { ...fiveOff, pointsCost: 1 });

    const poor = await refusal(begin(reward.id));
    expect(poor.code).toBe(ErrorCode.INSUFFICIENT_BALANCE);
    expect(poor.message).toBe('this reward costs 500 points and the balance is 400');
    for (const rewardId of [archived.id, foreign.id, 999_999, 0, -1, 1.5]) {
      const e = await refusal(begin(rewardId));
      expect(e.code, String(rewardId)).toBe(ErrorCode.NOT_FOUND);
    }
    for (const points of [-100, 0, 150, 2100, 100.5, '100', undefined]) {
      const e = await refusal(begin(slide.id, { points }));
      expect(e.code, String(points)).toBe(ErrorCode.VALIDATION);
      expect(e.message).toMatch(/^points: /);
    }
    expect((await refusal(begin(reward.id, { points: 400 }))).code).toBe(ErrorCode.VALIDATION);
    expect((await refusal(begin(gold.id))).code).toBe(ErrorCode.FORBIDDEN);
    for (const bad of ['short', 'x'.repeat(65), 'has space!', '']) {
      expect((await refusal(begin(reward.id, { requestId: bad }))).code).toBe(ErrorCode.VALIDATION);
    }
    // A customer of another shop is not this shop's to debit.
    const stranger = await refusal(
      beginRedemption(db, shop.id, {
        customerId: other.customerId,
        rewardId: reward.id,
        requestId: requestId(),
        now: NOW,
      }),
    );
    expect(stranger.code).toBe(ErrorCode.NOT_FOUND);

    expect(await redemptionCount(shop.id)).toBe(0);
    expect(await entriesFor(db, shop.id, customerId)).toHaveLength(1);
    expect(await balanceOf(db, shop.id, customerId)).toEqual({ balance: 400, lifetimeEarned: 400 });
    expect((await balanceOf(db, other.shop.id, other.customerId)).balance).toBe(10_000);
  });

  it('a member who never earned has a zero balance to be refused on', async () => {
    const { shop, customerId, begin } = await member(0);
    const reward = await createReward(db, shop.id, fiveOff);
    expect((await refusal(begin(reward.id))).message).toBe(
      'this reward costs 500 points and the balance is 0',
    );
    expect(await balanceOf(db, shop.id, customerId)).toEqual({ balance: 0, lifetimeEarned: 0 });
  });

  it('one request id is one redemption: repeats debit nothing, other content is a conflict', async () => {
    const { shop, customerId, begin } = await member(5000);
    const reward = await createReward(db, shop.id, fiveOff);
    const slide = await createReward(db, shop.id, slider);
    const id = requestId();
    const first = await begin(reward.id, { requestId: id });
    const again = await begin(reward.id, { requestId: id });
    const withCost = await begin(reward.id, { requestId: id, points: 500 });
    expect(again).toEqual({ redemption: first.redemption, created: false, balance: 4500 });
    expect(withCost.redemption.id).toBe(first.redemption.id);
    const otherReward = await refusal(begin(slide.id, { requestId: id, points: 500 }));
    expect(otherReward.code).toBe(ErrorCode.IDEMPOTENCY_CONFLICT);
    const s = requestId();
    await begin(slide.id, { requestId: s, points: 300 });
    expect((await refusal(begin(slide.id, { requestId: s, points: 400 }))).code).toBe(
      ErrorCode.IDEMPOTENCY_CONFLICT,
    );
    // The same request id of another customer is another request.
    const bob = await ensureCustomer(db, shop.id, { externalId: '7002' });
    expect(
      (
        await refusal(
          beginRedemption(db, shop.id, {
            customerId: bob.id,
            rewardId: reward.id,
            requestId: id,
            now: NOW,
          }),
        )
      ).code,
    ).toBe(ErrorCode.INSUFFICIENT_BALANCE);
    expect(await balanceOf(db, shop.id, customerId)).toEqual({
      balance: 5000 - 500 - 300,
      lifetimeEarned: 5000,
    });
    expect(await redemptionCount(shop.id)).toBe(2);
  });

  it('counts the limit per customer (failed ones do not count) and per rolling period', async () => {
    const { shop, begin } = await member(10_000);
    const twice = await createReward(db, shop.id, {
      ...fiveOff,
      pointsCost: 10,
      limitPerCustomer: 2,
    });
    const a = await begin(twice.id);
    await begin(twice.id);
    const limit = await refusal(begin(twice.id));
    expect(limit).toMatchObject({ code: ErrorCode.CONFLICT, details: { reason: 'LIMIT_REACHED' } });
    await failAndReturn(db, shop.id, a.redemption.id, 'Shopify refused the code');
    expect((await begin(twice.id)).created).toBe(true);

    const weekly = await createReward(db, shop.id, {
      ...fiveOff,
      pointsCost: 10,
      limitPerPeriod: { count: 1, days: 7 },
    });
    await begin(weekly.id, { now: NOW });
    const sixDays = new Date(NOW.getTime() + 6 * DAY);
    expect(await refusal(begin(weekly.id, { now: sixDays }))).toMatchObject({
      code: ErrorCode.CONFLICT,
      details: { reason: 'PERIOD_LIMIT_REACHED' },
    });
    expect((await begin(weekly.id, { now: new Date(NOW.getTime() + 7 * DAY + 1) })).created).toBe(
      true,
    );
  });

  it('failAndReturn gives the points back once, saying why, and closes the redemption', async () => {
    const { shop, customerId, begin } = await member(1000);
    const reward = await createReward(db, shop.id, fiveOff);
    const { redemption } = await begin(reward.id);
    const later = new Date(NOW.getTime() + 60_000);
    const first = await failAndReturn(db, shop.id, redemption.id, 'Code must be unique', later);
    expect(first.returned).toBe(true);
    expect(first.redemption).toMatchObject({
      status: 'failed',
      failureReason: 'Code must be unique',
      closedAt: later,
    });
    const ret = await findEntryByKey(db, shop.id, `redemption:${redemption.id}:return`);
    expect(ret).toMatchObject({
      id: first.redemption.returnEntryId,
      source: 'redemption',
      points: 500,
      reversesEntryId: redemption.debitEntryId,
      inputs: { redemptionId: redemption.id, reason: 'Code must be unique', status: 'failed' },
    });
    const again = await failAndReturn(db, shop.id, redemption.id, 'another reason');
    expect(again).toEqual({ redemption: first.redemption, returned: false });
    expect(await balanceOf(db, shop.id, customerId)).toEqual({
      balance: 1000,
      lifetimeEarned: 1000,
    });
    expect(await sumOfEntries(db, shop.id, customerId)).toEqual({
      balance: 1000,
      lifetimeEarned: 1000,
    });
    // A failed redemption never becomes issued, and is not refunded on expiry.
    expect(
      (await refusal(markIssued(db, shop.id, redemption.id, { discountId: 'd', issuedAt: NOW })))
        .code,
    ).toBe(ErrorCode.CONFLICT);
    expect(
      (await refusal(returnPoints(db, shop.id, redemption.id, { status: 'refunded', reason: 'x' })))
        .code,
    ).toBe(ErrorCode.CONFLICT);
  });

  it('status changes are guarded: issued once, credited once, refunded only from issued', async () => {
    const { shop, customerId, begin } = await member(5000);
    const reward = await createReward(db, shop.id, fiveOff);
    const { redemption } = await begin(reward.id);
    const gid = 'gid://shopify/DiscountCodeNode/1';
    const issued = await markIssued(db, shop.id, redemption.id, { discountId: gid, issuedAt: NOW });
    expect(issued).toMatchObject({ status: 'issued', shopifyDiscountId: gid, issuedAt: NOW });
    // Repeating the same outcome is harmless; another discount is a conflict.
    expect(
      (await markIssued(db, shop.id, redemption.id, { discountId: gid, issuedAt: NOW })).id,
    ).toBe(redemption.id);
    expect(
      (
        await refusal(
          markIssued(db, shop.id, redemption.id, { discountId: 'other', issuedAt: NOW }),
        )
      ).code,
    ).toBe(ErrorCode.CONFLICT);
    expect((await refusal(failAndReturn(db, shop.id, redemption.id, 'late'))).code).toBe(
      ErrorCode.CONFLICT,
    );
    const refunded = await returnPoints(db, shop.id, redemption.id, {
      status: 'refunded',
      reason: 'code expired unused',
    });
    expect(refunded.redemption).toMatchObject({ status: 'refunded', failureReason: null });
    expect(await balanceOf(db, shop.id, customerId)).toEqual({
      balance: 5000,
      lifetimeEarned: 5000,
    });

    const c = await begin((await createReward(db, shop.id, credit)).id);
    const credited = await markCredited(db, shop.id, c.redemption.id, {
      storeCreditTransactionId: 'gid://shopify/StoreCreditAccountCreditTransaction/9',
      issuedAt: NOW,
    });
    expect(credited).toMatchObject({ status: 'credited', closedAt: NOW });
    expect(
      (
        await refusal(
          markCredited(db, shop.id, c.redemption.id, {
            storeCreditTransactionId: 'other',
            issuedAt: NOW,
          }),
        )
      ).code,
    ).toBe(ErrorCode.CONFLICT);
    // Another shop cannot touch it.
    const other = await member(0);
    expect((await refusal(failAndReturn(db, other.shop.id, c.redemption.id, 'x'))).code).toBe(
      ErrorCode.NOT_FOUND,
    );
  });

  it('one caller at a time may take a pending redemption to Shopify, and only once it is idle', async () => {
    const { shop, begin } = await member(5000);
    const reward = await createReward(db, shop.id, fiveOff);
    const { redemption } = await begin(reward.id);
    const future = new Date(Date.now() + 60_000);
    expect(await claimPending(db, shop.id, redemption.id, new Date(Date.now() - 60_000))).toBe(
      undefined,
    );
    const claims = await Promise.all(
      Array.from({ length: 5 }, () =>
        claimPending(db, shop.id, redemption.id, new Date(Date.now() - 1)),
      ),
    );
    // Rows touched since `idleBefore` are not taken; at most the first idle claim wins.
    expect(claims.filter(Boolean).length).toBeLessThanOrEqual(1);
    await db
      .update(redemptions)
      .set({ updatedAt: new Date(Date.now() - 10 * 60_000) })
      .where(eq(redemptions.id, redemption.id));
    expect(
      await stalePending(db, shop.id, { idleBefore: future, maxAttempts: 5, limit: 10 }),
    ).toHaveLength(1);
    expect((await shopsWithStalePending(db, future, 5)).map((s) => s.shopId)).toContain(shop.id);
    const both = await Promise.all([
      claimPending(db, shop.id, redemption.id, new Date(Date.now() - 60_000)),
      claimPending(db, shop.id, redemption.id, new Date(Date.now() - 60_000)),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    const claimed = both.find(Boolean)!;
    expect(claimed.attempts).toBe(redemption.attempts + 1 + claims.filter(Boolean).length);
    expect(
      await stalePending(db, shop.id, {
        idleBefore: future,
        maxAttempts: claimed.attempts,
        limit: 10,
      }),
    ).toEqual([]);
  });

  if (kind === 'postgres') {
    it('never overspends under concurrency, and one request id debits once', async () => {
      const { shop, customerId } = await member(5000);
      const reward = await createReward(db, shop.id, fiveOff);
      const attempts = Array.from({ length: 30 }, () =>
        beginRedemption(db, shop.id, {
          customerId,
          rewardId: reward.id,
          requestId: requestId(),
          now: NOW,
        }).then(
          () => 'ok',
          (e: AppError) => e.code,
        ),
      );
      const outcomes = await Promise.all(attempts);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(10);
      expect(outcomes.filter((o) => o === ErrorCode.INSUFFICIENT_BALANCE)).toHaveLength(20);
      expect(await balanceOf(db, shop.id, customerId)).toEqual({
        balance: 0,
        lifetimeEarned: 5000,
      });

      const twin = await member(5000);
      const twinReward = await createReward(db, twin.shop.id, fiveOff);
      const id = requestId();
      const same = await Promise.all(
        Array.from({ length: 8 }, () =>
          beginRedemption(db, twin.shop.id, {
            customerId: twin.customerId,
            rewardId: twinReward.id,
            requestId: id,
            now: NOW,
          }),
        ),
      );
      expect(new Set(same.map((r) => r.redemption.id)).size).toBe(1);
      expect(same.filter((r) => r.created)).toHaveLength(1);
      const debits = await db
        .select()
        .from(ledgerEntries)
        .where(and(eq(ledgerEntries.shopId, twin.shop.id), eq(ledgerEntries.source, 'redemption')));
      expect(debits).toHaveLength(1);
      expect((await getRedemption(db, twin.shop.id, same[0]!.redemption.id))!.status).toBe(
        'pending',
      );
    });
  }
});
