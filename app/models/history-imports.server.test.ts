// history_imports on PostgreSQL: skipped rows kept up to 1,000 while all are counted, lists that
// carry only the first few of them and never the file, one queued or running import per shop, and
// finishing that drops the file and frees the shop for the next upload.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyImports } from '../../db/schema';
import { ensureShop, type Shop } from './shops.server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { emptyCounts } from '../history-import.server';
import {
  activeHistoryImport,
  createHistoryImport,
  finishHistoryImport,
  getHistoryImport,
  listHistoryImports,
  MAX_KEPT_SKIPPED,
  recordHistoryImportBatch,
  startHistoryImport,
} from './history-imports.server';

let handle: TestDatabase;
let shop: Shop;
let other: Shop;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  shop = await ensureShop(handle.db, { domain: 'imports-model.myshopify.com', currency: 'USD' });
  other = await ensureShop(handle.db, { domain: 'imports-other.myshopify.com', currency: 'USD' });
});
afterAll(async () => {
  await handle?.close();
});

const upload = (shopId: number, fileName: string) =>
  createHistoryImport(handle.db, shopId, {
    fileName,
    format: 'transactions',
    content: 'customer_id,date,amount\nC1,2026-01-01,10.00\n',
    bytes: 44,
    totalRows: 1_500,
    startedBy: { userId: '9', sessionId: null },
  });

const skippedRows = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ line: from + i, reason: `reason ${from + i}` }));

describe('history imports', () => {
  it('keeps the first 1,000 skipped rows, counts them all, and lists only a few', async () => {
    const { id } = await upload(shop.id, 'big.csv');
    const run = await startHistoryImport(handle.db, shop.id, id);
    expect(run).toMatchObject({
      id,
      processedRows: 0,
      skippedCount: 0,
      content: expect.any(String),
    });
    await recordHistoryImportBatch(handle.db, shop.id, id, {
      processedRows: 700,
      counts: { ...emptyCounts(), posted: 100 },
      skipped: skippedRows(2, 600),
      skippedBefore: 0,
    });
    await recordHistoryImportBatch(handle.db, shop.id, id, {
      processedRows: 1_400,
      counts: { ...emptyCounts(), posted: 200 },
      skipped: skippedRows(602, 600),
      skippedBefore: 600,
    });
    const one = await getHistoryImport(handle.db, shop.id, id);
    expect(one).toMatchObject({ status: 'running', processedRows: 1_400, skippedCount: 1_200 });
    expect(one!.counts.posted).toBe(200);
    expect(one!.skipped).toHaveLength(MAX_KEPT_SKIPPED);
    expect(one!.skipped.at(-1)).toEqual({ line: 1_001, reason: 'reason 1001' });

    const [listed] = await listHistoryImports(handle.db, shop.id, { limit: 5, skippedLimit: 3 });
    expect(listed!.skipped).toEqual(skippedRows(2, 3));
    expect(listed).not.toHaveProperty('content');
    // Another shop sees none of it.
    expect(await getHistoryImport(handle.db, other.id, id)).toBeNull();
    expect(await listHistoryImports(handle.db, other.id, { limit: 5, skippedLimit: 3 })).toEqual(
      [],
    );

    // One at a time, until it finishes; finishing drops the file.
    await expect(upload(shop.id, 'next.csv')).rejects.toMatchObject({ code: 'CONFLICT' });
    await upload(other.id, 'theirs.csv');
    await finishHistoryImport(handle.db, shop.id, id, { status: 'done' });
    expect(await activeHistoryImport(handle.db, shop.id)).toBeNull();
    expect(await startHistoryImport(handle.db, shop.id, id)).toBeNull();
    const next = await upload(shop.id, 'next.csv');
    expect((await activeHistoryImport(handle.db, shop.id))?.id).toBe(next.id);
    const [finished] = await handle.db
      .select({ content: historyImports.content, finishedAt: historyImports.finishedAt })
      .from(historyImports)
      .where(eq(historyImports.id, id));
    expect(finished!.content).toBeNull();
    expect(finished!.finishedAt).toBeInstanceOf(Date);
  });
});
