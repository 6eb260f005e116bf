/**
 * Applies db/migrations to the database its caller names — PostgreSQL at `url`, else the embedded
 * PGlite in `pgliteDir` — and prints which migrations it applied: 0 done, 1 database unreachable
 * or migration failed. The caller reads the configuration (`npm run db:migrate` is
 * scripts/db-migrate.ts, which reads the environment), so db/ depends on nothing in app/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { rootCauseMessage as reason } from './errors';
import { migrate, migrationsFolder, openDatabase, type DatabaseHandle } from './client.server';

/** How long to wait for the database to answer before calling it unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The URL without its password, for messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

function journalTags(): string[] {
  const journal = JSON.parse(
    readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'),
  ) as {
    entries: { tag: string }[];
  };
  return journal.entries.map((e) => e.tag);
}

/** Rows in drizzle's bookkeeping table; 0 before the first migration ever ran. */
async function appliedCount(handle: DatabaseHandle): Promise<number> {
  const [exists] = await handle.db
    .select({ table: sql<string | null>`to_regclass('drizzle.__drizzle_migrations')::text` })
    .from(sql`(SELECT 1) AS probe`);
  if (!exists?.table) return 0;
  const [row] = await handle.db
    .select({ count: sql<number>`count(*)`.mapWith(Number) })
    .from(sql`drizzle.__drizzle_migrations`);
  return row?.count ?? 0;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface MigrationTarget {
  /** postgres:// URL; PGlite in `pgliteDir` when absent. */
  url?: string | undefined;
  pgliteDir: string;
}

export async function runMigrations(
  { url, pgliteDir }: MigrationTarget,
  io: Output = stdio,
): Promise<number> {
  const target = url ? `PostgreSQL at ${describeUrl(url)}` : `PGlite in ${pgliteDir}`;

  let handle: DatabaseHandle;
  let before: number;
  try {
    handle = await openDatabase({ url, pgliteDir, max: 1 });
  } catch (error) {
    io.err(`db:migrate: cannot open ${target}: ${reason(error)}`);
    return 1;
  }
  try {
    try {
      before = await withTimeout(appliedCount(handle), CONNECT_TIMEOUT_MS, target);
    } catch (error) {
      io.err(`db:migrate: cannot reach ${target}: ${reason(error)}`);
      io.err(
        url
          ? 'Is PostgreSQL running and does the database exist? Unset DATABASE_URL to use the embedded PGlite.'
          : 'Check that PGLITE_DIR is a writable directory not used by another process.',
      );
      return 1;
    }
    try {
      await migrate(handle);
    } catch (error) {
      io.err(`db:migrate: migrating ${target} failed: ${reason(error)}`);
      return 1;
    }
    const after = await appliedCount(handle);
    const tags = journalTags();
    const applied = tags.slice(before, after);
    if (applied.length === 0) {
      io.out(
        `${target}: up to date (${after} migration${after === 1 ? '' : 's'} applied earlier).`,
      );
    } else {
      io.out(`${target}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
      for (const tag of applied) io.out(`  ${tag}`);
    }
    return 0;
  } finally {
    await handle.close().catch(() => {});
  }
}
