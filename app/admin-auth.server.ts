/**
 * `authenticate.admin` with the checks the library leaves to the app, for every admin route
 * (app.tsx, app._index.tsx, auth.$.tsx). Both are reachable without a session and before any:
 *
 * - `/auth/exit-iframe?exitIframe=<url>` renders `window.open(<url>, "_top")` for any http(s) URL
 *   (an open redirect in @shopify/shopify-app-remix). Only this app's origin (SHOPIFY_APP_URL),
 *   `https://*.myshopify.com` and `https://admin.shopify.com` are destinations the library itself
 *   ever sends there (re-auth, billing confirmation, leaving the iframe); anything else is a 400.
 * - `host` is the admin host base64-encoded; the library decodes it with `atob`, which throws on a
 *   malformed value, and the request became a 500 (with a stack trace in development mode).
 *
 * Refusals are `{"error": "<reason>", "code": "VALIDATION"}` with status 400, thrown as a Response
 * the way the library answers its own refusals.
 */
import { parseShopifyEnv } from './env.server';
import { ErrorCode, httpStatusFor } from './errors';
import { authenticate } from './shopify.server';
import { isMyshopifyDomain } from '../loyalty/shop-domain';

const EXIT_IFRAME_PATH = '/auth/exit-iframe';
const BASE64 = /^[0-9a-zA-Z+/]+={0,2}$/;

export const EXIT_IFRAME_REFUSED =
  'exitIframe must be a URL of this app, of a *.myshopify.com shop or of admin.shopify.com';
export const HOST_REFUSED = 'the host parameter is not the base64-encoded admin host Shopify sends';

/** Whether the exit-iframe page may send the top window to `destination` (see the module comment). */
export function isAllowedExitDestination(destination: string | null, appUrl: string): boolean {
  // The library's own refusals (it throws, a 500): whitespace, file-like `///`, `//` in the path.
  if (!destination || /\s/.test(destination) || destination.includes('///')) return false;
  let url: URL;
  try {
    url = new URL(destination, appUrl);
  } catch {
    return false;
  }
  if (/[/\\][/\\]/.test(url.pathname) || url.username || url.password) return false;
  if (url.origin === new URL(appUrl).origin) return true;
  if (url.protocol !== 'https:' || url.port !== '') return false;
  return url.hostname === 'admin.shopify.com' || isMyshopifyDomain(url.hostname);
}

function isDecodableHost(host: string): boolean {
  if (!BASE64.test(host)) return true; // the library refuses these itself (a redirect to login)
  try {
    atob(host);
    return true;
  } catch {
    return false;
  }
}

function refuse(reason: string): never {
  throw Response.json(
    { error: reason, code: ErrorCode.VALIDATION },
    { status: httpStatusFor(ErrorCode.VALIDATION), headers: { 'Cache-Control': 'no-store' } },
  );
}

let appUrl: string | undefined;

/** Throws a 400 Response for what the library would mishandle; returns otherwise. */
export function checkAdminRequest(request: Request): void {
  const url = new URL(request.url);
  appUrl ??= parseShopifyEnv().SHOPIFY_APP_URL;
  if (
    url.pathname === EXIT_IFRAME_PATH &&
    !isAllowedExitDestination(url.searchParams.get('exitIframe'), appUrl)
  ) {
    refuse(EXIT_IFRAME_REFUSED);
  }
  const host = url.searchParams.get('host');
  if (host !== null && !isDecodableHost(host)) refuse(HOST_REFUSED);
}

/** The admin routes' authentication: the checks above, then the library's. */
export async function authenticateAdmin(request: Request) {
  checkAdminRequest(request);
  return authenticate.admin(request);
}
