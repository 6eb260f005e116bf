import { describe, expect, it } from 'vitest';
import { FOUR_TIERS } from '../tests/helpers/tiers';
import {
  combinedDecision,
  compileSavedWindow,
  earlyAccessDecision,
  EarlyAccessError,
  FUNCTION_PAST_TIME,
  FUNCTION_TIME_SLOTS,
  functionTimeSlots,
  localTimeText,
  parseEarlyAccessWindow,
  productMirror,
  type EarlyAccessWindowDefinition,
} from './early-access';
import { parseTierProgram } from './tiers';

const tiers = parseTierProgram(FOUR_TIERS, { shopCurrency: 'USD' });
const rank = (key: string) => tiers.tiers.find((t) => t.key === key)!.rank;
const NY = 'America/New_York';

/** "Gold and above from Nov 20 09:00, Silver from Nov 22 09:00; everyone from Nov 24 09:00". */
const BLACK_FRIDAY: EarlyAccessWindowDefinition = {
  name: 'Black Friday preview',
  target: { type: 'product', id: '8001' },
  stages: [
    { tier: 'gold', opensAt: '2026-11-20T09:00' },
    { tier: 'silver', opensAt: '2026-11-22T09:00' },
  ],
  everyoneAt: '2026-11-24T09:00',
};

function issuesOf(json: unknown, timeZone = 'UTC', program = tiers) {
  try {
    parseEarlyAccessWindow(json, { timeZone, tiers: program });
  } catch (error) {
    expect(error).toBeInstanceOf(EarlyAccessError);
    return (error as EarlyAccessError).issues;
  }
  throw new Error('expected the window to be refused');
}

describe('parseEarlyAccessWindow: refusals, each with its path', () => {
  it('an unknown tier names the tiers there are', () => {
    expect(
      issuesOf({ ...BLACK_FRIDAY, stages: [{ tier: 'diamond', opensAt: '2026-11-20T09:00' }] }),
    ).toEqual([
      {
        path: 'stages[0].tier',
        message: "'diamond' is not a tier (bronze, silver, gold, platinum)",
      },
    ]);
  });

  it('a window whose end (everyone) is not after its start', () => {
    expect(
      issuesOf({
        ...BLACK_FRIDAY,
        stages: [{ tier: 'gold', opensAt: '2026-11-24T09:00' }],
      }),
    ).toEqual([
      {
        path: 'everyoneAt',
        message:
          "must be after every tier's opening: gold opens 2026-11-24T09:00, everyone 2026-11-24T09:00",
      },
    ]);
    expect(issuesOf({ ...BLACK_FRIDAY, everyoneAt: '2026-11-19T09:00' })).toHaveLength(2);
  });

  it('a higher tier waiting longer than a lower one', () => {
    expect(
      issuesOf({
        ...BLACK_FRIDAY,
        stages: [
          { tier: 'gold', opensAt: '2026-11-22T09:00' },
          { tier: 'silver', opensAt: '2026-11-20T09:00' },
        ],
      }),
    ).toEqual([
      {
        path: 'stages[0].opensAt',
        message: 'gold opens after silver, a lower tier: a higher tier never waits longer',
      },
    ]);
  });

  it('bad times: not the format, not a real date', () => {
    expect(
      issuesOf({
        ...BLACK_FRIDAY,
        stages: [{ tier: 'gold', opensAt: 'Nov 20 9am' }],
        everyoneAt: '2026-02-30T09:00',
      }),
    ).toEqual([
      { path: 'everyoneAt', message: "'2026-02-30T09:00' is not a real date and time" },
      {
        path: 'stages[0].opensAt',
        message: `'Nov 20 9am' must be a local date and time, "YYYY-MM-DDTHH:MM"`,
      },
    ]);
  });

  it('an unknown field, a missing one, a bad target', () => {
    expect(issuesOf({ ...BLACK_FRIDAY, endsAt: '2026-11-24T09:00' })).toEqual([
      { path: 'endsAt', message: 'is not a known field' },
    ]);
    const { everyoneAt: _omitted, ...noEnd } = BLACK_FRIDAY;
    expect(issuesOf(noEnd)).toEqual([
      { path: 'everyoneAt', message: 'must be a local time such as "2026-11-24T09:00"' },
    ]);
    expect(issuesOf({ ...BLACK_FRIDAY, target: { type: 'product', id: 'shoes' } })).toEqual([
      { path: 'target.id', message: "'shoes' is not a Shopify id" },
    ]);
    expect(issuesOf({ ...BLACK_FRIDAY, target: { type: 'page', id: '1' } })[0]!.path).toBe(
      'target.type',
    );
  });

  it('a repeated tier, and a shop without tiers', () => {
    expect(
      issuesOf({
        ...BLACK_FRIDAY,
        stages: [
          { tier: 'gold', opensAt: '2026-11-20T09:00' },
          { tier: 'gold', opensAt: '2026-11-20T09:00' },
        ],
      }),
    ).toEqual([{ path: 'stages[1].tier', message: "'gold' is already stages[0]" }]);
    expect(() => parseEarlyAccessWindow(BLACK_FRIDAY, { timeZone: 'UTC', tiers: null })).toThrow(
      /define tiers first/,
    );
  });

  it('accepts a good window, stages ordered, times normalised with seconds', () => {
    const window = parseEarlyAccessWindow(BLACK_FRIDAY, { timeZone: 'UTC', tiers });
    expect(window.stages.map((s) => [s.tier, s.opensAtLocal])).toEqual([
      ['gold', '2026-11-20T09:00:00'],
      ['silver', '2026-11-22T09:00:00'],
    ]);
    expect(window.everyoneAt).toBe(Date.parse('2026-11-24T09:00:00Z'));
  });
});

describe('earlyAccessDecision: before, during and after, for each tier and for none', () => {
  const window = parseEarlyAccessWindow(BLACK_FRIDAY, { timeZone: 'UTC', tiers });
  const at = (iso: string) => Date.parse(iso);
  const GOLD_OPENS = at('2026-11-20T09:00:00Z');
  const SILVER_OPENS = at('2026-11-22T09:00:00Z');
  const EVERYONE = at('2026-11-24T09:00:00Z');
  const cases: [string, number | null, string, boolean, number | null, string][] = [
    // shopper, rank, when, allowed, opensAt for them, phase
    ['platinum', rank('platinum'), '2026-11-20T08:59:59Z', false, GOLD_OPENS, 'before'],
    ['platinum', rank('platinum'), '2026-11-20T09:00:00Z', true, null, 'early'],
    ['gold', rank('gold'), '2026-11-19T12:00:00Z', false, GOLD_OPENS, 'before'],
    ['gold', rank('gold'), '2026-11-20T09:00:00Z', true, null, 'early'],
    ['silver', rank('silver'), '2026-11-21T12:00:00Z', false, SILVER_OPENS, 'early'],
    ['silver', rank('silver'), '2026-11-22T09:00:00Z', true, null, 'early'],
    ['bronze', rank('bronze'), '2026-11-23T12:00:00Z', false, EVERYONE, 'early'],
    ['bronze', rank('bronze'), '2026-11-24T09:00:00Z', true, null, 'open'],
    ['no tier', null, '2026-11-19T12:00:00Z', false, EVERYONE, 'before'],
    ['no tier', null, '2026-11-24T08:59:59Z', false, EVERYONE, 'early'],
    ['no tier', null, '2026-11-24T09:00:00Z', true, null, 'open'],
    ['gold', rank('gold'), '2026-12-01T00:00:00Z', true, null, 'open'],
  ];
  it.each(cases)('%s at %s', (_who, tierRank, when, allowed, opensAt, phase) => {
    expect(earlyAccessDecision(window, tierRank, at(when))).toEqual({ allowed, opensAt, phase });
  });

  it('several windows: allowed only when every one allows, from the latest opening', () => {
    const later = parseEarlyAccessWindow(
      { ...BLACK_FRIDAY, stages: [{ tier: 'gold', opensAt: '2026-11-21T09:00' }] },
      { timeZone: 'UTC', tiers },
    );
    const now = at('2026-11-20T12:00:00Z');
    const gold = rank('gold');
    expect(
      combinedDecision([
        earlyAccessDecision(window, gold, now),
        earlyAccessDecision(later, gold, now),
      ]),
    ).toEqual({ allowed: false, opensAt: at('2026-11-21T09:00:00Z'), phase: 'before' });
    expect(combinedDecision([])).toEqual({ allowed: true, opensAt: null, phase: 'open' });
    expect(combinedDecision([earlyAccessDecision(window, gold, now)])).toEqual({
      allowed: true,
      opensAt: null,
      phase: 'early',
    });
  });
});

describe('a window in New York across the end of daylight saving time (Nov 1, 2026)', () => {
  const window = parseEarlyAccessWindow(
    {
      ...BLACK_FRIDAY,
      stages: [{ tier: 'gold', opensAt: '2026-10-31T09:00' }],
      everyoneAt: '2026-11-02T09:00',
    },
    { timeZone: NY, tiers },
  );

  it('each boundary is 09:00 on the shop’s clock: 13:00Z before the change, 14:00Z after', () => {
    expect(window.stages[0]!.opensAt).toBe(Date.parse('2026-10-31T13:00:00Z'));
    expect(window.everyoneAt).toBe(Date.parse('2026-11-02T14:00:00Z'));
    // 45 hours apart by the wall clock, 49 in real time: the night of the change has 25.
    expect((window.everyoneAt - window.stages[0]!.opensAt) / 3_600_000).toBe(49);
    expect(localTimeText(window.everyoneAt, NY)).toBe('2026-11-02T09:00:00');
  });

  it('decides by those instants: 13:30Z on Nov 2 is 08:30 in New York, not yet everyone', () => {
    const bronze = rank('bronze');
    expect(earlyAccessDecision(window, bronze, Date.parse('2026-11-02T13:30:00Z'))).toEqual({
      allowed: false,
      opensAt: Date.parse('2026-11-02T14:00:00Z'),
      phase: 'early',
    });
    expect(earlyAccessDecision(window, bronze, Date.parse('2026-11-02T14:00:00Z')).allowed).toBe(
      true,
    );
    expect(
      earlyAccessDecision(window, rank('gold'), Date.parse('2026-10-31T12:59:59Z')).allowed,
    ).toBe(false);
    expect(
      earlyAccessDecision(window, rank('gold'), Date.parse('2026-10-31T13:00:00Z')).allowed,
    ).toBe(true);
  });

  it('a wall time in the spring-forward gap opens when the gap ends (02:30 → 03:00 EDT)', () => {
    const spring = parseEarlyAccessWindow(
      {
        ...BLACK_FRIDAY,
        stages: [{ tier: 'gold', opensAt: '2026-03-08T02:30' }],
        everyoneAt: '2026-03-09T09:00',
      },
      { timeZone: NY, tiers },
    );
    // 02:00 EST jumps to 03:00 EDT; 02:30 never happens, so the stage opens the moment the gap
    // ends, 03:00 EDT = 07:00Z (loyalty/time.ts zonedInstant), never later than the merchant meant.
    expect(spring.stages[0]!.opensAt).toBe(Date.parse('2026-03-08T07:00:00Z'));
    expect(localTimeText(spring.stages[0]!.opensAt, NY)).toBe('2026-03-08T03:00:00');
  });
});

describe('what Shopify holds', () => {
  const window = parseEarlyAccessWindow(BLACK_FRIDAY, { timeZone: NY, tiers });

  it('the product mirror spells out the tiers of each stage, local times and epoch seconds', () => {
    const mirror = productMirror([{ id: 12, window }], tiers);
    expect(mirror).toEqual({
      v: 1,
      windows: [
        {
          id: 12,
          name: 'Black Friday preview',
          stages: [
            {
              tiers: ['gold', 'platinum'],
              at: '2026-11-20T09:00:00',
              epoch: Date.parse('2026-11-20T14:00:00Z') / 1000,
            },
            {
              tiers: ['silver', 'gold', 'platinum'],
              at: '2026-11-22T09:00:00',
              epoch: Date.parse('2026-11-22T14:00:00Z') / 1000,
            },
          ],
          everyone: { at: '2026-11-24T09:00:00', epoch: Date.parse('2026-11-24T14:00:00Z') / 1000 },
        },
      ],
    });
    // What the metafield holds is this JSON text, and reads back the same.
    expect(JSON.parse(JSON.stringify(mirror))).toEqual(mirror);
  });

  it('the Function’s slots: upcoming boundaries, soonest 16, the rest filled with a past time', () => {
    const slots = functionTimeSlots([window], Date.parse('2026-11-21T00:00:00Z'));
    expect(Object.keys(slots)).toHaveLength(FUNCTION_TIME_SLOTS);
    // The gold stage passed less than a day ago: kept (clock skew); the rest ahead.
    expect([slots.t0, slots.t1, slots.t2, slots.t3]).toEqual([
      '2026-11-20T09:00:00',
      '2026-11-22T09:00:00',
      '2026-11-24T09:00:00',
      FUNCTION_PAST_TIME,
    ]);
    const later = functionTimeSlots([window], Date.parse('2026-11-23T00:00:00Z'));
    expect(later.t0).toBe('2026-11-22T09:00:00');
    expect(later.t2).toBe(FUNCTION_PAST_TIME);
  });

  it('a saved window compiled again drops the stage of a tier that no longer exists', () => {
    const withoutGold = parseTierProgram(
      { ...FOUR_TIERS, tiers: FOUR_TIERS.tiers.filter((t) => t.key !== 'gold') },
      { shopCurrency: 'USD' },
    );
    const saved = compileSavedWindow(BLACK_FRIDAY, { timeZone: 'UTC', tiers: withoutGold });
    expect(saved.stages.map((s) => s.tier)).toEqual(['silver']);
    expect(saved.everyoneAt).toBe(Date.parse('2026-11-24T09:00:00Z'));
  });
});
