/**
 * `loyalty report --input FILE`: the per-customer per-month points report straight from a
 * transaction file, no database. Streams the file once (twice only when reporting duplicate ids).
 */
import { readFileSync } from 'node:fs';
import {
  earnPoints,
  isValidTimeZone,
  monthKeyFromNumber,
  parseProgram,
  parseProgramJson,
  ProgramError,
  referenceProgram,
  codeUnitOrder,
  reportColumns,
  type CompiledProgram,
  type Report,
  type ReportColumns,
} from '../loyalty/index';
import { parseFlags, UsageError } from './args';
import {
  InputFileError,
  readTransactions,
  type ReadSummary,
  type TransactionError,
} from './transactions';

export const REPORT_USAGE = `Usage: loyalty report --input FILE [--format json|csv|table] [--timezone IANA] [--program FILE.json]
       loyalty report --shop DOMAIN [...]   (report from the database; see docs/cli.md)

Points earned per customer per month from a transaction file.

  --input FILE       CSV with columns customer_id, date, amount (optional transaction_id),
                     or a Shopify orders export (Admin → Orders → Export)
  --format FORMAT    json (default), csv or table
  --timezone IANA    zone whose calendar months timestamps fall into (default UTC);
                     plain YYYY-MM-DD dates are never shifted
  --program FILE     program definition JSON (default: the reference program —
                     1 point per whole dollar from $50 to $100, 2 per whole dollar above $100)
  -h, --help         show this help

Exit codes: 0 report written, 2 bad usage or bad input (nothing on stdout), 1 unexpected failure.
`;

export type ReportFormat = 'json' | 'csv' | 'table';
const FORMATS: readonly ReportFormat[] = ['json', 'csv', 'table'];

/** How many input errors are listed before "… and N more". */
export const MAX_LISTED_ERRORS = 20;

export interface FileReportResult {
  /** Present only when the file had no errors. */
  report?: ReportColumns;
  summary: ReadSummary;
  /** The first MAX_LISTED_ERRORS errors by line. */
  errors: TransactionError[];
  errorCount: number;
}

/** Keeps the `limit` lowest-line errors (errors mostly arrive in line order; duplicates come last). */
class ErrorList {
  readonly kept: TransactionError[] = [];
  count = 0;
  constructor(private readonly limit: number) {}
  add(error: TransactionError): void {
    this.count++;
    const kept = this.kept;
    if (kept.length === this.limit && kept[kept.length - 1]!.line <= error.line) return;
    let at = kept.length;
    while (at > 0 && kept[at - 1]!.line > error.line) at--;
    kept.splice(at, 0, error);
    if (kept.length > this.limit) kept.pop();
  }
}

/**
 * Points per (customer, month) keyed by the reader's dense indexes: one Float64Array per month
 * touched, so the per-row work is an index and an add. Every customer delivered has a row, so
 * every one is listed; the months are the contiguous range of those touched.
 */
class MonthlyPoints {
  private capacity = 1024;
  private readonly slotOfMonth = new Map<number, number>();
  private readonly monthOfSlot: number[] = [];
  private points: Float64Array[] = [];
  private readonly customerIds: string[] = [];
  private lastMonth = NaN;
  private lastSlot = -1;

  add(customerIndex: number, customerId: string, monthNumber: number, points: number): void {
    if (customerIndex >= this.customerIds.length) {
      this.customerIds.push(customerId);
      if (customerIndex >= this.capacity) this.grow();
    }
    let slot = this.lastSlot;
    if (monthNumber !== this.lastMonth) {
      const known = this.slotOfMonth.get(monthNumber);
      if (known === undefined) {
        slot = this.monthOfSlot.length;
        this.slotOfMonth.set(monthNumber, slot);
        this.monthOfSlot.push(monthNumber);
        this.points.push(new Float64Array(this.capacity));
      } else {
        slot = known;
      }
      this.lastMonth = monthNumber;
      this.lastSlot = slot;
    }
    this.points[slot]![customerIndex]! += points;
  }

  private grow(): void {
    this.capacity *= 2;
    this.points = this.points.map((old) => {
      const next = new Float64Array(this.capacity);
      next.set(old);
      return next;
    });
  }

  /**
   * The report as columns, in the order and with the checks of `ReportBuilder`: customers sorted
   * by UTF-16 code units, each (customer, month) and the grand total a safe integer.
   */
  toColumns(): ReportColumns {
    const ids = this.customerIds;
    const count = ids.length;
    const empty = { months: [], customerIds: [], points: [], monthTotals: [], total: 0 };
    if (this.monthOfSlot.length === 0) return { ...empty, customerTotals: new Float64Array(0) };
    const order = codeUnitOrder(ids);
    const from = Math.min(...this.monthOfSlot);
    const to = Math.max(...this.monthOfSlot);
    const months: string[] = [];
    const points: Float64Array[] = [];
    const monthTotals: number[] = [];
    const customerTotals = new Float64Array(count);
    let total = 0;
    for (let month = from; month <= to; month++) {
      const key = monthKeyFromNumber(month);
      const column = new Float64Array(count);
      const slot = this.slotOfMonth.get(month);
      let monthTotal = 0;
      if (slot !== undefined) {
        const byIndex = this.points[slot]!;
        for (let i = 0; i < count; i++) {
          const value = byIndex[order[i]!]!;
          if (!Number.isSafeInteger(value)) {
            throw new RangeError(
              `points must be a whole number (got ${value} for ${ids[order[i]!]} in ${key})`,
            );
          }
          column[i] = value;
          customerTotals[i]! += value;
          monthTotal += value;
        }
      }
      months.push(key);
      points.push(column);
      monthTotals.push(monthTotal);
      total += monthTotal;
    }
    if (!Number.isSafeInteger(total))
      throw new RangeError('report total exceeds the safe integer range');
    return {
      months,
      customerIds: Array.from(order, (i) => ids[i]!),
      points,
      customerTotals,
      monthTotals,
      total,
    };
  }
}

/** Reads the file and builds the report; errors are collected, never thrown (except unreadable files). */
export async function reportFromFile(
  input: string,
  program: CompiledProgram,
  timezone: string,
): Promise<FileReportResult> {
  const errors = new ErrorList(MAX_LISTED_ERRORS);
  const monthly = new MonthlyPoints();
  const summary = await readTransactions(input, {
    currency: program.currency,
    timezone,
    onRow(row) {
      // Once the file is known to be bad, no report will be printed: skip the arithmetic.
      if (errors.count === 0) {
        monthly.add(
          row.customerIndex,
          row.customerId,
          row.monthNumber,
          earnPoints(program, row.amountMinor),
        );
      }
    },
    onError(error) {
      errors.add(error);
    },
  });
  return {
    report: errors.count === 0 ? monthly.toColumns() : undefined,
    summary,
    errors: errors.kept,
    errorCount: errors.count,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

/** Output is produced in pieces of about this many UTF-16 code units. */
const CHUNK_LENGTH = 1 << 16;

/**
 * Compact JSON in the documented key order, one trailing newline: byte for byte what
 * `JSON.stringify` gives for the `Report` (strings through JSON.stringify, numbers as integers).
 */
export function* reportJsonChunks(report: ReportColumns): Generator<string> {
  const { months, customerIds, points, customerTotals } = report;
  const keys = months.map((m, i) => `${i === 0 ? '' : ','}${JSON.stringify(m)}:`);
  let chunk = `{"months":${JSON.stringify(months)},"customers":[`;
  for (let i = 0; i < customerIds.length; i++) {
    let row = `${i === 0 ? '' : ','}{"customerId":${JSON.stringify(customerIds[i])},"monthly":{`;
    for (let m = 0; m < keys.length; m++) row += `${keys[m]}${points[m]![i]}`;
    chunk += `${row}},"total":${customerTotals[i]}}`;
    if (chunk.length >= CHUNK_LENGTH) {
      yield chunk;
      chunk = '';
    }
  }
  let totals = '';
  for (let m = 0; m < keys.length; m++) totals += `${keys[m]}${report.monthTotals[m]}`;
  yield `${chunk}],"totals":{"monthly":{${totals}},"total":${report.total}}}\n`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value.trim() !== value
    ? `"${value.replaceAll('"', '""')}"`
    : value;
}

/** `customer_id,<months…>,total`, one row per customer, then a `TOTAL` row. */
export function* reportCsvChunks(report: ReportColumns): Generator<string> {
  const { months, customerIds, points, customerTotals } = report;
  let chunk = `${['customer_id', ...months, 'total'].map(csvField).join(',')}\n`;
  for (let i = 0; i < customerIds.length; i++) {
    let row = csvField(customerIds[i]!);
    for (let m = 0; m < months.length; m++) row += `,${points[m]![i]}`;
    chunk += `${row},${customerTotals[i]}\n`;
    if (chunk.length >= CHUNK_LENGTH) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${['TOTAL', ...report.monthTotals, report.total].join(',')}\n`;
}

/** Characters of the widest integer in `values` (widths of integers grow with |n|, plus a sign). */
function integerWidth(values: ArrayLike<number>): number {
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Math.max(String(min).length, String(max).length);
}

/** A fixed-width table for people: customer column left-aligned, numbers right-aligned. */
export function* reportTableChunks(report: ReportColumns): Generator<string> {
  const { months, customerIds, points, customerTotals } = report;
  const header = ['Customer', ...months, 'Total'];
  const footer = ['TOTAL', ...report.monthTotals.map(String), String(report.total)];
  let idWidth = Math.max(header[0]!.length, footer[0]!.length);
  for (const id of customerIds) if (id.length > idWidth) idWidth = id.length;
  const widths = [idWidth];
  for (let m = 0; m < months.length; m++) {
    widths.push(Math.max(header[m + 1]!.length, footer[m + 1]!.length, integerWidth(points[m]!)));
  }
  widths.push(Math.max(header.at(-1)!.length, footer.at(-1)!.length, integerWidth(customerTotals)));
  const render = (r: string[]) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const totalWidth = widths.at(-1)!;
  let chunk = `${render(header)}\n${rule}\n`;
  for (let i = 0; i < customerIds.length; i++) {
    let row = customerIds[i]!.padEnd(idWidth);
    for (let m = 0; m < months.length; m++) {
      row += `  ${String(points[m]![i]).padStart(widths[m + 1]!)}`;
    }
    // trimEnd as render() does: the last cell is a number, so only an all-space row would change.
    chunk += `${`${row}  ${String(customerTotals[i]).padStart(totalWidth)}`.trimEnd()}\n`;
    if (chunk.length >= CHUNK_LENGTH) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${rule}\n${render(footer)}\n`;
}

export function reportChunks(report: ReportColumns, format: ReportFormat): Generator<string> {
  if (format === 'csv') return reportCsvChunks(report);
  if (format === 'table') return reportTableChunks(report);
  return reportJsonChunks(report);
}

/** The whole output as one string (tests, callers that need it whole). */
export function formatReport(report: Report, format: ReportFormat): string {
  return [...reportChunks(reportColumns(report), format)].join('');
}

export const formatReportJson = (report: Report): string => formatReport(report, 'json');
export const formatReportCsv = (report: Report): string => formatReport(report, 'csv');
export const formatReportTable = (report: Report): string => formatReport(report, 'table');

/**
 * Writes a finished report piece by piece: through `io.stdoutChunks` when the caller streams
 * (the CLI: stdout is never held whole), else one `io.stdout` call per piece.
 */
export async function writeReport(
  io: ReportCommandIo,
  report: ReportColumns,
  format: ReportFormat,
): Promise<void> {
  const chunks = reportChunks(report, format);
  if (io.stdoutChunks !== undefined) await io.stdoutChunks(chunks);
  else for (const chunk of chunks) io.stdout(chunk);
}

// ---------------------------------------------------------------------------------------------
// Command

export interface ReportCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * Writes output that is complete and checked, chunk by chunk, without holding it whole (a
   * report at 200,000 customers is ~18 MB). Only for output whose generator cannot fail.
   */
  stdoutChunks?: (chunks: Iterable<string>) => Promise<void>;
}

/** Loads `--program FILE` (or the reference program); a bad file is a UsageError naming each problem. */
export function loadProgram(path: string | undefined): CompiledProgram {
  if (path === undefined) return parseProgram(referenceProgram);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (error as Error).message;
    throw new UsageError(`cannot read program file '${path}': ${why}`);
  }
  try {
    return parseProgramJson(text);
  } catch (error) {
    if (error instanceof ProgramError) {
      throw new UsageError(
        `program file '${path}' is not valid:\n${error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
      );
    }
    throw error;
  }
}

/** Runs `loyalty report --input …` (argv = the words after `report`). Returns the exit code. */
export async function runFileReport(argv: string[], io: ReportCommandIo): Promise<number> {
  let input: string;
  let format: ReportFormat;
  let timezone: string;
  let program: CompiledProgram;
  try {
    const flags = parseFlags(argv, {
      input: 'string',
      format: 'string',
      timezone: 'string',
      program: 'string',
      help: 'boolean',
    });
    if (flags.help) {
      io.stdout(REPORT_USAGE);
      return 0;
    }
    if (flags.input === undefined) throw new UsageError("missing '--input FILE'");
    input = flags.input;
    format = (flags.format ?? 'json') as ReportFormat;
    if (!FORMATS.includes(format)) {
      throw new UsageError(`unknown format '${flags.format}'; use json, csv or table`);
    }
    timezone = flags.timezone ?? 'UTC';
    if (!isValidTimeZone(timezone)) {
      throw new UsageError(
        `unknown timezone '${timezone}'; use an IANA name such as America/New_York`,
      );
    }
    program = loadProgram(flags.program);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`loyalty report: ${error.message}\n\n${REPORT_USAGE}`);
    return 2;
  }

  let result: FileReportResult;
  try {
    result = await reportFromFile(input, program, timezone);
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    io.stderr(`loyalty report: ${error.message}\n`);
    return 2;
  }
  if (result.report === undefined) {
    const n = result.errorCount;
    const lines = result.errors.map((e) => `  line ${e.line}: ${e.message}`);
    if (n > result.errors.length) lines.push(`  … and ${n - result.errors.length} more`);
    io.stderr(
      `loyalty report: ${input} has ${n} error${n === 1 ? '' : 's'}; no report written.\n${lines.join('\n')}\n`,
    );
    return 2;
  }
  await writeReport(io, result.report, format);
  return 0;
}
