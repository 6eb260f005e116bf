/**
 * Group commit for the webhook inbox. Every delivery must be durable before Shopify gets its 200,
 * so each one costs a PostgreSQL commit, and a commit waits for the WAL to reach disk: with one
 * transaction per delivery the disk's flush rate, not the CPU, caps ingest. Here deliveries that
 * arrive while earlier writes are committing are written together in one transaction — one INSERT
 * for the batch, one SELECT for its repeats (recordDeliveries) — and every waiting request is
 * answered when that one commit is durable.
 *
 * - No added latency (app/batcher.ts): a delivery is written at once when fewer than
 *   `maxConcurrent` writes are in flight; only the ones arriving during a commit wait, and for no
 *   longer than that commit.
 * - Rows of a batch are inserted in (shop, webhook id) order, so two batches never wait on each
 *   other's unique-index entries in opposite orders (no deadlocks).
 * - A batch that fails (one payload PostgreSQL refuses, a lost connection) is retried row by row,
 *   so one bad delivery cannot fail its neighbours; each request gets its own row's outcome.
 * - A body PostgreSQL's jsonb refuses (SQLSTATE class 22: a `\u0000` escape, a lone surrogate) is
 *   signed and accepted all the same: it is stored as text, as a dead letter with the reason
 *   (recordUnstorableDelivery), so neither it nor Shopify's retries of it are lost.
 * - The rows a commit created are handed to `enqueue` together, once, after the commit: one job
 *   for the batch instead of one per delivery (the Redis round trips were a tenth of the
 *   pipeline's CPU). Repeats and dead letters are not enqueued.
 */
import type { Database } from '../db/client.server';
import { Batcher } from './batcher';
import { rootCauseMessage, sqlStateOf } from './errors';
import {
  recordDeliveries,
  recordDelivery,
  recordUnstorableDelivery,
  type Delivery,
} from './models/inbox.server';

/**
 * The delivery's row; `deadLetter` when jsonb refused the body and it was kept as text instead;
 * `enqueued` settles once the commit's new rows were handed to the queue (true when a job now
 * carries this row; false for a repeat, a dead letter, or when Redis did not take the job).
 */
export type Stored = {
  id: number;
  created: boolean;
  deadLetter: boolean;
  enqueued: Promise<boolean>;
};
type Row = Omit<Stored, 'enqueued'>;
type Written = Stored | { error: unknown };

/** A stored row as the queue needs it. */
export interface StoredRowRef {
  id: number;
  shopDomain: string;
  topic: string;
}

export interface InboxWriterOptions {
  /** The database to write to, resolved per batch (default: the process database). */
  database: () => Promise<Database>;
  /** Transactions in flight at once (each holds one pool connection). Default 4. */
  maxConcurrent?: number;
  /** Rows per transaction at most. Default 200. */
  maxBatch?: number;
  /**
   * Hands a commit's new rows to the queue; resolves whether it took them. Must not throw (the
   * rows are durable; the reconciler enqueues what this could not). None: nothing is enqueued.
   */
  enqueue?: (rows: StoredRowRef[]) => Promise<boolean>;
}

export class InboxWriter {
  private readonly batcher: Batcher<Delivery, Written>;

  constructor(private readonly options: InboxWriterOptions) {
    this.batcher = new Batcher((batch) => this.flush(batch), {
      maxInFlight: options.maxConcurrent ?? 4,
      maxBatch: options.maxBatch ?? 200,
    });
  }

  /**
   * Stores the delivery (once per shop + webhook id); resolves when it is committed. If `signal`
   * aborts while the delivery still waits for a transaction, it is never written (rejects with the
   * signal's reason); once its transaction has started, it commits or fails as it will.
   */
  async write(delivery: Delivery, signal?: AbortSignal): Promise<Stored> {
    const written = await this.batcher.submit(delivery, signal);
    if ('error' in written) throw written.error;
    return written;
  }

  private async flush(batch: Delivery[]): Promise<Map<Delivery, Written>> {
    const rows = await this.store(batch);
    const created: StoredRowRef[] = [];
    for (const [delivery, row] of rows) {
      if ('error' in row || !row.created || row.deadLetter) continue;
      created.push({ id: row.id, shopDomain: delivery.shopDomain, topic: delivery.topic });
    }
    const enqueue = this.options.enqueue;
    // Not awaited here: the transaction slot is free once the commit is durable.
    const enqueued =
      enqueue && created.length > 0 ? enqueue(created).catch(() => false) : Promise.resolve(false);
    const results = new Map<Delivery, Written>();
    for (const [delivery, row] of rows) {
      if ('error' in row) results.set(delivery, row);
      else
        results.set(delivery, {
          ...row,
          enqueued: row.created && !row.deadLetter ? enqueued : Promise.resolve(false),
        });
    }
    return results;
  }

  private async store(batch: Delivery[]): Promise<Map<Delivery, Row | { error: unknown }>> {
    const results = new Map<Delivery, Row | { error: unknown }>();
    let db: Database;
    try {
      db = await this.options.database();
    } catch (error) {
      for (const delivery of batch) results.set(delivery, { error });
      return results;
    }
    if (batch.length > 1) {
      try {
        const stored = await db.transaction((tx) => recordDeliveries(tx, batch));
        batch.forEach((delivery, i) => results.set(delivery, { ...stored[i]!, deadLetter: false }));
        return results;
      } catch {
        // Fall through: row by row, so each request learns its own outcome.
      }
    }
    await Promise.all(
      batch.map(async (delivery) => {
        try {
          results.set(delivery, await recordAlone(db, delivery));
        } catch (error) {
          results.set(delivery, { error });
        }
      }),
    );
    return results;
  }
}

async function recordAlone(db: Database, delivery: Delivery): Promise<Row> {
  try {
    return { ...(await recordDelivery(db, delivery)), deadLetter: false };
  } catch (error) {
    if (!sqlStateOf(error)?.startsWith('22')) throw error;
    // The driver's message names the rule ("unsupported Unicode escape sequence"), never the value.
    const reason =
      `the body cannot be stored as jsonb (${rootCauseMessage(error)}); it is kept as text ` +
      'as received: `loyalty inbox replay` processes it from there';
    return { ...(await recordUnstorableDelivery(db, delivery, reason)), deadLetter: true };
  }
}
