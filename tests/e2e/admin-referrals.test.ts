/**
 * The admin's referrals page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on
 * this file's own PostgreSQL database. A merchant with no program sees the empty state, saves an
 * invalid draft (errors beside the fields, nothing saved — checked in the database), fixes it and
 * saves version 1. Then referred orders are written as the order worker records them: one
 * rewarded, one held for sharing the referrer's address. The page shows the stats and both with
 * their reasons; Approve on the held one rewards the referrer — the ledger gets
 * `referral:<id>:reward` — and an Approve from a page loaded before that decision is refused with
 * 409 and said so. Screenshots: tests/artifacts/admin-referrals*.png; docs/images/admin-referrals.png
 * for docs/admin.md.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { ensureReferralCodes, recordReferralClick } from '../../app/models/referral-codes.server';
import { listReferralPrograms } from '../../app/models/referral-programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { ledgerEntries, orders, referrals } from '../../db/schema';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-referrals.myshopify.com';
const TOKEN = 'shpat_admin_referrals';
const HOUR = 3_600_000;

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await storeOfflineSession(db.db, SHOP, TOKEN);
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

/** A friend's paid order with `referrer`'s code, recorded as the order worker records it. */
async function referredOrder(options: {
  referrer: number;
  friend: { externalId: string; email: string; firstName: string };
  orderId: string;
  name: string;
  amountMinor: number;
  status: 'rewarded' | 'held';
  reasons: { rule: string; action: string; detail: string }[];
  codeId: number;
  code: string;
}): Promise<number> {
  const friend = await ensureCustomer(db.db, shop.id, {
    ...options.friend,
    lastName: 'Friend',
  });
  const paidAt = new Date(Date.now() - 2 * HOUR);
  await db.db.insert(orders).values({
    shopId: shop.id,
    shopifyOrderId: options.orderId,
    name: options.name,
    customerId: friend.id,
    currency: 'USD',
    earnAmountMinor: options.amountMinor,
    totalMinor: options.amountMinor,
    processedAt: paidAt,
    paidAt,
  });
  const [row] = await db.db
    .insert(referrals)
    .values({
      shopId: shop.id,
      referrerCustomerId: options.referrer,
      friendCustomerId: friend.id,
      codeId: options.codeId,
      shopifyOrderId: options.orderId,
      orderName: options.name,
      discountCode: options.code,
      programVersion: 1,
      status: options.status,
      reasons: options.reasons,
      orderAmountMinor: options.amountMinor,
      paidAt,
      rewardPoints: options.status === 'rewarded' ? 500 : 0,
    })
    .returning({ id: referrals.id });
  if (options.status === 'rewarded') {
    await post(db.db, shop.id, {
      customerId: options.referrer,
      idempotencyKey: `referral:${row!.id}:reward`,
      source: 'referral',
      points: 500,
      occurredAt: paidAt,
      programVersion: 1,
      inputs: { rule: 'referral-reward', referralId: row!.id, order: options.name },
    });
  }
  return row!.id;
}

const referralEntries = async (customerId: number) =>
  db.db
    .select({ key: ledgerEntries.idempotencyKey, points: ledgerEntries.points })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.shopId, shop.id),
        eq(ledgerEntries.customerId, customerId),
        eq(ledgerEntries.source, 'referral'),
      ),
    );

describe('admin: referrals', () => {
  it('saves the settings (an invalid draft refused inline), then approves a held referral', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    const pageUrl = `${admin.app.url}/dev/admin?path=/app/referrals`;
    await page.goto(pageUrl);
    await page.getByText('No referral program yet').waitFor({ timeout: 15_000 });
    await page.getByText('No referrals yet.').waitFor();
    await hydrated(page);

    // Two problems at once: refused beside their fields and in the banner, nothing saved.
    await page.getByLabel('Referrals on').check();
    await page.getByLabel('Friend discount', { exact: true }).fill('12.5');
    await page.getByLabel('Reversal window').fill('400');
    expected.push(
      /status of 400 .*\/app\/referrals\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/referrals\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Nothing was saved: fix these and save again').waitFor();
    for (const message of [
      'Friend discount must be a whole number of percent',
      'Reversal window must be at most 365 days',
    ]) {
      // Beside the field and in the banner.
      await expect(page.getByText(message).count()).resolves.toBe(2);
    }
    await shot(page, 'admin-referrals-validation');
    expect(await listReferralPrograms(db.db, shop.id)).toEqual([]);
    expected.length = 0;

    await page.getByLabel('Friend discount', { exact: true }).fill('15');
    await page.getByLabel('Reversal window').fill('30');
    await page.getByLabel('First order minimum').fill('25.00');
    await page
      .getByLabel('Same shipping or billing address')
      .selectOption({ label: 'Hold for review' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Version 1 saved: referrals are on.').waitFor({ timeout: 15_000 });
    await page.getByText('Referrals are on', { exact: true }).waitFor();
    await page.getByText("15% off a friend's first order").waitFor();
    const [version] = await listReferralPrograms(db.db, shop.id);
    expect(version?.definition).toMatchObject({
      enabled: true,
      currency: 'USD',
      friendDiscount: { percentage: 15 },
      referrerReward: { points: 500 },
      minimumOrder: '25.00',
      reversalWindowDays: 30,
      rules: { same_address: 'hold' },
      codePrefix: 'FRIEND-',
    });

    // Referred orders, as the worker records them: one rewarded, one held.
    const ann = await ensureCustomer(db.db, shop.id, {
      externalId: '9001',
      email: 'ann@example.com',
      firstName: 'Ann',
      lastName: 'Referrer',
    });
    const codes = await ensureReferralCodes(db.db, shop.id, [ann.id], 'FRIEND-');
    const code = codes.get(ann.id)!;
    await recordReferralClick(db.db, shop.id, {
      codeId: code.id,
      ipHash: 'x',
      outcome: 'redirected',
    });
    const mayaId = await referredOrder({
      referrer: ann.id,
      friend: { externalId: '9101', email: 'maya@example.net', firstName: 'Maya' },
      orderId: '7000001',
      name: '#1201',
      amountMinor: 5400,
      status: 'rewarded',
      reasons: [],
      codeId: code.id,
      code: code.friendCode,
    });
    const heldId = await referredOrder({
      referrer: ann.id,
      friend: { externalId: '9102', email: 'leo@example.net', firstName: 'Leo' },
      orderId: '7000002',
      name: '#1202',
      amountMinor: 6480,
      status: 'held',
      reasons: [
        {
          rule: 'same_address',
          action: 'hold',
          detail: 'the friend ships to an address the referrer uses',
        },
      ],
      codeId: code.id,
      code: code.friendCode,
    });
    expect(await referralEntries(ann.id)).toEqual([
      { key: `referral:${mayaId}:reward`, points: 500 },
    ]);

    // A second page, loaded now: its Approve comes after the first page's decision.
    const stale = await admin.watchedPage();
    await stale.page.goto(pageUrl);

    await page.goto(pageUrl);
    await page.getByText('Referrals · 1 held for review').waitFor({ timeout: 15_000 });
    await hydrated(page);
    const tiles = await page.locator('h3').allInnerTexts();
    expect(tiles).toEqual(
      expect.arrayContaining(['Clicks', 'Friends joined', 'First orders', 'Revenue', 'Rewards']),
    );
    const body = await page.locator('body').innerText();
    // Two friends joined, $54.00 + $64.80 of revenue, 500 points given so far.
    expect(body).toMatch(/Friends joined\s+2/);
    expect(body).toMatch(/Revenue\s+\$118\.80/);
    expect(body).toMatch(/Rewards\s+500 points/);
    expect(body).toContain('Same address (hold): the friend ships to an address the referrer uses');
    expect(body).toContain('Leo Friend · leo@example.net');
    expect(body).toContain('Ann Referrer · ann@example.com');
    await shot(page, 'admin-referrals', { doc: true });

    await page.getByRole('button', { name: 'Approve referral #1202' }).click();
    await page
      .getByText('Referral #1202 approved: 500 points to the referrer.')
      .waitFor({ timeout: 15_000 });
    await page.getByText('staff user 1,').waitFor();
    expect(await referralEntries(ann.id)).toEqual([
      { key: `referral:${mayaId}:reward`, points: 500 },
      { key: `referral:${heldId}:reward`, points: 500 },
    ]);
    const [approved] = await db.db.select().from(referrals).where(eq(referrals.id, heldId));
    expect(approved).toMatchObject({
      status: 'rewarded',
      rewardPoints: 500,
      reviewedBy: 'staff user 1',
    });
    await shot(page, 'admin-referrals-approved');

    // The page loaded before the decision still offers Approve: the server refuses (409).
    await hydrated(stale.page);
    stale.expected.push(
      /status of 409 .*\/app\/referrals\.data(\?[^ ]*)?\)$/,
      /^HTTP 409: POST .*\/app\/referrals\.data(\?[^ ]*)?$/,
    );
    await stale.page.getByRole('button', { name: 'Reject referral #1202' }).click();
    await stale.page.getByText(/^Not changed: referral \d+ is rewarded, not held/).waitFor();
    // The list reloads as it stands: the review buttons go, who decided shows.
    await stale.page
      .getByRole('button', { name: 'Reject referral #1202' })
      .waitFor({ state: 'detached', timeout: 15_000 });
    await stale.page.getByText('staff user 1,').waitFor();
    expect(await referralEntries(ann.id)).toHaveLength(2);

    expect(problems).toEqual([]);
    expect(stale.problems).toEqual([]);
  }, 180_000);
});
