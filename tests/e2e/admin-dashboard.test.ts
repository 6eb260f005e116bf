/**
 * The dashboard and the liability rollforward in Chromium through /dev/admin
 * (tests/helpers/admin-browser.ts), on this file's own PostgreSQL database. First a shop without
 * members (the empty state), then a year of a shop's life seeded under it — members and guests
 * buying, awards, refunds, cancellations, redemptions and a code given back, expiry, adjustments,
 * signup bonuses, a referral and a tier reward — and the pages read again: figures, the chart, the
 * recent entries linking to their customers, another period, the liability table whose last
 * closing is the sum of customer_balances, and a bad range refused beside its fields.
 * Screenshots: tests/artifacts/admin-dashboard*.png, admin-liability*.png; docs/images/
 * admin-dashboard.png and admin-liability.png.
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { postMany, type LedgerEntryInput, type LedgerSource } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { createReward } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { customerBalances, orderRefunds, orders } from '../../db/schema';
import { referenceProgram } from '../../loyalty/program';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-dashboard.myshopify.com';
const TOKEN = 'shpat_admin_dashboard';
const TZ = 'America/New_York';
const DAY = 86_400_000;

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: TZ });
  await storeOfflineSession(db.db, SHOP, TOKEN);
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

const NAMES = [
  'Ava Stone',
  'Ben Ortiz',
  'Chloé Martin',
  'Dev Patel',
  'Eli Cohen',
  'Fay Wong',
  'Gus Berg',
  'Hana Sato',
];

/** A year of a shop: deterministic, every movement kind, members and guests. */
async function seedYear(now: number) {
  await publishProgram(db.db, shop.id, referenceProgram, new Date(now - 400 * DAY));
  await createReward(db.db, shop.id, {
    type: 'fixed_amount',
    title: '$5 off',
    pointsCost: 500,
    amountMinor: 500,
  });
  const members: Awaited<ReturnType<typeof ensureCustomer>>[] = [];
  for (const [i, name] of NAMES.entries()) {
    const [first, last] = name.split(' ');
    members.push(
      await ensureCustomer(db.db, shop.id, {
        externalId: String(7000 + i),
        email: `${first!.toLowerCase()}@example.com`,
        firstName: first,
        lastName: last,
      }),
    );
  }
  const entries: LedgerEntryInput[] = [];
  let n = 0;
  const add = (
    who: number,
    source: LedgerSource,
    points: number,
    at: number,
    inputs: Record<string, unknown> = {},
  ) =>
    entries.push({
      customerId: members[who]!.id,
      idempotencyKey: `seed:${n++}`,
      source,
      points,
      occurredAt: new Date(at),
      inputs,
    });
  for (const [i] of members.entries())
    add(i, 'bonus', 100, now - (330 - i) * DAY, { rule: 'signup-bonus' });
  let orderNo = 1001;
  for (let week = 50; week >= 0; week--) {
    const at = now - week * 7 * DAY - (week % 5) * 3_600_000;
    for (let k = 0; k < 2 + (week % 3); k++) {
      const who = (week * 3 + k) % members.length;
      const amount = 2_000 + ((week * 37 + k * 53) % 180) * 100;
      const id = String(5_000_000 + orderNo);
      const name = `#${orderNo++}`;
      const when = at + k * 3_600_000;
      await db.db.insert(orders).values({
        shopId: shop.id,
        shopifyOrderId: id,
        name,
        customerId: members[who]!.id,
        currency: 'USD',
        earnAmountMinor: amount,
        totalMinor: amount,
        processedAt: new Date(when),
        paidAt: new Date(when),
        cancelledAt: week % 17 === 3 && k === 0 ? new Date(when + DAY) : null,
      });
      const points = Math.floor(amount / 100);
      add(who, 'order', points, when, {
        orderId: id,
        orderName: name,
        amountMinor: amount,
        currency: 'USD',
      });
      if (week % 17 === 3 && k === 0)
        add(who, 'cancellation', -points, when + DAY, { orderId: id });
      if (week % 6 === 1 && k === 1) {
        await db.db.insert(orderRefunds).values({
          shopId: shop.id,
          shopifyOrderId: id,
          shopifyRefundId: `r${id}`,
          merchandiseMinor: Math.floor(amount / 2),
          processedAt: new Date(when + 2 * DAY),
        });
        add(who, 'refund', -Math.floor(points / 2), when + 2 * DAY, { orderId: id });
      }
    }
    // Guests buy too: one repeat email, others once.
    await db.db.insert(orders).values({
      shopId: shop.id,
      shopifyOrderId: String(9_000_000 + week),
      name: `#G${week}`,
      email: week % 2 === 0 ? 'regular-guest@example.com' : `guest${week}@example.com`,
      currency: 'USD',
      earnAmountMinor: 4_500,
      totalMinor: 4_500,
      processedAt: new Date(at + 7_200_000),
      paidAt: new Date(at + 7_200_000),
    });
    if (week % 4 === 2)
      add(week % members.length, 'redemption', -500, at + DAY, { title: '$5 off' });
    if (week === 10) add(1, 'redemption', 500, at + 2 * DAY, { cause: 'expired', title: '$5 off' });
    if (week % 13 === 5) add((week + 2) % members.length, 'expiry', -(40 + week), at + 3 * DAY);
    if (week % 11 === 4)
      add((week + 3) % members.length, 'adjustment', week % 2 ? 25 : -15, at + 4 * DAY, {
        reason: 'Goodwill',
      });
  }
  add(2, 'referral', 250, now - 20 * DAY, { rule: 'referral-reward', order: '#1090' });
  add(3, 'tier', 200, now - 10 * DAY, { rule: 'tier-entry-reward', tier: 'gold', name: 'Gold' });
  await postMany(db.db, shop.id, entries);
}

describe('admin: dashboard and liability', () => {
  it('shows the empty state, then a year of figures, another period, the liability and a refused range', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app`);
    await page.getByText('No members yet').waitFor({ timeout: 20_000 });
    await page.getByText('No earn program is published').waitFor();
    await hydrated(page);
    await shot(page, 'admin-dashboard-empty');

    const now = Date.now();
    await seedYear(now);
    await page.reload();
    await page.getByRole('heading', { name: 'Recent activity' }).waitFor({ timeout: 20_000 });
    await hydrated(page);
    await expect(page.getByText('No earn program is published').count()).resolves.toBe(0);

    // The chart: an image named by its title, and its figures in a table for screen readers.
    const chart = page.getByRole('img', { name: /Points issued and redeemed per month/ });
    await chart.waitFor();
    await expect(chart.locator('rect').count()).resolves.toBe(24);
    // Recent activity: ten entries, each explained and linking to its customer.
    const links = page.locator('a[href^="/app/customers/"]');
    await expect(links.count()).resolves.toBe(10);
    await page
      .getByText(/^Gold reached|Reached Gold|Gold/)
      .first()
      .waitFor();
    await shot(page, 'admin-dashboard', { doc: true });

    // Another period: the select submits itself.
    await page.getByLabel('Period').selectOption('year');
    await page.waitForURL(/period=year/);
    await page.getByText(/^This period: Jan 1, \d{4}/).waitFor();
    await page.getByRole('heading', { name: 'Recent activity' }).waitFor();
    await shot(page, 'admin-dashboard-year');

    // The liability rollforward: 12 months; the last closing is what members hold.
    await page.goto(`${admin.app.url}/dev/admin?path=/app/liability`);
    await page.getByRole('heading', { name: 'Net of breakage' }).waitFor({ timeout: 20_000 });
    await hydrated(page);
    const rows = await page
      .locator('table')
      .first()
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim() ?? '')),
      );
    expect(rows).toHaveLength(12);
    const [held] = await db.db
      .select({ n: sql<number>`sum(${customerBalances.balance})::int` })
      .from(customerBalances)
      .where(eq(customerBalances.shopId, shop.id));
    const money = (held!.n / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
    expect(rows.at(-1)!.at(-1)).toBe(`${held!.n.toLocaleString('en-US')} pts · ${money}`);
    // Each month opens where the previous one closed.
    for (let i = 1; i < rows.length; i++) expect(rows[i]![1]).toBe(rows[i - 1]!.at(-1));
    await page
      .getByText(/Money at the program's redemption value: \$5\.00 for 500 points/)
      .waitFor();
    await page.getByText(/^Breakage \d/).waitFor();
    await shot(page, 'admin-liability', { doc: true });

    // A bad range: refused beside the field, nothing computed.
    await page.getByLabel('From month').fill('2026-13');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('This range cannot be shown').waitFor();
    await expect(
      page.getByText("From '2026-13' must be a month as YYYY-MM, from 2000-01").count(),
    ).resolves.toBe(2);
    await expect(page.locator('table').count()).resolves.toBe(0);
    await shot(page, 'admin-liability-invalid');

    expect(problems).toEqual([]);
    expect(expected).toEqual([]);
    await page.close();
  }, 240_000);
});
