/**
 * The `loyalty` command (bundled to dist/cli.mjs, run by bin/loyalty.mjs).
 *
 *   loyalty report --input FILE …   the file report (cli/report-file.ts), no database
 *   loyalty report --shop DOMAIN …  the report from the ledger    ┐ cli/db-commands.ts, loaded
 *   loyalty import …                import a transaction file     │ lazily so the file report
 *   loyalty balance …               a customer's balance          ┘ starts without DB modules
 *   loyalty inbox …                 webhook deliveries, dead letters, replay   ┐ cli/ops-commands.ts
 *   loyalty data-request …          customers/data_request exports             ┘
 *
 * Output is collected and written at the end, so nothing half-written reaches stdout when a command
 * fails; a report, complete and checked before its first byte, is streamed in chunks instead
 * (`stdoutChunks`) so an 18 MB report is never one string. The exit code is returned, not set.
 */
import { UsageError, hasFlag } from './args';
import { REPORT_USAGE, runFileReport, type ReportCommandIo } from './report-file';

export const USAGE = `Usage: loyalty <command> [options]

Commands:
  report --input FILE     points per customer per month from a transaction file
  report --shop DOMAIN    the same report from the database ledger
  import                  import a transaction file into the ledger
  balance                 show a customer's points balance
  inbox                   webhook deliveries: status, dead letters, replay
  data-request            customer data exports (customers/data_request)

Run 'loyalty <command> --help' for a command's options. Docs: docs/cli.md
`;

const quietEpipe = new WeakSet<NodeJS.WriteStream>();

function writeAll(stream: NodeJS.WriteStream, text: string): void {
  // After an EPIPE the stream is destroyed: the rest has nowhere to go.
  if (text === '' || stream.destroyed) return;
  if (!quietEpipe.has(stream)) {
    quietEpipe.add(stream);
    // `loyalty report … | head` closes the pipe early; that is not a failure worth a stack trace.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  stream.write(text);
}

/**
 * Writes chunks, waiting for 'drain' whenever the stream's buffer is full: stdout to a pipe is
 * asynchronous, and without this an 18 MB report would queue whole in memory behind a slow
 * reader. (A file is written synchronously; write() then never asks to wait.)
 */
async function writeChunks(stream: NodeJS.WriteStream, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (stream.destroyed) return;
    writeAll(stream, chunk);
    if (stream.writableNeedDrain) await drained(stream);
  }
}

/** Resolves on 'drain', or when the stream closes or fails (EPIPE: the reader went away). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export async function main(argv: string[]): Promise<number> {
  let out = '';
  let err = '';
  const io = {
    stdout: (text: string) => {
      out += text;
    },
    stderr: (text: string) => {
      err += text;
    },
    stdoutChunks: async (chunks: Iterable<string>) => {
      writeAll(process.stdout, out);
      out = '';
      await writeChunks(process.stdout, chunks);
    },
  };
  let code: number;
  try {
    code = await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      err += `loyalty: ${error.message}\n\n${USAGE}`;
      code = 2;
    } else {
      // Nothing half-written reaches stdout when something unexpected fails.
      out = '';
      err += `loyalty: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
      code = 1;
    }
  }
  writeAll(process.stdout, out);
  writeAll(process.stderr, err);
  return code;
}

async function dispatch(argv: string[], io: ReportCommandIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      throw new UsageError('missing command');
    case '--help':
    case '-h':
    case 'help':
      io.stdout(USAGE);
      return 0;
    case 'report': {
      const shop = hasFlag(rest, 'shop');
      if (shop && hasFlag(rest, 'input')) {
        io.stderr(
          `loyalty report: use either --input FILE or --shop DOMAIN, not both\n\n${REPORT_USAGE}`,
        );
        return 2;
      }
      if (shop) {
        const { reportFromDatabase } = await import('./db-commands');
        return reportFromDatabase(rest, io);
      }
      return runFileReport(rest, io);
    }
    case 'import': {
      const { importTransactions } = await import('./db-commands');
      return importTransactions(rest, io);
    }
    case 'balance': {
      const { balance } = await import('./db-commands');
      return balance(rest, io);
    }
    case 'inbox': {
      const { inbox } = await import('./ops-commands');
      return inbox(rest, io);
    }
    case 'data-request': {
      const { dataRequest } = await import('./ops-commands');
      return dataRequest(rest, io);
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}
