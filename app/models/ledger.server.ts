/**
 * The ledger: insert-only entries, each with a per-shop idempotency key and the inputs it was
 * computed from, and the customer_balances projection updated in the same transaction.
 * Design and trade-offs: docs/decisions/002-ledger.md.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBalances, customers, ledgerEntries } from '../../db/schema';
import { anyOf, recordset } from '../../db/sql';
import { AppError, ErrorCode, sqlStateOf } from '../errors';
import { markMetafieldsPending } from './metafield-sync.server';

export const LEDGER_SOURCES = [
  'order',
  'refund',
  'cancellation',
  'redemption',
  'expiry',
  'adjustment',
  'bonus',
  'referral',
  'tier',
] as const;
export type LedgerSource = (typeof LEDGER_SOURCES)[number];

/**
 * Sources whose points count towards lifetimeEarned: awards and their reversals (refund,
 * cancellation), bonuses, referrals, tier rewards and manual adjustments (either sign).
 * Spending (redemption) and expiry lower the balance but not what the customer has earned.
 */
export const EARNING_SOURCES: ReadonlySet<LedgerSource> = new Set<LedgerSource>([
  'order',
  'refund',
  'cancellation',
  'bonus',
  'referral',
  'tier',
  'adjustment',
]);

export const MAX_ENTRY_POINTS = 1_000_000_000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
const MAX_SUBJECT_ID_LENGTH = 200;
const MAX_INPUTS_BYTES = 32_768;
/** Entries per insert statement (one JSON parameter, db/sql.ts): keeps each to a few MB. */
const INSERT_CHUNK = 2_000;
/** Ids per `= ANY($1)` lookup and rows per balance upsert. */
const LOOKUP_CHUNK = 5_000;

export type LedgerInputs = Record<string, unknown>;

export interface LedgerEntryInput {
  customerId: number;
  /** Unique per shop: `order:<id>:earn`, `refund:<id>:reverse`. 1–200 characters. */
  idempotencyKey: string;
  source: LedgerSource;
  /** Signed whole points within ±1,000,000,000. */
  points: number;
  /** Business time (order paid at, refund created at): what reports bucket by. */
  occurredAt: Date;
  programVersion?: number | null;
  /** What the points were computed from (amount in minor units, currency, bands, multipliers…). */
  inputs: LedgerInputs;
  subjectId?: string | null;
  reversesEntryId?: number | null;
  expiresAt?: Date | null;
}

export type LedgerEntry = Omit<typeof ledgerEntries.$inferSelect, 'source' | 'inputs'> & {
  source: LedgerSource;
  inputs: LedgerInputs;
};

export interface PostResult {
  entry: LedgerEntry;
  /** False when the key was already posted with the same inputs (a harmless repeat). */
  created: boolean;
}

export interface Balance {
  balance: number;
  lifetimeEarned: number;
}

// ---------------------------------------------------------------------------------------------
// Validation

interface ValidEntry {
  customerId: number;
  idempotencyKey: string;
  source: LedgerSource;
  points: number;
  occurredAt: Date;
  programVersion: number | null;
  inputs: LedgerInputs;
  subjectId: string | null;
  reversesEntryId: number | null;
  expiresAt: Date | null;
}

function invalid(key: unknown, message: string, details: Record<string, unknown> = {}): AppError {
  const which =
    typeof key === 'string' && key !== '' ? `ledger entry ${JSON.stringify(key)}` : 'ledger entry';
  return new AppError(ErrorCode.VALIDATION, `${which}: ${message}`, {
    idempotencyKey: key,
    ...details,
  });
}

const isPositiveId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isValidDate = (v: unknown): v is Date => v instanceof Date && !Number.isNaN(v.getTime());

/**
 * Checks that `value` is plain JSON that survives jsonb unchanged, and returns its JSON round
 * trip (undefined properties dropped) — the exact value stored and later compared.
 */
function checkJson(value: unknown, path: string, key: unknown): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    // jsonb cannot hold U+0000; PostgreSQL's own error would not say where it is.
    if (value.includes('\u0000')) throw invalid(key, `inputs${path} contains a NUL character`);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(key, `inputs${path} must be a finite number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => checkJson(item, `${path}[${i}]`, key));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      if (item === undefined) continue;
      if (name.includes('\u0000'))
        throw invalid(key, `inputs${path} has a key with a NUL character`);
      out[name] = checkJson(item, `${path}.${name}`, key);
    }
    return out;
  }
  throw invalid(key, `inputs${path} must be JSON (string, number, boolean, null, array, object)`);
}

function validateEntry(entry: LedgerEntryInput): ValidEntry {
  if (typeof entry !== 'object' || entry === null) throw invalid(undefined, 'must be an object');
  const key = entry.idempotencyKey;
  if (typeof key !== 'string' || key.length === 0) {
    throw invalid(key, 'idempotencyKey must be non-empty text');
  }
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH || key.includes('\u0000')) {
    throw invalid(
      key,
      `idempotencyKey must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters without NUL`,
    );
  }
  if (!isPositiveId(entry.customerId)) {
    throw invalid(
      key,
      `customerId must be a positive whole number (got ${String(entry.customerId)})`,
    );
  }
  if (!(LEDGER_SOURCES as readonly string[]).includes(entry.source)) {
    throw invalid(
      key,
      `source ${JSON.stringify(entry.source)} is not one of ${LEDGER_SOURCES.join(', ')}`,
    );
  }
  if (!Number.isSafeInteger(entry.points) || Math.abs(entry.points) > MAX_ENTRY_POINTS) {
    throw invalid(
      key,
      `points must be a whole number within ±${MAX_ENTRY_POINTS} (got ${String(entry.points)})`,
    );
  }
  if (!isValidDate(entry.occurredAt)) throw invalid(key, 'occurredAt must be a valid Date');
  const programVersion = entry.programVersion ?? null;
  if (programVersion !== null && !isPositiveId(programVersion)) {
    throw invalid(
      key,
      `programVersion must be a positive whole number (got ${String(programVersion)})`,
    );
  }
  if (typeof entry.inputs !== 'object' || entry.inputs === null || Array.isArray(entry.inputs)) {
    throw invalid(key, 'inputs must be an object recording what the points were computed from');
  }
  const inputs = checkJson(entry.inputs, '', key) as LedgerInputs;
  if (JSON.stringify(inputs).length > MAX_INPUTS_BYTES) {
    throw invalid(key, `inputs must serialise to at most ${MAX_INPUTS_BYTES} characters`);
  }
  const subjectId = entry.subjectId ?? null;
  if (
    subjectId !== null &&
    (typeof subjectId !== 'string' ||
      subjectId === '' ||
      subjectId.length > MAX_SUBJECT_ID_LENGTH ||
      subjectId.includes('\u0000'))
  ) {
    throw invalid(key, `subjectId must be 1–${MAX_SUBJECT_ID_LENGTH} characters of text`);
  }
  const reversesEntryId = entry.reversesEntryId ?? null;
  if (reversesEntryId !== null && !isPositiveId(reversesEntryId)) {
    throw invalid(
      key,
      `reversesEntryId must be a positive whole number (got ${String(reversesEntryId)})`,
    );
  }
  const expiresAt = entry.expiresAt ?? null;
  if (expiresAt !== null && !isValidDate(expiresAt))
    throw invalid(key, 'expiresAt must be a valid Date');
  return {
    customerId: entry.customerId,
    idempotencyKey: key,
    source: entry.source,
    points: entry.points,
    occurredAt: entry.occurredAt,
    programVersion,
    inputs,
    subjectId,
    reversesEntryId,
    expiresAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Idempotency: the same key must describe the same entry

/** JSON with object keys sorted at every level, so jsonb's key reordering compares equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const time = (d: Date | null): number | null => (d === null ? null : d.getTime());

/** Fields of `stored` that differ from `wanted`, as `name: stored → wanted`. */
function differences(stored: LedgerEntry, wanted: ValidEntry): string[] {
  const diffs: string[] = [];
  const compare = (name: string, a: unknown, b: unknown) => {
    if (a !== b) diffs.push(`${name}: ${String(a)} → ${String(b)}`);
  };
  compare('customerId', stored.customerId, wanted.customerId);
  compare('source', stored.source, wanted.source);
  compare('points', stored.points, wanted.points);
  if (time(stored.occurredAt) !== time(wanted.occurredAt)) {
    diffs.push(
      `occurredAt: ${stored.occurredAt.toISOString()} → ${wanted.occurredAt.toISOString()}`,
    );
  }
  compare('programVersion', stored.programVersion, wanted.programVersion);
  const storedInputs = canonicalJson(stored.inputs);
  const wantedInputs = canonicalJson(wanted.inputs);
  if (storedInputs !== wantedInputs) diffs.push(`inputs: ${storedInputs} → ${wantedInputs}`);
  compare('subjectId', stored.subjectId, wanted.subjectId);
  compare('reversesEntryId', stored.reversesEntryId, wanted.reversesEntryId);
  compare('expiresAt', time(stored.expiresAt), time(wanted.expiresAt));
  return diffs;
}

function conflictError(shopId: number, key: string, diffs: string[]): AppError {
  return new AppError(
    ErrorCode.IDEMPOTENCY_CONFLICT,
    `idempotency key ${JSON.stringify(key)} of shop ${shopId} was already posted with different inputs (${diffs.join('; ')})`,
    { shopId, idempotencyKey: key, differences: diffs },
  );
}

// ---------------------------------------------------------------------------------------------
// Writing

function toRow(shopId: number, e: ValidEntry) {
  return {
    shopId,
    customerId: e.customerId,
    idempotencyKey: e.idempotencyKey,
    source: e.source,
    points: e.points,
    occurredAt: e.occurredAt,
    programVersion: e.programVersion,
    inputs: e.inputs,
    subjectId: e.subjectId,
    reversesEntryId: e.reversesEntryId,
    expiresAt: e.expiresAt,
  };
}

/** Turns the database's refusals into errors that name the problem. */
function translateWriteError(error: unknown, shopId: number, customerIds: number[]): unknown {
  const state = sqlStateOf(error);
  if (state === '23503') {
    return new AppError(
      ErrorCode.NOT_FOUND,
      `customer ${customerIds.join(', ')} is not a customer of shop ${shopId}`,
      { shopId, customerIds },
      { cause: error },
    );
  }
  if (state === '23514') {
    return new AppError(
      ErrorCode.VALIDATION,
      `ledger entry refused by a database check: ${String(error)}`,
      { shopId },
      {
        cause: error,
      },
    );
  }
  return error;
}

interface BalanceDelta {
  customerId: number;
  balance: number;
  lifetimeEarned: number;
  /** The newest entry id in the change (the ledger position the metafield sync records). */
  ledgerPosition: number;
}

function deltasOf(
  entries: readonly { id: number; customerId: number; source: string; points: number }[],
): BalanceDelta[] {
  const byCustomer = new Map<number, BalanceDelta>();
  for (const e of entries) {
    let delta = byCustomer.get(e.customerId);
    if (!delta) {
      delta = { customerId: e.customerId, balance: 0, lifetimeEarned: 0, ledgerPosition: 0 };
      byCustomer.set(e.customerId, delta);
    }
    delta.ledgerPosition = Math.max(delta.ledgerPosition, e.id);
    delta.balance += e.points;
    if (EARNING_SOURCES.has(e.source as LedgerSource)) delta.lifetimeEarned += e.points;
  }
  // Ascending customer ids: concurrent writers lock balance rows in one order, so no deadlock.
  return [...byCustomer.values()].sort((a, b) => a.customerId - b.customerId);
}

/**
 * Adds the deltas to customer_balances with SQL arithmetic in a single upsert — the row lock makes
 * concurrent posts queue, and each adds to the latest committed value, so no update is lost —
 * and marks the members' storefront metafields pending in the same transaction, whoever posts.
 */
async function applyToProjection(
  tx: Executor,
  shopId: number,
  deltas: BalanceDelta[],
): Promise<void> {
  for (let start = 0; start < deltas.length; start += LOOKUP_CHUNK) {
    await tx
      .insert(customerBalances)
      .select(
        recordset(
          customerBalances,
          deltas.slice(start, start + LOOKUP_CHUNK).map((d) => ({
            customerId: d.customerId,
            shopId,
            balance: d.balance,
            lifetimeEarned: d.lifetimeEarned,
          })),
        ),
      )
      .onConflictDoUpdate({
        target: customerBalances.customerId,
        set: {
          balance: sql`customer_balances.balance + excluded.balance`,
          lifetimeEarned: sql`customer_balances.lifetime_earned + excluded.lifetime_earned`,
          updatedAt: sql`now()`,
        },
      });
  }
  await markMetafieldsPending(tx, shopId, deltas);
}

/** A reversal must point at an entry of the same shop and customer. */
async function checkReversals(tx: Executor, shopId: number, entries: ValidEntry[]): Promise<void> {
  const reversals = entries.filter((e) => e.reversesEntryId !== null);
  if (reversals.length === 0) return;
  const ids = [...new Set(reversals.map((e) => e.reversesEntryId!))];
  const owner = new Map<number, number>();
  for (let start = 0; start < ids.length; start += LOOKUP_CHUNK) {
    const rows = await tx
      .select({ id: ledgerEntries.id, customerId: ledgerEntries.customerId })
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.shopId, shopId),
          anyOf(ledgerEntries.id, ids.slice(start, start + LOOKUP_CHUNK)),
        ),
      );
    for (const row of rows) owner.set(row.id, row.customerId);
  }
  for (const e of reversals) {
    const customerId = owner.get(e.reversesEntryId!);
    if (customerId === undefined) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `ledger entry ${JSON.stringify(e.idempotencyKey)} reverses entry ${e.reversesEntryId}, which shop ${shopId} does not have`,
        { shopId, idempotencyKey: e.idempotencyKey, reversesEntryId: e.reversesEntryId },
      );
    }
    if (customerId !== e.customerId) {
      throw invalid(
        e.idempotencyKey,
        `reverses entry ${e.reversesEntryId} of customer ${customerId}, not of customer ${e.customerId}`,
      );
    }
  }
}

/**
 * Posts one entry, exactly once per (shop, idempotency key):
 * `INSERT … ON CONFLICT (shop_id, idempotency_key) DO NOTHING RETURNING *`; when inserted, the
 * balance projection is updated in the same transaction (a savepoint inside a caller's transaction).
 * When the key exists — a retry, or a concurrent post that won the race — the stored entry is
 * returned with created=false if it describes the same entry, else IDEMPOTENCY_CONFLICT.
 */
export async function post(
  db: Executor,
  shopId: number,
  entry: LedgerEntryInput,
): Promise<PostResult> {
  const valid = validateEntry(entry);
  return db.transaction(async (tx) => {
    await checkReversals(tx, shopId, [valid]);
    let inserted;
    try {
      [inserted] = await tx
        .insert(ledgerEntries)
        .values(toRow(shopId, valid))
        .onConflictDoNothing({ target: [ledgerEntries.shopId, ledgerEntries.idempotencyKey] })
        .returning();
    } catch (error) {
      throw translateWriteError(error, shopId, [valid.customerId]);
    }
    if (inserted) {
      await applyToProjection(tx, shopId, deltasOf([{ ...valid, id: inserted.id }]));
      return { entry: inserted as LedgerEntry, created: true };
    }
    // Read committed: the conflicting row is committed by now (ON CONFLICT waited for it).
    const existing = await findEntryByKey(tx, shopId, valid.idempotencyKey);
    if (!existing) {
      throw new AppError(
        ErrorCode.CONFLICT,
        `idempotency key ${JSON.stringify(valid.idempotencyKey)} of shop ${shopId} conflicted but its entry is not visible; retry`,
        { shopId, idempotencyKey: valid.idempotencyKey },
      );
    }
    const diffs = differences(existing, valid);
    if (diffs.length > 0) throw conflictError(shopId, valid.idempotencyKey, diffs);
    return { entry: existing, created: false };
  });
}

/**
 * Bulk post for imports, in one transaction: multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`
 * in chunks, then the projection updated from exactly the rows inserted. Keys that already existed
 * (or repeat within `entries`) get the same check as post(); any conflict, unknown customer or bad
 * entry rolls the whole call back. Results are in input order. Callers bound the call size (e.g.
 * 10,000 entries) to keep transactions short.
 */
export async function postMany(
  db: Executor,
  shopId: number,
  entries: readonly LedgerEntryInput[],
): Promise<PostResult[]> {
  const valid = entries.map(validateEntry);
  if (valid.length === 0) return [];
  // First occurrence of each key is the one inserted; later ones must describe the same entry.
  const firstByKey = new Map<string, ValidEntry>();
  for (const e of valid) {
    const first = firstByKey.get(e.idempotencyKey);
    if (!first) {
      firstByKey.set(e.idempotencyKey, e);
      continue;
    }
    const diffs = differences({ ...toRow(shopId, first), id: 0, createdAt: new Date(0) }, e);
    if (diffs.length > 0) throw conflictError(shopId, e.idempotencyKey, diffs);
  }
  // Key order: concurrent imports touch the unique index in one order.
  const unique = [...firstByKey.values()].sort((a, b) =>
    a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0,
  );

  return db.transaction(async (tx) => {
    await checkCustomers(tx, shopId, unique);
    await checkReversals(tx, shopId, unique);
    const stored = new Map<string, PostResult>();
    const insertedEntries: LedgerEntry[] = [];
    for (let start = 0; start < unique.length; start += INSERT_CHUNK) {
      const chunk = unique.slice(start, start + INSERT_CHUNK);
      let rows;
      try {
        rows = await tx
          .insert(ledgerEntries)
          .select(
            recordset(
              ledgerEntries,
              chunk.map((e) => toRow(shopId, e)),
            ),
          )
          .onConflictDoNothing({ target: [ledgerEntries.shopId, ledgerEntries.idempotencyKey] })
          .returning();
      } catch (error) {
        throw translateWriteError(error, shopId, [...new Set(chunk.map((e) => e.customerId))]);
      }
      for (const row of rows as LedgerEntry[]) {
        stored.set(row.idempotencyKey, { entry: row, created: true });
        insertedEntries.push(row);
      }
    }

    const existingKeys = unique.filter((e) => !stored.has(e.idempotencyKey));
    const conflicts: string[] = [];
    for (let start = 0; start < existingKeys.length; start += LOOKUP_CHUNK) {
      const chunk = existingKeys.slice(start, start + LOOKUP_CHUNK);
      const rows = (await tx
        .select()
        .from(ledgerEntries)
        .where(
          and(
            eq(ledgerEntries.shopId, shopId),
            anyOf(
              ledgerEntries.idempotencyKey,
              chunk.map((e) => e.idempotencyKey),
            ),
          ),
        )) as LedgerEntry[];
      const byKey = new Map(rows.map((r) => [r.idempotencyKey, r]));
      for (const e of chunk) {
        const existing = byKey.get(e.idempotencyKey);
        if (!existing) {
          throw new AppError(
            ErrorCode.CONFLICT,
            `idempotency key ${JSON.stringify(e.idempotencyKey)} of shop ${shopId} conflicted but its entry is not visible; retry`,
            { shopId, idempotencyKey: e.idempotencyKey },
          );
        }
        const diffs = differences(existing, e);
        if (diffs.length > 0)
          conflicts.push(`${JSON.stringify(e.idempotencyKey)} (${diffs.join('; ')})`);
        stored.set(e.idempotencyKey, { entry: existing, created: false });
      }
    }
    if (conflicts.length > 0) {
      const shown = conflicts.slice(0, 5).join(', ');
      const more = conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : '';
      throw new AppError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        `${conflicts.length} idempotency key(s) of shop ${shopId} were already posted with different inputs: ${shown}${more}`,
        { shopId, conflicts: conflicts.slice(0, 100) },
      );
    }

    await applyToProjection(tx, shopId, deltasOf(insertedEntries));

    const firstSeen = new Set<string>();
    return valid.map((e) => {
      const result = stored.get(e.idempotencyKey)!;
      const first = !firstSeen.has(e.idempotencyKey);
      firstSeen.add(e.idempotencyKey);
      return first ? result : { entry: result.entry, created: false };
    });
  });
}

/** Every customer of the batch must belong to the shop: one lookup names all that do not. */
async function checkCustomers(tx: Executor, shopId: number, entries: ValidEntry[]): Promise<void> {
  const ids = [...new Set(entries.map((e) => e.customerId))];
  const found = new Set<number>();
  for (let start = 0; start < ids.length; start += LOOKUP_CHUNK) {
    const rows = await tx
      .select({ id: customers.id })
      .from(customers)
      .where(
        and(
          eq(customers.shopId, shopId),
          anyOf(customers.id, ids.slice(start, start + LOOKUP_CHUNK)),
        ),
      );
    for (const row of rows) found.add(row.id);
  }
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    const shown =
      missing.slice(0, 10).join(', ') +
      (missing.length > 10 ? ` and ${missing.length - 10} more` : '');
    throw new AppError(
      ErrorCode.NOT_FOUND,
      `customer ${shown} is not a customer of shop ${shopId}`,
      {
        shopId,
        customerIds: missing.slice(0, 100),
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** The customer's balance from the projection; zeros when nothing was ever posted. */
export async function balanceOf(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<Balance> {
  const [row] = await db
    .select({ balance: customerBalances.balance, lifetimeEarned: customerBalances.lifetimeEarned })
    .from(customerBalances)
    .where(and(eq(customerBalances.shopId, shopId), eq(customerBalances.customerId, customerId)));
  return row
    ? { balance: Number(row.balance), lifetimeEarned: Number(row.lifetimeEarned) }
    : { balance: 0, lifetimeEarned: 0 };
}

/** The same two numbers summed from the entries themselves: the check on the projection. */
export async function sumOfEntries(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<Balance> {
  const earning = sql.join(
    [...EARNING_SOURCES].map((s) => sql`${s}`),
    sql`, `,
  );
  const [row] = await db
    .select({
      balance: sql<number>`coalesce(sum(${ledgerEntries.points}), 0)`.mapWith(Number),
      lifetimeEarned:
        sql<number>`coalesce(sum(${ledgerEntries.points}) FILTER (WHERE ${ledgerEntries.source} IN (${earning})), 0)`.mapWith(
          Number,
        ),
    })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.customerId, customerId)));
  return { balance: row?.balance ?? 0, lifetimeEarned: row?.lifetimeEarned ?? 0 };
}

/** The customer's entries, oldest first (by occurred_at, then posting order). */
export async function entriesFor(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<LedgerEntry[]> {
  const rows = await db
    .select()
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.customerId, customerId)))
    .orderBy(asc(ledgerEntries.occurredAt), asc(ledgerEntries.id));
  return rows as LedgerEntry[];
}

export async function findEntryByKey(
  db: Executor,
  shopId: number,
  idempotencyKey: string,
): Promise<LedgerEntry | undefined> {
  const [row] = await db
    .select()
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shopId), eq(ledgerEntries.idempotencyKey, idempotencyKey)));
  return row as LedgerEntry | undefined;
}
