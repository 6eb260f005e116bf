/**
 * The admin's customers directory (docs/customers.md): the shop's members found by one search box,
 * sorted and paged by keyset, and one member's standing and full ledger. Read-only; every query
 * names the shop.
 *
 * Search: a Shopify customer id (`7001` or `gid://shopify/Customer/7001`) matches that customer's
 * external id exactly (the unique index); any other text matches a substring of the email, the
 * first name, the last name or "first last", ignoring case. Substring over a shop's rows is a scan
 * of them (no trigram index: PGlite would need pg_trgm loaded); at 50,000 members it stays well
 * inside the admin's budget — docs/customers.md records the measurements.
 *
 * Paging is keyset on (sort key, customer id), so a page never repeats or skips a row when members
 * earn meanwhile, and a cursor costs the same on page 1 and page 1,000.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { AppError, ErrorCode } from '../errors';

export const DIRECTORY_SORTS = ['balance', 'lifetime', 'name', 'email', 'since'] as const;
export type DirectorySort = (typeof DIRECTORY_SORTS)[number];
export type SortDirection = 'asc' | 'desc';

/** Members per page at most. */
export const MAX_DIRECTORY_PAGE = 100;

/** Where a page starts: after (next page) or before (previous page) a row's sort position. */
export interface DirectoryCursor {
  /** The row's sort key: a number (balance, lifetime, since in ms) or text (name, email). */
  value: number | string;
  id: number;
  direction: 'after' | 'before';
}

export interface DirectoryQuery {
  search?: string;
  sort?: DirectorySort;
  direction?: SortDirection;
  cursor?: DirectoryCursor | null;
  /** 1–100, default 50. */
  limit?: number;
}

export interface DirectoryMember {
  id: number;
  /** Shopify customer id (or an imported file's customer id). */
  externalId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  redacted: boolean;
  balance: number;
  lifetimeEarned: number;
  /** The tier key customer_tiers holds (null: none, or never evaluated). */
  tierKey: string | null;
  enrolledAt: Date;
  /** This row's position for a cursor. */
  sortValue: number | string;
}

export interface DirectoryPage {
  members: DirectoryMember[];
  /** Cursor of the page after this one, or null on the last. */
  next: DirectoryCursor | null;
  /** Cursor of the page before this one, or null on the first. */
  previous: DirectoryCursor | null;
  /** Members matching the search (all members without one). */
  total: number;
}

const SHOPIFY_CUSTOMER_ID = /^(?:gid:\/\/shopify\/Customer\/)?([1-9][0-9]{0,19})$/;

/** The search as it matches: an exact Shopify id, a lower-cased substring, or nothing. */
export function searchTerm(
  search: string | undefined,
): { kind: 'id'; id: string } | { kind: 'text'; text: string } | null {
  const term = (search ?? '').trim();
  if (term === '') return null;
  const id = SHOPIFY_CUSTOMER_ID.exec(term);
  if (id) return { kind: 'id', id: id[1]! };
  return { kind: 'text', text: term.toLowerCase() };
}

/** `text` as a LIKE pattern matching itself anywhere (its % and _ taken literally). */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function searchCondition(search: string | undefined): SQL {
  const term = searchTerm(search);
  if (term === null) return sql`TRUE`;
  if (term.kind === 'id') return sql`c.external_id = ${term.id}`;
  const pattern = containing(term.text);
  // Emails are stored lower-cased (customers.server.ts); names are not.
  return sql`(c.email LIKE ${pattern}
    OR lower(c.first_name) LIKE ${pattern}
    OR lower(c.last_name) LIKE ${pattern}
    OR lower(concat_ws(' ', c.first_name, c.last_name)) LIKE ${pattern})`;
}

/** Each sort's key: never null, so (key, id) compares as a row value. */
const SORT_KEYS: Record<DirectorySort, { key: SQL; text: boolean }> = {
  balance: { key: sql`coalesce(b.balance, 0)`, text: false },
  lifetime: { key: sql`coalesce(b.lifetime_earned, 0)`, text: false },
  name: { key: sql`lower(concat_ws(' ', c.first_name, c.last_name))`, text: true },
  email: { key: sql`coalesce(c.email, '')`, text: true },
  since: { key: sql`(extract(epoch FROM c.enrolled_at) * 1000)::bigint`, text: false },
};

function badCursor(message: string): AppError {
  return new AppError(ErrorCode.BAD_CURSOR, message);
}

/**
 * A cursor as the page's links carry it: `a.<id>.<value>` (after) or `b.<id>.<value>` (before),
 * the value URL-safe base64 of its JSON. Throws BAD_CURSOR when it is not one Laurel wrote.
 */
export function decodeCursor(text: string, sort: DirectorySort): DirectoryCursor {
  const match = /^([ab])\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{1,600})$/.exec(text);
  if (!match) throw badCursor('cursor is not one this page made: start from the first page');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(match[3]!, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('cursor is not one this page made: start from the first page');
  }
  const text_ = SORT_KEYS[sort].text;
  if (text_ ? typeof value !== 'string' : !Number.isSafeInteger(value)) {
    throw badCursor(`cursor does not belong to the ${sort} sort: start from the first page`);
  }
  return {
    direction: match[1] === 'a' ? 'after' : 'before',
    id: Number(match[2]),
    value: value as number | string,
  };
}

export function encodeCursor(cursor: DirectoryCursor): string {
  const value = Buffer.from(JSON.stringify(cursor.value), 'utf8').toString('base64url');
  return `${cursor.direction === 'after' ? 'a' : 'b'}.${cursor.id}.${value}`;
}

const rowsOf = <T>(result: unknown): T[] =>
  (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

interface Row {
  id: number;
  external_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  redacted_at: string | Date | null;
  balance: string | number;
  lifetime_earned: string | number;
  tier_key: string | null;
  enrolled_at: string | Date;
  sort_value: string | number;
}

/**
 * One page of the shop's members matching `query.search`, sorted by `query.sort` (default balance,
 * highest first) with the customer id breaking ties in the same direction.
 */
export async function searchDirectory(
  db: Executor,
  shopId: number,
  query: DirectoryQuery = {},
): Promise<DirectoryPage> {
  const sort = query.sort ?? 'balance';
  const direction = query.direction ?? (SORT_KEYS[sort].text ? 'asc' : 'desc');
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), MAX_DIRECTORY_PAGE);
  const { key } = SORT_KEYS[sort];
  const cursor = query.cursor ?? null;
  // A previous page reads backwards from its cursor, then is turned round.
  const backwards = cursor?.direction === 'before';
  const ascending = (direction === 'asc') !== backwards;
  const order = ascending ? sql`ASC` : sql`DESC`;
  const position = cursor
    ? ascending
      ? sql`(${key}, c.id) > (${cursor.value}, ${cursor.id})`
      : sql`(${key}, c.id) < (${cursor.value}, ${cursor.id})`
    : sql`TRUE`;
  const where = sql`c.shop_id = ${shopId} AND ${searchCondition(query.search)}`;
  const from = sql`customers c
    LEFT JOIN customer_balances b ON b.customer_id = c.id AND b.shop_id = c.shop_id`;

  const [pageResult, countResult] = await Promise.all([
    db.execute(sql`
      SELECT c.id, c.external_id, c.email, c.first_name, c.last_name, c.redacted_at, c.enrolled_at,
        coalesce(b.balance, 0) AS balance, coalesce(b.lifetime_earned, 0) AS lifetime_earned,
        t.tier_key, ${key} AS sort_value
      FROM ${from}
      LEFT JOIN customer_tiers t ON t.customer_id = c.id AND t.shop_id = c.shop_id
      WHERE ${where} AND ${position}
      ORDER BY ${key} ${order}, c.id ${order}
      LIMIT ${limit + 1}`),
    // The balance join only matters to the page; the count reads customers alone.
    db.execute(sql`SELECT count(*)::int AS total FROM customers c WHERE ${where}`),
  ]);
  const rows = rowsOf<Row>(pageResult);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (backwards) page.reverse();
  const members = page.map((r): DirectoryMember => ({
    id: Number(r.id),
    externalId: r.external_id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    redacted: r.redacted_at !== null,
    balance: Number(r.balance),
    lifetimeEarned: Number(r.lifetime_earned),
    tierKey: r.tier_key,
    enrolledAt: new Date(r.enrolled_at),
    sortValue: SORT_KEYS[sort].text ? String(r.sort_value) : Number(r.sort_value),
  }));
  const first = members[0];
  const last = members.at(-1);
  // Going forward, a next page exists when more rows came back; a previous one when we started
  // from a cursor. Going backwards, the reverse.
  const hasNext = backwards ? true : more;
  const hasPrevious = backwards ? more : cursor !== null;
  return {
    members,
    next: hasNext && last ? { value: last.sortValue, id: last.id, direction: 'after' } : null,
    previous:
      hasPrevious && first ? { value: first.sortValue, id: first.id, direction: 'before' } : null,
    total: Number(rowsOf<{ total: number }>(countResult)[0]?.total ?? 0),
  };
}

export interface MemberProfile {
  id: number;
  externalId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  redacted: boolean;
  enrolledAt: Date;
  balance: number;
  lifetimeEarned: number;
  /** What customer_tiers holds: the tier key (null: none) and since when; null if never evaluated. */
  tier: { key: string | null; since: Date } | null;
  /** The member's referral code (the friend code) and whether Shopify holds it yet. */
  referralCode: { code: string; status: string } | null;
  entries: number;
}

/** One member of the shop with their standing; undefined when the shop has no such customer. */
export async function memberProfile(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<MemberProfile | undefined> {
  const result = await db.execute(sql`
    SELECT c.id, c.external_id, c.email, c.first_name, c.last_name, c.redacted_at, c.enrolled_at,
      coalesce(b.balance, 0) AS balance, coalesce(b.lifetime_earned, 0) AS lifetime_earned,
      t.customer_id IS NOT NULL AS evaluated, t.tier_key, t.since,
      r.friend_code, r.status AS referral_status,
      (SELECT count(*)::int FROM ledger_entries e
        WHERE e.shop_id = c.shop_id AND e.customer_id = c.id) AS entries
    FROM customers c
    LEFT JOIN customer_balances b ON b.customer_id = c.id AND b.shop_id = c.shop_id
    LEFT JOIN customer_tiers t ON t.customer_id = c.id AND t.shop_id = c.shop_id
    LEFT JOIN referral_codes r ON r.customer_id = c.id AND r.shop_id = c.shop_id
    WHERE c.shop_id = ${shopId} AND c.id = ${customerId}`);
  const row = rowsOf<
    Row & {
      evaluated: boolean;
      since: string | Date | null;
      friend_code: string | null;
      referral_status: string | null;
      entries: number;
    }
  >(result)[0];
  if (!row) return undefined;
  return {
    id: Number(row.id),
    externalId: row.external_id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    redacted: row.redacted_at !== null,
    enrolledAt: new Date(row.enrolled_at),
    balance: Number(row.balance),
    lifetimeEarned: Number(row.lifetime_earned),
    tier: row.evaluated ? { key: row.tier_key, since: new Date(row.since!) } : null,
    referralCode:
      row.friend_code === null
        ? null
        : { code: row.friend_code, status: row.referral_status ?? 'pending' },
    entries: Number(row.entries),
  };
}

/** A ledger entry as the admin's detail page reads it. */
export interface LedgerLine {
  id: number;
  occurredAt: Date;
  createdAt: Date;
  points: number;
  source: string;
  programVersion: number | null;
  inputs: Record<string, unknown>;
  /** The order's name now (`#1001`), else what its award recorded; null when about no order. */
  orderName: string | null;
}

export interface LedgerPage {
  entries: LedgerLine[];
  /** The id to pass as `beforeId` for the next (older) page; null on the last. */
  nextBeforeId: number | null;
}

/**
 * The member's entries newest first — by posting order, the ledger id — `limit` of them (1–100),
 * those older than `beforeId` when given (keyset on id).
 */
export async function ledgerPage(
  db: Executor,
  shopId: number,
  customerId: number,
  options: { beforeId?: number | null; limit?: number } = {},
): Promise<LedgerPage> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 100);
  const before = options.beforeId ? sql`AND e.id < ${options.beforeId}` : sql``;
  // A reversal names its order through the award it reverses (refunds record only the refund).
  const result = await db.execute(sql`
    SELECT e.id, e.occurred_at, e.created_at, e.points, e.source, e.program_version, e.inputs,
      coalesce(o.name, a.inputs->>'orderName') AS order_name
    FROM ledger_entries e
    LEFT JOIN ledger_entries a ON a.shop_id = e.shop_id AND a.id = e.reverses_entry_id
    LEFT JOIN orders o ON o.shop_id = e.shop_id
      AND o.shopify_order_id = coalesce(e.inputs->>'orderId', a.inputs->>'orderId')
    WHERE e.shop_id = ${shopId} AND e.customer_id = ${customerId} ${before}
    ORDER BY e.id DESC
    LIMIT ${limit + 1}`);
  const rows = rowsOf<{
    id: string | number;
    occurred_at: string | Date;
    created_at: string | Date;
    points: number;
    source: string;
    program_version: number | null;
    inputs: unknown;
    order_name: string | null;
  }>(result);
  const entries = rows.slice(0, limit).map((r): LedgerLine => ({
    id: Number(r.id),
    occurredAt: new Date(r.occurred_at),
    createdAt: new Date(r.created_at),
    points: Number(r.points),
    source: r.source,
    programVersion: r.program_version === null ? null : Number(r.program_version),
    inputs: (typeof r.inputs === 'string' ? JSON.parse(r.inputs) : (r.inputs ?? {})) as Record<
      string,
      unknown
    >,
    orderName: r.order_name,
  }));
  return {
    entries,
    nextBeforeId: rows.length > limit ? entries.at(-1)!.id : null,
  };
}
