/**
 * Reads a transaction file — Laurel's plain CSV or Shopify's own orders export — as a stream of
 * validated purchase rows. Both `loyalty report --input` and the database import use this one
 * reader, so they always agree on what a file means. Rules: docs/cli.md.
 *
 * Usage:
 *   const summary = await readTransactions('orders.csv', {
 *     currency: program.currency,
 *     timezone: 'America/New_York',
 *     onRow(row) { ... },            // may return a Promise: the reader waits for it (backpressure)
 *     onError(error) { ... },        // {line, message}; reading continues to find every error
 *   });
 *
 * The `row` object is REUSED between calls (no per-row allocation on a million-row file): copy the
 * fields you keep. All of them are primitives. Rows that pass validation are delivered even after
 * an error elsewhere in the file, and a row whose transaction id repeats an earlier one is
 * delivered too: duplicates are confirmed after the whole file has been read, so their errors
 * arrive after the last row. A consumer that must be all-or-nothing (an import) treats
 * `summary.errors > 0` as failure and commits nothing.
 */
import {
  dateReason,
  isValidTimeZone,
  monthKeyFromNumber,
  monthNumberOfInstant,
  MoneyError,
  parseDayBytes,
  parseInstantBytes,
  parseMoney,
  parseMoneyBytes,
  currencyDigits,
  TimeError,
} from '../loyalty/index';
import {
  ByteInterner,
  CsvFatalError,
  CsvScanner,
  FingerprintSet,
  type CsvScannerOptions,
} from './csv';

export type TransactionSource = 'plain' | 'shopify';

/** One purchase. The reader reuses ONE object for every row: read what you need inside onRow. */
export interface TransactionRow {
  /** 1-based physical line where the record starts (the header is line 1). */
  readonly line: number;
  /** Plain: customer_id (trimmed). Shopify: the order's Email, trimmed and lower-cased. */
  readonly customerId: string;
  /** Dense 0-based index of customerId in order of first appearance (stable within one read). */
  readonly customerIndex: number;
  /**
   * Plain: transaction_id (trimmed), undefined when the column is absent or the cell empty.
   * Shopify: the order Id, else its Name. Decoded on access (only valid during onRow).
   */
  readonly transactionId: string | undefined;
  /** Shopify: the order Name (`#1001`); plain: undefined. */
  readonly orderName: string | undefined;
  /** 'day': `date` was YYYY-MM-DD (its month, no zone maths). 'instant': an ISO/Shopify timestamp. */
  readonly dateKind: 'day' | 'instant';
  /** YYYY-MM-DD when dateKind is 'day'. */
  readonly day: string | undefined;
  /** Epoch ms when dateKind is 'instant'. */
  readonly epochMs: number | undefined;
  /** "YYYY-MM": the calendar day's month, or the instant's month in the timezone option. */
  readonly monthKey: string;
  /** `year*12 + month-1` of monthKey. */
  readonly monthNumber: number;
  /** The amount that earns, in minor units of `currency` (0 for a Shopify order that earns nothing). */
  readonly amountMinor: number;
  readonly currency: string;
  /** Shopify only: why this order earns nothing ('cancelled', 'financial status refunded', …). */
  readonly nonEarningReason: string | undefined;
}

/** The reused row: plain mutable fields plus a transaction id decoded only when asked for. */
class MutableRow implements TransactionRow {
  line = 0;
  customerId = '';
  customerIndex = 0;
  orderName: string | undefined = undefined;
  dateKind: 'day' | 'instant' = 'day';
  day: string | undefined = undefined;
  epochMs: number | undefined = undefined;
  monthKey = '';
  monthNumber = 0;
  amountMinor = 0;
  nonEarningReason: string | undefined = undefined;
  /** Set when the id is already a string (Shopify); else the id is scanner.buf[idStart..idEnd). */
  idText: string | undefined = undefined;
  idStart = -1;
  idEnd = -1;

  constructor(
    private readonly scanner: CsvScanner,
    readonly currency: string,
  ) {}

  get transactionId(): string | undefined {
    if (this.idText !== undefined) return this.idText;
    return this.idStart < 0
      ? undefined
      : this.scanner.buf.toString('utf8', this.idStart, this.idEnd);
  }
}

export interface TransactionError {
  /** Physical line of the record the problem is on (1 = header). */
  line: number;
  message: string;
}

export interface ReadTransactionsOptions {
  /** ISO 4217 code every amount is in (the program currency). Shopify rows must match it. */
  currency: string;
  /** IANA zone whose calendar months instants fall into. Default 'UTC'. */
  timezone?: string;
  onRow: (row: TransactionRow) => void | Promise<void>;
  onError: (error: TransactionError) => void;
  /**
   * A valid record delivered to no onRow, with why: a Shopify order without an email (a guest
   * checkout). Line items 2..n of an order are not reported (they repeat their order).
   */
  onSkip?: (line: number, reason: string) => void;
  /** Passed to the CSV scanner (tests use tiny chunks). */
  scanner?: CsvScannerOptions;
}

export interface ReadSummary {
  source: TransactionSource;
  /** Rows delivered to onRow. */
  rows: number;
  /** Distinct customers among delivered rows. */
  customers: number;
  /** Shopify: orders without an email (guests), which earn nothing and are not reported. */
  guestOrdersSkipped: number;
  /** Shopify: line-item rows 2..n of an order, which repeat the order and are skipped. */
  lineItemRowsSkipped: number;
  /** Number of errors passed to onError. */
  errors: number;
}

/** The file can't be read at all (missing, a directory, no permission). */
export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

const PLAIN_REQUIRED = ['customer_id', 'date', 'amount'] as const;

/** Shopify's orders-export columns the rules depend on (exact header names). */
const SHOPIFY_REQUIRED = [
  'Name',
  'Email',
  'Financial Status',
  'Paid at',
  'Currency',
  'Subtotal',
  'Created at',
  'Cancelled at',
  'Refunded Amount',
] as const;

const EARNING_STATUSES = new Set(['paid', 'partially_refunded', 'partially_paid']);
const NON_EARNING_STATUSES = new Set(['pending', 'authorized', 'voided', 'refunded', 'expired']);

/** Mutable state shared by the row handlers of one read. */
class ReadState {
  readonly row: MutableRow;
  /** Customer ids by their bytes → dense index; the string is made once per new customer. */
  readonly customers = new ByteInterner(4096);
  readonly customerIds: string[] = [];
  /** Fingerprints of every transaction id; a repeat is confirmed exactly after the first pass. */
  readonly transactionIds = new FingerprintSet();
  readonly repeatedFingerprints = new Set<number>();
  /** Trimmed range of the last field passed to trim(). */
  ts = 0;
  te = 0;
  readonly days = new Map<number, string>();
  errors = 0;
  rows = 0;
  guests = 0;
  continuation = 0;

  constructor(
    readonly scanner: CsvScanner,
    readonly currency: string,
    readonly digits: number,
    readonly timezone: string,
    private readonly onError: (error: TransactionError) => void,
  ) {
    this.row = new MutableRow(scanner, currency);
  }

  error(line: number, message: string): void {
    this.errors++;
    this.onError({ line, message });
  }

  /** A field as trimmed text (error paths and short ids). */
  text(i: number): string {
    return this.scanner.field(i).trim();
  }

  /** Sets ts/te to field i's byte range without surrounding spaces/tabs (no allocation). */
  trim(i: number): void {
    const buf = this.scanner.buf;
    let s = this.scanner.starts[i]!;
    let e = this.scanner.ends[i]!;
    while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
    while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
    this.ts = s;
    this.te = e;
  }

  /** Parses field i as money; on failure reports `<column> '<text>' <reason>` and returns -1. */
  money(i: number, column: string, line: number): number {
    const scanner = this.scanner;
    const minor = parseMoneyBytes(scanner.buf, scanner.starts[i]!, scanner.ends[i]!, this.digits);
    if (minor >= 0) return minor;
    const text = scanner.field(i);
    let reason = 'is not a valid amount';
    try {
      parseMoney(text, this.currency);
    } catch (error) {
      if (error instanceof MoneyError) reason = error.reason;
    }
    this.error(line, `${column} '${text}' ${reason}`);
    return -1;
  }

  /**
   * Parses field i as a date into the row (dateKind/day/epochMs/monthNumber/monthKey). Returns false
   * (after reporting) when it is not a date this source accepts.
   */
  date(i: number, column: string, line: number, shopify: boolean): boolean {
    const scanner = this.scanner;
    const buf = scanner.buf;
    const s = scanner.starts[i]!;
    const e = scanner.ends[i]!;
    const row = this.row;
    if (!shopify && e - s === 10) {
      const ymd = parseDayBytes(buf, s, e);
      if (ymd >= 0) {
        let day = this.days.get(ymd);
        if (day === undefined) {
          day = scanner.field(i);
          this.days.set(ymd, day);
        }
        const year = Math.floor(ymd / 10000);
        row.dateKind = 'day';
        row.day = day;
        row.epochMs = undefined;
        row.monthNumber = year * 12 + Math.floor((ymd % 10000) / 100) - 1;
        row.monthKey = monthKeyFromNumber(row.monthNumber);
        return true;
      }
    } else {
      let ms = parseInstantBytes(buf, s, e, shopify);
      if (shopify && Number.isNaN(ms)) ms = parseInstantBytes(buf, s, e, false);
      if (!Number.isNaN(ms)) {
        row.dateKind = 'instant';
        row.day = undefined;
        row.epochMs = ms;
        row.monthNumber = monthNumberOfInstant(ms, this.timezone);
        row.monthKey = monthKeyFromNumber(row.monthNumber);
        return true;
      }
    }
    const text = scanner.field(i);
    this.error(line, `${column} '${text}' ${dateReason(text, shopify)}`);
    return false;
  }

  /** Notes the transaction id in `buf[start..end)`; a repeat is checked after the first pass. */
  noteTransactionId(buf: Uint8Array, start: number, end: number): void {
    const fingerprint = FingerprintSet.of(buf, start, end);
    if (!this.transactionIds.add(fingerprint)) this.repeatedFingerprints.add(fingerprint);
  }

  /** Dense index of the customer id in bytes [start, end); sets row.customerId/customerIndex. */
  internCustomer(start: number, end: number): void {
    const ids = this.customerIds;
    const index = this.customers.intern(this.scanner.buf, start, end);
    if (index === ids.length) ids.push(this.scanner.buf.toString('utf8', start, end));
    this.row.customerIndex = index;
    this.row.customerId = ids[index]!;
  }
}

function isPromise(value: unknown): value is Promise<void> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Promise<void>).then === 'function'
  );
}

/**
 * Streams `path`, validating every record; calls onRow per valid purchase and onError per problem.
 * Throws InputFileError when the file cannot be opened, and a TimeError/MoneyError for a bad
 * timezone/currency option (caller bugs — the CLI validates those first).
 */
export async function readTransactions(
  path: string,
  options: ReadTransactionsOptions,
): Promise<ReadSummary> {
  const timezone = options.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone)) throw new TimeError(timezone, 'is not an IANA timezone');
  const digits = currencyDigits(options.currency);
  let scanner: CsvScanner;
  try {
    scanner = new CsvScanner(path, options.scanner);
  } catch (error) {
    throw new InputFileError(describeOpenError(path, error));
  }
  const state = new ReadState(scanner, options.currency, digits, timezone, options.onError);
  let source: TransactionSource = 'plain';
  try {
    let header: string[] | undefined;
    try {
      header = scanner.next() ? scanner.fields() : undefined;
    } catch (error) {
      if (isDirectoryError(error))
        throw new InputFileError(`cannot read '${path}': it is a directory`);
      throw error;
    }
    if (header === undefined) {
      state.error(
        1,
        'the file is empty; expected a header row naming customer_id, date and amount',
      );
    } else if (scanner.error) {
      state.error(scanner.line, `header: ${scanner.error}`);
    } else {
      const layout = detectLayout(header);
      if ('problem' in layout) {
        state.error(1, layout.problem);
      } else if (layout.source === 'plain') {
        await readPlain(state, layout.columns, header.length, options.onRow);
        const txCol = layout.columns.transaction_id;
        if (state.repeatedFingerprints.size > 0 && txCol !== undefined) {
          await reportDuplicates(
            state,
            path,
            options.scanner,
            header.length,
            'transaction_id',
            (s) => {
              s.trim(txCol);
              return s.ts === s.te ? undefined : s.scanner.buf.subarray(s.ts, s.te);
            },
          );
        }
      } else {
        source = 'shopify';
        await readShopify(state, layout.columns, header.length, options.onRow, options.onSkip);
        if (state.repeatedFingerprints.size > 0) {
          const columns = layout.columns;
          let currentOrder: string | undefined;
          const column = columns.Id === undefined ? 'order Name' : 'order Id';
          await reportDuplicates(state, path, options.scanner, header.length, column, (s) => {
            // The same walk as readShopify: first rows of orders only.
            const name = s.text(columns.Name);
            if (name === '' || name === currentOrder) return undefined;
            currentOrder = name;
            return Buffer.from(shopifyTransactionId(s, columns, name), 'utf8');
          });
        }
      }
    }
  } catch (error) {
    if (!(error instanceof CsvFatalError)) throw error;
    state.error(error.line, error.message);
  } finally {
    scanner.close();
  }
  return {
    source,
    rows: state.rows,
    customers: state.customerIds.length,
    guestOrdersSkipped: state.guests,
    lineItemRowsSkipped: state.continuation,
    errors: state.errors,
  };
}

function isDirectoryError(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'EISDIR';
}

function describeOpenError(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `cannot read '${path}': no such file`;
  if (code === 'EACCES') return `cannot read '${path}': permission denied`;
  if (code === 'EISDIR') return `cannot read '${path}': it is a directory`;
  return `cannot read '${path}': ${(error as Error).message}`;
}

type PlainColumns = { customer_id: number; date: number; amount: number; transaction_id?: number };
type ShopifyColumns = Record<(typeof SHOPIFY_REQUIRED)[number], number> & { Id?: number };
type Layout =
  | { source: 'plain'; columns: PlainColumns }
  | { source: 'shopify'; columns: ShopifyColumns }
  | { problem: string };

function list(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

/** Plain files match column names case-insensitively; Shopify's export is matched exactly. */
function detectLayout(header: string[]): Layout {
  const names = header.map((h) => h.trim());
  const lower = names.map((n) => n.toLowerCase());
  if (lower.includes('customer_id')) {
    const columns: Record<string, number> = {};
    for (const wanted of [...PLAIN_REQUIRED, 'transaction_id']) {
      const at = lower.indexOf(wanted);
      if (at === -1) continue;
      if (lower.indexOf(wanted, at + 1) !== -1)
        return { problem: `header: column '${wanted}' appears more than once` };
      columns[wanted] = at;
    }
    const missing = PLAIN_REQUIRED.filter((c) => columns[c] === undefined);
    if (missing.length > 0) {
      return {
        problem: `header: missing required column${missing.length > 1 ? 's' : ''} ${list(missing)}`,
      };
    }
    return { source: 'plain', columns: columns as PlainColumns };
  }
  const looksShopify = ['Financial Status', 'Lineitem name', 'Subtotal'].some((n) =>
    names.includes(n),
  );
  if (looksShopify) {
    const missing = SHOPIFY_REQUIRED.filter((c) => !names.includes(c));
    if (missing.length > 0) {
      return {
        problem: `header: looks like a Shopify orders export but is missing column${missing.length > 1 ? 's' : ''} ${list(missing)}`,
      };
    }
    const columns: Record<string, number> = {};
    for (const name of [...SHOPIFY_REQUIRED, 'Id']) {
      const at = names.indexOf(name);
      if (at !== -1) columns[name] = at;
    }
    return { source: 'shopify', columns: columns as ShopifyColumns };
  }
  const missing = PLAIN_REQUIRED.filter((c) => !lower.includes(c));
  return {
    problem: `header: missing required column${missing.length > 1 ? 's' : ''} ${list(missing)} (expected customer_id, date, amount — or a Shopify orders export)`,
  };
}

function fieldCountMessage(count: number, expected: number): string {
  return `has ${count} field${count === 1 ? '' : 's'}; the header has ${expected}`;
}

async function readPlain(
  state: ReadState,
  columns: PlainColumns,
  width: number,
  onRow: ReadTransactionsOptions['onRow'],
): Promise<void> {
  const scanner = state.scanner;
  const row = state.row;
  const customerCol = columns.customer_id;
  const amountCol = columns.amount;
  const dateCol = columns.date;
  const txCol = columns.transaction_id;
  row.orderName = undefined;
  row.nonEarningReason = undefined;
  let records = 0;
  while (scanner.next()) {
    const line = scanner.line;
    // Size the id set once from the records-per-byte seen so far, rather than doubling it ~6 times.
    if (++records === 8192 && txCol !== undefined) {
      state.transactionIds.reserve(Math.ceil((scanner.fileSize / scanner.offset) * records));
    }
    if (scanner.error !== null) {
      state.error(line, scanner.error);
      continue;
    }
    if (scanner.count !== width) {
      state.error(line, fieldCountMessage(scanner.count, width));
      continue;
    }
    let ok = true;
    state.trim(customerCol);
    const cs = state.ts;
    const ce = state.te;
    if (cs === ce) {
      state.error(line, 'customer_id is empty');
      ok = false;
    }
    const amount = state.money(amountCol, 'amount', line);
    if (amount < 0) ok = false;
    if (!state.date(dateCol, 'date', line, false)) ok = false;
    row.idStart = -1;
    if (txCol !== undefined) {
      state.trim(txCol);
      if (state.ts !== state.te) {
        state.noteTransactionId(scanner.buf, state.ts, state.te);
        row.idStart = state.ts;
        row.idEnd = state.te;
      }
    }
    if (!ok) continue;
    row.line = line;
    state.internCustomer(cs, ce);
    row.amountMinor = amount;
    state.rows++;
    const pending = onRow(row);
    if (pending !== undefined && isPromise(pending)) await pending;
  }
}

async function readShopify(
  state: ReadState,
  columns: ShopifyColumns,
  width: number,
  onRow: ReadTransactionsOptions['onRow'],
  onSkip: ReadTransactionsOptions['onSkip'],
): Promise<void> {
  const scanner = state.scanner;
  const row = state.row;
  let currentOrder: string | undefined;
  while (scanner.next()) {
    const line = scanner.line;
    if (scanner.error !== null) {
      state.error(line, scanner.error);
      continue;
    }
    if (scanner.count !== width) {
      state.error(line, fieldCountMessage(scanner.count, width));
      continue;
    }
    const name = state.text(columns.Name);
    if (name === '') {
      state.error(line, 'Name (the order name) is empty');
      continue;
    }
    // Line items 2..n of an order repeat its Name with the order columns left blank.
    if (name === currentOrder) {
      state.continuation++;
      continue;
    }
    currentOrder = name;

    let ok = true;
    const status = state.text(columns['Financial Status']).toLowerCase();
    let nonEarningReason: string | undefined;
    if (EARNING_STATUSES.has(status)) {
      nonEarningReason = undefined;
    } else if (NON_EARNING_STATUSES.has(status)) {
      nonEarningReason = `financial status ${status}`;
    } else {
      state.error(
        line,
        status === ''
          ? `Financial Status is empty on the first row of order ${name}`
          : `Financial Status '${status}' is not a Shopify financial status`,
      );
      ok = false;
    }
    const currency = state.text(columns.Currency);
    if (currency !== state.currency) {
      state.error(
        line,
        `Currency '${currency}' of order ${name} is not the program currency ${state.currency}`,
      );
      ok = false;
    }
    const subtotal = state.money(columns.Subtotal, 'Subtotal', line);
    if (subtotal < 0) ok = false;
    let refunded = 0;
    if (state.text(columns['Refunded Amount']) !== '') {
      refunded = state.money(columns['Refunded Amount'], 'Refunded Amount', line);
      if (refunded < 0) ok = false;
    }
    const paidAt = columns['Paid at'];
    const dateColumn = state.text(paidAt) !== '' ? paidAt : columns['Created at'];
    if (!state.date(dateColumn, dateColumn === paidAt ? 'Paid at' : 'Created at', line, true))
      ok = false;
    if (state.text(columns['Cancelled at']) !== '') nonEarningReason = 'cancelled';

    const transactionId = shopifyTransactionId(state, columns, name);
    const idBytes = Buffer.from(transactionId, 'utf8');
    state.noteTransactionId(idBytes, 0, idBytes.length);
    if (!ok) continue;

    const email = state.text(columns.Email).toLowerCase();
    if (email === '') {
      state.guests++;
      onSkip?.(line, `order ${name} has no email (a guest checkout): no account can claim it`);
      continue;
    }
    const emailBytes = Buffer.from(email, 'utf8');
    row.line = line;
    const index = state.customers.intern(emailBytes, 0, emailBytes.length);
    if (index === state.customerIds.length) state.customerIds.push(email);
    row.customerIndex = index;
    row.customerId = state.customerIds[index]!;
    row.idText = transactionId;
    row.orderName = name;
    row.nonEarningReason = nonEarningReason;
    // The export doesn't split refunds into merchandise/shipping/tax: the whole refund counts as
    // merchandise, which can only lower points (see docs/cli.md).
    row.amountMinor = nonEarningReason === undefined ? Math.max(0, subtotal - refunded) : 0;
    state.rows++;
    const pending = onRow(row);
    if (pending !== undefined && isPromise(pending)) await pending;
  }
}

/** Shopify's transaction id for an order row: its Id, else its Name. */
function shopifyTransactionId(state: ReadState, columns: ShopifyColumns, name: string): string {
  const id = columns.Id === undefined ? '' : state.text(columns.Id);
  return id !== '' ? id : name;
}

/**
 * Second pass, only when some transaction id fingerprint repeated: re-reads the ids of the records
 * the first pass noted (well-formed, the header's width; `idOf` applies the source's own rules),
 * confirms repeats by their exact text, and reports each later occurrence with the line of the
 * first. A fingerprint collision between different ids is thereby never an error.
 */
async function reportDuplicates(
  state: ReadState,
  path: string,
  scannerOptions: CsvScannerOptions | undefined,
  width: number,
  column: string,
  idOf: (view: ReadState) => Uint8Array | undefined,
): Promise<void> {
  // The walk is in line order, so each repeat is reported as it is met (no list to hold).
  const firstLineById = new Map<string, number>();
  const scanner = new CsvScanner(path, scannerOptions);
  // A read state over the second scanner, so idOf trims and decodes exactly as the first pass did.
  const view = new ReadState(scanner, state.currency, state.digits, state.timezone, () => {});
  try {
    scanner.next(); // header
    let records = 0;
    while (scanner.next()) {
      // A big file's second pass takes a while: let the process answer meanwhile (the admin's
      // upload check runs in the web process).
      if (++records % 20_000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (scanner.error !== null || scanner.count !== width) continue;
      const id = idOf(view);
      if (id === undefined) continue;
      if (!state.repeatedFingerprints.has(FingerprintSet.of(id, 0, id.length))) continue;
      const text = Buffer.from(id.buffer, id.byteOffset, id.length).toString('utf8');
      const first = firstLineById.get(text);
      if (first === undefined) firstLineById.set(text, scanner.line);
      else state.error(scanner.line, `duplicate ${column} '${text}' (first seen on line ${first})`);
    }
  } finally {
    scanner.close();
  }
}
