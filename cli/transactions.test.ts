import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  InputFileError,
  readTransactions,
  type TransactionError,
  type TransactionRow,
} from './transactions';

const dir = mkdtempSync(join(tmpdir(), 'laurel-tx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string): string {
  const path = join(dir, `t${counter++}.csv`);
  writeFileSync(path, content);
  return path;
}

type RowCopy = Omit<TransactionRow, 'currency'>;

async function read(
  path: string,
  options: { timezone?: string; currency?: string; chunkSize?: number } = {},
) {
  const rows: RowCopy[] = [];
  const errors: TransactionError[] = [];
  const summary = await readTransactions(path, {
    currency: options.currency ?? 'USD',
    timezone: options.timezone,
    scanner: options.chunkSize ? { chunkSize: options.chunkSize } : undefined,
    onRow(row) {
      // The row object is reused: copy it, as the API asks.
      rows.push({
        line: row.line,
        customerId: row.customerId,
        customerIndex: row.customerIndex,
        transactionId: row.transactionId,
        orderName: row.orderName,
        dateKind: row.dateKind,
        day: row.day,
        epochMs: row.epochMs,
        monthKey: row.monthKey,
        monthNumber: row.monthNumber,
        amountMinor: row.amountMinor,
        nonEarningReason: row.nonEarningReason,
      });
    },
    onError(error) {
      errors.push(error);
    },
  });
  return { rows, errors, summary };
}

describe('plain transaction files', () => {
  it('delivers each row with its day or instant, month and amount', async () => {
    const { rows, errors, summary } = await read(
      file(
        'transaction_id,customer_id,date,amount\n' +
          'T1,C1,2026-01-31,120.00\n' +
          'T2,C2,2026-01-31T23:30:00-05:00,50.99\n' +
          'T3,C1,2026-03-01T03:00:00Z,0\n',
      ),
      { timezone: 'America/Los_Angeles' },
    );
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      {
        line: 2,
        customerId: 'C1',
        customerIndex: 0,
        transactionId: 'T1',
        orderName: undefined,
        dateKind: 'day',
        day: '2026-01-31',
        epochMs: undefined,
        monthKey: '2026-01',
        monthNumber: 2026 * 12,
        amountMinor: 12000,
        nonEarningReason: undefined,
      },
      {
        line: 3,
        customerId: 'C2',
        customerIndex: 1,
        transactionId: 'T2',
        orderName: undefined,
        dateKind: 'instant',
        day: undefined,
        epochMs: Date.UTC(2026, 1, 1, 4, 30),
        monthKey: '2026-01',
        monthNumber: 2026 * 12,
        amountMinor: 5099,
        nonEarningReason: undefined,
      },
      {
        line: 4,
        customerId: 'C1',
        customerIndex: 0,
        transactionId: 'T3',
        orderName: undefined,
        dateKind: 'instant',
        day: undefined,
        epochMs: Date.UTC(2026, 2, 1, 3),
        monthKey: '2026-02',
        monthNumber: 2026 * 12 + 1,
        amountMinor: 0,
        nonEarningReason: undefined,
      },
    ]);
    expect(summary).toEqual({
      source: 'plain',
      rows: 3,
      customers: 2,
      guestOrdersSkipped: 0,
      lineItemRowsSkipped: 0,
      errors: 0,
    });
  });

  it('finds columns by name in any order and case, ignores extras, trims ids', async () => {
    const { rows, errors } = await read(
      file('Amount,Note,Date,Customer_ID\n12.50,"hello, world",2026-02-01," C9 "\n'),
    );
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.customerId, r.amountMinor, r.monthKey, r.transactionId])).toEqual([
      ['C9', 1250, '2026-02', undefined],
    ]);
  });

  it('reports every bad row with its line and still delivers the good ones', async () => {
    const { rows, errors, summary } = await read(
      file(
        'transaction_id,customer_id,date,amount\n' +
          'T1,C1,2026-01-05,-5\n' +
          'T2,,2026-02-30,1.234\n' +
          'T3,C3,2026-01-05\n' +
          '"T4,C4,2026-01-05,1\n',
      ),
    );
    expect(rows).toEqual([]);
    expect(errors).toEqual([
      { line: 2, message: "amount '-5' is negative" },
      { line: 3, message: 'customer_id is empty' },
      { line: 3, message: "amount '1.234' has 3 decimal places; USD allows 2" },
      { line: 3, message: "date '2026-02-30' is not a real calendar day" },
      { line: 4, message: 'has 3 fields; the header has 4' },
      { line: 5, message: 'unterminated quoted field (a " is never closed)' },
    ]);
    expect(summary.errors).toBe(6);
    const mixed = await read(
      file('customer_id,date,amount\nC1,2026-01-05,1\nC2,yesterday,1\nC3,2026-01-06,2\n'),
    );
    expect(mixed.rows.map((r) => r.customerId)).toEqual(['C1', 'C3']);
    expect(mixed.errors).toEqual([
      {
        line: 3,
        message:
          "date 'yesterday' is not an ISO 8601 instant like '2026-01-31T23:30:00-05:00' or '2026-01-31T23:30:00Z'",
      },
    ]);
  });

  it('names both lines of a duplicate transaction id, however it is quoted or chunked', async () => {
    const content =
      'transaction_id,customer_id,date,amount\n' +
      'T1,C1,2026-01-05,1\n' +
      '"T2",C2,2026-01-05,1\n' +
      '"multi\nline",C2,2026-01-05,1\n' +
      'T2,C3,2026-01-05,1\n' +
      ' T1 ,C3,2026-01-05,1\n';
    for (const chunkSize of [3, 1 << 20]) {
      const { rows, errors } = await read(file(content), { chunkSize });
      // Every row is delivered; the repeats are errors once the whole file has been seen.
      expect(rows.map((r) => r.transactionId)).toEqual(['T1', 'T2', 'multi\nline', 'T2', 'T1']);
      expect(errors).toEqual([
        { line: 6, message: "duplicate transaction_id 'T2' (first seen on line 3)" },
        { line: 7, message: "duplicate transaction_id 'T1' (first seen on line 2)" },
      ]);
    }
  });

  it('rejects headers without the required columns, naming them', async () => {
    const { errors } = await read(file('customer_id,when,value\nC1,2026-01-01,1\n'));
    expect(errors).toEqual([
      { line: 1, message: "header: missing required columns 'date', 'amount'" },
    ]);
    const twice = await read(file('customer_id,date,amount,Amount\n'));
    expect(twice.errors).toEqual([
      { line: 1, message: "header: column 'amount' appears more than once" },
    ]);
    const empty = await read(file(''));
    expect(empty.errors).toEqual([
      {
        line: 1,
        message: 'the file is empty; expected a header row naming customer_id, date and amount',
      },
    ]);
  });

  it('treats a header-only file as no rows', async () => {
    const { rows, errors, summary } = await read(file('customer_id,date,amount\n'));
    expect(rows).toEqual([]);
    expect(errors).toEqual([]);
    expect(summary.rows).toBe(0);
  });

  it('waits for an async onRow before reading on (backpressure for imports)', async () => {
    const path = file(
      `customer_id,date,amount\n${Array.from({ length: 50 }, (_, i) => `C${i},2026-01-01,1`).join('\n')}\n`,
    );
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    await readTransactions(path, {
      currency: 'USD',
      async onRow(row) {
        seen.push(row.customerId);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
      },
      onError() {
        throw new Error('no errors expected');
      },
    });
    expect(maxInFlight).toBe(1);
    expect(seen).toHaveLength(50);
  });

  it('throws InputFileError for files it cannot read', async () => {
    await expect(read(join(dir, 'missing.csv'))).rejects.toThrow(InputFileError);
    await expect(read(join(dir, 'missing.csv'))).rejects.toThrow(/no such file/);
    await expect(read(dir)).rejects.toThrow(/is a directory/);
  });
});

describe("Shopify's orders export", () => {
  const sample = join(import.meta.dirname, '..', 'samples', 'shopify-orders-export.csv');

  it('applies the documented rules to the sample export', async () => {
    const { rows, errors, summary } = await read(sample);
    expect(errors).toEqual([]);
    expect(
      rows.map((r) => [
        r.orderName,
        r.customerId,
        r.transactionId,
        r.monthKey,
        r.amountMinor,
        r.nonEarningReason ?? null,
      ]),
    ).toEqual([
      ['#1001', 'alice@example.com', '5001000001', '2026-01', 12000, null],
      ['#1002', 'bob@example.com', '5001000002', '2026-01', 13500, null], // subtotal is after the discount
      ['#1003', 'carol@example.com', '5001000003', '2026-02', 12000, null], // 150.00 − 30.00 refunded
      ['#1004', 'dave@example.com', '5001000004', '2026-02', 0, 'cancelled'],
      ['#1006', 'erin@example.com', '5001000006', '2026-02', 0, 'financial status pending'], // no Paid at → Created at
      ['#1007', 'alice@example.com', '5001000007', '2026-03', 6400, null], // email trimmed and lower-cased
      ['#1008', 'frank@example.com', '5001000008', '2026-02', 10100, null],
      ['#1009', 'gina@example.com', '5001000009', '2026-03', 0, 'financial status refunded'],
      ['#1010', 'bob@example.com', '5001000010', '2026-02', 30000, null], // 00:30 +01:00 on 1 March is February in UTC
      ['#1011', 'hank@example.com', '5001000011', '2026-03', 4999, null],
      ['#1012', 'ivy@example.com', '5001000012', '2026-03', 0, 'financial status authorized'],
    ]);
    expect(rows.every((r) => r.dateKind === 'instant')).toBe(true);
    // #1008's record spans two physical lines (a Notes cell with a line break), so #1009 starts later.
    const lines = Object.fromEntries(rows.map((r) => [r.orderName, r.line]));
    const text = readFileSync(sample, 'utf8').split('\n');
    expect(text[lines['#1009']! - 1]!.startsWith('#1009,')).toBe(true);
    expect(summary).toMatchObject({
      source: 'shopify',
      rows: 11,
      customers: 9,
      guestOrdersSkipped: 1,
      lineItemRowsSkipped: 5,
    });
  });

  it('buckets by --timezone', async () => {
    const { rows } = await read(sample, { timezone: 'Europe/Paris' });
    expect(rows.find((r) => r.orderName === '#1010')!.monthKey).toBe('2026-03');
  });

  const header =
    'Name,Email,Financial Status,Paid at,Currency,Subtotal,Created at,Cancelled at,Refunded Amount,Id,Lineitem name';

  it('rejects a currency other than the program’s, unknown statuses, duplicate ids and bad amounts', async () => {
    const { errors } = await read(
      file(
        `${header}\n` +
          '#1,a@x.com,paid,2026-01-01 10:00:00 -0500,EUR,10.00,2026-01-01 10:00:00 -0500,,0.00,1,Tea\n' +
          '#2,b@x.com,shipped,2026-01-01 10:00:00 -0500,USD,10.00,2026-01-01 10:00:00 -0500,,0.00,2,Tea\n' +
          '#3,c@x.com,paid,2026-01-01 10:00:00 -0500,USD,10.00,2026-01-01 10:00:00 -0500,,0.00,1,Tea\n' +
          '#4,d@x.com,paid,2026-01-01T10:00:00,USD,ten,2026-01-01 10:00:00 -0500,,-1,4,Tea\n' +
          '#5,,,,,,,,,,Continuation of nothing\n',
      ),
    );
    expect(errors).toEqual([
      { line: 2, message: "Currency 'EUR' of order #1 is not the program currency USD" },
      { line: 3, message: "Financial Status 'shipped' is not a Shopify financial status" },
      { line: 5, message: "Subtotal 'ten' is not a plain decimal number" },
      { line: 5, message: "Refunded Amount '-1' is negative" },
      { line: 5, message: "Paid at '2026-01-01T10:00:00' has no UTC offset; add 'Z' or '±HH:MM'" },
      { line: 6, message: 'Financial Status is empty on the first row of order #5' },
      { line: 6, message: "Currency '' of order #5 is not the program currency USD" },
      { line: 6, message: "Subtotal '' is empty" },
      { line: 6, message: "Created at '' is empty" },
      { line: 4, message: "duplicate order Id '1' (first seen on line 2)" },
    ]);
  });

  it('floors the earning amount at zero and uses Name when there is no Id column', async () => {
    const noId = header.replace(',Id', '');
    const { rows, errors } = await read(
      file(
        `${noId}\n#9,a@x.com,partially_refunded,2026-01-01 10:00:00 -0500,USD,10.00,2026-01-01 10:00:00 -0500,,12.00,Tea\n`,
      ),
    );
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.transactionId, r.amountMinor])).toEqual([['#9', 0]]);
  });

  it('names the Shopify columns that are missing', async () => {
    const { errors } = await read(file('Name,Email,Financial Status,Subtotal,Lineitem name\n'));
    expect(errors).toEqual([
      {
        line: 1,
        message:
          "header: looks like a Shopify orders export but is missing columns 'Paid at', 'Currency', 'Created at', 'Cancelled at', 'Refunded Amount'",
      },
    ]);
  });
});
