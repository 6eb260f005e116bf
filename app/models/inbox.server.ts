/**
 * The webhook inbox: every accepted delivery, written before Shopify gets its 200. Rows are keyed by
 * the shop's domain (a delivery can arrive before Laurel knows the shop) and deduplicated on
 * (shop_domain, webhook_id). Status: received → processed, or dead after a permanent failure, or
 * parked while the shop is not installed (back to received once it is; dead after the retention
 * period). A body jsonb cannot hold is stored as text, dead from the start (recordUnstorableDelivery).
 * The reconciler and ops functions deliberately span shops: they are operational, not tenant reads.
 */
import { and, asc, eq, exists, gt, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { shops, webhookInbox } from '../../db/schema';
import { anyOf } from '../../db/sql';

export type InboxRow = typeof webhookInbox.$inferSelect;
export type InboxStatus = 'received' | 'processed' | 'dead' | 'parked';

/** Every status at zero, to count into. */
export function emptyStatusCounts(): Record<InboxStatus, number> {
  return { received: 0, processed: 0, dead: 0, parked: 0 };
}

export interface Delivery {
  shopDomain: string;
  webhookId: string;
  topic: string;
  apiVersion?: string | null;
  payload: unknown;
  /**
   * The body as received, when the caller has it: stored as the jsonb value instead of encoding
   * `payload` again (it must be the JSON text `payload` was parsed from).
   */
  payloadText?: string;
}

/**
 * Stores a delivery once. `created` is false for a repeat of the same (shop, webhook id): Shopify
 * retried or delivered twice, and the first copy is already durable.
 */
export async function recordDelivery(
  db: Executor,
  delivery: Delivery,
): Promise<{ id: number; created: boolean }> {
  return insertOnce(db, delivery, {
    payload:
      delivery.payloadText === undefined ? delivery.payload : sql`${delivery.payloadText}::jsonb`,
  });
}

/**
 * Stores a delivery whose body PostgreSQL's jsonb refuses (a `\u0000` escape, a lone surrogate):
 * it was signed and accepted, so the text is kept as received (payload_text) and the row is a dead
 * letter with `reason` from the start — listed by `loyalty inbox dead`, replayed from the text.
 * Once per (shop, webhook id), like recordDelivery: a repeat is a duplicate.
 */
export async function recordUnstorableDelivery(
  db: Executor,
  delivery: Delivery,
  reason: string,
): Promise<{ id: number; created: boolean }> {
  return insertOnce(db, delivery, {
    payload: null,
    payloadText: delivery.payloadText ?? JSON.stringify(delivery.payload),
    status: 'dead',
    lastError: reason.slice(0, 2_000),
  });
}

async function insertOnce(
  db: Executor,
  delivery: Delivery,
  body: Partial<typeof webhookInbox.$inferInsert>,
): Promise<{ id: number; created: boolean }> {
  const inserted = await db
    .insert(webhookInbox)
    .values({
      shopDomain: delivery.shopDomain,
      webhookId: delivery.webhookId,
      topic: delivery.topic,
      apiVersion: delivery.apiVersion ?? null,
      ...body,
    })
    .onConflictDoNothing({ target: [webhookInbox.shopDomain, webhookInbox.webhookId] })
    .returning({ id: webhookInbox.id });
  if (inserted[0]) return { id: inserted[0].id, created: true };
  const [existing] = await db
    .select({ id: webhookInbox.id })
    .from(webhookInbox)
    .where(
      and(
        eq(webhookInbox.shopDomain, delivery.shopDomain),
        eq(webhookInbox.webhookId, delivery.webhookId),
      ),
    );
  if (!existing) throw new Error('inbox row vanished between insert and read');
  return { id: existing.id, created: false };
}

export async function getInboxRow(db: Executor, id: number): Promise<InboxRow | undefined> {
  const [row] = await db.select().from(webhookInbox).where(eq(webhookInbox.id, id));
  return row;
}

/**
 * Locks rows for processing in the caller's transaction (in id order) and returns those that still
 * exist (a redacted shop's are gone). A second worker on the same row waits here, then sees
 * `processed`.
 */
export async function lockInboxRows(tx: Executor, ids: readonly number[]): Promise<InboxRow[]> {
  if (ids.length === 0) return [];
  return tx
    .select()
    .from(webhookInbox)
    .where(anyOf(webhookInbox.id, ids))
    .orderBy(asc(webhookInbox.id))
    .for('update');
}

/** Topic and status of rows, without locking or reading payloads. */
export async function inboxTopics(db: Executor, ids: readonly number[]) {
  if (ids.length === 0) return [];
  return db
    .select({ id: webhookInbox.id, topic: webhookInbox.topic, status: webhookInbox.status })
    .from(webhookInbox)
    .where(anyOf(webhookInbox.id, ids));
}

/**
 * Marks rows processed; call it in the same transaction as the ledger writes they caused, as its
 * last statement: processed_at is the statement's clock time (not now(), the transaction's start),
 * so it is within a commit of when the entries became visible.
 */
export async function markProcessed(db: Executor, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(webhookInbox)
    .set({ status: 'processed', processedAt: sql`clock_timestamp()`, lastError: null })
    .where(anyOf(webhookInbox.id, ids));
}

/** Records a failed attempt (the job will be retried). */
export async function recordAttemptFailure(db: Executor, id: number, error: string): Promise<void> {
  await db
    .update(webhookInbox)
    .set({ attempts: sql`${webhookInbox.attempts} + 1`, lastError: error.slice(0, 2_000) })
    .where(eq(webhookInbox.id, id));
}

/** A permanent failure: the row is a dead letter until ops replays it. */
export async function markDead(db: Executor, id: number, error: string): Promise<void> {
  await db
    .update(webhookInbox)
    .set({
      status: 'dead',
      attempts: sql`${webhookInbox.attempts} + 1`,
      lastError: error.slice(0, 2_000),
    })
    .where(and(eq(webhookInbox.id, id), eq(webhookInbox.status, 'received')));
}

/**
 * Parks a row whose shop is not installed yet: no retries are spent on it; the reconciler puts it
 * back to `received` once the shop row exists (unparkInstalled).
 */
export async function markParked(db: Executor, id: number, reason: string): Promise<void> {
  await db
    .update(webhookInbox)
    .set({
      status: 'parked',
      attempts: sql`${webhookInbox.attempts} + 1`,
      lastError: reason.slice(0, 2_000),
    })
    .where(and(eq(webhookInbox.id, id), eq(webhookInbox.status, 'received')));
}

/**
 * Puts parked rows whose shop now exists back to `received` — whatever created the shop (install,
 * `loyalty import`) — and returns them for enqueueing, oldest first, at most `limit`.
 */
export async function unparkInstalled(db: Executor, limit = 10_000) {
  const installed = db
    .select({ id: webhookInbox.id })
    .from(webhookInbox)
    .where(
      and(
        eq(webhookInbox.status, 'parked'),
        exists(
          db
            .select({ one: sql`1` })
            .from(shops)
            .where(eq(shops.domain, webhookInbox.shopDomain)),
        ),
      ),
    )
    .orderBy(asc(webhookInbox.id))
    .limit(limit);
  return db
    .update(webhookInbox)
    .set({ status: 'received', lastError: null })
    .where(and(inArray(webhookInbox.id, installed), eq(webhookInbox.status, 'parked')))
    .returning({
      id: webhookInbox.id,
      shopDomain: webhookInbox.shopDomain,
      topic: webhookInbox.topic,
    });
}

/**
 * Parked rows that arrived before `olderThan` (the retention period) and whose shop never came:
 * they become dead letters and lose their bodies, which hold personal data of a shop Laurel does
 * not serve. Returns how many.
 */
export async function expireParked(db: Executor, olderThan: Date): Promise<number> {
  const rows = await db
    .update(webhookInbox)
    .set({
      status: 'dead',
      payload: null,
      payloadText: null,
      lastError: sql`'parked until the retention period ended and the shop was never installed; the body was dropped (personal data): ' || coalesce(${webhookInbox.lastError}, '')`,
    })
    .where(and(eq(webhookInbox.status, 'parked'), lt(webhookInbox.receivedAt, olderThan)))
    .returning({ id: webhookInbox.id });
  return rows.length;
}

/**
 * Rows that need a person, oldest first: dead letters (and, when asked, parked rows) with their
 * reason and how their body is kept, never the body itself (it may hold personal data).
 */
export async function listFailed(
  db: Executor,
  options: { limit?: number; statuses?: readonly ('dead' | 'parked')[] } = {},
) {
  return db
    .select({
      id: webhookInbox.id,
      shopDomain: webhookInbox.shopDomain,
      topic: webhookInbox.topic,
      webhookId: webhookInbox.webhookId,
      status: webhookInbox.status,
      attempts: webhookInbox.attempts,
      lastError: webhookInbox.lastError,
      /** json: stored as jsonb; text: kept as received (jsonb refused it); none: pruned. */
      body: sql<
        'json' | 'text' | 'none'
      >`CASE WHEN ${webhookInbox.payload} IS NOT NULL THEN 'json' WHEN ${webhookInbox.payloadText} IS NOT NULL THEN 'text' ELSE 'none' END`,
      receivedAt: webhookInbox.receivedAt,
    })
    .from(webhookInbox)
    .where(inArray(webhookInbox.status, [...(options.statuses ?? ['dead'])]))
    .orderBy(asc(webhookInbox.receivedAt), asc(webhookInbox.id))
    .limit(options.limit ?? 100);
}

/**
 * Puts a dead letter (or a parked row) back to `received` so it can be enqueued again. Returns
 * whether it was dead or parked.
 */
export async function resetForReplay(db: Executor, id: number): Promise<boolean> {
  const rows = await db
    .update(webhookInbox)
    .set({ status: 'received', lastError: null })
    .where(and(eq(webhookInbox.id, id), inArray(webhookInbox.status, ['dead', 'parked'])))
    .returning({ id: webhookInbox.id });
  return rows.length > 0;
}

/**
 * Rows still `received` that arrived before `olderThan`, by id after `afterId`: the reconciler
 * re-enqueues them.
 */
export async function findUnprocessed(db: Executor, olderThan: Date, limit = 1_000, afterId = 0) {
  return db
    .select({ id: webhookInbox.id, shopDomain: webhookInbox.shopDomain, topic: webhookInbox.topic })
    .from(webhookInbox)
    .where(
      and(
        eq(webhookInbox.status, 'received'),
        lt(webhookInbox.receivedAt, olderThan),
        gt(webhookInbox.id, afterId),
      ),
    )
    .orderBy(asc(webhookInbox.id))
    .limit(limit);
}

export async function countByStatus(db: Executor): Promise<Record<InboxStatus, number>> {
  const rows = await db
    .select({ status: webhookInbox.status, n: sql<number>`count(*)::int` })
    .from(webhookInbox)
    .groupBy(webhookInbox.status);
  const counts = emptyStatusCounts();
  for (const row of rows) counts[row.status as InboxStatus] = Number(row.n);
  return counts;
}

/**
 * Drops the payloads of rows processed before `olderThan`: they hold personal data and are no
 * longer needed (the row, its ids and its status stay, so redeliveries are still recognised).
 */
export async function prunePayloads(db: Executor, olderThan: Date): Promise<number> {
  const rows = await db
    .update(webhookInbox)
    .set({ payload: null })
    .where(
      and(
        eq(webhookInbox.status, 'processed'),
        lt(webhookInbox.processedAt, olderThan),
        isNotNull(webhookInbox.payload),
      ),
    )
    .returning({ id: webhookInbox.id });
  return rows.length;
}

/**
 * customers/redact: drops the payloads of the shop's processed deliveries about this customer —
 * customer bodies with their id, order bodies with their id or of the given orders, and refunds of
 * those orders. Unprocessed rows keep theirs until processed; their personal fields are not
 * written back to a redacted customer. Returns how many payloads were dropped.
 */
export async function scrubCustomerPayloads(
  db: Executor,
  shopDomain: string,
  subject: { customerExternalId: string | null; orderIds: readonly string[] },
): Promise<number> {
  const matches = [];
  const p = webhookInbox.payload;
  if (subject.customerExternalId !== null) {
    const id = subject.customerExternalId;
    matches.push(
      and(sql`${webhookInbox.topic} LIKE 'customers/%'`, sql`${p}->>'id' = ${id}`),
      and(sql`${webhookInbox.topic} LIKE 'orders/%'`, sql`${p}->'customer'->>'id' = ${id}`),
    );
  }
  if (subject.orderIds.length > 0) {
    const ids = [...subject.orderIds];
    matches.push(
      and(sql`${webhookInbox.topic} LIKE 'orders/%'`, inArray(sql`${p}->>'id'`, ids)),
      and(eq(webhookInbox.topic, 'refunds/create'), inArray(sql`${p}->>'order_id'`, ids)),
    );
  }
  if (matches.length === 0) return 0;
  const rows = await db
    .update(webhookInbox)
    .set({ payload: null })
    .where(
      and(
        eq(webhookInbox.shopDomain, shopDomain),
        eq(webhookInbox.status, 'processed'),
        isNotNull(p),
        or(...matches),
      ),
    )
    .returning({ id: webhookInbox.id });
  return rows.length;
}
