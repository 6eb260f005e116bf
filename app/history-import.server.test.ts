// The history import both `loyalty import` and the admin's job run, on PostgreSQL: a plain file and
// a Shopify export posted with the reference program, every skipped row reported by line with its
// reason, a second import of the same file posting nothing, an order paid by webhook and imported
// earning once, and a run resumed from a committed batch going on from there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ledgerEntries } from '../db/schema';
import { customerPayload, orderPayload } from '../tests/fixtures/shopify';
import { useInboxHarness } from '../tests/helpers/inbox-harness';
import {
  checkHistoryFile,
  importHistoryFile,
  listProblems,
  type ImportBatch,
  type ImportOptions,
} from './history-import.server';
import { findCustomerByExternalId } from './models/customers.server';
import { balanceOf } from './models/ledger.server';
import { programTimeline } from './models/programs.server';
import type { Shop } from './models/shops.server';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const handle = useInboxHarness();
const dir = mkdtempSync(join(tmpdir(), 'laurel-history-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(text: string): string {
  const path = join(dir, `file-${++files}.csv`);
  writeFileSync(path, text);
  return path;
}

const EXPORT_HEADER =
  'Name,Email,Financial Status,Paid at,Currency,Subtotal,Created at,Cancelled at,Refunded Amount,Lineitem name,Id';

interface ExportRow {
  name: string;
  id: string | number;
  email: string;
  status?: string;
  subtotal?: string;
  cancelledAt?: string;
  refunded?: string;
}

function exportCsv(rows: ExportRow[]): string {
  const lines = rows.map(
    (r) =>
      `${r.name},${r.email},${r.status ?? 'paid'},2026-01-05 10:15:42 -0500,USD,${r.subtotal ?? '120.00'},2026-01-05 10:15:40 -0500,${r.cancelledAt ?? ''},${r.refunded ?? '0.00'},Tea,${r.id}`,
  );
  return `${[EXPORT_HEADER, ...lines].join('\n')}\n`;
}

async function run(shop: Shop, path: string, options: Partial<ImportOptions> = {}) {
  const batches: ImportBatch[] = [];
  const summary = await importHistoryFile(handle.db, shop, path, {
    currency: 'USD',
    timezone: shop.timezone,
    timeline: await programTimeline(handle.db, shop.id),
    onBatch: (_tx, batch) => {
      batches.push(batch);
    },
    ...options,
  });
  return { summary, batches, skipped: batches.flatMap((b) => b.skipped) };
}

async function balance(shop: Shop, externalId: string) {
  const customer = await findCustomerByExternalId(handle.db, shop.id, externalId);
  return customer ? (await balanceOf(handle.db, shop.id, customer.id)).balance : undefined;
}

async function keys(shop: Shop) {
  const rows = await handle.db
    .select({ key: ledgerEntries.idempotencyKey, points: ledgerEntries.points })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.shopId, shop.id));
  return rows.map((r) => `${r.key}=${r.points}`).sort();
}

let nextId = 8_800_000_000_000;
const id = () => ++nextId;

describe('checkHistoryFile', () => {
  it('names every bad row by line, in line order, and detects the format', async () => {
    const path = file(
      [
        'customer_id,date,amount',
        'C1,2026-01-03,120.00',
        'C2,2026-01-05,abc',
        ',2026-01-05,10.00',
        'C3,2026-13-01,10.00',
      ].join('\n'),
    );
    const check = await checkHistoryFile(path, { currency: 'USD', timezone: 'UTC' });
    expect(check.format).toBe('transactions');
    expect(check.rows).toBe(1);
    expect(check.errors.map((e) => e.line)).toEqual([3, 4, 5]);
    expect(listProblems(check.errors)[0]).toBe(
      "line 3: amount 'abc' is not a plain decimal number",
    );
    expect(listProblems(check.errors, 2)).toEqual([
      "line 3: amount 'abc' is not a plain decimal number",
      'line 4: customer_id is empty',
      '…and 1 more',
    ]);

    const shopify = await checkHistoryFile(
      file(exportCsv([{ name: '#1', id: '', email: 'a@example.com' }])),
      { currency: 'USD', timezone: 'UTC' },
    );
    expect(shopify.format).toBe('shopify');
    expect(listProblems(shopify.errors)).toEqual([
      'line 2: order #1 has no Id: import keys Shopify orders by their id, as the webhooks do (export with the Id column)',
    ]);
  });
});

describe('a plain file', () => {
  it('posts each row once, reports zero-point and repeated rows, and a second import posts nothing', async () => {
    const shop = await handle.newShop('import-plain', { currency: 'USD', timezone: 'UTC' });
    const path = file(
      [
        'transaction_id,customer_id,date,amount',
        'T1,C001,2026-01-03,120.00',
        'T2,C002,2026-01-05,49.99',
        'T3,C001,2026-01-09,75.50',
        ',C003,2026-01-10,120.00',
        ',C003,2026-01-10,120.00',
      ].join('\n'),
    );
    const first = await run(shop, path, { batchRows: 2 });
    expect(first.summary).toMatchObject({
      format: 'transactions',
      rows: 5,
      counts: { posted: 5, alreadyPresent: 0 },
      skippedCount: 1,
    });
    // Batches of two rows, each committed with the rows done so far.
    expect(first.batches.map((b) => b.processedRows)).toEqual([2, 4, 5]);
    expect(first.skipped).toEqual([
      { line: 3, reason: '49.99 USD earns 0 points under program version 1' },
    ]);
    expect(await balance(shop, 'C001')).toBe(90 + 25);
    expect(await balance(shop, 'C003')).toBe(180);
    const before = await keys(shop);
    expect(before).toHaveLength(5);

    const again = await run(shop, path);
    expect(again.summary.counts).toMatchObject({ posted: 0, alreadyPresent: 5 });
    expect(again.skipped.map((s) => s.line)).toEqual([2, 3, 4, 5, 6]);
    expect(again.skipped[0]!.reason).toBe('transaction T1 was already imported: nothing new');
    expect(again.skipped[3]!.reason).toMatch(/^already imported \(the same customer, date/);
    expect(await keys(shop)).toEqual(before);
  });

  it('resumed after a committed batch, posts only the rows after it, with the same keys', async () => {
    const shop = await handle.newShop('import-resume', { currency: 'USD', timezone: 'UTC' });
    const lines = ['customer_id,date,amount'];
    // Identical rows: their keys count occurrences, which a resumed run must count from the top.
    for (let i = 0; i < 6; i++) lines.push('C9,2026-02-01,120.00');
    const path = file(lines.join('\n'));
    const whole = await handle.newShop('import-whole', { currency: 'USD', timezone: 'UTC' });
    const reference = await run(whole, path);
    expect(reference.summary.counts.posted).toBe(6);
    const wholeKeys = await keys(whole);

    // The first run stops after its first batch (as a crash or a closing worker would).
    const stop = new AbortController();
    const partial = run(shop, path, {
      batchRows: 2,
      signal: stop.signal,
      onBatch: () => stop.abort(new Error('stop')),
    });
    await expect(partial).rejects.toThrow('stop');
    expect(await keys(shop)).toHaveLength(2);
    const resumed = await run(shop, path, { batchRows: 2, skipRows: 2 });
    expect(resumed.summary.counts).toMatchObject({ posted: 4, alreadyPresent: 0 });
    expect(resumed.batches.map((b) => b.processedRows)).toEqual([4, 6]);
    // The same digests and occurrence numbers as the run that read the file in one go.
    expect(await keys(shop)).toEqual(wholeKeys);
    expect(await balance(shop, 'C9')).toBe(540);
  });
});

describe('a Shopify export', () => {
  it('records orders as the webhooks do and says why each one earned nothing', async () => {
    const shop = await handle.newShop('import-export', { currency: 'USD', timezone: 'UTC' });
    const customerId = id();
    await handle.deliver(
      shop,
      'customers/create',
      customerPayload({ id: customerId, email: 'ann@example.com' }),
    );
    const paidByWebhook = orderPayload({
      id: id(),
      customer: { id: customerId, email: 'ann@example.com' },
      lineItems: [{ price: '120.00' }],
    });
    await handle.deliver(shop, 'orders/paid', paidByWebhook);
    const rows: ExportRow[] = [
      { name: '#1001', id: paidByWebhook.id as number, email: 'ann@example.com' },
      { name: '#1002', id: id(), email: 'ann@example.com' },
      { name: '#1003', id: id(), email: 'nobody@example.com' },
      { name: '#1004', id: id(), email: 'ann@example.com', status: 'refunded' },
      {
        name: '#1005',
        id: id(),
        email: 'ann@example.com',
        cancelledAt: '2026-01-06 10:00:00 -0500',
      },
      { name: '#1006', id: id(), email: '' },
      { name: '#1007', id: id(), email: 'ann@example.com', subtotal: '30.00' },
    ];
    const path = file(exportCsv(rows));
    const first = await run(shop, path, { batchRows: 3 });
    expect(first.summary).toMatchObject({
      format: 'shopify',
      rows: 6,
      counts: {
        ordersRecorded: 5,
        alreadyPresent: 1,
        ordersAttached: 4,
        guestOrders: 1,
        posted: 1,
      },
      skippedCount: 6,
    });
    expect(first.skipped.sort((a, b) => a.line - b.line)).toEqual([
      {
        line: 2,
        reason: 'order #1001 was already recorded (by a webhook or an earlier import): nothing new',
      },
      {
        line: 4,
        reason:
          'order #1003: no verified account has its email yet; it waits as a guest order and earns when one claims it',
      },
      { line: 5, reason: 'order #1004 earns nothing: financial status refunded' },
      { line: 6, reason: 'order #1005 earns nothing: cancelled' },
      {
        line: 7,
        reason: 'order #1006 has no email (a guest checkout): no account can claim it',
      },
      { line: 8, reason: 'order #1007 earns 0 points (30.00 USD after refunds)' },
    ]);
    // The webhook's award and #1002's: one each, on the Shopify customer.
    expect(await keys(shop)).toEqual(
      [`order:${paidByWebhook.id}:earn=90`, `order:${rows[1]!.id}:earn=90`].sort(),
    );
    expect(await balance(shop, String(customerId))).toBe(180);

    const again = await run(shop, path);
    expect(again.summary.counts).toMatchObject({ posted: 0, ordersRecorded: 0, alreadyPresent: 6 });
    expect(await balance(shop, String(customerId))).toBe(180);
  });
});
