/**
 * The reconciler: the inbox, not Redis, is the record of what was accepted. Rows still `received`
 * some minutes after they arrived — their job was never enqueued (Redis was down when the webhook
 * came), or Redis lost it (restart without persistence, FLUSHALL) — are enqueued again. It also
 * drops the payloads of rows processed long enough ago (they hold personal data).
 */
import type { Queue } from 'bullmq';
import type { Database } from '../db/client.server';
import { findUnprocessed, prunePayloads } from '../app/models/inbox.server';
import { requeueInbox } from './queue.server';

const BATCH = 1_000;
/** At most this many rows a run; the next run continues. */
const MAX_BATCHES = 50;

export interface ReconcileOptions {
  /** Rows received before this instant and still unprocessed are re-enqueued. */
  olderThan: Date;
  /** Payloads of rows processed before this instant are dropped. */
  pruneBefore: Date;
}

export interface ReconcileResult {
  /** Unprocessed rows looked at. */
  examined: number;
  /** Jobs added (the rest were still pending in the queue). */
  requeued: number;
  payloadsPruned: number;
}

export async function reconcileInbox(
  db: Database,
  queue: Queue,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
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
  const payloadsPruned = await prunePayloads(db, options.pruneBefore);
  return { examined, requeued, payloadsPruned };
}
