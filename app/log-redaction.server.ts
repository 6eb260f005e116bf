/**
 * Credentials out of log lines, whoever wrote them. Laurel's own lines log ids, never tokens; but
 * Shopify's library, at debug level, prints what it was handed — session tokens (JWTs), app-proxy
 * query parameters with their `signature`, decoded token payloads, redirect URLs with `id_token`
 * — as plain text inside the message, where pino's path-based `redact` cannot reach. So every
 * serialised line passes through {@link redactSecrets} just before it is written
 * (app/logger.server.ts), and what the library prints next release is covered too.
 *
 * Two kinds of rule, both needed:
 * - by shape: a JWT (`eyJ…`, base64 of `{"`), a Shopify token (`shpat_…`, `shpca_…`), an
 *   `Authorization` scheme (`Bearer …`, `Basic …`) — whatever key, if any, they sit under;
 * - by name: the value after a credential's name (`signature`, `hmac`, `id_token`,
 *   `client_secret`…) in every form a line carries it: `name=value` (query strings, also
 *   URL-encoded `%3D`), `name: value` (the library's `{key: value}` context), `"name":"value"`
 *   (JSON, also escaped inside a string).
 * Plus literal values registered at start-up (the app secret), which have no recognisable shape.
 *
 * Redaction keeps the line valid JSON: a value is only ever replaced inside a string.
 */

export const REDACTED = '[redacted]';

/** Names whose value is a credential (matched case-insensitively, as a whole name). */
const SECRET_NAMES = [
  'signature',
  'hmac',
  'x-shopify-hmac-sha256',
  'id_token',
  'idToken',
  'session_token',
  'sessionToken',
  'subject_token',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'client_secret',
  'apiSecretKey',
  'password',
];

// Characters a token, signature or digest is made of (base64, base64url, hex, percent-encoding).
const VALUE = String.raw`(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2})+`;
// A whole name: not part of a longer one, but possibly right after a percent-escape (`%3Fsignature`).
const NAMED = String.raw`(?:(?<![\w-])|(?<=%[0-9A-Fa-f]{2}))(${SECRET_NAMES.join('|')})(\\?")?(\s*(?:[:=]|%3[Dd])\s*)(\\?")?(${VALUE})`;
const JWT = String.raw`eyJ[A-Za-z0-9_+/=-]*(?:\.[A-Za-z0-9_+/=-]*)*`;
const SHOPIFY_TOKEN = String.raw`\b(shp(?:at|ca|pa|ss|ua)_)[A-Za-z0-9_-]+`;
// At least 8 characters, so prose such as "Basic plan" is left alone.
const AUTH_SCHEME = String.raw`\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}`;

const PATTERN = new RegExp(`${JWT}|${SHOPIFY_TOKEN}|${AUTH_SCHEME}|${NAMED}`, 'gi');
// A cheap test first: most lines (ids and counts) hold none of these and are returned as they are.
const MAYBE = new RegExp(`eyJ|shp(?:at|ca|pa|ss|ua)_|Bearer|Basic|${SECRET_NAMES.join('|')}`, 'i');

function replace(
  match: string,
  tokenPrefix: string | undefined,
  scheme: string | undefined,
  space: string | undefined,
  name: string | undefined,
  nameQuote: string | undefined,
  separator: string | undefined,
  valueQuote: string | undefined,
): string {
  if (tokenPrefix !== undefined) return `${tokenPrefix}${REDACTED}`;
  if (scheme !== undefined) return `${scheme}${space}${REDACTED}`;
  if (name !== undefined) {
    // `"name":123` is a JSON number (or object…) under a quoted key: not a string to rewrite.
    if (nameQuote !== undefined && valueQuote === undefined) return match;
    return `${name}${nameQuote ?? ''}${separator}${valueQuote ?? ''}${REDACTED}`;
  }
  return REDACTED;
}

/** A set of literal values (the app secret) removed from every line. */
export class LiteralSecrets {
  private readonly forms = new Set<string>();

  /**
   * Adds `value`, raw and as JSON escapes it. A value under 8 characters is no real secret (Shopify's
   * are 32+) and would blank out ordinary words, so it is left out.
   */
  add(value: string): void {
    if (value.length < 8) return;
    this.forms.add(value);
    this.forms.add(JSON.stringify(value).slice(1, -1));
  }

  remove(line: string): string {
    let out = line;
    for (const form of this.forms) {
      if (out.includes(form)) out = out.split(form).join(REDACTED);
    }
    return out;
  }
}

/** `line` with every credential replaced by `[redacted]` (see the module comment). */
export function redactSecrets(line: string, literals?: LiteralSecrets): string {
  const shaped = MAYBE.test(line) ? line.replace(PATTERN, replace) : line;
  return literals ? literals.remove(shaped) : shaped;
}
