/**
 * Turns one webhook_inbox row into ledger entries, exactly once.
 *
 * One transaction: lock the row (`FOR UPDATE`), stop if it is no longer `received`, run the topic's
 * handler, mark the row processed. Everything the handler writes commits together with the mark,
 * so a worker killed at any point leaves either nothing or everything, and the retry finds the row
 * processed and does nothing. Two workers given the same row (a stalled job retried while the
 * reconciler re-enqueued it) queue on the row lock; the second sees `processed`.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import { isAppError, isPermanent, rootCauseMessage, sqlStateOf } from '../app/errors';
import {
  lockInboxRow,
  markDead,
  markProcessed,
  recordAttemptFailure,
} from '../app/models/inbox.server';
import { EarnError } from '../loyalty/earn';
import { ProgramError } from '../loyalty/program';
import { ReversalError } from '../loyalty/reversal';
import { SettlementError } from '../loyalty/settlement';
import { ShopifyPayloadError } from '../loyalty/shopify-order';
import { webhookHandlers } from './handlers/index';
import { isWebhookTopic } from './jobs';

export type ProcessOutcome =
  | { status: 'processed'; topic: string; summary: Record<string, unknown> }
  | { status: 'skipped'; reason: 'already-processed' | 'dead' | 'gone' };

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

export async function processInbox(
  db: Database,
  inboxId: number,
  log: Logger,
): Promise<ProcessOutcome> {
  return db.transaction(async (tx) => {
    const row = await lockInboxRow(tx, inboxId);
    if (!row) return { status: 'skipped', reason: 'gone' };
    if (row.status === 'processed') return { status: 'skipped', reason: 'already-processed' };
    if (row.status === 'dead') return { status: 'skipped', reason: 'dead' };
    if (!isWebhookTopic(row.topic)) {
      throw new PermanentFailure(`no handler for webhook topic ${JSON.stringify(row.topic)}`);
    }
    if (row.payload === null) {
      throw new PermanentFailure(`inbox row ${inboxId} has no payload left to process`);
    }
    const summary = await webhookHandlers[row.topic](tx, {
      row: row as typeof row & { payload: unknown },
      log,
    });
    await markProcessed(tx, inboxId);
    return { status: 'processed', topic: row.topic, summary };
  });
}

/**
 * Records a failed attempt on the inbox row: a permanent failure, or the last attempt, makes it a
 * dead letter (listed by `loyalty inbox dead`, replayable with `loyalty inbox replay`). Returns
 * whether the row is now dead. Never throws: the job's own failure is what matters.
 */
export async function recordFailure(
  db: Database,
  inboxId: number,
  error: unknown,
  options: { finalAttempt: boolean },
): Promise<boolean> {
  const reason = failureReason(error);
  const dead = options.finalAttempt || isPermanentFailure(error);
  try {
    if (dead) await markDead(db, inboxId, reason);
    else await recordAttemptFailure(db, inboxId, reason);
  } catch {
    // The database may be what failed; the row stays `received` and the reconciler retries it.
  }
  return dead;
}
