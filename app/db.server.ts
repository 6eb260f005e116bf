import { setTimeout as sleep } from 'node:timers/promises';
import { migrate, openDatabase, type DatabaseHandle } from '../db/client.server';
import { env } from './env.server';
import { AppError, ErrorCode, rootCauseMessage } from './errors';
import { logger } from './logger.server';

export type { Database, DatabaseHandle, Executor, Transaction } from '../db/client.server';

/**
 * One database handle per process, opened from env on first use and migrated once. Concurrent
 * first callers share one promise, so the database is never opened twice.
 */
let current: Promise<DatabaseHandle> | undefined;
/** Whether `current` was opened here (and so is ours to close) or injected by useDatabase. */
let owned = false;

function where(): string {
  const { DATABASE_URL, PGLITE_DIR } = env();
  return DATABASE_URL ? `PostgreSQL (${new URL(DATABASE_URL).host})` : `PGlite in ${PGLITE_DIR}`;
}

async function open(): Promise<DatabaseHandle> {
  const { DATABASE_URL, PGLITE_DIR } = env();
  try {
    const handle = await openDatabase({ url: DATABASE_URL, pgliteDir: PGLITE_DIR });
    try {
      await migrate(handle);
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    return handle;
  } catch (error) {
    throw new AppError(
      ErrorCode.UNAVAILABLE,
      `cannot open the database, ${where()}: ${rootCauseMessage(error)}`,
      {},
      {
        cause: error,
      },
    );
  }
}

/** How long a starting web or worker process waits for PostgreSQL by default. */
export const DATABASE_START_WAIT_MS = 60_000;

/**
 * SQLSTATEs that mean "not yet": the server is starting up or recovering (57P03), shutting down
 * or restarting (57P01, 57P02), or the connection was lost on the way (08xxx).
 */
const NOT_YET_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
/** Socket errors of a server that is not listening yet or went away mid-handshake. */
const NOT_YET_SOCKETS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * Whether opening the database failed because the server is not available yet, as opposed to a
 * wrong URL, password or database name, which waiting does not fix.
 */
export function isNotAvailableYet(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NOT_YET_STATES.has(code) || NOT_YET_SOCKETS.has(code))) {
      return true;
    }
    const message = (e as { message?: unknown }).message;
    // node-postgres's own words for a connection that never completed or was cut during start-up.
    if (
      typeof message === 'string' &&
      /connection (timeout|terminated)|timeout expired|timeout exceeded when trying to connect/i.test(
        message,
      )
    ) {
      return true;
    }
    e =
      e instanceof AggregateError && e.errors.length > 0
        ? e.errors[0]
        : (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * open(), retried while the server is not available yet (starting, recovering, restarting) for
 * up to `waitMs`, with one log line per attempt worth reading: the first, then every 10 s.
 */
async function openWaiting(waitMs: number): Promise<DatabaseHandle> {
  const started = Date.now();
  let delay = 250;
  let lastLog = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await open();
      if (attempt > 1) {
        logger().info({ waitedMs: Date.now() - started, attempts: attempt }, 'database available');
      }
      return handle;
    } catch (error) {
      const cause = error instanceof AppError ? error.cause : error;
      if (!isNotAvailableYet(cause)) throw error;
      const waited = Date.now() - started;
      if (waited + delay > waitMs) {
        throw new AppError(
          ErrorCode.UNAVAILABLE,
          `the database did not become available within ${Math.round(waitMs / 1000)} s, ${where()}: ${rootCauseMessage(cause)}`,
          {},
          { cause },
        );
      }
      if (lastLog === 0 || Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        logger().warn(
          { err: rootCauseMessage(cause), waitedMs: waited, waitUpToMs: waitMs },
          `database not available yet, ${where()}: retrying`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/**
 * The process database. A starting process passes `wait` to wait out a database that is still
 * starting or recovering (a worker and PostgreSQL started together, a host reboot): `true` for
 * DATABASE_START_WAIT_MS, or a number of milliseconds. A request does not, and fails at once.
 */
export function getDatabase(options: { wait?: boolean | number } = {}): Promise<DatabaseHandle> {
  if (!current) {
    const waitMs = options.wait === true ? DATABASE_START_WAIT_MS : options.wait || 0;
    const opening = waitMs > 0 ? openWaiting(waitMs) : open();
    current = opening;
    owned = true;
    // A failed open must not stick: the next call tries again (the database may still be starting).
    opening.catch(() => {
      if (current === opening) current = undefined;
    });
  }
  return current;
}

/**
 * Makes `handle` the process database (tests inject their own migrated test database).
 * The caller keeps ownership: closeDatabase forgets it but does not close it. Pass undefined to
 * forget it and open from env again on the next getDatabase().
 */
export function useDatabase(handle: DatabaseHandle | undefined): void {
  current = handle ? Promise.resolve(handle) : undefined;
  owned = false;
}

/** Graceful shutdown: closes the database this process opened. Safe to call twice. */
export async function closeDatabase(): Promise<void> {
  const pending = current;
  const mine = owned;
  current = undefined;
  owned = false;
  if (!pending || !mine) return;
  const handle = await pending.catch(() => undefined);
  await handle?.close();
}
