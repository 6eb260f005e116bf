import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../db/client.server';
import { shops } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from './db';

const journal = JSON.parse(
  readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'),
) as {
  entries: unknown[];
};

describe.each(['postgres', 'pglite'] as const)('createTestDatabase(%s)', (kind) => {
  const handles: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.close()));
  });
  const open = async () => {
    const handle = await createTestDatabase(kind);
    handles.push(handle);
    return handle;
  };

  it('gives a migrated, empty database of its own', async () => {
    const handle = await open();
    expect(handle.kind).toBe(kind);
    await handle.db.insert(shops).values({ domain: 'a.myshopify.com' });
    expect(await handle.db.select({ domain: shops.domain }).from(shops)).toEqual([
      { domain: 'a.myshopify.com' },
    ]);
  });

  it('has every committed migration applied, and nothing another test wrote', async () => {
    const first = await open();
    await first.db.insert(shops).values({ domain: 'b.myshopify.com' });
    const second = await open();
    // Both drivers answer db.execute with { rows }.
    const applied = (await second.db.execute(
      sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
    )) as unknown as { rows: unknown[] };
    expect(applied.rows).toEqual([{ n: journal.entries.length }]);
    expect(await second.db.select().from(shops)).toEqual([]);
  });
});
