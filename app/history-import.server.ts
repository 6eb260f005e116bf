/**
 * History import: a transaction file — Shopify's orders export (with its Id column) or Laurel's
 * plain CSV (customer_id,date,amount…) — checked as a whole, then posted in batches. One loop for
 * both callers: `loyalty import` (cli/db-commands.ts) and the admin's import job
 * (workers/handlers/history-import.ts). Rules: docs/import.md, docs/cli.md.
 *
 * Keys make a re-run post nothing new: an exported order is recorded and settled as the webhooks
 * settle it, under `order:<Id>:earn` (cli/import-orders.ts); a plain row under
 * `import:txn:<transaction_id>`, or a digest of what identifies it and its occurrence
 * (`import:row:<digest>:<n>`). Each batch is one transaction, its members' tiers evaluated in it.
 */
import { createHash } from 'node:crypto';
import type { Executor } from '../db/client.server';
import { computeEarn, formatMoney, zonedMidnight, type NoAwardReason } from '../loyalty/index';
import { exportedOrder, exportedOrderProblem, importOrders } from '../cli/import-orders';
import { MAX_LISTED_ERRORS } from '../cli/report-file';
import {
  InputFileError,
  readTransactions,
  type TransactionError,
  type TransactionRow,
} from '../cli/transactions';
import { ensureCustomers } from './models/customers.server';
import { postMany, type LedgerEntryInput } from './models/ledger.server';
import type { ImportedOrder } from './models/orders.server';
import type { ProgramTimeline } from './models/programs.server';
import type { Shop } from './models/shops.server';
import { evaluateMembers } from './models/tier-evaluation.server';

/** shopify: Admin → Orders → Export; transactions: customer_id,date,amount[,transaction_id]. */
export type HistoryFormat = 'shopify' | 'transactions';

/** Rows posted per transaction: big enough to be fast, small enough to keep transactions short. */
export const IMPORT_BATCH_ROWS = 5_000;

/**
 * Rows read between yields to the event loop. The reader is synchronous CPU work (a 20 MB file is
 * about 575,000 rows, seconds of it): the upload's check runs in the web process, which must keep
 * answering webhooks within Shopify's 5 s meanwhile.
 */
const YIELD_EVERY_ROWS = 10_000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface HistoryFileContext {
  /** The program currency: every amount is read in it (a Shopify order in another is an error). */
  currency: string;
  /** The shop's timezone: a plain row's calendar day starts at its midnight. */
  timezone: string;
}

export interface HistoryFileCheck {
  format: HistoryFormat;
  /** Rows that would be imported (orders with an email; plain rows). */
  rows: number;
  /** Every problem, in line order; any one means nothing may be imported. */
  errors: TransactionError[];
}

/**
 * Reads the whole file and reports every problem by line — the reader's (columns, amounts, dates,
 * duplicate ids) and an exported order without a usable Id. Posts nothing.
 */
export async function checkHistoryFile(
  path: string,
  context: HistoryFileContext,
): Promise<HistoryFileCheck> {
  const errors: TransactionError[] = [];
  let read = 0;
  const checked = await readTransactions(path, {
    currency: context.currency,
    timezone: context.timezone,
    onRow: (row) => {
      const problem = row.orderName === undefined ? undefined : exportedOrderProblem(row);
      if (problem !== undefined) errors.push({ line: row.line, message: problem });
      if (++read % YIELD_EVERY_ROWS === 0) return yieldToEventLoop();
    },
    onError: (e) => errors.push(e),
  });
  errors.sort((a, b) => a.line - b.line);
  return {
    format: checked.source === 'shopify' ? 'shopify' : 'transactions',
    rows: checked.rows,
    errors,
  };
}

/** The first `max` problems as `line N: …`, then `…and N more` when there are others. */
export function listProblems(
  errors: readonly TransactionError[],
  max: number = MAX_LISTED_ERRORS,
): string[] {
  const listed = errors.slice(0, max).map((e) => `line ${e.line}: ${e.message}`);
  if (errors.length > max) listed.push(`…and ${errors.length - max} more`);
  return listed;
}

/** A row that was read but awarded nothing, with why (docs/import.md, "Skipped rows"). */
export interface SkippedRow {
  line: number;
  reason: string;
}

export interface ImportCounts {
  /** Ledger entries posted (awards; reversals of orders cancelled or refunded before). */
  posted: number;
  /** Rows whose key was already there (a webhook or an earlier import): nothing new. */
  alreadyPresent: number;
  /** Shopify export only: orders Laurel had no row for, guest orders attached, still guests. */
  ordersRecorded: number;
  ordersAttached: number;
  guestOrders: number;
}

export function emptyCounts(): ImportCounts {
  return { posted: 0, alreadyPresent: 0, ordersRecorded: 0, ordersAttached: 0, guestOrders: 0 };
}

export function addCounts(total: ImportCounts, batch: ImportCounts): ImportCounts {
  return {
    posted: total.posted + batch.posted,
    alreadyPresent: total.alreadyPresent + batch.alreadyPresent,
    ordersRecorded: total.ordersRecorded + batch.ordersRecorded,
    ordersAttached: total.ordersAttached + batch.ordersAttached,
    guestOrders: total.guestOrders + batch.guestOrders,
  };
}

/** One committed batch, as the onBatch hook sees it (inside the batch's transaction). */
export interface ImportBatch {
  /** Rows of the file done with this batch (counting any an earlier run did: `skipRows`). */
  processedRows: number;
  counts: ImportCounts;
  skipped: SkippedRow[];
}

export interface ImportOptions extends HistoryFileContext {
  timeline: ProgramTimeline;
  /** Default IMPORT_BATCH_ROWS. */
  batchRows?: number;
  /**
   * Rows an earlier run of this same file committed (a job resumed after a crash): read again for
   * their keys' occurrence counts, not posted again.
   */
  skipRows?: number;
  /**
   * Aborted: stop before the next batch (throws the signal's reason). What was committed stays,
   * and a run with `skipRows` = the last batch's processedRows goes on from there.
   */
  signal?: AbortSignal;
  /** Called inside each batch's transaction once its rows are posted: progress commits with them. */
  onBatch?: (tx: Executor, batch: ImportBatch) => Promise<void> | void;
}

export interface ImportSummary {
  format: HistoryFormat;
  /** Rows of the file (what a check counted). */
  rows: number;
  /** What this run did (not an earlier run's skipped rows). */
  counts: ImportCounts;
  skippedCount: number;
}

interface PendingTransaction {
  line: number;
  customerId: string;
  key: string;
  occurredAt: number;
  date: string;
  transactionId: string | undefined;
  amountMinor: number;
}

interface PendingOrder {
  line: number;
  order: ImportedOrder;
  nonEarningReason: string | undefined;
}

/**
 * Idempotency key of a plain file's transaction: its transaction id when the file has one; else a
 * digest of what identifies it (customer, date, amount) plus how many identical rows came before,
 * so a re-import of the same file maps every row to the same key. (Shopify orders are keyed as the
 * webhooks key them: cli/import-orders.ts.)
 */
function importKey(row: TransactionRow, date: string, occurrences: Map<string, number>): string {
  const id = row.transactionId;
  if (id !== undefined) return `import:txn:${id}`;
  const digest = createHash('sha256')
    .update(`${row.customerId}\u0000${date}\u0000${row.amountMinor}\u0000${row.currency}`)
    .digest('hex')
    .slice(0, 32);
  const n = (occurrences.get(digest) ?? 0) + 1;
  occurrences.set(digest, n);
  return `import:row:${digest}:${n}`;
}

/** Why an exported order earned nothing now, or undefined when this import changed something. */
function orderSkipReason(
  pending: PendingOrder,
  outcome: { recorded: boolean; posted: number; noAwardReason: NoAwardReason | null },
  currency: string,
): string | undefined {
  if (outcome.posted > 0) return undefined;
  const name = pending.order.name;
  if (!outcome.recorded) {
    return `order ${name} was already recorded (by a webhook or an earlier import): nothing new`;
  }
  switch (outcome.noAwardReason) {
    case 'guest':
      return `order ${name}: no verified account has its email yet; it waits as a guest order and earns when one claims it`;
    case 'not-paid':
      return `order ${name} earns nothing: ${pending.nonEarningReason ?? 'not paid'}`;
    case 'zero-points':
      return `order ${name} earns 0 points (${formatMoney(pending.order.amountMinor, currency)} ${currency} after refunds)`;
    case 'no-program':
      return `order ${name}: no program was in force when it was paid`;
    case null:
      return undefined;
    default:
      return `order ${name} earns nothing (${outcome.noAwardReason})`;
  }
}

/**
 * Posts a file already checked by {@link checkHistoryFile} (a file with problems must not get
 * here). Reads it again, in batches of `batchRows` rows, each in its own transaction: orders
 * recorded, attached and settled as the webhooks do; plain rows posted to the member with that
 * Shopify customer id (created if new); the members' tiers evaluated. Throws InputFileError when
 * the file no longer reads as it did (it changed between the check and the import).
 */
export async function importHistoryFile(
  db: Executor,
  shop: Shop,
  path: string,
  options: ImportOptions,
): Promise<ImportSummary> {
  const { currency, timezone, timeline } = options;
  const batchRows = options.batchRows ?? IMPORT_BATCH_ROWS;
  const skipRows = options.skipRows ?? 0;
  let transactions: PendingTransaction[] = [];
  let orderBatch: PendingOrder[] = [];
  let skippedInBatch: SkippedRow[] = [];
  const occurrences = new Map<string, number>();
  let totals = emptyCounts();
  let skippedCount = 0;
  let read = 0;
  let done = skipRows;

  const commit = async (
    rows: number,
    post: (tx: Executor) => Promise<{ counts: ImportCounts; skipped: SkippedRow[] }>,
  ) => {
    options.signal?.throwIfAborted();
    const earlier = skippedInBatch;
    skippedInBatch = [];
    await db.transaction(async (tx) => {
      const { counts, skipped } = await post(tx);
      const all = [...earlier, ...skipped].sort((a, b) => a.line - b.line);
      done += rows;
      await options.onBatch?.(tx, { processedRows: done, counts, skipped: all });
      totals = addCounts(totals, counts);
      skippedCount += all.length;
    });
  };

  const flushOrders = async () => {
    if (orderBatch.length === 0) return;
    const batch = orderBatch;
    orderBatch = [];
    await commit(batch.length, async (tx) => {
      const result = await importOrders(
        tx,
        shop,
        batch.map((p) => p.order),
        timeline,
      );
      const skipped: SkippedRow[] = [];
      for (const pending of batch) {
        const outcome = result.outcomes.get(pending.order.shopifyOrderId);
        const reason = outcome && orderSkipReason(pending, outcome, currency);
        if (reason !== undefined) skipped.push({ line: pending.line, reason });
      }
      return {
        counts: {
          posted: result.posted,
          alreadyPresent: result.alreadyPresent,
          ordersRecorded: result.recorded,
          ordersAttached: result.attached,
          guestOrders: result.guests,
        },
        skipped,
      };
    });
  };

  const flushTransactions = async () => {
    if (transactions.length === 0) return;
    const batch = transactions;
    transactions = [];
    await commit(batch.length, async (tx) => {
      const ids = await ensureCustomers(
        tx,
        shop.id,
        [...new Set(batch.map((r) => r.customerId))].map((externalId) => ({ externalId })),
      );
      const zero = new Map<number, string>();
      const entries: LedgerEntryInput[] = batch.map((r, i) => {
        // Before the first version's date the earliest version applies (ProgramTimeline.at).
        const { version, program } = timeline.at(r.occurredAt)!;
        const earn = computeEarn(program, r.amountMinor);
        if (earn.points === 0) {
          zero.set(
            i,
            `${formatMoney(r.amountMinor, currency)} ${currency} earns 0 points under program version ${version}`,
          );
        }
        return {
          customerId: ids.get(r.customerId)!,
          idempotencyKey: r.key,
          source: 'order',
          points: earn.points,
          occurredAt: new Date(r.occurredAt),
          programVersion: version,
          subjectId: r.transactionId ?? null,
          inputs: {
            importedFrom: 'file',
            amountMinor: r.amountMinor,
            currency,
            date: r.date,
            ...(r.transactionId !== undefined && { transactionId: r.transactionId }),
            bands: earn.bands,
          },
        };
      });
      const counts = emptyCounts();
      const skipped: SkippedRow[] = [];
      for (const [i, result] of (await postMany(tx, shop.id, entries)).entries()) {
        const row = batch[i]!;
        if (result.created) counts.posted++;
        else {
          counts.alreadyPresent++;
          skipped.push({
            line: row.line,
            reason:
              row.transactionId !== undefined
                ? `transaction ${row.transactionId} was already imported: nothing new`
                : 'already imported (the same customer, date and amount, as often before it in this file): nothing new',
          });
          continue;
        }
        const zeroReason = zero.get(i);
        if (zeroReason !== undefined) skipped.push({ line: row.line, reason: zeroReason });
      }
      // Imported history moves tiers as webhooks do (docs/tiers.md): same rules, same transaction.
      await evaluateMembers(tx, shop, ids.values(), new Date());
      return { counts, skipped };
    });
  };

  const summary = await readTransactions(path, {
    currency,
    timezone,
    onRow: async (row) => {
      const index = read++;
      // Rows a resumed run passes over post nothing, so nothing else would yield meanwhile.
      if (index < skipRows && index % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
      if (row.orderName !== undefined) {
        if (index < skipRows) return;
        orderBatch.push({
          line: row.line,
          order: exportedOrder(row, timeline),
          nonEarningReason: row.nonEarningReason,
        });
        if (orderBatch.length >= batchRows) await flushOrders();
        return;
      }
      const date = row.dateKind === 'day' ? row.day! : new Date(row.epochMs!).toISOString();
      // Computed for every row, resumed or not: a digest key counts the identical rows before it.
      const key = importKey(row, date, occurrences);
      if (index < skipRows) return;
      transactions.push({
        line: row.line,
        customerId: row.customerId,
        key,
        occurredAt: row.dateKind === 'day' ? zonedMidnight(row.day!, timezone) : row.epochMs!,
        date,
        transactionId: row.transactionId,
        amountMinor: row.amountMinor,
      });
      if (transactions.length >= batchRows) await flushTransactions();
    },
    onSkip: (line, reason) => {
      // Reported with the batch of the next row (or the last batch): a resumed run's earlier rows
      // were reported by the run that posted them.
      if (read >= skipRows) skippedInBatch.push({ line, reason });
    },
    onError: (e) => {
      // The file changed between the two passes: stop rather than import half of it silently.
      throw new InputFileError(`line ${e.line}: ${e.message} (the file changed during the import)`);
    },
  });
  await flushOrders();
  await flushTransactions();
  if (skippedInBatch.length > 0) {
    // Only rows without an order or transaction after them (guest orders at the end of the file).
    await commit(0, async () => ({ counts: emptyCounts(), skipped: [] }));
  }
  return {
    format: summary.source === 'shopify' ? 'shopify' : 'transactions',
    rows: summary.rows,
    counts: totals,
    skippedCount,
  };
}
