/**
 * The admin's expiry page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on this
 * file's own PostgreSQL database with two members holding lots that expire within the year once a
 * 12-month policy is in force. A merchant picks "each lot", types 0 months (refused beside the
 * field, nothing saved — checked in the database), fixes it, adds reminders 30 and 7 days before
 * by email, saves (version 1 in force, the points due per month appear), then schedules a change
 * for a later local time (version 2, scheduled). Screenshots: tests/artifacts/admin-expiry*.png;
 * docs/images/admin-expiry.png for docs/expiry.md.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { listExpiryPolicies } from '../../app/models/expiry-policies.server';
import { post } from '../../app/models/ledger.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { addZonedDays, addZonedMonths } from '../../loyalty/time';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-expiry.myshopify.com';
const TOKEN = 'shpat_admin_expiry';
const TZ = 'America/New_York';

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: TZ });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  // Lots earned 12 months ago less 20 and 40 days: due within two months under 12 months per lot.
  const now = Date.now();
  for (const [i, [points, daysAhead]] of [
    [120, 20],
    [45, 40],
  ].entries()) {
    const member = await ensureCustomer(db.db, shop.id, {
      externalId: String(9100 + i),
      email: `member${i}@example.com`,
    });
    await post(db.db, shop.id, {
      customerId: member.id,
      idempotencyKey: randomUUID(),
      source: 'order',
      points: points!,
      occurredAt: new Date(addZonedDays(addZonedMonths(now, -12, TZ), daysAhead!, TZ)),
      inputs: { orderName: `#${2001 + i}` },
    });
  }
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

const tableRows = (page: import('playwright-core').Page, index: number) =>
  page
    .locator('table')
    .nth(index)
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim())),
    );

describe('admin: expiry', () => {
  it('sets expiry per lot with reminders: 0 months refused inline, saved, points due per month, a later change scheduled', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/expiry`);
    await page.getByText('Points never expire').first().waitFor({ timeout: 15_000 });
    await hydrated(page);
    // Nothing expires yet: every month shows 0.
    expect((await tableRows(page, 0)).every((r) => r[1] === '0' && r[2] === '0')).toBe(true);

    await page.getByLabel('Points expire').selectOption('lot');
    await page.getByLabel('Months').fill('0');
    await page.getByLabel('Reminder days before expiry').fill('30, 7');
    await page.getByLabel('Email the member').check();
    expected.push(
      /status of 400 .*\/app\/expiry\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/expiry\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Months must be a whole number from 1 to 120 (got 0).').waitFor();
    await shot(page, 'admin-expiry-validation');
    expect(await listExpiryPolicies(db.db, shop.id)).toEqual([]);
    expected.length = 0;

    await page.getByLabel('Months').fill('12');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Version 1 saved.').waitFor({ timeout: 15_000 });
    await page.getByText('Each lot expires 12 months after it is earned').first().waitFor();
    await page.getByText('Reminders: 30, 7 days before, by email').waitFor();
    const forecast = await tableRows(page, 0);
    expect(forecast).toHaveLength(12);
    const total = forecast.reduce((sum, r) => sum + Number(r[1]!.replace(/,/g, '')), 0);
    const members = forecast.reduce((sum, r) => sum + Number(r[2]), 0);
    expect([total, members]).toEqual([165, 2]);
    await shot(page, 'admin-expiry', { doc: true });
    const [v1] = await listExpiryPolicies(db.db, shop.id);
    expect(v1).toMatchObject({
      version: 1,
      policy: { mode: 'lot', months: 12 },
      reminderDays: [30, 7],
      channels: { email: true, shopify: false },
    });

    // A change to inactivity, from a later local time: scheduled, version 1 still in force.
    await page.getByLabel('Points expire').selectOption('inactivity');
    await page.getByLabel('Months').fill('18');
    await page.getByLabel('Takes effect').selectOption('later');
    const next = new Date(Date.now() + 10 * 86_400_000);
    const day = next.toISOString().slice(0, 10);
    await page.getByLabel(`Effective at (${TZ})`).fill(`${day}T09:00`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Version 2 saved.').waitFor({ timeout: 15_000 });
    await page.getByText('2 (scheduled)').waitFor();
    await expect(page.getByText('1 (in force)').isVisible()).resolves.toBe(true);
    const versions = await listExpiryPolicies(db.db, shop.id);
    expect(versions.map((v) => [v.version, v.policy])).toEqual([
      [1, { mode: 'lot', months: 12 }],
      [2, { mode: 'inactivity', months: 18 }],
    ]);
    expect(versions[1]!.effectiveFrom.getTime()).toBeGreaterThan(Date.now());
    await shot(page, 'admin-expiry-scheduled');

    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
