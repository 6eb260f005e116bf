/**
 * The redemption service's decisions for every answer the issuer can give, with a stand-in issuer
 * (the end-to-end tests against the Admin API emulator are in tests/routes/redeem*.test.ts): what
 * is recorded, what the shopper is answered, and that points come back exactly when nothing was
 * created — never while a code may exist.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { AppError, ErrorCode } from './errors';
import { ensureCustomer } from './models/customers.server';
import { balanceOf, entriesFor, findEntryByKey, post } from './models/ledger.server';
import { getRedemption } from './models/redemptions.server';
import { createReward } from './models/rewards.server';
import { ensureShop, markShopUninstalled, type Shop } from './models/shops.server';
import {
  MAX_RECONCILE_ATTEMPTS,
  RECONCILE_IDLE_MS,
  reconcileStalePending,
  redeem,
  type IssueOutcome,
  type IssueRequest,
  type RedemptionDeps,
  type RewardIssuer,
} from './redemption.server';
import { AdminApiError, type AdminClient } from './shopify/admin-client.server';

const fiveOff = { type: 'fixed_amount', title: '$5 off', pointsCost: 500, amountMinor: 500 };
const credit = { type: 'store_credit', title: '$10 credit', pointsCost: 1000, amountMinor: 1000 };

/** An issuer whose answers the test sets; it records every call. */
function fakeIssuer() {
  const calls = {
    issue: [] as IssueRequest[],
    find: [] as { code: string; customerGid?: string }[],
    deactivate: [] as string[],
  };
  let nextIssue: () => Promise<IssueOutcome> = async () => ({
    kind: 'issued',
    discountId: `gid://shopify/DiscountCodeNode/${calls.issue.length}`,
  });
  let nextFind: (code: string) => Promise<{ discountId: string } | null> = async () => null;
  const issuer: RewardIssuer = {
    issueReward(_client, request) {
      calls.issue.push(request);
      return nextIssue();
    },
    async findIssuedDiscount(_client, code, customerGid) {
      calls.find.push({ code, customerGid });
      const found = await nextFind(code);
      return found && { ...found, status: 'ACTIVE', usageCount: 0 };
    },
    async deactivateDiscount(_client, discountId) {
      calls.deactivate.push(discountId);
    },
  };
  return {
    issuer,
    calls,
    onIssue(answer: () => Promise<IssueOutcome>) {
      nextIssue = answer;
    },
    onFind(answer: (code: string) => Promise<{ discountId: string } | null>) {
      nextFind = answer;
    },
  };
}

const throttled = () =>
  new AdminApiError({
    code: 'THROTTLED',
    messages: ['Throttled'],
    shop: 'x.myshopify.com',
    operationName: 'DiscountCodeBasicCreate',
    attempts: 4,
  });

let handle: TestDatabase;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
});
afterAll(async () => {
  await handle?.close();
});

/** A shop whose customer 7001 holds `points`, and the service wired to a fake issuer. */
async function setup(points: number) {
  const db = handle.db;
  const shop = await ensureShop(db, {
    domain: `svc-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
  });
  const customer = await ensureCustomer(db, shop.id, { externalId: '7001' });
  await post(db, shop.id, {
    customerId: customer.id,
    idempotencyKey: 'adjustment:seed',
    source: 'adjustment',
    points,
    occurredAt: new Date('2026-01-01T00:00:00Z'),
    inputs: { reason: 'seed' },
  });
  const fake = fakeIssuer();
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  let clock = () => new Date();
  const deps: RedemptionDeps = {
    db,
    issuer: fake.issuer,
    adminClient: async (s: Shop) =>
      ({ shop: s.domain, apiVersion: '2026-07', endpoint: 'test' }) as AdminClient,
    now: () => clock(),
    log,
  };
  const owner = { shop: shop.domain, customerId: '7001' };
  return {
    db,
    shop,
    customerId: customer.id,
    fake,
    logs,
    deps,
    owner,
    /** Moves the service's clock past the idle time a pending redemption is left to its call. */
    later() {
      clock = () => new Date(Date.now() + RECONCILE_IDLE_MS + 60_000);
    },
    balance: async () => (await balanceOf(db, shop.id, customer.id)).balance,
  };
}

async function refusal(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const requestId = () => `svc-${randomUUID()}`;

describe('redeem', () => {
  it('issues the code Shopify created: the request carries the code, customer, window and rules', async () => {
    const s = await setup(1200);
    const reward = await createReward(s.db, s.shop.id, {
      ...fiveOff,
      minimumOrderMinor: 2500,
      expiryDays: 14,
    });
    const answer = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    expect(answer.status).toBe(200);
    expect(answer.balance).toBe(700);
    expect(answer.redemption).toMatchObject({
      status: 'issued',
      shopifyDiscountId: 'gid://shopify/DiscountCodeNode/1',
    });
    const [request] = s.fake.calls.issue;
    expect(request).toEqual({
      code: answer.redemption.code,
      title: '$5 off',
      customerGid: 'gid://shopify/Customer/7001',
      value: { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' },
      startsAt: answer.redemption.createdAt,
      endsAt: answer.redemption.expiresAt,
      minimumOrderMinor: 2500,
      currency: 'USD',
      combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
    });
    expect(answer.redemption.expiresAt!.getTime() - answer.redemption.createdAt.getTime()).toBe(
      14 * 86_400_000,
    );
  });

  it('records store credit as credited', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, credit);
    s.fake.onIssue(async () => ({
      kind: 'credited',
      storeCreditTransactionId: 'gid://shopify/StoreCreditAccountCreditTransaction/5',
    }));
    const answer = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    expect(answer).toMatchObject({
      status: 200,
      balance: 0,
      redemption: { status: 'credited', code: null, storeCreditTransactionId: expect.any(String) },
    });
    expect(s.fake.calls.issue[0]!.endsAt).toBeNull();
  });

  it("Shopify's refusal: 502 saying the points were returned, by an entry that says why", async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(async () => ({ kind: 'refused', reason: 'Customer does not exist' }));
    const id = requestId();
    const error = await refusal(redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps));
    expect(error.code).toBe(ErrorCode.UPSTREAM);
    expect(error.message).toBe(
      'Shopify refused to create the reward (Customer does not exist); your points were returned',
    );
    expect(await s.balance()).toBe(1000);
    const redemptionId = error.details.redemptionId as number;
    const returned = await findEntryByKey(s.db, s.shop.id, `redemption:${redemptionId}:return`);
    expect(returned).toMatchObject({
      points: 500,
      inputs: { reason: 'Shopify refused: Customer does not exist', status: 'failed' },
    });
    // The same request again: the same failure, nothing debited, Shopify not asked again.
    const again = await refusal(redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps));
    expect(again.code).toBe(ErrorCode.UPSTREAM);
    expect(again.message).toBe(
      'this request failed earlier (Shopify refused: Customer does not exist); your points were returned',
    );
    expect(s.fake.calls.issue).toHaveLength(1);
    expect(await entriesFor(s.db, s.shop.id, s.customerId)).toHaveLength(3);
    expect(await s.balance()).toBe(1000);
  });

  it('Shopify out of reach (a transient error: nothing ran): the points come back at once', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(() => Promise.reject(throttled()));
    const error = await refusal(
      redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps),
    );
    expect(error.code).toBe(ErrorCode.UPSTREAM);
    expect(error.message).toBe(
      'Shopify could not be reached (THROTTLED); nothing was created; your points were returned. Try again shortly',
    );
    expect(await s.balance()).toBe(1000);
    expect(
      (await getRedemption(s.db, s.shop.id, error.details.redemptionId as number))!.status,
    ).toBe('failed');
  });

  it('an unknown outcome stays pending (202); a retry only looks until the call is surely over', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(async () => ({ kind: 'unknown', reason: 'OUTCOME_UNKNOWN; lookup failed' }));
    const id = requestId();
    const first = await redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps);
    expect(first).toMatchObject({ status: 202, balance: 500, redemption: { status: 'pending' } });

    // A retry right away looks the code up; not there, but the first call may still land.
    const retry = await redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps);
    expect(retry.status).toBe(202);
    expect(s.fake.calls.find).toEqual([
      { code: first.redemption.code, customerGid: 'gid://shopify/Customer/7001' },
    ]);
    expect(s.fake.calls.issue).toHaveLength(1);

    // Found later: issued, without a second create.
    s.fake.onFind(async () => ({ discountId: 'gid://shopify/DiscountCodeNode/77' }));
    const found = await redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps);
    expect(found).toMatchObject({
      status: 200,
      redemption: { status: 'issued', shopifyDiscountId: 'gid://shopify/DiscountCodeNode/77' },
    });
    expect(s.fake.calls.issue).toHaveLength(1);
    expect(await s.balance()).toBe(500);
  });

  it('a pending redemption whose code never appeared fails once it is idle, points returned', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(async () => ({ kind: 'unknown', reason: 'lost' }));
    const id = requestId();
    await redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps);
    s.later();
    const error = await refusal(redeem(s.owner, { rewardId: reward.id, requestId: id }, s.deps));
    expect(error.code).toBe(ErrorCode.UPSTREAM);
    expect(error.message).toBe(
      'Shopify never created this reward (Shopify has no discount with this code: it was never created); your points were returned',
    );
    expect(await s.balance()).toBe(1000);
    expect(s.fake.calls.issue).toHaveLength(1);
  });

  it('an unexpected error leaves the redemption pending (never a guess) and says so in the log', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(() => Promise.reject(new TypeError('socket hang up after send')));
    const answer = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    expect(answer).toMatchObject({ status: 202, redemption: { status: 'pending' } });
    expect(await s.balance()).toBe(500);
    expect(s.logs.some((l) => l.level === 50 && String(l.msg).includes('left pending'))).toBe(true);
  });

  it('refuses before debiting: unknown shopper, unknown reward, inactive shop, no access token', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    const stranger = { shop: s.shop.domain, customerId: '999' };
    const poor = await refusal(
      redeem(stranger, { rewardId: reward.id, requestId: requestId() }, s.deps),
    );
    expect(poor).toMatchObject({
      code: ErrorCode.INSUFFICIENT_BALANCE,
      message: 'this reward costs 500 points and the balance is 0',
    });
    expect(
      (await refusal(redeem(stranger, { rewardId: 424242, requestId: requestId() }, s.deps))).code,
    ).toBe(ErrorCode.NOT_FOUND);
    expect(
      (await refusal(redeem(s.owner, { rewardId: 424242, requestId: requestId() }, s.deps))).code,
    ).toBe(ErrorCode.NOT_FOUND);
    const noToken = { ...s.deps, adminClient: async () => undefined };
    expect(
      (await refusal(redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, noToken)))
        .code,
    ).toBe(ErrorCode.UNAVAILABLE);
    await markShopUninstalled(s.db, s.shop.id);
    expect(
      (await refusal(redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps)))
        .code,
    ).toBe(ErrorCode.SHOP_INACTIVE);
    expect(
      (
        await refusal(
          redeem(
            { shop: 'nobody.myshopify.com', customerId: '7001' },
            { rewardId: reward.id, requestId: requestId() },
            s.deps,
          ),
        )
      ).code,
    ).toBe(ErrorCode.SHOP_INACTIVE);
    expect(s.fake.calls.issue).toEqual([]);
    expect(await s.balance()).toBe(1000);
  });
});

describe('reconcileStalePending (the sweep)', () => {
  it('settles idle pending codes from Shopify: found → issued, missing → failed and returned', async () => {
    const s = await setup(10_000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(async () => ({ kind: 'unknown', reason: 'lost' }));
    const landed = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    const lost = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    expect(await s.balance()).toBe(9000);

    // Too fresh: the sweep leaves them to their calls.
    await reconcileStalePending(s.deps);
    expect(s.fake.calls.find).toEqual([]);

    s.later();
    s.fake.onFind(async (code) =>
      code === landed.redemption.code ? { discountId: 'gid://shopify/DiscountCodeNode/5' } : null,
    );
    // (The sweep covers every shop: other tests' rows are counted too.)
    const result = await reconcileStalePending(s.deps);
    expect(result.issued).toBeGreaterThanOrEqual(1);
    expect(result.failed).toBeGreaterThanOrEqual(1);
    expect((await getRedemption(s.db, s.shop.id, landed.redemption.id))!.status).toBe('issued');
    const failed = (await getRedemption(s.db, s.shop.id, lost.redemption.id))!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 2 });
    expect(await s.balance()).toBe(9500);
    // Settled rows are not looked at again.
    const looked = s.fake.calls.find.length;
    await reconcileStalePending(s.deps);
    expect(s.fake.calls.find).toHaveLength(looked);
  });

  it('a look-up that fails keeps it pending with one more attempt; at the limit, the merchant is told', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    s.fake.onIssue(async () => ({ kind: 'unknown', reason: 'lost' }));
    const pending = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    // The sweep covers every shop: count the look-ups of this code only.
    const lookups = () =>
      s.fake.calls.find.filter((c) => c.code === pending.redemption.code).length;
    s.later();
    s.fake.onFind(() => Promise.reject(throttled()));
    for (let run = 2; run <= MAX_RECONCILE_ATTEMPTS; run++) {
      await reconcileStalePending(s.deps);
      expect(lookups(), `run ${run}`).toBe(run - 1);
      // Each run claims the row, which restarts its idle clock: make it idle again.
      await s.db.execute(
        sql`UPDATE redemptions SET updated_at = now() - interval '10 minutes' WHERE id = ${pending.redemption.id}`,
      );
    }
    const row = (await getRedemption(s.db, s.shop.id, pending.redemption.id))!;
    expect(row).toMatchObject({ status: 'pending', attempts: MAX_RECONCILE_ATTEMPTS });
    const told = s.logs.filter(
      (l) =>
        l.level === 50 &&
        l.redemptionId === pending.redemption.id &&
        String(l.msg).includes('merchant'),
    );
    expect(told).toHaveLength(1);
    await reconcileStalePending(s.deps);
    expect(lookups()).toBe(MAX_RECONCILE_ATTEMPTS - 1);
    expect(await s.balance()).toBe(500);
  });

  it('store credit cannot be looked up: it stays pending, never returned by guess', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, credit);
    s.fake.onIssue(async () => ({ kind: 'unknown', reason: 'lost' }));
    const pending = await redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    s.later();
    await reconcileStalePending(s.deps);
    // Looked at (one more attempt), nothing to look up, so nothing concluded.
    expect(await getRedemption(s.db, s.shop.id, pending.redemption.id)).toMatchObject({
      status: 'pending',
      attempts: 2,
      returnEntryId: null,
    });
    expect(await s.balance()).toBe(0);
  });

  it('a code that appears after its redemption failed is deactivated at once', async () => {
    const s = await setup(1000);
    const reward = await createReward(s.db, s.shop.id, fiveOff);
    let release!: () => void;
    s.fake.onIssue(
      () =>
        new Promise<IssueOutcome>((resolve) => {
          release = () =>
            resolve({ kind: 'issued', discountId: 'gid://shopify/DiscountCodeNode/9' });
        }),
    );
    const inFlight = redeem(s.owner, { rewardId: reward.id, requestId: requestId() }, s.deps);
    await vi.waitFor(() => expect(s.fake.calls.issue).toHaveLength(1));
    // Meanwhile (a worker stalled far past the idle time) the sweep concluded it never landed.
    s.later();
    await reconcileStalePending(s.deps);
    release();
    const error = await refusal(inFlight);
    expect(error.code).toBe(ErrorCode.UPSTREAM);
    expect(error.message).toMatch(/your points were returned$/);
    expect(s.fake.calls.deactivate).toEqual(['gid://shopify/DiscountCodeNode/9']);
    expect(await s.balance()).toBe(1000);
  });
});
