import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportFromFile } from '../../cli/report-file';
import { InputFileError } from '../../cli/transactions';
import {
  parseCustomerPayload,
  parseOrderPayload,
  parseProgram,
  referenceProgram,
  type Report,
} from '../../loyalty/index';
import { reportColumns } from '../../loyalty/report';
import { expectedReport, expectedResults } from './expected';
import { OrdersFileError, readOrdersFile } from './orders-file';

const SHOP = 'laurel-demo.myshopify.com';
const PLAIN = 'samples/transactions.csv';
const EXPORT = 'samples/shopify-orders-export.csv';
const program = parseProgram(referenceProgram);
const dir = mkdtempSync(join(tmpdir(), 'laurel-orders-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The report the deliveries should produce, with the file's own customer ids. */
async function reportOfDeliveries(path: string, timezone: string): Promise<Report> {
  const { deliveries, customerIds } = await readOrdersFile(path, { shop: SHOP, timezone });
  const fileIdOf = new Map([...customerIds].map(([fileId, id]) => [id, fileId]));
  const report = expectedReport(expectedResults(deliveries, { timezone }), { include: 'ordered' });
  return {
    ...report,
    customers: report.customers
      .map((c) => ({ ...c, customerId: fileIdOf.get(c.customerId)! }))
      .sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0)),
  };
}

describe('readOrdersFile: the report of its deliveries is what `loyalty report --input` prints', () => {
  it.each([
    [PLAIN, 'UTC'],
    [PLAIN, 'America/New_York'],
    [EXPORT, 'America/New_York'],
    [EXPORT, 'UTC'],
  ])('%s in %s', async (path, timezone) => {
    const fromFile = await reportFromFile(path, program, timezone);
    expect(fromFile.errorCount).toBe(0);
    expect(reportColumns(await reportOfDeliveries(path, timezone))).toEqual(fromFile.report);
  });

  it('checks something: the timezone moves T1005 between months', async () => {
    const utc = await reportOfDeliveries(PLAIN, 'UTC');
    const ny = await reportOfDeliveries(PLAIN, 'America/New_York');
    const c004 = (r: Report) => r.customers.find((c) => c.customerId === 'C004')!.monthly;
    expect(c004(utc)).toMatchObject({ '2026-01': 0, '2026-02': 150 });
    expect(c004(ny)).toMatchObject({ '2026-01': 150, '2026-02': 0 });
  });
});

describe('readOrdersFile: deliveries', () => {
  it('creates each customer once, before their orders, then one orders/paid per transaction', async () => {
    const { source, deliveries, customerIds, summary } = await readOrdersFile(PLAIN, {
      shop: SHOP,
      timezone: 'America/New_York',
    });
    expect(source).toBe('plain');
    expect(summary.rows).toBe(14);
    expect([...customerIds.keys()]).toEqual(['C001', 'C002', 'C003', 'C004', 'C005']);
    const created = deliveries.filter((d) => d.topic === 'customers/create');
    expect(created.map((d) => parseCustomerPayload(d.payload).firstName).sort()).toEqual([
      'C001',
      'C002',
      'C003',
      'C004',
      'C005',
    ]);
    const orders = deliveries
      .filter((d) => d.topic === 'orders/paid')
      .map((d) => parseOrderPayload(d.payload));
    expect(orders).toHaveLength(14);
    expect(deliveries).toHaveLength(19);
    const t1001 = orders.find((o) => o.name === '#T1001')!;
    expect(t1001).toMatchObject({
      earnAmountMinor: 12000,
      shopCurrency: 'USD',
      test: false,
      sourceName: 'web',
    });
    expect(t1001.customer!.id).toBe(customerIds.get('C001'));
    // A calendar day is noon of that day in the shop's zone.
    const paid = deliveries.find((d) => (d.payload as { name?: string }).name === '#T1001')!;
    expect(paid.payload.processed_at).toBe('2026-01-03T12:00:00-05:00');
    const seen = new Set<string>();
    for (const d of deliveries) {
      const p = d.payload as { id: number; customer?: { id: number } };
      if (d.topic === 'customers/create') seen.add(String(p.id));
      else expect(seen.has(String(p.customer!.id))).toBe(true);
    }
    const times = deliveries.map((d) => Date.parse(d.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('gives the same ids and webhook ids every time, and others for another shop', async () => {
    const a = await readOrdersFile(PLAIN, { shop: SHOP });
    const b = await readOrdersFile(PLAIN, { shop: SHOP });
    expect(b.deliveries).toEqual(a.deliveries);
    const ids = a.deliveries.map((d) => d.webhookId);
    expect(new Set(ids).size).toBe(ids.length);
    const other = await readOrdersFile(PLAIN, { shop: 'other.myshopify.com' });
    expect(other.deliveries.map((d) => d.payload)).toEqual(a.deliveries.map((d) => d.payload));
    expect(other.deliveries.filter((d) => ids.includes(d.webhookId))).toEqual([]);
  });

  it('tells apart identical rows without a transaction id, as `loyalty import` does', async () => {
    const path = file(
      'no-ids.csv',
      'customer_id,date,amount\nC1,2026-01-05,120.00\nC1,2026-01-05,120.00\n',
    );
    const { deliveries } = await readOrdersFile(path, { shop: SHOP });
    const orderIds = deliveries.filter((d) => d.topic === 'orders/paid').map((d) => d.payload.id);
    expect(new Set(orderIds).size).toBe(2);
    expect(expectedResults(deliveries, { timezone: 'UTC' }).customers[0]!.balance).toBe(180);
  });

  it('reads a Shopify export: emails as customers, real order ids, cancellations, no guests', async () => {
    const { source, deliveries, customerIds, summary } = await readOrdersFile(EXPORT, {
      shop: SHOP,
      timezone: 'America/New_York',
    });
    expect(source).toBe('shopify');
    expect(summary.guestOrdersSkipped).toBe(1);
    expect(customerIds.has('alice@example.com')).toBe(true);
    const orders = deliveries
      .filter((d) => d.topic === 'orders/paid')
      .map((d) => parseOrderPayload(d.payload));
    expect(orders.map((o) => o.orderId)).toContain('5001000001');
    const alice = orders.find((o) => o.name === '#1001')!;
    expect(alice.customer!.email).toBe('alice@example.com');
    expect(orders.find((o) => o.name === '#1007')!.customer!.id).toBe(alice.customer!.id);
    // #1003: Subtotal 150.00 − Refunded 30.00 earns on 120.00, as the file report counts it.
    expect(orders.find((o) => o.name === '#1003')!.earnAmountMinor).toBe(12000);
    expect(orders.find((o) => o.name === '#1006')).toMatchObject({
      financialStatus: 'pending',
      earnAmountMinor: 0,
    });
    const cancelled = deliveries
      .filter((d) => d.topic === 'orders/cancelled')
      .map((d) => parseOrderPayload(d.payload));
    expect(cancelled.map((o) => o.name)).toEqual(['#1004']);
    expect(cancelled[0]!.cancelledAt).not.toBeNull();
    expect(deliveries.some((d) => d.topic === 'refunds/create')).toBe(false);
  });
});

describe('readOrdersFile: bad input', () => {
  it("fails with the reader's errors, each naming its line, and delivers nothing", async () => {
    const path = file(
      'bad.csv',
      [
        'transaction_id,customer_id,date,amount',
        'T1,C1,2026-01-05,120.00',
        'T2,C1,2026-01-06,-5.00',
        'T3,C2,2026-02-30,10.00',
        'T1,C3,2026-01-07,1.234',
        '',
      ].join('\n'),
    );
    const failure = await readOrdersFile(path, { shop: SHOP }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OrdersFileError);
    const error = failure as OrdersFileError;
    expect(error.message).toBe(
      `${path} has 4 errors; nothing was replayed.\n` +
        "  line 3: amount '-5.00' is negative\n" +
        "  line 4: date '2026-02-30' is not a real calendar day\n" +
        "  line 5: amount '1.234' has 3 decimal places; USD allows 2\n" +
        "  line 5: duplicate transaction_id 'T1' (first seen on line 2)",
    );
    expect(error.errors.map((e) => e.line)).toEqual([3, 4, 5, 5]);
  });

  it('lists the first 20 problems, then how many more', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `C${i},2026-01-05,bad`).join('\n');
    const error = (await readOrdersFile(file('many.csv', `customer_id,date,amount\n${rows}\n`), {
      shop: SHOP,
    }).catch((e: unknown) => e)) as OrdersFileError;
    expect(error.message).toMatch(/has 25 errors/);
    expect(error.message).toContain("line 21: amount 'bad'");
    expect(error.message).not.toContain('line 22:');
    expect(error.message).toMatch(/… and 5 more$/);
  });

  it('says when the file cannot be read, or is not a transaction file', async () => {
    await expect(readOrdersFile(join(dir, 'missing.csv'), { shop: SHOP })).rejects.toThrow(
      InputFileError,
    );
    await expect(readOrdersFile(join(dir, 'missing.csv'), { shop: SHOP })).rejects.toThrow(
      /no such file/,
    );
    await expect(
      readOrdersFile(file('odd.csv', 'name,total\nx,1\n'), { shop: SHOP }),
    ).rejects.toThrow(/line 1: header: missing required columns 'customer_id', 'date', 'amount'/);
  });
});
