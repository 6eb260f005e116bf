/**
 * Where the extension's data comes from. The balance is read first from the customer's $app
 * metafields through the Customer Account API (no request to our servers, no CORS, answered by
 * Shopify next to the page); the app backend answers what metafields cannot: a member whose
 * metafields are not written yet, and the history. Backend calls carry the session token
 * (`Authorization: Bearer`), which the backend verifies with authenticate.public.customerAccount.
 */
import type { StandardApi } from '@shopify/ui-extensions/customer-account';
import {
  MEMBER_METAFIELDS_QUERY,
  parseErrorCode,
  parseHistoryPage,
  parseSummary,
  summaryFromMetafields,
  type HistoryPage,
  type MemberSummary,
} from './member';

export type Host = Pick<StandardApi, 'sessionToken'>;

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

export const CUSTOMER_ACCOUNT_API = 'shopify://customer-account/api/2026-07/graphql.json';
export const HISTORY_PAGE_SIZE = 10;
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

async function requestJson(url: string, init: RequestInit): Promise<JsonAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { ok: response.ok, status: response.status, body };
  } catch {
    throw new LoadError(controller.signal.aborted ? 'timeout' : 'network');
  } finally {
    clearTimeout(timer);
  }
}

async function backendGet(host: Host, pathAndQuery: string): Promise<unknown> {
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

async function summaryFromCustomerAccountApi(): Promise<MemberSummary | null> {
  const answer = await requestJson(CUSTOMER_ACCOUNT_API, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: MEMBER_METAFIELDS_QUERY }),
  });
  return answer.ok ? summaryFromMetafields(answer.body) : null;
}

export async function loadSummaryFromBackend(host: Host): Promise<MemberSummary> {
  const summary = parseSummary(await backendGet(host, '/api/account/summary'));
  if (!summary) throw new LoadError('invalid');
  return summary;
}

/** Metafields first; the backend when they are not written yet or cannot be read. */
export async function loadSummary(host: Host): Promise<MemberSummary> {
  const fromMetafields = await summaryFromCustomerAccountApi().catch(() => null);
  return fromMetafields ?? loadSummaryFromBackend(host);
}

export async function loadHistoryPage(host: Host, cursor: string | null): Promise<HistoryPage> {
  const query = new URLSearchParams();
  if (cursor !== null) query.set('cursor', cursor);
  query.set('limit', String(HISTORY_PAGE_SIZE));
  const page = parseHistoryPage(await backendGet(host, `/api/account/history?${query}`));
  if (!page) throw new LoadError('invalid');
  // A page that says there is more but brings nothing, or points back at itself, would make
  // "Load more" repeat forever.
  if (page.nextCursor !== null && (page.entries.length === 0 || page.nextCursor === cursor)) {
    throw new LoadError('invalid');
  }
  return page;
}
