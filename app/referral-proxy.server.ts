/**
 * The shopper's side of referrals through the app proxy (docs/storefront-api.md, Referrals;
 * rules: docs/referrals.md): the share link's landing, `/apps/loyalty/r/<code>`, and the member's
 * own link and counts, `GET /apps/loyalty/referral`. The caller has verified the request
 * (appProxyRoute): the shop and customer here are exactly what Shopify signed.
 */
import type { Executor } from '../db/client.server';
import { appProxyRoute, proxyJson } from './app-proxy.server';
import { getDatabase } from './db.server';
import { AppError, ErrorCode } from './errors';
import { logger } from './logger.server';
import { findCustomerByExternalId } from './models/customers.server';
import { fingerprint, fingerprintKeyOf } from './models/fingerprints.server';
import {
  ensureReferralCodes,
  findReferralCode,
  memberReferralSummary,
  recordReferralClick,
  referralCodeOf,
  type ClickOutcome,
} from './models/referral-codes.server';
import { currentReferralProgram } from './models/referral-programs.server';
import { ipKey } from '../loyalty/contact-keys';
import { getShopByDomain } from './models/shops.server';

/** Where a friend lands after Shopify put the code in their cart: the home page, welcomed. */
export const WELCOME_PATH = '/?laurel_referral=1';

/** Where every other landing goes: the shop's home, no discount, never an error page. */
export const HOME_PATH = '/';

/**
 * Shopify's discount URL for `friendCode`: Shopify applies the code to the cart and redirects to
 * `redirect`. Relative, so the browser stays on the domain the shopper is on (custom domains too).
 */
export function discountPath(friendCode: string): string {
  return `/discount/${encodeURIComponent(friendCode)}?redirect=${encodeURIComponent(WELCOME_PATH)}`;
}

/**
 * The shopper's IP as Shopify's app proxy forwards it: the first address of `X-Forwarded-For`
 * (Shopify writes the client's address there; a load balancer in front of the app appends its
 * own after it). Normalised so one address hashes one way (IPv4-mapped IPv6 read as IPv4, IPv6
 * lower-case); null when the header is missing or its first entry is not an address.
 */
export function clientIpOf(headers: Headers): string | null {
  return ipKey((headers.get('X-Forwarded-For') ?? '').split(',')[0]);
}

export interface Landing {
  /** The Location of the 302. */
  location: string;
  /** What was recorded; null when the shop is not one Laurel knows (nothing to record it under). */
  outcome: ClickOutcome | null;
}

/**
 * Where a share link's landing goes, recorded in referral_clicks: an `active` code of the shop's
 * enabled program → Shopify's discount URL for its friend code; a code unknown in this shop
 * (another shop's included), one not active at Shopify yet (pending or failed), or no enabled
 * program → the home page. The IP is kept only as the shop's keyed hash.
 */
export async function referralLanding(
  db: Executor,
  landing: { shop: string; code: string; ip: string | null; now?: Date },
): Promise<Landing> {
  const shop = await getShopByDomain(db, landing.shop);
  if (!shop) return { location: HOME_PATH, outcome: null };
  const now = landing.now ?? new Date();
  const current = await currentReferralProgram(db, shop.id, now);
  const code = await findReferralCode(db, shop.id, landing.code);
  let outcome: ClickOutcome;
  if (!shop.active || !current?.program.enabled) outcome = 'disabled';
  else if (!code) outcome = 'unknown_code';
  else if (code.status !== 'active') outcome = 'inactive_code';
  else outcome = 'redirected';
  const ipHash =
    landing.ip === null ? null : fingerprint(await fingerprintKeyOf(db, shop.id), 'ip', landing.ip);
  await recordReferralClick(db, shop.id, { codeId: code?.id ?? null, ipHash, outcome, at: now });
  return {
    location: outcome === 'redirected' ? discountPath(code!.friendCode) : HOME_PATH,
    outcome,
  };
}

/** shopify.app.toml [app_proxy]: where the storefront mounts the proxy unless the merchant moved it. */
const DEFAULT_PATH_PREFIX = '/apps/loyalty';
const PATH_PREFIX = /^(\/[A-Za-z0-9_-]+)+$/;

/** `GET /apps/loyalty/referral`: the member's share link and what it brought them. */
export interface MemberReferralView {
  /** The friend code: what the link carries and what a friend types at checkout. */
  code: string;
  /** `https://<shop>.myshopify.com<path prefix>/r/<code>` (Shopify sends it to the primary domain). */
  url: string;
  /**
   * False until Shopify holds the code (made moments ago, or refused): the link leads home
   * without the discount until then.
   */
  active: boolean;
  friendsJoined: number;
  rewardsEarned: number;
}

export interface MemberReferralDeps {
  /**
   * Asks the worker to add a code made now to the shop's friend discount (enqueueReferralSync). A
   * failed request is logged and left to the periodic sweep: the member still gets their code.
   */
  requestSync: (shop: string) => Promise<unknown>;
  now?: Date;
}

/**
 * The logged-in member's referral code — made now (with the program's prefix) when they have none
 * — their link under the proxy's `pathPrefix`, and their counts. Refused (AppError): SHOP_INACTIVE
 * for a shop Laurel is not installed on, NOT_FOUND when the shop offers no referral program (none,
 * or turned off) or Laurel has not enrolled the customer yet.
 */
export async function memberReferral(
  owner: { shop: string; customerId: string; pathPrefix: string },
  deps: MemberReferralDeps,
): Promise<MemberReferralView> {
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  if (!shop?.active) {
    throw new AppError(ErrorCode.SHOP_INACTIVE, 'Laurel is not installed on this shop');
  }
  const current = await currentReferralProgram(db, shop.id, deps.now);
  if (!current) throw new AppError(ErrorCode.NOT_FOUND, 'this shop has no referral program');
  if (!current.program.enabled) {
    throw new AppError(ErrorCode.NOT_FOUND, "this shop's referral program is turned off");
  }
  const customer = await findCustomerByExternalId(db, shop.id, owner.customerId);
  if (!customer) {
    throw new AppError(
      ErrorCode.NOT_FOUND,
      'this account is not a member of the loyalty program yet; try again in a moment',
    );
  }
  let code = await referralCodeOf(db, shop.id, customer.id);
  if (!code) {
    code = (await ensureReferralCodes(db, shop.id, [customer.id], current.program.codePrefix)).get(
      customer.id,
    );
    if (!code) throw new Error(`no referral code could be made for customer ${customer.id}`);
    await deps
      .requestSync(shop.domain)
      .catch((error: unknown) =>
        logger().warn(
          { shop: shop.domain, err: error instanceof Error ? error.message : String(error) },
          'referral code sync not enqueued; the sweep will add the code',
        ),
      );
  }
  const summary = await memberReferralSummary(db, shop.id, customer.id);
  // Merchants may move the proxy (/a/loyalty, /tools/…): Shopify signs where it is.
  const signed = owner.pathPrefix.replace(/\/+$/, '');
  const prefix = PATH_PREFIX.test(signed) ? signed : DEFAULT_PATH_PREFIX;
  return {
    code: code.friendCode,
    url: `https://${shop.domain}${prefix}/r/${encodeURIComponent(code.friendCode)}`,
    active: code.status === 'active',
    friendsJoined: summary.friendsJoined,
    rewardsEarned: summary.rewardsEarned,
  };
}

/**
 * The loader of `GET /apps/loyalty/referral` (app/routes/proxy.referral.tsx) over `deps`: 401
 * NOT_LOGGED_IN with nobody logged in, else {@link memberReferral} for the signed customer.
 */
export function memberReferralLoader(deps: () => MemberReferralDeps) {
  return appProxyRoute(async ({ shop, customerId, pathPrefix }) => {
    if (!customerId) {
      throw new AppError(ErrorCode.NOT_LOGGED_IN, 'log in to get your referral link');
    }
    return proxyJson(await memberReferral({ shop, customerId, pathPrefix }, deps()));
  });
}
