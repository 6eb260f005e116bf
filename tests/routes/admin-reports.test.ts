/**
 * The admin's report page and its CSV through the built server (`node dist/server.mjs`) on this
 * file's own PostgreSQL database, with App Bridge session tokens minted as Shopify mints them:
 * the default range (the last three full months in the shop's timezone), sorting and paging,
 * inline errors for bad dates, and the CSV download — byte for byte what the real `loyalty report
 * --shop … --format csv` prints, for the shop the session token names and no other.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInteger } from '../../app/admin-format';
import { defaultReportRange } from '../../app/admin-report.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { postMany, type LedgerEntryInput } from '../../app/models/ledger.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { ADMIN_BROWSER, adminHeaders, adminLoader } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const SHOP = 'laurel-reports.myshopify.com';
const OTHER_SHOP = 'laurel-reports-other.myshopify.com';
const TZ = 'America/New_York';
const PREFIX = `test-${randomUUID()}`;
const ROUTE = 'routes/app.reports';
/** More than a page (50). */
const MEMBERS = 56;

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let other: Shop;
const range = defaultReportRange(new Date(), TZ);
const [y, m] = range.from.split('-').map(Number) as [number, number];
/** Mid-month noon UTC of the range's months (0, 1, 2) and the month after (3). */
const midMonth = (k: number) => new Date(Date.UTC(y, m - 1 + k, 15, 12));

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.mjs'))) {
    execFileSync('node', ['scripts/build-cli.mjs'], { cwd: ROOT });
  }
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: TZ });
  other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await storeOfflineSession(db.db, SHOP, 'shpat_reports');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');

  const entries: LedgerEntryInput[] = [];
  for (let i = 1; i <= MEMBERS; i++) {
    const c = await ensureCustomer(db.db, shop.id, {
      externalId: String(8_000 + i),
      firstName: `Member${i}`,
      lastName: 'Report',
      email: `member${i}@example.com`,
    });
    // Member i earns i points in month 0, 2i in month 1 (every other member), 1000 in month 3
    // (after the range: left out), and a bonus (not a purchase: left out).
    entries.push({
      customerId: c.id,
      idempotencyKey: `order:${i}:earn`,
      source: 'order',
      points: i,
      occurredAt: midMonth(0),
      inputs: {},
    });
    if (i % 2 === 0) {
      entries.push({
        customerId: c.id,
        idempotencyKey: `order:${i}b:earn`,
        source: 'order',
        points: 2 * i,
        occurredAt: midMonth(1),
        inputs: {},
      });
    }
    entries.push({
      customerId: c.id,
      idempotencyKey: `order:${i}c:earn`,
      source: 'order',
      points: 1000,
      occurredAt: midMonth(3),
      inputs: {},
    });
    entries.push({
      customerId: c.id,
      idempotencyKey: `bonus:${i}`,
      source: 'bonus',
      points: 500,
      occurredAt: midMonth(1),
      inputs: {},
    });
  }
  // Member 1 gets a full refund in month 2: in the report with that month at 1 − 1 = 0.
  entries.push({
    customerId: (await ensureCustomer(db.db, shop.id, { externalId: '8001' })).id,
    idempotencyKey: 'refund:1:reverse',
    source: 'refund',
    points: -1,
    occurredAt: midMonth(2),
    inputs: {},
  });
  await postMany(db.db, shop.id, entries);
  const stranger = await ensureCustomer(db.db, other.id, { externalId: '9999' });
  await postMany(db.db, other.id, [
    {
      customerId: stranger.id,
      idempotencyKey: 'order:other:earn',
      source: 'order',
      points: 4_242,
      occurredAt: midMonth(1),
      inputs: {},
    },
  ]);

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

const bearer = (shopDomain = SHOP) => adminHeaders(shopDomain);

interface ReportData {
  form: Record<string, string>;
  errors: Record<string, string>;
  timezone: string;
  report: {
    from: string;
    to: string;
    sort: string;
    direction: string;
    page: number;
    pageCount: number;
    customers: number;
    months: { key: string; label: string }[];
    rows: {
      customerId: number;
      externalId: string;
      name: string;
      monthly: string[];
      total: string;
    }[];
    totals: { monthly: string[]; total: string };
  } | null;
}

async function loaderData(
  search = '',
  shopDomain = SHOP,
): Promise<{ status: number; data: ReportData }> {
  const { status, data } = await adminLoader<ReportData>(
    app.url,
    `/app/reports${search}`,
    ROUTE,
    bearer(shopDomain),
  );
  return { status, data };
}

async function loyalty(...args: string[]) {
  const { stdout } = await run('node', [join(ROOT, 'bin', 'loyalty.mjs'), ...args], {
    env: { ...process.env, DATABASE_URL: db.url, NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    cwd: ROOT,
  });
  return stdout;
}

const n = (value: number) => formatInteger(value, 'en-US');

describe('/app/reports', () => {
  it('shows the last three full months, largest total first, with the totals', async () => {
    const { status, data } = await loaderData();
    expect(status).toBe(200);
    const report = data.report!;
    expect([report.from, report.to]).toEqual([range.from, range.to]);
    expect(report.months.map((x) => x.key)).toEqual([
      range.from.slice(0, 7),
      midMonth(1).toISOString().slice(0, 7),
      range.to.slice(0, 7),
    ]);
    expect(report).toMatchObject({ sort: 'total', direction: 'desc', page: 1, pageCount: 2 });
    expect(report.customers).toBe(MEMBERS);
    expect(report.rows).toHaveLength(50);
    // Member 56: 56 + 112 = 168, the largest; the bonus and month 3 are not counted.
    expect(report.rows[0]).toMatchObject({
      externalId: '8056',
      name: 'Member56 Report',
      monthly: [n(56), n(112), '0'],
      total: n(168),
    });
    const month0 = (MEMBERS * (MEMBERS + 1)) / 2;
    let month1 = 0;
    for (let i = 2; i <= MEMBERS; i += 2) month1 += 2 * i;
    expect(report.totals).toEqual({
      monthly: [n(month0), n(month1), n(-1)],
      total: n(month0 + month1 - 1),
    });
  });

  it('agrees with `loyalty report --shop` customer by customer', async () => {
    const cli = JSON.parse(
      await loyalty('report', '--shop', SHOP, '--from', range.from, '--to', range.to),
    ) as {
      months: string[];
      customers: { customerId: string; monthly: Record<string, number>; total: number }[];
      totals: { monthly: Record<string, number>; total: number };
    };
    const rows = [
      ...(await loaderData('?sort=customer')).data.report!.rows,
      ...(await loaderData('?sort=customer&page=2')).data.report!.rows,
    ];
    expect(rows.map((r) => [r.externalId, r.monthly, r.total])).toEqual(
      cli.customers.map((c) => [
        c.customerId,
        cli.months.map((month) => n(c.monthly[month]!)),
        n(c.total),
      ]),
    );
  });

  it('sorts by a month either way and pages', async () => {
    const month1 = midMonth(1).toISOString().slice(0, 7);
    const up = (await loaderData(`?sort=month:${month1}&dir=asc`)).data.report!;
    expect(up.sort).toBe(`month:${month1}`);
    // Odd members earned nothing that month: they come first, by customer id.
    expect(up.rows.slice(0, 3).map((r) => r.externalId)).toEqual(['8001', '8003', '8005']);
    const page2 = (await loaderData('?page=2')).data.report!;
    expect(page2.page).toBe(2);
    // The six smallest totals (odd i: i, even i: 3i, member 1: 0), largest first.
    expect(page2.rows.map((r) => r.externalId)).toEqual([
      '8009',
      '8007',
      '8002',
      '8005',
      '8003',
      '8001',
    ]);
    const first = (await loaderData()).data.report!.rows.map((r) => r.externalId);
    expect(new Set([...first, ...page2.rows.map((r) => r.externalId)]).size).toBe(MEMBERS);
    // Past the last page: the last page.
    expect((await loaderData('?page=9')).data.report!.page).toBe(2);
  });

  it('names the field of a bad date and reads nothing', async () => {
    const notADate = await loaderData('?from=2026-02-30&to=2026-03-31');
    expect(notADate.status).toBe(200);
    expect(notADate.data.report).toBeNull();
    expect(notADate.data.errors).toEqual({ from: 'From "2026-02-30" is not a date (YYYY-MM-DD)' });
    const reversed = await loaderData('?from=2026-05-01&to=2026-04-01');
    expect(reversed.data.errors).toEqual({ from: 'From 2026-05-01 is after To 2026-04-01' });
    expect(reversed.data.form).toMatchObject({ from: '2026-05-01', to: '2026-04-01' });
  });

  it('is empty for a range without purchases', async () => {
    const { data } = await loaderData('?from=2001-01-01&to=2001-03-31');
    expect(data.report).toMatchObject({ customers: 0, rows: [], pageCount: 1 });
    expect(data.report!.totals.total).toBe('0');
  });

  it('shows each shop only its own customers', async () => {
    const { data } = await loaderData('', OTHER_SHOP);
    expect(data.report!.rows.map((r) => r.externalId)).toEqual(['9999']);
  });
});

describe('/app/reports/csv', () => {
  const csvUrl = (search: string) => new URL(`/app/reports/csv${search}`, app.url);

  it('downloads what `loyalty report --shop … --format csv` prints, byte for byte', async () => {
    for (const [from, to] of [
      [range.from, range.to],
      [range.from.slice(0, 8) + '10', midMonth(3).toISOString().slice(0, 10)],
    ] as const) {
      const response = await fetch(csvUrl(`?from=${from}&to=${to}`), { headers: bearer() });
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('Content-Disposition')).toBe(
        `attachment; filename="laurel-report-${from}-${to}.csv"`,
      );
      const body = await response.text();
      const cli = await loyalty(
        'report',
        '--shop',
        SHOP,
        '--from',
        from,
        '--to',
        to,
        '--format',
        'csv',
      );
      expect(body).toBe(cli);
      expect(body.split('\n').length).toBe(MEMBERS + 3);
    }
  });

  it('answers only with a session token, and only for the shop it names', async () => {
    const anonymous = await fetch(csvUrl(`?from=${range.from}&to=${range.to}`), {
      headers: { 'User-Agent': ADMIN_BROWSER },
      redirect: 'manual',
    });
    expect(anonymous.status).not.toBe(200);
    expect(await anonymous.text()).not.toContain('8001');
    // A shop parameter does not choose the shop: the token does.
    const other = await fetch(csvUrl(`?from=${range.from}&to=${range.to}&shop=${SHOP}`), {
      headers: bearer(OTHER_SHOP),
    });
    const body = await other.text();
    expect(body).toContain('9999,');
    expect(body).not.toContain('8001');
  });

  it('refuses a bad range with the reason', async () => {
    const response = await fetch(csvUrl('?from=2026-04-01&to=2026-03-01'), { headers: bearer() });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'From 2026-04-01 is after To 2026-03-01',
    });
  });
});
