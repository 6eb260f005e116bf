/**
 * The referrals page's server side: the stats' days on the shop's clock and their tiles, the
 * list's rows and query, and what a review says. The settings form:
 * app/admin-referral-settings.server.test.ts; the page in Chromium:
 * tests/e2e/admin-referrals.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  parseListQuery,
  parseStatsQuery,
  rangeOf,
  referralRow,
  reviewFromAdmin,
  staffName,
  statTiles,
} from './admin-referrals.server';
import { AppError, ErrorCode, httpStatusFor } from './errors';

/** The HTTP status a thrown AppError becomes. */
function refusedStatus(run: () => unknown): number {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return httpStatusFor(error.code);
    throw error;
  }
  throw new Error('not refused');
}

describe('the stats range', () => {
  const NY = 'America/New_York';
  const at = new Date('2026-03-10T03:30:00Z'); // Mar 9, 23:30 in New York

  it('defaults to the last 30 days on the shop clock, today included', () => {
    const query = parseStatsQuery(new URLSearchParams(), NY, at);
    expect(query).toEqual({ from: '2026-02-08', to: '2026-03-09' });
    const range = rangeOf(query, NY);
    expect(range.days).toBe(30);
    expect(range.from.toISOString()).toBe('2026-02-08T05:00:00.000Z');
    // DST starts Mar 8: the range's end is midnight EDT.
    expect(range.to.toISOString()).toBe('2026-03-10T04:00:00.000Z');
  });

  it('takes days as given and refuses what is not a range', () => {
    const q = (s: string) => parseStatsQuery(new URLSearchParams(s), 'UTC', at);
    expect(q('from=2026-01-01&to=2026-01-31')).toEqual({ from: '2026-01-01', to: '2026-01-31' });
    expect(q('to=2026-01-31')).toEqual({ from: '2026-01-02', to: '2026-01-31' });
    expect(refusedStatus(() => q('from=2026-02-30'))).toBe(400);
    expect(refusedStatus(() => q('from=yesterday'))).toBe(400);
    expect(refusedStatus(() => q('from=2026-02-02&to=2026-02-01'))).toBe(400);
    expect(refusedStatus(() => q('from=2024-01-01&to=2026-01-01'))).toBe(400);
  });

  it('shows money in the shop currency', () => {
    const tiles = statTiles(
      {
        clicks: 1200,
        friendsJoined: 4,
        firstOrders: 5,
        revenueMinor: 1_234_500,
        rewardsPoints: 1500,
        rewarded: 3,
        held: 1,
        rejected: 1,
        reversed: 0,
      },
      'EUR',
    );
    expect(tiles.map((t) => `${t.label}: ${t.value}`)).toEqual([
      'Clicks: 1,200',
      'Friends joined: 4',
      'First orders: 5',
      'Revenue: €12,345.00',
      'Rewards: 1,500 points',
      'Held · rejected · reversed: 1 · 1 · 0',
    ]);
  });
});

describe('the list', () => {
  it('reads status and before, refusing others', () => {
    expect(parseListQuery(new URLSearchParams(''))).toEqual({ status: null, before: null });
    expect(parseListQuery(new URLSearchParams('status=held&before=40'))).toEqual({
      status: 'held',
      before: 40,
    });
    expect(refusedStatus(() => parseListQuery(new URLSearchParams('status=paid')))).toBe(400);
    expect(refusedStatus(() => parseListQuery(new URLSearchParams('before=-1')))).toBe(400);
  });

  it('shows parties, reasons, amounts and the review on the shop clock', () => {
    const row = referralRow(
      {
        id: 7,
        status: 'rejected',
        reasons: [
          {
            rule: 'same_address',
            action: 'hold',
            detail: 'the friend ships to an address the referrer uses',
          },
          { rule: 'review', action: 'reject', detail: 'rejected by Sam Staff' },
        ],
        referrer: {
          customerId: 1,
          externalId: '1001',
          email: 'ann@example.com',
          firstName: 'Ann',
          lastName: 'Lee',
        },
        friend: null,
        orderName: '#1002',
        shopifyOrderId: '5002',
        discountCode: 'FRIEND-ABCDEFGH',
        orderAmountMinor: 12_000,
        paidAt: new Date('2026-03-02T15:00:00Z'),
        programVersion: 1,
        rewardPoints: 0,
        reviewedBy: 'Sam Staff',
        reviewedAt: new Date('2026-03-03T15:00:00Z'),
      },
      { timezone: 'America/New_York', currency: 'USD' },
    );
    expect(row).toMatchObject({
      referrer: 'Ann Lee · ann@example.com',
      referrerId: '1001',
      friend: 'Guest order (no account)',
      friendId: null,
      amount: '$120.00',
      paidAt: 'Mar 2, 2026, 10:00 AM',
      reasons: [
        'Same address (hold): the friend ships to an address the referrer uses',
        'Review (reject): rejected by Sam Staff',
      ],
      reward: null,
      reviewed: 'Sam Staff, Mar 3, 2026, 10:00 AM',
    });
  });
});

describe('review', () => {
  const reviewed = {
    id: 3,
    orderName: '#1004',
    rewardPoints: 500,
    reasons: [],
  };

  it('says what an approval or a rejection did', async () => {
    expect(
      await reviewFromAdmin(async () => ({ ...reviewed, status: 'rewarded' }), 'approve'),
    ).toEqual({
      ok: true,
      tone: 'success',
      message: 'Referral #1004 approved: 500 points to the referrer.',
    });
    expect(
      await reviewFromAdmin(
        async () => ({ ...reviewed, status: 'rejected', rewardPoints: 0 }),
        'reject',
      ),
    ).toMatchObject({ ok: true, message: 'Referral #1004 rejected: no reward.' });
    expect(
      await reviewFromAdmin(
        async () => ({
          ...reviewed,
          status: 'rejected',
          rewardPoints: 0,
          reasons: [
            {
              rule: 'review',
              action: 'reject',
              detail: 'approved by Sam, but the order was since cancelled: not rewarded',
            },
          ],
        }),
        'approve',
      ),
    ).toEqual({
      ok: true,
      tone: 'warning',
      message:
        'Referral #1004 was not rewarded: approved by Sam, but the order was since cancelled: not rewarded.',
    });
  });

  it('gives 404 for an unknown referral and 409 for one no longer held', async () => {
    expect(
      await reviewFromAdmin(async () => {
        throw new AppError(ErrorCode.NOT_FOUND, 'no referral 99 in this shop');
      }, 'approve'),
    ).toMatchObject({ ok: false, status: 404 });
    expect(
      await reviewFromAdmin(async () => {
        throw new AppError(ErrorCode.CONFLICT, 'referral 3 is rewarded, not held');
      }, 'reject'),
    ).toMatchObject({
      ok: false,
      status: 409,
      message: expect.stringMatching(/^Not changed: referral 3 is rewarded/),
    });
    await expect(
      reviewFromAdmin(async () => {
        throw new Error('database down');
      }, 'approve'),
    ).rejects.toThrow('database down');
  });

  it('names the staff member from the session', () => {
    expect(
      staffName({
        session: {
          onlineAccessInfo: {
            associated_user: { first_name: 'Sam', last_name: 'Staff', email: 's@x.com' },
          },
        },
        sessionToken: { sub: '42' },
      }),
    ).toBe('Sam Staff');
    expect(
      staffName({ session: { onlineAccessInfo: { associated_user: { email: 's@x.com' } } } }),
    ).toBe('s@x.com');
    expect(staffName({ session: {}, sessionToken: { sub: '42' } })).toBe('staff user 42');
    expect(staffName({ session: {} })).toBe('staff');
  });
});
