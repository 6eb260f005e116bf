/**
 * The webhook delivery check, with node:crypto (ADR 015): what `authenticate.webhook` from
 * @shopify/shopify-app-remix accepts and rejects, in the same order, without its per-request
 * WebCrypto key import, its header canonicalisation and its load of the shop's offline session
 * (one database read per delivery that ingest never used).
 *
 * The library signs the body as it reads it — `request.text()`, i.e. decoded as UTF-8 with
 * malformed sequences replaced and leading byte-order marks dropped, then encoded again — and
 * compares the base64 digest with X-Shopify-Hmac-Sha256 as strings. For a well-formed body without
 * a byte-order mark (every body Shopify sends) those are the raw bytes, hashed as received; any
 * other body is hashed as the library would hash it, so the two never disagree (the property test
 * in webhook-hmac.server.test.ts runs both over thousands of random deliveries).
 *
 * The library has no secret rotation (one `apiSecretKey`), so neither has this.
 */
import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HMAC_HEADER = 'X-Shopify-Hmac-Sha256';
/** Checked after the HMAC, as the library does (so a forged request learns nothing from them). */
export const DELIVERY_HEADERS = [
  'X-Shopify-Topic',
  'X-Shopify-Shop-Domain',
  'X-Shopify-API-Version',
  'X-Shopify-Webhook-Id',
] as const;

export type WebhookCheck =
  { ok: true; payload: unknown } | { ok: false; status: 400 | 401; reason: string };

const BOM = [0xef, 0xbb, 0xbf] as const;
const decoder = new TextDecoder();

/**
 * The body as `request.text()` reads it in this runtime (undici): UTF-8 with malformed sequences
 * replaced and up to two leading byte-order marks dropped (undici drops one before its
 * TextDecoder drops another). What the library signs and parses, so what ingest stores.
 */
export function bodyText(body: Uint8Array): string {
  const text = decoder.decode(body);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The bytes the library's HMAC covers for a body it read as `text` (bodyText). */
export function signedBytes(body: Uint8Array, text: string): Uint8Array {
  const bom = body[0] === BOM[0] && body[1] === BOM[1] && body[2] === BOM[2];
  return !bom && isUtf8(body) ? body : Buffer.from(text, 'utf8');
}

/** base64(HMAC-SHA256(secret, signed bytes)) equals `hmac`, compared in constant time. */
export function hmacMatches(secret: string, body: Uint8Array, text: string, hmac: string): boolean {
  const expected = Buffer.from(
    createHmac('sha256', secret).update(signedBytes(body, text)).digest('base64'),
  );
  const given = Buffer.from(hmac, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The check of one delivery: `body` as received, `text` = bodyText(body). 400 for an empty body, a missing HMAC or (after a valid
 * HMAC) a missing delivery header or a body that is not JSON; 401 for an HMAC that does not match.
 */
export function checkWebhook(
  secret: string,
  headers: Headers,
  body: Uint8Array,
  text: string,
): WebhookCheck {
  if (body.byteLength === 0) return { ok: false, status: 400, reason: 'the body is empty' };
  const hmac = headers.get(HMAC_HEADER);
  if (!hmac) return { ok: false, status: 400, reason: `missing Shopify header: ${HMAC_HEADER}` };
  if (!hmacMatches(secret, body, text, hmac)) {
    return {
      ok: false,
      status: 401,
      reason: `HMAC verification failed: ${HMAC_HEADER} does not match the body signed with this app's secret`,
    };
  }
  const missing = DELIVERY_HEADERS.filter((name) => !headers.get(name));
  if (missing.length > 0) {
    return {
      ok: false,
      status: 400,
      reason: `missing Shopify header${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
    };
  }
  try {
    return { ok: true, payload: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, reason: 'the body is not valid JSON' };
  }
}
