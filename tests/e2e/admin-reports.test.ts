/**
 * The admin's report page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on this
 * file's own PostgreSQL database with twelve members who bought in the last three full months. A
 * merchant reads the default report (largest total first, the totals row), sorts by a month and by
 * customer with the column headings, asks for a range the wrong way round (the error beside the
 * field, no table), a range without purchases (the empty state), and exports the CSV — the file
 * the browser saves is what `loyalty report --shop … --format csv` prints for that range.
 * Screenshots: tests/artifacts/admin-reports*.png; docs/images/admin-reports.png for
 * docs/reports.md.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReportCsv } from '../../cli/report-file';
import { formatMonth } from '../../app/admin-format';
import { defaultReportRange } from '../../app/admin-report.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { postMany, type LedgerEntryInput } from '../../app/models/ledger.server';
import { earnedReport } from '../../app/models/reports.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-reports.myshopify.com';
const TOKEN = 'shpat_admin_reports';
const TZ = 'America/New_York';
const NAMES = [
  ['Ada', 'Lovelace'],
  ['Grace', 'Hopper'],
  ['Alan', 'Turing'],
  ['Edsger', 'Dijkstra'],
  ['Barbara', 'Liskov'],
  ['Donald', 'Knuth'],
  ['Frances', 'Allen'],
  ['John', 'Backus'],
  ['Radia', 'Perlman'],
  ['Ken', 'Thompson'],
  ['Margaret', 'Hamilton'],
  ['Tony', 'Hoare'],
] as const;

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;
const range = defaultReportRange(new Date(), TZ);
const [year, month] = range.from.split('-').map(Number) as [number, number];
const midMonth = (k: number) => new Date(Date.UTC(year, month - 1 + k, 15, 15));
const monthKey = (k: number) => midMonth(k).toISOString().slice(0, 7);

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: TZ });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  const entries: LedgerEntryInput[] = [];
  for (const [i, [firstName, lastName]] of NAMES.entries()) {
    const c = await ensureCustomer(db.db, shop.id, {
      externalId: String(7_001 + i),
      firstName,
      lastName,
      email: `${firstName.toLowerCase()}@example.com`,
    });
    // Points that differ per member and month, so each sort gives its own order.
    for (let k = 0; k < 3; k++) {
      const points = ((i * 37 + k * 53) % 400) + 20;
      entries.push({
        customerId: c.id,
        idempotencyKey: `order:${i}-${k}:earn`,
        source: 'order',
        points,
        occurredAt: midMonth(k),
        inputs: {},
      });
    }
    if (i % 4 === 0) {
      entries.push({
        customerId: c.id,
        idempotencyKey: `refund:${i}:reverse`,
        source: 'refund',
        points: -15,
        occurredAt: midMonth(2),
        inputs: {},
      });
    }
  }
  await postMany(db.db, shop.id, entries);
  admin = await startAdminBrowser({
    shop: SHOP,
    accessToken: TOKEN,
    settings: { currencyCode: 'USD', ianaTimezone: TZ },
    databaseUrl: db.url!,
    queuePrefix: `test-${randomUUID()}`,
  });
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await db?.close();
}, 60_000);

describe('admin: reports', () => {
  it('reads, sorts, refuses a bad range, shows an empty one, and exports the CSV', async () => {
    const report = await earnedReport(db.db, shop.id, range);
    const byTotal = [...report.customers].sort(
      (a, b) => b.total - a.total || Number(a.customerId) - Number(b.customerId),
    );
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/reports`);
    await page.getByText(`12 customers earned points from ${range.from} to ${range.to}`).waitFor({
      timeout: 15_000,
    });
    await hydrated(page);

    // The data table (with a sticky header, Polaris draws the header row again in its own table).
    const table = page
      .locator('table')
      .filter({ has: page.locator('tbody tr') })
      .first();
    const rows = () =>
      table
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim() ?? '')),
        );
    const firstCells = async () => (await rows()).map((r) => r[0]!);
    const nameOf = (externalId: string) => {
      const [first, last] = NAMES[Number(externalId) - 7_001]!;
      return `${first} ${last}`;
    };
    // Largest total first; each row: name (and email), three months, the total.
    const shown = await rows();
    expect(shown).toHaveLength(12);
    expect(shown[0]![0]).toContain(nameOf(byTotal[0]!.customerId));
    expect(shown[0]!.slice(1)).toEqual(
      [...report.months.map((m) => byTotal[0]!.monthly[m]!), byTotal[0]!.total].map((x) =>
        x.toLocaleString('en-US'),
      ),
    );
    const footer = await table
      .locator('tfoot tr')
      .last()
      .evaluate((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim() ?? ''));
    expect(footer.slice(-4)).toEqual(
      [...report.months.map((m) => report.totals.monthly[m]!), report.totals.total].map((x) =>
        x.toLocaleString('en-US'),
      ),
    );
    await shot(page, 'admin-reports', { doc: true });

    // Sort by the middle month (largest first), then by customer (A→Z by Shopify id).
    const middle = report.months[1]!;
    expect(middle).toBe(monthKey(1));
    const byMiddle = [...report.customers].sort(
      (a, b) =>
        b.monthly[middle]! - a.monthly[middle]! || Number(a.customerId) - Number(b.customerId),
    );
    await table.getByRole('button', { name: new RegExp(monthLabel(middle)) }).click();
    await page.waitForURL(/sort=month%3A/);
    await expect
      .poll(async () => (await firstCells())[0])
      .toContain(nameOf(byMiddle[0]!.customerId));
    await table.getByRole('button', { name: /Customer/ }).click();
    await page.waitForURL(/sort=customer/);
    await expect
      .poll(async () => (await firstCells()).map((c) => c.split('@')[0]))
      .toEqual(NAMES.map(([first, last]) => `${first} ${last}${first.toLowerCase()}`));

    // Export: the saved file is the CLI's CSV of the range.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`laurel-report-${range.from}-${range.to}.csv`);
    expect(readFileSync((await download.path())!, 'utf8')).toBe(formatReportCsv(report));

    // From after to: the reason beside the field, no table.
    await page.getByLabel('From').fill(range.to);
    await page.getByLabel('To').fill(range.from);
    await page.getByRole('button', { name: 'Show report' }).click();
    await page.getByText(`From ${range.to} is after To ${range.from}`).first().waitFor();
    await expect(page.locator('tbody tr').count()).resolves.toBe(0);
    await shot(page, 'admin-reports-error');

    // A range without purchases: the empty state.
    await page.getByLabel('From').fill('2001-01-01');
    await page.getByLabel('To').fill('2001-03-31');
    await page.getByRole('button', { name: 'Show report' }).click();
    await page.getByText('No purchase earned points in this range.').waitFor();
    await expect(page.getByRole('button', { name: 'Export CSV' }).isDisabled()).resolves.toBe(true);
    await shot(page, 'admin-reports-empty');

    expected.length = 0;
    expect(problems).toEqual([]);
  });
});

const monthLabel = (key: string) => formatMonth(key, 'en-US');
