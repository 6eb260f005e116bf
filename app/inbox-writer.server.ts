/**
 * Group commit for the webhook inbox. Every delivery must be durable before Shopify gets its 200,
 * so each one costs a PostgreSQL commit, and a commit waits for the WAL to reach disk: with one
 * transaction per delivery the disk's flush rate, not the CPU, caps ingest. Here deliveries that
 * arrive while earlier writes are committing are written together, each with recordDelivery, in
 * one transaction (postgres.js pipelines the statements), and every waiting request is answered
 * when that one commit is durable.
 *
 * - No added latency: a delivery is written at once when fewer than `maxConcurrent` writes are in
 *   flight; only the ones arriving during a commit wait, and for no longer than that commit.
 * - Rows of a batch are inserted in (shop, webhook id) order, so two batches never wait on each
 *   other's unique-index entries in opposite orders (no deadlocks).
 * - A batch that fails (one payload PostgreSQL refuses, a lost connection) is retried row by row,
 *   so one bad delivery cannot fail its neighbours; each request gets its own row's outcome.
 */
import type { Database } from '../db/client.server';
import { recordDelivery, type Delivery } from './models/inbox.server';

export type Stored = { id: number; created: boolean };

interface Waiting {
  delivery: Delivery;
  resolve: (stored: Stored) => void;
  reject: (error: unknown) => void;
}

export interface InboxWriterOptions {
  /** The database to write to, resolved per batch (default: the process database). */
  database: () => Promise<Database>;
  /** Transactions in flight at once (each holds one pool connection). Default 4. */
  maxConcurrent?: number;
  /** Rows per transaction at most. Default 200. */
  maxBatch?: number;
}

export class InboxWriter {
  private readonly waiting: Waiting[] = [];
  private active = 0;
  private readonly maxConcurrent: number;
  private readonly maxBatch: number;

  constructor(private readonly options: InboxWriterOptions) {
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.maxBatch = options.maxBatch ?? 200;
  }

  /** Stores the delivery (once per shop + webhook id); resolves when it is committed. */
  write(delivery: Delivery): Promise<Stored> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.maxConcurrent && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.active++;
      void this.flush(batch).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async flush(batch: Waiting[]): Promise<void> {
    let db: Database;
    try {
      db = await this.options.database();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    if (batch.length > 1) {
      batch.sort((a, b) => compare(a.delivery, b.delivery));
      try {
        const stored = await db.transaction((tx) =>
          Promise.all(batch.map((item) => recordDelivery(tx, item.delivery))),
        );
        batch.forEach((item, i) => item.resolve(stored[i]!));
        return;
      } catch {
        // Fall through: row by row, so each request learns its own outcome.
      }
    }
    await Promise.all(
      batch.map(async (item) => {
        try {
          item.resolve(await recordDelivery(db, item.delivery));
        } catch (error) {
          item.reject(error);
        }
      }),
    );
  }
}

function compare(a: Delivery, b: Delivery): number {
  if (a.shopDomain !== b.shopDomain) return a.shopDomain < b.shopDomain ? -1 : 1;
  if (a.webhookId !== b.webhookId) return a.webhookId < b.webhookId ? -1 : 1;
  return 0;
}
