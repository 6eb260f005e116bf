/**
 * The customer-account endpoints (`/api/account/*` on the app's own origin), called by the
 * customer-account UI extension (extensions/laurel-account) from Shopify's account pages, across
 * origins, with `Authorization: Bearer <session token>`. Every such route is wrapped in
 * {@link customerAccountRoute}: the one path that verifies the token, names the shop and the
 * customer, answers errors and sets CORS. Contract: docs/storefront-api.md.
 *
 * What `authenticate.public.customerAccount` (@shopify/shopify-app-remix 4.2.1) does, from its
 * source: a crawler User-Agent (isbot) is thrown a bare 410; OPTIONS is thrown a 204 with CORS
 * headers only when the Origin differs from the app URL; a missing Authorization header is thrown
 * a bare 401; otherwise the token is checked by jose — HS256 with the app secret, `exp` and `nbf`
 * with 10 s of tolerance — but with `checkAudience: false`, and `dest` and `sub` are not looked at.
 * Its `cors` helper (Allow-Origin `*`, Allow-Headers `Authorization, Content-Type`, Expose-Headers
 * the reauthorize header) exists only once authentication succeeded, so none of its refusals carry
 * CORS headers and a browser hides them from the extension as a network failure.
 *
 * So, around it, this helper:
 * - answers OPTIONS itself (204, CORS, cached 2 h by the browser);
 * - requires `aud` to be this app's API key, `dest` a myshopify domain (the shop, with or without
 *   `https://`), and `sub` a customer GID (`gid://shopify/Customer/<id>`, the customer);
 * - answers every refusal in the shared shape `{"error":{"code","message"}}` and puts the same CORS
 *   headers (`*`: the token, not a cookie, is the credential) on every answer, errors included;
 * - marks every answer `Cache-Control: private, no-store`.
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
import { parseShopifyEnv } from './env.server';
import { AppError, ErrorCode } from './errors';
import { errorBody, publicFailure } from './public-api.server';
import { authenticate } from './shopify.server';
import { isMyshopifyDomain } from '../loyalty/shop-domain';

/** A verified customer-account request. */
export interface CustomerAccountContext {
  /** The shop's myshopify domain (the token's `dest`), lower-case. */
  shop: string;
  /** The customer's Shopify id (from the token's `sub`, `gid://shopify/Customer/<id>`). */
  customerId: string;
  /** The verified token's claims. */
  token: JwtPayload;
}

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/([1-9][0-9]{0,19})$/;

/** The headers every answer carries, the library's `cors` helper's set plus the preflight's. */
export const ACCOUNT_CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Allow-Methods': 'GET, OPTIONS',
  'Access-Control-Expose-Headers': 'X-Shopify-API-Request-Failure-Reauthorize-Url',
};

/** A JSON answer with the endpoints' cache policy (CORS is added by the wrapper). */
export function accountJson(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return Response.json(body, {
    status: init.status ?? 200,
    headers: { ...init.headers, 'Cache-Control': 'private, no-store', Vary: 'Accept-Language' },
  });
}

function withCors(response: Response): Response {
  // A Response from a handler may have immutable headers (Response.redirect): copy it.
  const out = new Response(response.body, response);
  for (const [name, value] of Object.entries(ACCOUNT_CORS_HEADERS)) out.headers.set(name, value);
  return out;
}

function unauthorized(message: string): never {
  throw new AppError(ErrorCode.UNAUTHORIZED, message);
}

let apiKey: string | undefined;
function appApiKey(): string {
  apiKey ??= parseShopifyEnv().SHOPIFY_API_KEY;
  return apiKey;
}

/** The library's verification, its bare refusals turned into coded AppErrors. */
async function verifiedToken(request: Request): Promise<JwtPayload> {
  const header = request.headers.get('Authorization') ?? '';
  if (!/^Bearer [^\s]+$/.test(header)) {
    unauthorized('the request has no session token (Authorization: Bearer <token>)');
  }
  try {
    const { sessionToken } = await authenticate.public.customerAccount(request);
    return sessionToken;
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    if (thrown.status === 410) {
      throw new AppError(ErrorCode.FORBIDDEN, 'requests from crawlers are not answered');
    }
    unauthorized('the session token is not valid: bad signature, expired or not yet valid');
  }
}

/** Verifies a request as described in the module comment; throws AppError otherwise. */
export async function verifyCustomerAccountRequest(
  request: Request,
): Promise<CustomerAccountContext> {
  const token = await verifiedToken(request);
  if (token.aud !== appApiKey()) {
    unauthorized('the session token was not issued for this app');
  }
  const customer = typeof token.sub === 'string' ? CUSTOMER_GID.exec(token.sub) : null;
  if (!customer) unauthorized('the session token names no signed-in customer');
  const dest = typeof token.dest === 'string' ? token.dest.toLowerCase() : '';
  const shop = dest.startsWith('https://') ? dest.slice('https://'.length) : dest;
  if (!isMyshopifyDomain(shop)) unauthorized('the session token names no shop');
  return { shop, customerId: customer[1]!, token };
}

/**
 * A customer-account route's loader: preflight, verification, errors and CORS as described in the
 * module comment; `handler` runs only for a verified GET.
 */
export function customerAccountRoute(
  handler: (account: CustomerAccountContext, args: LoaderFunctionArgs) => Promise<Response>,
): (args: LoaderFunctionArgs) => Promise<Response> {
  return async (args) => {
    const { request } = args;
    if (request.method === 'OPTIONS') {
      return withCors(
        new Response(null, { status: 204, headers: { 'Access-Control-Max-Age': '7200' } }),
      );
    }
    try {
      const account = await verifyCustomerAccountRequest(request);
      return withCors(await handler(account, args));
    } catch (error) {
      if (error instanceof Response) return withCors(error);
      const failure = publicFailure(error, {
        surface: 'customer account',
        path: new URL(request.url).pathname,
      });
      return withCors(accountJson(failure.body, { status: failure.status }));
    }
  };
}

/**
 * The action of an endpoint that only reads: 405 in the shared shape, with CORS, for a request
 * whose token verified (a refused token is answered first, like any other).
 */
export const readOnlyAccountAction = customerAccountRoute(async () =>
  accountJson(errorBody(ErrorCode.METHOD_NOT_ALLOWED, 'only GET is answered here'), {
    status: 405,
    headers: { Allow: 'GET, OPTIONS' },
  }),
);
