/**
 * The app backend as every Laurel UI extension calls it: the app URL the CLI inlined, the session
 * token as `Authorization: Bearer` (the backend verifies it with authenticate.public.* and reads the
 * customer from it, so an extension never sends a customer id of its own), a timeout, and one set of
 * failure kinds. The customer-account extension (src/sources.ts) and the checkout extension
 * (src/rewards.ts) both call {@link backendGet}, then check the answer's shape themselves.
 *
 * Bundled into each extension, not shipped on its own: Shopify CLI builds a UI extension with
 * esbuild (`bundle: true`, from each target's module), which follows this relative import out of
 * the extension's folder and inlines what is used; scripts/size-extension.mjs builds the same way
 * and lists these bytes as `shared`.
 */
import { parseErrorCode } from './answers';

/** What a backend call needs of `shopify`: its session token. */
export interface SessionHost {
  sessionToken: { get(): Promise<string> };
}

/**
 * Why a load failed. `unconfigured`: the bundle was built without an https app URL;
 * `session`: Shopify gave no session token; `status`: the backend answered 4xx/5xx (its error
 * code kept); `invalid`: an answer that is not the contract's shape.
 */
export type LoadFailure = 'unconfigured' | 'session' | 'network' | 'timeout' | 'status' | 'invalid';

export class LoadError extends Error {
  constructor(
    readonly failure: LoadFailure,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(['Laurel', failure, status, code].filter((part) => part !== undefined).join(' '));
    this.name = 'LoadError';
  }
}

/** Past this the customer sees the error state (with a retry) instead of an endless spinner. */
export const REQUEST_TIMEOUT_MS = 10_000;

// Shopify CLI inlines `process.env.NAME` when it bundles the extension: APP_URL is the tunnel under
// `shopify app dev`, and at `shopify app deploy` any variable of the deploy environment or the
// app's .env. The extension runs in a worker without `process`, so a variable the CLI did not
// inline throws instead of reading as undefined — hence one guarded read per name.
function bundledAppUrl(): string | undefined {
  try {
    if (process.env.APP_URL) return process.env.APP_URL;
  } catch {
    // not inlined
  }
  try {
    if (process.env.SHOPIFY_APP_URL) return process.env.SHOPIFY_APP_URL;
  } catch {
    // not inlined
  }
  return undefined;
}

/**
 * The app's origin (and path prefix, if any) without a trailing slash, or null. Only https: a
 * customer's browser cannot reach the operator's localhost, and a plain-http URL would send the
 * session token in clear.
 */
export function appUrl(): string | null {
  const raw = bundledAppUrl();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    return null;
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

interface JsonAnswer {
  ok: boolean;
  status: number;
  /** undefined when the body is not JSON (an HTML error page, a truncated answer). */
  body: unknown;
}

/** `fetch` with the timeout; a body that is not JSON reads as undefined. */
export async function requestJson(url: string, init: RequestInit): Promise<JsonAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    // `init` is the caller's own literal. Set on it rather than spread into a copy: built for es6
    // (as the CLI does), a spread brings in esbuild's helper, which the checkout has no other use for.
    init.signal = controller.signal;
    const response = await fetch(url, init);
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the body stays undefined
    }
    return { ok: response.ok, status: response.status, body };
  } catch {
    throw new LoadError(controller.signal.aborted ? 'timeout' : 'network');
  } finally {
    clearTimeout(timer);
  }
}

/** The backend's JSON answer to GET `pathAndQuery`; throws LoadError for anything but a 2xx. */
export async function backendGet(host: SessionHost, pathAndQuery: string): Promise<unknown> {
  const base = appUrl();
  if (!base) throw new LoadError('unconfigured');
  let token: string;
  try {
    // Asked for on every request: Shopify caches it and renews it before it expires.
    token = await host.sessionToken.get();
  } catch {
    throw new LoadError('session');
  }
  if (!token) throw new LoadError('session');
  const answer = await requestJson(base + pathAndQuery, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
  });
  if (!answer.ok) throw new LoadError('status', answer.status, parseErrorCode(answer.body));
  return answer.body;
}
