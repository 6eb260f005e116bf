/**
 * The history import jobs (docs/import.md): `history-import` runs one uploaded file through the
 * import the CLI uses (app/history-import.server.ts), batch by batch, each batch's progress
 * committed with its entries; `sweep-imports` (repeatable) gives every queued or running import a
 * job. The payload is the import id: the file, its progress and its outcome are in history_imports.
 *
 * A run after a crash or a retry starts from the rows the last committed batch reached; it could
 * start from the top just as safely (every key is the webhooks' or a deterministic one), only
 * slower. A failure that may pass (the database away) is retried with backoff, the import queued
 * again with the reason; one that cannot (a file that no longer reads, a key posted before with
 * other amounts) fails the import at once (UnrecoverableError).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import { ErrorCode, isAppError, rootCauseMessage } from '../../app/errors';
import {
  addCounts,
  checkHistoryFile,
  importHistoryFile,
  listProblems,
  type ImportCounts,
} from '../../app/history-import.server';
import {
  finishHistoryImport,
  historyImportShopId,
  recordHistoryImportBatch,
  requeueHistoryImport,
  startHistoryImport,
  unfinishedHistoryImports,
} from '../../app/models/history-imports.server';
import { listPrograms, ProgramTimeline } from '../../app/models/programs.server';
import { getShop } from '../../app/models/shops.server';
import { InputFileError } from '../../cli/transactions';
import { enqueueHistoryImportJob } from '../../app/queues/import-queue.server';
import { historyImportJob, sweepImportsJob } from '../../app/queues/jobs';
import { enqueueMetafieldSync } from '../../app/queues/metafield-queue.server';

/** How often the sweep looks for imports without a job by default. */
export const IMPORT_SWEEP_EVERY_MS = 30_000;

export interface HistoryImportJobDeps {
  db: Database;
  log: Logger;
  /** The metafield queue: the storefront sync asked for once the import is done. */
  metafieldQueue: Queue;
  metafieldDelayMs: number;
  /** Rows per batch (default IMPORT_BATCH_ROWS). */
  batchRows?: number;
  /**
   * Aborted when the worker is closing: the run stops after its current batch and its job waits
   * (not a failed attempt) for the next worker, which goes on from the last committed batch.
   */
  signal?: AbortSignal;
}

export type HistoryImportJobResult =
  | { status: 'done'; importId: number; rows: number; counts: ImportCounts; skipped: number }
  | { status: 'skipped'; importId: number; reason: 'gone' | 'finished' };

/** A failure no retry can change: the file, the program or the ledger says no. */
class PermanentImportFailure extends Error {}

function isPermanent(error: unknown): boolean {
  if (error instanceof PermanentImportFailure || error instanceof InputFileError) return true;
  return (
    isAppError(error) &&
    (error.code === ErrorCode.VALIDATION ||
      error.code === ErrorCode.IDEMPOTENCY_CONFLICT ||
      error.code === ErrorCode.NOT_FOUND)
  );
}

function reasonOf(error: unknown): string {
  if (error instanceof PermanentImportFailure || error instanceof InputFileError) {
    return error.message;
  }
  return isAppError(error) ? error.message : rootCauseMessage(error);
}

/** How long a job paused by a closing worker waits before another worker may take it. */
const PAUSED_JOB_DELAY_MS = 1_000;

export async function runHistoryImportJob(
  job: Pick<Job, 'data' | 'id' | 'attemptsMade' | 'opts' | 'moveToDelayed'>,
  deps: HistoryImportJobDeps,
  token?: string,
): Promise<HistoryImportJobResult> {
  const parsed = historyImportJob.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.message}`);
  const { importId } = parsed.data;
  const attempt = job.attemptsMade + 1;
  const log = deps.log.child({ jobId: job.id, importId, attempt });
  const { db } = deps;
  // Deleted with its shop (shop/redact): nothing left to import.
  const shopId = await historyImportShopId(db, importId);
  if (shopId === null) return { status: 'skipped', importId, reason: 'gone' };

  let dir: string | undefined;
  try {
    const run = await startHistoryImport(db, shopId, importId);
    if (!run) return { status: 'skipped', importId, reason: 'finished' };
    const shop = await getShop(db, shopId);
    if (!shop) return { status: 'skipped', importId, reason: 'gone' };
    if (run.content === null) {
      throw new PermanentImportFailure('the uploaded file is no longer stored: upload it again');
    }
    const versions = await listPrograms(db, shop.id);
    if (versions.length === 0) {
      throw new PermanentImportFailure(
        'the shop has no earning program: publish one, then upload the file again',
      );
    }
    const timeline = new ProgramTimeline(versions);
    const context = { currency: timeline.currency, timezone: shop.timezone };
    // The readers stream a file; the database copy is what survives a restart.
    dir = await mkdtemp(join(tmpdir(), 'laurel-import-'));
    const path = join(dir, 'upload.csv');
    await writeFile(path, run.content, 'utf8');
    // Checked at upload; checked again since the program and the code may have changed since.
    const check = await checkHistoryFile(path, context);
    if (check.errors.length > 0) {
      throw new PermanentImportFailure(
        `the file no longer passes the checks; nothing more was imported:\n${listProblems(check.errors).join('\n')}`,
      );
    }
    if (run.processedRows > 0) {
      log.info({ processedRows: run.processedRows }, 'history import resumed');
    }
    let counts = run.counts;
    let skippedBefore = run.skippedCount;
    const started = performance.now();
    const summary = await importHistoryFile(db, shop, path, {
      ...context,
      timeline,
      skipRows: run.processedRows,
      ...(deps.signal && { signal: deps.signal }),
      ...(deps.batchRows !== undefined && { batchRows: deps.batchRows }),
      onBatch: async (tx, batch) => {
        const total = addCounts(counts, batch.counts);
        await recordHistoryImportBatch(tx, shop.id, importId, {
          processedRows: batch.processedRows,
          counts: total,
          skipped: batch.skipped,
          skippedBefore,
        });
        // Only once the statement is in: a failed batch rolls back and is run again.
        counts = total;
        skippedBefore += batch.skipped.length;
      },
    });
    await finishHistoryImport(db, shop.id, importId, { status: 'done' });
    const ms = Math.round(performance.now() - started);
    log.info(
      {
        shop: shop.domain,
        rows: summary.rows,
        ...summary.counts,
        skipped: summary.skippedCount,
        ms,
      },
      'history import done',
    );
    // The members' balances and tiers changed: the storefront shows them once synced.
    await enqueueMetafieldSync(deps.metafieldQueue, shop.domain, deps.metafieldDelayMs).catch(
      (error: Error) =>
        log.warn({ err: error.message }, 'could not enqueue a metafield sync; the sweep will'),
    );
    return {
      status: 'done',
      importId,
      rows: summary.rows,
      counts,
      skipped: skippedBefore,
    };
  } catch (error) {
    if (deps.signal?.aborted && error === deps.signal.reason && token !== undefined) {
      await requeueHistoryImport(
        db,
        shopId,
        importId,
        'the worker stopped; the import goes on from its last batch when a worker starts',
      ).catch(() => {});
      await job.moveToDelayed(Date.now() + PAUSED_JOB_DELAY_MS, token);
      log.info('history import paused: the worker is stopping');
      throw new DelayedError();
    }
    const reason = reasonOf(error);
    const permanent = isPermanent(error);
    const last = attempt >= (job.opts.attempts ?? 1);
    try {
      if (permanent || last) {
        await finishHistoryImport(db, shopId, importId, { status: 'failed', error: reason });
      } else {
        await requeueHistoryImport(db, shopId, importId, `attempt ${attempt} failed: ${reason}`);
      }
    } catch (recordError) {
      // The database is away too: the sweep records the job's failure once it is back.
      log.warn({ err: rootCauseMessage(recordError) }, 'could not record the import failure');
    }
    if (permanent) {
      log.warn({ err: reason }, 'history import failed');
      throw new UnrecoverableError(reason);
    }
    log.warn({ err: reason, last }, last ? 'history import failed' : 'history import will retry');
    throw error;
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

export interface ImportSweepDeps {
  db: Database;
  /** The import queue. */
  queue: Queue;
  log: Logger;
}

/**
 * Every queued or running import gets a job: enqueued when it has none; recorded as failed when
 * its job failed (stalled too often, or its last failure could not be written).
 */
export async function runImportSweepJob(
  deps: ImportSweepDeps,
): Promise<{ enqueued: number; failed: number }> {
  let enqueued = 0;
  let failed = 0;
  for (const { id, shopId } of await unfinishedHistoryImports(deps.db)) {
    const job = await deps.queue.getJob(historyImportJob.jobId({ importId: id }));
    if (!job) {
      await enqueueHistoryImportJob(deps.queue, id);
      enqueued++;
    } else if (await job.isFailed()) {
      await finishHistoryImport(deps.db, shopId, id, {
        status: 'failed',
        error: job.failedReason || 'the import job failed',
      });
      failed++;
    }
  }
  if (enqueued + failed > 0) deps.log.info({ enqueued, failed }, 'import sweep');
  return { enqueued, failed };
}

/** Creates or refreshes the sweep's schedule (idempotent; survives a Redis that lost it). */
export async function scheduleImportSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    sweepImportsJob.jobId({}),
    { every: everyMs },
    {
      name: sweepImportsJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}
