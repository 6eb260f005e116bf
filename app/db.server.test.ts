import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { shops } from '../db/schema';
import { freePort } from '../tests/helpers/app-server';
import { ADMIN_DATABASE_URL, createTestDatabase } from '../tests/helpers/db';
import { startPostgresServer } from '../tests/helpers/postgres-server';

// env() is parsed once per module instance, so each test imports fresh modules after setting env.
async function freshModule() {
  vi.resetModules();
  return import('./db.server');
}

const savedEnv = {
  DATABASE_URL: process.env.DATABASE_URL,
  PGLITE_DIR: process.env.PGLITE_DIR,
  LOG_FILE: process.env.LOG_FILE,
  LOG_LEVEL: process.env.LOG_LEVEL,
};
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

  it('a starting process waits for PostgreSQL that is down or recovering, says so, then opens it', async () => {
    const server = await startPostgresServer();
    const logDir = mkdtempSync(join(tmpdir(), 'laurel-db-log-'));
    try {
      process.env.DATABASE_URL = server.adminUrl;
      process.env.LOG_FILE = join(logDir, 'laurel.log');
      process.env.LOG_LEVEL = 'info';
      await server.stop('immediate');
      const { getDatabase, closeDatabase } = await freshModule();
      const opening = getDatabase({ wait: 30_000 });
      let opened = false;
      void opening.then(() => (opened = true)).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(opened).toBe(false);
      // Back after an immediate shutdown: crash recovery first (57P03 until it is done).
      await server.start({ wait: false });
      const handle = await opening;
      await handle.db.insert(shops).values({ domain: 'waited.myshopify.com' });
      await closeDatabase();
      const lines = readFileSync(process.env.LOG_FILE, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: string });
      expect(lines[0]).toMatchObject({
        level: 40,
        msg: `database not available yet, PostgreSQL (127.0.0.1:${server.port}): retrying`,
        err: expect.stringMatching(/ECONNREFUSED/),
      });
      expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'database available' });
    } finally {
      await server.destroy();
      rmSync(logDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a starting process gives up after its bound with one clear message', async () => {
    const port = await freePort();
    process.env.DATABASE_URL = `postgresql://postgres@127.0.0.1:${port}/never`;
    process.env.LOG_LEVEL = 'silent';
    const { getDatabase, closeDatabase } = await freshModule();
    const started = Date.now();
    await expect(getDatabase({ wait: 2_000 })).rejects.toThrow(
      new RegExp(
        `^the database did not become available within 2 s, PostgreSQL \\(127\\.0\\.0\\.1:${port}\\): connect ECONNREFUSED`,
      ),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await closeDatabase();
  });

  it('a starting process does not wait out a database that does not exist', async () => {
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/laurel_missing_${randomUUID().replaceAll('-', '')}`;
    process.env.DATABASE_URL = url.toString();
    const { getDatabase, closeDatabase } = await freshModule();
    const started = Date.now();
    await expect(getDatabase({ wait: 30_000 })).rejects.toThrow(
      /cannot open the database, .*: 3D000: database ".*" does not exist/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    await closeDatabase();
  });
});
