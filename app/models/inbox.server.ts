/**
 * The webhook inbox: every accepted delivery, written before Shopify gets its 200. Rows are keyed by
 * the shop's domain (a delivery can arrive before Laurel knows the shop) and deduplicated on
 * (shop_domain, webhook_id). Status: received → processed, or dead after a permanent failure, or
 * parked while the shop is not installed (back to received once it is; dead after the retention
 * period). A body jsonb cannot hold is stored as text, dead from the start (recordUnstorableDelivery).
 * The reconciler and ops functions deliberately span shops: they are operational, not tenant reads.
 */
import { and, asc, eq, exists, gt, inArray, isNotNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { shops, webhookInbox } from '../../db/schema';
import { anyOf, recordset } from '../../db/sql';

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
  const [stored] = await recordDeliveries(db, [delivery]);
  return stored!;
}

/**
 * Stores deliveries once each and returns each one's row, in the order given: one INSERT for them
 * all, and one SELECT for the repeats' existing rows when there are any, with the same statement
 * text whatever their number (db/sql.ts). node-postgres sends a transaction's statements one after
 * another, so a statement per delivery would cost a round trip each.
 *
 * Rows are inserted in (shop, webhook id) order, so two batches never wait on each other's
 * unique-index entries in opposite orders (no deadlocks). A webhook id given twice is stored once,
 * from its first copy: both learn the row, the first as `created`. Run it in a transaction when
 * several are given, so that a failure (one body jsonb refuses fails the statement) stores none.
 */
export async function recordDeliveries(
  db: Executor,
  deliveries: readonly Delivery[],
): Promise<{ id: number; created: boolean }[]> {
  const firstCopies = new Map<string, Delivery>();
  for (const delivery of deliveries) {
    const key = inboxKey(delivery);
    if (!firstCopies.has(key)) firstCopies.set(key, delivery);
  }
  if (firstCopies.size === 0) return [];
  const rows = [...firstCopies.values()].sort(byInboxKey).map((delivery) => ({
    shopDomain: delivery.shopDomain,
    webhookId: delivery.webhookId,
    topic: delivery.topic,
    apiVersion: delivery.apiVersion ?? null,
    // The text as received, parsed by PostgreSQL: not a second encoding of the parsed payload.
    payload:
      delivery.payloadText ??
      (delivery.payload == null ? null : (JSON.stringify(delivery.payload) ?? null)),
  }));
  const inserted = await db
    .insert(webhookInbox)
    .select(recordset(webhookInbox, rows, { asText: ['payload'] }))
    .onConflictDoNothing({ target: [webhookInbox.shopDomain, webhookInbox.webhookId] })
    .returning({
      id: webhookInbox.id,
      shopDomain: webhookInbox.shopDomain,
      webhookId: webhookInbox.webhookId,
    });
  const created = new Map(inserted.map((row) => [inboxKey(row), row.id]));
  const existing = new Map<string, number>();
  const repeats = rows.filter((row) => !created.has(inboxKey(row)));
  if (repeats.length > 0) {
    // A statement of its own: in READ COMMITTED it sees the rows of concurrent transactions the
    // INSERT waited for, which the INSERT's own snapshot does not.
    const found = await db
      .select({
        id: webhookInbox.id,
        shopDomain: webhookInbox.shopDomain,
        webhookId: webhookInbox.webhookId,
      })
      .from(webhookInbox)
      .where(
        sql`(${webhookInbox.shopDomain}, ${webhookInbox.webhookId}) IN (SELECT * FROM unnest(${sql.param(
          repeats.map((row) => row.shopDomain),
        )}::text[], ${sql.param(repeats.map((row) => row.webhookId))}::text[]))`,
      );
    for (const row of found) existing.set(inboxKey(row), row.id);
  }
  const answered = new Set<string>();
  return deliveries.map((delivery) => {
    const key = inboxKey(delivery);
    const first = !answered.has(key);
    answered.add(key);
    const id = created.get(key);
    if (id !== undefined) return { id, created: first };
    const repeat = existing.get(key);
    if (repeat === undefined) throw new Error('inbox row vanished between insert and read');
    return { id: repeat, created: false };
  });
}

type InboxKey = { shopDomain: string; webhookId: string };

const inboxKey = (row: InboxKey) => JSON.stringify([row.shopDomain, row.webhookId]);

function byInboxKey(a: InboxKey, b: InboxKey): number {
  if (a.shopDomain !== b.shopDomain) return a.shopDomain < b.shopDomain ? -1 : 1;
  if (a.webhookId !== b.webhookId) return a.webhookId < b.webhookId ? -1 : 1;
  return 0;
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
/** Rows by id as the queue needs them (shop and topic): rows of a batch job handed on alone. */
export async function inboxRowRefs(db: Executor, ids: readonly number[]) {
  if (ids.length === 0) return [];
  return db
    .select({ id: webhookInbox.id, shopDomain: webhookInbox.shopDomain, topic: webhookInbox.topic })
    .from(webhookInbox)
    .where(anyOf(webhookInbox.id, ids));
}

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
 * Drops the payloads of rows processed before `olderThan`, and of dead letters received before it:
 * they hold personal data and are no longer needed (the row, its ids, status and reason stay, so
 * redeliveries are still recognised and a dead letter is still listed). A dead letter must be
 * replayed within the retention period (docs/privacy.md).
 */
export async function prunePayloads(db: Executor, olderThan: Date): Promise<number> {
  const rows = await db
    .update(webhookInbox)
    .set({ payload: null, payloadText: null })
    .where(
      and(
        or(isNotNull(webhookInbox.payload), isNotNull(webhookInbox.payloadText)),
        or(
          and(eq(webhookInbox.status, 'processed'), lt(webhookInbox.processedAt, olderThan)),
          and(eq(webhookInbox.status, 'dead'), lt(webhookInbox.receivedAt, olderThan)),
        ),
      ),
    )
    .returning({ id: webhookInbox.id });
  return rows.length;
}

/** Who a customers/redact is about: their Shopify ids, their email, their orders. */
export interface RedactionSubject {
  customerExternalIds: readonly string[];
  /** Lower-cased. */
  email: string | null;
  orderIds: readonly string[];
}

const COMPLIANCE_TOPICS = ['customers/redact', 'customers/data_request'];

/** Bodies of the shop's deliveries that are about the subject, whatever their topic. */
function aboutSubject(subject: RedactionSubject): SQL | undefined {
  const p = webhookInbox.payload;
  const topic = webhookInbox.topic;
  const isCompliance = inArray(topic, COMPLIANCE_TOPICS);
  const isCustomer = and(sql`${topic} LIKE 'customers/%'`, sql`NOT ${isCompliance}`);
  const isOrder = sql`${topic} LIKE 'orders/%'`;
  const lower = (value: SQL) => sql`lower(trim(${value}))`;
  const matches: (SQL | undefined)[] = [];
  if (subject.customerExternalIds.length > 0) {
    const ids = [...subject.customerExternalIds];
    matches.push(
      and(isCustomer, inArray(sql`${p}->>'id'`, ids)),
      and(isOrder, inArray(sql`${p}->'customer'->>'id'`, ids)),
      and(isCompliance, inArray(sql`${p}->'customer'->>'id'`, ids)),
    );
  }
  if (subject.orderIds.length > 0) {
    const ids = [...subject.orderIds];
    matches.push(
      and(isOrder, inArray(sql`${p}->>'id'`, ids)),
      and(eq(topic, 'refunds/create'), inArray(sql`${p}->>'order_id'`, ids)),
    );
  }
  if (subject.email) {
    const email = subject.email;
    matches.push(
      and(isCustomer, eq(lower(sql`${p}->>'email'`), email)),
      and(
        isOrder,
        or(
          eq(lower(sql`${p}->>'email'`), email),
          eq(lower(sql`${p}->>'contact_email'`), email),
          eq(lower(sql`${p}->'customer'->>'email'`), email),
        ),
      ),
      and(isCompliance, eq(lower(sql`${p}->'customer'->>'email'`), email)),
    );
  }
  return matches.length === 0 ? undefined : or(...matches);
}

/**
 * The body without the personal fields Laurel would store from it (docs/privacy.md): an order's
 * emails and customer names, a customer's email, names, phone and birthday metafield. What earns
 * points (ids, amounts, dates, refunds) stays.
 */
const strippedPayload = sql`CASE
  WHEN ${webhookInbox.topic} LIKE 'orders/%' AND jsonb_typeof(${webhookInbox.payload}->'customer') = 'object'
    THEN jsonb_set(${webhookInbox.payload} - 'email' - 'contact_email', '{customer}',
      (${webhookInbox.payload}->'customer') - 'email' - 'first_name' - 'last_name' - 'phone')
  WHEN ${webhookInbox.topic} LIKE 'orders/%'
    THEN ${webhookInbox.payload} - 'email' - 'contact_email'
  WHEN ${webhookInbox.topic} IN ('customers/create', 'customers/update')
    THEN ${webhookInbox.payload} - 'email' - 'first_name' - 'last_name' - 'phone' - 'metafields'
  ELSE ${webhookInbox.payload}
END`;

/**
 * customers/redact: every stored body about the subject. Bodies already processed or dead are
 * dropped. Bodies still waiting to be processed are needed for the points they carry: their
 * personal fields are stripped now and the row is marked, so the worker that processes it drops the
 * rest ({@link dropRedactedPayloads}). Returns how many bodies were dropped and how many marked.
 */
export async function scrubCustomerPayloads(
  db: Executor,
  shopDomain: string,
  subject: RedactionSubject,
): Promise<{ dropped: number; marked: number }> {
  const about = aboutSubject(subject);
  if (!about) return { dropped: 0, marked: 0 };
  const settled = inArray(webhookInbox.status, ['processed', 'dead']);
  const rows = await db
    .update(webhookInbox)
    .set({
      payload: sql`CASE WHEN ${settled} THEN NULL ELSE ${strippedPayload} END`,
      subjectRedactedAt: sql`CASE WHEN ${settled} THEN ${webhookInbox.subjectRedactedAt}
        ELSE coalesce(${webhookInbox.subjectRedactedAt}, now()) END`,
    })
    .where(and(eq(webhookInbox.shopDomain, shopDomain), isNotNull(webhookInbox.payload), about))
    .returning({ id: webhookInbox.id, marked: webhookInbox.subjectRedactedAt });
  const marked = rows.filter((r) => r.marked !== null).length;
  const unparsed = await dropUnparsedBodiesAbout(db, shopDomain, subject);
  return { dropped: rows.length - marked + unparsed, marked };
}

/**
 * Bodies kept only as text (jsonb refused them: recordUnstorableDelivery) cannot be matched by
 * field, so any that mentions the subject's email, Shopify customer id or order ids is dropped
 * whole. They are dead letters already: a false match loses a body nobody could parse anyway (the
 * row and its reason stay); a miss would keep a redacted customer's data.
 */
async function dropUnparsedBodiesAbout(
  db: Executor,
  shopDomain: string,
  subject: RedactionSubject,
): Promise<number> {
  const text = webhookInbox.payloadText;
  // Ids as whole words (\m…\M), passed as one array so the statement text is fixed (db/sql.ts).
  const idPatterns = [...subject.customerExternalIds, ...subject.orderIds]
    .filter((id) => /^\d+$/.test(id))
    .map((id) => `\\m${id}\\M`);
  if (idPatterns.length === 0 && !subject.email) return 0;
  const rows = await db
    .update(webhookInbox)
    .set({ payloadText: null })
    .where(
      and(
        eq(webhookInbox.shopDomain, shopDomain),
        isNotNull(text),
        or(
          sql`${text} ~ ANY(${sql.param(idPatterns)}::text[])`,
          sql`strpos(lower(${text}), ${subject.email ?? ''}) > 0 AND ${subject.email ?? ''} <> ''`,
        ),
      ),
    )
    .returning({ id: webhookInbox.id });
  return rows.length;
}

/**
 * Call in the transaction that processes these rows: drops the bodies of those about a redacted
 * subject — marked by customers/redact while they waited, or arriving later about a redacted
 * customer (their Shopify id) or a redacted order (its id, or the order a refund is of). Their
 * facts were applied without personal data; the body must not outlive the processing.
 */
export async function dropRedactedPayloads(
  tx: Executor,
  shopDomain: string,
  ids: readonly number[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const p = webhookInbox.payload;
  const topic = webhookInbox.topic;
  // The shop's id from the parameter, so PostgreSQL looks it up once, not once per row.
  const shop = sql`(SELECT s.id FROM shops s WHERE s.domain = ${shopDomain})`;
  // Most shops have redacted nobody: then only rows marked while they waited can match, and the
  // per-row lookups below are skipped. Two probes of small partial indexes, once per statement.
  const shopRedactedAny = sql`(EXISTS (SELECT 1 FROM customers c WHERE c.shop_id = ${shop} AND c.redacted_at IS NOT NULL) OR EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = ${shop} AND o.redacted_at IS NOT NULL))`;
  const redactedCustomer = (externalId: SQL) =>
    sql`EXISTS (SELECT 1 FROM customers c WHERE c.shop_id = ${shop} AND c.external_id = ${externalId} AND c.redacted_at IS NOT NULL)`;
  const redactedOrder = (orderId: SQL) =>
    sql`EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = ${shop} AND o.shopify_order_id = ${orderId} AND o.redacted_at IS NOT NULL)`;
  const rows = await tx
    .update(webhookInbox)
    .set({ payload: null })
    .where(
      and(
        anyOf(webhookInbox.id, ids),
        eq(webhookInbox.shopDomain, shopDomain),
        isNotNull(p),
        or(
          isNotNull(webhookInbox.subjectRedactedAt),
          and(
            shopRedactedAny,
            or(
              and(
                inArray(topic, ['customers/create', 'customers/update']),
                redactedCustomer(sql`${p}->>'id'`),
              ),
              and(
                sql`${topic} LIKE 'orders/%'`,
                or(redactedOrder(sql`${p}->>'id'`), redactedCustomer(sql`${p}->'customer'->>'id'`)),
              ),
              and(eq(topic, 'refunds/create'), redactedOrder(sql`${p}->>'order_id'`)),
            ),
          ),
        ),
      ),
    )
    .returning({ id: webhookInbox.id });
  return rows.length;
}

/**
 * Drops one row's body in the transaction that processes it: the compliance deliveries, whose
 * bodies name the customer and are not needed once handled.
 */
export async function dropPayload(tx: Executor, id: number): Promise<void> {
  await tx
    .update(webhookInbox)
    .set({ payload: null, payloadText: null })
    .where(eq(webhookInbox.id, id));
}
