import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import {
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  migrate,
  migrationsFolder,
  openDatabase,
} from './client.server';

let database: TestDatabase;

/** Rows of db.execute, whichever driver answered (node-postgres wraps them, PGlite too). */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
beforeAll(async () => {
  database = await createTestDatabase('postgres');
});
afterAll(async () => {
  await database?.close();
});

it('PostgreSQL sessions end a transaction left idle (a frozen process cannot hold locks for hours)', async () => {
  const rows = await database.db.execute<{ value: string }>(
    sql`SELECT setting AS value FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'`,
  );
  const [row] = (Array.isArray(rows) ? rows : (rows as { rows: { value: string }[] }).rows) as {
    value: string;
  }[];
  expect(Number(row!.value)).toBe(IDLE_IN_TRANSACTION_TIMEOUT_MS);
});

it('processes migrating a new PostgreSQL database at once take turns, and both succeed', async () => {
  const { default: postgres } = await import('postgres');
  const { ADMIN_DATABASE_URL } = await import('../tests/helpers/db');
  const name = `laurel_test_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const handles = await Promise.all(
    [1, 2, 3].map(() => openDatabase({ url: url.toString(), max: 2 })),
  );
  try {
    await Promise.all(handles.map((h) => migrate(h)));
    const rows = await handles[0]!.db.execute(
      sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
    );
    const [row] = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as {
      n: number;
    }[];
    const journal = JSON.parse(
      readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'),
    ) as { entries: unknown[] };
    expect(row!.n).toBe(journal.entries.length);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
});

it('a session killed mid-transaction fails that transaction only: the process and the pool carry on', async () => {
  // postgres.js 3.4 threw an uncatchable TypeError from a setImmediate here (porsager/postgres
  // #1208: its ROLLBACK written to the closed socket), which ended the whole process.
  const handle = await openDatabase({ url: database.url, max: 2 });
  try {
    let pid: number | undefined;
    const transaction = handle.db.transaction(async (tx) => {
      const [row] = rowsOf<{ pid: number }>(await tx.execute(sql`SELECT pg_backend_pid() AS pid`));
      pid = row!.pid;
      await tx.execute(sql`SELECT pg_sleep(${5})`);
    });
    const settled = transaction.then(
      () => 'committed',
      (error: Error) => error,
    );
    while (pid === undefined) await sleep(10);
    await database.db.execute(sql`SELECT pg_terminate_backend(${pid}::int)`);
    expect(await settled).toBeInstanceOf(Error);
    await sleep(50); // whatever the driver left scheduled has run by now
    const [row] = rowsOf<{ one: number }>(await handle.db.execute(sql`SELECT ${1}::int AS one`));
    expect(row!.one).toBe(1);
  } finally {
    await handle.close();
  }
});

it('a statement with parameters is prepared once per connection and reused', async () => {
  const handle = await openDatabase({ url: database.url, max: 1 });
  try {
    for (const n of [1, 2, 3]) {
      await handle.db.execute(sql`SELECT ${n}::int + 1 AS next`);
    }
    const prepared = rowsOf<{ statement: string }>(
      await handle.db.execute(
        sql`SELECT statement FROM pg_prepared_statements WHERE statement LIKE ${'%AS next%'}`,
      ),
    );
    expect(prepared).toEqual([{ statement: 'SELECT $1::int + 1 AS next' }]);
  } finally {
    await handle.close();
  }
});
