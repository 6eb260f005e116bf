import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPrograms, programAt, publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { referenceProgram } from '../../loyalty/program';
import { diffPrograms } from '../../loyalty/program-diff';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ensureDemoProgramHistory } from './program';

let handle: TestDatabase;
beforeAll(async () => {
  handle = await createTestDatabase('pglite');
});
afterAll(async () => {
  await handle?.close();
});

describe('ensureDemoProgramHistory', () => {
  it('schedules version 2 for the 1st of next month once; the reference stays in force', async () => {
    const { db } = handle;
    const shop = await ensureShop(db, {
      domain: 'demo-program.myshopify.com',
      currency: 'USD',
      timezone: 'America/New_York',
    });
    const now = new Date('2026-12-04T17:00:00Z');
    await publishProgram(db, shop.id, referenceProgram, new Date('2026-09-01T04:00:00Z'));
    const v2 = await ensureDemoProgramHistory(db, shop.id, 'America/New_York', now);
    expect(v2?.version).toBe(2);
    expect(v2?.effectiveFrom).toEqual(new Date('2027-01-01T05:00:00Z'));
    expect(diffPrograms(referenceProgram, v2!.definition)).toEqual([
      'band 2: 2 → 3 points per $1.00',
      'signup bonus 0 → 50',
    ]);
    expect((await programAt(db, shop.id, now))?.version).toBe(1);
    // A re-run publishes nothing.
    expect(await ensureDemoProgramHistory(db, shop.id, 'America/New_York', now)).toBeNull();
    expect((await listPrograms(db, shop.id)).length).toBe(2);
  });
});
