import { migrate, openDatabase, type DatabaseHandle } from '../db/client.server';
import { env } from './env.server';
import { AppError, ErrorCode, rootCauseMessage } from './errors';

export type { Database, DatabaseHandle, Executor, Transaction } from '../db/client.server';

/**
 * One database handle per process, opened from env on first use and migrated once. Concurrent
 * first callers share one promise, so the database is never opened twice.
 */
let current: Promise<DatabaseHandle> | undefined;
/** Whether `current` was opened here (and so is ours to close) or injected by useDatabase. */
let owned = false;

async function open(): Promise<DatabaseHandle> {
  const { DATABASE_URL, PGLITE_DIR } = env();
  const where = DATABASE_URL
    ? `PostgreSQL (${new URL(DATABASE_URL).host})`
    : `PGlite in ${PGLITE_DIR}`;
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
      `cannot open the database, ${where}: ${rootCauseMessage(error)}`,
      {},
      {
        cause: error,
      },
    );
  }
}

export function getDatabase(): Promise<DatabaseHandle> {
  if (!current) {
    const opening = open();
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
