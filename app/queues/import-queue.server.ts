/**
 * The imports queue (docs/import.md): one history import at a time, on its own queue so a big file
 * never holds up webhooks or the sync. The admin adds an upload's job (web-enqueue.server.ts) and
 * the sweep adds the jobs it finds missing; the handler is workers/handlers/history-import.ts.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { openQueue, type QueueSettings } from './connection.server';
import { historyImportJob, IMPORT_QUEUE } from './jobs';

/** A run that failed for a reason that may pass is retried for about ten minutes, then failed. */
export const IMPORT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
};

export function createImportQueue(settings: QueueSettings, connection: RedisOptions): Queue {
  return openQueue(IMPORT_QUEUE, settings, connection, IMPORT_JOB_OPTIONS);
}

/** Adds the import's job; a second add while it is waiting, delayed or running is the same job. */
export async function enqueueHistoryImportJob(queue: Queue, importId: number): Promise<void> {
  const data = historyImportJob.schema.parse({ importId });
  await queue.add(historyImportJob.name, data, { jobId: historyImportJob.jobId(data) });
}
