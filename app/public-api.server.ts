/**
 * What the two shopper-facing surfaces share — the app proxy (app/app-proxy.server.ts) and the
 * customer-account endpoints (app/customer-account.server.ts): one error shape, one way a thrown
 * error becomes an answer, and the same reading of the request (repeated parameters, Accept,
 * the shopper's language). Contract: docs/storefront-api.md.
 */
import { isNotAvailableYet } from './db.server';
import { AppError, ErrorCode, httpStatusFor, isAppError, rootCauseMessage } from './errors';
import { logger } from './logger.server';
import { isStorefrontLocale, type StorefrontLocale } from '../loyalty/explain';

/** Every error answer of a public surface: `{"error":{"code","message"}}`. */
export interface PublicErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): PublicErrorBody {
  return { error: { code, message } };
}

export interface PublicFailure {
  status: number;
  body: PublicErrorBody;
}

/**
 * The dependency is down, not the request wrong: the database could not be opened, or a query met
 * a server that is restarting or unreachable (the same test a starting process waits on).
 */
function isUnavailable(error: unknown): boolean {
  return isAppError(error, ErrorCode.UNAVAILABLE) || isNotAvailableYet(error);
}

/**
 * What a surface answers for an error its handler threw, logged once: an AppError under 500 keeps
 * its code and message (the shopper's request was wrong: a warning); a dependency that is down is
 * 503 UNAVAILABLE; anything else is a bug, 500 INTERNAL, logged with its stack and answered with
 * nothing more. `path` is logged, never the query (it can carry signatures and customer ids).
 */
export function publicFailure(
  error: unknown,
  where: { surface: string; path: string },
): PublicFailure {
  const log = logger();
  if (error instanceof AppError && httpStatusFor(error.code) < 500) {
    const status = httpStatusFor(error.code);
    log.warn(
      { ...where, status, code: error.code, reason: error.message },
      `${where.surface} request refused`,
    );
    return { status, body: errorBody(error.code, error.message) };
  }
  if (isUnavailable(error)) {
    log.error(
      { ...where, err: rootCauseMessage(error) },
      `${where.surface}: a dependency is unavailable`,
    );
    return {
      status: httpStatusFor(ErrorCode.UNAVAILABLE),
      body: errorBody(
        ErrorCode.UNAVAILABLE,
        'the loyalty service is unavailable; try again shortly',
      ),
    };
  }
  log.error(
    { ...where, err: error instanceof Error ? (error.stack ?? error.message) : String(error) },
    `${where.surface} request failed`,
  );
  return {
    status: httpStatusFor(ErrorCode.INTERNAL),
    body: errorBody(ErrorCode.INTERNAL, 'the request could not be completed'),
  };
}

/**
 * A query parameter that must appear at most once: its value, or undefined when absent. Two
 * values are refused (400): which one a reader takes differs between libraries.
 */
export function singleParam(search: URLSearchParams, name: string): string | undefined {
  const values = search.getAll(name);
  if (values.length > 1) {
    throw new AppError(ErrorCode.VALIDATION, `the ${name} parameter appears more than once`);
  }
  return values[0];
}

interface Range {
  value: string;
  q: number;
}

/** An Accept-style header as its ranges with their q (absent: 1; malformed q: the range is ignored). */
function ranges(header: string | null): Range[] {
  if (!header) return [];
  const out: Range[] = [];
  for (const part of header.split(',')) {
    const [value, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!value) continue;
    let q = 1;
    for (const param of params) {
      const m = /^q=([01](?:\.[0-9]{0,3})?)$/.exec(param);
      if (param.startsWith('q=')) q = m ? Number(m[1]) : Number.NaN;
    }
    if (!Number.isNaN(q) && q <= 1) out.push({ value, q });
  }
  return out;
}

/** The q the Accept header gives `type` (`text/html`): its most specific matching range's. */
function acceptQ(accept: Range[], type: string): number {
  const [major] = type.split('/');
  const exact = accept.find((r) => r.value === type);
  if (exact) return exact.q;
  const family = accept.find((r) => r.value === `${major}/*`);
  if (family) return family.q;
  return accept.find((r) => r.value === '*/*')?.q ?? 0;
}

/**
 * The client prefers HTML to JSON: a browser navigating to the page (`text/html,…,*\/*;q=0.8`),
 * not the storefront script (`application/json`). No Accept, or a tie, is JSON.
 */
export function prefersHtml(acceptHeader: string | null): boolean {
  const accept = ranges(acceptHeader);
  const html = acceptQ(accept, 'text/html');
  return html > 0 && html > acceptQ(accept, 'application/json');
}

/** `fr-CA` → `fr` when the storefront speaks it, else undefined. */
function supported(tag: string | undefined): StorefrontLocale | undefined {
  const language = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return language && isStorefrontLocale(language) ? language : undefined;
}

/**
 * The language to answer in: the `locale` parameter when the storefront speaks it (the theme
 * passes `request.locale.iso_code`: the language the shopper chose on the shop), else the first
 * language of Accept-Language the storefront speaks (highest q first), else English.
 */
export function pickLocale(
  requested: string | undefined,
  acceptLanguage: string | null,
): StorefrontLocale {
  const chosen = supported(requested);
  if (chosen) return chosen;
  const byPreference = ranges(acceptLanguage)
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const range of byPreference) {
    const language = supported(range.value);
    if (language) return language;
  }
  return 'en';
}
