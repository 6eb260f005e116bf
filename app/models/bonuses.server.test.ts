// Bonus awards against a real database, with the clock passed in: the birthday run per shop local
// day (timezones, DST, 29 February, once a year), birthdays given now, the newsletter bonus once,
// social follow claims once per network and rate-limited, and bad settings saving nothing.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.server';
import { bonusPrograms, customerBirthdays, socialFollowClaims } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode } from '../errors';
import { getBirthday } from './birthdays.server';
import { bonusProgramAt, listBonusPrograms, publishBonusProgram } from './bonus-programs.server';
import {
  awardBirthdayBonuses,
  awardNewsletterBonus,
  bonusCounts,
  claimSocialFollow,
  giveBirthday,
  localDayOf,
} from './bonuses.server';
import { ensureCustomer, redactCustomer } from './customers.server';
import { balanceOf, entriesFor } from './ledger.server';
import { ensureShop, type Shop } from './shops.server';

let handle: TestDatabase;
let db: Database;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  db = handle.db;
});
afterAll(async () => {
  await handle?.close();
});

const SETTINGS = {
  birthdayPoints: 200,
  newsletterPoints: 50,
  social: {
    instagram: { url: 'https://instagram.com/laurel', points: 25 },
    tiktok: { url: 'https://tiktok.com/@laurel', points: 10 },
  },
};
const SINCE = new Date('2020-01-01T00:00:00Z');

async function newShop(timezone = 'America/New_York', settings: unknown = SETTINGS) {
  const shop = await ensureShop(db, {
    domain: `bonuses-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
    timezone,
  });
  if (settings) await publishBonusProgram(db, shop.id, settings, SINCE);
  return shop;
}

async function member(shop: Shop, birthday?: { month: number; day: number }, setAt = SINCE) {
  const customer = await ensureCustomer(db, shop.id, { externalId: randomUUID(), email: null });
  if (birthday) {
    await db.insert(customerBirthdays).values({
      customerId: customer.id,
      shopId: shop.id,
      ...birthday,
      source: 'storefront',
      setAt,
    });
  }
  return customer;
}

const bonusEntries = async (shop: Shop, customerId: number) =>
  (await entriesFor(db, shop.id, customerId)).filter((e) => e.source === 'bonus');

describe('bonus settings', () => {
  it('bad input is refused naming the field, and nothing is saved', async () => {
    const shop = await newShop('UTC', null);
    const error = await publishBonusProgram(db, shop.id, {
      birthdayPoints: 0,
      social: { instagram: { url: 'http://instagram.com/x', points: 5 } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.VALIDATION);
    expect((error as AppError).details.issues).toEqual([
      { path: 'social.instagram.url', message: 'must start with https://' },
    ]);
    expect(await db.select().from(bonusPrograms).where(eq(bonusPrograms.shopId, shop.id))).toEqual(
      [],
    );
  });

  it('versions are insert-only, each effective from its time', async () => {
    const shop = await newShop('UTC', null);
    await publishBonusProgram(db, shop.id, { birthdayPoints: 100 }, new Date('2026-01-01T00:00Z'));
    await publishBonusProgram(db, shop.id, { birthdayPoints: 300 }, new Date('2026-06-01T00:00Z'));
    expect((await bonusProgramAt(db, shop.id, new Date('2026-05-31T23:59Z')))?.version).toBe(1);
    expect(
      (await bonusProgramAt(db, shop.id, new Date('2026-06-01T00:00Z')))?.definition.birthdayPoints,
    ).toBe(300);
    expect(await bonusProgramAt(db, shop.id, new Date('2025-12-31T23:59Z'))).toBeNull();
    expect((await listBonusPrograms(db, shop.id)).map((v) => v.version)).toEqual([1, 2]);
  });
});

describe('awardBirthdayBonuses', () => {
  it('awards members born in the local month once that local year, dated the local day start', async () => {
    const shop = await newShop('America/New_York');
    const march = await member(shop, { month: 3, day: 20 });
    const april = await member(shop, { month: 4, day: 1 });
    const none = await member(shop);
    const now = new Date('2026-03-08T05:05:00Z'); // 00:05 local, the day DST starts
    const first = await awardBirthdayBonuses(db, shop, '2026-03-08', now);
    expect(first).toEqual({ bonusVersion: 1, awarded: 1 });
    const [entry] = await bonusEntries(shop, march.id);
    expect(entry).toMatchObject({
      idempotencyKey: `birthday:${march.externalId}:2026`,
      points: 200,
      occurredAt: new Date('2026-03-08T05:00:00Z'),
      inputs: { rule: 'birthday', bonusVersion: 1, month: 3, day: 20, year: 2026 },
    });
    expect(await bonusEntries(shop, april.id)).toEqual([]);
    expect(await bonusEntries(shop, none.id)).toEqual([]);
    // Any later day of the month, or the same day again: nothing more.
    expect(await awardBirthdayBonuses(db, shop, '2026-03-09', now)).toMatchObject({ awarded: 0 });
    expect(await awardBirthdayBonuses(db, shop, '2026-03-31', now)).toMatchObject({ awarded: 0 });
    // Next year's March: once more.
    expect(
      await awardBirthdayBonuses(db, shop, '2027-03-01', new Date('2027-03-01T05:00Z')),
    ).toMatchObject({ awarded: 1 });
    expect((await balanceOf(db, shop.id, march.id)).balance).toBe(400);
  });

  it('uses the shop’s local month: 1 April 00:30 in Auckland is still 31 March in UTC', async () => {
    const shop = await newShop('Pacific/Auckland');
    const april = await member(shop, { month: 4, day: 2 });
    const localDay = localDayOf(new Date('2026-03-31T11:30:00Z'), shop.timezone);
    expect(localDay).toBe('2026-04-01');
    await awardBirthdayBonuses(db, shop, localDay, new Date('2026-03-31T11:30:00Z'));
    const [entry] = await bonusEntries(shop, april.id);
    // Auckland is UTC+13 until 5 April 2026 (NZDT).
    expect(entry?.occurredAt).toEqual(new Date('2026-03-31T11:00:00Z'));
  });

  it('29 February counts in February, leap year or not', async () => {
    const shop = await newShop('Europe/Paris');
    const leap = await member(shop, { month: 2, day: 29 });
    await awardBirthdayBonuses(db, shop, '2027-02-01', new Date('2027-02-01T00:00Z'));
    expect((await bonusEntries(shop, leap.id)).map((e) => e.inputs)).toEqual([
      { rule: 'birthday', bonusVersion: 1, month: 2, day: 29, year: 2027 },
    ]);
  });

  it('skips redacted members and does nothing while birthday points are 0', async () => {
    const shop = await newShop('UTC', { birthdayPoints: 0 });
    const born = await member(shop, { month: 5, day: 5 });
    expect(
      await awardBirthdayBonuses(db, shop, '2026-05-01', new Date('2026-05-01T00:00Z')),
    ).toEqual({ bonusVersion: 1, awarded: 0 });
    await publishBonusProgram(db, shop.id, { birthdayPoints: 10 }, new Date('2026-05-02T00:00Z'));
    const gone = await member(shop, { month: 5, day: 6 });
    await redactCustomer(db, shop.id, gone.id);
    expect(
      await awardBirthdayBonuses(db, shop, '2026-05-02', new Date('2026-05-02T00:01Z')),
    ).toEqual({ bonusVersion: 2, awarded: 1 });
    expect((await balanceOf(db, shop.id, born.id)).balance).toBe(10);
    expect(await getBirthday(db, shop.id, gone.id)).toBeNull();
  });
});

describe('giveBirthday', () => {
  it('awards at once when the birthday falls in the current local month, once a year', async () => {
    const shop = await newShop('America/Los_Angeles');
    const m = await member(shop);
    // 1 July 02:00 UTC is still 30 June in Los Angeles.
    const now = new Date('2026-07-01T02:00:00Z');
    const june = await giveBirthday(db, shop, m, { month: 6, day: 2 }, 'storefront', now);
    expect(june).toMatchObject({ result: { kind: 'new' }, points: 200 });
    const [entry] = await bonusEntries(shop, m.id);
    expect(entry?.occurredAt).toEqual(new Date('2026-06-30T07:00:00Z'));
    // The same again: no change, no second bonus.
    expect(await giveBirthday(db, shop, m, { month: 6, day: 2 }, 'storefront', now)).toMatchObject({
      result: { kind: 'same' },
      points: 0,
    });
  });

  it('refuses a change within 12 months and keeps the stored birthday', async () => {
    const shop = await newShop('UTC');
    const m = await member(shop, { month: 1, day: 15 }, new Date('2026-01-10T00:00Z'));
    const now = new Date('2026-08-01T00:00Z');
    const moved = await giveBirthday(db, shop, m, { month: 8, day: 3 }, 'storefront', now);
    expect(moved).toMatchObject({
      result: { kind: 'locked', until: new Date('2027-01-10T00:00Z') },
      points: 0,
    });
    expect(await getBirthday(db, shop.id, m.id)).toMatchObject({ month: 1, day: 15 });
    expect(await bonusEntries(shop, m.id)).toEqual([]);
    // A year on: changed, and awarded in its month.
    const later = new Date('2027-08-01T00:00Z');
    expect(await giveBirthday(db, shop, m, { month: 8, day: 3 }, 'metafield', later)).toMatchObject(
      { result: { kind: 'change' }, points: 200 },
    );
    expect(await getBirthday(db, shop.id, m.id)).toMatchObject({
      month: 8,
      day: 3,
      source: 'metafield',
      setAt: later,
    });
  });

  it('a birthday moved into this month after this year’s bonus gives no second one', async () => {
    const shop = await newShop('UTC');
    const m = await member(shop, { month: 3, day: 1 }, new Date('2025-01-01T00:00Z'));
    await awardBirthdayBonuses(db, shop, '2026-03-01', new Date('2026-03-01T00:00Z'));
    const result = await giveBirthday(
      db,
      shop,
      m,
      { month: 3, day: 30 },
      'storefront',
      new Date('2026-03-15T00:00Z'),
    );
    expect(result).toMatchObject({ result: { kind: 'change' }, points: 0 });
    expect(await bonusEntries(shop, m.id)).toHaveLength(1);
  });
});

describe('awardNewsletterBonus', () => {
  it('awards once ever when subscribed, recording the consent time', async () => {
    const shop = await newShop('UTC');
    const m = await member(shop);
    const at = '2026-04-02T10:00:00.000Z';
    const consent = { state: 'subscribed', consentUpdatedAt: at };
    expect(await awardNewsletterBonus(db, shop.id, m, consent, new Date())).toBe(50);
    expect(await awardNewsletterBonus(db, shop.id, m, consent, new Date())).toBe(0);
    const later = { state: 'subscribed', consentUpdatedAt: '2026-09-01T00:00:00.000Z' };
    expect(await awardNewsletterBonus(db, shop.id, m, later, new Date())).toBe(0);
    const [entry] = await bonusEntries(shop, m.id);
    expect(entry).toMatchObject({
      idempotencyKey: `newsletter:${m.externalId}`,
      occurredAt: new Date(at),
      inputs: { rule: 'newsletter', bonusVersion: 1, consentUpdatedAt: at },
    });
  });

  it('nothing for other states, or a consent given before the bonus existed', async () => {
    const shop = await newShop('UTC', null);
    await publishBonusProgram(db, shop.id, { newsletterPoints: 5 }, new Date('2026-05-01T00:00Z'));
    const m = await member(shop);
    for (const state of ['not_subscribed', 'pending', 'unsubscribed']) {
      expect(
        await awardNewsletterBonus(db, shop.id, m, { state, consentUpdatedAt: null }, new Date()),
      ).toBe(0);
    }
    const before = { state: 'subscribed', consentUpdatedAt: '2026-04-30T23:59:59.000Z' };
    expect(await awardNewsletterBonus(db, shop.id, m, before, new Date())).toBe(0);
    expect(await awardNewsletterBonus(db, shop.id, m, null, new Date())).toBe(0);
    expect(await bonusEntries(shop, m.id)).toEqual([]);
  });
});

describe('claimSocialFollow', () => {
  it('awards once per network, rate-limits claims, and counts bonuses this month', async () => {
    const shop = await newShop('UTC');
    const m = await member(shop);
    const t0 = new Date('2026-06-10T12:00:00Z');
    const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
    expect(await claimSocialFollow(db, shop.id, m, 'instagram', t0)).toEqual({
      status: 'awarded',
      points: 25,
    });
    expect(await claimSocialFollow(db, shop.id, m, 'tiktok', at(10))).toEqual({
      status: 'rate-limited',
      reason: 'one claim per 30 seconds',
      retryAfterSeconds: 20,
    });
    expect(await claimSocialFollow(db, shop.id, m, 'instagram', at(30))).toEqual({
      status: 'already-claimed',
    });
    expect(await claimSocialFollow(db, shop.id, m, 'tiktok', at(60))).toEqual({
      status: 'awarded',
      points: 10,
    });
    const [entry] = (await bonusEntries(shop, m.id)).filter((e) => e.inputs.network === 'tiktok');
    expect(entry).toMatchObject({
      idempotencyKey: `social:${m.externalId}:tiktok`,
      occurredAt: at(60),
      inputs: {
        rule: 'social-follow',
        bonusVersion: 1,
        network: 'tiktok',
        url: 'https://tiktok.com/@laurel',
      },
    });
    // Refused claims are not recorded: three accepted so far.
    const claims = await db
      .select()
      .from(socialFollowClaims)
      .where(and(eq(socialFollowClaims.shopId, shop.id), eq(socialFollowClaims.customerId, m.id)));
    expect(claims).toHaveLength(3);
    for (let i = 0; i < 7; i++) {
      await claimSocialFollow(db, shop.id, m, 'instagram', at(120 + i * 60));
    }
    expect(await claimSocialFollow(db, shop.id, m, 'instagram', at(3600))).toEqual({
      status: 'rate-limited',
      reason: 'at most 10 claims a day',
      retryAfterSeconds: 24 * 3600 - 3600,
    });
    const counts = await bonusCounts(db, shop.id, new Date('2026-06-01Z'), new Date('2026-07-01Z'));
    expect(counts.entries).toEqual({ signup: 0, birthday: 0, newsletter: 0, social: 2 });
    expect(counts.points.social).toBe(35);
  });

  it('refuses a network that gives no points, naming the field', async () => {
    const shop = await newShop('UTC');
    const m = await member(shop);
    const error = await claimSocialFollow(db, shop.id, m, 'youtube', new Date()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCode.VALIDATION, details: { field: 'network' } });
    expect(await bonusEntries(shop, m.id)).toEqual([]);
  });
});
