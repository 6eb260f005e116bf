/**
 * The tiers page's service: the editor's text → a tier program, the rules' issues → fields,
 * preview (nothing written) and apply (only the draft previewed, under the version previewed
 * against), and the page's view of the program in force. Real PostgreSQL. The page in Chromium:
 * tests/e2e/admin-tiers.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/client.server';
import { customerTiers, ledgerEntries, orders } from '../db/schema';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { FOUR_TIERS } from '../tests/helpers/tiers';
import {
  applyTierForm,
  issuesToTierFieldErrors,
  parseTierForm,
  previewTierForm,
  readTierDraft,
  templateTierForm,
  tierFormValues,
  tierPage,
  type TierFormValues,
} from './admin-tiers.server';
import { AppError } from './errors';
import { ensureCustomer } from './models/customers.server';
import { ensureShop, type Shop } from './models/shops.server';
import { listTierPrograms } from './models/tiers.server';

let handle: TestDatabase;
let db: Database;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  db = handle.db;
});
afterAll(async () => {
  await handle?.close();
});

const usd = () => templateTierForm('USD');

describe('parseTierForm', () => {
  it('reads the template as the four tiers of docs/tiers.md', () => {
    const { definition, errors } = parseTierForm(usd(), 'USD');
    expect(errors).toEqual({});
    expect(definition).toMatchObject({
      metric: 'spend',
      window: 'calendar_year',
      currency: 'USD',
      graceDays: 30,
      tiers: [
        { key: 'bronze', threshold: '0.00', multiplier: '1' },
        { key: 'silver', threshold: '250.00', multiplier: '1.25', entryReward: { points: 50 } },
        { key: 'gold', threshold: '1000.00', freeShipping: true },
        { key: 'platinum', threshold: '5000.00', multiplier: '2' },
      ],
    });
  });

  it('scales the template for currencies without decimals', () => {
    expect(templateTierForm('JPY').tiers.map((t) => t.threshold)).toEqual([
      '0',
      '25000',
      '100000',
      '500000',
    ]);
    expect(parseTierForm(templateTierForm('JPY'), 'JPY').errors).toEqual({});
  });

  it('round-trips a stored definition', () => {
    const values = tierFormValues(FOUR_TIERS);
    expect(values.tiers[2]).toEqual({
      key: 'gold',
      name: 'Gold',
      threshold: '1000.00',
      multiplier: '1.5',
      entryPoints: '200',
      freeShipping: true,
    });
    expect(parseTierForm(values, 'USD').errors).toEqual({});
  });

  it('puts each problem beside its field: unordered thresholds, bad multiplier, duplicate key, bad grace', () => {
    const values = usd();
    values.tiers[2]!.threshold = '200';
    values.tiers[1]!.multiplier = '0.5';
    values.tiers[3]!.key = 'gold';
    values.graceDays = 'thirty';
    values.tiers[0]!.entryPoints = '1.5';
    const { errors } = parseTierForm(values, 'USD');
    expect(errors).toEqual({
      'tiers[2].threshold': expect.stringMatching(
        /^Threshold must be above Silver's \(250\.00\): list tiers from lowest to highest/,
      ),
      'tiers[1].multiplier':
        "Earn multiplier '0.5' must be a number from 1 to 10 with at most 4 decimals",
      'tiers[3].key': "Key 'gold' is already tiers[2]",
      graceDays: 'Grace period must be a whole number of days',
      'tiers[0].entryPoints': 'Entry reward must be a whole number of points',
    });
  });

  it('reads whole-number thresholds for points and orders, and says which unit', () => {
    const values: TierFormValues = {
      ...usd(),
      metric: 'orders',
      tiers: [
        { ...usd().tiers[0]!, threshold: '0' },
        { ...usd().tiers[1]!, threshold: '2.5' },
      ],
    };
    expect(parseTierForm(values, 'USD').errors).toEqual({
      'tiers[1].threshold': 'Threshold must be a whole number of orders',
    });
    values.tiers[1]!.threshold = '3';
    const { definition, errors } = parseTierForm(values, 'USD');
    expect(errors).toEqual({});
    expect(definition).not.toHaveProperty('currency');
    expect((definition.tiers as { threshold: unknown }[])[1]!.threshold).toBe(3);
  });

  it('maps unknown paths to the form and empty tier lists to the list', () => {
    expect(
      issuesToTierFieldErrors([
        { path: 'currency', message: 'is required' },
        { path: 'tiers', message: 'needs at least one tier' },
      ]),
    ).toEqual({ form: 'currency is required', tiers: 'Tiers needs at least one tier' });
  });
});

describe('readTierDraft', () => {
  it('refuses what the page never sends with a 400', () => {
    for (const text of [
      undefined,
      'not json',
      '[]',
      '{"tiers": 3}',
      JSON.stringify({ ...usd(), tiers: [{ key: 1 }] }),
    ]) {
      expect(() => readTierDraft(text)).toThrow(AppError);
    }
    expect(readTierDraft(JSON.stringify(usd()))).toEqual(usd());
  });
});

describe('preview and apply', () => {
  async function shopWithMembers(): Promise<{ shop: Shop; ids: number[] }> {
    const shop = await ensureShop(db, {
      domain: `admin-tiers-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency: 'USD',
      timezone: 'America/New_York',
    });
    const ids: number[] = [];
    // $0, $300, $1,200 and $6,000 spent this year: one member per tier of the template.
    for (const [i, dollars] of [0, 300, 1200, 6000].entries()) {
      const c = await ensureCustomer(db, shop.id, { externalId: `${i + 1}`, email: null });
      ids.push(c.id);
      if (dollars > 0) {
        await db.insert(orders).values({
          shopId: shop.id,
          shopifyOrderId: `${shop.id}${i}`,
          name: `#${i}`,
          customerId: c.id,
          currency: 'USD',
          earnAmountMinor: dollars * 100,
          totalMinor: dollars * 100,
          processedAt: new Date(Date.now() - 3_600_000),
          paidAt: new Date(Date.now() - 3_600_000),
        });
      }
    }
    return { shop, ids };
  }

  it('previews without writing, applies only the draft previewed, and shows members per tier', async () => {
    const { shop } = await shopWithMembers();
    const empty = await tierPage(db, shop);
    expect(empty.program).toBeNull();
    expect(empty.values).toBeNull();

    const now = new Date();
    const preview = await previewTierForm(db, shop, usd(), now);
    if (!preview.ok) throw new Error(JSON.stringify(preview.errors));
    expect(preview.preview).toMatchObject({
      members: 4,
      up: 4,
      down: 0,
      same: 0,
      summary: '4 customers move up, 0 move down, 0 stay where they are',
      nextVersion: 1,
    });
    expect(preview.preview.rows.map((r) => [r.name, r.before, r.after])).toEqual([
      ['Bronze', 0, 1],
      ['Silver', 0, 1],
      ['Gold', 0, 1],
      ['Platinum', 0, 1],
      ['No tier', 4, 0],
    ]);
    expect(await listTierPrograms(db, shop.id)).toEqual([]);
    expect(await db.select().from(customerTiers).where(eq(customerTiers.shopId, shop.id))).toEqual(
      [],
    );

    // Without the preview's hash, or for another draft: refused, nothing written.
    const unpreviewed = await applyTierForm(db, shop, usd(), '', now);
    expect(unpreviewed).toMatchObject({ ok: false, stale: true });
    const changed = usd();
    changed.tiers[1]!.threshold = '300.00';
    const other = await applyTierForm(db, shop, changed, preview.preview.hash, now);
    expect(other).toMatchObject({
      ok: false,
      stale: true,
      errors: { form: expect.stringContaining('preview it again') },
    });
    expect(await listTierPrograms(db, shop.id)).toEqual([]);

    const synced: number[] = [];
    const applied = await applyTierForm(db, shop, usd(), preview.preview.hash, now, async () => {
      synced.push(shop.id);
      return 'Perks synced';
    });
    expect(applied).toEqual({
      ok: true,
      version: 1,
      evaluated: 4,
      changed: 4,
      perks: 'Perks synced',
    });
    expect(synced).toEqual([shop.id]);

    const page = await tierPage(db, shop);
    expect(page.program?.tiers.map((t) => [t.name, t.threshold, t.multiplier, t.members])).toEqual([
      ['Bronze', '$0.00', '×1', 1],
      ['Silver', '$250.00', '×1.25', 1],
      ['Gold', '$1,000.00', '×1.5', 1],
      ['Platinum', '$5,000.00', '×2', 1],
    ]);
    expect(page.program).toMatchObject({ none: 0, unevaluated: 0, total: 4, version: 1 });
    expect(page.history).toEqual([
      expect.objectContaining({
        version: 1,
        inForce: true,
        summary:
          'Money spent, calendar year: Bronze $0.00 · Silver $250.00 · Gold $1,000.00 · Platinum $5,000.00',
      }),
    ]);

    // The same hash again is stale: it was previewed against no version, version 1 is in force.
    const again = await applyTierForm(db, shop, usd(), preview.preview.hash, new Date());
    expect(again).toMatchObject({ ok: false, stale: true });
    expect(await listTierPrograms(db, shop.id)).toHaveLength(1);
    const entries = await db.select().from(ledgerEntries).where(eq(ledgerEntries.shopId, shop.id));
    // 4 changes up; entry rewards for Silver, Gold and Platinum.
    expect(entries.filter((e) => e.source === 'tier')).toHaveLength(7);
  });

  it('an invalid draft gives field errors from preview and apply, and writes nothing', async () => {
    const { shop } = await shopWithMembers();
    const bad = usd();
    bad.tiers[3]!.threshold = '900.00';
    const preview = await previewTierForm(db, shop, bad, new Date());
    expect(preview).toMatchObject({
      ok: false,
      errors: { 'tiers[3].threshold': expect.stringContaining("must be above Gold's (1000.00)") },
    });
    const applied = await applyTierForm(db, shop, bad, 'whatever', new Date());
    expect(applied.ok).toBe(false);
    expect(await listTierPrograms(db, shop.id)).toEqual([]);
  });
});
