/**
 * The flags of `npm run demo` (dev/demo/main.ts). Parsing is pure so it can be tested; main.ts
 * prints USAGE and exits 2 on an error.
 */
import { parseArgs } from 'node:util';

export interface DemoOptions {
  /** --orders FILE: replay this transaction file instead of the generated history. */
  orders?: string;
  /** --port N: the web server's port; 0 picks a free one. Default 3000. */
  port: number;
  /** --customers N: size of the generated store (1–2000). Default 200. */
  customers: number;
  /** false with --no-serve: exit after the report. */
  serve: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run demo -- [options]

Runs Laurel offline against a demo store: the web server, the workers and a local Shopify Admin
API, with three months of orders replayed as signed webhooks; prints the points report, then serves
the admin and the storefront preview until Ctrl-C. See docs/demo.md.

Options:
  --orders FILE    replay a transaction file (plain CSV or a Shopify orders export) instead of
                   the generated three-month history
  --customers N    customers in the generated store, 1-2000 (default 200)
  --port N         port of the web server (default 3000; 0 picks a free port)
  --no-serve       exit after the report instead of serving
  -h, --help       show this help

Environment: DATABASE_URL (unset: the embedded PGlite in PGLITE_DIR, default .data/pglite),
REDIS_URL (default redis://127.0.0.1:6379; without one a throwaway redis-server is started),
QUEUE_PREFIX (default laurel-demo), DEMO_STATE_FILE (default <PGLITE_DIR>-demo.json).
`;

export type ParsedArgs = { ok: true; options: DemoOptions } | { ok: false; error: string };

function wholeNumber(text: string, flag: string, min: number, max: number): number | string {
  if (!/^\d+$/.test(text))
    return `${flag} must be a whole number from ${min} to ${max} (got '${text}')`;
  const value = Number(text);
  if (value < min || value > max) return `${flag} must be from ${min} to ${max} (got ${value})`;
  return value;
}

export function parseDemoArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        orders: { type: 'string' },
        port: { type: 'string' },
        customers: { type: 'string' },
        'no-serve': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // node:util's messages name the flag ("Unknown option '--x'", "Option '--port <value>' argument missing").
    return { ok: false, error: (error as Error).message.split('\n')[0]! };
  }
  const options: DemoOptions = {
    port: 3000,
    customers: 200,
    serve: values['no-serve'] !== true,
    help: values.help === true,
  };
  if (typeof values.port === 'string') {
    const port = wholeNumber(values.port, '--port', 0, 65535);
    if (typeof port === 'string') return { ok: false, error: port };
    options.port = port;
  }
  if (typeof values.customers === 'string') {
    if (typeof values.orders === 'string') {
      return {
        ok: false,
        error: '--customers sizes the generated history; it cannot be combined with --orders',
      };
    }
    const customers = wholeNumber(values.customers, '--customers', 1, 2000);
    if (typeof customers === 'string') return { ok: false, error: customers };
    options.customers = customers;
  }
  if (typeof values.orders === 'string') {
    if (values.orders.trim() === '') return { ok: false, error: '--orders needs a file path' };
    options.orders = values.orders;
  }
  return { ok: true, options };
}
