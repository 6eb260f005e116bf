/**
 * The admin's campaigns page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on
 * this file's own PostgreSQL database, with a campaign already running and one that ended. A
 * merchant reads them by status and on the calendar, creates a campaign with an end before its
 * start and a multiplier of 0 (errors beside the fields, nothing saved — checked in the
 * database), fixes it, edits it before it starts, and ends the running one now.
 * Screenshots: tests/artifacts/admin-campaigns*.png; docs/images/admin-campaigns.png.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCampaign, listCampaigns } from '../../app/models/campaigns.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { localTimeText } from '../../loyalty/early-access';
import { parseCampaign } from '../../loyalty/campaigns';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-campaigns.myshopify.com';
const TOKEN = 'shpat_admin_campaigns';
const NY = 'America/New_York';
const DAY = 86_400_000;

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

/** Shop-local `YYYY-MM-DDTHH:MM`, `days` from now, on the hour. */
const local = (days: number) =>
  localTimeText(Math.floor((Date.now() + days * DAY) / 3_600_000) * 3_600_000, NY).slice(0, 16);

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: NY });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  const seed = async (name: string, from: number, to: number) =>
    insertCampaign(
      db.db,
      shop.id,
      parseCampaign(
        {
          name,
          kind: 'multiplier',
          multiplier: '2',
          scope: 'all',
          startsAt: local(from),
          endsAt: local(to),
        },
        { timeZone: NY, currency: 'USD', now: Date.now(), allowPastStart: true },
      ),
      { productIds: [], createdBy: null, now: new Date() },
    );
  await seed('Autumn double points', -40, -38);
  await seed('Flash double points', -1, 1);
  admin = await startAdminBrowser({
    shop: SHOP,
    accessToken: TOKEN,
    settings: { currencyCode: 'USD', ianaTimezone: NY },
    databaseUrl: db.url!,
    queuePrefix: `test-${randomUUID()}`,
  });
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await db?.close();
}, 60_000);

describe('admin: campaigns', () => {
  it('lists, refuses bad input inline, creates, edits before the start, ends now', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/campaigns`);
    await page.getByRole('heading', { name: 'Active (1)' }).waitFor({ timeout: 15_000 });
    await hydrated(page);
    await page.getByRole('heading', { name: 'Ended (1)' }).waitFor();
    // The running campaign is on today's square of the calendar.
    const today = localTimeText(Date.now(), NY).slice(0, 10);
    await expect(
      page.locator(`[data-campaign-calendar] td[data-date="${today}"]`).textContent(),
    ).resolves.toContain('Flash double points');

    // An end before the start and a multiplier of 0: refused beside the fields, nothing saved.
    await page.getByLabel('Name', { exact: true }).fill('Double points weekend');
    await page.getByLabel('Multiplier', { exact: true }).fill('0');
    await page.getByLabel('Starts', { exact: true }).fill(local(3));
    await page.getByLabel('Ends', { exact: true }).fill(local(2));
    expected.push(
      /status of 400 .*\/app\/campaigns\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/campaigns\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByText('The campaign was not saved').waitFor();
    await expect(page.getByText('Ends must be after the start').count()).resolves.toBe(2);
    await expect(page.getByText(/^Multiplier must be more than 0/).count()).resolves.toBe(2);
    await shot(page, 'admin-campaigns-validation');
    expect((await listCampaigns(db.db, shop.id)).length).toBe(2);
    expected.length = 0;

    await page.getByLabel('Multiplier', { exact: true }).fill('2');
    await page.getByLabel('Ends', { exact: true }).fill(local(5));
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByText('Saved “Double points weekend”.').waitFor();
    await page.getByRole('heading', { name: 'Upcoming (1)' }).waitFor();
    const saved = (await listCampaigns(db.db, shop.id)).find(
      (c) => c.name === 'Double points weekend',
    )!;
    expect(saved).toMatchObject({ factorBps: 20_000, startsAtLocal: `${local(3)}:00` });

    // Edit before it starts: ×3.
    await page.getByRole('button', { name: 'Edit Double points weekend' }).click();
    await page.getByRole('heading', { name: 'Edit “Double points weekend”' }).waitFor();
    await page.getByLabel('Multiplier', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('×3 points', { exact: true }).waitFor();
    expect((await listCampaigns(db.db, shop.id)).find((c) => c.id === saved.id)!.factorBps).toBe(
      30_000,
    );
    await shot(page, 'admin-campaigns', { doc: true });

    // End the running one now: it moves to Ended, its scheduled end kept.
    await page.getByRole('button', { name: 'End Flash double points now' }).click();
    await page.getByText('Ended “Flash double points”.').waitFor();
    await page.getByRole('heading', { name: 'Active (0)' }).waitFor();
    await page.getByRole('heading', { name: 'Ended (2)' }).waitFor();
    await page.getByText(/ended early/).waitFor();
    const flash = (await listCampaigns(db.db, shop.id)).find(
      (c) => c.name === 'Flash double points',
    )!;
    expect(flash.endedAt).not.toBeNull();
    await shot(page, 'admin-campaigns-ended');

    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
