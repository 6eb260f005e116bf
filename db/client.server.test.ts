import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { IDLE_IN_TRANSACTION_TIMEOUT_MS } from './client.server';

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
