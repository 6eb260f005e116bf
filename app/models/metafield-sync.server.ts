/**
 * What Shopify's copy of the members' points still lacks, and who may write it. The ledger marks a
 * member pending in the transaction that posts its entry (markMetafieldsPending, called from
 * ledger.server.ts, so every writer does it); the sync (app/metafield-sync.server.ts) reads the
 * pending members with their balances in one statement, writes them, and records what it wrote.
 * One sync per shop at a time, by a lease on shop_metafield_sync. See docs/metafields.md.
 */
import { and, asc, desc, eq, gt, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import {
  customerBalances,
  customerMetafieldSync,
  customers,
  customerTiers,
  ledgerEntries,
  programs,
  referralCodes,
  sessions,
  shopMetafieldSync,
  shops,
} from '../../db/schema';
import { recordset } from '../../db/sql';
import { tierPerksDueAt } from './tier-perks.server';
import { TIER_VERSION_FACTOR } from '../../loyalty/program-summary';
import type { ProgramVersion } from './programs.server';
import { offlineSessionId } from './sessions.server';
import { normalizeShopDomain } from './shops.server';

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
  /** The last write's error (null after a write): Shopify's copy of the tier may be uncertain. */
  lastError: string | null;
  /** The member's tier as last evaluated (customer_tiers), null when never evaluated. */
  tier: MemberTierRow | null;
  /** The member's friend code once Shopify holds it (referral_codes `active`), else null. */
  referralCode: string | null;
}

/** What the sync writes of a member's customer_tiers row (read with the balance). */
export interface MemberTierRow {
  tierKey: string | null;
  since: Date;
  downgradeAt: Date | null;
  metricValue: number;
  /** Tier changes so far: more than 0 means Shopify may hold a tier metafield. */
  changes: number;
  /** The tier tag Shopify has on the customer, as last recorded. */
  syncedTag: string | null;
}

/** A sync row's customer; the shop is in the join so a row can never reach another shop's customer. */
const syncRowCustomer = and(
  eq(customers.shopId, customerMetafieldSync.shopId),
  eq(customers.id, customerMetafieldSync.customerId),
);
/** A sync row's balance (left joined by both readers: no balance row reads as 0). */
const syncRowBalance = eq(customerBalances.customerId, customerMetafieldSync.customerId);
/** A sync row's tier (left joined: a member never evaluated has none). */
const syncRowTier = and(
  eq(customerTiers.shopId, customerMetafieldSync.shopId),
  eq(customerTiers.customerId, customerMetafieldSync.customerId),
);

/** A sync row's referral code, only once active at Shopify (left joined). */
const syncRowReferralCode = and(
  eq(referralCodes.shopId, customerMetafieldSync.shopId),
  eq(referralCodes.customerId, customerMetafieldSync.customerId),
  eq(referralCodes.status, 'active'),
);

/** Members ready for a write (pending, under the attempt cap, past any backoff). */
const ready = and(
  gt(customerMetafieldSync.revision, customerMetafieldSync.syncedRevision),
  lt(customerMetafieldSync.attempts, MAX_SYNC_ATTEMPTS),
  or(isNull(customerMetafieldSync.retryAfter), lte(customerMetafieldSync.retryAfter, sql`now()`)),
);

/**
 * Pending members of a shop in customer id order after `afterCustomerId`, each with its balance,
 * lifetime points, tier and revision read in ONE statement: one snapshot, so the balance and the
 * tier are exactly the ones its revision stands for (the transaction that posted the entry wrote
 * them all; a tier change posts an entry too).
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
      lastError: customerMetafieldSync.lastError,
      tierCustomerId: customerTiers.customerId,
      tierKey: customerTiers.tierKey,
      tierSince: customerTiers.since,
      tierDowngradeAt: customerTiers.downgradeAt,
      tierMetricValue: customerTiers.metricValue,
      tierChanges: customerTiers.changes,
      syncedTag: customerTiers.syncedTag,
      referralCode: referralCodes.friendCode,
    })
    .from(customerMetafieldSync)
    .innerJoin(customers, syncRowCustomer)
    .leftJoin(customerBalances, syncRowBalance)
    .leftJoin(customerTiers, syncRowTier)
    .leftJoin(referralCodes, syncRowReferralCode)
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
    lastError: r.lastError,
    tier:
      r.tierCustomerId === null
        ? null
        : {
            tierKey: r.tierKey,
            since: r.tierSince!,
            downgradeAt: r.tierDowngradeAt,
            metricValue: Number(r.tierMetricValue ?? 0),
            changes: r.tierChanges ?? 0,
            syncedTag: r.syncedTag,
          },
    referralCode: r.referralCode,
  }));
}

/**
 * Records the tier tag Shopify now carries for each member (null: none), after Shopify accepted
 * the tagsAdd/tagsRemove. Only the tag column: the evaluation owns the rest of the row.
 */
export async function recordSyncedTags(
  db: Executor,
  shopId: number,
  rows: readonly { customerId: number; tag: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(rows.map((r) => ({ customer_id: r.customerId, tag: r.tag })));
  await db.execute(sql`
    UPDATE customer_tiers AS t SET synced_tag = x.tag
    FROM jsonb_to_recordset(${json}::jsonb) AS x(customer_id integer, tag text)
    WHERE t.shop_id = ${shopId} AND t.customer_id = x.customer_id`);
}

/**
 * Makes every member with a tier row pending again: after a new tier program version their tier
 * status (names, thresholds, the next tier) may read differently though nothing of theirs changed.
 */
export async function markTieredMembersPending(db: Executor, shopId: number): Promise<number> {
  const rows = await db
    .update(customerMetafieldSync)
    .set({
      revision: sql`${customerMetafieldSync.revision} + 1`,
      attempts: 0,
      retryAfter: null,
    })
    .where(
      and(
        eq(customerMetafieldSync.shopId, shopId),
        sql`${customerMetafieldSync.customerId} IN (SELECT customer_id FROM customer_tiers WHERE shop_id = ${shopId})`,
      ),
    )
    .returning({ customerId: customerMetafieldSync.customerId });
  return rows.length;
}

/**
 * Makes members pending though their balance did not change: something else the sync writes of
 * them did (their referral code became active at Shopify). A member with no sync row yet (no
 * ledger entry ever) gets one at position 0, so the sync writes them too.
 */
export async function markMembersPending(
  db: Executor,
  shopId: number,
  customerIds: readonly number[],
): Promise<void> {
  const ids = [...new Set(customerIds)].sort((a, b) => a - b);
  for (let start = 0; start < ids.length; start += MARK_CHUNK) {
    await db
      .insert(customerMetafieldSync)
      .select(
        recordset(
          customerMetafieldSync,
          ids.slice(start, start + MARK_CHUNK).map((customerId) => ({
            customerId,
            shopId,
            ledgerPosition: 0,
          })),
        ),
      )
      .onConflictDoUpdate({
        target: customerMetafieldSync.customerId,
        set: {
          revision: sql`customer_metafield_sync.revision + 1`,
          attempts: sql`0`,
          retryAfter: sql`NULL`,
        },
        // The shop is in the row: a stray id can never touch another shop's member.
        setWhere: sql`customer_metafield_sync.shop_id = ${shopId}`,
      });
  }
}

/**
 * Asks the next sync to read the program summary back and write it if Shopify's differs: a part of
 * it that no version number recorded here covers changed (the referral offer, when a referral
 * program version comes into force).
 */
export async function programSummaryDue(db: Executor, shopId: number): Promise<void> {
  await db
    .update(shopMetafieldSync)
    .set({ programCheckedAt: null })
    .where(eq(shopMetafieldSync.shopId, shopId));
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
  // Rows locked first, skipping any a posting transaction holds: an UPDATE … FROM a join locks in
  // whatever order the join yields, and even in id order the sync deadlocked with a transaction
  // that marks members in two sorted calls (the ledger's post, then the tier evaluation's). A row
  // held by a poster is about to get a newer revision, so it stays pending whatever is recorded
  // here: skipping it costs at most one repeated write, never a missed one.
  await db.execute(sql`
    WITH x AS (
      SELECT * FROM jsonb_to_recordset(${writtenJson(rows)}::jsonb)
        AS x(customer_id integer, revision bigint, ledger_position bigint)
    ), locked AS (
      SELECT s.customer_id FROM customer_metafield_sync s
      WHERE s.shop_id = ${shopId} AND s.customer_id IN (SELECT customer_id FROM x)
      ORDER BY s.customer_id FOR UPDATE SKIP LOCKED
    )
    UPDATE customer_metafield_sync AS s
    SET synced_revision = x.revision,
        synced_position = CASE WHEN ${note}::text IS NULL THEN x.ledger_position ELSE s.synced_position END,
        synced_at = now(), attempts = 0, retry_after = NULL, last_error = ${note}::text
    FROM x
    WHERE s.shop_id = ${shopId} AND s.customer_id = x.customer_id
      AND s.customer_id IN (SELECT customer_id FROM locked)
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
  // Locked as in recordSynced: a member a poster holds is changing and gets a fresh try anyway.
  await db.execute(sql`
    WITH x AS (
      SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS x(customer_id integer, revision bigint, error text)
    ), locked AS (
      SELECT s.customer_id FROM customer_metafield_sync s
      WHERE s.shop_id = ${shopId} AND s.customer_id IN (SELECT customer_id FROM x)
      ORDER BY s.customer_id FOR UPDATE SKIP LOCKED
    )
    UPDATE customer_metafield_sync AS s
    SET attempts = s.attempts + 1, last_error = left(x.error, 500),
        retry_after = now() + make_interval(secs => ${RETRY_BASE_MS / 1000}::int * power(2, s.attempts))
    FROM x
    WHERE s.shop_id = ${shopId} AND s.customer_id = x.customer_id AND s.revision = x.revision
      AND s.customer_id IN (SELECT customer_id FROM locked)`);
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
    .set({
      programVersion: null,
      programSyncedAt: null,
      programCheckedAt: null,
      appInstallationId: null,
    })
    .where(eq(shopMetafieldSync.shopId, shopId));
}

/**
 * The shop a sync is for, with its offline access token (undefined: none), in one statement: a
 * sync's every query may wait behind webhook transactions (the embedded PGlite has one
 * connection), so it makes few.
 */
export async function syncTarget(
  db: Executor,
  domain: string,
): Promise<
  | { shopId: number; domain: string; active: boolean; timezone: string; accessToken?: string }
  | undefined
> {
  const normalized = normalizeShopDomain(domain);
  const [row] = await db
    .select({
      shopId: shops.id,
      domain: shops.domain,
      active: shops.active,
      timezone: shops.timezone,
      accessToken: sessions.accessToken,
    })
    .from(shops)
    .leftJoin(sessions, eq(sessions.id, offlineSessionId(normalized)))
    .where(eq(shops.domain, normalized));
  if (!row) return undefined;
  const token = row.accessToken?.trim();
  return {
    shopId: row.shopId,
    domain: row.domain,
    active: row.active,
    timezone: row.timezone,
    ...(token ? { accessToken: token } : {}),
  };
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

/** Shopify's copy of the program summary is read back and compared this often. */
export const PROGRAM_CHECK_MS = 24 * 60 * 60_000;

export interface ProgramSyncState {
  /** The summary version written (summaryVersion: earn and tier program versions in one). */
  programVersion: number | null;
  appInstallationId: string | null;
  /** When Shopify's copy was last written or read back and found current. */
  programCheckedAt: Date | null;
}

/**
 * The program version in force at `at` (programAt's rule: the latest effective_from ≤ at, the
 * higher version on a tie; before any, the earliest) with what Shopify was last given, in one
 * statement. Undefined: the shop has no program.
 */
export async function programToSync(
  db: Executor,
  shopId: number,
  at: Date,
): Promise<{ version: ProgramVersion; state: ProgramSyncState } | undefined> {
  const effective = sql`${programs.effectiveFrom} <= ${at.toISOString()}::timestamptz`;
  const [row] = await db
    .select({
      program: programs,
      programVersion: shopMetafieldSync.programVersion,
      appInstallationId: shopMetafieldSync.appInstallationId,
      programCheckedAt: shopMetafieldSync.programCheckedAt,
    })
    .from(programs)
    .leftJoin(shopMetafieldSync, eq(shopMetafieldSync.shopId, programs.shopId))
    .where(eq(programs.shopId, shopId))
    .orderBy(
      sql`(${effective}) DESC`,
      sql`CASE WHEN ${effective} THEN ${programs.effectiveFrom} END DESC NULLS LAST`,
      asc(programs.effectiveFrom),
      desc(programs.version),
    )
    .limit(1);
  if (!row) return undefined;
  return {
    version: row.program as ProgramVersion,
    state: {
      programVersion: row.programVersion,
      appInstallationId: row.appInstallationId,
      programCheckedAt: row.programCheckedAt,
    },
  };
}

export async function programSyncState(db: Executor, shopId: number): Promise<ProgramSyncState> {
  const [row] = await db
    .select({
      programVersion: shopMetafieldSync.programVersion,
      appInstallationId: shopMetafieldSync.appInstallationId,
      programCheckedAt: shopMetafieldSync.programCheckedAt,
    })
    .from(shopMetafieldSync)
    .where(eq(shopMetafieldSync.shopId, shopId));
  return row ?? { programVersion: null, appInstallationId: null, programCheckedAt: null };
}

/**
 * Records that Shopify holds the summary of `programVersion` on `appInstallationId`: just written
 * (`written`), or read back and found equal.
 */
export async function recordProgramSynced(
  db: Executor,
  shopId: number,
  programVersion: number,
  appInstallationId: string,
  how: 'written' | 'checked' = 'written',
): Promise<void> {
  const set = {
    programVersion,
    appInstallationId,
    programCheckedAt: sql`now()`,
    ...(how === 'written' ? { programSyncedAt: sql`now()` } : {}),
  };
  await db
    .insert(shopMetafieldSync)
    .values({ shopId, ...set })
    .onConflictDoUpdate({ target: shopMetafieldSync.shopId, set });
}

// ---------------------------------------------------------------------------------------------
// The sweep and measurements

/**
 * The summary version in force at `at` for shop `s`, in SQL: the version programAt(at) picks (the
 * earliest before any is effective) plus the tier program version in force (currentTierProgram's
 * rule; none before the first is effective) times TIER_VERSION_FACTOR — summaryVersion of
 * loyalty/program-summary.ts. Null when the shop has no earn program (no summary is written).
 */
const programInForceAt = (at: SQL) => sql`(coalesce(
  (SELECT p.version FROM programs p WHERE p.shop_id = s.id AND p.effective_from <= ${at}
    ORDER BY p.effective_from DESC, p.version DESC LIMIT 1),
  (SELECT p.version FROM programs p WHERE p.shop_id = s.id
    ORDER BY p.effective_from ASC, p.version DESC LIMIT 1))
  + ${TIER_VERSION_FACTOR}::int * coalesce(
  (SELECT t.version FROM tier_programs t WHERE t.shop_id = s.id AND t.effective_from <= ${at}
    ORDER BY t.effective_from DESC, t.version DESC LIMIT 1), 0))`;
const programInForce = programInForceAt(sql`now()`);

/** A member of shop `s` ready for a write, in SQL. */
const memberReady = sql`EXISTS (SELECT 1 FROM customer_metafield_sync c
  WHERE c.shop_id = s.id AND c.revision > c.synced_revision AND c.attempts < ${MAX_SYNC_ATTEMPTS}
    AND (c.retry_after IS NULL OR c.retry_after <= now()))`;

/**
 * What of the shop's sync is left, in one statement: a member ready for a write, whether the
 * program summary Shopify was given is not the version in force at `at`, and whether the tier
 * perks do not match the tier program in force.
 */
export async function pendingWork(
  db: Executor,
  shopId: number,
  at: Date,
): Promise<{ members: boolean; program: boolean; perks: boolean }> {
  const when = sql`${at.toISOString()}::timestamptz`;
  const result = await db.execute(sql`
    SELECT ${memberReady} AS members,
      ${programInForceAt(when)} IS DISTINCT FROM m.program_version AS program,
      ${tierPerksDueAt(when)} AS perks
    FROM shops s LEFT JOIN shop_metafield_sync m ON m.shop_id = s.id
    WHERE s.id = ${shopId}`);
  const [row] = (
    result as unknown as { rows: { members: boolean; program: boolean; perks: boolean }[] }
  ).rows;
  return {
    members: row?.members === true,
    program: row?.program === true,
    perks: row?.perks === true,
  };
}

/**
 * Domains of the installed shops (active, with an offline token) that have a member ready for a
 * write, whose tier perks do not match the tier program in force, or whose program summary on Shopify is not the version in force or was not checked for a
 * day (missing: deleted, or lost with an installation). Every shop, by design: this is the sweep
 * that catches what a lost job missed.
 */
export async function shopsDueForSync(db: Executor): Promise<string[]> {
  const result = await db.execute(sql`
    SELECT s.domain FROM shops s
    JOIN session t ON t.id = 'offline_' || s.domain AND coalesce(t."accessToken", '') <> ''
    LEFT JOIN shop_metafield_sync m ON m.shop_id = s.id
    WHERE s.active AND (
      ${memberReady}
      OR ${tierPerksDueAt(sql`now()`)}
      OR ${programInForce} IS DISTINCT FROM m.program_version
      OR (${programInForce} IS NOT NULL
          AND (m.program_checked_at IS NULL
               OR m.program_checked_at < now() - make_interval(secs => ${PROGRAM_CHECK_MS / 1000}::int))))
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
    .innerJoin(customers, syncRowCustomer)
    .leftJoin(customerBalances, syncRowBalance)
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
