import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import {
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  migrate,
  migrationsFolder,
  openDatabase,
} from './client.server';

let database: TestDatabase;
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
