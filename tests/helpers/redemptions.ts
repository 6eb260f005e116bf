/**
 * Seeds a redemption as the redeem flow leaves it (reward, debit entry, row), for tests of what
 * happens after issue: usage, refunds, expiry, the admin list.
 */
import { randomUUID } from 'node:crypto';
import type { Executor } from '../../db/client.server';
import { redemptions } from '../../db/schema';
import { post } from '../../app/models/ledger.server';
import type { Redemption, RedemptionStatus } from '../../app/models/redemptions.server';
import { createReward, type Reward } from '../../app/models/rewards.server';
import { issuedValue } from '../../loyalty/rewards';

export const FIVE_OFF = {
  type: 'fixed_amount',
  title: '$5 off',
  pointsCost: 500,
  amountMinor: 500,
};

export async function seedReward(db: Executor, shopId: number, definition: unknown = FIVE_OFF) {
  return createReward(db, shopId, definition);
}

/**
 * A redemption of `reward` by `customerId`: earns the points first (an adjustment), then debits
 * them as the redeem flow does, and stores the row with `status`.
 */
export async function seedRedemption(
  db: Executor,
  shopId: number,
  customerId: number,
  reward: Reward,
  options: {
    status?: RedemptionStatus;
    code?: string | null;
    issuedAt?: Date;
    expiresAt?: Date | null;
    currency?: string;
  } = {},
): Promise<Redemption> {
  const points = reward.definition.pointsCost ?? reward.definition.slider!.minPoints;
  const key = randomUUID();
  const issuedAt = options.issuedAt ?? new Date();
  await post(db, shopId, {
    customerId,
    idempotencyKey: `test:${key}:earn`,
    source: 'adjustment',
    points,
    occurredAt: issuedAt,
    inputs: { reason: 'test points to redeem' },
  });
  const debit = await post(db, shopId, {
    customerId,
    idempotencyKey: `test:${key}:debit`,
    source: 'redemption',
    points: -points,
    occurredAt: issuedAt,
    inputs: { rewardId: reward.id, rewardVersion: reward.version, points },
  });
  const [row] = await db
    .insert(redemptions)
    .values({
      shopId,
      customerId,
      rewardId: reward.id,
      rewardVersion: reward.version,
      requestId: key,
      status: options.status ?? 'issued',
      points,
      value: issuedValue(reward.definition, points, options.currency ?? 'USD'),
      code:
        options.code === undefined
          ? `LRL-TEST-${key.slice(0, 4).toUpperCase()}-${key.slice(4, 8).toUpperCase()}`
          : options.code,
      shopifyDiscountId: `gid://shopify/DiscountCodeNode/${Math.floor(Math.random() * 1e9)}`,
      debitEntryId: debit.entry.id,
      issuedAt,
      expiresAt:
        options.expiresAt === undefined
          ? new Date(issuedAt.getTime() + 30 * 86_400_000)
          : options.expiresAt,
    })
    .returning();
  return row as Redemption;
}
