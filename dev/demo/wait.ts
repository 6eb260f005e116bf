/** Waiting for the workers to drain the demo's deliveries, with a progress bar and a stall check. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseHandle } from '../../db/client.server';
import { shopInboxCounts } from '../../app/models/shop-inbox.server';
import { replayProgress } from './progress';

/** A worker that makes no progress for this long is reported instead of waited for. */
export const STALL_MS = 60_000;

export async function waitForWorkers(
  db: DatabaseHandle['db'],
  shop: string,
  options: { progress?: boolean } = {},
): Promise<{ received: number; dead: number; stalled: boolean }> {
  let counts = await shopInboxCounts(db, shop);
  const total = () => counts.received + counts.processed + counts.dead;
  const progress = replayProgress(total(), {
    label: 'Processing',
    ...(options.progress === false ? { mode: 'off' as const } : {}),
  });
  let lastReceived = counts.received;
  let lastChange = Date.now();
  for (;;) {
    progress.update(counts.processed + counts.dead);
    if (counts.received === 0) break;
    if (counts.received !== lastReceived) {
      lastReceived = counts.received;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      progress.finish();
      return { received: counts.received, dead: counts.dead, stalled: true };
    }
    await sleep(150);
    counts = await shopInboxCounts(db, shop);
  }
  progress.finish();
  return { received: 0, dead: counts.dead, stalled: false };
}
