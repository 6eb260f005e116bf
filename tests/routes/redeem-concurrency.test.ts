/**
 * Issue [6]'s concurrency test: one customer whose balance covers exactly 10 redemptions of a
 * fixed-cost reward, 200 concurrent signed `POST /apps/loyalty/redeem` requests (each its own
 * request id) through the real HTTP server on PostgreSQL → exactly 10 answered 200 with a code,
 * 190 answered 409 INSUFFICIENT_BALANCE, the balance at the exact remainder in the projection and
 * in the sum of the entries, and exactly 10 codes at Shopify (the emulator).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRedeemStack, requestId, type RedeemStack } from './redeem-stack';

const COST = 500;
const REMAINDER = 250;
const REQUESTS = 200;

let stack: RedeemStack;
beforeAll(async () => {
  stack = await openRedeemStack();
}, 300_000);
afterAll(async () => {
  await stack?.close();
});

it('200 concurrent redemptions of a balance that covers 10: 10 succeed, 190 get 409, nothing overspent', async () => {
  const member = await stack.member(10 * COST + REMAINDER);
  const reward = await stack.reward({
    type: 'fixed_amount',
    title: '$5 off',
    pointsCost: COST,
    amountMinor: 500,
  });
  const answers = await Promise.all(
    Array.from({ length: REQUESTS }, () =>
      stack.redeem(member, { rewardId: String(reward), requestId: requestId() }),
    ),
  );
  const byStatus = new Map<number, number>();
  for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  expect(Object.fromEntries(byStatus)).toEqual({ 200: 10, 409: REQUESTS - 10 });
  for (const a of answers.filter((x) => x.status === 409)) {
    expect(a.body.error?.code).toBe('INSUFFICIENT_BALANCE');
  }
  const issued = answers.filter((a) => a.status === 200).map((a) => a.body.redemption!);
  expect(issued.every((r) => r.status === 'issued')).toBe(true);
  const codes = new Set(issued.map((r) => r.code));
  expect(codes.size).toBe(10);

  expect(await stack.balances(member)).toEqual({
    projection: REMAINDER,
    entries: REMAINDER,
    lifetime: 10 * COST + REMAINDER,
  });
  const entries = await stack.entries(member);
  expect(entries.filter((e) => e.source === 'redemption').map((e) => e.points)).toEqual(
    Array.from({ length: 10 }, () => -COST),
  );

  const discounts = [...stack.emulator.state.snapshot(stack.shop.domain).discounts.values()];
  const theirs = discounts.filter(
    (d) => d.buyers.kind === 'customers' && d.buyers.customerIds.includes(Number(member.shopifyId)),
  );
  expect(theirs).toHaveLength(10);
  expect(new Set(theirs.map((d) => d.code))).toEqual(codes);
}, 120_000);
