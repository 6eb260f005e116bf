/**
 * The reconciler: the inbox, not Redis, is the record of what was accepted. Rows still `received`
 * some minutes after they arrived — their job was never enqueued (Redis was down when the webhook
 * came), or Redis lost it (restart without persistence, FLUSHALL) — are enqueued again. Rows parked
 * because their shop was not installed are put back and enqueued as soon as the shop row exists,
 * whatever created it, so nothing that creates shops needs to know. It also drops the payloads of
 * rows processed long enough ago, and of rows parked that long (they hold personal data).
 */
import type { Queue } from 'bullmq';
import type { Database } from '../db/client.server';
import {
  expireParked,
  findUnprocessed,
  prunePayloads,
  unparkInstalled,
} from '../app/models/inbox.server';
import { requeueInbox } from '../app/queues/webhook-queue.server';

const BATCH = 1_000;
/** At most this many rows a run; the next run continues. */
const MAX_BATCHES = 50;

export interface ReconcileOptions {
  /** Rows received before this instant and still unprocessed are re-enqueued. */
  olderThan: Date;
  /**
   * Payloads of rows processed before this instant are dropped; rows parked since before it become
   * dead letters without theirs.
   */
  pruneBefore: Date;
}

export interface ReconcileResult {
  /** Unprocessed rows looked at. */
  examined: number;
  /** Jobs added (the rest were still pending in the queue). */
  requeued: number;
  /** Parked rows whose shop now exists, put back and enqueued. */
  unparked: number;
  /** Parked rows whose shop never came within the retention period: now dead, body dropped. */
  parkedExpired: number;
  payloadsPruned: number;
}

export async function reconcileInbox(
  db: Database,
  queue: Queue,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const unparked = await unparkInstalled(db);
  // Put back first: if Redis fails here, they are `received` and the pass below takes them later.
  for (const row of unparked) await requeueInbox(queue, row);
  let examined = 0;
  let requeued = 0;
  let afterId = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const rows = await findUnprocessed(db, options.olderThan, BATCH, afterId);
    for (const row of rows) {
      if (await requeueInbox(queue, row)) requeued++;
    }
    examined += rows.length;
    if (rows.length < BATCH) break;
    afterId = rows[rows.length - 1]!.id;
  }
  const parkedExpired = await expireParked(db, options.pruneBefore);
  const payloadsPruned = await prunePayloads(db, options.pruneBefore);
  return { examined, requeued, unparked: unparked.length, parkedExpired, payloadsPruned };
}
