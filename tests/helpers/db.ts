import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { migrate, openDatabase, type DatabaseHandle } from '../../db/client.server';

/** Server that test databases are created on. Trust auth on the CI machines. */
export const ADMIN_DATABASE_URL =
  process.env.TEST_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase extends DatabaseHandle {
  /** postgres:// URL of this test's own database (undefined for PGlite). */
  url: string | undefined;
}

function urlFor(database: string, adminUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A fresh, migrated database that belongs to one test: its own PostgreSQL database
 * (`laurel_test_<uuid>`, dropped on close) or an in-memory PGlite.
 */
export async function createTestDatabase(
  kind: 'postgres' | 'pglite' = 'postgres',
  options: {
    max?: number;
    /** The server to create it on (a private cluster); default ADMIN_DATABASE_URL. */
    adminUrl?: string;
  } = {},
): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? ADMIN_DATABASE_URL;
  if (kind === 'pglite') {
    const handle = await openDatabase({ pgliteDir: 'memory://' });
    await migrate(handle);
    return { ...handle, url: undefined };
  }
  const name = `laurel_test_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = urlFor(name, adminUrl);
  const handle = await openDatabase({ url, max: options.max });
  await migrate(handle);
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
