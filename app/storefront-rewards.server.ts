/**
 * The shopper's rewards as the app proxy answers them: the catalog with what the member may
 * redeem now, the redeem request itself, and the member's redemptions. The caller has verified
 * who is asking (Shopify's proxy signature): `owner` is exactly that shop and customer, and
 * nothing here reads another. Contract: docs/storefront-api.md; rules: docs/redemption.md.
 */
import type { IssuedValue, RewardDefinition, UnavailableReason } from '../loyalty/rewards';
import { issuedValue, rewardAvailability } from '../loyalty/rewards';
import { getDatabase } from './db.server';
import { AppError, ErrorCode } from './errors';
import { findCustomerByExternalId } from './models/customers.server';
import { balanceOf } from './models/ledger.server';
import { REQUEST_ID, redemptionCounts } from './models/redeem.server';
import { listRedemptions, type Redemption } from './models/redemptions.server';
import { listRewards } from './models/rewards.server';
import { getShopByDomain } from './models/shops.server';
import { memberTier } from './models/tiers.server';
import { redeem, redemptionDeps, type RedeemAnswer } from './redemption.server';
import * as rewardIssuer from './reward-issuer.server';

/** The verified shop (myshopify domain) and customer (Shopify id, null when logged out). */
export interface ShopperOwner {
  shop: string;
  customerId: string | null;
}

/** What a reward gives, for display. A slider's amount depends on the points: its range. */
export type RewardValueView =
  | IssuedValue
  | { kind: 'amount_off_order'; currency: string; minAmountMinor: number; maxAmountMinor: number };

export interface RewardView {
  /** The reward's id, as text. */
  id: string;
  type: RewardDefinition['type'];
  title: string;
  /** Fixed-cost rewards. */
  pointsCost?: number;
  /** Slider rewards. */
  slider?: { pointsPerUnit: number; minPoints: number; maxPoints: number; stepPoints: number };
  value: RewardValueView;
  minimumOrderMinor: number | null;
  expiryDays: number | null;
  canRedeem: boolean;
  reason?: UnavailableReason | 'NOT_LOGGED_IN';
}

export interface CatalogView {
  rewards: RewardView[];
  /** The member's balance; null when logged out. */
  balance: number | null;
  /** The shop's currency (null when Laurel is not active on the shop). */
  currency: string | null;
  loggedIn: boolean;
}

export interface RedemptionView {
  id: string;
  code: string | null;
  status: Redemption['status'];
  points: number;
  /** ISO 8601 (UTC); null: never expires. */
  expiresAt: string | null;
  value: IssuedValue;
}

export interface RedemptionListItem extends RedemptionView {
  rewardId: string;
  title: string;
  usedAt: string | null;
  createdAt: string;
}

export const REDEMPTIONS_LIMIT = 50;

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

function valueView(definition: RewardDefinition, currency: string): RewardValueView {
  if (definition.slider !== null) {
    return {
      kind: 'amount_off_order',
      currency,
      minAmountMinor: issuedValueAmount(definition, definition.slider.minPoints, currency),
      maxAmountMinor: issuedValueAmount(definition, definition.slider.maxPoints, currency),
    };
  }
  return issuedValue(definition, definition.pointsCost!, currency);
}

function issuedValueAmount(definition: RewardDefinition, points: number, currency: string) {
  return (issuedValue(definition, points, currency) as { amountMinor: number }).amountMinor;
}

/**
 * The catalog in display order, each reward with whether the member may redeem it now and the
 * first reason not. Logged out: every reward, canRedeem false, reason NOT_LOGGED_IN, balance null.
 * A shop where Laurel is not active has no rewards to show.
 */
export async function rewardsCatalog(owner: ShopperOwner, now = new Date()): Promise<CatalogView> {
  const { db } = await getDatabase();
  const loggedIn = owner.customerId !== null;
  const shop = await getShopByDomain(db, owner.shop);
  if (!shop || !shop.active) {
    return { rewards: [], balance: loggedIn ? 0 : null, currency: null, loggedIn };
  }
  const rewards = await listRewards(db, shop.id);
  const customer = loggedIn
    ? await findCustomerByExternalId(db, shop.id, owner.customerId!)
    : undefined;
  const balance = customer ? (await balanceOf(db, shop.id, customer.id)).balance : 0;
  // Tier-only rewards list the tier keys that may redeem them (docs/tiers.md).
  const tier = customer ? ((await memberTier(db, shop.id, customer.id))?.tier?.key ?? null) : null;
  const counts = customer
    ? await redemptionCounts(db, shop.id, customer.id, now)
    : new Map<number, { total: number; inPeriod: number }>();
  return {
    rewards: rewards.map((reward) => {
      const d = reward.definition;
      const view: RewardView = {
        id: String(reward.id),
        type: d.type,
        title: d.title,
        ...(d.slider === null ? { pointsCost: d.pointsCost! } : { slider: { ...d.slider } }),
        value: valueView(d, shop.currency),
        minimumOrderMinor: d.minimumOrderMinor,
        expiryDays: d.expiryDays,
        canRedeem: false,
      };
      if (!loggedIn) return { ...view, reason: 'NOT_LOGGED_IN' };
      const past = counts.get(reward.id) ?? { total: 0, inPeriod: 0 };
      const availability = rewardAvailability(d, {
        balance,
        tier,
        redeemedTotal: past.total,
        redeemedInPeriod: past.inPeriod,
      });
      return availability.canRedeem
        ? { ...view, canRedeem: true }
        : { ...view, reason: availability.reason };
    }),
    balance: loggedIn ? balance : null,
    currency: shop.currency,
    loggedIn,
  };
}

export function redemptionView(redemption: Redemption): RedemptionView {
  return {
    id: String(redemption.id),
    code: redemption.code,
    status: redemption.status,
    points: redemption.points,
    expiresAt: iso(redemption.expiresAt),
    value: redemption.value,
  };
}

/** The member's redemptions, newest first (at most 50); none for an unknown shop or customer. */
export async function shopperRedemptions(
  owner: ShopperOwner & { customerId: string },
): Promise<{ redemptions: RedemptionListItem[] }> {
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  const customer = shop && (await findCustomerByExternalId(db, shop.id, owner.customerId));
  if (!shop || !customer) return { redemptions: [] };
  const rows = await listRedemptions(db, shop.id, customer.id, { limit: REDEMPTIONS_LIMIT });
  return {
    redemptions: rows.map((r) => ({
      ...redemptionView(r),
      rewardId: String(r.rewardId),
      title: r.title,
      usedAt: iso(r.usedAt),
      createdAt: r.createdAt.toISOString(),
    })),
  };
}

export interface RedeemBody {
  rewardId: number;
  points?: unknown;
  requestId: string;
}

function invalid(message: string): never {
  throw new AppError(ErrorCode.VALIDATION, message);
}

/**
 * The redeem request from its JSON body and headers: `rewardId` (the catalog's id: digits as text,
 * or a whole number), `points` (sliders; validated against the reward later), and the request id
 * from `requestId` or the `Idempotency-Key` header — one of them, or both the same.
 */
export function readRedeemBody(body: Record<string, unknown>, headers: Headers): RedeemBody {
  const rawReward = body.rewardId;
  const rewardId =
    typeof rawReward === 'string' && /^[1-9][0-9]{0,9}$/.test(rawReward)
      ? Number(rawReward)
      : typeof rawReward === 'number' && Number.isSafeInteger(rawReward) && rawReward > 0
        ? rawReward
        : invalid('rewardId must be the id of a reward from the catalog');
  const fromBody = body.requestId;
  const fromHeader = headers.get('Idempotency-Key');
  if (fromBody !== undefined && typeof fromBody !== 'string') {
    invalid('requestId must be text');
  }
  if (fromBody !== undefined && fromHeader !== null && fromBody !== fromHeader) {
    invalid('requestId and the Idempotency-Key header differ: send one, or the same in both');
  }
  const requestId = (fromBody as string | undefined) ?? fromHeader;
  if (requestId === null || requestId === undefined) {
    invalid('a requestId (or Idempotency-Key header) is required: one per redemption meant');
  }
  if (!REQUEST_ID.test(requestId)) {
    invalid('requestId must be 8–64 characters of letters, digits, _ and -');
  }
  return {
    rewardId,
    requestId,
    ...(body.points !== undefined ? { points: body.points } : {}),
  };
}

/** Redeems for the logged-in shopper, with the real Shopify issuer; the answer's JSON body. */
export async function redeemForShopper(
  owner: ShopperOwner & { customerId: string },
  body: RedeemBody,
): Promise<{
  status: RedeemAnswer['status'];
  body: { redemption: RedemptionView; balance: number };
}> {
  const answer = await redeem(owner, body, await redemptionDeps(rewardIssuer));
  return {
    status: answer.status,
    body: { redemption: redemptionView(answer.redemption), balance: answer.balance },
  };
}
