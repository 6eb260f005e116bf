/**
 * The database commands of the real `loyalty` bin: import, report --shop, balance — on PostgreSQL
 * (a database of this test's own) and on PGlite (a temporary data directory).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'loyalty.mjs');
const SAMPLE = join(import.meta.dirname, '..', 'samples', 'transactions.csv');
const SHOPIFY_SAMPLE = join(import.meta.dirname, '..', 'samples', 'shopify-orders-export.csv');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe.each(['postgres', 'pglite'] as const)('loyalty database commands on %s', (kind) => {
  let database: TestDatabase | undefined;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'laurel-cli-'));
    env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent' };
    delete env.DATABASE_URL;
    if (kind === 'postgres') {
      database = await createTestDatabase('postgres');
      env.DATABASE_URL = database.url;
    } else {
      env.PGLITE_DIR = join(dir, 'pglite');
    }
  });

  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function loyalty(...args: string[]): Promise<Result> {
    try {
      const { stdout, stderr } = await run('node', [BIN, ...args], { env, cwd: dir });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('imports a file once, reports the same as the file report, and shows balances', async () => {
    const first = await loyalty('import', '--input', SAMPLE, '--shop', 'demo.myshopify.com');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.posted).toBe(summary.rows);
    expect(summary.alreadyPresent).toBe(0);

    const again = await loyalty('import', '--input', SAMPLE, '--shop', 'demo.myshopify.com');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ posted: 0, alreadyPresent: summary.rows });

    const fromFile = await loyalty('report', '--input', SAMPLE);
    const fromDb = await loyalty('report', '--shop', 'demo.myshopify.com');
    expect(fromDb.code).toBe(0);
    expect(fromDb.stdout).toBe(fromFile.stdout);

    // Each customer's balance equals the report's total for them (only purchases were posted).
    const report = JSON.parse(fromFile.stdout) as {
      customers: { customerId: string; total: number }[];
    };
    for (const customer of report.customers.slice(0, 3)) {
      const shown = await loyalty(
        'balance',
        '--shop',
        'demo.myshopify.com',
        '--customer',
        customer.customerId,
      );
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toEqual({
        customerId: customer.customerId,
        balance: customer.total,
        lifetimeEarned: customer.total,
      });
    }
  });

  it('reports a date range with every month listed, and agrees on a Shopify export', async () => {
    const ranged = await loyalty(
      'report',
      '--shop',
      'demo.myshopify.com',
      '--from',
      '2026-02-01',
      '--to',
      '2026-04-30',
    );
    expect(ranged.code).toBe(0);
    expect(JSON.parse(ranged.stdout).months).toEqual(['2026-02', '2026-03', '2026-04']);

    const shop = 'export.myshopify.com';
    const imported = await loyalty('import', '--input', SHOPIFY_SAMPLE, '--shop', shop);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const fromFile = await loyalty('report', '--input', SHOPIFY_SAMPLE);
    const fromDb = await loyalty('report', '--shop', shop);
    expect(fromDb.stdout).toBe(fromFile.stdout);
  });

  it('refuses bad input with exit 2, naming the line, and posts nothing', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'customer_id,date,amount\nC1,2026-01-02,10.00\nC2,2026-13-01,5.00\n');
    const result = await loyalty('import', '--input', bad, '--shop', 'bad.myshopify.com');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/line 3/);
    const report = await loyalty('report', '--shop', 'bad.myshopify.com');
    expect(report.code).toBe(2);
    expect(report.stderr).toMatch(/no shop 'bad.myshopify.com'/);
  });

  it('explains unknown customers, bad domains and missing flags', async () => {
    const unknown = await loyalty(
      'balance',
      '--shop',
      'demo.myshopify.com',
      '--customer',
      'nobody',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no customer 'nobody'/);
    const domain = await loyalty('balance', '--shop', 'not a shop', '--customer', 'C001');
    expect(domain.code).toBe(2);
    expect(domain.stdout).toBe('');
    const missing = await loyalty('import', '--shop', 'demo.myshopify.com');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--input FILE/);
  });
});
