/**
 * The admin's customers pages in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on
 * this file's own PostgreSQL database with a handful of members (one redacted). A merchant lists
 * the members by balance, searches for one, opens her, reads her explained ledger, tries an
 * adjustment without a reason (the error beside the field, nothing posted — checked in the
 * database), then posts it with a reason: the balance and the ledger update, and the new entry
 * says why and who. Screenshots: tests/artifacts/admin-customers*.png; docs/images/admin-customers.png
 * and admin-customer.png for docs/customers.md.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer, redactCustomer, type Customer } from '../../app/models/customers.server';
import { balanceOf, entriesFor, post } from '../../app/models/ledger.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { orders } from '../../db/schema';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-customers.myshopify.com';
const TOKEN = 'shpat_admin_customers';

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;
let ada: Customer;

const MEMBERS = [
  ['7001', 'ada@example.com', 'Ada', 'Lovelace'],
  ['7002', 'grace@example.com', 'Grace', 'Hopper'],
  ['7003', 'katherine@example.org', 'Katherine', 'Johnson'],
  ['7004', 'dorothy@example.org', 'Dorothy', 'Vaughan'],
  ['7005', 'mary@example.net', 'Mary', 'Jackson'],
] as const;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  const at = new Date('2026-11-02T15:00:00Z');
  for (const [i, [externalId, email, firstName, lastName]] of MEMBERS.entries()) {
    const member = await ensureCustomer(db.db, shop.id, { externalId, email, firstName, lastName });
    if (externalId === '7001') ada = member;
    await post(db.db, shop.id, {
      customerId: member.id,
      idempotencyKey: `customer:${externalId}:signup`,
      source: 'bonus',
      points: 100 + 250 * i,
      occurredAt: new Date(at.getTime() - 86_400_000),
      programVersion: 3,
      inputs: { rule: 'signup-bonus', signupBonus: 100 + 250 * i },
    });
  }
  const gone = await ensureCustomer(db.db, shop.id, {
    externalId: '7099',
    email: 'gone@example.com',
    firstName: 'Gone',
  });
  await redactCustomer(db.db, shop.id, gone.id);
  // Ada's order of $120.00 under the reference bands, as settlement records it.
  await db.db.insert(orders).values({
    shopId: shop.id,
    shopifyOrderId: '5001',
    name: '#1001',
    customerId: ada.id,
    currency: 'USD',
    earnAmountMinor: 12_000,
    totalMinor: 12_000,
    processedAt: at,
    paidAt: at,
  });
  await post(db.db, shop.id, {
    customerId: ada.id,
    idempotencyKey: 'order:5001:earn',
    source: 'order',
    points: 90,
    occurredAt: at,
    programVersion: 3,
    subjectId: '5001',
    inputs: {
      rule: 'earn-bands',
      orderId: '5001',
      orderName: '#1001',
      earnOn: 'subtotal_after_discounts',
      sourceName: 'web',
      points: 90,
      basePoints: 90,
      amountMinor: 12_000,
      currency: 'USD',
      unitMinor: 100,
      bands: [
        { over: 0, upTo: 5_000, wholeUnits: 0, pointsPerUnit: 0, points: 0 },
        { over: 5_000, upTo: 10_000, wholeUnits: 50, pointsPerUnit: 1, points: 50 },
        { over: 10_000, upTo: null, wholeUnits: 20, pointsPerUnit: 2, points: 40 },
      ],
      multipliers: [],
    },
  });
  admin = await startAdminBrowser({
    shop: SHOP,
    accessToken: TOKEN,
    settings: { currencyCode: 'USD', ianaTimezone: 'America/New_York' },
    databaseUrl: db.url!,
    queuePrefix: `test-${randomUUID()}`,
  });
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await db?.close();
}, 60_000);

const tableRows = (page: import('playwright-core').Page, which = 'table') =>
  page
    .locator(which)
    .last()
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim())),
    );

describe('admin: customers', () => {
  it('searches, opens a member, reads the explained ledger, adjusts with and without a reason', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/customers`);
    await page.getByText('6 members').waitFor({ timeout: 15_000 });
    await hydrated(page);

    const list = await tableRows(page);
    expect(list.map((r) => r.slice(0, 6))).toEqual([
      ['Mary Jackson', 'mary@example.net', '7005', '1,100', '1,100', '—'],
      ['Dorothy Vaughan', 'dorothy@example.org', '7004', '850', '850', '—'],
      ['Katherine Johnson', 'katherine@example.org', '7003', '600', '600', '—'],
      ['Grace Hopper', 'grace@example.com', '7002', '350', '350', '—'],
      ['Ada Lovelace', 'ada@example.com', '7001', '190', '190', '—'],
      ['Redacted customerRedacted', '—', '7099', '0', '0', '—'],
    ]);
    await shot(page, 'admin-customers', { doc: true });

    // Sorted by name, then searched by last name.
    await page.getByLabel('Sort by').selectOption('name:asc');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/sort=name/);
    await expect
      .poll(async () => (await tableRows(page)).map((r) => r[0]))
      .toEqual([
        'Redacted customerRedacted',
        'Ada Lovelace',
        'Dorothy Vaughan',
        'Grace Hopper',
        'Katherine Johnson',
        'Mary Jackson',
      ]);
    await page.getByLabel('Search customers').fill('lovelace');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 match', { exact: true }).waitFor();
    expect((await tableRows(page)).map((r) => r[0])).toEqual(['Ada Lovelace']);
    await page.getByLabel('Search customers').fill('nobody');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No customers match “nobody”').waitFor();
    await page.getByLabel('Search customers').fill('ada@');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 match', { exact: true }).waitFor();

    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'Ledger' }).waitFor();
    await page
      .getByText('Order #1001, $120.00 → 90 points, program v3: 2×>$100, 1×$50–100')
      .waitFor();
    expect((await tableRows(page)).map((r) => [r[1], r[2], r[3]])).toEqual([
      ['Order', 'Order #1001, $120.00 → 90 points, program v3: 2×>$100, 1×$50–100', '+90'],
      ['Bonus', 'Welcome bonus → 100 points', '+100'],
    ]);

    // No reason: refused beside the field, nothing posted.
    expected.push(
      /status of 400 .*\/app\/customers\/\d+\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/customers\/\d+\.data(\?[^ ]*)?$/,
    );
    await page.getByLabel('Points').fill('50');
    await page.getByRole('button', { name: 'Post adjustment' }).click();
    await page.getByText('Nothing was posted').waitFor();
    const reasonError = page.getByText(
      'Reason is required: say why, e.g. “Goodwill for a late parcel”',
    );
    // Beside the field and in the banner.
    await expect(reasonError.count()).resolves.toBe(2);
    await shot(page, 'admin-customer-validation');
    expect((await entriesFor(db.db, shop.id, ada.id)).map((e) => e.source).sort()).toEqual([
      'bonus',
      'order',
    ]);
    expected.length = 0;

    // With a reason: posted, and the page shows the new balance and the entry explaining itself.
    await page.getByLabel('Reason').fill('Goodwill for a late parcel');
    await page.getByRole('button', { name: 'Post adjustment' }).click();
    await page
      .getByText('Added 50 points: the balance is 240. The storefront shows it within seconds.')
      .waitFor();
    await expect
      .poll(async () => (await tableRows(page))[0]?.slice(1))
      .toEqual([
        'Adjustment',
        expect.stringMatching(
          /^Adjustment: Goodwill for a late parcel → 50 points, by staff member \S+$/,
        ),
        '+50',
      ]);
    // The balance and lifetime earned figures both read 240 now (they read 190 before).
    await expect(page.getByText('240', { exact: true }).count()).resolves.toBe(2);
    await expect(page.getByText('190', { exact: true }).count()).resolves.toBe(0);
    // The form is fresh for the next adjustment.
    expect(await page.getByLabel('Reason').inputValue()).toBe('');
    await shot(page, 'admin-customer', { doc: true });

    expect(await balanceOf(db.db, shop.id, ada.id)).toEqual({ balance: 240, lifetimeEarned: 240 });
    const adjustments = (await entriesFor(db.db, shop.id, ada.id)).filter(
      (e) => e.source === 'adjustment',
    );
    expect(adjustments).toHaveLength(1);
    expect(adjustments[0]!.inputs).toMatchObject({
      rule: 'manual-adjustment',
      reason: 'Goodwill for a late parcel',
      staff: { userId: expect.any(String) },
    });

    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);

  it('answers another shop’s customer id with the reason', async () => {
    const other = await ensureShop(db.db, { domain: 'laurel-admin-customers-other.myshopify.com' });
    const theirs = await ensureCustomer(db.db, other.id, { externalId: '1' });
    const { page, problems, expected } = await admin.watchedPage();
    expected.push(
      /status of 404 .*\/app\/customers\/\d+/,
      /^HTTP 404: GET .*\/app\/customers\/\d+/,
    );
    await page.goto(`${admin.app.url}/dev/admin?path=/app/customers/${theirs.id}`);
    await page
      .getByText(`This shop has no customer ${theirs.id}: the id may belong to another shop`)
      .waitFor({ timeout: 15_000 });
    await shot(page, 'admin-customer-not-found');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
