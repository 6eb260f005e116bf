/**
 * The demo's referral scenario: its cast from the history, its deliveries (deterministic, after the
 * history, each order carrying its referrer's code, the held one shipping to the referrer's
 * address, the reversed one refunded in full inside the window), and the check of what Laurel
 * recorded against the cases — over rows written directly (PostgreSQL). The whole path through the
 * running demo: tests/e2e/referrals.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { ensureReferralCodes } from '../../app/models/referral-codes.server';
import { currentReferralProgram } from '../../app/models/referral-programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { referrals } from '../../db/schema';
import { parseReferralProgram } from '../../loyalty/referrals';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { expectedResults } from './expected';
import { generateHistory } from './history';
import {
  expectedReferralLedger,
  referralCounts,
  referralDifferences,
  referrerCodes,
  type ReferralOutcome,
} from './referral-check';
import {
  DEMO_REFERRAL_PROGRAM,
  ensureDemoReferralProgram,
  referralCast,
  referralDeliveries,
  referralFriendDeliveries,
} from './referrals';

const SHOP = 'referral-demo.myshopify.com';
const TZ = 'America/New_York';
const history = generateHistory({
  shop: SHOP,
  seed: 7,
  firstMonth: '2026-01',
  timezone: TZ,
  customers: 40,
});
const cast = referralCast(history.deliveries)!;
const codes = new Map(cast.referrers.map((r, i) => [String(r.id), `FRIEND-ABCDEFG${i + 2}`]));
const scenario = () =>
  referralDeliveries({ shop: SHOP, timezone: TZ, history: history.deliveries, cast, codes });

describe('the referral scenario', () => {
  it('compiles the program for the demo shop', () => {
    const program = parseReferralProgram(DEMO_REFERRAL_PROGRAM, { shopCurrency: 'USD' });
    expect(program).toMatchObject({ enabled: true, referrerPoints: 500, minimumOrderMinor: 2500 });
  });

  it('casts three referrers with paid orders and a past guest', () => {
    const ids = cast.referrers.map((c) => c.id as number);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const orders = history.deliveries.filter((d) => d.topic === 'orders/paid');
    const buyers = new Set(orders.map((d) => (d.payload.customer as { id?: number } | null)?.id));
    for (const id of ids) expect(buyers.has(id)).toBe(true);
    expect(cast.existing.kind).toBe('guest');
    const email = cast.existing.kind === 'guest' ? cast.existing.email : '';
    expect(orders.some((d) => d.payload.customer === null && d.payload.email === email)).toBe(true);
    // Without guest orders, a member who ordered before; without four buyers, no cast.
    const noGuests = history.deliveries.filter(
      (d) => d.topic !== 'orders/paid' || d.payload.customer !== null,
    );
    expect(referralCast(noGuests)?.existing.kind).toBe('account');
    expect(referralCast(noGuests.filter((d) => d.topic !== 'orders/paid'))).toBeUndefined();
  });

  it('is the same every time, after the history, with the codes in the orders', () => {
    const a = scenario();
    expect(scenario()).toEqual(a);
    expect(a.cases.map((c) => [c.label, c.expected])).toEqual([
      ['Maya', 'rewarded'],
      ['Noah', 'rewarded'],
      ['Iris', 'reversed'],
      ['Leo', 'held'],
      ['a past guest', 'rejected'],
    ]);
    expect(a.deliveries.map((d) => d.topic)).toEqual([
      ...Array.from({ length: 5 }, () => ['customers/create', 'orders/paid']).flat(),
      'refunds/create',
    ]);
    const guest = a.deliveries[8]!.payload;
    expect(guest.email).toBe(cast.existing.kind === 'guest' && cast.existing.email);
    const historyIds = new Set(history.deliveries.map((d) => d.webhookId));
    const last = Math.max(...history.deliveries.map((d) => Date.parse(d.occurredAt)));
    for (const d of a.deliveries) {
      expect(historyIds.has(d.webhookId)).toBe(false);
      expect(Date.parse(d.occurredAt)).toBeLessThanOrEqual(last);
      expect(Date.parse(d.occurredAt)).toBeGreaterThan(last - 4 * 86_400_000);
    }
    const orders = a.deliveries.filter((d) => d.topic === 'orders/paid');
    for (const [i, c] of a.cases.entries()) {
      const order = orders.find((o) => String(o.payload.id) === c.orderId)!.payload;
      expect(order.discount_codes, c.label).toEqual([
        expect.objectContaining({ code: codes.get(c.referrerId) }),
      ]);
      expect((order.customer as { id: number }).id).toBe(Number(c.friendId));
      expect((order.client_details as { browser_ip: string }).browser_ip).toBe(
        `198.51.100.${21 + i}`,
      );
    }
    // 10% off: $60.00 → $54.00.
    expect(orders[0]!.payload.subtotal_price).toBe('54.00');
    const leo = orders.find((o) => String(o.payload.id) === a.cases[3]!.orderId)!.payload;
    expect(leo.shipping_address).toEqual(cast.referrers[2].default_address);
    expect(leo.billing_address).not.toEqual(cast.referrers[2].default_address);
    const refund = a.deliveries.find((d) => d.topic === 'refunds/create')!;
    expect(String(refund.payload.order_id)).toBe(a.cases[2]!.orderId);
    expect(Date.parse(refund.occurredAt) - Date.parse(orders[2]!.occurredAt)).toBe(48 * 3_600_000);
    // The friends' own orders earn as any order does, in the independent expectation too.
    const results = expectedResults([...history.deliveries, ...a.deliveries], { timezone: TZ });
    expect(
      results.customers.find((c) => c.customerId === a.cases[0]!.friendId)?.balance,
    ).toBeGreaterThan(0);
  });

  it("gives the friends' sign-ups without the codes, as the scenario has them", () => {
    const signUps = referralFriendDeliveries({
      shop: SHOP,
      timezone: TZ,
      history: history.deliveries,
      cast,
    });
    expect(signUps).toHaveLength(5);
    expect(signUps).toEqual(scenario().deliveries.filter((d) => d.topic === 'customers/create'));
  });

  it('needs a code for every referrer', () => {
    expect(() =>
      referralDeliveries({
        shop: SHOP,
        timezone: TZ,
        history: history.deliveries,
        cast,
        codes: new Map(),
      }),
    ).toThrow(/no friend code/);
  });
});

describe('the expected referral ledger', () => {
  const cases = scenario().cases;
  const outcome = (
    i: number,
    status: string,
    reviewedBy: string | null = null,
  ): ReferralOutcome => ({
    orderId: cases[i]!.orderId,
    status,
    reasons: [],
    reviewedBy,
    referralId: 100 + i,
  });

  it('rewards rewarded and reversed ones, reverses reversed ones, and an approved held one', () => {
    const outcomes = new Map(
      [
        outcome(0, 'rewarded'),
        outcome(2, 'reversed'),
        outcome(3, 'held'),
        outcome(4, 'rejected'),
      ].map((o) => [o.orderId, o]),
    );
    const referrer = (i: number) => cases[i]!.referrerId;
    expect([...expectedReferralLedger(cases, outcomes)]).toEqual([
      ['referral:100:reward', { customer: referrer(0), points: 500 }],
      ['referral:102:reward', { customer: referrer(2), points: 500 }],
      ['referral:102:reverse', { customer: referrer(2), points: -500 }],
    ]);
    outcomes.set(cases[3]!.orderId, outcome(3, 'rewarded', 'Sam'));
    expect(expectedReferralLedger(cases, outcomes).get('referral:103:reward')).toEqual({
      customer: referrer(3),
      points: 500,
    });
    expect(referralCounts(outcomes)).toBe('2 rewarded, 0 held, 1 rejected, 1 reversed');
  });
});

describe('the check against the database', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('names each referral that is missing, in another status, or whose entries differ', async () => {
    const { db } = handle;
    const shop = await ensureShop(db, { domain: `rd-${randomUUID().slice(0, 8)}.myshopify.com` });
    await ensureDemoReferralProgram(db, shop.id, new Date('2026-01-01T05:00:00Z'));
    await ensureDemoReferralProgram(db, shop.id, new Date());
    expect(await currentReferralProgram(db, shop.id)).toMatchObject({ version: 1 });
    for (const c of cast.referrers) {
      await ensureCustomer(db, shop.id, { externalId: String(c.id), email: c.email as string });
    }
    const made = await referrerCodes(db, shop.id, cast, 'FRIEND-');
    expect([...made.keys()].sort()).toEqual(cast.referrers.map((r) => String(r.id)).sort());
    expect([...made.values()].every((c) => /^FRIEND-[A-Z0-9]{8}$/.test(c.friendCode))).toBe(true);
    // Made once: asking again gives the same codes.
    expect(await referrerCodes(db, shop.id, cast, 'OTHER-')).toEqual(made);

    const { cases } = referralDeliveries({
      shop: shop.domain,
      timezone: TZ,
      history: history.deliveries,
      cast,
      codes: new Map([...made].map(([id, c]) => [id, c.friendCode])),
    });
    const ids = new Map<string, number>();
    for (const c of cases) {
      const friend = await ensureCustomer(db, shop.id, { externalId: c.friendId });
      ids.set(c.friendId, friend.id);
    }
    const customerId = async (externalId: string) =>
      (await ensureCustomer(db, shop.id, { externalId })).id;
    const codeRows = await ensureReferralCodes(
      db,
      shop.id,
      [await customerId(cases[0]!.referrerId)],
      'FRIEND-',
    );
    const codeId = [...codeRows.values()][0]!.id;
    const record = async (i: number, status: string) => {
      const c = cases[i]!;
      const [row] = await db
        .insert(referrals)
        .values({
          shopId: shop.id,
          referrerCustomerId: await customerId(c.referrerId),
          friendCustomerId: ids.get(c.friendId)!,
          codeId,
          shopifyOrderId: c.orderId,
          orderName: c.orderName,
          discountCode: c.friendCode,
          programVersion: 1,
          status,
          orderAmountMinor: 5000,
          paidAt: new Date(),
        })
        .returning();
      return row!.id;
    };
    const reward = async (referralId: number, i: number, points: number, kind = 'reward') =>
      post(db, shop.id, {
        customerId: await customerId(cases[i]!.referrerId),
        idempotencyKey: `referral:${referralId}:${kind}`,
        source: 'referral',
        points,
        occurredAt: new Date(),
        inputs: { rule: `referral-${kind}` },
      });

    const maya = await record(0, 'rewarded');
    await reward(maya, 0, 500);
    const noah = await record(1, 'held'); // expected rewarded
    const iris = await record(2, 'reversed');
    await reward(iris, 2, 500);
    // Iris's reversal is missing; Leo is held with a reward he should not have.
    const leo = await record(3, 'held');
    await reward(leo, 3, 500);
    // The existing customer: no referral recorded at all.

    const { problems, outcomes } = await referralDifferences(db, shop.id, cases);
    expect(outcomes.size).toBe(4);
    expect(problems).toEqual([
      `${cases[1]!.orderName} (Noah): held (no reasons), expected rewarded`,
      `${cases[4]!.orderName} (a past guest): no referral recorded, expected rejected`,
      `referral:${leo}:reward: 500 points to ${cases[3]!.referrerId}, expected none`,
      `referral:${noah}:reward: missing (500 points to ${cases[1]!.referrerId})`,
      `referral:${iris}:reverse: missing (-500 points to ${cases[2]!.referrerId})`,
    ]);
  });
});
