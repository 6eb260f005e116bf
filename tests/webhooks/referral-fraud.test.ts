// The referral fraud rules through signed webhooks (docs/referrals.md, "Fraud rules"): each holds or
// rejects the referral with its reason, and posts nothing; held referrals are reviewed once; a
// redacted friend's contact fingerprints and IP hash are forgotten.
import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { AppError, ErrorCode } from '../../app/errors';
import { fingerprint, fingerprintKeyOf } from '../../app/models/fingerprints.server';
import { recordReferralClick } from '../../app/models/referral-codes.server';
import { referralEntries, reviewReferral } from '../../app/models/referrals.server';
import { customerFingerprints } from '../../db/schema';
import { customersRedactPayload } from '../../dev/shopify-payloads';
import {
  customerBody,
  openReferralStack,
  orderBody,
  person,
  refundBody,
  type Person,
  type ReferralStack,
} from '../helpers/referrals';

let stack: ReferralStack;
beforeEach(async () => {
  stack = await openReferralStack();
});
afterEach(async () => {
  await stack.close();
});

const ada = person(1, { email: 'ada.lovelace@gmail.com' });
const bob = person(2);

/** Ada (a member) shares her code; `friend` orders with it. Returns the referral and Ada's gain. */
async function referred(friend: Person, order: Partial<Parameters<typeof orderBody>[1]> = {}) {
  await stack.deliver('customers/create', customerBody(ada));
  const code = await stack.codeOf(ada);
  const before = await stack.balance(ada);
  const id = order.id ?? 5201;
  await stack.deliver('orders/paid', orderBody(friend, { id, code, ...order }));
  const referral = (await stack.referral(id))!;
  return { referral, gained: (await stack.balance(ada)) - before, code };
}

describe('each fraud rule records its reason, and nothing is posted', () => {
  it('same customer: the member used their own code', async () => {
    const { referral, gained } = await referred(ada);
    expect(referral).toMatchObject({
      status: 'rejected',
      reasons: [{ rule: 'same_customer', action: 'reject', detail: 'the friend is the referrer' }],
    });
    expect(gained).toBe(0);
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toEqual([]);
  });

  it('same email: another account on an alias of the referrer’s Gmail mailbox', async () => {
    const alias = person(2, { email: 'Ada.Lovelace+friend@googlemail.com' });
    await stack.deliver('customers/create', customerBody(alias));
    const { referral, gained } = await referred(alias);
    expect(referral).toMatchObject({
      status: 'rejected',
      reasons: [
        {
          rule: 'same_email',
          action: 'reject',
          detail: "the friend's email reaches the referrer's mailbox",
        },
      ],
    });
    expect(gained).toBe(0);
  });

  it('same address: the friend ships to the referrer’s home, written differently', async () => {
    const shipTo = person(1, {
      address: { ...ada.address, address1: ada.address.address1.toUpperCase() + '.' },
    });
    const { referral, gained } = await referred(bob, { shipTo });
    expect(referral).toMatchObject({
      status: 'held',
      rewardPoints: 0,
      reasons: [
        {
          rule: 'same_address',
          action: 'hold',
          detail: 'the friend ships to an address the referrer uses',
        },
      ],
    });
    expect(gained).toBe(0);
  });

  it('same phone: the friend’s account phone is the referrer’s, formatted otherwise', async () => {
    const samePhone = person(2, { phone: '(613) 555-' + ada.phone.slice(-4) });
    await stack.deliver('customers/create', customerBody(samePhone));
    const { referral } = await referred(samePhone);
    expect(referral).toMatchObject({
      status: 'held',
      reasons: [{ rule: 'same_phone', action: 'hold' }],
    });
  });

  it('already a customer: the friend had paid orders before', async () => {
    await stack.deliver(
      'orders/paid',
      orderBody(bob, { id: 5200, processedAt: '2026-02-01T10:00:00Z' }),
    );
    const { referral } = await referred(bob);
    expect(referral).toMatchObject({
      status: 'rejected',
      reasons: [
        { rule: 'existing_customer', action: 'reject', detail: 'the friend had 1 earlier order' },
      ],
    });
  });

  it('referrer limit: more referrals than the program allows in the period are held', async () => {
    const first = await referred(person(11), { id: 5211 });
    for (const [n, id, day] of [
      [12, 5212, '2026-03-20'],
      [13, 5213, '2026-04-10'],
    ] as const) {
      await stack.deliver(
        'orders/paid',
        orderBody(person(n), { id, code: first.code, processedAt: `${day}T10:00:00Z` }),
      );
    }
    expect((await stack.referral(5212))!.status).toBe('rewarded');
    // Two in the 30 days before April 10 (March 14 and 20): the limit.
    expect(await stack.referral(5213)).toMatchObject({
      status: 'held',
      reasons: [
        {
          rule: 'referrer_limit',
          action: 'hold',
          detail: 'the referrer already had 2 referrals in 30 days (limit 2)',
        },
      ],
    });
    // A month later the window has moved on.
    await stack.deliver(
      'orders/paid',
      orderBody(person(14), { id: 5214, code: first.code, processedAt: '2026-05-15T10:00:00Z' }),
    );
    expect((await stack.referral(5214))!.status).toBe('rewarded');
  });

  it('IP limit: landings from the order’s IP address, or referred orders from it, above the limit', async () => {
    const ip = '203.0.113.99';
    await stack.deliver('customers/create', customerBody(ada));
    const code = await stack.codeOf(ada);
    const key = await fingerprintKeyOf(stack.db, stack.shop.id);
    for (let i = 0; i < 2; i++) {
      await recordReferralClick(stack.db, stack.shop.id, {
        codeId: null,
        ipHash: fingerprint(key, 'ip', ip),
        outcome: 'unknown_code',
        at: new Date('2026-03-14T09:00:00Z'),
      });
    }
    await stack.deliver('orders/paid', orderBody(person(21, { ip }), { id: 5221, code }));
    expect(await stack.referral(5221)).toMatchObject({
      status: 'held',
      ipHash: fingerprint(key, 'ip', ip),
      reasons: [
        {
          rule: 'ip_limit',
          action: 'hold',
          detail:
            "2 referral landings or orders came from the order's IP address in 1 days (limit 2)",
        },
      ],
    });
    // Referred orders from one IP count without any landing: the third from 192.0.2.7 is held.
    const other = '192.0.2.7';
    for (const [n, id] of [
      [22, 5222],
      [23, 5223],
      [24, 5224],
    ] as const) {
      await stack.deliver('orders/paid', orderBody(person(n, { ip: other }), { id, code }));
    }
    expect((await stack.referral(5223))!.reasons.map((r) => r.rule)).not.toContain('ip_limit');
    expect((await stack.referral(5224))!.reasons.map((r) => r.rule)).toContain('ip_limit');
  });
});

describe('review of held referrals', () => {
  async function held(friend: Person, id: number) {
    await stack.deliver('customers/create', customerBody(ada)).catch(() => undefined);
    const code = await stack.codeOf(ada);
    await stack.deliver('orders/paid', orderBody(friend, { id, code, shipTo: ada }));
    const referral = (await stack.referral(id))!;
    expect(referral.status).toBe('held');
    return referral;
  }
  const at = new Date('2026-03-21T12:00:00Z');

  it('approve rewards the referrer then, once; a second decision is a conflict', async () => {
    const referral = await held(bob, 5301);
    const before = await stack.balance(ada);
    const approved = await reviewReferral(
      stack.db,
      stack.shop,
      referral.id,
      { action: 'approve', staff: 'Grace (staff)', note: 'Bob is her flatmate, we checked' },
      at,
    );
    expect(approved).toMatchObject({
      status: 'rewarded',
      rewardPoints: 500,
      reviewedBy: 'Grace (staff)',
      reviewedAt: at,
      reasons: [
        { rule: 'same_address', action: 'hold' },
        {
          rule: 'review',
          action: 'approve',
          detail: 'approved by Grace (staff): Bob is her flatmate, we checked',
        },
      ],
    });
    expect(await stack.balance(ada)).toBe(before + 500);
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toMatchObject([
      { idempotencyKey: `referral:${referral.id}:reward`, points: 500, occurredAt: at },
    ]);
    for (const action of ['approve', 'reject'] as const) {
      await expect(
        reviewReferral(stack.db, stack.shop, referral.id, { action, staff: 'Grace' }),
      ).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    }
    expect(await stack.balance(ada)).toBe(before + 500);
    // The approved reward is reversed like any other when the order is refunded in the window.
    const order = orderBody(bob, { id: 5301, code: await stack.codeOf(ada), shipTo: ada });
    await stack.deliver('refunds/create', refundBody(order, 6301, '50.00', '2026-03-25T10:00:00Z'));
    expect((await stack.referral(5301))!.status).toBe('reversed');
    expect(await stack.balance(ada)).toBe(before);
  });

  it('reject rejects, posting nothing', async () => {
    const referral = await held(bob, 5311);
    const rejected = await reviewReferral(stack.db, stack.shop, referral.id, {
      action: 'reject',
      staff: 'Grace',
    });
    expect(rejected).toMatchObject({
      status: 'rejected',
      reviewedBy: 'Grace',
      reasons: [
        { rule: 'same_address' },
        { rule: 'review', action: 'reject', detail: 'rejected by Grace' },
      ],
    });
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toEqual([]);
  });

  it('approving an order refunded since rejects it, with the reason', async () => {
    const referral = await held(bob, 5321);
    const order = orderBody(bob, { id: 5321, code: await stack.codeOf(ada), shipTo: ada });
    await stack.deliver('refunds/create', refundBody(order, 6321, '35.00', '2026-03-16T10:00:00Z'));
    expect((await stack.referral(5321))!.status).toBe('held');
    const decided = await reviewReferral(stack.db, stack.shop, referral.id, {
      action: 'approve',
      staff: 'Grace',
    });
    expect(decided.status).toBe('rejected');
    expect(decided.reasons.at(-1)).toEqual({
      rule: 'review',
      action: 'reject',
      detail:
        'approved by Grace, but the order was since refunded to $15.00, below the minimum: not rewarded',
    });
    expect(await referralEntries(stack.db, stack.shop.id, referral.id)).toEqual([]);
  });

  it('concurrent approve and reject: one wins, the other gets CONFLICT', async () => {
    const referral = await held(bob, 5331);
    const before = await stack.balance(ada);
    const results = await Promise.allSettled([
      reviewReferral(stack.db, stack.shop, referral.id, { action: 'approve', staff: 'Grace' }),
      reviewReferral(stack.db, stack.shop, referral.id, { action: 'reject', staff: 'Alan' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.CONFLICT });
    const final = (await stack.referral(5331))!;
    expect(final.reasons.filter((r) => r.rule === 'review')).toHaveLength(1);
    expect(await stack.balance(ada)).toBe(before + (final.status === 'rewarded' ? 500 : 0));
  });

  it('answers NOT_FOUND for another shop’s referral and VALIDATION for a bad decision', async () => {
    const referral = await held(bob, 5341);
    const elsewhere = await stack.newShop();
    await expect(
      reviewReferral(stack.db, elsewhere, referral.id, { action: 'approve', staff: 'Grace' }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(
      reviewReferral(stack.db, stack.shop, 999_999, { action: 'reject', staff: 'Grace' }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    for (const decision of [
      { action: 'maybe', staff: 'Grace' },
      { action: 'approve', staff: '  ' },
      { action: 'approve', staff: 'Grace', note: 'x'.repeat(501) },
    ]) {
      const error = await reviewReferral(
        stack.db,
        stack.shop,
        referral.id,
        decision as Parameters<typeof reviewReferral>[3],
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: ErrorCode.VALIDATION });
    }
    expect((await stack.referral(5341))!.status).toBe('held');
  });
});

describe('privacy', () => {
  it('keeps contact details only as keyed hashes, and forgets them when the friend is redacted', async () => {
    const { referral } = await referred(bob);
    const bobId = await stack.customerId(bob);
    const prints = await stack.db
      .select()
      .from(customerFingerprints)
      .where(
        and(
          eq(customerFingerprints.shopId, stack.shop.id),
          eq(customerFingerprints.customerId, bobId),
        ),
      );
    expect(new Set(prints.map((p) => p.kind))).toEqual(new Set(['email', 'address', 'phone']));
    const stored = JSON.stringify(prints);
    for (const secret of [bob.email, bob.address.address1, bob.phone.slice(-4), bob.ip]) {
      expect(stored).not.toContain(secret);
    }
    expect(referral.ipHash).toMatch(/^[0-9a-f]{32}$/);

    await stack.deliver(
      'customers/redact',
      customersRedactPayload({
        shopDomain: stack.shop.domain,
        customer: { id: bob.id, email: bob.email, phone: bob.phone },
        ordersToRedact: [5201],
      }),
    );
    expect(
      await stack.db
        .select()
        .from(customerFingerprints)
        .where(eq(customerFingerprints.customerId, bobId)),
    ).toEqual([]);
    expect(await stack.referral(5201)).toMatchObject({ status: 'rewarded', ipHash: null });
    // A late delivery of Bob's order records nothing of him again.
    await stack.deliver('orders/paid', orderBody(bob, { id: 5201, code: 'x' }));
    expect(
      await stack.db
        .select()
        .from(customerFingerprints)
        .where(eq(customerFingerprints.customerId, bobId)),
    ).toEqual([]);
  });
});
