// End-to-end: the real `loyalty` bin (dist/ built by `npm run build:cli`, which `npm test` runs
// first) as a child process, on temp files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportBuilder, type Report } from '../loyalty/index';
import { formatReport } from './report-file';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'loyalty.mjs');
const dir = mkdtempSync(join(tmpdir(), 'laurel-cli-'));

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cli.mjs')))
    throw new Error('dist/cli.mjs is missing: run `npm run build:cli`');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string | Buffer, extension = 'csv'): string {
  const path = join(dir, `in${counter++}.${extension}`);
  writeFileSync(path, content);
  return path;
}

function loyalty(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a report expected to fail on input: exit 2, nothing on stdout; returns stderr. */
function failing(...args: string[]): string {
  const { code, stdout, stderr } = loyalty(...args);
  expect(stdout).toBe('');
  expect(code).toBe(2);
  return stderr;
}

// Reference program: $120 → 90, $101 → 52, $100.99 → 50, $50.99 → 0.
const BASIC =
  'transaction_id,customer_id,date,amount\n' +
  'T1,C2,2026-01-03,120.00\n' +
  'T2,C1,2026-01-31T23:30:00-05:00,101\n' +
  'T3,C1,2026-03-15,50.99\n' +
  'T4,C3,2026-03-01T03:00:00Z,100.99\n';

const BASIC_JSON =
  '{"months":["2026-01","2026-02","2026-03"],"customers":[' +
  '{"customerId":"C1","monthly":{"2026-01":0,"2026-02":52,"2026-03":0},"total":52},' +
  '{"customerId":"C2","monthly":{"2026-01":90,"2026-02":0,"2026-03":0},"total":90},' +
  '{"customerId":"C3","monthly":{"2026-01":0,"2026-02":0,"2026-03":50},"total":50}],' +
  '"totals":{"monthly":{"2026-01":90,"2026-02":52,"2026-03":50},"total":192}}\n';

describe('loyalty report --input (output)', () => {
  it('prints the exact compact JSON by default', () => {
    const { code, stdout, stderr } = loyalty('report', '--input', file(BASIC));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(BASIC_JSON);
  });

  it('buckets instants into months of --timezone (plain days never move)', () => {
    const { code, stdout } = loyalty(
      'report',
      '--input',
      file(BASIC),
      '--timezone',
      'America/New_York',
    );
    expect(code).toBe(0);
    // T2 is 31 Jan 23:30 in New York; T4 is 28 Feb 22:00 there.
    expect(JSON.parse(stdout)).toEqual({
      months: ['2026-01', '2026-02', '2026-03'],
      customers: [
        { customerId: 'C1', monthly: { '2026-01': 52, '2026-02': 0, '2026-03': 0 }, total: 52 },
        { customerId: 'C2', monthly: { '2026-01': 90, '2026-02': 0, '2026-03': 0 }, total: 90 },
        { customerId: 'C3', monthly: { '2026-01': 0, '2026-02': 50, '2026-03': 0 }, total: 50 },
      ],
      totals: { monthly: { '2026-01': 142, '2026-02': 50, '2026-03': 0 }, total: 192 },
    });
  });

  it('prints CSV with a TOTAL row, quoting ids that need it', () => {
    const input = file(
      'customer_id,date,amount\n"Smith, J",2026-01-10,120\n"say ""hi""",2026-02-01,51\n',
    );
    const { code, stdout } = loyalty('report', '--input', input, '--format', 'csv');
    expect(code).toBe(0);
    expect(stdout).toBe(
      'customer_id,2026-01,2026-02,total\n' +
        '"Smith, J",90,0,90\n' +
        '"say ""hi""",0,1,1\n' +
        'TOTAL,90,1,91\n',
    );
  });

  it('prints an aligned table', () => {
    const { code, stdout } = loyalty('report', '--input', file(BASIC), '--format=table');
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'Customer  2026-01  2026-02  2026-03  Total',
        '--------  -------  -------  -------  -----',
        'C1              0       52        0     52',
        'C2             90        0        0     90',
        'C3              0        0       50     50',
        '--------  -------  -------  -------  -----',
        'TOTAL          90       52       50    192',
        '',
      ].join('\n'),
    );
  });

  it('reads any column order, extra columns, quoted fields, a BOM and CRLF the same way', () => {
    const reordered =
      '\ufeffNotes,Amount,Date,Customer_ID,Transaction_ID\r\n' +
      '"first, with comma",120.00,2026-01-03,C2,T1\r\n' +
      '"two\r\nlines",101,2026-01-31T23:30:00-05:00,"C1",T2\r\n' +
      ',50.99,2026-03-15,C1,"T3"\r\n' +
      '"say ""x""","100.99",2026-03-01T03:00:00Z,C3,T4\r\n';
    const { code, stdout } = loyalty('report', '--input', file(reordered));
    expect(code).toBe(0);
    expect(stdout).toBe(BASIC_JSON);
  });

  it('treats a header-only file as an empty report', () => {
    const { code, stdout } = loyalty('report', '--input', file('customer_id,date,amount\n'));
    expect(code).toBe(0);
    expect(stdout).toBe('{"months":[],"customers":[],"totals":{"monthly":{},"total":0}}\n');
  });

  it('lists a customer whose purchases earned nothing', () => {
    const { stdout } = loyalty(
      'report',
      '--input',
      file('customer_id,date,amount\nC1,2026-01-01,10.00\n'),
    );
    expect(JSON.parse(stdout).customers).toEqual([
      { customerId: 'C1', monthly: { '2026-01': 0 }, total: 0 },
    ]);
  });

  it('uses --program for the earn rule', () => {
    const program = file(
      JSON.stringify({
        name: 'Flat',
        currency: 'USD',
        earn: { unit: '1.00', bands: [{ over: '0', pointsPerUnit: 1 }] },
      }),
      'json',
    );
    const { code, stdout } = loyalty('report', '--input', file(BASIC), '--program', program);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).totals).toEqual({
      monthly: { '2026-01': 120, '2026-02': 101, '2026-03': 150 },
      total: 371,
    });
  });

  it('reads amounts in the program currency', () => {
    const yen = file(
      JSON.stringify({
        name: 'Yen',
        currency: 'JPY',
        earn: { unit: '100', bands: [{ over: '0', pointsPerUnit: 1 }] },
      }),
      'json',
    );
    const ok = loyalty(
      'report',
      '--input',
      file('customer_id,date,amount\nC1,2026-01-01,1250\n'),
      '--program',
      yen,
    );
    expect(JSON.parse(ok.stdout).totals.total).toBe(12);
    const stderr = failing(
      'report',
      '--input',
      file('customer_id,date,amount\nC1,2026-01-01,12.50\n'),
      '--program',
      yen,
    );
    expect(stderr).toContain("line 2: amount '12.50' has 1 decimal place; JPY allows 0");
  });

  it("reads Shopify's orders export", () => {
    const { code, stdout } = loyalty(
      'report',
      '--input',
      join(root, 'samples', 'shopify-orders-export.csv'),
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.months).toEqual(['2026-01', '2026-02', '2026-03']);
    const byCustomer = Object.fromEntries(
      report.customers.map((c: { customerId: string; total: number }) => [c.customerId, c.total]),
    );
    expect(byCustomer).toEqual({
      'alice@example.com': 104, // $120 → 90, then $64 → 14
      'bob@example.com': 570, // $135 after discount → 120, then $300 partially paid → 450
      'carol@example.com': 90, // $150 − $30 refunded → 90
      'dave@example.com': 0, // cancelled
      'erin@example.com': 0, // pending
      'frank@example.com': 52,
      'gina@example.com': 0, // refunded
      'hank@example.com': 0, // $49.99
      'ivy@example.com': 0, // authorized
    });
    expect(report.totals.total).toBe(816);
  });

  it('runs the sample transactions file used by `npm run demo`', () => {
    const { code, stdout } = loyalty(
      'report',
      '--input',
      join(root, 'samples', 'transactions.csv'),
      '--format',
      'table',
    );
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe('Customer  2026-01  2026-02  2026-03  Total');
  });
});

describe('loyalty report --input (bad input: exit 2, stderr names the line, nothing on stdout)', () => {
  const header = 'transaction_id,customer_id,date,amount\n';

  it.each([
    [
      'an unparsable amount',
      'T1,C1,2026-01-01,12.3.4\n',
      "line 2: amount '12.3.4' is not a plain decimal number",
    ],
    ['a negative amount', 'T1,C1,2026-01-01,-5.00\n', "line 2: amount '-5.00' is negative"],
    [
      'too many decimals',
      'T1,C1,2026-01-01,1.234\n',
      "line 2: amount '1.234' has 3 decimal places; USD allows 2",
    ],
    ['a thousands separator', 'T1,C1,2026-01-01,"1,000"\n', "line 2: amount '1,000' contains ','"],
    [
      'an impossible date',
      'T1,C1,2026-02-30,1\n',
      "line 2: date '2026-02-30' is not a real calendar day",
    ],
    [
      'a date without offset',
      'T1,C1,2026-01-31T23:30:00,1\n',
      "line 2: date '2026-01-31T23:30:00' has no UTC offset",
    ],
    ['a wrong field count', 'T1,C1,2026-01-01\n', 'line 2: has 3 fields; the header has 4'],
    ['an unterminated quote', 'T1,"C1,2026-01-01,1\n', 'line 2: unterminated quoted field'],
    ['an empty customer_id', 'T1,,2026-01-01,1\n', 'line 2: customer_id is empty'],
    ['a stray quote', 'T1,C"1,2026-01-01,1\n', 'line 2: unexpected " inside an unquoted field'],
  ])('%s', (_, row, message) => {
    const stderr = failing(
      'report',
      '--input',
      file(header + 'T0,C0,2026-01-01,1\n' + row.replace('line 2', 'line 3')),
    );
    expect(stderr).toContain(message.replace('line 2', 'line 3'));
  });

  it('names the missing required column', () => {
    expect(
      failing('report', '--input', file('transaction_id,customer_id,amount\nT1,C1,1\n')),
    ).toContain("line 1: header: missing required column 'date'");
  });

  it('names both lines of a duplicate transaction_id', () => {
    const stderr = failing(
      'report',
      '--input',
      file(`${header}T1,C1,2026-01-01,1\nT2,C1,2026-01-01,1\nT1,C2,2026-01-02,5\n`),
    );
    expect(stderr).toContain("line 4: duplicate transaction_id 'T1' (first seen on line 2)");
  });

  it('counts physical lines, so a record after a multi-line field is named correctly', () => {
    const stderr = failing(
      'report',
      '--input',
      file(`${header}T1,"C\n1",2026-01-01,1\nT2,C2,2026-01-01,x\n`),
    );
    expect(stderr).toContain("line 4: amount 'x' is not a plain decimal number");
  });

  it('reports all errors, listing the first 20 and counting the rest', () => {
    const rows = Array.from({ length: 25 }, (_, i) => `T${i},C${i},2026-01-01,bad`).join('\n');
    const stderr = failing('report', '--input', file(`${header}${rows}\n`));
    expect(stderr).toContain('has 25 errors; no report written');
    expect(stderr).toContain("line 2: amount 'bad'");
    expect(stderr).toContain("line 21: amount 'bad'");
    expect(stderr).not.toContain('line 22:');
    expect(stderr).toContain('… and 5 more');
  });

  it('rejects a Shopify export in another currency, naming the line', () => {
    const eur = file(
      'Name,Email,Financial Status,Paid at,Currency,Subtotal,Created at,Cancelled at,Refunded Amount,Id\n' +
        '#1,a@x.com,paid,2026-01-01 10:00:00 +0100,EUR,10.00,2026-01-01 10:00:00 +0100,,0.00,1\n',
    );
    expect(failing('report', '--input', eur)).toContain(
      "line 2: Currency 'EUR' of order #1 is not the program currency USD",
    );
  });

  it('fails on a missing file', () => {
    expect(failing('report', '--input', join(dir, 'nope.csv'))).toContain("cannot read '");
  });
});

describe('loyalty usage', () => {
  it('prints help with exit 0', () => {
    const top = loyalty('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: loyalty <command>');
    const report = loyalty('report', '--help');
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('Usage: loyalty report --input FILE');
    expect(report.stderr).toBe('');
  });

  it.each([
    [['report', '--input', 'x.csv', '--colour', 'red'], "unknown option '--colour'"],
    [['report'], "missing '--input FILE'"],
    [['report', '--input'], "option '--input' needs a value"],
    [['report', '--input', 'x.csv', '--timezone', 'Mars/Base'], "unknown timezone 'Mars/Base'"],
    [['report', '--input', 'x.csv', '--format', 'xml'], "unknown format 'xml'"],
    [
      ['report', '--input', 'x.csv', '--program', 'missing.json'],
      "cannot read program file 'missing.json': no such file",
    ],
    [
      ['report', '--input', 'a.csv', '--shop', 'x.myshopify.com'],
      'use either --input FILE or --shop DOMAIN',
    ],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [[], 'missing command'],
  ])('%j → exit 2', (args, message) => {
    const stderr = failing(...args);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage: loyalty');
  });

  it('lists every problem in a bad --program file', () => {
    const program = file(
      JSON.stringify({
        name: 'Broken',
        currency: 'USD',
        earn: {
          unit: '1.00',
          bands: [
            { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
            { over: '90.00', pointsPerUnit: 0 },
          ],
        },
      }),
      'json',
    );
    const stderr = failing('report', '--input', file(BASIC), '--program', program);
    expect(stderr).toContain('earn.bands[1].pointsPerUnit: must be at least 1');
    expect(stderr).toContain('earn.bands[1].over: overlaps the previous band');
    expect(
      failing('report', '--input', file(BASIC), '--program', file('{not json', 'json')),
    ).toContain('is not valid JSON');
  });
});

// The formats as they were first written, over whole `Report` objects: the chunked formatters must
// print exactly these bytes.
function csvFieldReference(value: string): string {
  return /[",\r\n]/.test(value) || value.trim() !== value
    ? `"${value.replaceAll('"', '""')}"`
    : value;
}
const reference = {
  json: (report: Report) => `${JSON.stringify(report)}\n`,
  csv: (report: Report) => {
    const lines = [['customer_id', ...report.months, 'total'].map(csvFieldReference).join(',')];
    for (const c of report.customers) {
      lines.push(
        [csvFieldReference(c.customerId), ...report.months.map((m) => c.monthly[m]), c.total].join(
          ',',
        ),
      );
    }
    lines.push(
      ['TOTAL', ...report.months.map((m) => report.totals.monthly[m]), report.totals.total].join(
        ',',
      ),
    );
    return `${lines.join('\n')}\n`;
  },
  table: (report: Report) => {
    const header = ['Customer', ...report.months, 'Total'];
    const body = report.customers.map((c) => [
      c.customerId,
      ...report.months.map((m) => String(c.monthly[m])),
      String(c.total),
    ]);
    const footer = [
      'TOTAL',
      ...report.months.map((m) => String(report.totals.monthly[m])),
      String(report.totals.total),
    ];
    const rows = [header, ...body, footer];
    const widths = header.map((_, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), 0));
    const render = (r: string[]) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd();
    const rule = widths.map((w) => '-'.repeat(w)).join('  ');
    return `${[render(header), rule, ...body.map(render), rule, render(footer)].join('\n')}\n`;
  },
};

describe('report formats (printed in chunks)', () => {
  const fact = fc.record({
    customerId: fc.oneof(
      fc.constantFrom('C1', 'c1', 'x,y', 'say "hi"', ' pad ', 'two\nlines', '', '\ud800', 'é'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    ),
    month: fc.constantFrom('2025-11', '2025-12', '2026-01', '2026-03'),
    points: fc.integer({ min: -100_000, max: 10_000_000 }),
  });

  it('prints exactly what the whole-report formats print, for any report', () => {
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 60 }), (facts) => {
        const builder = new ReportBuilder();
        for (const f of facts) builder.add(f.customerId, f.month, f.points);
        const report = builder.build();
        for (const format of ['json', 'csv', 'table'] as const) {
          expect(formatReport(report, format)).toBe(reference[format](report));
        }
      }),
    );
  });

  it('prints a report of many chunks from the bin, byte for byte, in every format', () => {
    // 6,000 customers: the JSON is ~500 KB, several chunks; ids vary in length and need quoting.
    let csv = 'customer_id,date,amount\n';
    const builder = new ReportBuilder();
    for (let i = 0; i < 12_000; i++) {
      const id = i % 7 === 0 ? `"Q, ${i % 6000}"` : `C${i % 6000}`;
      const cents = (i * 7919) % 40_000;
      const month = `2026-0${1 + (i % 3)}`;
      csv += `${id},${month}-15,${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}\n`;
      let points = 0;
      if (cents > 5000) points += Math.floor((Math.min(cents, 10_000) - 5000) / 100);
      if (cents > 10_000) points += 2 * Math.floor((cents - 10_000) / 100);
      builder.add(id.startsWith('"') ? id.slice(1, -1) : id, month, points);
    }
    const input = file(csv);
    const report = builder.build();
    for (const format of ['json', 'csv', 'table'] as const) {
      const { code, stdout, stderr } = loyalty('report', '--input', input, '--format', format);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toBe(reference[format](report));
    }
  });

  it('stops quietly when the reader closes the pipe early (| head)', () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `C${i},2026-01-01,120`);
    const input = file(`customer_id,date,amount\n${lines.join('\n')}\n`);
    const result = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${bin}" report --input "${input}" | head -c 100 >/dev/null`],
      { encoding: 'utf8', cwd: root },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
