// The history import job on PostgreSQL and Redis: progress committed batch by batch (a worker that
// stops between batches leaves the rows done and goes on from there), a failure that may pass
// recorded and retried without a second award, a permanent one failing the import with its
// reason and dropping the file, and the worker runtime running an import the sweep found without
// a job (an upload whose enqueue was lost) to the end, with the storefront sync asked for.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createHistoryImport, getHistoryImport } from '../../app/models/history-imports.server';
import { importHistoryFile } from '../../app/history-import.server';
import { programTimeline } from '../../app/models/programs.server';
import type { Shop } from '../../app/models/shops.server';
import type { Database } from '../../db/client.server';
import { historyImports, ledgerEntries } from '../../db/schema';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../../tests/helpers/pipeline';
import { redisOptions } from '../../app/queues/connection.server';
import { startWorkers } from '../runtime.server';
import { createMetafieldQueue } from '../../app/queues/metafield-queue.server';
import {
  runHistoryImportJob,
  runImportSweepJob,
  type HistoryImportJobDeps,
} from './history-import';
import { createImportQueue } from '../../app/queues/import-queue.server';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const log = pino({ level: 'silent' });
const handle = useInboxHarness();
const STAFF = { userId: '42', sessionId: 'session-42' };
const prefixes: string[] = [];
const settingsFor = () => {
  const prefix = `test-${randomUUID()}`;
  prefixes.push(prefix);
  return { redisUrl: TEST_REDIS_URL, prefix };
};
afterAll(async () => {
  for (const prefix of prefixes) {
    await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix }).catch(() => {});
  }
});

/** A plain file of `n` rows of 120.00 (90 points each), two customers, transaction ids T1…Tn. */
function plainFile(n: number, amount = '120.00'): string {
  const lines = ['transaction_id,customer_id,date,amount'];
  for (let i = 1; i <= n; i++) lines.push(`T${i},C${i % 2},2026-03-0${1 + (i % 9)},${amount}`);
  return `${lines.join('\n')}\n`;
}

async function upload(shop: Shop, content: string, totalRows: number) {
  return createHistoryImport(handle.db, shop.id, {
    fileName: 'history.csv',
    format: 'transactions',
    content,
    bytes: Buffer.byteLength(content),
    totalRows,
    startedBy: STAFF,
  });
}

function fakeJob(importId: number, attemptsMade = 0) {
  return {
    id: `import-${importId}`,
    data: { importId },
    attemptsMade,
    opts: { attempts: 8 },
    moveToDelayed: vi.fn(async () => {}),
  } as unknown as Job & { moveToDelayed: ReturnType<typeof vi.fn> };
}

async function ledgerOf(shop: Shop) {
  const rows = await handle.db
    .select({ key: ledgerEntries.idempotencyKey, points: ledgerEntries.points })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.shopId, shop.id));
  return rows.map((r) => `${r.key}=${r.points}`).sort();
}

async function rawRow(id: number) {
  const [row] = await handle.db.select().from(historyImports).where(eq(historyImports.id, id));
  return row!;
}

function deps(overrides: Partial<HistoryImportJobDeps> = {}) {
  const settings = settingsFor();
  const metafieldQueue = createMetafieldQueue(settings, redisOptions(TEST_REDIS_URL));
  return {
    deps: {
      db: handle.db,
      log,
      metafieldQueue,
      metafieldDelayMs: 60_000,
      ...overrides,
    } satisfies HistoryImportJobDeps,
    metafieldQueue,
  };
}

/** A signal that aborts at its `stopAt`-th check (the import checks it before each batch). */
function stopBefore(batch: number) {
  const reason = new Error('the worker is closing');
  let checks = 0;
  const signal = {
    aborted: false,
    reason,
    throwIfAborted() {
      if (++checks >= batch) {
        signal.aborted = true;
        throw reason;
      }
    },
  };
  return signal as unknown as AbortSignal;
}

describe('history-import job', () => {
  it('commits progress with each batch; a stopped worker leaves the rows done and the next run goes on', async () => {
    const shop = await handle.newShop('import-job', { currency: 'USD', timezone: 'UTC' });
    const { id } = await upload(shop, plainFile(7), 7);
    expect(await getHistoryImport(handle.db, shop.id, id)).toMatchObject({
      status: 'queued',
      processedRows: 0,
    });

    // Stopped before its third batch (of two rows): four rows are in, and say so.
    const first = deps({ batchRows: 2, signal: stopBefore(3) });
    const job = fakeJob(id);
    await expect(runHistoryImportJob(job, first.deps, 'token')).rejects.toBeInstanceOf(
      DelayedError,
    );
    expect(job.moveToDelayed).toHaveBeenCalledOnce();
    let row = await rawRow(id);
    expect(row).toMatchObject({ status: 'queued', processedRows: 4, skippedCount: 0 });
    expect(row.counts).toMatchObject({ posted: 4, alreadyPresent: 0 });
    expect(row.content).not.toBeNull();
    expect(row.startedAt).not.toBeNull();
    expect(await ledgerOf(shop)).toHaveLength(4);

    // The next run: from row 5, to the end; the file dropped, the sync asked for.
    const second = deps({ batchRows: 2 });
    const result = await runHistoryImportJob(fakeJob(id), second.deps, 'token');
    expect(result).toMatchObject({ status: 'done', rows: 7, counts: { posted: 7 } });
    row = await rawRow(id);
    expect(row).toMatchObject({ status: 'done', processedRows: 7, content: null, error: null });
    expect(row.counts).toMatchObject({ posted: 7, alreadyPresent: 0 });
    expect(row.finishedAt).not.toBeNull();
    expect(await ledgerOf(shop)).toHaveLength(7);
    const syncs = await second.metafieldQueue.getJobs(['delayed', 'waiting']);
    expect(syncs.map((j) => [j.name, j.data])).toEqual([
      ['sync-metafields', { shop: shop.domain }],
    ]);

    // A finished import's job does nothing.
    expect(await runHistoryImportJob(fakeJob(id), second.deps)).toEqual({
      status: 'skipped',
      importId: id,
      reason: 'finished',
    });
    await first.metafieldQueue.close();
    await second.metafieldQueue.close();
  });

  it('a failure that may pass is recorded and retried; the retry awards nothing twice', async () => {
    const shop = await handle.newShop('import-retry', { currency: 'USD', timezone: 'UTC' });
    const { id } = await upload(shop, plainFile(5), 5);
    // The database drops the connection at the second batch's transaction.
    let transactions = 0;
    const flaky = new Proxy(handle.db, {
      get(target, property, receiver) {
        if (property === 'transaction') {
          return (...args: unknown[]) => {
            if (++transactions === 2) {
              return Promise.reject(new Error('Connection terminated unexpectedly'));
            }
            return (target.transaction as (...a: unknown[]) => unknown)(...args);
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    }) as Database;
    const first = deps({ db: flaky, batchRows: 2 });
    const error = await runHistoryImportJob(fakeJob(id, 0), first.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnrecoverableError);
    let row = await rawRow(id);
    expect(row).toMatchObject({
      status: 'queued',
      processedRows: 2,
      error: 'attempt 1 failed: Connection terminated unexpectedly',
    });

    // BullMQ's retry: attempt 2 goes on from row 3, and the ledger holds each row once.
    const second = deps({ batchRows: 2 });
    await runHistoryImportJob(fakeJob(id, 1), second.deps);
    row = await rawRow(id);
    expect(row).toMatchObject({ status: 'done', processedRows: 5, error: null });
    expect(row.counts).toMatchObject({ posted: 5, alreadyPresent: 0 });
    const entries = await ledgerOf(shop);
    expect(entries).toEqual([1, 2, 3, 4, 5].map((i) => `import:txn:T${i}=90`).sort());

    // Even a run from the top (progress lost) posts nothing twice: the keys are deterministic.
    await handle.db
      .update(historyImports)
      .set({ status: 'queued', processedRows: 0, content: plainFile(5) })
      .where(eq(historyImports.id, id));
    await runHistoryImportJob(fakeJob(id), second.deps);
    expect((await rawRow(id)).counts).toMatchObject({ posted: 5, alreadyPresent: 5 });
    expect(await ledgerOf(shop)).toEqual(entries);
    await first.metafieldQueue.close();
    await second.metafieldQueue.close();
  });

  it('a permanent failure fails the import at once, with its reason, and drops the file', async () => {
    const shop = await handle.newShop('import-fail', { currency: 'USD', timezone: 'UTC' });
    // T1 imported before with another amount: its key cannot take these inputs.
    const dir = mkdtempSync(join(tmpdir(), 'laurel-import-job-'));
    try {
      const earlier = join(dir, 'earlier.csv');
      writeFileSync(earlier, plainFile(1, '130.00'));
      await importHistoryFile(handle.db, shop, earlier, {
        currency: 'USD',
        timezone: 'UTC',
        timeline: await programTimeline(handle.db, shop.id),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { id } = await upload(shop, plainFile(3), 3);
    const { deps: jobDeps, metafieldQueue } = deps();
    const error = await runHistoryImportJob(fakeJob(id), jobDeps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    const row = await rawRow(id);
    expect(row).toMatchObject({ status: 'failed', content: null, processedRows: 0 });
    expect(row.error).toMatch(/import:txn:T1/);
    expect(row.finishedAt).not.toBeNull();
    // Nothing of the failed batch stayed.
    expect(await ledgerOf(shop)).toEqual(['import:txn:T1=110']);
    // Another import may start now.
    await expect(upload(shop, plainFile(1), 1)).resolves.toMatchObject({ id: expect.any(Number) });
    await metafieldQueue.close();
  });

  it('refuses a second import while one is queued', async () => {
    const shop = await handle.newShop('import-one', { currency: 'USD', timezone: 'UTC' });
    await upload(shop, plainFile(1), 1);
    await expect(upload(shop, plainFile(2), 2)).rejects.toMatchObject({
      code: 'CONFLICT',
      message:
        'An import is already waiting to run (history.csv): upload again once it has finished.',
    });
  });

  it('the runtime runs an import its sweep found without a job, to the end', async () => {
    const shop = await handle.newShop('import-runtime', { currency: 'USD', timezone: 'UTC' });
    const { id } = await upload(shop, plainFile(12), 12);
    const settings = settingsFor();
    const queue = createImportQueue(settings, redisOptions(TEST_REDIS_URL));
    // The sweep alone (over every shop's queued imports): it gives this one its job, once.
    const swept = await runImportSweepJob({ db: handle.db, queue, log });
    expect(swept.enqueued).toBeGreaterThanOrEqual(1);
    expect(await queue.getJob(`import-${id}`)).toBeDefined();
    await expect(runImportSweepJob({ db: handle.db, queue, log })).resolves.toEqual({
      enqueued: 0,
      failed: 0,
    });
    const runtime = await startWorkers({
      db: handle.db,
      queue: settings,
      concurrency: 1,
      lockMs: 5_000,
      imports: { sweepEveryMs: 60_000, batchRows: 5 },
    });
    try {
      await runtime.ready;
      await vi.waitFor(async () => expect((await rawRow(id)).status).toBe('done'), {
        timeout: 20_000,
        interval: 100,
      });
      expect(await rawRow(id)).toMatchObject({ processedRows: 12, content: null });
      expect(await ledgerOf(shop)).toHaveLength(12);
      // Removed on completion, which BullMQ records just after the handler has committed 'done'.
      await vi.waitFor(async () => expect(await queue.getJob(`import-${id}`)).toBeUndefined(), {
        timeout: 5_000,
        interval: 50,
      });
    } finally {
      await runtime.close();
      await queue.close();
    }
  }, 40_000);
});
