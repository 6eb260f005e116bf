/**
 * The admin's history import page through the built server (`node dist/server.mjs`) on this
 * file's own PostgreSQL database, with App Bridge session tokens minted as Shopify mints them and
 * files uploaded as multipart form posts to `/app/import.data` (what the page's submit sends).
 * Refusals say why and save nothing — bad rows named by line, too large, not UTF-8, NUL bytes,
 * empty, no file; a good file becomes a queued import with its job, started by the token's staff
 * member; a second upload meanwhile is refused; another shop sees none of it; and once a worker has
 * run it, the page lists its counts and skipped rows.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { historyImports } from '../../db/schema';
import { referenceProgram } from '../../loyalty/program';
import { createImportQueue } from '../../app/queues/import-queue.server';
import { redisOptions } from '../../app/queues/connection.server';
import { startWorkers } from '../../workers/runtime.server';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { adminHeaders, adminLoader, decodeSingleFetch } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const SHOP = 'laurel-import.myshopify.com';
const OTHER_SHOP = 'laurel-import-other.myshopify.com';
const PREFIX = `test-${randomUUID()}`;
const ROUTE = 'routes/app.import';

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let other: Shop;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'USD', timezone: 'UTC' });
  await publishProgram(db.db, shop.id, referenceProgram, new Date(0));
  await storeOfflineSession(db.db, SHOP, 'shpat_import');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_import_other');
  app = await startAppProcess({
    env: {
      DATABASE_URL: db.url!,
      QUEUE_PREFIX: PREFIX,
      LOG_LEVEL: 'warn',
      SESSION_CACHE_TTL_MS: '0',
    },
  });
}, 300_000);

afterAll(async () => {
  await app?.stop();
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  await db?.close();
});

const bearer = (shopDomain = SHOP, userId = '7001') => adminHeaders(shopDomain, userId);

interface PageData {
  hasProgram: boolean;
  maxBytes: number;
  active: ImportViewData | null;
  imports: ImportViewData[];
  detail: ImportViewData | null;
}
interface ImportViewData {
  id: number;
  fileName: string;
  status: string;
  percent: number;
  progress: string;
  counts: Record<string, number>;
  skipped: { line: number; reason: string }[];
  skippedCount: number;
  startedBy: string;
}

async function page(shopDomain = SHOP, query = '') {
  const { status, data, error } = await adminLoader<PageData>(
    app.url,
    `/app/import${query}`,
    ROUTE,
    bearer(shopDomain),
  );
  return { status, data, error };
}

/** A multipart post of `content` as the `file` field, as the page's submit sends it. */
async function upload(
  content: string | Uint8Array<ArrayBuffer> | null,
  options: { name?: string; shopDomain?: string } = {},
) {
  const form = new FormData();
  if (content !== null) {
    form.set('file', new Blob([content], { type: 'text/csv' }), options.name ?? 'history.csv');
  }
  const response = await fetch(new URL('/app/import.data', app.url), {
    method: 'POST',
    headers: bearer(options.shopDomain),
    body: form,
  });
  const { status, body } = await decodeSingleFetch(response);
  // The action's answer is the route's `data`; the server's own 413 is plain JSON text.
  const answer =
    typeof body === 'object' && body !== null ? (body as { data: unknown }).data : body;
  return { status, body: answer as Record<string, unknown> };
}

async function importRows(shopId: number) {
  return db.db.select().from(historyImports).where(eq(historyImports.shopId, shopId));
}

const GOOD = [
  'transaction_id,customer_id,date,amount',
  'T1,7001,2026-01-03,120.00',
  'T2,7002,2026-01-05,49.99',
  'T3,7001,2026-01-09,75.50',
].join('\n');

describe('admin: history import', () => {
  it('shows an empty page before any import', async () => {
    const { status, data } = await page();
    expect(status).toBe(200);
    expect(data).toEqual({
      hasProgram: true,
      maxBytes: 20 * 1024 * 1024,
      active: null,
      imports: [],
      detail: null,
    });
  });

  it('refuses a file with bad rows, naming each by line, and saves nothing', async () => {
    const lines = ['customer_id,date,amount'];
    for (let i = 0; i < 50; i++)
      lines.push(i % 2 === 0 ? `C${i},2026-01-03,abc` : `C${i},2026-01-03,1.00`);
    lines.push(',2026-01-03,5.00');
    const { status, body } = await upload(lines.join('\n'), { name: 'bad.csv' });
    expect(status).toBe(400);
    expect(body).toMatchObject({
      ok: false,
      title: 'bad.csv has 26 problems; nothing was imported. Fix them and upload the file again:',
    });
    const problems = body.problems as string[];
    expect(problems).toHaveLength(21);
    expect(problems[0]).toBe("line 2: amount 'abc' is not a plain decimal number");
    expect(problems[1]).toBe("line 4: amount 'abc' is not a plain decimal number");
    expect(problems[20]).toBe('…and 6 more');
    expect(await importRows(shop.id)).toEqual([]);
  });

  it('refuses what is not a CSV text file within the limit, with the reason', async () => {
    const cases: [string | Uint8Array<ArrayBuffer> | null, number, RegExp][] = [
      [null, 400, /^Choose a CSV file to upload\.$/],
      ['', 400, /^history\.csv is empty\.$/],
      [Uint8Array.from([0x63, 0x75, 0xff, 0xfe, 0x0a]), 400, /is not UTF-8 text/],
      ['customer_id,date,amount\nC1,2026-01-01,1\u0000\n', 400, /contains NUL bytes/],
      ['customer_id,date,amount\n', 400, /^history\.csv has no rows to import\.$/],
      [
        new Uint8Array(20 * 1024 * 1024 + 1).fill(0x61),
        413,
        /^history\.csv is 20 MB: the limit is 20 MB\./,
      ],
    ];
    for (const [content, expectedStatus, title] of cases) {
      const { status, body } = await upload(content);
      expect(status, String(title)).toBe(expectedStatus);
      expect(body.ok).toBe(false);
      expect(body.title).toMatch(title);
    }
    // Past the server's limit for the page: refused on its declared length, before any is read.
    const huge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        new URL('/app/import.data', app.url),
        {
          method: 'POST',
          headers: {
            ...bearer(),
            'Content-Type': 'multipart/form-data; boundary=x',
            'Content-Length': String(22 * 1024 * 1024),
          },
        },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        },
      );
      request.on('error', reject);
      request.flushHeaders();
    });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toEqual({
      error: `the body of ${22 * 1024 * 1024} bytes is over this path's limit of ${21 * 1024 * 1024} bytes`,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(await importRows(shop.id)).toEqual([]);
  });

  it('queues a good file with its job, refuses a second meanwhile, and shows none of it to another shop', async () => {
    const { status, body } = await upload(GOOD);
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, rows: 3, format: 'Transactions CSV', enqueued: true });
    const [row] = await importRows(shop.id);
    expect(row).toMatchObject({
      id: body.importId,
      status: 'queued',
      fileName: 'history.csv',
      format: 'transactions',
      content: GOOD,
      bytes: GOOD.length,
      totalRows: 3,
      processedRows: 0,
      startedBy: { userId: '7001', sessionId: expect.any(String) },
    });
    const queue = createImportQueue(
      { redisUrl: TEST_REDIS_URL, prefix: PREFIX },
      redisOptions(TEST_REDIS_URL),
    );
    try {
      const job = await queue.getJob(`import-${row!.id}`);
      expect(job?.data).toEqual({ importId: row!.id });
    } finally {
      await queue.close();
    }

    const second = await upload(GOOD, { name: 'again.csv' });
    expect(second.status).toBe(409);
    expect(second.body.title).toBe(
      'An import is already waiting to run (history.csv): upload again once it has finished.',
    );
    expect(await importRows(shop.id)).toHaveLength(1);

    const { data } = await page();
    expect(data.active).toMatchObject({
      id: row!.id,
      status: 'queued',
      percent: 0,
      progress: '0 of 3 rows',
      startedBy: 'Staff member 7001',
    });
    // Another shop: nothing of this import, not even by its id.
    const elsewhere = await page(OTHER_SHOP, `?skipped=${row!.id}`);
    expect(elsewhere.data).toMatchObject({
      hasProgram: false,
      active: null,
      imports: [],
      detail: null,
    });
    const refused = await upload(GOOD, { shopDomain: OTHER_SHOP });
    expect(refused.status).toBe(400);
    expect(refused.body.title).toBe(
      'The shop has no earning program yet: publish one, then import.',
    );
    expect(await importRows(other.id)).toEqual([]);
  });

  it('once the worker has run it, lists it with its counts and skipped rows', async () => {
    const runtime = await startWorkers({
      db: db.db,
      queue: { redisUrl: TEST_REDIS_URL, prefix: PREFIX },
      concurrency: 1,
    });
    try {
      await runtime.ready;
      await vi.waitFor(
        async () => {
          const { data } = await page();
          expect(data.active).toBeNull();
        },
        { timeout: 20_000, interval: 200 },
      );
    } finally {
      await runtime.close();
    }
    const { data } = await page();
    expect(data.imports).toHaveLength(1);
    const [done] = data.imports;
    expect(done).toMatchObject({
      status: 'done',
      percent: 100,
      progress: '3 of 3 rows',
      counts: { posted: 3, alreadyPresent: 0 },
      skippedCount: 1,
      skipped: [{ line: 3, reason: '49.99 USD earns 0 points under program version 1' }],
    });
    const detail = await page(SHOP, `?skipped=${done!.id}`);
    expect(detail.data.detail?.skipped).toEqual(done!.skipped);
    const [row] = await importRows(shop.id);
    expect(row!.content).toBeNull();
  }, 40_000);
});
