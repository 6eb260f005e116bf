/**
 * The database commands of the real `loyalty` bin: import, report --shop, balance — on PostgreSQL
 * (a database of this test's own) and on PGlite (a temporary data directory).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDelivery } from '../app/models/inbox.server';
import { balanceOf } from '../app/models/ledger.server';
import { publishProgram } from '../app/models/programs.server';
import { ensureShop, type Shop } from '../app/models/shops.server';
import { customers, ledgerEntries, orders, webhookInbox } from '../db/schema';
import { referenceProgram } from '../loyalty/program';
import { processInbox } from '../workers/process-inbox';
import { customerPayload, customersRedactPayload, orderPayload } from './fixtures/shopify';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { seedTierProgram } from './helpers/tiers';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'loyalty.mjs');
/**
 * What `node` runs: the bin, after one V8 flag. PGlite is 8 MB of WebAssembly that V8 compiles
 * twice in each process: quickly (Liftoff), then optimised (TurboFan) in the background. A command
 * lives a few seconds, too short for the second to pay off, and it doubles the CPU a command takes
 * on PGlite. The bin runs the same code either way.
 */
const BIN_ARGS = ['--liftoff-only', BIN];
const SAMPLE = join(import.meta.dirname, '..', 'samples', 'transactions.csv');
const SHOPIFY_SAMPLE = join(import.meta.dirname, '..', 'samples', 'shopify-orders-export.csv');

const EXPORT_HEADER =
  'Name,Email,Financial Status,Paid at,Currency,Subtotal,Created at,Cancelled at,Refunded Amount,Lineitem name,Id';

/** A Shopify orders export of $120.00 paid orders (90 points each under the reference program). */
function exportCsv(rows: { name: string; id: string; email: string }[]): string {
  const lines = rows.map(
    (r) =>
      `${r.name},${r.email},paid,2026-01-05 10:15:42 -0500,USD,120.00,2026-01-05 10:15:40 -0500,,0.00,Tea,${r.id}`,
  );
  return `${[EXPORT_HEADER, ...lines].join('\n')}\n`;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

// Every command is a process of its own that opens (and on PGlite boots and migrates) the
// database: several of them make one test, which on a loaded 2-core machine takes over 30 s.
describe.each(['postgres', 'pglite'] as const)(
  'loyalty database commands on %s',
  { timeout: 120_000 },
  (kind) => {
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
        const { stdout, stderr } = await run('node', [...BIN_ARGS, ...args], { env, cwd: dir });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    }

    /**
     * Commands that do not depend on each other: at once on PostgreSQL, one after another on
     * PGlite, whose data directory one process at a time may open.
     */
    async function loyaltyEach(...commands: string[][]): Promise<Result[]> {
      if (kind === 'postgres') return Promise.all(commands.map((args) => loyalty(...args)));
      const results: Result[] = [];
      for (const args of commands) results.push(await loyalty(...args));
      return results;
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

      // The file report opens no database, so it runs beside the ledger's on either.
      const [fromFile, fromDb] = await Promise.all([
        loyalty('report', '--input', SAMPLE),
        loyalty('report', '--shop', 'demo.myshopify.com'),
      ]);
      expect(fromDb.code).toBe(0);
      expect(fromDb.stdout).toBe(fromFile.stdout);

      // Each customer's balance equals the report's total for them (only purchases were posted).
      const report = JSON.parse(fromFile.stdout) as {
        customers: { customerId: string; total: number }[];
      };
      const shown = report.customers.slice(0, 3);
      expect(shown).toHaveLength(3);
      const balances = await loyaltyEach(
        ...shown.map((c) => [
          'balance',
          '--shop',
          'demo.myshopify.com',
          '--customer',
          c.customerId,
        ]),
      );
      balances.forEach((balance, i) => {
        expect(balance.code).toBe(0);
        expect(JSON.parse(balance.stdout)).toEqual({
          customerId: shown[i]!.customerId,
          balance: shown[i]!.total,
          lifetimeEarned: shown[i]!.total,
        });
      });
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

      // A Shopify export names no customer id: its orders wait as guest orders for their accounts.
      const shop = 'export.myshopify.com';
      const imported = await loyalty('import', '--input', SHOPIFY_SAMPLE, '--shop', shop);
      expect(imported.stderr).toBe('');
      expect(imported.code).toBe(0);
      const summary = JSON.parse(imported.stdout);
      expect(summary).toMatchObject({ posted: 0, alreadyPresent: 0, ordersAttached: 0 });
      expect(summary.ordersRecorded).toBe(summary.rows);
      expect(summary.guestOrders).toBeGreaterThan(0);
      const again = await loyalty('import', '--input', SHOPIFY_SAMPLE, '--shop', shop);
      expect(JSON.parse(again.stdout)).toMatchObject({
        posted: 0,
        alreadyPresent: summary.rows,
        ordersRecorded: 0,
      });
      const fromDb = await loyalty('report', '--shop', shop);
      expect(JSON.parse(fromDb.stdout).customers).toEqual([]);
    });

    it('refuses a Shopify export without order ids, naming the line', async () => {
      const file = join(dir, 'no-id.csv');
      writeFileSync(file, exportCsv([{ name: '#1', id: '', email: 'a@example.com' }]));
      const result = await loyalty('import', '--input', file, '--shop', 'noid.myshopify.com');
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/line 2: order #1 has no Id/);
      const report = await loyalty('report', '--shop', 'noid.myshopify.com');
      expect(report.stderr).toMatch(/no shop 'noid.myshopify.com'/);
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
      const [unknown, domain, missing] = await loyaltyEach(
        ['balance', '--shop', 'demo.myshopify.com', '--customer', 'nobody'],
        ['balance', '--shop', 'not a shop', '--customer', 'C001'],
        ['import', '--shop', 'demo.myshopify.com'],
      );
      expect(unknown!.code).toBe(2);
      expect(unknown!.stderr).toMatch(/no customer 'nobody'/);
      expect(domain!.code).toBe(2);
      expect(domain!.stdout).toBe('');
      expect(missing!.code).toBe(2);
      expect(missing!.stderr).toMatch(/--input FILE/);
    });
  },
);

/**
 * An order paid by webhook and imported from Shopify's export, in either order, earns once, on
 * the Shopify customer; a redaction afterwards leaves nothing of the customer. The webhooks are
 * processed by the real handlers on the same database the bin imports into.
 */
describe('loyalty import of a Shopify export and the webhooks', () => {
  let database: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const log = pino({ level: 'silent' });
  let nextId = 5_300_000_000_000;
  const id = () => ++nextId;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'laurel-cli-'));
    database = await createTestDatabase('postgres');
    env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url };
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newShop(): Promise<Shop> {
    const shop = await ensureShop(database.db, {
      domain: `twice-${randomUUID().slice(0, 8)}.myshopify.com`,
    });
    await publishProgram(database.db, shop.id, referenceProgram, new Date(0));
    return shop;
  }

  async function deliver(shop: Shop, topic: string, payload: Record<string, unknown>) {
    const { id: inboxId } = await recordDelivery(database.db, {
      shopDomain: shop.domain,
      webhookId: randomUUID(),
      topic,
      payload: JSON.parse(JSON.stringify(payload)),
    });
    return processInbox(database.db, inboxId, log);
  }

  async function importExport(shop: Shop, rows: { name: string; id: string; email: string }[]) {
    const file = join(dir, `${randomUUID()}.csv`);
    writeFileSync(file, exportCsv(rows));
    try {
      const { stdout } = await run(
        'node',
        [...BIN_ARGS, 'import', '--input', file, '--shop', shop.domain],
        { env, cwd: dir },
      );
      return JSON.parse(stdout) as Record<string, number>;
    } catch (error) {
      throw new Error(`import failed: ${(error as { stderr: string }).stderr}`);
    }
  }

  async function shopState(shop: Shop) {
    const db = database.db;
    const rows = await db.select().from(customers).where(eq(customers.shopId, shop.id));
    const entries = await db.select().from(ledgerEntries).where(eq(ledgerEntries.shopId, shop.id));
    const balances = await Promise.all(
      rows.map(async (c) => [c.externalId, (await balanceOf(db, shop.id, c.id)).balance]),
    );
    return {
      customers: rows,
      keys: entries.map((e) => e.idempotencyKey).sort(),
      balances: Object.fromEntries(balances),
    };
  }

  const shopper = (customerId: number, email: string) =>
    orderPayload({
      id: id(),
      customer: { id: customerId, email },
      lineItems: [{ price: '120.00' }],
    });

  it('webhook then import: one award, on the Shopify customer', async () => {
    const shop = await newShop();
    const customerId = id();
    const order = shopper(customerId, 'ann@example.com');
    await deliver(shop, 'orders/paid', order);
    const summary = await importExport(shop, [
      { name: '#1001', id: String(order.id), email: 'ann@example.com' },
    ]);
    expect(summary).toMatchObject({ posted: 0, alreadyPresent: 1, ordersRecorded: 0 });
    const state = await shopState(shop);
    expect(state.keys).toEqual([`order:${order.id}:earn`]);
    expect(state.balances).toEqual({ [String(customerId)]: 90 });
  });

  it('import then webhook: one award, on the Shopify customer', async () => {
    const shop = await newShop();
    const customerId = id();
    const order = shopper(customerId, 'bo@example.com');
    const summary = await importExport(shop, [
      { name: '#1002', id: String(order.id), email: 'bo@example.com' },
    ]);
    expect(summary).toMatchObject({ posted: 0, ordersRecorded: 1, guestOrders: 1 });
    await deliver(shop, 'orders/paid', order);
    const state = await shopState(shop);
    expect(state.keys).toEqual([`order:${order.id}:earn`]);
    expect(state.balances).toEqual({ [String(customerId)]: 90 });
    // A re-import changes nothing.
    expect(
      await importExport(shop, [{ name: '#1002', id: String(order.id), email: 'bo@example.com' }]),
    ).toMatchObject({ posted: 0, alreadyPresent: 1 });
    expect((await shopState(shop)).keys).toEqual([`order:${order.id}:earn`]);
  });

  it('import attaches to the verified account with the email, never to an unverified one', async () => {
    const shop = await newShop();
    const verified = id();
    const unverified = id();
    await deliver(
      shop,
      'customers/create',
      customerPayload({ id: verified, email: 'cy@example.com' }),
    );
    await deliver(shop, 'customers/create', {
      ...customerPayload({ id: unverified, email: 'dee@example.com' }),
      verified_email: false,
    });
    const [a, b] = [String(id()), String(id())];
    const summary = await importExport(shop, [
      { name: '#1003', id: a, email: 'cy@example.com' },
      { name: '#1004', id: b, email: 'dee@example.com' },
    ]);
    expect(summary).toMatchObject({ posted: 1, ordersAttached: 1, guestOrders: 1 });
    const state = await shopState(shop);
    expect(state.keys).toEqual([`order:${a}:earn`]);
    expect(state.balances).toEqual({ [String(verified)]: 90, [String(unverified)]: 0 });
  });

  it('customers/redact after an import leaves nothing of the customer', async () => {
    const shop = await newShop();
    const customerId = id();
    await deliver(
      shop,
      'customers/create',
      customerPayload({ id: customerId, email: 'eve@example.com' }),
    );
    const [attached, guest] = [String(id()), String(id())];
    await importExport(shop, [
      { name: '#1005', id: attached, email: 'eve@example.com' },
      // Typed differently at checkout: still her email.
      { name: '#1006', id: guest, email: 'EVE@example.com' },
    ]);
    const outcome = await deliver(
      shop,
      'customers/redact',
      customersRedactPayload({
        shopDomain: shop.domain,
        customer: { id: customerId, email: 'eve@example.com' },
      }),
    );
    expect(outcome).toMatchObject({ status: 'processed', summary: { ordersRedacted: 2 } });
    const stored = JSON.stringify([
      await database.db.select().from(customers).where(eq(customers.shopId, shop.id)),
      await database.db.select().from(orders).where(eq(orders.shopId, shop.id)),
      await database.db.select().from(webhookInbox).where(eq(webhookInbox.shopDomain, shop.domain)),
    ]).toLowerCase();
    expect(stored).not.toContain('eve@example.com');
    expect((await shopState(shop)).balances).toEqual({ [String(customerId)]: 180 });
  });
});

describe('loyalty import and tiers', () => {
  let database: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'laurel-cli-'));
    database = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imported history moves members between tiers as webhooks do, once', async () => {
    const shop = await ensureShop(database.db, {
      domain: `tiers-${randomUUID().slice(0, 8)}.myshopify.com`,
    });
    await publishProgram(database.db, shop.id, referenceProgram, new Date(0));
    await seedTierProgram(database.db, shop.id, {
      metric: 'points',
      window: 'lifetime',
      tiers: [
        { key: 'member', name: 'Member', threshold: 0 },
        { key: 'silver', name: 'Silver', threshold: 200, entryReward: { points: 10 } },
      ],
    });
    const file = join(dir, 'tiers.csv');
    // C1: $120.00 → 90 points (Member); C2: $200.00 → 250 points (Silver).
    writeFileSync(
      file,
      'transaction_id,customer_id,date,amount\nA1,C1,2026-01-03,120.00\nA2,C2,2026-01-04,200.00\n',
    );
    const env = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
    };
    const importFile = () =>
      run('node', [...BIN_ARGS, 'import', '--input', file, '--shop', shop.domain], {
        env,
        cwd: dir,
      });
    await importFile();
    await importFile();
    const rows = await database.db
      .select({
        key: ledgerEntries.idempotencyKey,
        points: ledgerEntries.points,
        externalId: customers.externalId,
      })
      .from(ledgerEntries)
      .innerJoin(customers, eq(customers.id, ledgerEntries.customerId))
      .where(eq(ledgerEntries.shopId, shop.id));
    const tierEntries = rows
      .filter((r) => r.key.startsWith('tier:'))
      .map((r) => `${r.externalId} ${r.key.replace(/^tier:\d+:/, '')} ${r.points}`)
      .sort();
    expect(tierEntries).toEqual(['C1 change:1 0', 'C2 change:1 0', 'C2 entry:silver 10']);
  });
});
