/**
 * The admin's rewards and redemptions pages in Chromium, opened as the demo opens the embedded
 * admin: /dev/admin (a minted session token, the App Bridge stand-in; docs/demo.md). The built
 * server runs as a child in the demo configuration — NODE_ENV=development, a demo state file
 * naming the shop and the secret — on this file's own PostgreSQL database, so the test can seed
 * redemptions and read what the form saved. It creates a fixed-amount reward (after a validation
 * error shown beside its field) and a points slider (with its live preview), archives one,
 * and filters the redemptions list by status. Any console error or warning, page error or failed
 * request fails it. Screenshots: tests/artifacts/admin-*.png (docs/images/ has copies for
 * docs/admin.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { listRewards } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { redemptions } from '../../db/schema';
import { ARTIFACTS, hydrated, shot, watchedAdminPage } from '../helpers/admin-browser';
import { ensureAppBuilt, freePort, startAppProcess, type AppProcess } from '../helpers/app-server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { launchChromium, type Chromium } from '../helpers/demo-process';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-e2e.myshopify.com';
const SECRET = randomBytes(32).toString('hex');
const PREFIX = `test-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'laurel-admin-e2e-'));

let db: TestDatabase;
let app: AppProcess;
let browser: Chromium;
let shop: Shop;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await storeOfflineSession(db.db, SHOP, 'shpat_admin_e2e');
  const stateFile = join(dir, 'pglite-demo.json');
  writeFileSync(stateFile, JSON.stringify({ version: 1, shop: SHOP, apiSecret: SECRET }));
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  app = await startAppProcess({
    env: {
      NODE_ENV: 'development',
      PORT: String(port),
      DATABASE_URL: db.url!,
      QUEUE_PREFIX: PREFIX,
      SHOPIFY_API_SECRET: SECRET,
      SHOPIFY_APP_URL: appUrl,
      DEMO_STATE_FILE: stateFile,
      APP_BRIDGE_URL: `${appUrl}/dev/app-bridge.js`,
      SESSION_CACHE_TTL_MS: '0',
      LOG_LEVEL: 'warn',
    },
  });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A redemption as the redeem flow leaves it, its debit a real ledger entry. */
async function seedRedemption(
  customerId: number,
  rewardId: number,
  status: 'issued' | 'used' | 'expired' | 'failed',
  extra: Partial<typeof redemptions.$inferInsert> = {},
): Promise<void> {
  const requestId = randomUUID();
  const { entry } = await post(db.db, shop.id, {
    customerId,
    idempotencyKey: `redemption:${requestId}:debit`,
    source: 'redemption',
    points: -300,
    occurredAt: new Date(),
    inputs: { rewardId, rewardVersion: 1, requestId },
  });
  await db.db.insert(redemptions).values({
    shopId: shop.id,
    customerId,
    rewardId,
    rewardVersion: 1,
    requestId,
    status,
    points: 300,
    value: { kind: 'amount_off_order', amountMinor: 300, currency: 'USD' },
    code:
      status === 'failed'
        ? null
        : `LRL-${randomBytes(2).toString('hex').toUpperCase()}-${status.slice(0, 4).toUpperCase()}`,
    debitEntryId: entry.id,
    issuedAt: status === 'failed' ? null : new Date(),
    expiresAt: new Date(Date.now() + 30 * 86_400_000),
    ...extra,
  });
}

describe('admin: rewards and redemptions', () => {
  it('creates two rewards through the form, shows a validation error, archives one and filters redemptions', async () => {
    const { page, problems, expected } = await watchedAdminPage(browser);

    // The catalog, empty, through the dev path to the embedded admin.
    await page.goto(`${app.url}/dev/admin?path=/app/rewards`);
    await page.getByText('No rewards yet').waitFor({ timeout: 15_000 });
    await hydrated(page);

    // A fixed amount off: an amount with too many decimals is refused beside its field.
    await page.getByRole('link', { name: 'Add reward' }).click();
    await page.getByLabel('Title').waitFor();
    await page.getByLabel('Title').fill('$5 off your next order');
    await page.getByLabel('Points cost').fill('500');
    await page.getByLabel('Amount').fill('5.001');
    await page.getByLabel('Minimum order').fill('25');
    // The refused save answers 400, which Chromium reports on the console.
    expected.push(
      /status of 400 .*\/app\/rewards\/new\.data\)$/,
      /^HTTP 400: POST .*\/app\/rewards\/new\.data$/,
    );
    await page.getByRole('button', { name: 'Create reward' }).click();
    const fieldError = page.getByText('Amount has 3 decimal places; USD allows 2');
    await fieldError.first().waitFor();
    // Beside the field and in the banner.
    expect(await fieldError.count()).toBe(2);
    await expect(page.getByText('The reward was not saved').isVisible()).resolves.toBe(true);
    await shot(page, 'admin-reward-validation');
    expected.length = 0;
    expect(await listRewards(db.db, shop.id, { includeArchived: true })).toEqual([]);

    await page.getByLabel('Amount').fill('5');
    await page.getByRole('button', { name: 'Create reward' }).click();
    await page.getByText('Saved “$5 off your next order” (version 1)').waitFor();

    // A points slider, with its live preview.
    await page.getByRole('link', { name: 'Add reward' }).click();
    await page.getByLabel('Type').selectOption('points_slider');
    await page.getByLabel('Title').fill('Spend points, save dollars');
    await page.getByLabel('Points per currency unit').fill('100');
    await page.getByLabel('Minimum points').fill('500');
    await page.getByLabel('Maximum points').fill('5000');
    await page.getByLabel('Step').fill('100');
    await page.getByText('Minimum: 500 points = $5.00').waitFor();
    await expect(page.getByText('Maximum: 5,000 points = $50.00').isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Points cost').count()).resolves.toBe(0);
    await shot(page, 'admin-reward-slider');
    await page.getByRole('button', { name: 'Create reward' }).click();
    await page.getByText('Saved “Spend points, save dollars” (version 1)').waitFor();

    const saved = await listRewards(db.db, shop.id);
    expect(saved.map((r) => r.definition)).toEqual([
      expect.objectContaining({
        type: 'fixed_amount',
        title: '$5 off your next order',
        pointsCost: 500,
        amountMinor: 500,
        minimumOrderMinor: 2500,
      }),
      expect.objectContaining({
        type: 'points_slider',
        pointsCost: null,
        slider: { pointsPerUnit: 100, minPoints: 500, maxPoints: 5000, stepPoints: 100 },
      }),
    ]);
    await expect(page.getByText('$5.00 off').isVisible()).resolves.toBe(true);
    await expect(page.getByText('$5.00–$50.00 off').isVisible()).resolves.toBe(true);
    await shot(page, 'admin-rewards');

    // Archive the fixed amount: it leaves the active tab for the archived one.
    await page.getByRole('button', { name: 'Archive $5 off your next order' }).click();
    await page.getByText('Archived “$5 off your next order”').waitFor();
    expect((await listRewards(db.db, shop.id)).map((r) => r.definition.title)).toEqual([
      'Spend points, save dollars',
    ]);
    await page.getByRole('link', { name: 'Archived (1)' }).click();
    await page.getByRole('button', { name: 'Unarchive $5 off your next order' }).waitFor();

    // Redemptions of both, seeded as the redeem flow leaves them; the list filtered by status.
    const [fixed, slider] = (await listRewards(db.db, shop.id, { includeArchived: true })).map(
      (r) => r.id,
    );
    const ada = await ensureCustomer(db.db, shop.id, {
      externalId: '7001',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    await post(db.db, shop.id, {
      customerId: ada.id,
      idempotencyKey: 'order:1:earn',
      source: 'order',
      points: 5000,
      occurredAt: new Date(),
      inputs: {},
    });
    await seedRedemption(ada.id, fixed!, 'used', {
      usedAt: new Date(),
      shopifyOrderId: '5550001',
    });
    await seedRedemption(ada.id, slider!, 'issued');
    await seedRedemption(ada.id, slider!, 'failed', {
      failureReason: 'Shopify refused the discount: the customer no longer exists',
    });
    await page.locator('ui-nav-menu a', { hasText: 'Redemptions' }).click();
    await page.getByText('Shopify refused the discount').waitFor();
    await expect(page.locator('tbody tr').count()).resolves.toBe(3);
    await page.getByLabel('Used').check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((url) => url.searchParams.getAll('status[]').includes('used'));
    await page.getByText('5550001').waitFor();
    await expect(page.locator('tbody tr').count()).resolves.toBe(1);
    await expect(page.getByText('$5 off your next order (v1)').isVisible()).resolves.toBe(true);
    await shot(page, 'admin-redemptions');

    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
