/**
 * History imports as stored (history_imports): the uploaded file until it has been imported, its
 * progress (committed with each batch, so it survives a restart and shows to every staff member),
 * its counts and skipped rows. One import at a time per shop: a partial unique index over the
 * queued and running ones. The import itself is app/history-import.server.ts, run by
 * workers/handlers/history-import.ts. docs/import.md.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { historyImports } from '../../db/schema';
import type { StaffMember } from '../admin-request.server';
import { AppError, ErrorCode, sqlStateOf } from '../errors';
import {
  emptyCounts,
  type HistoryFormat,
  type ImportCounts,
  type SkippedRow,
} from '../history-import.server';

export type HistoryImportStatus = 'queued' | 'running' | 'done' | 'failed';

/** Skipped rows kept per import (skippedCount counts them all). */
export const MAX_KEPT_SKIPPED = 1_000;

/** An import as the admin lists it: everything but the file. */
export interface HistoryImportSummary {
  id: number;
  fileName: string;
  format: HistoryFormat;
  status: HistoryImportStatus;
  bytes: number;
  totalRows: number;
  processedRows: number;
  counts: ImportCounts;
  /** The first skipped rows (as many as asked for, at most MAX_KEPT_SKIPPED). */
  skipped: SkippedRow[];
  skippedCount: number;
  error: string | null;
  startedBy: StaffMember;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const summaryColumns = (skippedLimit: number) => ({
  id: historyImports.id,
  fileName: historyImports.fileName,
  format: historyImports.format,
  status: historyImports.status,
  bytes: historyImports.bytes,
  totalRows: historyImports.totalRows,
  processedRows: historyImports.processedRows,
  counts: historyImports.counts,
  // Sliced in the database: a list of imports never carries their thousands of skipped rows.
  skipped: sql<
    SkippedRow[]
  >`jsonb_path_query_array(${historyImports.skipped}, ${`$[0 to ${Math.max(0, skippedLimit - 1)}]`}::jsonpath)`,
  skippedCount: historyImports.skippedCount,
  error: historyImports.error,
  startedBy: historyImports.startedBy,
  createdAt: historyImports.createdAt,
  startedAt: historyImports.startedAt,
  finishedAt: historyImports.finishedAt,
});

type SummaryRow = Omit<
  HistoryImportSummary,
  'format' | 'status' | 'counts' | 'startedBy' | 'skipped'
> & {
  format: string;
  status: string;
  counts: unknown;
  startedBy: unknown;
  skipped: SkippedRow[] | null;
};

function summaryOf(row: SummaryRow, skippedLimit: number): HistoryImportSummary {
  return {
    ...row,
    format: row.format as HistoryFormat,
    status: row.status as HistoryImportStatus,
    counts: { ...emptyCounts(), ...(row.counts as Partial<ImportCounts>) },
    startedBy: row.startedBy as StaffMember,
    skipped: skippedLimit === 0 ? [] : (row.skipped ?? []),
  };
}

export interface NewHistoryImport {
  fileName: string;
  format: HistoryFormat;
  /** The file as uploaded (checked: UTF-8, no NUL). */
  content: string;
  bytes: number;
  totalRows: number;
  startedBy: StaffMember;
}

/**
 * Saves an upload as a queued import. Refuses (CONFLICT) while another import of the shop is
 * queued or running — checked by the unique index, so two uploads racing cannot both pass.
 */
export async function createHistoryImport(
  db: Executor,
  shopId: number,
  upload: NewHistoryImport,
): Promise<{ id: number }> {
  try {
    const [row] = await db
      .insert(historyImports)
      .values({ shopId, ...upload, status: 'queued' })
      .returning({ id: historyImports.id });
    return row!;
  } catch (error) {
    if (sqlStateOf(error) !== '23505') throw error;
    const active = await activeHistoryImport(db, shopId);
    throw new AppError(
      ErrorCode.CONFLICT,
      active
        ? `An import is already ${active.status === 'queued' ? 'waiting to run' : 'running'} (${active.fileName}): upload again once it has finished.`
        : 'Another import was started at the same moment: upload again once it has finished.',
      { shopId, activeImportId: active?.id },
    );
  }
}

/** The shop's queued or running import, if any (at most one: the unique index). */
export async function activeHistoryImport(
  db: Executor,
  shopId: number,
  skippedLimit = 0,
): Promise<HistoryImportSummary | null> {
  const [row] = await db
    .select(summaryColumns(skippedLimit))
    .from(historyImports)
    .where(
      and(eq(historyImports.shopId, shopId), inArray(historyImports.status, ['queued', 'running'])),
    )
    .limit(1);
  return row ? summaryOf(row, skippedLimit) : null;
}

/** The shop's imports, newest first, each with its first `skippedLimit` skipped rows. */
export async function listHistoryImports(
  db: Executor,
  shopId: number,
  options: { limit: number; skippedLimit: number },
): Promise<HistoryImportSummary[]> {
  const rows = await db
    .select(summaryColumns(options.skippedLimit))
    .from(historyImports)
    .where(eq(historyImports.shopId, shopId))
    .orderBy(desc(historyImports.id))
    .limit(options.limit);
  return rows.map((r) => summaryOf(r, options.skippedLimit));
}

/** One import of the shop with every skipped row kept, or null (none, or another shop's). */
export async function getHistoryImport(
  db: Executor,
  shopId: number,
  id: number,
): Promise<HistoryImportSummary | null> {
  const [row] = await db
    .select(summaryColumns(MAX_KEPT_SKIPPED))
    .from(historyImports)
    .where(and(eq(historyImports.shopId, shopId), eq(historyImports.id, id)));
  return row ? summaryOf(row, MAX_KEPT_SKIPPED) : null;
}

/** The shop of an import (the job's payload is the import id alone), or null when it is gone. */
export async function historyImportShopId(db: Executor, id: number): Promise<number | null> {
  const [row] = await db
    .select({ shopId: historyImports.shopId })
    .from(historyImports)
    .where(eq(historyImports.id, id));
  return row?.shopId ?? null;
}

/** What a run needs: the file and how far an earlier run got. */
export interface HistoryImportRun {
  id: number;
  fileName: string;
  format: HistoryFormat;
  content: string | null;
  totalRows: number;
  processedRows: number;
  counts: ImportCounts;
  skippedCount: number;
}

/**
 * Marks the import running (first start time kept, a retry's error cleared) and returns what the
 * run needs; null when it has finished already (done or failed: nothing to run).
 */
export async function startHistoryImport(
  db: Executor,
  shopId: number,
  id: number,
): Promise<HistoryImportRun | null> {
  const [row] = await db
    .update(historyImports)
    .set({
      status: 'running',
      startedAt: sql`coalesce(${historyImports.startedAt}, now())`,
      error: null,
    })
    .where(
      and(
        eq(historyImports.shopId, shopId),
        eq(historyImports.id, id),
        inArray(historyImports.status, ['queued', 'running']),
      ),
    )
    .returning({
      id: historyImports.id,
      fileName: historyImports.fileName,
      format: historyImports.format,
      content: historyImports.content,
      totalRows: historyImports.totalRows,
      processedRows: historyImports.processedRows,
      counts: historyImports.counts,
      skippedCount: historyImports.skippedCount,
    });
  if (!row) return null;
  return {
    ...row,
    format: row.format as HistoryFormat,
    counts: { ...emptyCounts(), ...(row.counts as Partial<ImportCounts>) },
  };
}

/**
 * A batch's progress, in the batch's own transaction: rows done, the running counts, and its
 * skipped rows appended while fewer than MAX_KEPT_SKIPPED are kept.
 */
export async function recordHistoryImportBatch(
  tx: Executor,
  shopId: number,
  id: number,
  progress: {
    processedRows: number;
    counts: ImportCounts;
    skipped: readonly SkippedRow[];
    /** Skipped rows before this batch (the row's skippedCount). */
    skippedBefore: number;
  },
): Promise<void> {
  const room = Math.max(0, MAX_KEPT_SKIPPED - progress.skippedBefore);
  const kept = progress.skipped.slice(0, room);
  await tx
    .update(historyImports)
    .set({
      processedRows: progress.processedRows,
      counts: progress.counts,
      skippedCount: sql`${historyImports.skippedCount} + ${progress.skipped.length}`,
      ...(kept.length > 0 && {
        skipped: sql`jsonb_path_query_array(${historyImports.skipped} || ${JSON.stringify(kept)}::jsonb, ${`$[0 to ${MAX_KEPT_SKIPPED - 1}]`}::jsonpath)`,
      }),
    })
    .where(and(eq(historyImports.shopId, shopId), eq(historyImports.id, id)));
}

/**
 * Ends an import: done, or failed with why. The file is dropped either way (it may hold customers'
 * emails; a failed import is started again by uploading the file again, which posts nothing twice).
 */
export async function finishHistoryImport(
  db: Executor,
  shopId: number,
  id: number,
  outcome: { status: 'done' } | { status: 'failed'; error: string },
): Promise<void> {
  await db
    .update(historyImports)
    .set({
      status: outcome.status,
      error: outcome.status === 'failed' ? outcome.error : null,
      content: null,
      finishedAt: sql`now()`,
    })
    .where(
      and(
        eq(historyImports.shopId, shopId),
        eq(historyImports.id, id),
        inArray(historyImports.status, ['queued', 'running']),
      ),
    );
}

/** A run that failed for a reason that may pass: queued again, with why, until its retry. */
export async function requeueHistoryImport(
  db: Executor,
  shopId: number,
  id: number,
  error: string,
): Promise<void> {
  await db
    .update(historyImports)
    .set({ status: 'queued', error })
    .where(
      and(
        eq(historyImports.shopId, shopId),
        eq(historyImports.id, id),
        inArray(historyImports.status, ['queued', 'running']),
      ),
    );
}

/** Every shop's queued or running imports (the sweep checks each has its job). */
export async function unfinishedHistoryImports(
  db: Executor,
): Promise<{ id: number; shopId: number }[]> {
  return db
    .select({ id: historyImports.id, shopId: historyImports.shopId })
    .from(historyImports)
    .where(inArray(historyImports.status, ['queued', 'running']))
    .orderBy(historyImports.id);
}
