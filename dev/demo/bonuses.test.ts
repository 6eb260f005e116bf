/**
 * The demo's bonuses on a database of their own: settings published once, three members given
 * birthdays (one in the demo's current local month, awarded at once; one next month; 29 February)
 * and one a newsletter subscription; a re-run adds nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBirthday } from '../../app/models/birthdays.server';
import { listBonusPrograms } from '../../app/models/bonus-programs.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { entriesFor } from '../../app/models/ledger.server';
import { ensureShop } from '../../app/models/shops.server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { bonusesLine, demoBonuses, ensureDemoBonusProgram } from './bonuses';

let handle: TestDatabase;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
});
afterAll(async () => {
  await handle?.close();
});

describe('demo bonuses', () => {
  it('publishes the settings once, gives birthdays and a newsletter bonus, idempotently', async () => {
    const db = handle.db;
    const shop = await ensureShop(db, {
      domain: `bonus-demo-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency: 'USD',
      timezone: 'America/New_York',
    });
    const from = new Date('2026-01-01T05:00:00Z');
    await ensureDemoBonusProgram(db, shop.id, from);
    await ensureDemoBonusProgram(db, shop.id, from);
    expect(await listBonusPrograms(db, shop.id)).toHaveLength(1);
    const ids = [];
    for (const externalId of ['1003', '1001', '1002', '1010']) {
      ids.push((await ensureCustomer(db, shop.id, { externalId })).id);
    }
    // 1 May 2026 02:00 UTC is still 30 April in New York: the demo's month is April.
    const now = new Date('2026-05-01T02:00:00Z');
    const summary = await demoBonuses(db, shop, now);
    expect(summary).toEqual({
      members: ['1001', '1002', '1003'],
      birthdayPoints: 200,
      newsletterPoints: 50,
    });
    expect(await getBirthday(db, shop.id, ids[1]!)).toMatchObject({ month: 4, day: 1 });
    expect(await getBirthday(db, shop.id, ids[2]!)).toMatchObject({ month: 5, day: 15 });
    expect(await getBirthday(db, shop.id, ids[0]!)).toMatchObject({ month: 2, day: 29 });
    expect(await getBirthday(db, shop.id, ids[3]!)).toBeNull();
    const keys = (await entriesFor(db, shop.id, ids[1]!)).map((e) => e.idempotencyKey);
    expect(keys).toEqual(['birthday:1001:2026', 'newsletter:1001']);
    expect(await demoBonuses(db, shop, now)).toMatchObject({
      birthdayPoints: 0,
      newsletterPoints: 0,
    });
    expect(bonusesLine(summary, new Map([['1002', 'Ada Lovelace']]))).toBe(
      "Bonuses: birthdays given to 1001, Ada Lovelace, 1003 (this month's awarded at once); 200 birthday and 50 newsletter points posted now.",
    );
  });
});
