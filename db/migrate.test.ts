import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_DATABASE_URL } from '../tests/helpers/db';
import { migrationsFolder } from './client.server';
import { migrateFromEnv as runMigrations } from '../scripts/db-migrate';

const run = promisify(execFile);
const tags = (
  JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries.map((e) => e.tag);

function capture() {
  const lines = { out: [] as string[], err: [] as string[] };
  return {
    lines,
    io: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l) },
  };
}

describe('db:migrate', () => {
  const name = `laurel_test_${randomUUID().replaceAll('-', '')}`;
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  url.password = 'not-shown';
  let pgliteDir: string;

  beforeAll(async () => {
    const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    await admin.end();
    pgliteDir = mkdtempSync(join(tmpdir(), 'laurel-migrate-'));
  });
  afterAll(async () => {
    const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    rmSync(pgliteDir, { recursive: true, force: true });
  });

  it('applies every migration to PostgreSQL once, then reports it is up to date', async () => {
    const first = capture();
    expect(await runMigrations({ DATABASE_URL: url.toString() }, first.io)).toBe(0);
    expect(first.lines.out[0]).toMatch(
      new RegExp(`PostgreSQL at .*/${name}: applied ${tags.length} migrations`),
    );
    expect(first.lines.out.join('\n')).not.toContain('not-shown');
    expect(first.lines.out.slice(1).map((l) => l.trim())).toEqual(tags);
    const second = capture();
    expect(await runMigrations({ DATABASE_URL: url.toString() }, second.io)).toBe(0);
    expect(second.lines.out).toEqual([expect.stringMatching(/up to date/)]);
  });

  it('uses PGlite in PGLITE_DIR when DATABASE_URL is unset', async () => {
    const dir = join(pgliteDir, 'data');
    const first = capture();
    expect(await runMigrations({ PGLITE_DIR: dir }, first.io)).toBe(0);
    expect(first.lines.out[0]).toBe(`PGlite in ${dir}: applied ${tags.length} migrations:`);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });

  it('exits 2 on an invalid environment', async () => {
    const result = capture();
    expect(await runMigrations({ DATABASE_URL: 'mysql://nope' }, result.io)).toBe(2);
    expect(result.lines.err.join('\n')).toMatch(/DATABASE_URL must start with postgres/);
  });

  it('as a script, exits non-zero with a clear message when PostgreSQL is unreachable', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'scripts/db-migrate.ts'], {
      env: { ...process.env, DATABASE_URL: 'postgresql://postgres:secret@127.0.0.1:1/laurel' },
    }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toContain(
      'db:migrate: cannot reach PostgreSQL at postgresql://postgres:***@127.0.0.1:1/laurel',
    );
    expect(failure?.stderr).toContain('ECONNREFUSED');
  });
});
