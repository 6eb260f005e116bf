/**
 * The expiry page's service: the form as typed → a new version (each problem beside its field,
 * nothing saved), effective now or at a later shop-local time, and the points due to expire per
 * month from the members' lots. Real PostgreSQL. Through the built server with a session token:
 * tests/routes/admin-expiry.test.ts; in Chromium: tests/e2e/admin-expiry.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/client.server';
import { expiryPolicies } from '../db/schema';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { expiryPage, saveExpiryForm, type ExpiryFormValues } from './admin-expiry.server';
import { ensureCustomer } from './models/customers.server';
import { listExpiryPolicies, publishExpiryPolicy } from './models/expiry-policies.server';
import { runExpiry } from './models/expiry.server';
import { post } from './models/ledger.server';
import { ensureShop, type Shop } from './models/shops.server';

let handle: TestDatabase;
let db: Database;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  db = handle.db;
});
afterAll(async () => {
  await handle?.close();
});

const NOW = new Date('2026-01-15T17:00:00Z');
const form = (over: Partial<ExpiryFormValues> = {}): ExpiryFormValues => ({
  mode: 'lot',
  months: '12',
  reminderDays: '30, 7',
  email: true,
  shopify: false,
  effective: 'now',
  effectiveAt: '',
  ...over,
});

let n = 0;
const newShop = (): Promise<Shop> =>
  ensureShop(db, { domain: `admin-expiry-${++n}.myshopify.com`, timezone: 'Europe/Paris' });

describe('saveExpiryForm', () => {
  it('saves a version effective now, thresholds descending', async () => {
    const shop = await newShop();
    const outcome = await saveExpiryForm(db, shop, form({ reminderDays: '7, 30' }), NOW);
    expect(outcome).toEqual({ ok: true, version: 1, effectiveFrom: NOW.toISOString() });
    const [v] = await listExpiryPolicies(db, shop.id);
    expect(v).toMatchObject({
      policy: { mode: 'lot', months: 12 },
      reminderDays: [30, 7],
      channels: { email: true, shopify: false },
    });
  });

  it('saves a version effective at a later local time in the shop timezone', async () => {
    const shop = await newShop();
    const outcome = await saveExpiryForm(
      db,
      shop,
      form({ effective: 'later', effectiveAt: '2026-03-29T03:00' }),
      NOW,
    );
    // Paris moves to summer time at 02:00 on Mar 29: 03:00 CEST is 01:00 UTC.
    expect(outcome).toMatchObject({ ok: true, effectiveFrom: '2026-03-29T01:00:00.000Z' });
  });

  it.each([
    [{ months: '0' }, 'months', /from 1 to 120/],
    [{ months: '' }, 'months', /from 1 to 120/],
    [{ months: '121' }, 'months', /from 1 to 120/],
    [{ mode: 'sometimes' }, 'mode', /mode must be one of/i],
    [{ reminderDays: '30, thirty' }, 'reminderDays', /1 to 365/],
    [{ reminderDays: '7, 7' }, 'reminderDays', /listed twice/],
    [{ reminderDays: '1, 2, 3, 4, 5, 6' }, 'reminderDays', /at most 5/i],
    [{ email: false }, 'channels', /at least one channel/],
    [{ effective: 'later', effectiveAt: '2025-01-01T00:00' }, 'effectiveAt', /future/],
    [{ effective: 'later', effectiveAt: 'soon' }, 'effectiveAt', /Enter a date/],
  ] as const)('refuses %o beside %s, saving nothing', async (over, field, message) => {
    const shop = await newShop();
    const outcome = await saveExpiryForm(db, shop, form(over), NOW);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.errors[field]).toMatch(message);
    expect(outcome.values).toEqual(form(over));
    expect(
      await db.select().from(expiryPolicies).where(eq(expiryPolicies.shopId, shop.id)),
    ).toEqual([]);
  });

  it('accepts never with no months and no reminders', async () => {
    const shop = await newShop();
    const outcome = await saveExpiryForm(
      db,
      shop,
      form({ mode: 'never', months: '', reminderDays: '', email: false }),
      NOW,
    );
    expect(outcome).toMatchObject({ ok: true, version: 1 });
  });
});

describe('expiryPage', () => {
  it('shows points and members due to expire per month, the version in force and one scheduled', async () => {
    const shop = await newShop();
    await publishExpiryPolicy(
      db,
      shop.id,
      { policy: { mode: 'lot', months: 12 }, reminderDays: [7], channels: { shopify: true } },
      new Date('2020-01-01T00:00:00Z'),
    );
    await publishExpiryPolicy(
      db,
      shop.id,
      { policy: { mode: 'lot', months: 18 } },
      new Date('2026-06-01T00:00:00Z'),
    );
    const earn = async (customerId: number, points: number, at: string) =>
      post(db, shop.id, {
        customerId,
        idempotencyKey: randomUUID(),
        source: 'order',
        points,
        occurredAt: new Date(at),
        inputs: {},
      });
    const a = await ensureCustomer(db, shop.id, { externalId: 'a' });
    const b = await ensureCustomer(db, shop.id, { externalId: 'b' });
    await earn(a.id, 100, '2025-01-20T10:00:00Z'); // last day 2026-01-20
    await earn(a.id, 30, '2025-03-10T10:00:00Z'); // 2026-03-10
    await earn(b.id, 50, '2025-01-31T23:30:00Z'); // Feb 1, 00:30 in Paris: 2026-02-01
    await earn(b.id, 5, '2026-01-10T10:00:00Z'); // 2027-01-10: beyond the 12 months
    await earn(b.id, -10, '2026-01-11T10:00:00Z'); // spends 10 of the Feb 1 lot
    const page = await expiryPage(db, shop, NOW);
    expect(page.current).toEqual({
      version: 1,
      policy: 'Each lot expires 12 months after it is earned',
      reminders: '7 days before, by Shopify customer metafield and tag',
    });
    expect(page.versions.map((v) => [v.version, v.inForce, v.scheduled])).toEqual([
      [2, false, true],
      [1, true, false],
    ]);
    expect(page.forecast.map((m) => [m.month, m.points, m.members])).toEqual([
      ['2026-01', 100, 1],
      ['2026-02', 40, 1],
      ['2026-03', 30, 1],
      ['2026-04', 0, 0],
      ['2026-05', 0, 0],
      ['2026-06', 0, 0],
      ['2026-07', 0, 0],
      ['2026-08', 0, 0],
      ['2026-09', 0, 0],
      ['2026-10', 0, 0],
      ['2026-11', 0, 0],
      ['2026-12', 0, 0],
    ]);
    expect(page.forecast[0]!.label).toBe('Jan 2026');

    // After the daily run recorded the members' schedules, the same numbers come from them; a
    // member changed since is read live, and counted once.
    await runExpiry(db, shop, NOW);
    const recorded = await expiryPage(db, shop, NOW);
    expect(recorded.forecast).toEqual(page.forecast);
    await earn(b.id, -15, '2026-01-12T10:00:00Z');
    const changed = await expiryPage(db, shop, NOW);
    expect(changed.forecast.slice(0, 3).map((m) => [m.month, m.points, m.members])).toEqual([
      ['2026-01', 100, 1],
      ['2026-02', 25, 1],
      ['2026-03', 30, 1],
    ]);
  });
});
