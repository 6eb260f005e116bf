/**
 * The `loyalty` commands that use the database (loaded lazily by cli/main.ts):
 *
 *   loyalty import --input FILE --shop DOMAIN [--timezone IANA] [--program FILE.json]
 *   loyalty report --shop DOMAIN [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format …] [--timezone IANA]
 *   loyalty balance --shop DOMAIN --customer ID
 *
 * The database is PostgreSQL when DATABASE_URL is set, else PGlite under PGLITE_DIR (.data/pglite).
 * Each command returns its exit code: 0 ok, 2 bad input (nothing written), 1 unexpected failure.
 */
import { statSync } from 'node:fs';
import type { Executor } from '../db/client.server';
import { closeDatabase, getDatabase } from '../app/db.server';
import { AppError, ErrorCode, isAppError } from '../app/errors';
import { checkHistoryFile, importHistoryFile, listProblems } from '../app/history-import.server';
import { findCustomerByExternalId } from '../app/models/customers.server';
import { balanceOf } from '../app/models/ledger.server';
import { listPrograms, ProgramTimeline, publishProgram } from '../app/models/programs.server';
import { earnedReport } from '../app/models/reports.server';
import {
  ensureShop,
  getShopByDomain,
  normalizeShopDomain,
  type Shop,
} from '../app/models/shops.server';
import {
  isValidTimeZone,
  parseCalendarDay,
  reportColumns,
  type CompiledProgram,
} from '../loyalty/index';
import { parseFlags, UsageError } from './args';
import { ProgressBar } from './progress';
import { loadProgram, writeReport, type ReportFormat } from './report-file';
import { InputFileError } from './transactions';

export const IMPORT_USAGE = `Usage: loyalty import --input FILE --shop DOMAIN [--timezone IANA] [--program FILE.json]

Posts every transaction of FILE (the same formats as 'loyalty report --input') into the shop's
ledger. Running it again posts nothing new. The whole file is validated before anything is posted.
A Shopify orders export (with its Id column) is recorded as orders, keyed like the webhooks, so an
order also paid by webhook earns once; each goes to the verified account with its email, or waits
as a guest order. A plain file's customer_id is the Shopify customer id. Rules: docs/cli.md.
  --shop       the shop's myshopify domain, e.g. demo.myshopify.com (created if new)
  --timezone   IANA timezone of a new shop (default UTC); an existing shop keeps its own
  --program    program JSON for a new shop (default: the reference program)
`;

export const DB_REPORT_USAGE = `Usage: loyalty report --shop DOMAIN [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format json|csv|table] [--timezone IANA]

Points each customer earned from purchases (net of refunds and cancellations) per calendar month,
from the ledger. Months are those of the shop's timezone unless --timezone is given; --from/--to are
inclusive calendar days.
`;

export const BALANCE_USAGE = `Usage: loyalty balance --shop DOMAIN --customer ID

Prints {"customerId":…,"balance":N,"lifetimeEarned":N} for the customer (its external id: the
Shopify customer id, or the customer_id of an imported file).
`;

const FORMATS: readonly ReportFormat[] = ['json', 'csv', 'table'];

/** A problem with the command's input: printed with the usage, exit code 2, nothing written. */
export class InputError extends Error {}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** See ReportCommandIo: complete output streamed in chunks. */
  stdoutChunks?: (chunks: Iterable<string>) => Promise<void>;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs a command body with the database open, mapping errors to exit codes and closing it. */
export async function withDatabase(
  command: string,
  usage: string,
  io: Io,
  body: (db: Executor) => Promise<number>,
): Promise<number> {
  try {
    const handle = await getDatabase();
    return await body(handle.db);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`loyalty ${command}: ${error.message}\n\n${usage}`);
      return 2;
    }
    if (error instanceof InputError || error instanceof InputFileError) {
      io.stderr(`loyalty ${command}: ${error.message}\n`);
      return 2;
    }
    if (isAppError(error) && error.code !== ErrorCode.INTERNAL) {
      io.stderr(`loyalty ${command}: ${error.message}\n`);
      return error.code === ErrorCode.UNAVAILABLE ? 1 : 2;
    }
    throw error;
  } finally {
    await closeDatabase();
  }
}

export function requireFlag(value: string | undefined, name: string, placeholder: string): string {
  if (value === undefined) throw new UsageError(`missing '--${name} ${placeholder}'`);
  return value;
}

export function shopDomain(value: string): string {
  try {
    return normalizeShopDomain(value);
  } catch (error) {
    if (isAppError(error)) throw new UsageError(error.message);
    throw error;
  }
}

export async function requireExistingShop(db: Executor, domain: string): Promise<Shop> {
  const shop = await getShopByDomain(db, domain);
  if (!shop) throw new InputError(`no shop '${domain}' in the database (import into it first)`);
  return shop;
}

function calendarDay(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseCalendarDay(value);
  } catch {
    throw new UsageError(`--${name} '${value}' is not a calendar day (YYYY-MM-DD)`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// import

export async function importTransactions(argv: string[], io: Io = processIo): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, {
      input: 'string',
      shop: 'string',
      timezone: 'string',
      program: 'string',
      help: 'boolean',
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`loyalty import: ${error.message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout(IMPORT_USAGE);
    return 0;
  }
  return withDatabase('import', IMPORT_USAGE, io, async (db) => {
    const input = requireFlag(flags.input, 'input', 'FILE');
    const domain = shopDomain(requireFlag(flags.shop, 'shop', 'DOMAIN'));
    if (flags.timezone !== undefined && !isValidTimeZone(flags.timezone)) {
      throw new UsageError(
        `unknown timezone '${flags.timezone}'; use an IANA name such as America/New_York`,
      );
    }
    const programFile = flags.program === undefined ? undefined : loadProgram(flags.program);

    const existing = await getShopByDomain(db, domain);
    let versions = existing ? await listPrograms(db, existing.id) : [];
    if (existing && versions.length > 0 && programFile !== undefined) {
      throw new InputError(
        `shop '${domain}' already has program version ${versions.length}; --program only seeds a new shop`,
      );
    }
    if (existing && flags.timezone !== undefined && flags.timezone !== existing.timezone) {
      throw new InputError(
        `shop '${domain}' reports in ${existing.timezone}; --timezone only applies to a new shop`,
      );
    }

    // Validate the whole file first: a bad file posts nothing.
    const newProgram = programFile ?? (versions.length === 0 ? defaultProgram() : undefined);
    const currency = newProgram?.currency ?? new ProgramTimeline(versions).currency;
    const timezone = existing?.timezone ?? flags.timezone ?? 'UTC';
    const checked = await checkHistoryFile(input, { currency, timezone });
    if (checked.errors.length > 0) {
      throw new InputError(
        `'${input}' has ${checked.errors.length} problem(s); nothing was imported:\n${listProblems(checked.errors).join('\n')}`,
      );
    }

    const shop = await ensureShop(db, { domain, currency, timezone });
    if (versions.length === 0) {
      // A new shop's program applies to its whole history: effective from the epoch.
      await publishProgram(db, shop.id, newProgram!.definition, new Date(0));
      versions = await listPrograms(db, shop.id);
    }

    const progress = new ProgressBar({
      total: checked.rows,
      label: 'Importing',
      unit: 'rows',
      mode: process.stderr.isTTY === true ? 'bar' : 'off',
    });
    const imported = await importHistoryFile(db, shop, input, {
      currency,
      timezone,
      timeline: new ProgramTimeline(versions),
      onBatch: (_tx, batch) => progress.update(batch.processedRows),
    });
    progress.finish();
    const { counts } = imported;
    const orders =
      imported.format === 'shopify'
        ? {
            ordersRecorded: counts.ordersRecorded,
            ordersAttached: counts.ordersAttached,
            guestOrders: counts.guestOrders,
          }
        : {};
    io.stdout(
      `${JSON.stringify({ shop: domain, rows: checked.rows, posted: counts.posted, alreadyPresent: counts.alreadyPresent, ...orders, file: input, bytes: statSync(input).size })}\n`,
    );
    return 0;
  });
}

/** The reference program, for a shop imported without --program. */
function defaultProgram(): CompiledProgram {
  return loadProgram(undefined);
}

// ---------------------------------------------------------------------------------------------
// report --shop

export async function reportFromDatabase(argv: string[], io: Io = processIo): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, {
      shop: 'string',
      from: 'string',
      to: 'string',
      format: 'string',
      timezone: 'string',
      help: 'boolean',
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`loyalty report: ${error.message}\n\n${DB_REPORT_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout(DB_REPORT_USAGE);
    return 0;
  }
  return withDatabase('report', DB_REPORT_USAGE, io, async (db) => {
    const domain = shopDomain(requireFlag(flags.shop, 'shop', 'DOMAIN'));
    const format = (flags.format ?? 'json') as ReportFormat;
    if (!FORMATS.includes(format)) {
      throw new UsageError(`unknown format '${flags.format}'; use json, csv or table`);
    }
    if (flags.timezone !== undefined && !isValidTimeZone(flags.timezone)) {
      throw new UsageError(
        `unknown timezone '${flags.timezone}'; use an IANA name such as America/New_York`,
      );
    }
    const from = calendarDay(flags.from, 'from');
    const to = calendarDay(flags.to, 'to');
    if (from !== undefined && to !== undefined && from > to) {
      throw new UsageError(`--from ${from} is after --to ${to}`);
    }
    const shop = await requireExistingShop(db, domain);
    const report = await earnedReport(db, shop.id, {
      ...(flags.timezone !== undefined && { timezone: flags.timezone }),
      ...(from !== undefined && { from }),
      ...(to !== undefined && { to }),
    });
    await writeReport(io, reportColumns(report), format);
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------
// balance

export async function balance(argv: string[], io: Io = processIo): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, { shop: 'string', customer: 'string', help: 'boolean' });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`loyalty balance: ${error.message}\n\n${BALANCE_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout(BALANCE_USAGE);
    return 0;
  }
  return withDatabase('balance', BALANCE_USAGE, io, async (db) => {
    const domain = shopDomain(requireFlag(flags.shop, 'shop', 'DOMAIN'));
    const customerId = requireFlag(flags.customer, 'customer', 'ID');
    const shop = await requireExistingShop(db, domain);
    const customer = await findCustomerByExternalId(db, shop.id, customerId);
    if (!customer) {
      throw new AppError(ErrorCode.NOT_FOUND, `no customer '${customerId}' in shop '${domain}'`);
    }
    const { balance: points, lifetimeEarned } = await balanceOf(db, shop.id, customer.id);
    io.stdout(`${JSON.stringify({ customerId, balance: points, lifetimeEarned })}\n`);
    return 0;
  });
}
