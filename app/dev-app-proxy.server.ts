/**
 * The storefront's app proxy, stood in for on the dev server (development only, behind
 * requireDevAccess like every dev route): what `https://<shop>/apps/loyalty/<path>` does on a real
 * storefront, for the storefront preview (/dev/preview).
 *
 * Shopify's proxy takes the shopper's request, drops its cookies, appends `shop`,
 * `logged_in_customer_id` (empty when nobody is logged in), `path_prefix` and `timestamp` to the
 * query the storefront sent, signs the whole query with the app's secret and forwards it to the
 * app at `/proxy/<path>`. Here the same query is built and signed with the demo's secret, and the
 * request is handed in-process to the real proxy route's loader (or action), so everything the
 * route does — verification (app/app-proxy.server.ts) included — runs unchanged. The shopper is
 * the customer the preview shows, carried from /dev/preview by an HttpOnly cookie.
 *
 * Like Shopify's, this proxy adds its parameters after the storefront's own: a storefront query
 * that already names `logged_in_customer_id` reaches the route with the name twice and is refused
 * there (400), exactly as on a real shop.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { appProxySignature } from './app-proxy.server';
import { requireDevAccess, type DevAccess } from './dev-access.server';
import { storefrontLocales } from './theme-extension.server';

/** Where the theme's requests go (shopify.app.toml [app_proxy] prefix `apps`, subpath `loyalty`). */
export const APP_PROXY_PREFIX = '/apps/loyalty';
/** Where Shopify forwards them on the app. */
export const APP_PROXY_TARGET = '/proxy';

/** Names the previewed customer (a Shopify customer id) for the proxy stand-in. */
export const PREVIEW_CUSTOMER_COOKIE = 'laurel_preview_customer';

/** Shopify customer ids: the legacy numeric id, as logged_in_customer_id carries it. */
const CUSTOMER_ID = /^[1-9][0-9]{0,19}$/;

/**
 * Request headers Shopify's proxy passes on; cookies and the rest stay on the storefront. The
 * redeem request's Idempotency-Key is one of them (docs/storefront-api.md).
 */
const FORWARDED_HEADERS = [
  'accept',
  'accept-language',
  'content-type',
  'idempotency-key',
  'user-agent',
];

function badRequest(reason: string): Response {
  return new Response(`${reason}\n`, {
    status: 400,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/**
 * The Set-Cookie header /dev/preview sends: the customer it shows, or an expired cookie when it
 * shows the storefront logged out. Path `/` so it reaches /apps/loyalty; HttpOnly because only
 * this server reads it; SameSite=Lax like a storefront session.
 */
export function previewCustomerCookie(customerId: string | null): string {
  if (customerId !== null && !CUSTOMER_ID.test(customerId)) {
    throw new RangeError(`not a Shopify customer id: ${JSON.stringify(customerId)}`);
  }
  const attributes = 'Path=/; HttpOnly; SameSite=Lax';
  return customerId === null
    ? `${PREVIEW_CUSTOMER_COOKIE}=; ${attributes}; Max-Age=0`
    : `${PREVIEW_CUSTOMER_COOKIE}=${customerId}; ${attributes}`;
}

/** The customer the preview cookie names, null when there is none; throws 400 if malformed. */
export function previewCustomerOf(request: Request): string | null {
  const values: string[] = [];
  for (const pair of (request.headers.get('Cookie') ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at >= 0 && pair.slice(0, at).trim() === PREVIEW_CUSTOMER_COOKIE) {
      values.push(pair.slice(at + 1).trim());
    }
  }
  const value = values[0] ?? '';
  if (value === '') return null;
  if (values.length > 1 || !CUSTOMER_ID.test(value)) {
    throw badRequest(
      `The ${PREVIEW_CUSTOMER_COOKIE} cookie is not one Shopify customer id; open /dev/preview to choose a customer again.`,
    );
  }
  return value;
}

export interface ProxySigning {
  shop: string;
  secret: string;
  /** The logged-in customer, or null for a logged-out shopper. */
  customerId: string | null;
  now?: Date;
}

/**
 * The request Shopify's proxy would send the app for a storefront request to
 * `/apps/loyalty/<subpath>`: the storefront's query plus the signed parameters, at
 * `/proxy/<subpath>` on the same origin, without the storefront's cookies.
 */
export function signAsAppProxy(request: Request, subpath: string, signing: ProxySigning): Request {
  const incoming = new URL(request.url);
  const query = new URLSearchParams(incoming.search);
  query.append('shop', signing.shop);
  query.append('logged_in_customer_id', signing.customerId ?? '');
  query.append('path_prefix', APP_PROXY_PREFIX);
  query.append('timestamp', String(Math.trunc((signing.now ?? new Date()).getTime() / 1000)));
  const grouped = new Map<string, string[]>();
  for (const [name, value] of query) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  query.append('signature', appProxySignature(grouped, signing.secret));

  const target = new URL(
    `${APP_PROXY_TARGET}${subpath === '' ? '' : `/${subpath}`}`,
    incoming.origin,
  );
  target.search = query.toString();
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  return new Request(target, {
    method: request.method,
    headers,
    ...(hasBody && { body: request.body, duplex: 'half' }),
  } as RequestInit);
}

type RouteFunction = (args: LoaderFunctionArgs | ActionFunctionArgs) => unknown;

/** A proxy route module as the stand-in calls it: its loader and, when it has one, its action. */
export interface ProxyRouteModule {
  loader: RouteFunction;
  action?: RouteFunction;
}

/** Renders an `application/liquid` answer as the storefront would (the preview's theme). */
export type LiquidPageRenderer = (
  access: Extract<DevAccess, { allowed: true }>,
  shopper: { customerId: string | null; locale: string },
  liquid: string,
) => Promise<Response>;

/**
 * The route for `subpath`: a key naming it exactly (`history`), else a key with `:name` segments
 * (`r/:code`, the share link landing), whose values become the route's params as Remix would pass
 * them (decoded).
 */
export function matchProxyRoute(
  routes: Readonly<Record<string, ProxyRouteModule>>,
  subpath: string,
): { route: ProxyRouteModule | undefined; params: Record<string, string> } {
  if (Object.hasOwn(routes, subpath)) return { route: routes[subpath], params: {} };
  const segments = subpath.split('/');
  for (const [key, route] of Object.entries(routes)) {
    const pattern = key.split('/');
    if (!key.includes(':') || pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      if (!part.startsWith(':')) return part === segments[i];
      if (segments[i] === '') return false;
      params[part.slice(1)] = segments[i]!;
      return true;
    });
    if (matches) return { route, params };
  }
  return { route: undefined, params: {} };
}

/**
 * Answers `[/<locale>]/apps/loyalty[/<subpath>]` as the storefront would (a translated storefront
 * prefixes its URLs with its language, and Shopify proxies those too): the request signed as Shopify's
 * proxy signs it, handed to `routes[subpath]` (the module of `/proxy/<subpath>`). A subpath with no
 * proxy route answers 404, as the app would; a method the route does not handle, 405. An
 * `application/liquid` answer (a page Shopify renders inside the theme) goes to `renderLiquid`.
 */
export async function answerThroughAppProxy(
  args: LoaderFunctionArgs | ActionFunctionArgs,
  routes: Readonly<Record<string, ProxyRouteModule>>,
  renderLiquid?: LiquidPageRenderer,
): Promise<Response> {
  const access = requireDevAccess();
  const locale = args.params.locale;
  const locales = storefrontLocales().all;
  if (locale !== undefined && !locales.slice(1).includes(locale)) {
    return new Response(`/${locale} is not a language of this storefront.\n`, {
      status: 404,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    });
  }
  const subpath = args.params['*'] ?? '';
  const { route, params } = matchProxyRoute(routes, subpath);
  if (!route) {
    return new Response(`No app proxy route answers ${APP_PROXY_TARGET}/${subpath}.\n`, {
      status: 404,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    });
  }
  const read = args.request.method === 'GET' || args.request.method === 'HEAD';
  const handler = read ? route.loader : route.action;
  if (!handler) {
    return new Response(
      `${APP_PROXY_TARGET}/${subpath} does not accept ${args.request.method}.\n`,
      {
        status: 405,
        headers: {
          'Content-Type': 'text/plain; charset=utf-8',
          Allow: route.action ? 'GET, HEAD, POST' : 'GET, HEAD',
        },
      },
    );
  }
  const customerId = previewCustomerOf(args.request);
  const signed = signAsAppProxy(args.request, subpath, {
    shop: access.shop,
    secret: access.apiSecret,
    customerId,
  });
  const answer = await handler({ request: signed, params, context: args.context });
  if (!(answer instanceof Response)) {
    // Every proxy route answers through appProxyRoute, which always returns a Response.
    throw new Error(`the proxy route for /${subpath} did not return a Response`);
  }
  const type = answer.headers.get('Content-Type') ?? '';
  if (renderLiquid && answer.ok && /^application\/liquid\b/.test(type)) {
    return renderLiquid(access, { customerId, locale: locale ?? locales[0]! }, await answer.text());
  }
  return answer;
}
