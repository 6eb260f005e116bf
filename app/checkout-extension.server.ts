/**
 * The checkout endpoints (`/api/checkout/*` on the app's own origin), called by the checkout UI
 * extension (extensions/laurel-checkout) from Shopify's checkout, across origins, with
 * `Authorization: Bearer <checkout session token>`. Every such route is wrapped in
 * {@link checkoutExtensionRoute}: the one path that verifies the token, names the shop and the
 * buyer, answers errors and sets CORS. Contract: docs/checkout.md.
 *
 * Verification, preflight, CORS on every answer and the error shape are the customer-account
 * endpoints' (app/extension-endpoint.server.ts says what `authenticate.public.checkout` in
 * @shopify/shopify-app-remix 4.2.1 checks — the same function as `customerAccount` — and what
 * Laurel adds). The difference is the buyer: a checkout token carries `sub` (the customer's GID)
 * only when the buyer is signed in and the app may read customers, so a token without `sub` is a
 * valid request from a guest (`customerId: null`), and each route says what a guest gets.
 *
 * | Status | Code               | When                                                                 |
 * | ------ | ------------------ | -------------------------------------------------------------------- |
 * | 204    | —                  | OPTIONS (preflight)                                                  |
 * | 401    | UNAUTHORIZED       | no bearer token; bad signature, expired or not yet valid; wrong      |
 * |        |                    | audience; no shop (`dest`), or a `sub` that is not a customer GID    |
 * | 401    | NOT_LOGGED_IN      | a route that needs the customer, for a guest's token (no `sub`)      |
 * | 403    | FORBIDDEN          | a crawler's User-Agent                                               |
 * | 405    | METHOD_NOT_ALLOWED | not GET or OPTIONS (`readOnlyCheckoutAction`), once the token verified |
 * | 503    | UNAVAILABLE        | the database could not be reached                                    |
 * | 500    | INTERNAL           | a bug; logged with its stack                                         |
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { getDatabase } from './db.server';
import { AppError, ErrorCode } from './errors';
import {
  extensionRoute,
  onlyGet,
  verifyExtensionRequest,
  type ExtensionSession,
} from './extension-endpoint.server';
import { findCustomerByExternalId } from './models/customers.server';
import { listRedemptions } from './models/redemptions.server';
import { getShopByDomain } from './models/shops.server';
import { authenticate } from './shopify.server';
import type { IssuedValue } from '../loyalty/rewards';

/** A verified checkout request: the shop, and the buyer's Shopify customer id or null (a guest). */
export type CheckoutContext = ExtensionSession;

/** Verifies a request as described in the module comment; throws AppError otherwise. */
export function verifyCheckoutRequest(request: Request): Promise<CheckoutContext> {
  return verifyExtensionRequest(request, authenticate.public.checkout, { requireCustomer: false });
}

/**
 * A checkout route's loader: preflight, verification, errors and CORS as described in the module
 * comment; `handler` runs only for a verified GET, guest or customer.
 */
export function checkoutExtensionRoute(
  handler: (checkout: CheckoutContext, args: LoaderFunctionArgs) => Promise<Response>,
): (args: LoaderFunctionArgs) => Promise<Response> {
  return extensionRoute('checkout', verifyCheckoutRequest, handler);
}

/** The action of an endpoint that only reads: 405 in the shared shape, with CORS. */
export const readOnlyCheckoutAction = checkoutExtensionRoute(onlyGet);

/** The signed-in buyer's customer id, or 401 NOT_LOGGED_IN for a guest. */
export function requireCustomer(checkout: CheckoutContext): string {
  if (checkout.customerId === null) {
    throw new AppError(ErrorCode.NOT_LOGGED_IN, 'sign in to use your rewards');
  }
  return checkout.customerId;
}

/** One code the buyer can apply: `GET /api/checkout/rewards` answers a list of these. */
export interface CheckoutRewardCode {
  /** The redemption's id, as text. */
  id: string;
  code: string;
  /** The reward's title as it was when redeemed ("$5 off your next order"). */
  title: string;
  value: IssuedValue;
  /** ISO 8601, UTC; null for a code that does not expire. */
  expiresAt: string | null;
}

/** The most codes one answer holds; a member rarely has more than a few open. */
export const CHECKOUT_CODES_LIMIT = 50;

/**
 * The customer's issued codes that can still be used, newest first: status `issued`, a code, and
 * not past `expires_at` (the expiry sweep may not have closed it yet; Shopify would refuse it). A
 * shop or customer Laurel does not know has none.
 */
export async function issuedRewardCodes(
  owner: { shop: string; customerId: string },
  now = new Date(),
): Promise<CheckoutRewardCode[]> {
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  if (!shop) return [];
  const customer = await findCustomerByExternalId(db, shop.id, owner.customerId);
  if (!customer) return [];
  const redemptions = await listRedemptions(db, shop.id, customer.id, {
    statuses: ['issued'],
    limit: CHECKOUT_CODES_LIMIT,
  });
  const codes: CheckoutRewardCode[] = [];
  for (const redemption of redemptions) {
    if (redemption.code === null) continue;
    if (redemption.expiresAt !== null && redemption.expiresAt <= now) continue;
    codes.push({
      id: String(redemption.id),
      code: redemption.code,
      title: redemption.title,
      value: redemption.value,
      expiresAt: redemption.expiresAt?.toISOString() ?? null,
    });
  }
  return codes;
}
