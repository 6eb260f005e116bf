import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  appendPage,
  MAX_PAGE_ENTRIES,
  parseHistoryPage,
  parseSummary,
  summaryFromMetafields,
  type HistoryEntry,
  type MemberSummary,
} from '../src/member';

const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
const points = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

const summaryArbitrary: fc.Arbitrary<MemberSummary> = fc.record({
  enrolled: fc.boolean(),
  balance: points,
  lifetimeEarned: points,
  tier: fc.option(text(100), { nil: null }),
  referralCode: fc.option(text(64), { nil: null }),
});

const entryArbitrary: fc.Arbitrary<HistoryEntry> = fc.record({
  id: text(128),
  occurredAt: fc
    .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((date) => date.toISOString()),
  points,
  source: text(64),
  explanation: text(500),
});

describe('parseSummary', () => {
  test('keeps every answer of the contract exactly', () => {
    fc.assert(
      fc.property(summaryArbitrary, (summary) => {
        expect(parseSummary(JSON.parse(JSON.stringify(summary)))).toEqual(summary);
      }),
    );
  });

  test('whatever it is given, it returns the contract or nothing', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const summary = parseSummary(value);
        if (summary === null) return;
        expect(Object.keys(summary).sort()).toEqual(
          ['balance', 'enrolled', 'lifetimeEarned', 'referralCode', 'tier'].sort(),
        );
        expect(Number.isSafeInteger(summary.balance)).toBe(true);
        expect(Number.isSafeInteger(summary.lifetimeEarned)).toBe(true);
      }),
    );
  });

  test('one field off makes the whole answer invalid', () => {
    const valid = { enrolled: true, balance: 1, lifetimeEarned: 1, tier: null, referralCode: null };
    expect(parseSummary(valid)).toEqual(valid);
    for (const [field, value] of [
      ['enrolled', 1],
      ['balance', '1'],
      ['balance', Number.NaN],
      ['balance', Infinity],
      ['lifetimeEarned', null],
      ['tier', ''],
      ['tier', 'x'.repeat(101)],
      ['referralCode', 42],
      ['referralCode', undefined],
    ] as const) {
      expect(parseSummary({ ...valid, [field]: value }), `${field}: ${String(value)}`).toBeNull();
    }
  });
});

describe('parseHistoryPage', () => {
  test('keeps every page of the contract exactly', () => {
    fc.assert(
      fc.property(
        fc.array(entryArbitrary, { maxLength: MAX_PAGE_ENTRIES }),
        fc.option(text(2048), { nil: null }),
        (entries, nextCursor) => {
          const body = JSON.parse(JSON.stringify({ entries, nextCursor }));
          expect(parseHistoryPage(body)).toEqual({ entries, nextCursor });
        },
      ),
    );
  });

  test('a page with an entry broken in any field is refused whole', () => {
    fc.assert(
      fc.property(
        fc.array(entryArbitrary, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('id', 'occurredAt', 'points', 'source', 'explanation'),
        fc.constantFrom<unknown>(null, 12.5, '', [], {}, true, 'not a date'),
        (entries, field, value) => {
          const broken = entries.map((entry, index) =>
            index === entries.length - 1 ? { ...entry, [field]: value } : entry,
          );
          const result = parseHistoryPage({ entries: broken, nextCursor: null });
          // 'not a date' is a valid explanation/source/id; every other replacement is invalid there.
          const stillValid = value === 'not a date' && field !== 'occurredAt' && field !== 'points';
          expect(result === null).toBe(!stillValid);
        },
      ),
    );
  });

  test('offsets other than Z are instants too; a date alone is not', () => {
    const entry = {
      id: 'a',
      points: 1,
      source: 'order',
      explanation: 'x',
      occurredAt: '2026-03-01T10:00:00+02:00',
    };
    expect(parseHistoryPage({ entries: [entry], nextCursor: null })).not.toBeNull();
    for (const occurredAt of ['2026-03-01', '2026-02-30T10:00:00Z', '1 March 2026', '']) {
      expect(
        parseHistoryPage({ entries: [{ ...entry, occurredAt }], nextCursor: null }),
      ).toBeNull();
    }
  });
});

describe('summaryFromMetafields', () => {
  const answer = (customer: unknown) => ({ data: { customer } });
  const field = (value: string) => ({ value });

  test('a written balance and lifetime make an enrolled member', () => {
    expect(
      summaryFromMetafields(
        answer({
          pointsBalance: field('120'),
          lifetimePoints: field('300'),
          tierStatus: field(JSON.stringify({ key: 'gold', name: 'Gold', next: null })),
          referralCode: field('ANNA'),
        }),
      ),
    ).toEqual({
      enrolled: true,
      balance: 120,
      lifetimeEarned: 300,
      tier: 'Gold',
      referralCode: 'ANNA',
    });
  });

  test('anything short of that is "ask the backend", never a zero', () => {
    for (const body of [
      answer({ pointsBalance: null, lifetimePoints: null, tierStatus: null, referralCode: null }),
      answer({
        pointsBalance: field('1'),
        lifetimePoints: null,
        tierStatus: null,
        referralCode: null,
      }),
      answer({
        pointsBalance: field(''),
        lifetimePoints: field('1'),
        tierStatus: null,
        referralCode: null,
      }),
      answer({
        pointsBalance: field('1e3'),
        lifetimePoints: field('1'),
        tierStatus: null,
        referralCode: null,
      }),
      answer({
        pointsBalance: field('1'),
        lifetimePoints: field('1'),
        tierStatus: 7,
        referralCode: null,
      }),
      answer({
        pointsBalance: field('1'),
        lifetimePoints: field('1'),
        tierStatus: field('not json'),
        referralCode: null,
      }),
      answer({
        pointsBalance: field('1'),
        lifetimePoints: field('1'),
        tierStatus: field('{"name": 5}'),
        referralCode: null,
      }),
      answer(null),
      { data: null, errors: [{ message: 'denied' }] },
      { errors: [], data: { customer: { pointsBalance: field('1'), lifetimePoints: field('1') } } },
      'nonsense',
    ]) {
      expect(summaryFromMetafields(body), JSON.stringify(body)).toBeNull();
    }
  });
});

test('appendPage keeps order and drops entries already shown', () => {
  const e = (id: string) => ({ id, occurredAt: '', points: 0, source: 's', explanation: 'x' });
  const shown = [e('a'), e('b')];
  expect(appendPage(shown, [e('b'), e('c'), e('c'), e('d')]).map((x) => x.id)).toEqual([
    'a',
    'b',
    'c',
    'd',
  ]);
  expect(appendPage(shown, [e('a')])).toBe(shown);
});
