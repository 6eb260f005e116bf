/**
 * The demo's adjustment: the first enrolled member who is not redacted gets 25 points with the
 * reason, recorded with the demo's staff member; a re-run posts nothing new and names the same
 * member, even when someone enrolled earlier since.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers } from '../../db/schema';
import { ensureCustomer, redactCustomer } from '../../app/models/customers.server';
import { balanceOf, entriesFor } from '../../app/models/ledger.server';
import { ensureShop } from '../../app/models/shops.server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { DEMO_ADJUSTMENT, demoAdjustment } from './adjustments';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('postgres');
});
afterAll(async () => {
  await db?.close();
});

describe('the demo adjustment', () => {
  it('posts once on the first member, and a re-run finds it', async () => {
    const shop = await ensureShop(db.db, { domain: 'demo-adjust.myshopify.com' });
    const at = (iso: string) => ({ enrolledAt: new Date(iso) });
    const gone = await ensureCustomer(db.db, shop.id, { externalId: '1', firstName: 'Gone' });
    await redactCustomer(db.db, shop.id, gone.id);
    const ada = await ensureCustomer(db.db, shop.id, { externalId: '2', firstName: 'Ada' });
    const grace = await ensureCustomer(db.db, shop.id, { externalId: '3', firstName: 'Grace' });
    await db.db
      .update(customers)
      .set(at('2026-01-01T00:00:00Z'))
      .where(eq(customers.shopId, shop.id));
    const options = {
      db: db.db,
      shop,
      names: new Map([['2', 'Ada Lovelace']]),
      adminUrl: 'http://127.0.0.1:3000/dev/admin',
    };

    const first = await demoAdjustment(options);
    expect(first).toEqual({
      ok: true,
      customerId: ada.id,
      created: true,
      line: `Adjustment: +25 points to Ada Lovelace (“Goodwill: a parcel arrived late”, by staff member demo-staff), balance 25: http://127.0.0.1:3000/dev/admin?path=%2Fapp%2Fcustomers%2F${ada.id}`,
    });
    const [entry] = await entriesFor(db.db, shop.id, ada.id);
    expect(entry).toMatchObject({
      source: 'adjustment',
      points: DEMO_ADJUSTMENT.points,
      idempotencyKey: `adjustment:${DEMO_ADJUSTMENT.key}`,
      inputs: {
        rule: 'manual-adjustment',
        reason: DEMO_ADJUSTMENT.reason,
        staff: { userId: 'demo-staff', sessionId: null },
      },
    });

    // Grace now looks first enrolled: the re-run still names Ada's entry, and posts nothing.
    await db.db.update(customers).set(at('2025-01-01T00:00:00Z')).where(eq(customers.id, grace.id));
    const again = await demoAdjustment(options);
    expect(again).toMatchObject({ ok: true, customerId: ada.id, created: false });
    expect(again.line).toContain(', posted by an earlier run, balance 25:');
    expect(await entriesFor(db.db, shop.id, ada.id)).toHaveLength(1);
    expect(await entriesFor(db.db, shop.id, grace.id)).toHaveLength(0);
    expect((await balanceOf(db.db, shop.id, ada.id)).balance).toBe(25);
  });

  it('says so when the shop has no member', async () => {
    const shop = await ensureShop(db.db, { domain: 'demo-adjust-empty.myshopify.com' });
    expect(
      await demoAdjustment({ db: db.db, shop, names: new Map(), adminUrl: 'http://x/dev/admin' }),
    ).toEqual({
      ok: true,
      customerId: null,
      created: false,
      line: 'Adjustment: no member to adjust.',
    });
  });
});
