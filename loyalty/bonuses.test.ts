import { describe, expect, it } from 'vitest';
import {
  activeNetworks,
  birthdayChange,
  BonusProgramError,
  monthDayOfDate,
  parseBirthMonthDay,
  parseBonusProgram,
  socialClaimAllowed,
} from './bonuses';

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof BonusProgramError) return error.issues;
    throw error;
  }
  throw new Error('expected a BonusProgramError');
}

describe('parseBonusProgram', () => {
  it('normalises form text and numbers; 0 or blank is off', () => {
    const program = parseBonusProgram({
      birthdayPoints: '200',
      newsletterPoints: 50,
      social: {
        instagram: { url: ' https://instagram.com/laurel ', points: '25' },
        tiktok: { url: '', points: '' },
      },
    });
    expect(program.birthdayPoints).toBe(200);
    expect(program.newsletterPoints).toBe(50);
    expect(program.social.instagram).toEqual({ url: 'https://instagram.com/laurel', points: 25 });
    expect(program.social.tiktok).toEqual({ url: null, points: 0 });
    expect(program.social.x).toEqual({ url: null, points: 0 });
    expect(activeNetworks(program)).toEqual([
      { network: 'instagram', url: 'https://instagram.com/laurel', points: 25 },
    ]);
  });

  it('keeps a profile URL of a network that gives no points (off, but remembered)', () => {
    const program = parseBonusProgram({
      social: { x: { url: 'https://x.com/laurel', points: 0 } },
    });
    expect(program.social.x).toEqual({ url: 'https://x.com/laurel', points: 0 });
    expect(activeNetworks(program)).toEqual([]);
  });

  it('names every bad field', () => {
    expect(
      issuesOf(() =>
        parseBonusProgram({
          birthdayPoints: -1,
          newsletterPoints: 1.5,
          social: {
            instagram: { url: 'http://instagram.com/laurel', points: 10 },
            facebook: { url: 'not a url', points: 10 },
            youtube: { url: '', points: 10 },
            pinterest: { url: 'https://pinterest.com/laurel', points: 1_000_001 },
            myspace: { url: 'https://myspace.com', points: 1 },
          },
          colour: 'red',
        }),
      ),
    ).toEqual([
      { path: 'colour', message: 'is not a bonus setting' },
      { path: 'birthdayPoints', message: 'must be between 0 (off) and 1,000,000' },
      { path: 'newsletterPoints', message: 'must be a whole number of points' },
      {
        path: 'social.myspace',
        message: 'is not a network (instagram, facebook, tiktok, x, youtube, pinterest)',
      },
      { path: 'social.instagram.url', message: 'must start with https://' },
      { path: 'social.facebook.url', message: 'is not a URL (https://…)' },
      { path: 'social.youtube.url', message: 'is required when the network gives points' },
      { path: 'social.pinterest.points', message: 'must be between 0 (off) and 1,000,000' },
    ]);
  });

  it('refuses what is not an object, and points as words', () => {
    expect(issuesOf(() => parseBonusProgram(null))).toEqual([
      { path: '', message: 'must be an object' },
    ]);
    expect(issuesOf(() => parseBonusProgram({ birthdayPoints: 'ten' }))).toEqual([
      { path: 'birthdayPoints', message: 'must be a whole number of points' },
    ]);
    expect(issuesOf(() => parseBonusProgram({ social: [] }))).toEqual([
      { path: 'social', message: 'must be an object keyed by network' },
    ]);
  });

  it('accepts the bounds: 1 and 1,000,000', () => {
    expect(parseBonusProgram({ birthdayPoints: 1, newsletterPoints: 1_000_000 })).toMatchObject({
      birthdayPoints: 1,
      newsletterPoints: 1_000_000,
    });
  });
});

describe('birthdays', () => {
  it('takes month and day only, 29 February included', () => {
    expect(parseBirthMonthDay({ month: 2, day: 29 })).toEqual({ month: 2, day: 29 });
    expect(parseBirthMonthDay({ month: '12', day: '31' })).toEqual({ month: 12, day: 31 });
    expect(monthDayOfDate('1990-07-04')).toEqual({ month: 7, day: 4 });
  });

  it('refuses impossible days and a year, naming the field', () => {
    expect(issuesOf(() => parseBirthMonthDay({ month: 4, day: 31 }))).toEqual([
      { path: 'day', message: 'month 4 has no day 31' },
    ]);
    expect(issuesOf(() => parseBirthMonthDay({ month: 13, day: 0 }))).toEqual([
      { path: 'month', message: 'must be a whole number from 1 to 12' },
      { path: 'day', message: 'must be a whole number from 1 to 31' },
    ]);
    expect(issuesOf(() => parseBirthMonthDay({ month: 2, day: 30 }))).toEqual([
      { path: 'day', message: 'month 2 has no day 30' },
    ]);
    expect(issuesOf(() => parseBirthMonthDay({ month: 5, day: 1, year: 1990 }))).toEqual([
      { path: 'year', message: 'is not accepted (month and day only)' },
    ]);
  });

  it('allows a change 12 months after the last one, not a day before', () => {
    const setAt = new Date('2026-03-10T12:00:00Z');
    const current = { month: 3, day: 10, setAt };
    expect(birthdayChange(null, { month: 1, day: 1 }, setAt)).toEqual({ kind: 'new' });
    expect(birthdayChange(current, { month: 3, day: 10 }, setAt)).toEqual({ kind: 'same' });
    expect(birthdayChange(current, { month: 4, day: 1 }, new Date('2027-03-10T11:59:59Z'))).toEqual(
      { kind: 'locked', until: new Date('2027-03-10T12:00:00Z') },
    );
    expect(birthdayChange(current, { month: 4, day: 1 }, new Date('2027-03-10T12:00:00Z'))).toEqual(
      { kind: 'change' },
    );
  });
});

describe('socialClaimAllowed', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

  it('allows a first claim and one 30 s after the last', () => {
    expect(socialClaimAllowed([], now)).toEqual({ ok: true });
    expect(socialClaimAllowed([ago(30)], now)).toEqual({ ok: true });
  });

  it('refuses a claim within 30 s, saying when to retry', () => {
    expect(socialClaimAllowed([ago(29.5)], now)).toEqual({
      ok: false,
      reason: 'one claim per 30 seconds',
      retryAfterSeconds: 1,
    });
    expect(socialClaimAllowed([ago(10), ago(3600)], now)).toMatchObject({ retryAfterSeconds: 20 });
  });

  it('refuses an eleventh claim in 24 h until the oldest leaves the window', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ago(60 * 60 * (i + 1)));
    expect(socialClaimAllowed(ten, now)).toEqual({
      ok: false,
      reason: 'at most 10 claims a day',
      retryAfterSeconds: 14 * 60 * 60,
    });
    // One of them a day old: out of the window.
    const nine = [...ten.slice(0, 9), ago(24 * 60 * 60)];
    expect(socialClaimAllowed(nine, now)).toEqual({ ok: true });
  });
});
