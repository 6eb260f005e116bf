/**
 * The rewards routes of the app proxy through the real HTTP server (dist/server.mjs) with signed
 * queries, its Admin API calls answered by the emulator: every status of the contract
 * (docs/storefront-api.md), every reward type issued end to end (the code exists at Shopify,
 * restricted to the shopper, single use, expiring), and Shopify's failures — a refusal gives the
 * points back with an entry that says why, THROTTLED is retried, a lost answer is reconciled into
 * exactly one discount.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRedemption } from '../../app/models/redemptions.server';
import { setRewardArchived } from '../../app/models/rewards.server';
import { ensureShop } from '../../app/models/shops.server';
import { createReward } from '../../app/models/rewards.server';
import { signedProxyQuery } from '../helpers/storefront';
import { openRedeemStack, requestId, type Member, type RedeemStack } from './redeem-stack';

const CODE = /^LRL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;
const DAY = 86_400_000;

const fiveOff = { type: 'fixed_amount', title: '$5 off', pointsCost: 500, amountMinor: 500 };

let stack: RedeemStack;
beforeAll(async () => {
  stack = await openRedeemStack();
}, 300_000);
afterAll(async () => {
  await stack?.close();
});

/** The discount the emulator holds for `code`, and how many discounts carry it. */
function discountAt(code: string) {
  const all = [...stack.emulator.state.snapshot(stack.shop.domain).discounts.values()];
  return {
    discount: stack.emulator.state.discountByCode(stack.shop.domain, code),
    count: all.filter((d) => d.code.toUpperCase() === code.toUpperCase()).length,
  };
}

describe('POST /apps/loyalty/redeem: every reward type, end to end', () => {
  let ada: Member;
  const ids: Record<string, number> = {};
  let variant: string;
  beforeAll(async () => {
    ada = await stack.member(20_000);
    variant = stack.emulator.state.addProduct(stack.shop.domain, {
      title: 'Tea',
      variants: [{ priceMinor: 1250 }],
    }).variantGids[0]!;
    ids.fixed = await stack.reward({ ...fiveOff, minimumOrderMinor: 2500, expiryDays: 14 });
    ids.percentage = await stack.reward({
      type: 'percentage',
      title: '10% off',
      pointsCost: 800,
      percentage: 10,
    });
    ids.shipping = await stack.reward({
      type: 'free_shipping',
      title: 'Free shipping',
      pointsCost: 300,
    });
    ids.product = await stack.reward({
      type: 'free_product',
      title: 'A free tea',
      pointsCost: 1000,
      variantId: variant,
    });
    ids.credit = await stack.reward({
      type: 'store_credit',
      title: '$10 credit',
      pointsCost: 1000,
      amountMinor: 1000,
    });
    ids.slider = await stack.reward({
      type: 'points_slider',
      title: 'Points off',
      slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 5000, stepPoints: 100 },
    });
  });

  /** Redeems, expects 200 issued with a code restricted to Ada, single use, expiring; returns it. */
  async function issued(rewardId: number, points?: number) {
    const answer = await stack.redeem(ada, {
      rewardId: String(rewardId),
      requestId: requestId(),
      ...(points !== undefined ? { points } : {}),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.headers.get('Cache-Control')).toBe('private, no-store');
    const r = answer.body.redemption!;
    expect(r.status).toBe('issued');
    expect(r.code).toMatch(CODE);
    const { discount, count } = discountAt(r.code!);
    expect(count).toBe(1);
    expect(discount).toMatchObject({
      buyers: { kind: 'customers', customerIds: [Number(ada.shopifyId)] },
      viaCustomerSelection: false,
      usageLimit: 1,
      appliesOncePerCustomer: true,
    });
    // Shopify keeps whole seconds: the code ends at the redemption's expiry.
    expect(discount!.endsAt).toBe(Math.floor(Date.parse(r.expiresAt!) / 1000) * 1000);
    return { answer, redemption: r, discount: discount! };
  }

  it('fixed amount: $5 off the order, with the minimum order, for 14 days', async () => {
    const { answer, redemption, discount } = await issued(ids.fixed!);
    expect(redemption).toMatchObject({
      points: 500,
      value: { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' },
    });
    expect(discount).toMatchObject({
      kind: 'basic',
      title: '$5 off',
      value: { kind: 'amount', amountMinor: 500 },
      items: { kind: 'all' },
      minimumSubtotalMinor: 2500,
    });
    const row = (await getRedemption(stack.db.db, stack.shop.id, Number(redemption.id)))!;
    expect(row.expiresAt!.getTime() - row.createdAt.getTime()).toBe(14 * DAY);
    expect(row.shopifyDiscountId).toBe(`gid://shopify/DiscountCodeNode/${discount.id}`);
    expect(answer.body.balance).toBe((await stack.balances(ada)).projection);
  });

  it('percentage: 10% off the order', async () => {
    const { discount, redemption } = await issued(ids.percentage!);
    expect(redemption.value).toEqual({ kind: 'percentage_off_order', percentage: 10 });
    expect(discount).toMatchObject({
      kind: 'basic',
      value: { kind: 'percentage', percentage: 0.1 },
    });
  });

  it('free shipping', async () => {
    const { discount, redemption } = await issued(ids.shipping!);
    expect(redemption.value).toEqual({ kind: 'free_shipping' });
    expect(discount).toMatchObject({ kind: 'free_shipping', destination: { kind: 'all' } });
  });

  it('free product: one tea free', async () => {
    const { discount, redemption } = await issued(ids.product!);
    expect(redemption.value).toEqual({ kind: 'free_product', variantId: variant });
    expect(discount).toMatchObject({
      kind: 'basic',
      value: { kind: 'amount', amountMinor: 1250 },
      items: { kind: 'products', variantIds: [Number(variant.split('/').at(-1))] },
    });
  });

  it('points slider: the chosen points in money, whole cents', async () => {
    const { discount, redemption } = await issued(ids.slider!, 1300);
    expect(redemption).toMatchObject({
      points: 1300,
      value: { kind: 'amount_off_order', amountMinor: 1300, currency: 'USD' },
    });
    expect(discount).toMatchObject({ value: { kind: 'amount', amountMinor: 1300 } });
  });

  it('store credit: credited to the shopper, no code', async () => {
    const before = stack.emulator.state.storeCreditBalance(stack.shop.domain, ada.gid, 'USD');
    const answer = await stack.redeem(ada, {
      rewardId: String(ids.credit),
      requestId: requestId(),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.redemption).toMatchObject({
      status: 'credited',
      code: null,
      expiresAt: null,
      value: { kind: 'store_credit', amountMinor: 1000, currency: 'USD' },
    });
    expect(stack.emulator.state.storeCreditBalance(stack.shop.domain, ada.gid, 'USD')).toBe(
      before + 1000,
    );
  });

  it('every debit left the projection equal to the entries, and lifetime points untouched', async () => {
    const balances = await stack.balances(ada);
    expect(balances.projection).toBe(balances.entries);
    expect(balances.lifetime).toBe(20_000);
    expect(balances.projection).toBe(20_000 - 500 - 800 - 300 - 1000 - 1300 - 1000);
  });

  it('lists the redemptions newest first, and the catalog with what may be redeemed', async () => {
    const list = await stack.call('redemptions', ada);
    expect(list.status).toBe(200);
    const items = list.body.redemptions as { title: string; status: string; rewardId: string }[];
    expect(items.map((i) => i.title)).toEqual([
      '$10 credit',
      'Points off',
      'A free tea',
      'Free shipping',
      '10% off',
      '$5 off',
    ]);
    expect(items[0]).toMatchObject({ status: 'credited', rewardId: String(ids.credit) });
    const catalog = await stack.call('rewards', ada);
    expect(catalog.status).toBe(200);
    expect(catalog.body).toMatchObject({
      balance: (await stack.balances(ada)).projection,
      currency: 'USD',
      loggedIn: true,
    });
    const rewards = catalog.body.rewards as Record<string, unknown>[];
    expect(rewards.find((r) => r.id === String(ids.fixed))).toEqual({
      id: String(ids.fixed),
      type: 'fixed_amount',
      title: '$5 off',
      pointsCost: 500,
      value: { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' },
      minimumOrderMinor: 2500,
      expiryDays: 14,
      canRedeem: true,
    });
    expect(rewards.find((r) => r.id === String(ids.slider))).toMatchObject({
      slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 5000, stepPoints: 100 },
      value: {
        kind: 'amount_off_order',
        currency: 'USD',
        minAmountMinor: 100,
        maxAmountMinor: 5000,
      },
    });
  });
});

describe('POST /apps/loyalty/redeem: refusals, nothing debited', () => {
  let bob: Member;
  let reward: number;
  let slider: number;
  beforeAll(async () => {
    bob = await stack.member(600);
    reward = await stack.reward(fiveOff);
    slider = await stack.reward({
      type: 'points_slider',
      title: 'Points off',
      slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 500, stepPoints: 100 },
    });
  });

  async function refused(
    answer: Promise<Awaited<ReturnType<RedeemStack['redeem']>>>,
    status: number,
    code: string,
  ) {
    const a = await answer;
    expect(a.status, JSON.stringify(a.body)).toBe(status);
    expect(a.body.error?.code).toBe(code);
    expect(a.headers.get('Cache-Control')).toBe('private, no-store');
    return a.body.error!.message;
  }

  it('409 INSUFFICIENT_BALANCE saying the balance and the cost', async () => {
    await stack.redeem(bob, { rewardId: String(reward), requestId: requestId() });
    const message = await refused(
      stack.redeem(bob, { rewardId: String(reward), requestId: requestId() }),
      409,
      'INSUFFICIENT_BALANCE',
    );
    expect(message).toBe('this reward costs 500 points and the balance is 100');
  });

  it('404 for an unknown, archived or another shop’s reward', async () => {
    const archived = await stack.reward(fiveOff);
    await setRewardArchived(stack.db.db, stack.shop.id, archived, true);
    const other = await ensureShop(stack.db.db, { domain: 'laurel-other-redeem.myshopify.com' });
    const foreign = (await createReward(stack.db.db, other.id, { ...fiveOff, pointsCost: 1 })).id;
    for (const id of [999_999, archived, foreign]) {
      await refused(
        stack.redeem(bob, { rewardId: String(id), requestId: requestId() }),
        404,
        'NOT_FOUND',
      );
    }
  });

  it.each([
    ['bad JSON', undefined, '{"rewardId":', 'the body is not valid JSON'],
    ['a JSON array', [1], undefined, 'the body must be a JSON object'],
    ['no rewardId', {}, undefined, 'rewardId must be the id of a reward from the catalog'],
  ])('400 for %s', async (_name, body, raw, message) => {
    expect(
      await refused(stack.redeem(bob, body, raw ? { rawBody: raw } : {}), 400, 'VALIDATION'),
    ).toBe(message);
  });

  it('400 for a missing, malformed or contradicted request id', async () => {
    const rewardId = String(reward);
    expect(await refused(stack.redeem(bob, { rewardId }), 400, 'VALIDATION')).toMatch(
      /requestId .*is required/,
    );
    await refused(stack.redeem(bob, { rewardId, requestId: 'short' }), 400, 'VALIDATION');
    await refused(
      stack.redeem(bob, { rewardId, requestId: 'has spaces in it' }),
      400,
      'VALIDATION',
    );
    expect(
      await refused(
        stack.redeem(
          bob,
          { rewardId, requestId: requestId() },
          { headers: { 'Idempotency-Key': requestId() } },
        ),
        400,
        'VALIDATION',
      ),
    ).toMatch(/differ/);
  });

  it.each([
    ['negative', -100],
    ['fractional', 100.5],
    ['out of range', 600],
    ['off step', 150],
    ['text', '100'],
    ['zero', 0],
  ])('400 for %s slider points', async (_name, points) => {
    const message = await refused(
      stack.redeem(bob, { rewardId: String(slider), points, requestId: requestId() }),
      400,
      'VALIDATION',
    );
    expect(message).toMatch(/^points: /);
  });

  it('400 for points chosen on a fixed-cost reward', async () => {
    await refused(
      stack.redeem(bob, { rewardId: String(reward), points: 1, requestId: requestId() }),
      400,
      'VALIDATION',
    );
  });

  it('401 NOT_LOGGED_IN when nobody is logged in; 401 for a bad signature', async () => {
    await refused(
      stack.redeem(null, { rewardId: String(reward), requestId: requestId() }),
      401,
      'NOT_LOGGED_IN',
    );
    const forged = await fetch(
      `${stack.app.url}/proxy/redeem?shop=${stack.shop.domain}&logged_in_customer_id=${bob.shopifyId}&timestamp=${Math.floor(Date.now() / 1000)}&signature=${'0'.repeat(64)}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' },
    );
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  it('refuses a stale signature, a repeated customer id and another shop’s signature, debiting nothing', async () => {
    const before = await stack.balances(bob);
    const post = (query: URLSearchParams) =>
      fetch(`${stack.app.url}/proxy/redeem?${query.toString()}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ rewardId: String(reward), requestId: requestId() }),
      });
    const codeOf = async (response: Response) =>
      ((await response.json()) as { error: { code: string } }).error.code;
    const customer = { logged_in_customer_id: bob.shopifyId };

    const stale = await post(
      signedProxyQuery(customer, {
        shop: stack.shop.domain,
        timestamp: Math.floor(Date.now() / 1000) - 600,
      }),
    );
    expect([stale.status, await codeOf(stale)]).toEqual([401, 'UNAUTHORIZED']);

    // Signed with the shopper's id once, a second id appended after: refused before anything.
    const signed = signedProxyQuery(customer, { shop: stack.shop.domain });
    signed.append('logged_in_customer_id', '1');
    const repeated = await post(signed);
    expect([repeated.status, await codeOf(repeated)]).toEqual([400, 'VALIDATION']);

    // Bob's Shopify id signed for another shop: there he is nobody, with nothing to spend.
    const other = await ensureShop(stack.db.db, {
      domain: `laurel-other-${requestId().slice(2, 10)}.myshopify.com`,
    });
    await createReward(stack.db.db, other.id, fiveOff);
    const foreign = await post(signedProxyQuery(customer, { shop: other.domain }));
    expect(foreign.status).toBe(404);
    expect(await codeOf(foreign)).toBe('NOT_FOUND');

    expect(await stack.balances(bob)).toEqual(before);
  });

  it('405 for GET, 415 for a form post, 413 for a large body', async () => {
    const get = await stack.call('redeem', bob);
    expect(get.status).toBe(405);
    expect(get.body.error?.code).toBe('METHOD_NOT_ALLOWED');
    expect(get.headers.get('Allow')).toBe('POST');
    const form = await stack.call('redeem', bob, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `rewardId=${reward}&requestId=${requestId()}`,
    });
    expect(form.status).toBe(415);
    expect(form.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const large = await stack.redeem(bob, {
      rewardId: String(reward),
      requestId: requestId(),
      padding: 'x'.repeat(9000),
    });
    expect(large.status).toBe(413);
    expect(large.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('409 CONFLICT for a limit, 403 FORBIDDEN for a tier', async () => {
    const carol = await stack.member(1000);
    const once = await stack.reward({ ...fiveOff, pointsCost: 10, limitPerCustomer: 1 });
    const weekly = await stack.reward({
      ...fiveOff,
      pointsCost: 10,
      limitPerPeriod: { count: 1, days: 7 },
    });
    const gold = await stack.reward({ ...fiveOff, pointsCost: 10, tiers: ['Gold'] });
    for (const id of [once, weekly]) {
      expect(
        (await stack.redeem(carol, { rewardId: String(id), requestId: requestId() })).status,
      ).toBe(200);
      await refused(
        stack.redeem(carol, { rewardId: String(id), requestId: requestId() }),
        409,
        'CONFLICT',
      );
    }
    await refused(
      stack.redeem(carol, { rewardId: String(gold), requestId: requestId() }),
      403,
      'FORBIDDEN',
    );
    const catalog = await stack.call('rewards', carol);
    const reasons = Object.fromEntries(
      (catalog.body.rewards as { id: string; reason?: string }[]).map((r) => [r.id, r.reason]),
    );
    expect(reasons[String(once)]).toBe('LIMIT_REACHED');
    expect(reasons[String(weekly)]).toBe('PERIOD_LIMIT_REACHED');
    expect(reasons[String(gold)]).toBe('TIER');
    expect((await stack.balances(carol)).projection).toBe(980);
  });

  it('nothing above debited Bob more than his one redemption', async () => {
    const entries = await stack.entries(bob);
    expect(entries.map((e) => e.points)).toEqual([600, -500]);
    expect((await stack.balances(bob)).entries).toBe(100);
  });

  it('logged out, the catalog says NOT_LOGGED_IN and the list 401', async () => {
    const catalog = await stack.call('rewards', null);
    expect(catalog.status).toBe(200);
    expect(catalog.body).toMatchObject({ balance: null, loggedIn: false, currency: 'USD' });
    for (const r of catalog.body.rewards as { canRedeem: boolean; reason: string }[]) {
      expect(r).toMatchObject({ canRedeem: false, reason: 'NOT_LOGGED_IN' });
    }
    const list = await stack.call('redemptions', null);
    expect(list.status).toBe(401);
    expect(list.body.error?.code).toBe('NOT_LOGGED_IN');
    expect((await stack.call('rewards', null, { method: 'POST' })).status).toBe(405);
  });
});

describe('POST /apps/loyalty/redeem: one request id, one code', () => {
  it('a repeat answers the same redemption; the Idempotency-Key header works the same', async () => {
    const dan = await stack.member(2000);
    const reward = await stack.reward(fiveOff);
    const id = requestId();
    const first = await stack.redeem(
      dan,
      { rewardId: String(reward) },
      { headers: { 'Idempotency-Key': id } },
    );
    const again = await stack.redeem(dan, { rewardId: String(reward), requestId: id });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body.redemption).toEqual(first.body.redemption);
    expect(discountAt(first.body.redemption!.code!).count).toBe(1);
    expect((await stack.balances(dan)).projection).toBe(1500);
    const other = await stack.reward({ ...fiveOff, title: 'other' });
    const conflict = await stack.redeem(dan, { rewardId: String(other), requestId: id });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error?.code).toBe('IDEMPOTENCY_CONFLICT');
  });
});

describe("POST /apps/loyalty/redeem: Shopify's failures", () => {
  it('a refusal answers 502, the points come back by an entry that says why, the repeat says the same', async () => {
    const eve = await stack.member(1000);
    const soldOut = stack.emulator.state.addProduct(stack.shop.domain, {
      title: 'Rare tea',
      variants: [{ priceMinor: 900, availableForSale: false }],
    }).variantGids[0]!;
    const reward = await stack.reward({
      type: 'free_product',
      title: 'A rare tea',
      pointsCost: 400,
      variantId: soldOut,
    });
    const id = requestId();
    const answer = await stack.redeem(eve, { rewardId: String(reward), requestId: id });
    expect(answer.status, JSON.stringify(answer.body)).toBe(502);
    expect(answer.body.error?.code).toBe('UPSTREAM');
    expect(answer.body.error?.message).toMatch(
      /not available for sale.*your points were returned$/,
    );
    const balances = await stack.balances(eve);
    expect(balances).toMatchObject({ projection: 1000, entries: 1000, lifetime: 1000 });
    const entries = await stack.entries(eve);
    expect(entries.map((e) => [e.idempotencyKey.replace(/\d+/, 'N'), e.points])).toEqual([
      [`adjustment:seed:N`, 1000],
      ['redemption:N:debit', -400],
      ['redemption:N:return', 400],
    ]);
    expect(entries[2]!.reversesEntryId).toBe(entries[1]!.id);
    expect((entries[2]!.inputs as { reason: string }).reason).toMatch(/not available for sale/);
    const repeat = await stack.redeem(eve, { rewardId: String(reward), requestId: id });
    expect(repeat.status).toBe(502);
    expect(repeat.body.error?.message).toMatch(
      /^this request failed earlier .*your points were returned$/,
    );
    expect(await stack.entries(eve)).toHaveLength(3);
  });

  it('THROTTLED is retried and the code issued once', async () => {
    const fay = await stack.member(1000);
    const reward = await stack.reward(fiveOff);
    stack.emulator.throttleNext(1, stack.shop.domain, { operation: 'DiscountCodeBasicCreate' });
    const answer = await stack.redeem(fay, { rewardId: String(reward), requestId: requestId() });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.redemption?.status).toBe('issued');
    expect(discountAt(answer.body.redemption!.code!).count).toBe(1);
    const throttled = stack.emulator.requests.filter(
      (r) => r.operationName === 'DiscountCodeBasicCreate' && r.outcome === 'throttled',
    );
    expect(throttled.length).toBeGreaterThanOrEqual(1);
  });

  it('a lost answer (5xx after the create ran) is reconciled as issued: exactly one discount', async () => {
    const gus = await stack.member(1000);
    const reward = await stack.reward(fiveOff);
    stack.emulator.failNext(1, 502, {
      shop: stack.shop.domain,
      afterExecution: true,
      operation: 'DiscountCodeBasicCreate',
    });
    const answer = await stack.redeem(gus, { rewardId: String(reward), requestId: requestId() });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.redemption?.status).toBe('issued');
    const code = answer.body.redemption!.code!;
    expect(discountAt(code).count).toBe(1);
    const all = [...stack.emulator.state.snapshot(stack.shop.domain).discounts.values()];
    expect(
      all.filter(
        (d) =>
          d.buyers.kind === 'customers' && d.buyers.customerIds.includes(Number(gus.shopifyId)),
      ),
    ).toHaveLength(1);
    expect((await stack.balances(gus)).projection).toBe(500);
  });

  it('an outcome nobody can tell yet answers 202 pending; the retry settles it without a second code', async () => {
    const hal = await stack.member(1000);
    const reward = await stack.reward(fiveOff);
    const shop = stack.shop.domain;
    stack.emulator.failNext(1, 502, {
      shop,
      afterExecution: true,
      operation: 'DiscountCodeBasicCreate',
    });
    // The issuer's look-up fails through every retry of the client.
    stack.emulator.failNext(4, 503, { shop, operation: 'CodeDiscountNodeByCode' });
    const id = requestId();
    const pending = await stack.redeem(hal, { rewardId: String(reward), requestId: id });
    expect(pending.status, JSON.stringify(pending.body)).toBe(202);
    expect(pending.body).toMatchObject({
      redemption: { status: 'pending', points: 500 },
      balance: 500,
    });
    const retry = await stack.redeem(hal, { rewardId: String(reward), requestId: id });
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.redemption).toMatchObject({
      status: 'issued',
      code: pending.body.redemption!.code,
    });
    expect(discountAt(pending.body.redemption!.code!).count).toBe(1);
    expect((await stack.balances(hal)).projection).toBe(500);
  }, 60_000);
});
