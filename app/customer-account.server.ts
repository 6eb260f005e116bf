/**
 * The customer-account endpoints (`/api/account/*` on the app's own origin), called by the
 * customer-account UI extension (extensions/laurel-account) from Shopify's account pages, across
 * origins, with `Authorization: Bearer <session token>`. Every such route is wrapped in
 * {@link customerAccountRoute}: the one path that verifies the token, names the shop and the
 * customer, answers errors and sets CORS. Contract: docs/storefront-api.md.
 *
 * Verification, preflight, CORS on every answer and the error shape are shared with the checkout
 * endpoints: app/extension-endpoint.server.ts says what `authenticate.public.customerAccount`
 * (@shopify/shopify-app-remix 4.2.1) checks and what Laurel adds around it. Here the token must
 * also name a customer: `sub`, a customer GID (`gid://shopify/Customer/<id>`).
 *
 * | Status | Code               | When                                                                 |
 * | ------ | ------------------ | -------------------------------------------------------------------- |
 * | 204    | —                  | OPTIONS (preflight)                                                  |
 * | 401    | UNAUTHORIZED       | no bearer token; bad signature, expired or not yet valid; wrong      |
 * |        |                    | audience; no customer (`sub`) or no shop (`dest`) in the token       |
 * | 403    | FORBIDDEN          | a crawler's User-Agent                                               |
 * | 405    | METHOD_NOT_ALLOWED | not GET or OPTIONS (`readOnlyAccountAction`), once the token verified |
 * | 503    | UNAVAILABLE        | the database could not be reached                                    |
 * | 500    | INTERNAL           | a bug; logged with its stack                                         |
 *
 * Routes add their own 4xx by throwing an AppError (400 VALIDATION, 400 BAD_CURSOR).
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import type { JwtPayload } from '@shopify/shopify-api';
import {
  EXTENSION_CORS_HEADERS,
  extensionJson,
  extensionRoute,
  onlyGet,
  verifyExtensionRequest,
} from './extension-endpoint.server';
import { authenticate } from './shopify.server';

/** A verified customer-account request. */
export interface CustomerAccountContext {
  /** The shop's myshopify domain (the token's `dest`), lower-case. */
  shop: string;
  /** The customer's Shopify id (from the token's `sub`, `gid://shopify/Customer/<id>`). */
  customerId: string;
  /** The verified token's claims. */
  token: JwtPayload;
}

/** The headers every answer carries (shared with the checkout endpoints). */
export const ACCOUNT_CORS_HEADERS = EXTENSION_CORS_HEADERS;

/** A JSON answer with the endpoints' cache policy (CORS is added by the wrapper). */
export const accountJson = extensionJson;

/** Verifies a request as described in the module comment; throws AppError otherwise. */
export async function verifyCustomerAccountRequest(
  request: Request,
): Promise<CustomerAccountContext> {
  const session = await verifyExtensionRequest(request, authenticate.public.customerAccount, {
    requireCustomer: true,
  });
  return { ...session, customerId: session.customerId! };
}

/**
 * A customer-account route's loader: preflight, verification, errors and CORS as described in the
 * module comment; `handler` runs only for a verified GET.
 */
export function customerAccountRoute(
  handler: (account: CustomerAccountContext, args: LoaderFunctionArgs) => Promise<Response>,
): (args: LoaderFunctionArgs) => Promise<Response> {
  return extensionRoute('customer account', verifyCustomerAccountRequest, handler);
}

/**
 * The action of an endpoint that only reads: 405 in the shared shape, with CORS, for a request
 * whose token verified (a refused token is answered first, like any other).
 */
export const readOnlyAccountAction = customerAccountRoute(onlyGet);
