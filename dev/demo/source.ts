/**
 * Where the demo store's history comes from: the state file that pins it (a generated history with
 * its seed, or an orders file with its checksum) and the webhook deliveries it replays.
 */
import { existsSync } from 'node:fs';
import type { DemoOptions } from './args';
import type { Delivery } from './deliveries';
import { generateHistory } from './history';
import { readOrdersFile } from './orders-file';
import {
  DemoStateError,
  newDemoState,
  readDemoState,
  sha256File,
  sourceMismatch,
  type DemoState,
  type WantedSource,
} from './state';
import { addMonths, monthOfInstant } from './zoned';

export const TIMEZONE = 'America/New_York';
export const CURRENCY = 'USD';

const integer = new Intl.NumberFormat('en-US');
export const fmt = (n: number) => integer.format(n);

/** A failure the user can act on: printed without a stack, with this exit code. */
export class DemoError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Deliveries {
  deliveries: Delivery[];
  /** Start of the history: the program is effective from here. */
  from: Date;
  describe: string;
}

export async function loadDeliveries(options: DemoOptions, state: DemoState): Promise<Deliveries> {
  const source = state.source;
  if (source.kind === 'history') {
    const history = generateHistory({
      shop: state.shop,
      seed: source.seed,
      firstMonth: source.firstMonth,
      timezone: TIMEZONE,
      customers: source.customers,
    });
    const s = history.stats;
    return {
      deliveries: history.deliveries,
      from: new Date(history.from),
      describe: `${fmt(s.customers)} customers, ${fmt(s.orders)} orders (${s.guestOrders} guest, ${s.testOrders} test), ${s.refunds} refunds, ${s.cancellations} cancellations, ${history.months[0]} to ${history.months.at(-1)}`,
    };
  }
  const file = await readOrdersFile(options.orders!, {
    shop: state.shop,
    timezone: TIMEZONE,
    currency: CURRENCY,
  });
  const first = Math.min(...file.deliveries.map((d) => Date.parse(d.occurredAt)));
  return {
    deliveries: file.deliveries,
    from: new Date(Number.isFinite(first) ? first : Date.now()),
    describe: `${fmt(file.customerIds.size)} customers and their orders from ${options.orders} (${file.source === 'shopify' ? 'Shopify orders export' : 'plain CSV'})`,
  };
}

/** The state for this run: the pinned one, or a new one on the first run. */
export async function demoState(path: string, options: DemoOptions): Promise<DemoState> {
  let wanted: WantedSource;
  if (options.orders !== undefined) {
    if (!existsSync(options.orders)) {
      throw new DemoError(`--orders: ${options.orders} does not exist`, 2);
    }
    wanted = { kind: 'orders', file: options.orders, sha256: sha256File(options.orders) };
  } else {
    wanted = {
      kind: 'history',
      customers: options.customers,
      firstMonth: addMonths(monthOfInstant(Date.now(), TIMEZONE), -3),
    };
  }
  let state: DemoState | undefined;
  try {
    state = readDemoState(path);
  } catch (error) {
    if (error instanceof DemoStateError) {
      throw new DemoError(
        `${error.message}\nDelete it (and the database beside it) to start afresh.`,
      );
    }
    throw error;
  }
  if (state) {
    const mismatch = sourceMismatch(state, wanted);
    if (mismatch) {
      throw new DemoError(
        `${mismatch}.\nRun it as before, or keep a second store apart with its own data directory, e.g. PGLITE_DIR=.data/other npm run demo -- …`,
        2,
      );
    }
    return state;
  }
  state = newDemoState(wanted);
  return state;
}
