/**
 * `npm run db:migrate`: applies db/migrations to the database the environment names —
 * PostgreSQL when DATABASE_URL is set, else the embedded PGlite in PGLITE_DIR (default
 * .data/pglite). Exit 0 done, 1 database unreachable or migration failed, 2 invalid environment.
 */
import { pathToFileURL } from 'node:url';
import { EnvError, parseEnv } from '../app/env.server';
import { runMigrations, stdio, type Output } from '../db/migrate';

export async function migrateFromEnv(
  source: NodeJS.ProcessEnv = process.env,
  io: Output = stdio,
): Promise<number> {
  let env;
  try {
    env = parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  }
  return runMigrations({ url: env.DATABASE_URL, pgliteDir: env.PGLITE_DIR }, io);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await migrateFromEnv();
}
