import { afterEach, describe, expect, it } from 'vitest';
import { shops } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from './db';

describe.each(['postgres', 'pglite'] as const)('createTestDatabase(%s)', (kind) => {
  let handle: TestDatabase | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('gives a migrated, empty database of its own', async () => {
    handle = await createTestDatabase(kind);
    expect(handle.kind).toBe(kind);
    await handle.db.insert(shops).values({ domain: 'a.myshopify.com' });
    expect(await handle.db.select({ domain: shops.domain }).from(shops)).toEqual([
      { domain: 'a.myshopify.com' },
    ]);
  });
});
