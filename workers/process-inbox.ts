/**
 * Turns webhook_inbox rows into ledger entries, exactly once.
 *
 * One transaction: lock the rows (`FOR UPDATE`), skip those no longer `received`, run the topic's
 * handler, mark the rows processed. Everything a handler writes commits together with the mark,
 * so a worker killed at any point leaves either nothing or everything, and the retry finds the row
 * processed and does nothing. Two workers given the same row (a stalled job retried while the
 * reconciler re-enqueued it) queue on the row lock; the second sees `processed`. The order topics
 * are processed many rows to a transaction (workers/batcher.ts gathers them under load); the
 * others one row to a transaction.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import { isAppError, isPermanent, rootCauseMessage, sqlStateOf } from '../app/errors';
import {
  inboxTopics,
  lockInboxRows,
  markDead,
  markParked,
  markProcessed,
  recordAttemptFailure,
} from '../app/models/inbox.server';
import { EarnError } from '../loyalty/earn';
import { ProgramError } from '../loyalty/program';
import { ReversalError } from '../loyalty/reversal';
import { SettlementError } from '../loyalty/settlement';
import { ShopifyPayloadError } from '../loyalty/shopify-payload';
import { ShopNotInstalled } from './handlers/context';
import { handleOrderRows, isOrderTopic, webhookHandlers } from './handlers/index';
import { isWebhookTopic } from '../app/queues/jobs';

export type ProcessOutcome =
  | { status: 'processed'; topic: string; summary: Record<string, unknown> }
  | { status: 'skipped'; reason: SkipReason };

type SkipReason = 'already-processed' | 'dead' | 'parked' | 'gone';

/** A failure that the same input will always meet: dead-letter it instead of retrying. */
export class PermanentFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentFailure';
  }
}

/**
 * Whether retrying can help. Invalid payloads, programs and maths, and AppErrors with a permanent
 * code (validation, conflicts…) cannot; database outages, deadlocks, serialisation failures and
 * anything unknown may.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (
    error instanceof PermanentFailure ||
    error instanceof ShopifyPayloadError ||
    error instanceof ProgramError ||
    error instanceof EarnError ||
    error instanceof ReversalError ||
    error instanceof SettlementError
  ) {
    return true;
  }
  if (isAppError(error)) return isPermanent(error.code);
  // SQLSTATE class 22: data exceptions (bad value for a column) recur on every attempt.
  return sqlStateOf(error)?.startsWith('22') ?? false;
}

/** The reason stored on the inbox row and logged: the error's own words, no payload. */
export function failureReason(error: unknown): string {
  if (error instanceof ShopifyPayloadError || isAppError(error)) return error.message;
  return rootCauseMessage(error);
}

/** What happened to one row of a batch: its outcome, or the error its job must report. */
export type RowResult = ProcessOutcome | { status: 'failed'; error: unknown };

type LockedRow = Awaited<ReturnType<typeof lockInboxRows>>[number];

/** One row of a topic handled alone, in its own transaction. */
async function processSingle(
  db: Database,
  inboxId: number,
  log: Logger,
  committed: Set<string>,
): Promise<ProcessOutcome> {
  let shop: string | undefined;
  const outcome = await db.transaction(async (tx): Promise<ProcessOutcome> => {
    const [row] = await lockInboxRows(tx, [inboxId]);
    const skipped = skipReason(row);
    if (skipped) return { status: 'skipped', reason: skipped };
    const topic = row!.topic;
    if (!isWebhookTopic(topic) || isOrderTopic(topic)) {
      throw new PermanentFailure(`no handler for webhook topic ${JSON.stringify(topic)}`);
    }
    const summary = await webhookHandlers[topic as keyof typeof webhookHandlers](tx, {
      row: withBody(row!),
      log,
    });
    await markProcessed(tx, [inboxId]);
    shop = row!.shopDomain;
    return { status: 'processed', topic, summary };
  });
  if (shop !== undefined) committed.add(shop);
  return outcome;
}

function skipReason(row: LockedRow | undefined): SkipReason | null {
  if (!row) return 'gone';
  if (row.status === 'processed') return 'already-processed';
  if (row.status === 'dead') return 'dead';
  if (row.status === 'parked') return 'parked';
  return null;
}

/**
 * The row with its body: the stored jsonb, or the text kept when jsonb refused it (replayed by
 * ops; whatever in it PostgreSQL cannot hold then fails where a handler writes it, permanently).
 */
function withBody(row: LockedRow): LockedRow & { payload: unknown } {
  if (row.payload !== null) return row;
  if (row.payloadText !== null) {
    try {
      return { ...row, payload: JSON.parse(row.payloadText) as unknown };
    } catch (error) {
      throw new PermanentFailure(`inbox row ${row.id} keeps a body that is not JSON`, {
        cause: error,
      });
    }
  }
  throw new PermanentFailure(`inbox row ${row.id} has no payload left to process`);
}

/**
 * Order-topic rows together in one transaction. A row with an invalid body fails alone and the
 * rest commit; if the transaction itself fails (a database refusal, a deadlock), each row is tried
 * again on its own so one bad row cannot hold the others back.
 */
async function processOrderBatch(
  db: Database,
  inboxIds: number[],
  results: Map<number, RowResult>,
  committed: Set<string>,
): Promise<void> {
  const shops = new Set<string>();
  try {
    const outcomes = await db.transaction(async (tx) => {
      const rows = await lockInboxRows(tx, inboxIds);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const local = new Map<number, RowResult>();
      const pending: (LockedRow & { payload: unknown })[] = [];
      for (const id of inboxIds) {
        const row = byId.get(id);
        const skipped = skipReason(row);
        if (skipped) {
          local.set(id, { status: 'skipped', reason: skipped });
          continue;
        }
        try {
          pending.push(withBody(row!));
        } catch (error) {
          local.set(id, { status: 'failed', error });
        }
      }
      const handled = await handleOrderRows(tx, pending);
      const processed: number[] = [];
      for (const row of pending) {
        const outcome = handled.get(row.id)!;
        if (outcome.ok) {
          processed.push(row.id);
          shops.add(row.shopDomain);
          local.set(row.id, { status: 'processed', topic: row.topic, summary: outcome.summary });
        } else {
          local.set(row.id, { status: 'failed', error: outcome.error });
        }
      }
      await markProcessed(tx, processed);
      return local;
    });
    for (const [id, result] of outcomes) results.set(id, result);
    for (const shop of shops) committed.add(shop);
  } catch (error) {
    if (inboxIds.length === 1) {
      results.set(inboxIds[0]!, { status: 'failed', error });
      return;
    }
    for (const id of inboxIds) await processOrderBatch(db, [id], results, committed);
  }
}

export interface ProcessHooks {
  /**
   * Called once the rows' transactions committed, with the shops whose rows were processed (their
   * ledger may have changed): the worker enqueues their metafield sync here, after the commit, so
   * the sync can see what it was enqueued for. Must not throw or wait: the rows' outcomes are
   * already decided.
   */
  committed?(shops: ReadonlySet<string>): void;
}

/**
 * Processes several inbox rows: the order topics together in one transaction, the others one
 * transaction each. Never throws for a row's own failure: each row gets its result.
 */
export async function processInboxBatch(
  db: Database,
  inboxIds: readonly number[],
  log: Logger,
  hooks: ProcessHooks = {},
): Promise<Map<number, RowResult>> {
  const results = new Map<number, RowResult>();
  const committed = new Set<string>();
  const ids = [...new Set(inboxIds)].sort((a, b) => a - b);
  const heads = await inboxTopics(db, ids);
  const topicOf = new Map(heads.map((h) => [h.id, h.topic]));
  const orderIds = ids.filter((id) => isOrderTopic(topicOf.get(id) ?? ''));
  if (orderIds.length > 0) await processOrderBatch(db, orderIds, results, committed);
  for (const id of ids) {
    if (results.has(id)) continue;
    try {
      results.set(id, await processSingle(db, id, log, committed));
    } catch (error) {
      results.set(id, { status: 'failed', error });
    }
  }
  if (committed.size > 0) hooks.committed?.(committed);
  return results;
}

/** One row: the same path as a batch of one. Throws the row's error. */
export async function processInbox(
  db: Database,
  inboxId: number,
  log: Logger,
): Promise<ProcessOutcome> {
  const result = (await processInboxBatch(db, [inboxId], log)).get(inboxId)!;
  if (result.status === 'failed') throw result.error;
  return result;
}

/** What a failed attempt made of the row. */
export type FailureOutcome = 'retry' | 'dead' | 'parked';

/**
 * Records a failed attempt on the inbox row: a delivery whose shop is not installed yet is parked
 * (the reconciler replays it once the shop exists); a permanent failure, or the last attempt of the
 * retry schedule (app/queues/webhook-queue.server.ts, hours long), makes it a dead letter (listed by
 * `loyalty inbox dead`, replayable with `loyalty inbox replay`); anything else is retried. Never
 * throws: the job's own failure is what matters.
 */
export async function recordFailure(
  db: Database,
  inboxId: number,
  error: unknown,
  options: { finalAttempt: boolean },
): Promise<FailureOutcome> {
  const outcome: FailureOutcome =
    error instanceof ShopNotInstalled
      ? 'parked'
      : options.finalAttempt || isPermanentFailure(error)
        ? 'dead'
        : 'retry';
  const reason =
    outcome === 'dead' && !isPermanentFailure(error)
      ? `retries exhausted: ${failureReason(error)}`
      : failureReason(error);
  try {
    if (outcome === 'parked') await markParked(db, inboxId, reason);
    else if (outcome === 'dead') await markDead(db, inboxId, reason);
    else await recordAttemptFailure(db, inboxId, reason);
  } catch {
    // The database may be what failed; the row stays `received` and the reconciler retries it.
  }
  return outcome;
}
