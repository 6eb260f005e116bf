import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orders, shops } from '../db/schema';
import { referenceProgram } from '../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { programFormValues, type ProgramFormValues } from './admin-program-form';
import {
  effectiveInstant,
  programPage,
  readProgramDraft,
  saveProgramForm,
  simulateProgramForm,
} from './admin-program.server';
import { ensureCustomer } from './models/customers.server';
import { settleOrders } from './models/orders.server';
import { listPrograms, publishProgram } from './models/programs.server';
import { ensureShop, getShop, type Shop } from './models/shops.server';

const TZ = 'America/New_York';
const NOW = new Date('2026-12-04T17:00:00Z');

let handle: TestDatabase;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
});
afterAll(async () => {
  await handle?.close();
});

async function newShop(): Promise<Shop> {
  const shop = await ensureShop(handle.db, {
    domain: `prog-ed-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
    timezone: TZ,
  });
  await publishProgram(handle.db, shop.id, referenceProgram, new Date('2026-01-01T05:00:00Z'));
  return shop;
}

const form = (change: (v: ProgramFormValues) => void = () => {}): ProgramFormValues => {
  const v = programFormValues(referenceProgram, false);
  change(v);
  return v;
};

describe('saveProgramForm', () => {
  it('refuses every bad input by field and saves nothing', async () => {
    const shop = await newShop();
    const requests: string[] = [];
    const sync = async (d: string) => void requests.push(d);
    const cases: [ProgramFormValues, Record<string, string>][] = [
      [
        form((v) => (v.bands[1]!.over = '80.00')),
        {
          'bands[1].over':
            'Band 2 over: overlaps the previous band, which goes up to 100.00; bands must be sorted and not overlap',
        },
      ],
      [
        form((v) => (v.bands = [v.bands[1]!, v.bands[0]!])),
        { 'bands[0].upTo': 'Band 1 up to: is required: only the last band may be open-ended' },
      ],
      [
        form((v) => (v.bands[0]!.pointsPerUnit = '-2')),
        { 'bands[0].pointsPerUnit': 'Band 1 points per unit: must not be negative' },
      ],
      [
        form((v) => (v.bands[1]!.pointsPerUnit = '1.5')),
        { 'bands[1].pointsPerUnit': 'Band 2 points per unit: must be a whole number' },
      ],
      [
        form((v) => (v.bands[1]!.pointsPerUnit = '0')),
        { 'bands[1].pointsPerUnit': 'Band 2 points per unit: must be at least 1' },
      ],
      [
        form((v) => (v.bands[0]!.over = '12,50')),
        { 'bands[0].over': expect.stringMatching(/^Band 1 over: '12,50' /) as unknown as string },
      ],
      [
        form((v) => (v.unit = 'abc')),
        { unit: expect.stringMatching(/^Earn unit 'abc' /) as unknown as string },
      ],
      [form((v) => (v.signupBonus = '-100')), { signupBonus: 'Signup bonus must not be negative' }],
      [
        form((v) => {
          v.effective = 'scheduled';
          v.effectiveAt = '2026-12-04T11:00';
        }),
        {
          effectiveAt: `Effective from must be in the future: 2026-12-04 11:00 in ${TZ} has passed`,
        },
      ],
      [form((v) => (v.name = '  ')), { name: 'Program name must not be empty' }],
    ];
    for (const [values, errors] of cases) {
      const outcome = await saveProgramForm(handle.db, shop, values, sync, 'en-US', NOW);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.errors).toEqual(expect.objectContaining(errors));
    }
    expect((await listPrograms(handle.db, shop.id)).map((p) => p.version)).toEqual([1]);
    expect(requests).toEqual([]);
  });

  it('publishes the next version now, says what changed, and asks for the storefront sync', async () => {
    const shop = await newShop();
    const requests: string[] = [];
    const outcome = await saveProgramForm(
      handle.db,
      shop,
      form((v) => {
        v.bands[1]!.pointsPerUnit = '3';
        v.signupBonus = '100';
        v.posOrdersEarn = false;
        v.testOrdersEarn = true;
      }),
      async (d) => void requests.push(d),
      'en-US',
      NOW,
    );
    expect(outcome).toMatchObject({
      ok: true,
      version: 2,
      scheduled: false,
      effectiveFrom: 'Dec 4, 2026, 12:00 PM',
      changes: [
        'band 2: 2 → 3 points per $1.00',
        'signup bonus 0 → 100',
        'POS orders no longer earn',
        'test orders now earn',
      ],
    });
    expect(requests).toEqual([shop.domain]);
    const [, v2] = await listPrograms(handle.db, shop.id);
    expect(v2!.effectiveFrom).toEqual(NOW);
    expect(v2!.definition).toMatchObject({ signupBonus: 100, posOrders: 'exclude' });
    expect((await getShop(handle.db, shop.id))!.testOrdersEarn).toBe(true);

    const page = await programPage(handle.db, (await getShop(handle.db, shop.id))!, 'en-US', NOW);
    expect(page.inForce).toBe(2);
    expect(page.history.map((h) => [h.version, h.status, h.changes])).toEqual([
      [
        2,
        'in force',
        ['band 2: 2 → 3 points per $1.00', 'signup bonus 0 → 100', 'POS orders no longer earn'],
      ],
      [1, 'superseded', ['first version']],
    ]);
    expect(page.values.bands[1]!.pointsPerUnit).toBe('3');
    expect(page.values.testOrdersEarn).toBe(true);
  });

  it('schedules a version at a future shop-local time; nothing changed is refused', async () => {
    const shop = await newShop();
    const outcome = await saveProgramForm(
      handle.db,
      shop,
      form((v) => {
        v.signupBonus = '50';
        v.effective = 'scheduled';
        v.effectiveAt = '2026-12-10T09:00';
      }),
      async () => false,
      'en-US',
      NOW,
    );
    expect(outcome).toMatchObject({ ok: true, version: 2, scheduled: true });
    if (outcome.ok) expect(outcome.sync).toMatch(/could not be queued/);
    const [, v2] = await listPrograms(handle.db, shop.id);
    expect(v2!.effectiveFrom).toEqual(new Date('2026-12-10T14:00:00Z'));
    const page = await programPage(handle.db, shop, 'en-US', NOW);
    expect(page.history.map((h) => h.status)).toEqual(['scheduled', 'in force']);

    const again = await saveProgramForm(
      handle.db,
      shop,
      programFormValues(v2!.definition, false),
      async () => true,
      'en-US',
      NOW,
    );
    expect(again).toEqual({
      ok: false,
      values: expect.anything() as unknown,
      errors: { form: 'Nothing changed: the draft is version 2.' },
    });
    // Only the test-order setting: saved on the shop, no version.
    const flag = await saveProgramForm(
      handle.db,
      shop,
      { ...programFormValues(v2!.definition, true) },
      async () => true,
      'en-US',
      NOW,
    );
    expect(flag).toMatchObject({ ok: true, version: null, changes: ['test orders now earn'] });
    expect((await listPrograms(handle.db, shop.id)).length).toBe(2);
    const [row] = await handle.db.select().from(shops).where(eq(shops.id, shop.id));
    expect(row!.testOrdersEarn).toBe(true);
  });
});

describe('programPage without a program', () => {
  it('starts the editor from a starter program in the shop currency; Save publishes version 1', async () => {
    const shop = await ensureShop(handle.db, {
      domain: `prog-new-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency: 'JPY',
      timezone: 'Asia/Tokyo',
    });
    const page = await programPage(handle.db, shop, 'en-US', NOW);
    expect(page).toMatchObject({ hasProgram: false, inForce: null, latestVersion: 0, history: [] });
    expect(page.values.bands).toEqual([
      { over: '50', upTo: '100', pointsPerUnit: '1' },
      { over: '100', upTo: '', pointsPerUnit: '2' },
    ]);
    const saved = await saveProgramForm(
      handle.db,
      shop,
      page.values,
      async () => true,
      'en-US',
      NOW,
    );
    expect(saved).toMatchObject({ ok: true, version: 1, changes: ['first version'] });
    expect((await listPrograms(handle.db, shop.id))[0]!.definition).toMatchObject({
      currency: 'JPY',
      earn: { unit: '1' },
    });
  });
});

describe('effectiveInstant', () => {
  it('reads a shop-local time, refuses past and malformed ones', () => {
    const scheduled = (effectiveAt: string) => ({ effective: 'scheduled' as const, effectiveAt });
    expect(effectiveInstant(scheduled('2027-03-14T02:30'), TZ, NOW)).toEqual({
      at: new Date('2027-03-14T07:00:00Z'), // the DST gap: 02:30 does not happen, 03:00 EDT does
    });
    expect(effectiveInstant(scheduled('2026-02-30T10:00'), TZ, NOW)).toEqual({
      error: "Effective from '2026-02-30T10:00' is not a date and time (YYYY-MM-DD HH:MM)",
    });
    expect(effectiveInstant(scheduled(''), TZ, NOW)).toEqual({
      error: 'Effective from is required when the change is scheduled',
    });
    expect(effectiveInstant({ effective: 'now', effectiveAt: 'junk' }, TZ, NOW)).toEqual({
      at: NOW,
    });
  });
});

describe('readProgramDraft', () => {
  it('refuses what the page never sends', () => {
    expect(() => readProgramDraft('{"name": 1}')).toThrow(
      /draft must be the program editor's JSON/,
    );
    expect(() => readProgramDraft('nope')).toThrow(/draft must be/);
    const good = form();
    expect(readProgramDraft(JSON.stringify(good))).toEqual(good);
  });
});

describe('simulateProgramForm', () => {
  it('replays the shop’s orders under the draft and says what changes', async () => {
    const shop = await newShop();
    const member = await ensureCustomer(handle.db, shop.id, { externalId: 'sim-1' });
    await handle.db.insert(orders).values({
      shopId: shop.id,
      shopifyOrderId: '880001',
      customerId: member.id,
      currency: 'USD',
      earnAmountMinor: 12_000,
      totalMinor: 13_500,
      processedAt: new Date('2026-11-20T15:00:00Z'),
      paidAt: new Date('2026-11-20T15:00:00Z'),
    });
    await handle.db.transaction((tx) => settleOrders(tx, shop, ['880001']));
    const draft = form((v) => (v.bands[1]!.pointsPerUnit = '3'));
    const outcome = await simulateProgramForm(handle.db, shop, draft, '2', 'en-US', NOW);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const sim = outcome.simulation;
    expect(sim.period).toBe('Nov 2026 – Dec 2026');
    expect(
      sim.rows.map((r) => [r.month, r.current.net, r.draft.net, r.difference, r.membersAffected]),
    ).toEqual([
      ['Nov 2026', '90', '110', '+20', '1'],
      ['Dec 2026', '0', '0', '0', '0'],
    ]);
    expect(sim.summary).toBe(
      'Over Nov 2026 – Dec 2026 the draft would have issued 20 more points net than your program did; 1 of 1 earning members would have a different balance.',
    );
    expect(sim.valueNote).toMatch(/^Points only: no active reward/);

    const bad = await simulateProgramForm(handle.db, shop, draft, '25', 'en-US', NOW);
    expect(bad).toMatchObject({
      ok: false,
      errors: { months: 'Months must be a whole number from 1 to 24' },
    });
    const invalid = await simulateProgramForm(
      handle.db,
      shop,
      form((v) => (v.bands[1]!.over = '70.00')),
      '3',
      'en-US',
      NOW,
    );
    expect(invalid.ok).toBe(false);
  });
});
