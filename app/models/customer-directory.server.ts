/**
 * The admin's customers directory (docs/customers.md): the shop's members found by one search box,
 * sorted and paged by keyset, and one member's standing and full ledger. Read-only; every query
 * names the shop.
 *
 * Search: a Shopify customer id (`7001` or `gid://shopify/Customer/7001`) matches that customer's
 * external id exactly (the unique index); any other text matches the start of the email, of its
 * domain, of the full name ("ada lov") or of the last name, ignoring case. Prefixes, not
 * substrings: each is an index range (migration 0013), where a substring is a scan of every member
 * of the shop (no trigram index: PGlite would need pg_trgm loaded) — docs/customers.md records
 * both measured.
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
/**
 * A search with at most this many matches sorts them on its own; more are read in the sort's index
 * order (docs/customers.md, "Performance"). Either way a page costs at most about this many row
 * visits: near √(page × members) = √(51 × 50,000) ≈ 1,600, where the two plans cost the same.
 */
export const SORT_MATCHES_UP_TO = 2_000;

/** Where a page starts: after (next page) or before (previous page) a row's sort position. */
export interface DirectoryCursor {
  /** The row's sort key: a number (balance, lifetime) or text (name, email, since as ISO 8601). */
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
  /** Tests: the {@link SORT_MATCHES_UP_TO} to plan with (0: always read in index order). */
  sortMatchesUpTo?: number;
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

/**
 * `expression` starts with `prefix`, as a byte range of text_pattern_ops (UTF-8 keeps code point
 * order): an index range whatever the prefix, even in a generic plan of the prepared statement —
 * where `LIKE $1` could not use the index, not knowing the pattern — and no wildcards to escape.
 */
function startsWith(expression: SQL, prefix: string): SQL {
  return sql`(${expression} ~>=~ ${prefix} AND ${expression} ~<~ ${`${prefix}\u{10FFFF}`})`;
}

/**
 * Prefixes, each served by an index of migration 0013 (text_pattern_ops): the email (stored
 * lower-cased), its domain ("example.com", or "@example.com"), the full name "first last" (which
 * starts with the first name) and the last name.
 */
function searchCondition(search: string | undefined): SQL {
  const term = searchTerm(search);
  if (term === null) return sql`TRUE`;
  if (term.kind === 'id') return sql`c.external_id = ${term.id}`;
  const domain = term.text.startsWith('@') ? term.text.slice(1) : term.text;
  return sql`(${startsWith(sql`c.email`, term.text)}
    OR ${startsWith(sql`split_part(c.email, '@', 2)`, domain)}
    OR ${startsWith(sql`lower(btrim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')))`, term.text)}
    OR ${startsWith(sql`lower(c.last_name)`, term.text)})`;
}

/**
 * Each sort's key — never null, so (key, id) compares as a row value — over `c` (customers) and
 * `b` (customer_balances). `cursorValue` is what a cursor carries: the key itself, or for `since`
 * the instant as exact text. `indexed` keys have an index on (shop_id, key, id) (migration 0013),
 * so a page is read in order, not sorted.
 */
const SORTS: Record<
  DirectorySort,
  { key: SQL; cursorValue: SQL; cursorParam: (value: number | string) => SQL; text: boolean }
> = {
  balance: {
    key: sql`b.balance`,
    cursorValue: sql`b.balance`,
    cursorParam: (v) => sql`${v}::bigint`,
    text: false,
  },
  lifetime: {
    key: sql`b.lifetime_earned`,
    cursorValue: sql`b.lifetime_earned`,
    cursorParam: (v) => sql`${v}::bigint`,
    text: false,
  },
  // The expression of customers_shop_name_idx: concat_ws is not immutable, so no index could use it.
  name: {
    key: sql`lower(btrim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')))`,
    cursorValue: sql`lower(btrim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')))`,
    cursorParam: (v) => sql`${v}::text`,
    text: true,
  },
  email: {
    key: sql`coalesce(c.email, '')`,
    cursorValue: sql`coalesce(c.email, '')`,
    cursorParam: (v) => sql`${v}::text`,
    text: true,
  },
  since: {
    key: sql`c.enrolled_at`,
    cursorValue: sql`to_char(c.enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    cursorParam: (v) => sql`${v}::timestamptz`,
    text: true,
  },
};

/** Sorts whose natural order is A→Z; the others list the highest (newest) first. */
const ASCENDING_BY_DEFAULT: ReadonlySet<DirectorySort> = new Set(['name', 'email']);

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
  const wanted = SORTS[sort].text;
  if (
    (wanted ? typeof value !== 'string' : !Number.isSafeInteger(value)) ||
    (sort === 'since' && Number.isNaN(Date.parse(value as string)))
  ) {
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

const MEMBER_COLUMNS = sql`c.id, c.external_id, c.email, c.first_name, c.last_name, c.redacted_at,
  c.enrolled_at, t.tier_key`;

/**
 * The page's rows in key order (`ascending`), `count` at most, after `cursor` when given.
 *
 * Balance and lifetime sorts read customer_balances in index order; a member with no entries has
 * no balance row and counts as 0, so when the page reaches 0 those members are read too (by id,
 * the tie-breaker) and the two runs merged — a page of positive balances never looks for them.
 */
async function pageRows(
  db: Executor,
  shopId: number,
  sort: DirectorySort,
  search: SQL,
  ascending: boolean,
  cursor: DirectoryCursor | null,
  count: number,
  matchesFirst: boolean,
  /** The shop's member count when not searching (known already): see the zero region below. */
  members: number | null,
): Promise<Row[]> {
  const spec = SORTS[sort];
  const order = ascending ? sql`ASC` : sql`DESC`;
  const beyond = (key: SQL) =>
    cursor
      ? ascending
        ? sql`(${key}, c.id) > (${spec.cursorParam(cursor.value)}, ${cursor.id}::int)`
        : sql`(${key}, c.id) < (${spec.cursorParam(cursor.value)}, ${cursor.id}::int)`
      : sql`TRUE`;
  const tiers = sql`LEFT JOIN customer_tiers t ON t.customer_id = c.id AND t.shop_id = c.shop_id`;

  if (matchesFirst) {
    // Few matches: read them all (the substring test is a scan of the shop's members whatever
    // the plan), then sort just those. Walking a sort index past tens of thousands of members to
    // find a handful that match would cost far more.
    const key =
      sort === 'balance'
        ? sql`coalesce(b.balance, 0)`
        : sort === 'lifetime'
          ? sql`coalesce(b.lifetime_earned, 0)`
          : spec.key;
    const value = sort === 'balance' || sort === 'lifetime' ? key : spec.cursorValue;
    return rowsOf<Row>(
      await db.execute(sql`
        WITH c AS MATERIALIZED (
          SELECT * FROM customers c WHERE c.shop_id = ${shopId} AND ${search})
        SELECT ${MEMBER_COLUMNS}, coalesce(b.balance, 0) AS balance,
          coalesce(b.lifetime_earned, 0) AS lifetime_earned, ${value} AS sort_value
        FROM c
        -- A key lookup per match, where a join would hash every balance of the shop (LIMIT 1
        -- keeps the planner from flattening the lateral subquery into that join).
        LEFT JOIN LATERAL (
          SELECT balance, lifetime_earned FROM customer_balances
          WHERE customer_id = c.id AND shop_id = c.shop_id LIMIT 1) b ON TRUE
        LEFT JOIN LATERAL (
          SELECT tier_key FROM customer_tiers
          WHERE customer_id = c.id AND shop_id = c.shop_id LIMIT 1) t ON TRUE
        WHERE ${beyond(key)}
        ORDER BY ${key} ${order}, c.id ${order}
        LIMIT ${count}`),
    );
  }

  if (sort !== 'balance' && sort !== 'lifetime') {
    return rowsOf<Row>(
      await db.execute(sql`
        SELECT ${MEMBER_COLUMNS}, coalesce(b.balance, 0) AS balance,
          coalesce(b.lifetime_earned, 0) AS lifetime_earned, ${spec.cursorValue} AS sort_value
        FROM customers c
        LEFT JOIN customer_balances b ON b.customer_id = c.id AND b.shop_id = c.shop_id
        ${tiers}
        WHERE c.shop_id = ${shopId} AND ${search} AND ${beyond(spec.key)}
        ORDER BY ${spec.key} ${order}, c.id ${order}
        LIMIT ${count}`),
    );
  }

  // b.customer_id = c.id: the keyset's id is the balance row's, so its index serves the order.
  const withBalance = rowsOf<Row>(
    await db.execute(sql`
      SELECT ${MEMBER_COLUMNS}, b.balance, b.lifetime_earned, ${spec.key} AS sort_value
      FROM customer_balances b
      JOIN customers c ON c.id = b.customer_id AND c.shop_id = b.shop_id
      ${tiers}
      WHERE b.shop_id = ${shopId} AND ${search}
        AND ${
          cursor
            ? ascending
              ? sql`(${spec.key}, b.customer_id) > (${cursor.value}::bigint, ${cursor.id}::int)`
              : sql`(${spec.key}, b.customer_id) < (${cursor.value}::bigint, ${cursor.id}::int)`
            : sql`TRUE`
        }
      ORDER BY ${spec.key} ${order}, b.customer_id ${order}
      LIMIT ${count}`),
  );
  const last = withBalance.at(-1);
  // The page ends before reaching 0: members without a balance row cannot be on it.
  if (
    withBalance.length === count &&
    last &&
    (ascending ? Number(last.sort_value) < 0 : Number(last.sort_value) > 0)
  ) {
    return withBalance;
  }
  // Members without a balance row sort as 0, by id; after the cursor means past (0, cursor id).
  let zeroRange: SQL = sql`TRUE`;
  if (cursor) {
    const value = Number(cursor.value);
    if (ascending ? value > 0 : value < 0) return withBalance;
    if (value === 0) zeroRange = ascending ? sql`c.id > ${cursor.id}` : sql`c.id < ${cursor.id}`;
  }
  // Finding members without a balance row reads every member; when every member has one (as in a
  // shop with a signup bonus), two counts say so for far less.
  if (members !== null) {
    const [row] = rowsOf<{ rows: number }>(
      await db.execute(
        sql`SELECT count(*)::int AS rows FROM customer_balances WHERE shop_id = ${shopId}`,
      ),
    );
    if (Number(row?.rows ?? 0) >= members) return withBalance;
  }
  const withoutBalance = rowsOf<Row>(
    await db.execute(sql`
      SELECT ${MEMBER_COLUMNS}, 0 AS balance, 0 AS lifetime_earned, 0 AS sort_value
      FROM customers c
      ${tiers}
      WHERE c.shop_id = ${shopId} AND ${search} AND ${zeroRange}
        AND NOT EXISTS (SELECT 1 FROM customer_balances nb WHERE nb.customer_id = c.id)
      ORDER BY c.id ${order}
      LIMIT ${count}`),
  );
  const sign = ascending ? 1 : -1;
  return [...withBalance, ...withoutBalance]
    .sort(
      (x, y) =>
        sign * (Number(x.sort_value) - Number(y.sort_value)) ||
        sign * (Number(x.id) - Number(y.id)),
    )
    .slice(0, count);
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
  const direction = query.direction ?? (ASCENDING_BY_DEFAULT.has(sort) ? 'asc' : 'desc');
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), MAX_DIRECTORY_PAGE);
  const cursor = query.cursor ?? null;
  // A previous page reads backwards from its cursor, then is turned round.
  const backwards = cursor?.direction === 'before';
  const ascending = (direction === 'asc') !== backwards;
  const search = searchCondition(query.search);

  const searching = searchTerm(query.search) !== null;
  const upTo = query.sortMatchesUpTo ?? SORT_MATCHES_UP_TO;
  // Every match is counted (the page says how many): the prefix indexes find them, so this costs
  // what the matches do. (A LIMIT here would tempt the planner into scanning every member.)
  const countResult = await db.execute(
    sql`SELECT count(*)::int AS total FROM customers c WHERE c.shop_id = ${shopId} AND ${search}`,
  );
  const total = Number(rowsOf<{ total: number }>(countResult)[0]?.total ?? 0);
  // Few matches are sorted on their own; many are read in the sort's index order, where a page
  // finds its rows within a few thousand members (matches are dense).
  const matchesFirst = searching && total <= upTo;
  const rows = await pageRows(
    db,
    shopId,
    sort,
    search,
    ascending,
    cursor,
    limit + 1,
    matchesFirst,
    searching ? null : total,
  );
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
    sortValue: SORTS[sort].text ? String(r.sort_value) : Number(r.sort_value),
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
    total,
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
