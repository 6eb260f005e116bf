/**
 * The expiry sweep's work (workers/handlers/redemptions.ts, `expire-redemptions`): issued codes
 * whose time ran out are closed — deactivated at Shopify, then `expired` (points kept) or, when the
 * reward says so, `refunded` with the points given back. Rules: docs/redemption.md ("Expiry").
 *
 * Shopify already stops a code at its endsAt; deactivating says so explicitly and covers a code
 * whose end date was edited by hand. Before giving points back, Shopify's own use count is read:
 * an order paid just before the end may not have reached Laurel yet, and a code that was used
 * must not also be refunded.
 */
import { getShop, type Shop } from './models/shops.server';
import { getRewardVersion } from './models/rewards.server';
import {
  dueForExpiry,
  markExpired,
  markUsedAtShopify,
  shopsWithDueExpiries,
} from './models/redemption-lifecycle.server';
import { returnPoints } from './models/redeem.server';
import type { Redemption } from './models/redemptions.server';
import { customerGid } from './metafields';
import { getCustomer } from './models/customers.server';
import type { RedemptionDeps } from './redemption.server';
import type { AdminClient } from './shopify/admin-client.server';

/**
 * A code is closed this long after its end, not at once: an order placed in the last minutes
 * reaches Laurel (orders/paid) and Shopify's use count well within it.
 */
export const EXPIRY_GRACE_MS = 60 * 60_000;

export interface ExpiryResult {
  checked: number;
  expired: number;
  refunded: number;
  /** Shopify counted a use: marked used, the order follows by webhook. */
  used: number;
  /** Left for the next run (Shopify unreachable, no token). */
  skipped: number;
}

function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

async function expireOne(
  deps: RedemptionDeps,
  shop: Shop,
  client: AdminClient,
  redemption: Redemption,
  result: ExpiryResult,
): Promise<void> {
  const now = deps.now();
  const customer = await getCustomer(deps.db, shop.id, redemption.customerId);
  const found =
    redemption.code === null || !customer
      ? null
      : await deps.issuer.findIssuedDiscount(
          client,
          redemption.code,
          customerGid(customer.externalId),
        );
  if (found && found.usageCount > 0) {
    if (await markUsedAtShopify(deps.db, shop.id, redemption.id, now)) result.used++;
    return;
  }
  if (found && found.status !== 'EXPIRED') {
    await deps.issuer.deactivateDiscount(client, found.discountId);
  }
  const definition = await getRewardVersion(
    deps.db,
    shop.id,
    redemption.rewardId,
    redemption.rewardVersion,
  );
  if (definition?.refundPointsOnExpiry) {
    const { returned } = await returnPoints(deps.db, shop.id, redemption.id, {
      status: 'refunded',
      reason: `code ${redemption.code ?? ''} expired unused on ${formatDay(redemption.expiresAt!)}; the reward gives its points back`,
      now,
    });
    if (returned) result.refunded++;
    return;
  }
  if (await markExpired(deps.db, shop.id, redemption.id, now)) result.expired++;
}

/**
 * Closes every issued code that ended more than `graceMs` ago, shop by shop, at most
 * `limitPerShop` per shop and run. A redemption Shopify could not be asked about stays issued for
 * the next run; nothing is refunded on a guess.
 */
export async function expireDueRedemptions(
  deps: RedemptionDeps,
  options: { graceMs?: number; limitPerShop?: number } = {},
): Promise<ExpiryResult> {
  const expiredBefore = new Date(deps.now().getTime() - (options.graceMs ?? EXPIRY_GRACE_MS));
  const result: ExpiryResult = { checked: 0, expired: 0, refunded: 0, used: 0, skipped: 0 };
  for (const { shopId } of await shopsWithDueExpiries(deps.db, expiredBefore)) {
    const shop = await getShop(deps.db, shopId);
    if (!shop) continue;
    const due = await dueForExpiry(deps.db, shop.id, expiredBefore, options.limitPerShop ?? 100);
    const client = await deps.adminClient(shop);
    if (!client) {
      result.skipped += due.length;
      deps.log.warn(
        { shop: shop.domain },
        'expired codes not closed: the shop has no offline token',
      );
      continue;
    }
    for (const redemption of due) {
      result.checked++;
      try {
        await expireOne(deps, shop, client, redemption, result);
      } catch (error) {
        result.skipped++;
        deps.log.warn(
          { shop: shop.domain, redemptionId: redemption.id, err: (error as Error).message },
          'expired code not closed this run; the next run tries again',
        );
      }
    }
  }
  return result;
}
