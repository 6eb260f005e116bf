/**
 * The admin's history import page (/app/import, app/routes/app.import.tsx): what the loader shows
 * (the import in progress, the past ones with their skipped rows) and what an upload goes through
 * before anything is saved — size, UTF-8 text, the whole file checked as `loyalty import` checks
 * it — then the queued import and its job. docs/import.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor } from '../db/client.server';
import { formatInstant, formatInteger } from './admin-format';
import type { StaffMember } from './admin-request.server';
import { ErrorCode, isAppError } from './errors';
import {
  checkHistoryFile,
  listProblems,
  type HistoryFormat,
  type ImportCounts,
  type SkippedRow,
} from './history-import.server';
import {
  activeHistoryImport,
  createHistoryImport,
  getHistoryImport,
  listHistoryImports,
  type HistoryImportStatus,
  type HistoryImportSummary,
} from './models/history-imports.server';
import { listPrograms, ProgramTimeline } from './models/programs.server';
import type { Shop } from './models/shops.server';

/** The largest file an upload takes (the server's body limit for the page is a little above). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;
/** Past imports the page lists, and skipped rows shown under each before "show all". */
export const LISTED_IMPORTS = 10;
export const LISTED_SKIPPED = 20;

export const FORMAT_LABELS: Record<HistoryFormat, string> = {
  shopify: 'Shopify orders export',
  transactions: 'Transactions CSV',
};

/** An import as the page shows it: everything already in words and in the shop's time. */
export interface ImportView {
  id: number;
  fileName: string;
  kind: HistoryFormat;
  format: string;
  status: HistoryImportStatus;
  size: string;
  totalRows: number;
  processedRows: number;
  /** 0–100, for the progress bar. */
  percent: number;
  progress: string;
  counts: ImportCounts;
  skipped: SkippedRow[];
  skippedCount: number;
  error: string | null;
  startedBy: string;
  created: string;
  finished: string | null;
}

function sizeText(bytes: number, locale: string): string {
  if (bytes < 1024) return `${formatInteger(bytes, locale)} bytes`;
  if (bytes < 1024 * 1024)
    return `${(bytes / 1024).toLocaleString(locale, { maximumFractionDigits: 1 })} KB`;
  return `${(bytes / 1024 / 1024).toLocaleString(locale, { maximumFractionDigits: 1 })} MB`;
}

export function importView(summary: HistoryImportSummary, shop: Shop, locale: string): ImportView {
  const percent =
    summary.status === 'done'
      ? 100
      : summary.totalRows === 0
        ? 0
        : Math.min(100, Math.floor((summary.processedRows / summary.totalRows) * 100));
  return {
    id: summary.id,
    fileName: summary.fileName,
    kind: summary.format,
    format: FORMAT_LABELS[summary.format],
    status: summary.status,
    size: sizeText(summary.bytes, locale),
    totalRows: summary.totalRows,
    processedRows: summary.processedRows,
    percent,
    progress: `${formatInteger(summary.processedRows, locale)} of ${formatInteger(summary.totalRows, locale)} rows`,
    counts: summary.counts,
    skipped: summary.skipped,
    skippedCount: summary.skippedCount,
    error: summary.error,
    startedBy: `Staff member ${summary.startedBy.userId}`,
    created: formatInstant(summary.createdAt, shop.timezone, locale),
    finished:
      summary.finishedAt === null ? null : formatInstant(summary.finishedAt, shop.timezone, locale),
  };
}

export interface ImportPage {
  /** False: the shop has no earning program yet, and nothing can be imported. */
  hasProgram: boolean;
  maxBytes: number;
  active: ImportView | null;
  imports: ImportView[];
  /** `?skipped=<id>`: that import with every skipped row kept. */
  detail: ImportView | null;
}

export async function importPage(
  db: Executor,
  shop: Shop,
  locale: string,
  skippedOf: number | null,
): Promise<ImportPage> {
  const [programs, active, imports, detail] = await Promise.all([
    listPrograms(db, shop.id),
    activeHistoryImport(db, shop.id, LISTED_SKIPPED),
    listHistoryImports(db, shop.id, { limit: LISTED_IMPORTS, skippedLimit: LISTED_SKIPPED }),
    skippedOf === null ? null : getHistoryImport(db, shop.id, skippedOf),
  ]);
  return {
    hasProgram: programs.length > 0,
    maxBytes: MAX_IMPORT_BYTES,
    active: active && importView(active, shop, locale),
    imports: imports.filter((i) => i.id !== active?.id).map((i) => importView(i, shop, locale)),
    detail: detail && importView(detail, shop, locale),
  };
}

export type UploadOutcome =
  | { ok: true; importId: number; rows: number; format: string; enqueued: boolean }
  | { ok: false; status: 400 | 409 | 413; title: string; problems: string[] };

const refused = (
  status: 400 | 409 | 413,
  title: string,
  problems: string[] = [],
): UploadOutcome => ({ ok: false, status, title, problems });

/** "C:\\fakepath\\orders.csv" → "orders.csv", bounded. */
function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop()?.trim() || 'upload.csv';
  return base.length > 200 ? `${base.slice(0, 197)}…` : base;
}

/**
 * Checks an upload and, when the whole file passes, saves it as a queued import and asks for its
 * job (`enqueue`, which never throws: a lost enqueue is the sweep's). A refusal saves nothing.
 */
export async function uploadHistoryFile(
  db: Executor,
  shop: Shop,
  staff: StaffMember,
  file: FormDataEntryValue | null,
  enqueue: (importId: number) => Promise<boolean>,
): Promise<UploadOutcome> {
  if (file === null || typeof file === 'string') {
    return refused(400, 'Choose a CSV file to upload.');
  }
  const fileName = cleanFileName(file.name);
  if (file.size > MAX_IMPORT_BYTES) {
    return refused(
      413,
      `${fileName} is ${sizeText(file.size, 'en-US')}: the limit is 20 MB. Split it into smaller files (each part imports on its own; rows already imported are skipped).`,
    );
  }
  if (file.size === 0) return refused(400, `${fileName} is empty.`);
  const bytes = Buffer.from(await file.arrayBuffer());
  let content: string;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return refused(
      400,
      `${fileName} is not UTF-8 text: save it as "CSV UTF-8" (Shopify's export already is) and upload it again.`,
    );
  }
  if (content.includes('\u0000')) {
    return refused(400, `${fileName} contains NUL bytes: it is not a CSV text file.`);
  }
  const versions = await listPrograms(db, shop.id);
  if (versions.length === 0) {
    return refused(400, 'The shop has no earning program yet: publish one, then import.');
  }
  const active = await activeHistoryImport(db, shop.id);
  if (active) {
    return refused(
      409,
      `An import is already ${active.status === 'queued' ? 'waiting to run' : 'running'} (${active.fileName}): upload again once it has finished.`,
    );
  }

  const timeline = new ProgramTimeline(versions);
  const dir = await mkdtemp(join(tmpdir(), 'laurel-upload-'));
  let check;
  try {
    const path = join(dir, 'upload.csv');
    await writeFile(path, bytes);
    check = await checkHistoryFile(path, { currency: timeline.currency, timezone: shop.timezone });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (check.errors.length > 0) {
    return refused(
      400,
      `${fileName} has ${formatInteger(check.errors.length, 'en-US')} problem${check.errors.length === 1 ? '' : 's'}; nothing was imported. Fix ${check.errors.length === 1 ? 'it' : 'them'} and upload the file again:`,
      listProblems(check.errors),
    );
  }
  if (check.rows === 0) {
    return refused(
      400,
      `${fileName} has no rows to import${check.format === 'shopify' ? ' (orders without an email are not imported)' : ''}.`,
    );
  }
  try {
    const { id } = await createHistoryImport(db, shop.id, {
      fileName,
      format: check.format,
      content,
      bytes: bytes.length,
      totalRows: check.rows,
      startedBy: staff,
    });
    const enqueued = await enqueue(id);
    return {
      ok: true,
      importId: id,
      rows: check.rows,
      format: FORMAT_LABELS[check.format],
      enqueued,
    };
  } catch (error) {
    if (isAppError(error) && error.code === ErrorCode.CONFLICT) return refused(409, error.message);
    throw error;
  }
}

/** `?skipped=<id>`: a positive id, or null when absent or unreadable (the page just omits it). */
export function skippedParam(value: string | null): number | null {
  if (value === null || !/^[1-9][0-9]{0,9}$/.test(value)) return null;
  const id = Number(value);
  return id <= 2_147_483_647 ? id : null;
}
