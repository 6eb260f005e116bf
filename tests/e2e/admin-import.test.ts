/**
 * The admin's Import history page in Chromium through /dev/admin (tests/helpers/admin-browser.ts),
 * on this file's own PostgreSQL database, with the worker as its own process (`node
 * dist/worker.mjs`) started and stopped by the test. A merchant uploads a file with a bad row (the
 * line named, nothing saved — checked in the database), then Shopify's sample export: queued while
 * no worker runs, still there after a reload, imported once a worker starts, the page following
 * along by itself; its skipped orders listed with their reasons. Then a 30,000-row transactions
 * file: the worker is stopped mid-way (SIGTERM, between batches), the page shows where it stands
 * after a reload, and a new worker finishes it — every row posted exactly once.
 * Screenshots: tests/artifacts/admin-import*.png; docs/images/admin-import.png for docs/import.md.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, like, sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { historyImports, ledgerEntries } from '../../db/schema';
import { ROOT } from '../../dev/build';
import { referenceProgram } from '../../loyalty/program';
import { createImportQueue } from '../../app/queues/import-queue.server';
import { redisOptions } from '../../app/queues/connection.server';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';
import {
  ensureWorkerBuilt,
  startWorkerProcess,
  stopAllWorkerProcesses,
  type WorkerProcess,
} from '../helpers/worker-process';

const SHOP = 'laurel-admin-import.myshopify.com';
const TOKEN = 'shpat_admin_import';
const PREFIX = `test-${randomUUID()}`;
const BIG_ROWS = 30_000;

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  await ensureWorkerBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await publishProgram(db.db, shop.id, referenceProgram, new Date(0));
  await storeOfflineSession(db.db, SHOP, TOKEN);
  // Alice has a verified account: her exported orders go to her; the sample's others wait.
  await ensureCustomer(db.db, shop.id, {
    externalId: '7010250001',
    email: 'alice@example.com',
    emailVerified: true,
  });
  admin = await startAdminBrowser({
    shop: SHOP,
    accessToken: TOKEN,
    settings: { currencyCode: 'USD', ianaTimezone: 'America/New_York' },
    databaseUrl: db.url!,
    queuePrefix: PREFIX,
  });
}, 300_000);

afterAll(async () => {
  await stopAllWorkerProcesses();
  await admin?.close();
  await db?.close();
}, 60_000);

async function startWorker(): Promise<WorkerProcess> {
  const queue = createImportQueue(
    { redisUrl: TEST_REDIS_URL, prefix: PREFIX },
    redisOptions(TEST_REDIS_URL),
  );
  try {
    return await startWorkerProcess({
      env: {
        DATABASE_URL: db.url!,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: PREFIX,
        ADMIN_API_ENDPOINT: admin.emulator.endpointTemplate,
      },
      queue,
    });
  } finally {
    await queue.close();
  }
}

async function imports() {
  return db.db
    .select({
      id: historyImports.id,
      fileName: historyImports.fileName,
      status: historyImports.status,
      processedRows: historyImports.processedRows,
      totalRows: historyImports.totalRows,
      error: historyImports.error,
    })
    .from(historyImports)
    .where(eq(historyImports.shopId, shop.id))
    .orderBy(historyImports.id);
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function openPage(page: Page) {
  await page.goto(`${admin.app.url}/dev/admin?path=/app/import`);
  await page.getByRole('heading', { name: 'Upload a file' }).waitFor({ timeout: 15_000 });
  await hydrated(page);
}

async function chooseFile(page: Page, name: string, content: string | Buffer) {
  await page.locator('input[type="file"]').setInputFiles({
    name,
    mimeType: 'text/csv',
    buffer: Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'),
  });
  await page.getByText(name, { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Check and import' }).click();
}

/** The progress bar's value (Polaris renders a <progress>). */
async function progressValue(page: Page): Promise<number> {
  return Number(await page.locator('progress').getAttribute('value'));
}

describe('admin: history import', () => {
  it('refuses a bad file inline, imports the sample export and a big file through stopped and restarted workers', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await openPage(page);
    await page.getByText('No imports yet.', { exact: false }).waitFor();
    await shot(page, 'admin-import-empty');

    // A bad row: named by its line, nothing saved.
    expected.push(
      /status of 400 .*\/app\/import\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/import\.data(\?[^ ]*)?$/,
    );
    await chooseFile(
      page,
      'bad.csv',
      'customer_id,date,amount\n7001,2026-01-03,120.00\n7002,2026-01-05,abc\n',
    );
    await page
      .getByText('bad.csv has 1 problem; nothing was imported. Fix it and upload the file again:')
      .waitFor();
    await page.getByText("line 3: amount 'abc' is not a plain decimal number").waitFor();
    expect(await imports()).toEqual([]);
    await shot(page, 'admin-import-bad-row');

    // Shopify's sample export with no worker running: queued, and still there after a reload.
    const sample = readFileSync(join(ROOT, 'samples', 'shopify-orders-export.csv'));
    await chooseFile(page, 'shopify-orders-export.csv', sample);
    await page
      .getByText(/^The file passed every check: \d+ rows \(Shopify orders export\)/)
      .waitFor();
    await page.getByText('Importing shopify-orders-export.csv').waitFor();
    await page.getByText('Waiting for the import worker to pick it up.').waitFor();
    const [queued] = await imports();
    expect(queued).toMatchObject({ status: 'queued', processedRows: 0 });
    await openPage(page);
    await page.getByText('Importing shopify-orders-export.csv').waitFor();
    expect(await progressValue(page)).toBe(0);
    // One import at a time: the form says so and takes no file.
    await page
      .getByText('One import at a time: you can upload the next file once this one has finished.')
      .waitFor();
    expect(await page.getByRole('button', { name: 'Check and import' }).isDisabled()).toBe(true);

    // A worker starts: the page follows the import to its end by itself (no reload).
    let worker = await startWorker();
    await page.getByRole('heading', { name: 'Upload a file' }).waitFor();
    await page
      .getByText('Importing shopify-orders-export.csv')
      .waitFor({ state: 'detached', timeout: 60_000 });
    const [sampleDone] = await imports();
    expect(sampleDone).toMatchObject({ status: 'done', processedRows: queued!.totalRows });
    const past = page.getByRole('heading', { name: 'shopify-orders-export.csv' });
    await past.waitFor();
    const skippedButton = page.getByRole('button', { name: /^Show skipped rows \(\d+\)$/ });
    await skippedButton.click();
    await page
      .getByText(
        /^Line \d+: order #\d+: no verified account has its email yet; it waits as a guest order/,
      )
      .first()
      .waitFor();
    // Alice's orders earned, under the webhooks' keys.
    const alice = await db.db
      .select({ key: ledgerEntries.idempotencyKey })
      .from(ledgerEntries)
      .where(
        and(eq(ledgerEntries.shopId, shop.id), like(ledgerEntries.idempotencyKey, 'order:%:earn')),
      );
    expect(alice.length).toBeGreaterThan(0);

    // A 30,000-row file: the worker is stopped mid-way and another finishes it.
    const lines = ['transaction_id,customer_id,date,amount'];
    for (let i = 1; i <= BIG_ROWS; i++) {
      lines.push(
        `H${i},${7_020_000_000 + (i % 2_000)},2026-02-${String(1 + (i % 28)).padStart(2, '0')},${(20 + (i % 300)).toFixed(2)}`,
      );
    }
    await chooseFile(page, 'history-2026.csv', `${lines.join('\n')}\n`);
    await page.getByText('Importing history-2026.csv').waitFor();
    const midway = await until(
      async () => (await imports()).at(-1)!,
      (row) => row.processedRows > 0,
    );
    expect(midway.processedRows).toBeLessThan(BIG_ROWS);
    const stopped = await worker.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    const paused = (await imports()).at(-1)!;
    expect(paused).toMatchObject({
      status: 'queued',
      error: 'the worker stopped; the import goes on from its last batch when a worker starts',
    });
    expect(paused.processedRows).toBeGreaterThan(0);
    expect(paused.processedRows).toBeLessThan(BIG_ROWS);
    // What a reload shows is what the database holds.
    await openPage(page);
    await page.getByText('The import stopped and will go on').waitFor();
    const percent = Math.floor((paused.processedRows / BIG_ROWS) * 100);
    expect(await progressValue(page)).toBe(percent);
    await page
      .getByText(
        new RegExp(
          `^${paused.processedRows.toLocaleString('en-US')} of 30,000 rows \\(${percent}%\\)`,
        ),
      )
      .waitFor();
    await shot(page, 'admin-import-paused');

    worker = await startWorker();
    // Running again: the bar moves on from where it stopped (the picture for the docs).
    const running = await until(
      async () => (await imports()).at(-1)!,
      (row) => row.status !== 'queued' && row.processedRows > paused.processedRows,
    );
    if (running.status === 'running') {
      await page.getByText('Running', { exact: true }).first().waitFor();
      // The sample's skipped orders, open under the past import.
      await page
        .getByRole('button', { name: /^Show skipped rows/ })
        .last()
        .click();
      await page
        .getByText(/^Line \d+: order #\d+ earns nothing/)
        .first()
        .waitFor();
      await shot(page, 'admin-import', { doc: true });
    }
    await page
      .getByText('Importing history-2026.csv')
      .waitFor({ state: 'detached', timeout: 120_000 });
    const finished = (await imports()).at(-1)!;
    expect(finished).toMatchObject({ status: 'done', processedRows: BIG_ROWS, error: null });
    // Every row once: the rows before the stop were not posted again.
    const [count] = await db.db
      .select({ n: sql<number>`count(*)::int` })
      .from(ledgerEntries)
      .where(
        and(eq(ledgerEntries.shopId, shop.id), like(ledgerEntries.idempotencyKey, 'import:txn:H%')),
      );
    expect(count?.n).toBe(BIG_ROWS);
    await page
      .getByText(`${BIG_ROWS.toLocaleString('en-US')} ledger entries posted`, { exact: false })
      .waitFor();
    if (running.status !== 'running') await shot(page, 'admin-import', { doc: true });
    await shot(page, 'admin-import-done');
    await worker.stop('SIGTERM');
    expect(problems).toEqual([]);
  }, 300_000);
});
