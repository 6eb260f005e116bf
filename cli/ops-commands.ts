/**
 * Operator commands (loaded lazily by cli/main.ts):
 *
 *   loyalty inbox status                       deliveries by status
 *   loyalty inbox dead [--limit N]             dead letters and parked deliveries, oldest first
 *   loyalty inbox replay (--id N | --all-dead) put dead (or parked) rows back on the queue
 *   loyalty data-request --shop DOMAIN [--id ID]   customers/data_request exports for the merchant
 *
 * Output is JSON lines (one object per line) so it pipes into jq.
 */
import type { Executor } from '../db/client.server';
import { getDataRequest, listDataRequests } from '../app/models/compliance.server';
import { countByStatus, getInboxRow, listFailed, resetForReplay } from '../app/models/inbox.server';
import { createWebhookQueue, requeueInbox } from '../app/queues/webhook-queue.server';
import { queueSettings } from '../app/queues/connection.server';
import { parseFlags, UsageError } from './args';
import {
  InputError,
  processIo,
  requireExistingShop,
  requireFlag,
  shopDomain,
  withDatabase,
  type Io,
} from './db-commands';

export const INBOX_USAGE = `Usage: loyalty inbox status
       loyalty inbox dead [--limit N]
       loyalty inbox replay --id N[,N…] | --all-dead

Webhook deliveries Laurel accepted (the inbox). 'dead' lists deliveries that failed permanently or
ran out of retries (about 4 hours of them), and deliveries parked because their shop is not
installed yet, each with its status, the reason and how its body is kept ("json"; "text" when
PostgreSQL's jsonb could not hold it; "none" once dropped). 'replay' puts a dead or parked delivery
back on the queue once the cause is fixed (a worker must be running; without Redis the reconciler
picks it up later). Parked deliveries need no replay: they run once the shop is installed.
`;

export const DATA_REQUEST_USAGE = `Usage: loyalty data-request --shop DOMAIN [--id DATA_REQUEST_ID]

Without --id, lists the shop's customers/data_request exports; with --id, prints one export (what
Laurel holds about the customer) for the merchant to send on.
`;

const line = (value: unknown) => `${JSON.stringify(value)}\n`;

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${name} '${value}' must be a positive whole number`);
  }
  return n;
}

async function replay(db: Executor, ids: number[], io: Io): Promise<number> {
  // Opened on the first row to enqueue: an id that names no row is refused without Redis.
  let queue: ReturnType<typeof createWebhookQueue> | undefined;
  let failures = 0;
  try {
    for (const id of ids) {
      const row = await getInboxRow(db, id);
      if (!row) throw new InputError(`no inbox row ${id}`);
      if (row.status !== 'dead' && row.status !== 'parked') {
        io.stdout(line({ id, replayed: false, reason: `it is ${row.status}, not dead or parked` }));
        continue;
      }
      await resetForReplay(db, id);
      try {
        queue ??= createWebhookQueue(queueSettings());
        await requeueInbox(queue, row);
        io.stdout(line({ id, replayed: true, topic: row.topic, shop: row.shopDomain }));
      } catch (error) {
        failures++;
        io.stdout(
          line({
            id,
            replayed: true,
            enqueued: false,
            reason: `Redis did not take the job (${(error as Error).message}); the reconciler will`,
          }),
        );
      }
    }
  } finally {
    // Closing cannot undo what was written; a failure to close must not hide the answer (a
    // refusal would otherwise come out as an unexpected error, exit 1).
    await queue?.close().catch(() => {});
  }
  return failures > 0 ? 1 : 0;
}

export async function inbox(argv: string[], io: Io = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    (sub === undefined ? io.stderr : io.stdout)(INBOX_USAGE);
    return sub === undefined ? 2 : 0;
  }
  let flags;
  try {
    flags = parseFlags(rest, { limit: 'string', id: 'string', 'all-dead': 'boolean' });
    if (!['status', 'dead', 'replay'].includes(sub)) {
      throw new UsageError(`unknown inbox command '${sub}'`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`loyalty inbox: ${error.message}\n\n${INBOX_USAGE}`);
    return 2;
  }
  return withDatabase('inbox', INBOX_USAGE, io, async (db) => {
    if (sub === 'status') {
      io.stdout(line(await countByStatus(db)));
      return 0;
    }
    if (sub === 'dead') {
      const limit = flags.limit === undefined ? 100 : positiveInt(flags.limit, 'limit');
      const rows = await listFailed(db, { limit, statuses: ['dead', 'parked'] });
      for (const row of rows) io.stdout(line(row));
      return 0;
    }
    if ((flags.id === undefined) === (flags['all-dead'] === undefined)) {
      throw new UsageError("replay needs either '--id N[,N…]' or '--all-dead'");
    }
    const ids =
      flags.id !== undefined
        ? flags.id.split(',').map((part) => positiveInt(part.trim(), 'id'))
        : (await listFailed(db, { limit: 10_000 })).map((row) => row.id);
    return replay(db, ids, io);
  });
}

export async function dataRequest(argv: string[], io: Io = processIo): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, { shop: 'string', id: 'string', help: 'boolean' });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`loyalty data-request: ${error.message}\n\n${DATA_REQUEST_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout(DATA_REQUEST_USAGE);
    return 0;
  }
  return withDatabase('data-request', DATA_REQUEST_USAGE, io, async (db) => {
    const domain = shopDomain(requireFlag(flags.shop, 'shop', 'DOMAIN'));
    const shop = await requireExistingShop(db, domain);
    if (flags.id === undefined) {
      for (const row of await listDataRequests(db, shop.id)) io.stdout(line(row));
      return 0;
    }
    const exported = await getDataRequest(db, shop.id, flags.id);
    if (!exported) throw new InputError(`shop '${domain}' has no data request '${flags.id}'`);
    io.stdout(`${JSON.stringify(exported, null, 2)}\n`);
    return 0;
  });
}
