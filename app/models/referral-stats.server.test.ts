/**
 * The referrals page's numbers and list over rows written directly: each stat's definition
 * (docs/admin.md, "Referrals") at the range's edges, another shop's rows never counted, and the
 * list's parties, filter and keyset paging.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { referrals } from '../../db/schema';
import type { ReferralReason, ReferralStatus } from '../../loyalty/referrals';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ensureCustomer } from './customers.server';
import { post } from './ledger.server';
import { ensureReferralCodes, recordReferralClick } from './referral-codes.server';
import {
  countHeldReferrals,
  listReferrals,
  referralStats,
  type ListedReferral,
} from './referral-stats.server';
import { ensureShop } from './shops.server';

const day = (d: number, h = 12) => new Date(Date.UTC(2026, 2, d, h));
const RANGE = { from: day(1, 0), to: day(31, 0) };

interface Fixture {
  shopId: number;
  ann: number;
  bea: number;
  friends: number[];
  codeId: number;
}

async function shopWithMembers(db: Executor): Promise<Fixture> {
  const shop = await ensureShop(db, { domain: `rs-${randomUUID().slice(0, 8)}.myshopify.com` });
  const ann = await ensureCustomer(db, shop.id, {
    externalId: '1001',
    email: 'ann@example.com',
    firstName: 'Ann',
    lastName: 'Lee',
  });
  const bea = await ensureCustomer(db, shop.id, { externalId: '1002', email: 'bea@example.com' });
  const friends: number[] = [];
  for (let i = 0; i < 6; i++) {
    const f = await ensureCustomer(db, shop.id, {
      externalId: String(2001 + i),
      email: `friend${i}@example.com`,
      firstName: `Friend${i}`,
    });
    friends.push(f.id);
  }
  const codes = await ensureReferralCodes(db, shop.id, [ann.id, bea.id], 'FRIEND-');
  return { shopId: shop.id, ann: ann.id, bea: bea.id, friends, codeId: codes.get(ann.id)!.id };
}

let order = 5000;
async function referral(
  db: Executor,
  f: Fixture,
  row: {
    referrer?: number;
    friend: number | null;
    status: ReferralStatus;
    amountMinor: number;
    paidAt: Date;
    reasons?: ReferralReason[];
    rewardPoints?: number;
    reviewedBy?: string;
  },
): Promise<number> {
  order += 1;
  const [inserted] = await db
    .insert(referrals)
    .values({
      shopId: f.shopId,
      referrerCustomerId: row.referrer ?? f.ann,
      friendCustomerId: row.friend,
      codeId: f.codeId,
      shopifyOrderId: String(order),
      orderName: `#${order}`,
      discountCode: 'FRIEND-ABCDEFGH',
      programVersion: 1,
      status: row.status,
      reasons: row.reasons ?? [],
      orderAmountMinor: row.amountMinor,
      paidAt: row.paidAt,
      rewardPoints: row.rewardPoints ?? 0,
      reviewedBy: row.reviewedBy ?? null,
      reviewedAt: row.reviewedBy ? row.paidAt : null,
    })
    .returning({ id: referrals.id });
  return inserted!.id;
}

describe('referral stats and list', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('counts each stat as defined, within the half-open range, for the shop only', async () => {
    const { db } = handle;
    const f = await shopWithMembers(db);
    const other = await shopWithMembers(db);
    const [f0, f1, f2, f3, f4, f5] = f.friends as [number, number, number, number, number, number];

    for (const [at, outcome] of [
      [day(1, 0), 'redirected'], // the range's first instant: in
      [day(10), 'redirected'],
      [day(10), 'unknown_code'], // not a click that reached the discount
      [day(11), 'disabled'],
      [day(31, 0), 'redirected'], // the range's end: out
      [day(0), 'redirected'], // Feb 28: out
    ] as const) {
      await recordReferralClick(db, f.shopId, {
        codeId: outcome === 'unknown_code' ? null : f.codeId,
        ipHash: 'ip',
        outcome,
        at,
      });
    }
    await recordReferralClick(db, other.shopId, {
      codeId: other.codeId,
      ipHash: 'ip',
      outcome: 'redirected',
      at: day(10),
    });

    await referral(db, f, { friend: f0, status: 'rewarded', amountMinor: 12_000, paidAt: day(2) });
    await referral(db, f, { friend: f1, status: 'rewarded', amountMinor: 8_000, paidAt: day(3) });
    await referral(db, f, { friend: f2, status: 'held', amountMinor: 5_000, paidAt: day(4) });
    await referral(db, f, { friend: f3, status: 'rejected', amountMinor: 9_900, paidAt: day(5) });
    await referral(db, f, { friend: f4, status: 'reversed', amountMinor: 7_000, paidAt: day(6) });
    await referral(db, f, { friend: null, status: 'rewarded', amountMinor: 1_000, paidAt: day(0) });
    await referral(db, f, { friend: f5, status: 'held', amountMinor: 1_000, paidAt: day(31, 0) });
    await referral(db, other, {
      friend: other.friends[0]!,
      status: 'rewarded',
      amountMinor: 50_000,
      paidAt: day(2),
    });

    const entry = async (
      shopId: number,
      customerId: number,
      key: string,
      points: number,
      at: Date,
    ) =>
      post(db, shopId, {
        customerId,
        idempotencyKey: key,
        source: 'referral',
        points,
        occurredAt: at,
        inputs: { rule: 'referral-reward' },
      });
    await entry(f.shopId, f.ann, 'referral:1:reward', 500, day(2));
    await entry(f.shopId, f.ann, 'referral:2:reward', 500, day(3));
    await entry(f.shopId, f.ann, 'referral:5:reward', 500, day(6));
    await entry(f.shopId, f.ann, 'referral:5:reverse', -500, day(8));
    await entry(f.shopId, f.ann, 'referral:0:reward', 500, day(0)); // before the range
    await entry(other.shopId, other.ann, 'referral:9:reward', 700, day(2));
    // Another source never counts as a referral reward.
    await post(db, f.shopId, {
      customerId: f.ann,
      idempotencyKey: 'order:1:earn',
      source: 'order',
      points: 90,
      occurredAt: day(2),
      inputs: {},
    });

    expect(await referralStats(db, f.shopId, RANGE)).toEqual({
      clicks: 2,
      friendsJoined: 4, // rewarded ×2, held, reversed
      firstOrders: 5,
      revenueMinor: 12_000 + 8_000 + 5_000, // rewarded and held only
      rewardsPoints: 1_000,
      rewarded: 2,
      held: 1,
      rejected: 1,
      reversed: 1,
    });
    expect(await countHeldReferrals(db, f.shopId)).toBe(2);

    // A range holding nothing.
    expect(await referralStats(db, f.shopId, { from: day(20), to: day(25) })).toEqual({
      clicks: 0,
      friendsJoined: 0,
      firstOrders: 0,
      revenueMinor: 0,
      rewardsPoints: 0,
      rewarded: 0,
      held: 0,
      rejected: 0,
      reversed: 0,
    });
  });

  it('lists newest first with both parties, filters by status, pages by id', async () => {
    const { db } = handle;
    const f = await shopWithMembers(db);
    const other = await shopWithMembers(db);
    const [f0, f1] = f.friends as [number, number];
    const heldReason: ReferralReason = {
      rule: 'same_address',
      action: 'hold',
      detail: 'the friend ships to an address the referrer uses',
    };
    const a = await referral(db, f, {
      friend: f0,
      status: 'rewarded',
      amountMinor: 12_000,
      paidAt: day(2),
      rewardPoints: 500,
    });
    const b = await referral(db, f, {
      referrer: f.bea,
      friend: f1,
      status: 'held',
      amountMinor: 5_000,
      paidAt: day(3),
      reasons: [heldReason],
    });
    const c = await referral(db, f, {
      friend: null,
      status: 'rejected',
      amountMinor: 4_000,
      paidAt: day(4),
      reasons: [{ rule: 'review', action: 'reject', detail: 'rejected by staff' }],
      reviewedBy: 'Sam Staff',
    });
    await referral(db, other, {
      friend: other.friends[0]!,
      status: 'held',
      amountMinor: 1,
      paidAt: day(5),
    });

    const ids = (rows: ListedReferral[]) => rows.map((r) => r.id);
    const all = await listReferrals(db, f.shopId, { limit: 50 });
    expect(ids(all)).toEqual([c, b, a]);

    const held = all[1]!;
    expect(held).toMatchObject({
      status: 'held',
      reasons: [heldReason],
      referrer: {
        customerId: f.bea,
        externalId: '1002',
        email: 'bea@example.com',
        firstName: null,
      },
      friend: { customerId: f1, externalId: '2002', firstName: 'Friend1' },
      orderAmountMinor: 5_000,
      paidAt: day(3),
      reviewedBy: null,
      reviewedAt: null,
    });
    expect(all[0]).toMatchObject({
      friend: null,
      referrer: { firstName: 'Ann', lastName: 'Lee' },
      reviewedBy: 'Sam Staff',
      reviewedAt: day(4),
    });
    expect(all[2]).toMatchObject({ rewardPoints: 500, orderName: expect.stringMatching(/^#\d+$/) });

    expect(ids(await listReferrals(db, f.shopId, { status: 'held', limit: 50 }))).toEqual([b]);
    expect(ids(await listReferrals(db, f.shopId, { limit: 2 }))).toEqual([c, b]);
    expect(ids(await listReferrals(db, f.shopId, { limit: 2, before: b }))).toEqual([a]);
    expect(ids(await listReferrals(db, f.shopId, { limit: 2, before: a }))).toEqual([]);
    // The page size is bounded whatever is asked.
    expect(ids(await listReferrals(db, f.shopId, { limit: 0 }))).toEqual([c]);
  });
});
