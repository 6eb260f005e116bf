/**
 * What Shopify's copy of the members' points still lacks, and who may write it. The ledger marks a
 * member pending in the transaction that posts its entry (markMetafieldsPending, called from
 * ledger.server.ts, so every writer does it); the sync (app/metafield-sync.server.ts) reads the
 * pending members with their balances in one statement, writes them, and records what it wrote.
 * One sync per shop at a time, by a lease on shop_metafield_sync. See docs/metafields.md.
 */
import { and, asc, eq, gt, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import {
  customerBalances,
  customerMetafieldSync,
  customers,
  ledgerEntries,
  shopMetafieldSync,
} from '../../db/schema';
import { recordset } from '../../db/sql';

/** A member whose writes keep failing is left alone after this many, until its next change. */
export const MAX_SYNC_ATTEMPTS = 5;
/** Backoff after the n-th failed write: this × 2^(n−1). */
const RETRY_BASE_MS = 30_000;
/** Rows per marking statement (one JSON parameter, db/sql.ts). */
const MARK_CHUNK = 5_000;

export interface LedgerChange {
  customerId: number;
  /** The newest ledger entry id the change adds to the member's balance. */
  ledgerPosition: number;
}

/**
 * Marks members pending: called in the transaction that posts their entries, after the balance
 * projection's upsert (whose row lock orders concurrent posts for a member, so `revision` grows in
 * commit order). Changes must be in ascending customer id, as the projection takes its locks.
 */
export async function markMetafieldsPending(
  tx: Executor,
  shopId: number,
  changes: readonly LedgerChange[],
): Promise<void> {
  for (let start = 0; start < changes.length; start += MARK_CHUNK) {
    await tx
      .insert(customerMetafieldSync)
      .select(
        recordset(
          customerMetafieldSync,
          changes.slice(start, start + MARK_CHUNK).map((c) => ({
            customerId: c.customerId,
            shopId,
            ledgerPosition: c.ledgerPosition,
          })),
        ),
      )
      .onConflictDoUpdate({
        target: customerMetafieldSync.customerId,
        set: {
          revision: sql`customer_metafield_sync.revision + 1`,
          ledgerPosition: sql`greatest(customer_metafield_sync.ledger_position, excluded.ledger_position)`,
          // A new balance is a new write: earlier failures were about another value.
          attempts: sql`0`,
          retryAfter: sql`NULL`,
        },
      });
  }
}

export interface PendingMember {
  customerId: number;
  /** The Shopify customer id (or an imported file's id: see isShopifyCustomerId). */
  externalId: string;
  redacted: boolean;
  balance: number;
  lifetimeEarned: number;
  revision: number;
  ledgerPosition: number;
  attempts: number;
}

/** Members ready for a write (pending, under the attempt cap, past any backoff). */
const ready = and(
  gt(customerMetafieldSync.revision, customerMetafieldSync.syncedRevision),
  lt(customerMetafieldSync.attempts, MAX_SYNC_ATTEMPTS),
  or(isNull(customerMetafieldSync.retryAfter), lte(customerMetafieldSync.retryAfter, sql`now()`)),
);

/**
 * Pending members of a shop in customer id order after `afterCustomerId`, each with its balance,
 * lifetime points and revision read in ONE statement: one snapshot, so the balance is exactly the
 * one its revision stands for (both are written by the transaction that posted the entry).
 */
export async function pendingMembers(
  db: Executor,
  shopId: number,
  options: { limit: number; afterCustomerId?: number },
): Promise<PendingMember[]> {
  const rows = await db
    .select({
      customerId: customerMetafieldSync.customerId,
      externalId: customers.externalId,
      redactedAt: customers.redactedAt,
      balance: customerBalances.balance,
      lifetimeEarned: customerBalances.lifetimeEarned,
      revision: customerMetafieldSync.revision,
      ledgerPosition: customerMetafieldSync.ledgerPosition,
      attempts: customerMetafieldSync.attempts,
    })
    .from(customerMetafieldSync)
    .innerJoin(
      customers,
      and(
        eq(customers.shopId, customerMetafieldSync.shopId),
        eq(customers.id, customerMetafieldSync.customerId),
      ),
    )
    .leftJoin(customerBalances, eq(customerBalances.customerId, customerMetafieldSync.customerId))
    .where(
      and(
        eq(customerMetafieldSync.shopId, shopId),
        gt(customerMetafieldSync.customerId, options.afterCustomerId ?? 0),
        ready,
      ),
    )
    .orderBy(asc(customerMetafieldSync.customerId))
    .limit(options.limit);
  return rows.map((r) => ({
    customerId: r.customerId,
    externalId: r.externalId,
    redacted: r.redactedAt !== null,
    balance: Number(r.balance ?? 0),
    lifetimeEarned: Number(r.lifetimeEarned ?? 0),
    revision: Number(r.revision),
    ledgerPosition: Number(r.ledgerPosition),
    attempts: r.attempts,
  }));
}

/** Whether any member of the shop is ready for a write. */
export async function hasPendingMembers(db: Executor, shopId: number): Promise<boolean> {
  const [row] = await db
    .select({ customerId: customerMetafieldSync.customerId })
    .from(customerMetafieldSync)
    .where(and(eq(customerMetafieldSync.shopId, shopId), ready))
    .limit(1);
  return row !== undefined;
}

export interface WrittenMember {
  customerId: number;
  revision: number;
  ledgerPosition: number;
}

const writtenJson = (rows: readonly WrittenMember[]) =>
  JSON.stringify(
    rows.map((r) => ({
      customer_id: r.customerId,
      revision: r.revision,
      ledger_position: r.ledgerPosition,
    })),
  );

/**
 * Records that Shopify now holds these members' balances as of `revision`, only where that is
 * newer than what was recorded: a late record can never make an older write look current.
 * `note` (null after a write) says why nothing was written for a member that was skipped.
 */
export async function recordSynced(
  db: Executor,
  shopId: number,
  rows: readonly WrittenMember[],
  note: string | null = null,
): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    UPDATE customer_metafield_sync AS s
    SET synced_revision = x.revision,
        synced_position = CASE WHEN ${note}::text IS NULL THEN x.ledger_position ELSE s.synced_position END,
        synced_at = now(), attempts = 0, retry_after = NULL, last_error = ${note}::text
    FROM jsonb_to_recordset(${writtenJson(rows)}::jsonb)
      AS x(customer_id integer, revision bigint, ledger_position bigint)
    WHERE s.shop_id = ${shopId} AND s.customer_id = x.customer_id
      AND s.synced_revision < x.revision`);
}

/**
 * Records failed writes (Shopify refused the member's metafields): one more attempt and a backoff,
 * unless the member changed meanwhile (its new value deserves a fresh try).
 */
export async function recordSyncFailures(
  db: Executor,
  shopId: number,
  rows: readonly (WrittenMember & { error: string })[],
): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(
    rows.map((r) => ({ customer_id: r.customerId, revision: r.revision, error: r.error })),
  );
  await db.execute(sql`
    UPDATE customer_metafield_sync AS s
    SET attempts = s.attempts + 1, last_error = left(x.error, 500),
        retry_after = now() + make_interval(secs => ${RETRY_BASE_MS / 1000}::int * power(2, s.attempts))
    FROM jsonb_to_recordset(${json}::jsonb) AS x(customer_id integer, revision bigint, error text)
    WHERE s.shop_id = ${shopId} AND s.customer_id = x.customer_id AND s.revision = x.revision`);
}

/**
 * Makes every member of the shop pending again, and forgets the program summary written: after a
 * (re)installation Shopify's copy cannot be trusted (app data goes with the old installation).
 */
export async function resyncShop(db: Executor, shopId: number): Promise<void> {
  await db
    .update(customerMetafieldSync)
    .set({ syncedRevision: 0, attempts: 0, retryAfter: null })
    .where(eq(customerMetafieldSync.shopId, shopId));
  await db
    .update(shopMetafieldSync)
    .set({ programVersion: null, programSyncedAt: null, appInstallationId: null })
    .where(eq(shopMetafieldSync.shopId, shopId));
}

// ---------------------------------------------------------------------------------------------
// The lease: one sync per shop at a time

/**
 * Takes the shop's sync lease for `ttlMs` (database clock) if it is free, expired, or already
 * `owner`'s. False: another run holds it.
 */
export async function acquireSyncLease(
  db: Executor,
  shopId: number,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const until = sql`now() + make_interval(secs => ${ttlMs / 1000}::double precision)`;
  const rows = await db
    .insert(shopMetafieldSync)
    .values({ shopId, leaseOwner: owner, leaseUntil: until })
    .onConflictDoUpdate({
      target: shopMetafieldSync.shopId,
      set: { leaseOwner: owner, leaseUntil: until },
      setWhere: sql`${shopMetafieldSync.leaseOwner} IS NULL OR ${shopMetafieldSync.leaseUntil} <= now() OR ${shopMetafieldSync.leaseOwner} = ${owner}`,
    })
    .returning({ shopId: shopMetafieldSync.shopId });
  return rows.length === 1;
}

/**
 * Extends `owner`'s lease by `ttlMs` from now. False when it is no longer held (it expired, and
 * perhaps another run took it): the caller must not write, or it could overwrite a newer value.
 */
export async function renewSyncLease(
  db: Executor,
  shopId: number,
  owner: string,
  ttlMs: number,
): Promise<boolean> {
  const rows = await db
    .update(shopMetafieldSync)
    .set({ leaseUntil: sql`now() + make_interval(secs => ${ttlMs / 1000}::double precision)` })
    .where(
      and(
        eq(shopMetafieldSync.shopId, shopId),
        eq(shopMetafieldSync.leaseOwner, owner),
        gt(shopMetafieldSync.leaseUntil, sql`now()`),
      ),
    )
    .returning({ shopId: shopMetafieldSync.shopId });
  return rows.length === 1;
}

export async function releaseSyncLease(db: Executor, shopId: number, owner: string): Promise<void> {
  await db
    .update(shopMetafieldSync)
    .set({ leaseOwner: null, leaseUntil: null })
    .where(and(eq(shopMetafieldSync.shopId, shopId), eq(shopMetafieldSync.leaseOwner, owner)));
}

// ---------------------------------------------------------------------------------------------
// The program summary

export interface ProgramSyncState {
  programVersion: number | null;
  appInstallationId: string | null;
}

export async function programSyncState(db: Executor, shopId: number): Promise<ProgramSyncState> {
  const [row] = await db
    .select({
      programVersion: shopMetafieldSync.programVersion,
      appInstallationId: shopMetafieldSync.appInstallationId,
    })
    .from(shopMetafieldSync)
    .where(eq(shopMetafieldSync.shopId, shopId));
  return row ?? { programVersion: null, appInstallationId: null };
}

export async function recordProgramSynced(
  db: Executor,
  shopId: number,
  programVersion: number,
  appInstallationId: string,
): Promise<void> {
  const set = { programVersion, appInstallationId, programSyncedAt: sql`now()` };
  await db
    .insert(shopMetafieldSync)
    .values({ shopId, ...set })
    .onConflictDoUpdate({ target: shopMetafieldSync.shopId, set });
}

// ---------------------------------------------------------------------------------------------
// The sweep and measurements

/** The version programAt(now) picks, in SQL (the earliest version before any is effective). */
const programInForce = sql`coalesce(
  (SELECT p.version FROM programs p WHERE p.shop_id = s.id AND p.effective_from <= now()
    ORDER BY p.effective_from DESC, p.version DESC LIMIT 1),
  (SELECT p.version FROM programs p WHERE p.shop_id = s.id
    ORDER BY p.effective_from ASC, p.version DESC LIMIT 1))`;

/**
 * Domains of the installed shops (active, with an offline token) that have a member ready for a
 * write, or whose program summary on Shopify is not the version in force. Every shop, by design:
 * this is the sweep that catches what a lost job missed.
 */
export async function shopsDueForSync(db: Executor): Promise<string[]> {
  const result = await db.execute(sql`
    SELECT s.domain FROM shops s
    JOIN session t ON t.id = 'offline_' || s.domain AND coalesce(t."accessToken", '') <> ''
    WHERE s.active AND (
      EXISTS (SELECT 1 FROM customer_metafield_sync c
              WHERE c.shop_id = s.id AND c.revision > c.synced_revision
                AND c.attempts < ${MAX_SYNC_ATTEMPTS}
                AND (c.retry_after IS NULL OR c.retry_after <= now()))
      OR ${programInForce} IS DISTINCT FROM
         (SELECT m.program_version FROM shop_metafield_sync m WHERE m.shop_id = s.id))
    ORDER BY s.id`);
  // node-postgres and PGlite both answer with `rows`.
  return (result as unknown as { rows: { domain: string }[] }).rows.map((r) => r.domain);
}

export interface MemberSyncState {
  customerId: number;
  externalId: string;
  /** The ledger's figures now (the projection). */
  balance: number;
  lifetimeEarned: number;
  revision: number;
  syncedRevision: number;
  ledgerPosition: number;
  syncedPosition: number | null;
  /** created_at of the entry at synced_position: when the newest change Shopify holds began. */
  syncedEntryCreatedAt: Date | null;
  syncedAt: Date | null;
  attempts: number;
  lastError: string | null;
}

/** Every member's sync state (operations, the demo's lag measurement, tests). */
export async function memberSyncStates(db: Executor, shopId: number): Promise<MemberSyncState[]> {
  const rows = await db
    .select({
      customerId: customerMetafieldSync.customerId,
      externalId: customers.externalId,
      balance: customerBalances.balance,
      lifetimeEarned: customerBalances.lifetimeEarned,
      revision: customerMetafieldSync.revision,
      syncedRevision: customerMetafieldSync.syncedRevision,
      ledgerPosition: customerMetafieldSync.ledgerPosition,
      syncedPosition: customerMetafieldSync.syncedPosition,
      syncedEntryCreatedAt: ledgerEntries.createdAt,
      syncedAt: customerMetafieldSync.syncedAt,
      attempts: customerMetafieldSync.attempts,
      lastError: customerMetafieldSync.lastError,
    })
    .from(customerMetafieldSync)
    .innerJoin(
      customers,
      and(
        eq(customers.shopId, customerMetafieldSync.shopId),
        eq(customers.id, customerMetafieldSync.customerId),
      ),
    )
    .leftJoin(customerBalances, eq(customerBalances.customerId, customerMetafieldSync.customerId))
    .leftJoin(
      ledgerEntries,
      and(
        eq(ledgerEntries.shopId, customerMetafieldSync.shopId),
        eq(ledgerEntries.id, customerMetafieldSync.syncedPosition),
      ),
    )
    .where(eq(customerMetafieldSync.shopId, shopId))
    .orderBy(asc(customerMetafieldSync.customerId));
  return rows.map((r) => ({
    ...r,
    balance: Number(r.balance ?? 0),
    lifetimeEarned: Number(r.lifetimeEarned ?? 0),
    revision: Number(r.revision),
    syncedRevision: Number(r.syncedRevision),
    ledgerPosition: Number(r.ledgerPosition),
    syncedPosition: r.syncedPosition === null ? null : Number(r.syncedPosition),
  }));
}
