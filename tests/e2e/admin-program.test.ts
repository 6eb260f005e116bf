/**
 * The program page in Chromium through /dev/admin (tests/helpers/admin-browser.ts), on this file's
 * own PostgreSQL database with a program (version 1, the reference bands) and orders of the last
 * three months settled into the ledger. A merchant edits a band and sees the live preview change,
 * types another order amount, makes the draft invalid (errors beside the fields, nothing saved —
 * checked in the database), fixes it, simulates it over their own orders (the figures the ledger
 * holds on the "your program" side, costs at the catalog's cent a point), publishes version 2 and reads what changed in the history.
 * Screenshots: tests/artifacts/admin-program*.png; docs/images/admin-program.png and
 * admin-program-simulation.png for docs/program-editor.md.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { settleOrders } from '../../app/models/orders.server';
import { listPrograms, publishProgram } from '../../app/models/programs.server';
import { createReward } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { ledgerEntries, orderRefunds, orders } from '../../db/schema';
import { referenceProgram } from '../../loyalty/program';
import { hydrated, shot, startAdminBrowser, type AdminBrowser } from '../helpers/admin-browser';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-admin-program.myshopify.com';
const TOKEN = 'shpat_admin_program';
/** Dollars per order, one order every five days, spread over four members. */
const SPEND = [120, 45, 260, 80, 150, 310, 95, 60, 180, 220];

let db: TestDatabase;
let admin: AdminBrowser;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  await storeOfflineSession(db.db, SHOP, TOKEN);
  await publishProgram(db.db, shop.id, referenceProgram, new Date(Date.now() - 400 * 86_400_000));
  const members = [];
  for (let i = 0; i < 4; i++) {
    members.push(
      await ensureCustomer(db.db, shop.id, {
        externalId: String(8200 + i),
        email: `m${i}@example.com`,
      }),
    );
  }
  const ids: string[] = [];
  for (const [i, dollars] of SPEND.entries()) {
    const at = new Date(Date.now() - (i * 5 + 1) * 86_400_000);
    const id = String(5_200_000 + i);
    ids.push(id);
    await db.db.insert(orders).values({
      shopId: shop.id,
      shopifyOrderId: id,
      name: `#${1001 + i}`,
      customerId: members[i % 4]!.id,
      currency: 'USD',
      earnAmountMinor: dollars * 100,
      totalMinor: dollars * 100 + 900,
      processedAt: at,
      paidAt: at,
    });
  }
  // Half of the $260 order refunded the next day.
  await db.db.insert(orderRefunds).values({
    shopId: shop.id,
    shopifyOrderId: ids[2]!,
    shopifyRefundId: '7700001',
    merchandiseMinor: 13_000,
    processedAt: new Date(Date.now() - 10 * 86_400_000),
  });
  await db.db.transaction((tx) => settleOrders(tx, shop, ids));
  // The redemption value the simulator prices points at: $5 for 500 points, a cent a point.
  await createReward(db.db, shop.id, {
    type: 'fixed_amount',
    title: '$5 off',
    pointsCost: 500,
    amountMinor: 500,
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

describe('admin: program', () => {
  it('edits a band with a live preview, refuses an invalid draft, simulates, publishes version 2', async () => {
    const { page, problems, expected } = await admin.watchedPage();
    await page.goto(`${admin.app.url}/dev/admin?path=/app/program`);
    await page.getByText('Live preview').waitFor({ timeout: 15_000 });
    await hydrated(page);
    const band = (n: number) => page.getByRole('group', { name: `Band ${n}`, exact: true });
    const preview = page.getByTestId('earn-preview');

    // The preview runs the earn maths on the draft as it is typed.
    await preview.getByText('An order of $120.00 earns 90 points').waitFor();
    await band(2).getByLabel('Points per unit').fill('3');
    await preview.getByText('An order of $120.00 earns 110 points').waitFor();
    await page.getByLabel(/^Order amount/).fill('250');
    await preview.getByText('An order of $250.00 earns 500 points').waitFor();
    await preview.getByText('$100.00 to $250.00: 150 × $1.00 × 3 = 450 points').waitFor();

    // Overlapping bands and a negative rate: refused beside the fields, nothing saved.
    await band(2).getByLabel('Over').fill('80.00');
    await band(1).getByLabel('Points per unit').fill('-1');
    await preview.getByText('The draft has problems').waitFor();
    expected.push(
      /status of 400 .*\/app\/program\.data(\?[^ ]*)?\)$/,
      /^HTTP 400: POST .*\/app\/program\.data(\?[^ ]*)?$/,
    );
    await page.getByRole('button', { name: 'Publish as version 2' }).click();
    await page.getByText('Nothing was saved: fix these and try again').waitFor();
    const overlap = page.getByText(
      'Band 2 over: overlaps the previous band, which goes up to 100.00; bands must be sorted and not overlap',
    );
    // Beside the field and in the banner.
    await expect(overlap.count()).resolves.toBe(2);
    await expect(
      band(1).getByText('Band 1 points per unit: must not be negative').isVisible(),
    ).resolves.toBe(true);
    await shot(page, 'admin-program-validation');
    expect((await listPrograms(db.db, shop.id)).map((p) => p.version)).toEqual([1]);
    expected.length = 0;

    await band(2).getByLabel('Over').fill('100.00');
    await band(1).getByLabel('Points per unit').fill('1');
    await page.getByLabel('Signup bonus').fill('100');
    await preview.getByText('An order of $250.00 earns 500 points').waitFor();

    // Simulate the last 3 months: "your program" is what the ledger holds for these orders.
    await page.getByRole('button', { name: 'Simulate' }).click();
    const simulation = page.getByTestId('simulation');
    await simulation.getByText(/^Over .* the draft would have issued/).waitFor({ timeout: 30_000 });
    const [ledgerNet] = await db.db
      .select({ points: sql<number>`coalesce(sum(${ledgerEntries.points}), 0)::int` })
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.shopId, shop.id),
          inArray(ledgerEntries.source, ['order', 'refund', 'cancellation']),
        ),
      );
    const totals = await simulation
      .locator('table tfoot tr, table thead tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim())),
      );
    const totalsRow = totals.find((r) => r[1] === String(SPEND.length));
    expect(totalsRow?.[2]).toBe(ledgerNet!.points.toLocaleString('en-US'));
    // Band 2 at 3 instead of 2: every dollar above $100 earns one point more (less the refund).
    const above = SPEND.reduce((sum, d) => sum + Math.max(0, d - 100), 0);
    expect(totalsRow?.[3]).toBe((ledgerNet!.points + above - 80).toLocaleString('en-US'));
    await simulation
      .getByText(/^Costs are at the redemption value: \$5\.00 for 500 points/)
      .waitFor();
    // A cent a point: the cost columns are the net points in cents.
    expect(totalsRow?.[5]).toBe(`$${(ledgerNet!.points / 100).toFixed(2)}`);
    await shot(page, 'admin-program-simulation', { doc: true });
    expect((await listPrograms(db.db, shop.id)).length).toBe(1);

    await page.getByRole('button', { name: 'Publish as version 2' }).click();
    await page.getByText(/^Version 2 is in force from /).waitFor({ timeout: 15_000 });
    await page
      .getByText('Changed: band 2: 2 → 3 points per $1.00; signup bonus 0 → 100.')
      .waitFor();
    const history = await page
      .locator('table')
      .last()
      .locator('tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent?.trim())),
      );
    expect(history.map((r) => [r[0], r[2], r[3]])).toEqual([
      ['2', 'in force', 'band 2: 2 → 3 points per $1.00; signup bonus 0 → 100'],
      ['1', 'superseded', 'first version'],
    ]);
    await page.getByRole('button', { name: 'Publish as version 3' }).waitFor();
    await shot(page, 'admin-program', { doc: true });
    const versions = await listPrograms(db.db, shop.id);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions[1]!.definition).toMatchObject({
      signupBonus: 100,
      earn: { bands: [{ pointsPerUnit: 1 }, { over: '100.00', pointsPerUnit: 3 }] },
    });

    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);
});
