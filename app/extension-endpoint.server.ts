/**
 * What the endpoints called by Laurel's UI extensions share: the customer-account endpoints
 * (app/customer-account.server.ts) and the checkout endpoints (app/checkout-extension.server.ts).
 * Both are called across origins by an extension running in Shopify's worker, with
 * `Authorization: Bearer <session token>`, and both are verified by the same code in
 * @shopify/shopify-app-remix 4.2.1: `authenticate.public.customerAccount` and
 * `authenticate.public.checkout` are one function (`authenticateExtensionFactory`) under two names.
 *
 * What that function does, from its source: a crawler User-Agent (isbot) is thrown a bare 410;
 * OPTIONS is thrown a 204 with CORS headers only when the Origin differs from the app URL; a missing
 * Authorization header is thrown a bare 401; otherwise the token is checked by jose — HS256 with the
 * app secret, `exp` and `nbf` with 10 s of tolerance — but with `checkAudience: false`, and `dest`
 * and `sub` are not looked at. Its `cors` helper (Allow-Origin `*`, Allow-Headers
 * `Authorization, Content-Type`, Expose-Headers the reauthorize header) exists only once
 * authentication succeeded, so none of its refusals carry CORS headers and a browser hides them
 * from the extension as a network failure.
 *
 * So, around it, {@link extensionRoute}:
 * - answers OPTIONS itself (204, CORS, cached 2 h by the browser);
 * - requires `aud` to be this app's API key and `dest` a myshopify domain (the shop, with or without
 *   `https://`); a `sub`, when present, must be a customer GID (`gid://shopify/Customer/<id>`);
 * - answers every refusal in the shared shape `{"error":{"code","message"}}` (app/public-api.server.ts)
 *   and puts the same CORS headers (`*`: the token, not a cookie, is the credential) on every
 *   answer, errors included; a crawler is refused 403 FORBIDDEN;
 * - marks every answer `Cache-Control: private, no-store`.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import type { JwtPayload } from '@shopify/shopify-api';
import { parseShopifyEnv } from './env.server';
import { AppError, ErrorCode } from './errors';
import { errorBody, publicFailure } from './public-api.server';
import { isMyshopifyDomain } from '../loyalty/shop-domain';

/** A verified session token: the shop it was issued for and, if signed in, the customer. */
export interface ExtensionSession {
  /** The shop's myshopify domain (the token's `dest`), lower-case. */
  shop: string;
  /** The customer's Shopify id (from `sub`, `gid://shopify/Customer/<id>`), or null: no `sub`. */
  customerId: string | null;
  /** The verified token's claims. */
  token: JwtPayload;
}

/** The library's verification for one surface: resolves the claims or throws a bare Response. */
export type AuthenticateExtension = (request: Request) => Promise<{ sessionToken: JwtPayload }>;

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/([1-9][0-9]{0,19})$/;

/** The headers every answer carries, the library's `cors` helper's set plus the preflight's. */
export const EXTENSION_CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Allow-Methods': 'GET, OPTIONS',
  'Access-Control-Expose-Headers': 'X-Shopify-API-Request-Failure-Reauthorize-Url',
};

/** A JSON answer with the endpoints' cache policy (CORS is added by the wrapper). */
export function extensionJson(
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
  for (const [name, value] of Object.entries(EXTENSION_CORS_HEADERS)) out.headers.set(name, value);
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
async function verifiedToken(request: Request, authenticate: AuthenticateExtension) {
  const header = request.headers.get('Authorization') ?? '';
  if (!/^Bearer [^\s]+$/.test(header)) {
    unauthorized('the request has no session token (Authorization: Bearer <token>)');
  }
  try {
    const { sessionToken } = await authenticate(request);
    return sessionToken;
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    if (thrown.status === 410) {
      throw new AppError(ErrorCode.FORBIDDEN, 'requests from crawlers are not answered');
    }
    unauthorized('the session token is not valid: bad signature, expired or not yet valid');
  }
}

/**
 * Verifies a request's session token as described in the module comment; throws AppError
 * otherwise. `requireCustomer`: a token without `sub` is refused too (401), before its shop is read.
 */
export async function verifyExtensionRequest(
  request: Request,
  authenticate: AuthenticateExtension,
  options: { requireCustomer: boolean },
): Promise<ExtensionSession> {
  const token = await verifiedToken(request, authenticate);
  if (token.aud !== appApiKey()) {
    unauthorized('the session token was not issued for this app');
  }
  let customerId: string | null = null;
  if (token.sub !== undefined || options.requireCustomer) {
    const customer = typeof token.sub === 'string' ? CUSTOMER_GID.exec(token.sub) : null;
    if (!customer) unauthorized('the session token names no signed-in customer');
    customerId = customer[1]!;
  }
  const dest = typeof token.dest === 'string' ? token.dest.toLowerCase() : '';
  const shop = dest.startsWith('https://') ? dest.slice('https://'.length) : dest;
  if (!isMyshopifyDomain(shop)) unauthorized('the session token names no shop');
  return { shop, customerId, token };
}

/**
 * An extension endpoint's loader: preflight, `verify`, errors and CORS as described in the module
 * comment; `handler` runs only for a request `verify` accepted. `surface` names it in the logs.
 */
export function extensionRoute<Context>(
  surface: string,
  verify: (request: Request) => Promise<Context>,
  handler: (context: Context, args: LoaderFunctionArgs) => Promise<Response>,
): (args: LoaderFunctionArgs) => Promise<Response> {
  return async (args) => {
    const { request } = args;
    if (request.method === 'OPTIONS') {
      return withCors(
        new Response(null, { status: 204, headers: { 'Access-Control-Max-Age': '7200' } }),
      );
    }
    try {
      return withCors(await handler(await verify(request), args));
    } catch (error) {
      if (error instanceof Response) return withCors(error);
      const failure = publicFailure(error, { surface, path: new URL(request.url).pathname });
      return withCors(extensionJson(failure.body, { status: failure.status }));
    }
  };
}

/** The 405 of an endpoint that only reads, in the shared shape. */
export async function onlyGet(): Promise<Response> {
  return extensionJson(errorBody(ErrorCode.METHOD_NOT_ALLOWED, 'only GET is answered here'), {
    status: 405,
    headers: { Allow: 'GET, OPTIONS' },
  });
}
