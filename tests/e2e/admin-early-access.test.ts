/**
 * The admin's early-access page in Chromium through /dev/admin (tests/helpers/admin-browser.ts),
 * on this file's own PostgreSQL database with the four tiers of docs/tiers.md, against the Admin
 * API emulator holding the demo's products. A merchant creates a window for the demo's
 * early-access matcha — first with everyone's time before Gold's (refused beside the field), then
 * with a product Shopify does not have (refused: unknown product) — nothing saved either time
 * (checked in the database); then the real one, which the app checks at Shopify, mirrors to the
 * product's metafield and installs the checkout validation for; the list says who may buy now.
 * Archiving it takes it off the product. Screenshots: tests/artifacts/admin-early-access*.png;
 * docs/images/admin-early-access.png for docs/admin.md.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getProductMirror, listWindows } from '../../app/models/early-access.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { shopEarlyAccess } from '../../db/schema';
import { seedDemoProducts } from '../../dev/demo/emulator-seed';
import { demoEarlyAccessProduct } from '../../dev/demo/storefront';
import { localTimeText } from '../../loyalty/early-access';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';
import { seedTierProgram } from '../helpers/tiers';

const SHOP = 'laurel-admin-early.myshopify.com';
const TOKEN = 'shpat_admin_early';
const NY = 'America/New_York';
const HOUR = 3_600_000;

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: NY });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  await seedTierProgram(db.db, shop.id);
  admin = await startAdminBrowser({
    shop: SHOP,
    accessToken: TOKEN,
    databaseUrl: db.url!,
    queuePrefix: `test-${randomUUID()}`,
    settings: { currencyCode: 'USD', ianaTimezone: NY },
  });
  seedDemoProducts(admin.emulator.state, SHOP);
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await db?.close();
}, 60_000);

/** "YYYY-MM-DDTHH:MM" in New York, as a datetime-local input holds it. */
const local = (at: number) => localTimeText(at, NY).slice(0, 16);
/** "Dec 3, 2026, 19:00", as the list shows a shop-local time. */
const shown = (at: number) =>
  new Intl.DateTimeFormat('en-US', {
    timeZone: NY,
    dateStyle: 'medium',
    timeStyle: 'short',
    hourCycle: 'h23',
  }).format(new Date(at));

describe('admin: early access', () => {
  it('creates a window for the early-access product after two refused ones, then archives it', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    const matcha = demoEarlyAccessProduct();
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const goldFrom = now - HOUR;
    const everyoneFrom = now + 7 * 24 * HOUR;

    await page.goto(`${admin.app.url}/dev/admin?path=/app/early-access`);
    await page.getByText('No early-access windows').waitFor({ timeout: 15_000 });
    await hydrated(page);

    const stage = page.getByRole('group', { name: 'Stage 1', exact: true });
    await page.getByLabel('Name').fill('First harvest for Gold');
    await page.getByLabel('Product or collection').fill(`gid://shopify/Product/${matcha.id}`);
    await stage.getByLabel('Tier').selectOption('gold');
    await stage.getByLabel('Opens at').fill(local(goldFrom));
    // Everyone before Gold: the window would end before it starts.
    await page.getByLabel('Everyone from').fill(local(goldFrom - 24 * HOUR));
    expected.push(
      /status of 400 .*\/app\/early-access\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/early-access\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Create window' }).click();
    await page.getByText('The window was not saved').waitFor();
    const endBeforeStart = page.getByText(/^Everyone from must be after every tier's opening/);
    // Beside the field and in the banner.
    await expect(endBeforeStart.count()).resolves.toBe(2);
    await shot(page, 'admin-early-access-validation');
    expect(await listWindows(db.db, shop.id, 'all')).toEqual([]);

    // A product Shopify does not have.
    await page.getByLabel('Everyone from').fill(local(everyoneFrom));
    await page.getByLabel('Product or collection').fill('987654321');
    await page.getByRole('button', { name: 'Create window' }).click();
    await page.getByText(`No product 987654321 in ${SHOP}`).first().waitFor();
    expect(await listWindows(db.db, shop.id, 'all')).toEqual([]);
    expect(await getProductMirror(db.db, shop.id, '987654321')).toBeUndefined();
    expected.length = 0;

    // The early-access product, pasted as its admin URL.
    await page
      .getByLabel('Product or collection')
      .fill(`https://admin.shopify.com/store/laurel-admin-early/products/${matcha.id}`);
    await page.getByRole('button', { name: 'Create window' }).click();
    await page
      .getByText(`Saved “First harvest for Gold” for ${matcha.title}.`)
      .waitFor({ timeout: 30_000 });
    await page
      .getByText('1 product mirror written to Shopify; checkout validation installed.')
      .waitFor();
    // The banner is the action's answer; the list is the loader's, revalidated right after it.
    await page.getByText('On Shopify (1 product)').waitFor();
    const row = page.locator('tbody tr').first();
    const cells = await row
      .locator('td')
      .evaluateAll((tds) => tds.map((td) => (td as HTMLElement).innerText.trim()));
    // A badge's tone is said to screen readers first ("Attention"): the text shown follows.
    const shownText = cells.map((c) => c.replace(/^(?:Attention|Success|Info|Critical)\n/, ''));
    expect(shownText.slice(0, 6)).toEqual([
      `First harvest for Gold\nProduct: ${matcha.title} (${matcha.id})`,
      `Gold and above from ${shown(goldFrom)}`,
      shown(everyoneFrom),
      'Early access',
      `Gold, Platinum may buy now; everyone else from ${shown(everyoneFrom)}`,
      'On Shopify (1 product)',
    ]);
    await shot(page, 'admin-early-access', { doc: true });

    const [saved] = await listWindows(db.db, shop.id);
    expect(saved?.definition).toEqual({
      name: 'First harvest for Gold',
      target: { type: 'product', id: String(matcha.id) },
      stages: [{ tier: 'gold', opensAt: local(goldFrom) }],
      everyoneAt: local(everyoneFrom),
    });
    const mirror = await getProductMirror(db.db, shop.id, String(matcha.id));
    expect(mirror?.syncedRevision).toBe(mirror?.revision);
    expect(mirror?.mirror?.windows[0]?.stages[0]?.tiers).toEqual(['gold', 'platinum']);
    const [validation] = await db.db
      .select()
      .from(shopEarlyAccess)
      .where(eq(shopEarlyAccess.shopId, shop.id));
    expect(validation?.validationId).toMatch(/^gid:\/\/shopify\/Validation\/\d+$/);

    // Archived: off the product at Shopify (the mirror is removed), listed under Archived.
    await page.getByRole('button', { name: 'Archive First harvest for Gold' }).click();
    await page.getByText('Archived “First harvest for Gold”: everyone may buy.').waitFor();
    await page.getByText('No early-access windows').waitFor();
    expect((await listWindows(db.db, shop.id, 'archived')).map((w) => w.name)).toEqual([
      'First harvest for Gold',
    ]);
    const removed = await getProductMirror(db.db, shop.id, String(matcha.id));
    expect(removed?.mirror).toBeNull();
    expect(removed?.syncedRevision).toBe(removed?.revision);
    await page.getByRole('link', { name: 'Archived (1)' }).click();
    await page.getByText('Not on Shopify any more').waitFor();

    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
