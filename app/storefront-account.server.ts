/**
 * A shopper's own account — summary and explained history — as the app proxy and the
 * customer-account endpoints answer it. The caller has verified who is asking (Shopify's proxy
 * signature, or the session token): `owner` is exactly that shop and customer, and nothing here
 * ever reads another. A shop or customer Laurel does not know reads as nothing known: not
 * enrolled, zero points, no entries. Contract: docs/storefront-api.md.
 */
import { getDatabase } from './db.server';
import { parseShopifyEnv } from './env.server';
import { AppError, ErrorCode } from './errors';
import { issueCursor, readCursor, type CursorOwner } from './history-cursor.server';
import { historyPage, memberStanding } from './models/history.server';
import { getShopByDomain } from './models/shops.server';
import { explainEntry, type StorefrontLocale } from '../loyalty/explain';

/** The verified shop (myshopify domain) and customer (Shopify id) a request speaks for. */
export type AccountOwner = CursorOwner;

export interface AccountSummary {
  enrolled: boolean;
  balance: number;
  lifetimeEarned: number;
  tier: string | null;
  referralCode: string | null;
}

export interface HistoryEntryView {
  /** The ledger entry's id, as text. */
  id: string;
  /** ISO 8601, UTC. */
  occurredAt: string;
  points: number;
  source: string;
  explanation: string;
}

export interface HistoryView {
  entries: HistoryEntryView[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface HistoryQuery {
  cursor: string | undefined;
  limit: number;
}

export const HISTORY_DEFAULT_LIMIT = 10;
export const HISTORY_MAX_LIMIT = 50;

let secret: string | undefined;
function appSecret(): string {
  secret ??= parseShopifyEnv().SHOPIFY_API_SECRET;
  return secret;
}

/**
 * `cursor` and `limit` from a request (`param` returns one value or undefined, refusing repeats):
 * limit is a whole number from 1 to 50 written in plain digits, default 10.
 */
export function readHistoryQuery(param: (name: string) => string | undefined): HistoryQuery {
  const text = param('limit');
  let limit = HISTORY_DEFAULT_LIMIT;
  if (text !== undefined) {
    limit = /^[0-9]{1,3}$/.test(text) ? Number(text) : Number.NaN;
    if (!(limit >= 1 && limit <= HISTORY_MAX_LIMIT)) {
      throw new AppError(
        ErrorCode.VALIDATION,
        `limit must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`,
      );
    }
  }
  const cursor = param('cursor');
  return { cursor: cursor === '' ? undefined : cursor, limit };
}

/** The customer's standing: the tier by name (null without one); the referral code waits for [8]. */
export async function accountSummary(owner: AccountOwner): Promise<AccountSummary> {
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  if (!shop) {
    return { enrolled: false, balance: 0, lifetimeEarned: 0, tier: null, referralCode: null };
  }
  const standing = await memberStanding(db, shop.id, owner.customerId);
  return {
    enrolled: standing.enrolled,
    balance: standing.balance,
    lifetimeEarned: standing.lifetimeEarned,
    tier: standing.tier,
    referralCode: standing.referralCode,
  };
}

/**
 * One page of the customer's history, newest first, each entry explained in `locale`. A cursor not
 * issued to this owner is refused (BAD_CURSOR) before the database is touched.
 */
export async function accountHistory(
  owner: AccountOwner,
  query: HistoryQuery,
  locale: StorefrontLocale,
): Promise<HistoryView> {
  const afterEntryId =
    query.cursor === undefined ? undefined : readCursor(appSecret(), owner, query.cursor);
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  const standing = shop ? await memberStanding(db, shop.id, owner.customerId) : undefined;
  if (!shop || standing?.customerId == null) return { entries: [], nextCursor: null };
  const page = await historyPage(db, shop.id, standing.customerId, {
    afterEntryId,
    limit: query.limit,
  });
  const last = page.entries.at(-1);
  return {
    entries: page.entries.map((entry) => ({
      id: String(entry.id),
      occurredAt: entry.occurredAt.toISOString(),
      points: entry.points,
      source: entry.source,
      explanation: explainEntry(entry, { locale, shopCurrency: shop.currency }),
    })),
    nextCursor: page.more && last ? issueCursor(appSecret(), owner, last.id) : null,
  };
}
