import { fileURLToPath } from 'node:url';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import * as schema from './schema';

export type Schema = typeof schema;
/** Either driver's database: PGlite (embedded) and PostgreSQL share the pg-core API. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<
  PgQueryResultHKT,
  Schema,
  ExtractTablesWithRelations<Schema>
>;
/** What model functions take: the database or a transaction already open on it. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
  /**
   * Runs `work` while holding a PostgreSQL session-level advisory lock on `key`, so processes
   * starting together (web and workers) do it one at a time. Absent for PGlite (one process).
   */
  exclusive?<T>(key: string, work: () => Promise<T>): Promise<T>;
}

export interface OpenOptions {
  /** postgres:// URL. When absent, PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory, or 'memory://' for a throwaway in-memory database. */
  pgliteDir?: string | undefined;
  /** PostgreSQL pool size (default 10). */
  max?: number | undefined;
}

/**
 * The migrations folder. Resolved from this module's URL; both db/client.server.ts and the
 * bundled dist/*.mjs sit one level below the repository root.
 */
export const migrationsFolder = fileURLToPath(new URL('../db/migrations', import.meta.url));

/**
 * drizzle's postgres.js driver runs every query not built with `.prepare(name)` as an unnamed
 * statement (`prepare: false`), and postgres.js sends such a query with parameters as
 * Parse/Describe, waits for the parameter types, then Bind/Execute: two round trips and a fresh
 * parse and plan for every query (docs/perf.md). This makes every statement a prepared one:
 * postgres.js names it, caches it per connection and runs it again in one round trip. Statement
 * texts must therefore not vary with the data (db/sql.ts), or the cache grows.
 */
function alwaysPrepared<T extends object>(client: T): T {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: object) =>
          value.call(target, query, params, { ...options, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        // The transaction's own client, handed to the callback, is wrapped the same way.
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const body = args[last] as (tx: object) => unknown;
          args[last] = (tx: object) => body(alwaysPrepared(tx));
          return value.apply(target, args);
        };
      }
      return value;
    },
  });
}

/** How long a PostgreSQL session may sit idle inside a transaction before the server ends it. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/** Opens PostgreSQL when a URL is given, else the embedded PGlite. Does not migrate. */
export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const url = options.url;
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const client = postgres(url, {
      max: options.max ?? 10,
      onnotice: () => {},
      connection: {
        // A process that froze or vanished mid-transaction (SIGSTOP, a paused container, a network
        // partition) would otherwise hold its rows and locks until TCP keepalive gives up, hours
        // later. No Laurel transaction waits on its client for long; PostgreSQL ends one that does,
        // and its work is retried.
        idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
      },
    });
    const db = drizzle(alwaysPrepared(client), { schema }) as unknown as Database;
    return {
      db,
      kind: 'postgres',
      close: () => client.end({ timeout: 5 }),
      async exclusive(key, work) {
        // A connection of its own, not one of the pool's: `work` may need every pooled one.
        const lock = postgres(url, { max: 1, onnotice: () => {} });
        try {
          await lock`SELECT pg_advisory_lock(hashtext(${key}))`;
          return await work();
        } finally {
          await lock.end({ timeout: 5 }); // ending the session releases the lock
        }
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = options.pgliteDir ?? '.data/pglite';
  if (dir !== 'memory://') {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
  }
  const client = new PGlite(dir === 'memory://' ? undefined : dir);
  await client.waitReady;
  const { drizzle } = await import('drizzle-orm/pglite');
  const db = drizzle(client, { schema }) as unknown as Database;
  return { db, kind: 'pglite', close: () => client.close() };
}

/**
 * Applies the committed SQL migrations in db/migrations. Idempotent. On PostgreSQL, processes
 * migrating at once (a web and a worker process started together on a new database) take turns:
 * the second finds nothing left to apply instead of failing on "relation already exists".
 */
export async function migrate(handle: DatabaseHandle): Promise<void> {
  if (handle.kind === 'postgres') {
    const { migrate: run } = await import('drizzle-orm/postgres-js/migrator');
    const apply = () =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      run(handle.db as any, { migrationsFolder });
    await (handle.exclusive ? handle.exclusive('laurel:migrate', apply) : apply());
  } else {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await run(handle.db as any, { migrationsFolder });
  }
}
