import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { shops } from '../db/schema';
import { ADMIN_DATABASE_URL, createTestDatabase } from '../tests/helpers/db';

// env() is parsed once per module instance, so each test imports fresh modules after setting env.
async function freshModule() {
  vi.resetModules();
  return import('./db.server');
}

const savedEnv = { DATABASE_URL: process.env.DATABASE_URL, PGLITE_DIR: process.env.PGLITE_DIR };
afterEach(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('app/db.server', () => {
  it('uses an injected database, leaving it to the caller to close', async () => {
    const { getDatabase, useDatabase, closeDatabase } = await freshModule();
    const test = await createTestDatabase('postgres');
    try {
      useDatabase(test);
      expect(await getDatabase()).toBe(test);
      expect(await getDatabase()).toBe(test);
      await closeDatabase();
      // Forgotten but not closed: the test that injected it still owns it.
      expect(await test.db.select().from(shops)).toEqual([]);
      useDatabase(test);
      useDatabase(undefined);
      process.env.DATABASE_URL = test.url;
      const fromEnv = await getDatabase();
      expect(fromEnv).not.toBe(test);
      await closeDatabase();
    } finally {
      await test.close();
    }
  });

  it('opens one handle per process from DATABASE_URL and migrates it once', async () => {
    const name = `laurel_test_${randomUUID().replaceAll('-', '')}`;
    const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
    try {
      const { getDatabase, closeDatabase } = await freshModule();
      const [a, b] = await Promise.all([getDatabase(), getDatabase()]);
      expect(a).toBe(b);
      expect(a.kind).toBe('postgres');
      // Migrated: the empty database now has Laurel's tables.
      await a.db.insert(shops).values({ domain: 'db-server.myshopify.com' });
      await closeDatabase();
      await closeDatabase(); // safe twice
      const reopened = await getDatabase(); // migrating again is a no-op
      expect(reopened).not.toBe(a);
      expect(await reopened.db.select({ domain: shops.domain }).from(shops)).toEqual([
        { domain: 'db-server.myshopify.com' },
      ]);
      await closeDatabase();
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it('reports an unreachable database and tries again on the next call', async () => {
    process.env.DATABASE_URL = 'postgresql://postgres@127.0.0.1:1/unreachable';
    const { getDatabase, closeDatabase } = await freshModule();
    await expect(getDatabase()).rejects.toThrow(
      /cannot open the database, PostgreSQL \(127.0.0.1:1\): connect ECONNREFUSED/,
    );
    await expect(getDatabase()).rejects.toThrow(
      /cannot open the database, PostgreSQL \(127.0.0.1:1\): connect ECONNREFUSED/,
    );
    await closeDatabase();
  });
});
