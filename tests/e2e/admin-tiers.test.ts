/**
 * The admin's tiers page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on this
 * file's own PostgreSQL database with eight members whose spend puts them in every tier of the
 * template. A merchant starts from the template, edits it (a window, a tier added, moved and
 * removed), previews an invalid draft (errors beside the fields, nothing saved — checked in the
 * database), fixes it, previews ("N customers move up"), changes the draft (Apply goes away until
 * previewed again), applies, and reads members per tier — the same numbers customer_tiers holds.
 * Screenshots: tests/artifacts/admin-tiers*.png; docs/images/admin-tiers.png and
 * admin-tiers-preview.png for docs/admin.md.
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { listTierPrograms } from '../../app/models/tiers.server';
import { customerTiers, orders } from '../../db/schema';
import { segmentsOf } from '../../dev/emulator/segments';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-tiers.myshopify.com';
const TOKEN = 'shpat_admin_tiers';
/** Dollars spent in the last day by each member: 3 Bronze, 2 Silver, 2 Gold, 1 Platinum. */
const SPEND = [0, 40, 120, 300, 480, 1_200, 2_600, 7_500];

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  for (const [i, dollars] of SPEND.entries()) {
    const member = await ensureCustomer(db.db, shop.id, {
      externalId: String(8100 + i),
      email: `member${i}@example.com`,
    });
    if (dollars === 0) continue;
    const at = new Date(Date.now() - 3_600_000);
    await db.db.insert(orders).values({
      shopId: shop.id,
      shopifyOrderId: String(5_100_000 + i),
      name: `#${1001 + i}`,
      customerId: member.id,
      currency: 'USD',
      earnAmountMinor: dollars * 100,
      totalMinor: dollars * 100,
      processedAt: at,
      paidAt: at,
    });
  }
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

const tierCounts = async () =>
  Object.fromEntries(
    (
      await db.db
        .select({ key: customerTiers.tierKey, n: sql<number>`count(*)::int` })
        .from(customerTiers)
        .where(eq(customerTiers.shopId, shop.id))
        .groupBy(customerTiers.tierKey)
    ).map((r) => [r.key ?? 'none', r.n]),
  );

describe('admin: tiers', () => {
  it('defines four tiers through the form: invalid draft refused inline, preview, apply, members per tier', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/tiers`);
    await page.getByText('No tiers yet').waitFor({ timeout: 15_000 });
    await hydrated(page);

    await page.getByRole('button', { name: 'Start from a template' }).click();
    const tier = (n: number) => page.getByRole('group', { name: `Tier ${n}`, exact: true });
    await tier(4).getByLabel('Name').waitFor();
    expect(await tier(1).getByLabel('Name').inputValue()).toBe('Bronze');
    expect(await tier(4).getByLabel('Threshold').inputValue()).toBe('5000.00');
    await page.getByLabel('Window').selectOption('rolling_12_months');

    // A fifth tier: its key follows its name; moved above Platinum, then removed.
    await page.getByRole('button', { name: 'Add tier' }).click();
    await tier(5).getByLabel('Name').fill('Diamond Club');
    expect(await tier(5).getByLabel('Key').inputValue()).toBe('diamond-club');
    await page.getByRole('button', { name: 'Move Diamond Club up' }).click();
    expect(await tier(4).getByLabel('Name').inputValue()).toBe('Diamond Club');
    expect(await tier(5).getByLabel('Name').inputValue()).toBe('Platinum');
    await page.getByRole('button', { name: 'Remove Diamond Club' }).click();
    await expect(page.getByRole('group', { name: 'Tier 5', exact: true }).count()).resolves.toBe(0);

    // Unordered thresholds and a multiplier below 1: refused beside their fields, nothing saved.
    await tier(3).getByLabel('Threshold').fill('200');
    await tier(2).getByLabel('Earn multiplier').fill('0.5');
    expected.push(
      /status of 400 .*\/app\/tiers\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/tiers\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByText('Nothing was saved: fix these and preview again').waitFor();
    const thresholdError = page.getByText(
      "Threshold must be above Silver's (250.00): list tiers from lowest to highest",
    );
    // Beside the field and in the banner.
    await expect(thresholdError.count()).resolves.toBe(2);
    await expect(
      tier(2)
        .getByText("Earn multiplier '0.5' must be a number from 1 to 10 with at most 4 decimals")
        .isVisible(),
    ).resolves.toBe(true);
    await expect(page.getByRole('button', { name: /^Apply/ }).count()).resolves.toBe(0);
    await shot(page, 'admin-tiers-validation');
    expect(await listTierPrograms(db.db, shop.id)).toEqual([]);
    expect(await tierCounts()).toEqual({});
    expected.length = 0;

    await tier(3).getByLabel('Threshold').fill('1000');
    await tier(2).getByLabel('Earn multiplier').fill('1.25');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByText('8 customers move up, 0 move down, 0 stay where they are').waitFor();
    const previewRows = await page
      .locator('table')
      .last()
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim())),
      );
    expect(previewRows).toEqual([
      ['Bronze', '0', '3', '+3'],
      ['Silver', '0', '2', '+2'],
      ['Gold', '0', '2', '+2'],
      ['Platinum', '0', '1', '+1'],
      ['No tier', '8', '0', '−8'],
    ]);
    await shot(page, 'admin-tiers-preview', { doc: true });
    // Previewing wrote nothing.
    expect(await listTierPrograms(db.db, shop.id)).toEqual([]);
    expect(await tierCounts()).toEqual({});

    // A change after the preview takes Apply away until the draft is previewed again.
    await tier(4).getByLabel('Entry reward').fill('750');
    await page.getByText('The draft changed since its preview').waitFor();
    await expect(page.getByRole('button', { name: /^Apply/ }).count()).resolves.toBe(0);
    await tier(4).getByLabel('Entry reward').fill('500');
    await page.getByRole('button', { name: 'Apply as version 1' }).waitFor();

    await page.getByRole('button', { name: 'Apply as version 1' }).click();
    await page
      .getByText('Version 1 is in force: 8 members re-evaluated, 8 changed tier.')
      .waitFor({ timeout: 30_000 });
    await page.getByText('In force since').waitFor();
    // The perks followed at Shopify: a segment and a free-shipping discount for Gold and Platinum.
    await page.getByText('Tier perks synced to Shopify').waitFor();
    const store = admin.emulator.state.store(SHOP);
    expect([...segmentsOf(store).values()].map((s) => s.query).sort()).toEqual([
      "customer_tags CONTAINS 'laurel-tier-gold'",
      "customer_tags CONTAINS 'laurel-tier-platinum'",
    ]);
    await shot(page, 'admin-tiers', { doc: true });
    const programRows = await page
      .locator('table')
      .first()
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim())),
      );
    expect(programRows).toEqual([
      ['Bronze', '$0.00', '×1', '—', 'No', 'laurel-tier-bronze', '3'],
      ['Silver', '$250.00', '×1.25', '50 points', 'No', 'laurel-tier-silver', '2'],
      ['Gold', '$1,000.00', '×1.5', '200 points', 'Yes', 'laurel-tier-gold', '2'],
      ['Platinum', '$5,000.00', '×2', '500 points', 'Yes', 'laurel-tier-platinum', '1'],
      ['No tier', '—', '—', '—', '—', '—', '0'],
    ]);
    await expect(page.getByText('1 (in force)').isVisible()).resolves.toBe(true);

    expect(await tierCounts()).toEqual({ bronze: 3, silver: 2, gold: 2, platinum: 1 });
    const [version] = await listTierPrograms(db.db, shop.id);
    expect(version?.definition).toMatchObject({
      metric: 'spend',
      window: 'rolling_12_months',
      currency: 'USD',
      tiers: [
        { key: 'bronze', threshold: '0.00' },
        { key: 'silver', threshold: '250.00', multiplier: '1.25' },
        { key: 'gold', threshold: '1000', multiplier: '1.5' },
        { key: 'platinum', threshold: '5000.00', entryReward: { points: 500 } },
      ],
    });

    // The editor now starts from version 1: Apply needs a new preview, which moves nobody.
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByText('0 customers move up, 0 move down, 8 stay where they are').waitFor();
    await page.getByRole('button', { name: 'Apply as version 2' }).waitFor();

    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
