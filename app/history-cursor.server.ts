/**
 * The history's pagination cursor: opaque to clients, signed by Laurel.
 *
 * A cursor is the last entry of the page it ends (`<ledger entry id>`) and an HMAC-SHA256 over the
 * shop, the customer and that id, keyed by a key derived from the app secret. So a cursor is only
 * accepted back for the same shop and the same customer it was issued to: edited, made up, or
 * carried to another customer or shop, it is refused (400 BAD_CURSOR) before any query runs. The
 * derived key keeps these MACs apart from the proxy and webhook signatures made with the secret
 * itself. Rotating the secret invalidates open cursors; a client starts again from the first page.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError, ErrorCode } from './errors';

/** Who a cursor belongs to: the shop's domain and the customer's Shopify id. */
export interface CursorOwner {
  shop: string;
  customerId: string;
}

const VERSION = 'h1';
const ENTRY_ID = /^[1-9][0-9]{0,15}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;
/** Longer than any cursor this module makes: refused before parsing. */
const MAX_LENGTH = 80;

const keys = new Map<string, Buffer>();
function keyFor(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = createHmac('sha256', secret).update('laurel history cursor').digest();
    keys.set(secret, key);
  }
  return key;
}

function mac(secret: string, owner: CursorOwner, entryId: number): string {
  // Newline-separated: neither a myshopify domain nor a numeric id can contain one.
  return createHmac('sha256', keyFor(secret))
    .update(`${VERSION}\n${owner.shop}\n${owner.customerId}\n${entryId}`)
    .digest('base64url');
}

/** The cursor that continues after `entryId` for this owner. */
export function issueCursor(secret: string, owner: CursorOwner, entryId: number): string {
  return `${VERSION}.${entryId}.${mac(secret, owner, entryId)}`;
}

function badCursor(): never {
  throw new AppError(
    ErrorCode.BAD_CURSOR,
    'the cursor was not issued for this customer; start again without one',
  );
}

/** The entry id a cursor continues after; BAD_CURSOR unless it was issued to `owner`. */
export function readCursor(secret: string, owner: CursorOwner, cursor: string): number {
  if (cursor.length > MAX_LENGTH) badCursor();
  const [version, id, signature, ...rest] = cursor.split('.');
  if (version !== VERSION || rest.length > 0 || !id || !signature) badCursor();
  if (!ENTRY_ID.test(id) || !MAC.test(signature)) badCursor();
  const entryId = Number(id);
  if (!Number.isSafeInteger(entryId)) badCursor();
  const expected = Buffer.from(mac(secret, owner, entryId));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) badCursor();
  return entryId;
}
