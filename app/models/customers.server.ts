import { and, asc, eq, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.server';
import { customers, referrals } from '../../db/schema';
import { anyOf, recordset } from '../../db/sql';
import { parseCalendarDay } from '../../loyalty/time';
import { AppError, ErrorCode } from '../errors';
import { forgetBirthday } from './birthdays.server';
import { forgetFingerprints } from './fingerprints.server';

export type Customer = typeof customers.$inferSelect;

export interface CustomerInput {
  /** Shopify customer id, or the customer_id of an imported file. Exact text, 1–255 chars. */
  externalId: string;
  /** Stored trimmed and lower-cased so guest orders can be matched by email. */
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  /** YYYY-MM-DD. */
  birthday?: string | null;
  /**
   * Whether Shopify reports the account enabled with `email` verified (customers/create|update).
   * Omitted: unknown, and kept — unless the email changes, which clears it.
   */
  emailVerified?: boolean;
}

const MAX_EXTERNAL_ID = 255;
const MAX_TEXT = 320;
/** Customers per upsert statement (one JSON parameter, db/sql.ts): keeps each to a few MB. */
const BULK_CHUNK = 5_000;

function invalid(field: string, message: string, value?: unknown): AppError {
  return new AppError(ErrorCode.VALIDATION, `customer ${field} ${message}`, { field, value });
}

function checkExternalId(externalId: unknown): string {
  if (typeof externalId !== 'string' || externalId.trim() === '') {
    throw invalid('externalId', 'must be non-empty text', externalId);
  }
  if (externalId.length > MAX_EXTERNAL_ID || externalId.includes('\u0000')) {
    throw invalid(
      'externalId',
      `must be at most ${MAX_EXTERNAL_ID} characters without NUL`,
      externalId,
    );
  }
  return externalId;
}

/** Normalises an optional personal text field: undefined = leave as is, '' or null = none. */
function optionalText(field: string, value: unknown): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw invalid(field, 'must be text', value);
  const trimmed = value.trim();
  if (trimmed.length > MAX_TEXT || trimmed.includes('\u0000')) {
    throw invalid(field, `must be at most ${MAX_TEXT} characters without NUL`);
  }
  return trimmed === '' ? null : trimmed;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

interface NormalizedCustomer {
  externalId: string;
  email: string | null | undefined;
  firstName: string | null | undefined;
  lastName: string | null | undefined;
  birthday: string | null | undefined;
}

function normalize(input: CustomerInput): NormalizedCustomer {
  if (typeof input !== 'object' || input === null) throw invalid('input', 'must be an object');
  const email = optionalText('email', input.email);
  const birthday = optionalText('birthday', input.birthday);
  if (birthday) {
    try {
      parseCalendarDay(birthday);
    } catch {
      throw invalid(
        'birthday',
        `${JSON.stringify(birthday)} is not a calendar day (YYYY-MM-DD)`,
        birthday,
      );
    }
  }
  return {
    externalId: checkExternalId(input.externalId),
    email: email ? email.toLowerCase() : email,
    firstName: optionalText('firstName', input.firstName),
    lastName: optionalText('lastName', input.lastName),
    birthday,
  };
}

const personalFields = ['email', 'firstName', 'lastName', 'birthday'] as const;
const columnOf = {
  email: customers.email,
  firstName: customers.firstName,
  lastName: customers.lastName,
  birthday: customers.birthday,
} as const;
const excludedColumn = {
  email: sql.raw('excluded.email'),
  firstName: sql.raw('excluded.first_name'),
  lastName: sql.raw('excluded.last_name'),
  birthday: sql.raw('excluded.birthday'),
} as const;

/** A verification is of one address: a new email is unverified until Shopify says otherwise. */
const verifiedUnlessEmailChanged = sql`CASE WHEN excluded.email IS NOT NULL AND excluded.email IS DISTINCT FROM ${customers.email} THEN NULL ELSE ${customers.emailVerifiedAt} END`;

/** A redacted customer's personal fields stay empty, whatever a late webhook carries. */
function unlessRedacted(value: SQL): SQL {
  return sql`CASE WHEN ${customers.redactedAt} IS NULL THEN ${value} ELSE NULL END`;
}

/**
 * Creates the customer or updates the existing one, in one upsert on (shop, externalId), so
 * concurrent calls for the same customer both succeed and return the same row. Fields given
 * (including null, which clears) overwrite; omitted fields are kept.
 */
export async function ensureCustomer(
  db: Executor,
  shopId: number,
  input: CustomerInput,
): Promise<Customer> {
  const customer = normalize(input);
  const set: PgUpdateSetSource<typeof customers> = { updatedAt: sql`now()` };
  for (const field of personalFields) {
    if (customer[field] !== undefined) set[field] = unlessRedacted(excludedColumn[field]);
  }
  const verifiedAt =
    input.emailVerified === true
      ? sql`CASE WHEN ${customers.redactedAt} IS NULL THEN coalesce(${verifiedUnlessEmailChanged}, now()) END`
      : null;
  if (input.emailVerified !== undefined) set.emailVerifiedAt = verifiedAt;
  else if (customer.email !== undefined) set.emailVerifiedAt = verifiedUnlessEmailChanged;
  const [row] = await db
    .insert(customers)
    .values({
      shopId,
      externalId: customer.externalId,
      email: customer.email ?? null,
      firstName: customer.firstName ?? null,
      lastName: customer.lastName ?? null,
      birthday: customer.birthday ?? null,
      emailVerifiedAt: input.emailVerified === true && customer.email ? new Date() : null,
    })
    .onConflictDoUpdate({ target: [customers.shopId, customers.externalId], set })
    .returning();
  return row!;
}

/**
 * Bulk ensureCustomer for imports: upserts in chunks of a few thousand rows with
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING` and returns externalId → customer id.
 * Unlike ensureCustomer, a missing or null field never clears a stored one (one statement serves
 * many rows). Repeated externalIds are merged, later values winning.
 */
export async function ensureCustomers(
  db: Executor,
  shopId: number,
  inputs: Iterable<CustomerInput>,
): Promise<Map<string, number>> {
  const merged = new Map<string, NormalizedCustomer>();
  for (const input of inputs) {
    const customer = normalize(input);
    const previous = merged.get(customer.externalId);
    if (previous) {
      for (const field of personalFields) customer[field] ??= previous[field];
    }
    merged.set(customer.externalId, customer);
  }
  // Sorted, so two concurrent imports lock rows in the same order and cannot deadlock.
  const rows = [...merged.values()].sort((a, b) =>
    a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0,
  );
  const set: PgUpdateSetSource<typeof customers> = { updatedAt: sql`now()` };
  for (const field of personalFields) {
    set[field] = unlessRedacted(sql`coalesce(${excludedColumn[field]}, ${columnOf[field]})`);
  }
  set.emailVerifiedAt = verifiedUnlessEmailChanged;
  const ids = new Map<string, number>();
  for (let start = 0; start < rows.length; start += BULK_CHUNK) {
    const chunk = rows.slice(start, start + BULK_CHUNK);
    const returned = await db
      .insert(customers)
      .select(
        recordset(
          customers,
          chunk.map((c) => ({
            shopId,
            externalId: c.externalId,
            email: c.email ?? null,
            firstName: c.firstName ?? null,
            lastName: c.lastName ?? null,
            birthday: c.birthday ?? null,
          })),
        ),
      )
      .onConflictDoUpdate({ target: [customers.shopId, customers.externalId], set })
      .returning({ id: customers.id, externalId: customers.externalId });
    for (const row of returned) ids.set(row.externalId, row.id);
  }
  return ids;
}

/**
 * Locks the shop's customer rows with these ids or external ids (those that exist) until the
 * transaction ends, in id order, in one statement. A handler that may change the balances of
 * several customers — an order's buyer and the member who referred them — locks them all first,
 * so two transactions touching the same customers queue here instead of deadlocking on balance
 * rows taken in different orders. The mode is the one an upsert takes (no key update), so it never
 * blocks another transaction's inserts referring to the customer.
 */
export async function lockCustomers(
  tx: Executor,
  shopId: number,
  which: { ids?: readonly number[]; externalIds?: readonly string[] },
): Promise<void> {
  const ids = [...new Set(which.ids ?? [])];
  const externalIds = [...new Set(which.externalIds ?? [])];
  if (ids.length === 0 && externalIds.length === 0) return;
  // Ids and external ids resolved first into one id array, then the rows locked through the
  // primary key: an OR of the two lists, or an IN over their union, has the planner read the whole
  // table (bench:pipeline: 37, then 223 customer rows per order by seq scan).
  await tx.execute(sql`
    SELECT c.id FROM customers c
    WHERE c.shop_id = ${shopId} AND c.id = ANY(ARRAY(
      SELECT unnest(${sql.param(ids)}::int[])
      UNION
      SELECT e.id FROM customers e
      WHERE e.shop_id = ${shopId} AND e.external_id = ANY(${sql.param(externalIds)}::text[])))
    ORDER BY c.id
    FOR NO KEY UPDATE`);
}

export async function getCustomer(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<Customer | undefined> {
  const [row] = await db
    .select()
    .from(customers)
    .where(and(eq(customers.shopId, shopId), eq(customers.id, customerId)));
  return row;
}

export async function findCustomerByExternalId(
  db: Executor,
  shopId: number,
  externalId: string,
): Promise<Customer | undefined> {
  const [row] = await db
    .select()
    .from(customers)
    .where(and(eq(customers.shopId, shopId), eq(customers.externalId, externalId)));
  return row;
}

/** Customers of the shop with this email (case-insensitive; stored emails are lower-case). */
export async function findCustomersByEmail(
  db: Executor,
  shopId: number,
  email: string,
): Promise<Customer[]> {
  const normalized = normalizeEmail(email);
  if (normalized === '') return [];
  return db
    .select()
    .from(customers)
    .where(and(eq(customers.shopId, shopId), eq(customers.email, normalized)))
    .orderBy(asc(customers.id));
}

/**
 * The account that takes guest orders placed with each of these emails: the shop's one customer
 * with that email whom Shopify reported verified and enabled (docs/earning-rules.md). Emails with
 * no such customer, or several, are left out. Keys are lower-cased emails.
 */
export async function verifiedCustomersByEmail(
  db: Executor,
  shopId: number,
  emails: readonly string[],
): Promise<Map<string, number>> {
  const wanted = [...new Set(emails.map(normalizeEmail).filter((e) => e !== ''))];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .select({ id: customers.id, email: customers.email })
    .from(customers)
    .where(
      and(
        eq(customers.shopId, shopId),
        anyOf(customers.email, wanted),
        isNotNull(customers.emailVerifiedAt),
        isNull(customers.redactedAt),
      ),
    );
  const found = new Map<string, number | null>();
  for (const row of rows) found.set(row.email!, found.has(row.email!) ? null : row.id);
  const result = new Map<string, number>();
  for (const [email, id] of found) if (id !== null) result.set(email, id);
  return result;
}

/**
 * Every customer row of the shop a compliance request is about: the one with the Shopify id, those
 * with the email, and any whose external id is the email (customers an old `loyalty import` of a
 * Shopify export keyed by email). Oldest first.
 */
export async function findCustomersBySubject(
  db: Executor,
  shopId: number,
  subject: { externalId: string | null; email: string | null },
): Promise<Customer[]> {
  const email = subject.email === null ? '' : normalizeEmail(subject.email);
  const which = [
    ...(subject.externalId !== null ? [eq(customers.externalId, subject.externalId)] : []),
    ...(email !== '' ? [eq(customers.email, email), eq(customers.externalId, email)] : []),
  ];
  if (which.length === 0) return [];
  return db
    .select()
    .from(customers)
    .where(and(eq(customers.shopId, shopId), or(...which)))
    .orderBy(asc(customers.id));
}

/**
 * customers/redact: scrubs email, names and birthday and sets redacted_at (first time kept).
 * The row and its ledger stay, so balances and reports remain exact; so does its external id (a
 * Shopify id, or an imported file's customer_id) unless it looks like an email, which becomes
 * `redacted:<row id>`. Their contact fingerprints and the IP hash of the orders they were referred
 * by go too (docs/referrals.md, "Privacy"): a hash of forgotten data would still single them out.
 * Returns undefined when the shop has no such customer.
 */
export async function redactCustomer(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<Customer | undefined> {
  const [row] = await db
    .update(customers)
    .set({
      email: null,
      firstName: null,
      lastName: null,
      birthday: null,
      emailVerifiedAt: null,
      externalId: sql`CASE WHEN ${customers.externalId} LIKE '%@%' THEN 'redacted:' || ${customers.id} ELSE ${customers.externalId} END`,
      redactedAt: sql`coalesce(${customers.redactedAt}, now())`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(customers.shopId, shopId), eq(customers.id, customerId)))
    .returning();
  if (!row) return undefined;
  await forgetFingerprints(db, shopId, customerId);
  await forgetBirthday(db, shopId, customerId);
  await db
    .update(referrals)
    .set({ ipHash: null, updatedAt: sql`now()` })
    .where(
      and(
        eq(referrals.shopId, shopId),
        eq(referrals.friendCustomerId, customerId),
        isNotNull(referrals.ipHash),
      ),
    );
  return row;
}
