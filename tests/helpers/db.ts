import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import postgres from 'postgres';
import {
  migrate,
  migrationsFolder,
  openDatabase,
  type DatabaseHandle,
} from '../../db/client.server';

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

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
    )
    .sort();
}

let migrationsDigest: string | undefined;

/**
 * The template database for the committed migrations, named after their content: a branch with
 * other migrations (another worktree on the same server) gets a template of its own, and a
 * changed migration a new one.
 */
export function templateDatabaseName(): string {
  if (migrationsDigest === undefined) {
    const hash = createHash('sha256');
    for (const file of filesUnder(migrationsFolder)) {
      hash.update(relative(migrationsFolder, file)).update('\0');
      hash.update(readFileSync(file)).update('\0');
    }
    migrationsDigest = hash.digest('hex');
  }
  return `laurel_template_${migrationsDigest.slice(0, 16)}`;
}

const templates = new Map<string, Promise<string>>();

/**
 * Makes sure the server at `adminUrl` holds the migrated template (building it on first use) and
 * returns its name. Migrating takes seconds; cloning the result takes a fraction of that.
 */
function migratedTemplate(adminUrl: string): Promise<string> {
  let template = templates.get(adminUrl);
  if (!template) {
    template = buildTemplate(adminUrl);
    // A failed build (server down) is tried again by the next caller rather than remembered.
    template.catch(() => templates.delete(adminUrl));
    templates.set(adminUrl, template);
  }
  return template;
}

async function buildTemplate(adminUrl: string): Promise<string> {
  const name = templateDatabaseName();
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const exists = async (database: string) =>
    (await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`).length > 0;
  try {
    if (await exists(name)) return name;
    // Test files start in parallel and all find it missing: one builds, the others wait here and
    // then find it. The lock is the session's, so it goes when the connection does.
    await admin`SELECT pg_advisory_lock(hashtext(${name}))`;
    if (await exists(name)) return name;
    const building = `${name}_building`;
    // Left by a build that was killed half-way, perhaps already marked a template (which DROP
    // refuses); nobody else builds while we hold the lock.
    if (await exists(building)) {
      await admin.unsafe(`ALTER DATABASE "${building}" IS_TEMPLATE false`);
      await admin.unsafe(`DROP DATABASE "${building}" WITH (FORCE)`);
    }
    await admin.unsafe(`CREATE DATABASE "${building}"`);
    const handle = await openDatabase({ url: urlFor(building, adminUrl), max: 1 });
    try {
      await migrate(handle);
    } finally {
      await handle.close();
    }
    // CREATE DATABASE … TEMPLATE refuses a source anyone is connected to, so nobody may connect;
    // renamed only once migrated, so a template that exists under its name is complete.
    await admin.unsafe(
      `ALTER DATABASE "${building}" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`,
    );
    await admin.unsafe(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    return name;
  } finally {
    await admin.end();
  }
}

/**
 * A fresh, migrated database that belongs to one test: its own PostgreSQL database
 * (`laurel_test_<uuid>`, a copy of the migrated template, dropped on close) or an in-memory
 * PGlite. db/migrate.test.ts migrates an empty database itself.
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
  const template = await migratedTemplate(adminUrl);
  const name = `laurel_test_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const url = urlFor(name, adminUrl);
  const handle = await openDatabase({ url, max: options.max });
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
