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
  ReportBuilder,
  type CompiledProgram,
  type Report,
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
  report?: Report;
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
 * touched, so the per-row work is an index and an add.
 */
class MonthlyPoints {
  private capacity = 1024;
  private readonly slotOfMonth = new Map<number, number>();
  private readonly monthOfSlot: number[] = [];
  private points: Float64Array[] = [];
  private seen: Uint8Array[] = [];
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
        this.seen.push(new Uint8Array(this.capacity));
      } else {
        slot = known;
      }
      this.lastMonth = monthNumber;
      this.lastSlot = slot;
    }
    this.points[slot]![customerIndex]! += points;
    this.seen[slot]![customerIndex] = 1;
  }

  private grow(): void {
    this.capacity *= 2;
    this.points = this.points.map((old) => {
      const next = new Float64Array(this.capacity);
      next.set(old);
      return next;
    });
    this.seen = this.seen.map((old) => {
      const next = new Uint8Array(this.capacity);
      next.set(old);
      return next;
    });
  }

  toReport(): Report {
    const builder = new ReportBuilder();
    this.monthOfSlot.forEach((month, slot) => {
      const key = monthKeyFromNumber(month);
      const points = this.points[slot]!;
      const seen = this.seen[slot]!;
      for (let c = 0; c < this.customerIds.length; c++) {
        if (seen[c] === 1) builder.add(this.customerIds[c]!, key, points[c]!);
      }
    });
    return builder.build();
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
    report: errors.count === 0 ? monthly.toReport() : undefined,
    summary,
    errors: errors.kept,
    errorCount: errors.count,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

/** Compact JSON in the documented key order, one trailing newline. */
export function formatReportJson(report: Report): string {
  return `${JSON.stringify({
    months: report.months,
    customers: report.customers.map((c) => ({
      customerId: c.customerId,
      monthly: c.monthly,
      total: c.total,
    })),
    totals: { monthly: report.totals.monthly, total: report.totals.total },
  })}\n`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value.trim() !== value
    ? `"${value.replaceAll('"', '""')}"`
    : value;
}

/** `customer_id,<months…>,total`, one row per customer, then a `TOTAL` row. */
export function formatReportCsv(report: Report): string {
  const lines = [['customer_id', ...report.months, 'total'].map(csvField).join(',')];
  for (const c of report.customers) {
    lines.push(
      [
        csvField(c.customerId),
        ...report.months.map((m) => String(c.monthly[m])),
        String(c.total),
      ].join(','),
    );
  }
  lines.push(
    [
      'TOTAL',
      ...report.months.map((m) => String(report.totals.monthly[m])),
      String(report.totals.total),
    ].join(','),
  );
  return `${lines.join('\n')}\n`;
}

/** A fixed-width table for people: customer column left-aligned, numbers right-aligned. */
export function formatReportTable(report: Report): string {
  const header = ['Customer', ...report.months, 'Total'];
  const body = report.customers.map((c) => [
    c.customerId,
    ...report.months.map((m) => String(c.monthly[m])),
    String(c.total),
  ]);
  const footer = [
    'TOTAL',
    ...report.months.map((m) => String(report.totals.monthly[m])),
    String(report.totals.total),
  ];
  const rows = [header, ...body, footer];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const render = (r: string[]) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return `${[render(header), rule, ...body.map(render), rule, render(footer)].join('\n')}\n`;
}

export function formatReport(report: Report, format: ReportFormat): string {
  if (format === 'csv') return formatReportCsv(report);
  if (format === 'table') return formatReportTable(report);
  return formatReportJson(report);
}

// ---------------------------------------------------------------------------------------------
// Command

export interface ReportCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
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
  io.stdout(formatReport(result.report, format));
  return 0;
}
