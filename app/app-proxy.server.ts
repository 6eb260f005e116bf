/**
 * The storefront app proxy (shopify.app.toml [app_proxy]: https://<shop>/apps/loyalty/… →
 * /proxy/…). Every proxy route is wrapped in `appProxyRoute`, the one path that verifies Shopify's
 * signature and answers errors; a route handler only ever sees values the signature covered.
 *
 * Why not `authenticate.public.appProxy` alone: the library verifies the signature over
 * `Object.fromEntries(searchParams)` (the last of repeated parameters wins) while a route reading
 * `searchParams.get` gets the first, so `?logged_in_customer_id=777&<a signed query>` verified and
 * answered for customer 777. Here the signature is checked as Shopify computes it — every
 * parameter but `signature`, repeated names joined with commas, sorted by name, concatenated as
 * `name=value`, HMAC-SHA256 in hex with the app secret, at most 90 s old (the library's tolerance)
 * — and the values handed to the route are read from that same map. A reserved parameter that
 * appears twice is refused outright, before anything else.
 *
 * Every answer carries `Cache-Control: private, no-store` (it is one customer's data, behind the
 * shop's own domain): JSON, or `application/liquid` for a page Shopify renders inside the theme.
 * Errors are `{"error": {"code": "<ErrorCode>", "message": "<reason>"}}` (app/public-api.server.ts,
 * the shape the customer-account endpoints share):
 *
 * | Status | Code                   | When                                                              |
 * | ------ | ---------------------- | ----------------------------------------------------------------- |
 * | 400    | VALIDATION             | a reserved parameter repeated; shop or customer id malformed      |
 * | 401    | UNAUTHORIZED           | no signature, timestamp missing or over 90 s away, bad signature  |
 * | 413    | PAYLOAD_TOO_LARGE      | a POST body over 8 KB (readProxyJson)                             |
 * | 415    | UNSUPPORTED_MEDIA_TYPE | a POST body that is not `application/json` (readProxyJson)        |
 * | 503    | UNAVAILABLE            | the database (or Redis) could not be reached; nothing was changed |
 * | 500    | INTERNAL               | a bug; logged with its stack, the answer says nothing more        |
 *
 * Route handlers add their own 4xx by throwing an AppError (its code's status, its message); every
 * route's codes are listed in docs/storefront-api.md.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { parseShopifyEnv } from './env.server';
import { AppError, ErrorCode, httpStatusFor } from './errors';
import { errorBody, publicFailure } from './public-api.server';
import { isMyshopifyDomain } from '../loyalty/shop-domain';

/** Parameters Shopify adds and signs on every proxied request: never accepted twice. */
export const RESERVED_PARAMETERS = [
  'shop',
  'logged_in_customer_id',
  'path_prefix',
  'timestamp',
  'signature',
] as const;

/** Same tolerance as @shopify/shopify-api's HMAC timestamp check, either side of now. */
export const SIGNATURE_MAX_AGE_SECONDS = 90;

/** Shopify customer ids are positive integers (the legacy numeric id, not the GID). */
const CUSTOMER_ID = /^[1-9][0-9]{0,19}$/;

const PRIVATE = 'private, no-store';

/** A verified app proxy request: everything here was covered by Shopify's signature. */
export interface AppProxyContext {
  /** The shop's myshopify domain, lower-case. */
  shop: string;
  /** The logged-in customer's Shopify id, or null when nobody is logged in. */
  customerId: string | null;
  /** Where the storefront mounted the proxy, e.g. `/apps/loyalty`. */
  pathPrefix: string;
  /** When Shopify signed the request (Unix seconds). */
  timestamp: number;
  /**
   * A signed, non-reserved parameter: its value, or undefined when absent. Refuses (400) a name
   * given more than once: use `params` where a list is meant.
   */
  param(name: string): string | undefined;
  /** Every value of a signed parameter, in order (empty when absent). */
  params(name: string): readonly string[];
}

/** A JSON answer with the proxy's cache policy. */
export function proxyJson(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return Response.json(body, {
    status: init.status ?? 200,
    headers: { ...init.headers, 'Cache-Control': PRIVATE },
  });
}

/**
 * A Liquid page: Shopify renders it with the shop's theme around it, in the storefront's context
 * (`routes`, `request.locale`…). Everything in `liquid` that came from data must already be escaped
 * for Liquid and HTML (app/storefront-page.server.ts).
 */
export function proxyLiquid(
  liquid: string,
  init: { headers?: Record<string, string> } = {},
): Response {
  return new Response(liquid, {
    status: 200,
    headers: { ...init.headers, 'Content-Type': 'application/liquid', 'Cache-Control': PRIVATE },
  });
}

/** The shared error answer, `{"error":{"code","message"}}` with the code's HTTP status. */
export function proxyError(
  code: ErrorCode,
  message: string,
  headers?: Record<string, string>,
): Response {
  return proxyJson(errorBody(code, message), { status: httpStatusFor(code), headers });
}

function refuse(code: ErrorCode, reason: string): never {
  throw new AppError(code, reason);
}

/** The query as Shopify signs it: each name once, with all its values in order. */
function groupQuery(search: URLSearchParams): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of search) {
    const values = grouped.get(name);
    if (values) values.push(value);
    else grouped.set(name, [value]);
  }
  return grouped;
}

/** Shopify's app proxy signature over `query` (the library's stringifyQueryForAppProxy). */
export function appProxySignature(query: Map<string, readonly string[]>, secret: string): string {
  const message = [...query]
    .filter(([name]) => name !== 'signature')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, values]) => `${name}=${values.join(',')}`)
    .join('');
  return createHmac('sha256', secret).update(message).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Verifies a storefront request as described in the module comment and returns its signed values.
 * Throws AppError (VALIDATION or UNAUTHORIZED) for anything else; `appProxyRoute` answers it.
 */
export function verifyAppProxyRequest(
  request: Request,
  options: { secret: string; now?: Date },
): AppProxyContext {
  const query = groupQuery(new URL(request.url).searchParams);

  for (const name of RESERVED_PARAMETERS) {
    if ((query.get(name)?.length ?? 0) > 1) {
      refuse(ErrorCode.VALIDATION, `the ${name} parameter appears more than once`);
    }
  }
  const one = (name: string): string | undefined => query.get(name)?.[0];

  const signature = one('signature');
  if (!signature) {
    refuse(
      ErrorCode.UNAUTHORIZED,
      "the request is not signed: it did not come through Shopify's app proxy",
    );
  }
  const timestamp = Number(one('timestamp'));
  const nowSeconds = Math.trunc((options.now ?? new Date()).getTime() / 1000);
  if (!one('timestamp') || !Number.isInteger(timestamp)) {
    refuse(ErrorCode.UNAUTHORIZED, 'the request has no valid timestamp');
  }
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_MAX_AGE_SECONDS) {
    refuse(
      ErrorCode.UNAUTHORIZED,
      `the signature is more than ${SIGNATURE_MAX_AGE_SECONDS} s old (or from the future)`,
    );
  }
  if (!sameHex(signature, appProxySignature(query, options.secret))) {
    refuse(
      ErrorCode.UNAUTHORIZED,
      "the signature does not match the query signed with this app's secret",
    );
  }

  // Signed by Shopify from here on: malformed values are a 400, not an attack.
  const shop = (one('shop') ?? '').toLowerCase();
  if (!isMyshopifyDomain(shop)) {
    refuse(ErrorCode.VALIDATION, 'the shop parameter is not a *.myshopify.com domain');
  }
  const customer = one('logged_in_customer_id') ?? '';
  if (customer !== '' && !CUSTOMER_ID.test(customer)) {
    refuse(ErrorCode.VALIDATION, 'logged_in_customer_id is not a Shopify customer id');
  }

  return {
    shop,
    customerId: customer === '' ? null : customer,
    pathPrefix: one('path_prefix') ?? '',
    timestamp,
    param(name) {
      const values = query.get(name);
      if (values && values.length > 1) {
        refuse(ErrorCode.VALIDATION, `the ${name} parameter appears more than once`);
      }
      return name === 'signature' ? undefined : values?.[0];
    },
    params(name) {
      return name === 'signature' ? [] : [...(query.get(name) ?? [])];
    },
  };
}

let secret: string | undefined;
function appSecret(): string {
  secret ??= parseShopifyEnv().SHOPIFY_API_SECRET;
  return secret;
}

type ProxyArgs = LoaderFunctionArgs | ActionFunctionArgs;

/**
 * A proxy route's loader or action: verifies the request, calls `handler` with the signed values
 * and answers every failure in the shared shape (see the module comment). The query string is
 * never logged: it carries the signature and the customer id.
 */
export function appProxyRoute(
  handler: (proxy: AppProxyContext, args: ProxyArgs) => Promise<Response> | Response,
): (args: ProxyArgs) => Promise<Response> {
  return async (args) => {
    const path = new URL(args.request.url).pathname;
    try {
      const proxy = verifyAppProxyRequest(args.request, { secret: appSecret() });
      return await handler(proxy, args);
    } catch (error) {
      if (error instanceof Response) return error;
      const failure = publicFailure(error, { surface: 'app proxy', path });
      return proxyJson(failure.body, { status: failure.status });
    }
  };
}

/** A proxy request body is a few fields (docs/storefront-api.md): anything bigger is refused. */
export const MAX_PROXY_BODY_BYTES = 8 * 1024;

/**
 * The JSON object a proxy route's POST carries, read after the signature was verified (the
 * signature covers the query only: the body is the shopper's input, validated by the route).
 * Refused in the shared shape: 415 UNSUPPORTED_MEDIA_TYPE unless Content-Type is
 * `application/json` — which also keeps a cross-site HTML form (it cannot send that type without a
 * CORS preflight the storefront never answers) from posting with a shopper's storefront session;
 * 413 PAYLOAD_TOO_LARGE over `maxBytes` (by Content-Length, or counted while reading when there is
 * none); 400 VALIDATION for a body that is not UTF-8 JSON text of one object.
 */
export async function readProxyJson(
  request: Request,
  maxBytes: number = MAX_PROXY_BODY_BYTES,
): Promise<Record<string, unknown>> {
  const type = (request.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    refuse(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      'the body must be JSON (Content-Type: application/json)',
    );
  }
  const tooLarge = () =>
    refuse(ErrorCode.PAYLOAD_TOO_LARGE, `the body must be at most ${maxBytes} bytes`);
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > maxBytes) tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        tooLarge();
      }
      chunks.push(value);
    }
  }
  let parsed: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
    parsed = JSON.parse(text);
  } catch {
    refuse(ErrorCode.VALIDATION, 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    refuse(ErrorCode.VALIDATION, 'the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/**
 * The loader of a proxy route that only takes POST (GET answers 405 in the shared shape).
 */
export const postOnlyProxyLoader = appProxyRoute(() =>
  proxyError(ErrorCode.METHOD_NOT_ALLOWED, 'only POST is answered here', { Allow: 'POST' }),
);

/**
 * The action of a proxy route that only reads: 405 in the shared shape, for a request that passed
 * verification (an unsigned one is refused first, like any other).
 */
export const readOnlyProxyAction = appProxyRoute(() =>
  proxyError(ErrorCode.METHOD_NOT_ALLOWED, 'only GET is answered here', { Allow: 'GET, HEAD' }),
);
