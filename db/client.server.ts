import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { PoolClient } from 'pg';
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
 * Two things on every pooled client's `query`:
 *
 * - Names every parameterised statement after its text, so node-postgres prepares it once per
 *   connection and runs it again as Bind/Execute, without a fresh parse and plan (docs/perf.md).
 *   node-postgres sends a query in one round trip whether it is named or not. Statement texts must
 *   therefore not vary with the data (db/sql.ts), or each connection caches one more statement.
 * - Queues promise-style queries here, one after another. node-postgres runs a client's queries
 *   one at a time anyway, but deprecates being handed a second one while the first runs (gone in
 *   pg 9), which any Promise.all over one transaction would do.
 */
function wrapQuery(client: PoolClient): void {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined) {
      // A name is at most 63 bytes; a digest of the text keeps one text to one name.
      name = `laurel_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;
      names.set(text, name);
    }
    return name;
  };
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  let previous: Promise<unknown> = Promise.resolve();
  client.query = ((config: unknown, ...rest: unknown[]) => {
    if (typeof config === 'object' && config !== null && 'text' in config) {
      const statement = config as { text: string; name?: string; values?: unknown[] };
      const values = (rest[0] as unknown[] | undefined) ?? statement.values;
      if (!statement.name && Array.isArray(values) && values.length > 0) {
        config = { ...statement, name: nameOf(statement.text) };
      }
    }
    // Callback-style calls (the pool's own) and submittables (cursors) go straight through.
    const callback = typeof rest.at(-1) === 'function';
    const submittable = typeof config === 'object' && config !== null && 'submit' in config;
    if (callback || submittable) return query(config, ...rest);
    const run = previous.then(() => query(config, ...rest));
    previous = run.catch(() => {});
    return run;
  }) as PoolClient['query'];
}

/** How long a PostgreSQL session may sit idle inside a transaction before the server ends it. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/**
 * How long opening a connection, or waiting for a free one, may take before the query fails. A
 * server that is down refuses at once; this bounds one that does not answer at all.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * node-postgres settings shared by the pool and the advisory-lock session. Why node-postgres and
 * not postgres.js: docs/decisions/009-node-postgres-driver.md.
 */
function connectionConfig(url: string) {
  return {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A server that vanished without closing its sockets (host lost, network partition) is
    // noticed by TCP keepalive rather than never.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // A process that froze or vanished mid-transaction (SIGSTOP, a paused container, a network
    // partition) would otherwise hold its rows and locks until TCP keepalive gives up, hours
    // later. No Laurel transaction waits on its client for long; PostgreSQL ends one that does,
    // and its work is retried.
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

/**
 * A lost connection (the server restarted or ended the session) is reported twice by
 * node-postgres: to the query in flight, which fails and is retried by its caller, and as an
 * `error` event on the client, which would end the process if nobody listened. The pool drops
 * such a client and opens a fresh one on the next query, so the event needs no action.
 */
const ignoreLostConnection = () => {};

/** Opens PostgreSQL when a URL is given, else the embedded PGlite. Does not migrate. */
export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const url = options.url;
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const pool = new pg.Pool({
      ...connectionConfig(url),
      max: options.max ?? 10,
      // Warm connections keep their prepared statements; an idle minute gives them back.
      idleTimeoutMillis: 60_000,
    });
    pool.on('error', ignoreLostConnection); // an idle client lost
    pool.on('connect', (client) => {
      client.on('error', ignoreLostConnection); // a checked-out client lost
      wrapQuery(client);
    });
    const db = drizzle(pool, { schema }) as unknown as Database;
    return {
      db,
      kind: 'postgres',
      close: () => pool.end(),
      async exclusive(key, work) {
        // A connection of its own, not one of the pool's: `work` may need every pooled one.
        const lock = new pg.Client(connectionConfig(url));
        lock.on('error', ignoreLostConnection);
        await lock.connect();
        try {
          await lock.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
          return await work();
        } finally {
          await lock.end(); // ending the session releases the lock
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
    const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
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
