/**
 * The referrals page's settings form: the form ↔ a program (every problem beside its field, a
 * draft the page never sends refused), and Save (a new version, the sync asked for, nothing saved
 * on an error). The page in Chromium: tests/e2e/admin-referrals.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReferralProgram } from '../loyalty/referrals';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import {
  defaultReferralForm,
  issuesToReferralErrors,
  parseReferralForm,
  readReferralDraft,
  referralFormValues,
  saveReferralForm,
  type ReferralFormValues,
} from './admin-referral-settings.server';
import { programSummary } from './admin-referrals.server';
import { AppError } from './errors';
import { listReferralPrograms } from './models/referral-programs.server';
import { ensureShop } from './models/shops.server';

const form = (change: Partial<ReferralFormValues> = {}): ReferralFormValues => ({
  ...defaultReferralForm(),
  enabled: true,
  ...change,
});

describe('the settings form', () => {
  it('turns the defaults into a program the rules accept, and back', () => {
    const parsed = parseReferralForm(form(), 'USD');
    expect(parsed.errors).toEqual({});
    const program = parseReferralProgram(parsed.definition, { shopCurrency: 'USD' });
    expect(program).toMatchObject({
      enabled: true,
      friendDiscount: { kind: 'percentage', percentage: 10 },
      friendMinimumOrderMinor: null,
      referrerPoints: 500,
      minimumOrderMinor: 0,
      reversalWindowDays: 30,
      referrerLimit: { count: 10, periodDays: 30 },
      ipLimit: { count: 5, periodDays: 1 },
      codePrefix: 'FRIEND-',
    });
    expect(referralFormValues(program.definition)).toEqual(form());
  });

  it('reads an amount, minimums, limits, rule actions and a lower-case prefix', () => {
    const values = form({
      discountKind: 'amount',
      discountValue: ' 15.00 ',
      friendMinimum: '50.00',
      minimumOrder: '40',
      referrerLimitCount: '3',
      rules: { ...defaultReferralForm().rules, same_address: 'reject' },
      codePrefix: 'pal-',
    });
    const parsed = parseReferralForm(values, 'USD');
    expect(parsed.errors).toEqual({});
    const program = parseReferralProgram(parsed.definition, { shopCurrency: 'USD' });
    expect(program).toMatchObject({
      friendDiscount: { kind: 'amount', amountMinor: 1500 },
      friendMinimumOrderMinor: 5000,
      minimumOrderMinor: 4000,
      referrerLimit: { count: 3, periodDays: 30 },
      codePrefix: 'PAL-',
    });
    expect(program.rules.same_address).toBe('reject');
    expect(programSummary(program)).toBe(
      "$15.00 off a friend's first order over $50.00; 500 points to the referrer when it is paid of $40.00 or more, taken back if it is refunded or cancelled within 30 days.",
    );
  });

  it('puts every problem beside its field at once', () => {
    const parsed = parseReferralForm(
      form({
        discountValue: '12.5',
        referrerPoints: '',
        reversalWindowDays: '400',
        ipLimitDays: '0',
        friendMinimum: 'ten',
        codePrefix: 'bad prefix!',
      }),
      'USD',
    );
    expect(parsed.errors).toEqual({
      discountValue: 'Friend discount must be a whole number of percent',
      referrerPoints: 'Referrer reward must be a whole number of points',
      reversalWindowDays: 'Reversal window must be at most 365 days',
      ipLimitDays: 'IP limit period must be at least 1 day',
      friendMinimum: expect.stringMatching(/^Friend's minimum order 'ten' /),
      codePrefix: expect.stringMatching(/^Code prefix must be empty or 1–16/),
    });
    const amount = parseReferralForm(
      form({ discountKind: 'amount', discountValue: '60.00', friendMinimum: '50.00' }),
      'USD',
    );
    expect(amount.errors).toEqual({
      discountValue: "Friend discount must not exceed the friend's minimum order (50.00)",
    });
  });

  it('maps paths no field holds to the form, rule paths to their rule', () => {
    expect(
      issuesToReferralErrors([
        { path: 'currency', message: "must be the shop's currency (EUR)" },
        { path: 'rules.ip_limit', message: 'must be "hold" or "reject"' },
        { path: 'referrerLimit.periodDays', message: 'must be at least 1 day' },
      ]),
    ).toEqual({
      form: "currency must be the shop's currency (EUR)",
      'rules.ip_limit':
        'Too many landings or orders from one IP address: must be "hold" or "reject"',
      referrerLimitDays: 'Referrer limit period must be at least 1 day',
    });
  });

  it('refuses a draft the page never sends', () => {
    const good = JSON.stringify(form());
    expect(readReferralDraft(good)).toEqual(form());
    for (const text of [
      undefined,
      '{',
      '[]',
      JSON.stringify({ ...form(), enabled: 'yes' }),
      JSON.stringify({ ...form(), discountKind: 'free' }),
      JSON.stringify({ ...form(), referrerPoints: 500 }),
      JSON.stringify({ ...form(), rules: { same_dog: 'hold' } }),
      JSON.stringify({ ...form(), rules: { same_email: 'ignore' } }),
    ]) {
      expect(() => readReferralDraft(text), String(text)).toThrow(AppError);
    }
  });
});

describe('saving', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('publishes a version and asks for the sync; saves nothing on an error', async () => {
    const { db } = handle;
    const shop = await ensureShop(db, {
      domain: `ar-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency: 'EUR',
    });
    const asked: string[] = [];
    const requestSync = async (domain: string) => {
      asked.push(domain);
    };
    const bad = await saveReferralForm(db, shop, form({ referrerPoints: '0' }), requestSync);
    expect(bad).toEqual({
      ok: false,
      values: form({ referrerPoints: '0' }),
      errors: { referrerPoints: 'Referrer reward must be at least 1' },
    });
    expect(await listReferralPrograms(db, shop.id)).toEqual([]);
    expect(asked).toEqual([]);

    const saved = await saveReferralForm(db, shop, form(), requestSync);
    expect(saved).toMatchObject({ ok: true, version: 1, enabled: true });
    expect(asked).toEqual([shop.domain]);
    expect(saved.ok && saved.sync).toMatch(/follows within seconds/);
    const off = await saveReferralForm(db, shop, form({ enabled: false }), async () => false);
    expect(off).toMatchObject({ ok: true, version: 2, enabled: false });
    expect(off.ok && off.sync).toMatch(/sweep/);
    const thrown = await saveReferralForm(db, shop, form(), async () => {
      throw new Error('redis down');
    });
    expect(thrown).toMatchObject({ ok: true, version: 3, enabled: true });
    expect(thrown.ok && thrown.sync).toMatch(/sweep/);
    const versions = await listReferralPrograms(db, shop.id);
    expect(versions.map((v) => [v.version, v.definition.enabled, v.definition.currency])).toEqual([
      [1, true, 'EUR'],
      [2, false, 'EUR'],
      [3, true, 'EUR'],
    ]);
  });
});
