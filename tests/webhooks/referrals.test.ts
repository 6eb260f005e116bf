// Referrals through signed webhooks, end to end (docs/referrals.md): the friend's customers/create,
// orders/paid with the referrer's friend code, refunds and cancellations — each POSTed to its route
// and processed as the worker does. Attribution needs no landing visit (a device switch) and no
// cookie; bad input has a clear outcome and nothing is posted twice.
import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { entriesFor } from '../../app/models/ledger.server';
import { historyPage } from '../../app/models/history.server';
import { publishReferralProgram } from '../../app/models/referral-programs.server';
import { referralEntries, referralRewardKey } from '../../app/models/referrals.server';
import { referralClicks, shops } from '../../db/schema';
import { explainEntry } from '../../loyalty/explain';
import {
  cancelledOrderPayload,
  customerBody,
  openReferralStack,
  orderBody,
  person,
  refundBody,
  TEST_PROGRAM,
  type ReferralStack,
} from '../helpers/referrals';

let stack: ReferralStack;
beforeEach(async () => {
  stack = await openReferralStack();
});
afterEach(async () => {
  await stack.close();
});

const ada = person(1);
const bob = person(2);
const cleo = person(3);

/** Ada is a member with a friend code; returns it. */
async function adaShares(): Promise<string> {
  await stack.deliver('customers/create', customerBody(ada));
  return stack.codeOf(ada);
}

describe('a referred friend’s first order', () => {
  it('rewards the referrer once, survives redelivery, and a refund in the window takes it back', async () => {
    const code = await adaShares();
    await stack.deliver('customers/create', customerBody(bob));
    const before = await stack.balance(ada);

    const order = orderBody(bob, { id: 5001, code: code.toLowerCase() });
    const webhookId = 'paid-5001';
    const { outcome } = await stack.deliver('orders/paid', order, { webhookId });
    const referral = (await stack.referral(5001))!;
    expect(outcome).toMatchObject({
      status: 'processed',
      summary: { referral: { id: referral.id, status: 'rewarded' } },
    });
    expect(referral).toMatchObject({
      referrerCustomerId: await stack.customerId(ada),
      friendCustomerId: await stack.customerId(bob),
      orderName: order.name,
      discountCode: code.toLowerCase(),
      programVersion: 1,
      status: 'rewarded',
      reasons: [],
      orderAmountMinor: 5000,
      paidAt: new Date('2026-03-14T10:15:00Z'),
      rewardPoints: 500,
      ipHash: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(await stack.balance(ada)).toBe(before + 500);
    const [reward] = await referralEntries(stack.db, stack.shop.id, referral.id);
    expect(reward).toMatchObject({
      idempotencyKey: `referral:${referral.id}:reward`,
      source: 'referral',
      points: 500,
      programVersion: 1,
      occurredAt: new Date('2026-03-14T10:15:00Z'),
      inputs: {
        rule: 'referral-reward',
        referralId: referral.id,
        order: order.name,
        shopifyOrderId: '5001',
        programVersion: 1,
      },
    });

    // Shopify retrying the delivery, and the same order delivered again: nothing twice.
    expect((await stack.deliver('orders/paid', order, { webhookId })).outcome).toBeNull();
    const again = await stack.deliver('orders/paid', order);
    expect(again.outcome).toMatchObject({
      summary: { referral: { id: referral.id, status: 'rewarded' } },
    });
    expect(await stack.balance(ada)).toBe(before + 500);
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toHaveLength(1);

    // A full refund six days later, inside the 30-day window.
    const refund = refundBody(order, 6001, '50.00', '2026-03-20T09:00:00Z');
    const refunded = await stack.deliver('refunds/create', refund);
    expect(refunded.outcome).toMatchObject({
      summary: { referral: { id: referral.id, status: 'reversed' } },
    });
    expect(await stack.balance(ada)).toBe(before);
    const entries = await referralEntries(stack.db, stack.shop.id, referral.id);
    expect(entries[1]).toMatchObject({
      idempotencyKey: `referral:${referral.id}:reverse`,
      points: -500,
      reversesEntryId: entries[0]!.id,
      occurredAt: new Date('2026-03-20T09:00:00Z'),
      inputs: {
        rule: 'referral-reversal',
        reason: 'the order was refunded',
        cause: 'order-refunded',
      },
    });
    expect(await stack.referral(5001)).toMatchObject({
      status: 'reversed',
      reasons: [{ rule: 'reversal', action: 'reject', detail: 'the order was refunded' }],
    });
    await stack.deliver('refunds/create', refund);
    await stack.deliver('orders/paid', order);
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toHaveLength(2);
    expect(await stack.balance(ada)).toBe(before);

    // Ada's history says what happened, in her words.
    const history = await historyPage(stack.db, stack.shop.id, await stack.customerId(ada), {
      limit: 10,
    });
    const said = history.entries
      .filter((e) => e.source === 'referral')
      .map((e) => explainEntry(e, { locale: 'en', shopCurrency: 'USD' }));
    expect(said).toEqual([
      `Referral reversed: order ${String(order.name)} was refunded → −500 points`,
      `Referred a friend: order ${String(order.name)} → 500 points`,
    ]);
  });

  it('keeps the reward for a refund after the window, or one that leaves the minimum', async () => {
    const code = await adaShares();
    const first = orderBody(bob, { id: 5011, code });
    await stack.deliver('orders/paid', first);
    // $30.00 of $50.00 refunded in the window leaves $20.00, the minimum.
    await stack.deliver('refunds/create', refundBody(first, 6011, '30.00', '2026-03-16T09:00:00Z'));
    // The rest refunded 31 days after payment: outside the window.
    const late = await stack.deliver(
      'refunds/create',
      refundBody(first, 6012, '20.00', '2026-04-14T10:15:01Z'),
    );
    expect(late.outcome).toMatchObject({ status: 'processed' });
    expect(late.outcome).not.toMatchObject({ summary: { referral: expect.anything() } });
    const referral = (await stack.referral(5011))!;
    expect(referral.status).toBe('rewarded');
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toHaveLength(1);
  });

  it('takes it back when the order is cancelled in the window, whichever delivery comes first', async () => {
    const code = await adaShares();
    const before = await stack.balance(ada);
    const order = orderBody(bob, { id: 5021, code });
    const cancelled = cancelledOrderPayload(order, { cancelledAt: '2026-03-15T10:00:00Z' });
    // The cancellation arrives before orders/paid: the referral is made, then undone, at once.
    await stack.deliver('orders/cancelled', cancelled);
    const paid = await stack.deliver('orders/paid', order);
    const referral = (await stack.referral(5021))!;
    expect(paid.outcome).toMatchObject({
      summary: { referral: { id: referral.id, status: 'reversed' } },
    });
    expect(referral.reasons).toEqual([
      { rule: 'reversal', action: 'reject', detail: 'the order was cancelled' },
    ]);
    expect(await stack.balance(ada)).toBe(before);
    const [, reversal] = await referralEntries(stack.db, stack.shop.id, referral.id);
    expect(reversal).toMatchObject({ points: -500, inputs: { cause: 'order-cancelled' } });

    // In the usual order, and cancelled after the window: kept.
    const later = orderBody(cleo, { id: 5022, code });
    await stack.deliver('orders/paid', later);
    await stack.deliver(
      'orders/cancelled',
      cancelledOrderPayload(later, { cancelledAt: '2026-04-20T10:00:00Z' }),
    );
    expect((await stack.referral(5022))!.status).toBe('rewarded');
  });

  it('is attributed with no landing visit, from a typed code, on any device — a guest order too', async () => {
    const code = await adaShares();
    const clicks = await stack.db
      .select({ n: count() })
      .from(referralClicks)
      .where(eq(referralClicks.shopId, stack.shop.id));
    expect(clicks).toEqual([{ n: 0 }]);
    // Bob never clicked the link: he typed the code on his phone, as a guest, from another IP.
    const order = orderBody(bob, { id: 5031, code: ` ${code} `, guest: true, ip: '192.0.2.200' });
    const { outcome } = await stack.deliver('orders/paid', order);
    expect(outcome).toMatchObject({ summary: { referral: { status: 'rewarded' } } });
    expect(await stack.referral(5031)).toMatchObject({
      friendCustomerId: null,
      status: 'rewarded',
    });
    // Bob makes an account later: it claims the guest order, and the referral names him.
    await stack.deliver('customers/create', customerBody(bob));
    expect(await stack.referral(5031)).toMatchObject({
      friendCustomerId: await stack.customerId(bob),
      status: 'rewarded',
    });
  });
});

describe('bad input has a clear outcome', () => {
  it('an unknown code, or another shop’s, is no referral', async () => {
    const code = await adaShares();
    const elsewhere = await stack.newShop();
    const { outcome } = await stack.deliver(
      'orders/paid',
      orderBody(bob, { id: 5101, code: 'FRIEND-ZZZZZZZZ' }),
    );
    expect(outcome).toMatchObject({ status: 'processed' });
    expect(outcome).not.toMatchObject({ summary: { referral: expect.anything() } });
    // Ada's code used at another merchant's store.
    await stack.deliver('orders/paid', orderBody(cleo, { id: 5102, code }), { shop: elsewhere });
    expect(await stack.referral(5101)).toBeUndefined();
    expect(await stack.referral(5102, elsewhere)).toBeUndefined();
    expect(await stack.referral(5102)).toBeUndefined();
  });

  it('an order paid while the program was off, or before there was one, is rejected and posts nothing', async () => {
    const code = await adaShares();
    await publishReferralProgram(
      stack.db,
      stack.shop.id,
      { ...TEST_PROGRAM, enabled: false },
      new Date('2026-04-01T00:00:00Z'),
    );
    const before = await stack.balance(ada);
    // Paid under version 1 (on), then under version 2 (off).
    await stack.deliver('orders/paid', orderBody(bob, { id: 5111, code }));
    await stack.deliver(
      'orders/paid',
      orderBody(cleo, { id: 5112, code, processedAt: '2026-04-02T12:00:00Z' }),
    );
    expect(await stack.referral(5111)).toMatchObject({ status: 'rewarded', programVersion: 1 });
    expect(await stack.referral(5112)).toMatchObject({
      status: 'rejected',
      programVersion: 2,
      rewardPoints: 0,
      reasons: [
        {
          rule: 'program_disabled',
          action: 'reject',
          detail: 'the referral program was off when the order was paid',
        },
      ],
    });
    // Before the first version was in force.
    await stack.deliver(
      'orders/paid',
      orderBody(person(4), { id: 5113, code, processedAt: '2025-12-31T23:59:59Z' }),
    );
    expect(await stack.referral(5113)).toMatchObject({
      status: 'rejected',
      programVersion: 0,
      reasons: [{ rule: 'program_disabled', detail: expect.stringMatching(/no referral program/) }],
    });
    expect(await stack.balance(ada)).toBe(before + 500);
  });

  it('a second friend may use the same code; the same friend’s second order is no new reward', async () => {
    const code = await adaShares();
    const before = await stack.balance(ada);
    await stack.deliver('orders/paid', orderBody(bob, { id: 5121, code }));
    await stack.deliver('orders/paid', orderBody(cleo, { id: 5122, code }));
    expect((await stack.referral(5121))!.status).toBe('rewarded');
    expect((await stack.referral(5122))!.status).toBe('rewarded');
    expect(await stack.balance(ada)).toBe(before + 1000);

    // Bob orders again with the code (a second account-less checkout, a code that slipped through).
    await stack.deliver(
      'orders/paid',
      orderBody(bob, { id: 5123, code, processedAt: '2026-03-18T10:00:00Z' }),
    );
    expect(await stack.referral(5123)).toMatchObject({
      status: 'rejected',
      reasons: [
        { rule: 'not_first_order', action: 'reject' },
        { rule: 'existing_customer', action: 'reject', detail: 'the friend had 1 earlier order' },
        // Every matching rule is listed, holds after rejections.
        { rule: 'referrer_limit', action: 'hold', detail: expect.stringMatching(/limit 2/) },
      ],
    });
    // …and without it: an order, not a referral.
    await stack.deliver(
      'orders/paid',
      orderBody(bob, { id: 5124, processedAt: '2026-03-19T10:00:00Z' }),
    );
    expect(await stack.referral(5124)).toBeUndefined();
    expect(await stack.balance(ada)).toBe(before + 1000);
  });

  it('two orders of one friend in one batch are referred once: the earlier one', async () => {
    const code = await adaShares();
    const before = await stack.balance(ada);
    // Delivered latest first, processed together as a busy worker does.
    const results = await stack.deliverBatch([
      ['orders/paid', orderBody(bob, { id: 5132, code, processedAt: '2026-03-15T10:00:00Z' })],
      ['orders/paid', orderBody(bob, { id: 5131, code })],
    ]);
    expect([...results.values()].map((r) => r.status)).toEqual(['processed', 'processed']);
    expect((await stack.referral(5131))!.status).toBe('rewarded');
    expect(await stack.referral(5132)).toMatchObject({
      status: 'rejected',
      reasons: [{ rule: 'not_first_order' }, { rule: 'existing_customer' }],
    });
    expect(await stack.balance(ada)).toBe(before + 500);
  });

  it('two friends of one referrer in one batch count towards the limit in time order', async () => {
    const code = await adaShares();
    const friends = [2, 3, 4].map((n) => person(n));
    await stack.deliverBatch(
      friends.map((friend, i) => [
        'orders/paid',
        orderBody(friend, { id: 5150 + i, code, processedAt: `2026-03-1${6 - i}T10:00:00Z` }),
      ]),
    );
    // The limit is 2 in 30 days: the latest of the three is held.
    expect((await stack.referral(5152))!.status).toBe('rewarded');
    expect((await stack.referral(5151))!.status).toBe('rewarded');
    expect(await stack.referral(5150)).toMatchObject({
      status: 'held',
      reasons: [{ rule: 'referrer_limit', action: 'hold' }],
    });
  });

  it('concurrent batches where a friend is also a referrer all commit, each reward once', async () => {
    const adaCode = await adaShares();
    await stack.deliver('customers/create', customerBody(bob));
    const bobCode = await stack.codeOf(bob);
    const before = { ada: await stack.balance(ada), bob: await stack.balance(bob) };
    // Concurrent batches: Bob buys with Ada's code while Cleo buys with Bob's, and Ada again.
    await Promise.all([
      stack.deliverBatch([['orders/paid', orderBody(bob, { id: 5161, code: adaCode })]]),
      stack.deliverBatch([['orders/paid', orderBody(cleo, { id: 5162, code: bobCode })]]),
      stack.deliverBatch([
        [
          'refunds/create',
          refundBody(orderBody(bob, { id: 5161 }), 6161, '1.00', '2026-03-15T10:00:00Z'),
        ],
      ]),
    ]);
    expect((await stack.referral(5161))!.status).toBe('rewarded');
    expect((await stack.referral(5162))!.status).toBe('rewarded');
    expect(await stack.balance(ada)).toBe(before.ada + 500);
    expect(await stack.balance(bob)).toBe(before.bob + 500);
  });

  it('a test order is not a referral unless the shop counts test orders', async () => {
    const code = await adaShares();
    await stack.deliver('orders/paid', orderBody(bob, { id: 5141, code, test: true }));
    expect(await stack.referral(5141)).toBeUndefined();
    await stack.db.update(shops).set({ testOrdersEarn: true }).where(eq(shops.id, stack.shop.id));
    await stack.deliver('orders/paid', orderBody(cleo, { id: 5142, code, test: true }));
    expect((await stack.referral(5142))!.status).toBe('rewarded');
    const ledger = await entriesFor(stack.db, stack.shop.id, await stack.customerId(ada));
    expect(ledger.map((e) => e.idempotencyKey)).toContain(
      referralRewardKey((await stack.referral(5142))!.id),
    );
  });
});
