/**
 * The admin's bonuses page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on this
 * file's own PostgreSQL database: a merchant sees the sign-up bonus from the earn program with a
 * link to the program editor, types bad settings (a negative birthday bonus, an http profile, a
 * network with points and no profile) and gets every problem beside its field with nothing saved —
 * checked in the database — then fixes them and saves version 1; this month's sign-up bonus
 * shows in the counts. Screenshots: tests/artifacts/admin-bonuses*.png;
 * docs/images/admin-bonuses.png for docs/bonuses.md.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBonusPrograms } from '../../app/models/bonus-programs.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { referenceProgram } from '../../loyalty/program';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-bonuses.myshopify.com';
const TOKEN = 'shpat_admin_bonuses';

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  await publishProgram(
    db.db,
    shop.id,
    { ...referenceProgram, signupBonus: 100 },
    new Date(Date.now() - 86_400_000),
  );
  const member = await ensureCustomer(db.db, shop.id, { externalId: '8301' });
  await post(db.db, shop.id, {
    customerId: member.id,
    idempotencyKey: 'customer:8301:signup',
    source: 'bonus',
    points: 100,
    occurredAt: new Date(),
    inputs: { rule: 'signup-bonus', signupBonus: 100 },
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

describe('admin: bonuses', () => {
  it('refuses bad settings beside their fields, saves good ones, shows the month’s bonuses', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/bonuses`);
    await page.getByText('No bonus settings saved yet').waitFor({ timeout: 15_000 });
    await hydrated(page);
    await page.getByText('100 points when a customer creates an account, once.').waitFor();
    await expect(
      page.getByRole('link', { name: 'change it in Program' }).getAttribute('href'),
    ).resolves.toContain('/app/program');

    await page.getByLabel('Birthday points').fill('-5');
    await page.getByLabel('Instagram profile URL').fill('http://instagram.com/laurel');
    await page.getByLabel('Instagram points').fill('25');
    await page.getByLabel('TikTok points').fill('10');
    expected.push(
      /status of 400 .*\/app\/bonuses\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/bonuses\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Nothing was saved: fix these and save again').waitFor();
    for (const message of [
      'Birthday points must be a whole number of points',
      'Instagram profile URL must start with https://',
      'TikTok profile URL is required when the network gives points',
    ]) {
      // Beside the field and in the banner.
      await expect(page.getByText(message).count()).resolves.toBe(2);
    }
    await shot(page, 'admin-bonuses-validation');
    expect(await listBonusPrograms(db.db, shop.id)).toEqual([]);
    expected.length = 0;

    await page.getByLabel('Birthday points').fill('200');
    await page.getByLabel('Newsletter points').fill('50');
    await page.getByLabel('Instagram profile URL').fill('https://instagram.com/laurel');
    await page.getByLabel('TikTok points').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Version 1 saved.').waitFor();
    await page
      .getByText(
        /^Version 1, from .*: birthday 200 points, newsletter 50 points, Instagram 25 points$/,
      )
      .waitFor();
    const [saved] = await listBonusPrograms(db.db, shop.id);
    expect(saved?.definition).toMatchObject({
      birthdayPoints: 200,
      newsletterPoints: 50,
      social: {
        instagram: { url: 'https://instagram.com/laurel', points: 25 },
        tiktok: { url: null, points: 0 },
      },
    });
    await expect(page.getByLabel('Birthday points').inputValue()).resolves.toBe('200');
    await page.getByText(/^Awarded in /).waitFor();
    await page.getByText('100 points', { exact: true }).waitFor();
    await shot(page, 'admin-bonuses', { doc: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
