// The checkout decision, line by line, from inputs built the way Shopify builds them (helpers/input.ts):
// mirrors and time slots from the app's own code, slot answers from the shop's clock.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  combinedDecision,
  earlyAccessDecision,
  localTimeText,
  type EarlyAccessWindowDefinition,
} from '../../../loyalty/early-access';
import { tierByKey } from '../../../loyalty/tiers';
import { cartValidationsGenerateRun, formatOpening, readMirror } from '../src/run.js';
import {
  BLACK_FRIDAY,
  cartInput,
  compile,
  instant,
  mirrorOf,
  slotsAt,
  TIERS,
  type LineSpec,
} from './helpers/input';

const blackFriday = compile(BLACK_FRIDAY);
const mirror = mirrorOf(blackFriday);

/** The errors for one early-access line, at `now`, for `tier`, with the slots the app writes. */
function errorsAt(now: string, tier: string | null, lines: LineSpec[] = [{ mirror }]) {
  const input = cartInput({ now, slots: slotsAt(now, [blackFriday]) }, lines, { tier });
  const result = cartValidationsGenerateRun(input);
  expect(result.operations).toHaveLength(1);
  return result.operations[0]!.validationAdd!.errors;
}

describe('a Gold buyer', () => {
  test('before the window opens: refused, told when it opens for them', () => {
    expect(errorsAt('2026-11-19T18:00:00', 'gold')).toEqual([
      {
        message: 'Aurora Jacket is not on sale yet: it opens on Nov 20, 09:00.',
        target: '$.cart.lines[0].quantity',
      },
    ]);
  });

  test('one minute before and one minute after the Gold stage opens', () => {
    expect(errorsAt('2026-11-20T08:59:00', 'gold')).toHaveLength(1);
    expect(errorsAt('2026-11-20T09:01:00', 'gold')).toEqual([]);
  });

  test('during early access and after it: allowed', () => {
    expect(errorsAt('2026-11-22T12:00:00', 'gold')).toEqual([]);
    expect(errorsAt('2026-11-25T12:00:00', 'gold')).toEqual([]);
  });

  test('a Platinum buyer is admitted by the Gold stage (the mirror spells out "and above")', () => {
    expect(errorsAt('2026-11-21T12:00:00', 'platinum')).toEqual([]);
  });
});

describe('a Bronze buyer', () => {
  test('during early access: refused until everyone may buy', () => {
    expect(errorsAt('2026-11-21T12:00:00', 'bronze')).toEqual([
      {
        message:
          'Aurora Jacket is in early access for Gold and Platinum members until Nov 24, 09:00.',
        target: '$.cart.lines[0].quantity',
      },
    ]);
  });

  test('the message names tiers as the mirror does (the merchant may have renamed them)', () => {
    const renamed = JSON.parse(JSON.stringify(mirror).replaceAll('"Gold"', '"Gold Circle"'));
    expect(errorsAt('2026-11-21T12:00:00', 'bronze', [{ mirror: renamed }])).toEqual([
      expect.objectContaining({
        message:
          'Aurora Jacket is in early access for Gold Circle and Platinum members until Nov 24, 09:00.',
      }),
    ]);
  });

  test('from the moment everyone may buy: allowed', () => {
    expect(errorsAt('2026-11-24T08:59:00', 'bronze')).toHaveLength(1);
    expect(errorsAt('2026-11-24T09:01:00', 'bronze')).toEqual([]);
  });
});

describe('a buyer without a tier', () => {
  const during = '2026-11-21T12:00:00';
  const slots = slotsAt(during, [blackFriday]);

  test.each([
    ['logged out (no customer)', { loggedOut: true } as const],
    ['no buyer identity at all', { noBuyerIdentity: true } as const],
    ['a customer with no tier metafield', { tier: null }],
    ['a customer whose tier metafield is empty', { tier: '  ' }],
  ])('%s: decided as everyone', (_, buyer) => {
    const result = cartValidationsGenerateRun(
      cartInput({ now: during, slots }, [{ mirror }], buyer),
    );
    expect(result.operations[0]!.validationAdd!.errors.map((e) => e.message)).toEqual([
      'Aurora Jacket is in early access for Gold and Platinum members until Nov 24, 09:00.',
    ]);
    const after = '2026-11-24T10:00:00';
    const open = cartInput(
      { now: after, slots: slotsAt(after, [blackFriday]) },
      [{ mirror }],
      buyer,
    );
    expect(cartValidationsGenerateRun(open).operations[0]!.validationAdd!.errors).toEqual([]);
  });

  test('a tier key the mirror does not name is no tier (a stale or deleted tier)', () => {
    expect(errorsAt('2026-11-21T12:00:00', 'diamond')).toHaveLength(1);
  });
});

describe('lines without early access', () => {
  test('a product without the metafield, a custom line and an empty mirror are never refused', () => {
    const now = '2026-11-21T12:00:00';
    const errors = errorsAt(now, null, [
      { title: 'Plain Tee' },
      { custom: true },
      { title: 'Scarf', mirror: { v: 1, windows: [] } },
      { title: 'Aurora Jacket', mirror, quantity: 2 },
    ]);
    expect(errors).toEqual([
      {
        message:
          'Aurora Jacket is in early access for Gold and Platinum members until Nov 24, 09:00.',
        target: '$.cart.lines[3].quantity',
      },
    ]);
  });

  test('two lines of the same early-access product: an error on each', () => {
    const errors = errorsAt('2026-11-21T12:00:00', 'silver', [{ mirror }, { mirror }]);
    expect(errors.map((e) => e.target)).toEqual([
      '$.cart.lines[0].quantity',
      '$.cart.lines[1].quantity',
    ]);
  });
});

describe('stages for several tiers', () => {
  const staged = compile({
    name: 'Winter drop',
    target: { type: 'product', id: '1002' },
    stages: [
      { tier: 'platinum', opensAt: '2026-12-01T09:00' },
      { tier: 'gold', opensAt: '2026-12-02T09:00' },
      { tier: 'silver', opensAt: '2026-12-03T09:00' },
    ],
    everyoneAt: '2026-12-05T09:00',
  });
  const winter = mirrorOf(staged);
  const at = (now: string, tier: string | null) =>
    cartValidationsGenerateRun(
      cartInput({ now, slots: slotsAt(now, [staged]) }, [{ title: 'Parka', mirror: winter }], {
        tier,
      }),
    ).operations[0]!.validationAdd!.errors.map((e) => e.message);

  test('each tier is told its own opening, and who may buy meanwhile', () => {
    const now = '2026-12-01T12:00:00';
    expect(at(now, 'platinum')).toEqual([]);
    expect(at(now, 'gold')).toEqual([
      'Parka is in early access for Platinum members until Dec 2, 09:00.',
    ]);
    expect(at(now, 'silver')).toEqual([
      'Parka is in early access for Platinum members until Dec 3, 09:00.',
    ]);
    expect(at('2026-12-03T12:00:00', 'bronze')).toEqual([
      'Parka is in early access for Silver, Gold and Platinum members until Dec 5, 09:00.',
    ]);
    expect(at('2026-12-03T12:00:00', 'silver')).toEqual([]);
  });
});

describe('several windows on one product', () => {
  // Each window must admit the buyer; the latest opening is when they may buy.
  const preview = blackFriday;
  const cyber = compile({
    name: 'Cyber Monday',
    target: { type: 'collection', id: '77' },
    stages: [{ tier: 'gold', opensAt: '2026-11-23T09:00' }],
    everyoneAt: '2026-11-26T09:00',
  });
  const both = mirrorOf(preview, cyber);
  const at = (now: string, tier: string | null) =>
    cartValidationsGenerateRun(
      cartInput({ now, slots: slotsAt(now, [preview, cyber]) }, [{ mirror: both }], { tier }),
    ).operations[0]!.validationAdd!.errors.map((e) => e.message);

  test('a Gold buyer waits for the later window', () => {
    expect(at('2026-11-21T12:00:00', 'gold')).toEqual([
      'Aurora Jacket is not on sale yet: it opens on Nov 23, 09:00.',
    ]);
    expect(at('2026-11-23T12:00:00', 'gold')).toEqual([]);
  });

  test('refused by both: told the later opening', () => {
    // Nobody may buy yet on Nov 21: Gold waits for Cyber Monday's stage.
    expect(at('2026-11-21T12:00:00', 'bronze')).toEqual([
      'Aurora Jacket is not on sale yet: it opens on Nov 26, 09:00.',
    ]);
    expect(at('2026-11-19T12:00:00', 'gold')).toEqual([
      'Aurora Jacket is not on sale yet: it opens on Nov 23, 09:00.',
    ]);
  });

  test('who may buy meanwhile: only the tiers every window admits', () => {
    const silverEarly = compile({
      name: 'Members week',
      target: { type: 'collection', id: '78' },
      stages: [
        { tier: 'gold', opensAt: '2026-11-21T09:00' },
        { tier: 'silver', opensAt: '2026-11-22T09:00' },
      ],
      everyoneAt: '2026-11-26T09:00',
    });
    const now = '2026-11-23T12:00:00';
    const input = cartInput(
      { now, slots: slotsAt(now, [preview, silverEarly]) },
      [{ mirror: mirrorOf(preview, silverEarly) }],
      { tier: 'bronze' },
    );
    // Members week admits Silver, but the preview does not until Nov 24.
    expect(cartValidationsGenerateRun(input).operations[0]!.validationAdd!.errors[0]!.message).toBe(
      'Aurora Jacket is in early access for Gold and Platinum members until Nov 26, 09:00.',
    );
  });

  test('a Bronze buyer, allowed by the first window, still waits for the second', () => {
    expect(at('2026-11-25T12:00:00', 'bronze')).toEqual([
      'Aurora Jacket is in early access for Gold and Platinum members until Nov 26, 09:00.',
    ]);
    expect(at('2026-11-26T12:00:00', 'bronze')).toEqual([]);
  });
});

describe('a boundary in no time slot is judged by the date', () => {
  // More upcoming boundaries than slots, or the validation's metafield not written yet: the
  // Function knows only the shop's date for that boundary. Passed from the next day: refused for
  // the rest of its own day (fail closed), never admitted early.
  const noSlots = (now: string, tier: string | null) =>
    cartValidationsGenerateRun(cartInput({ now, slots: null }, [{ mirror }], { tier }))
      .operations[0]!.validationAdd!.errors;

  test('metafield missing: the day of the Gold stage is still closed, the next day open', () => {
    expect(noSlots('2026-11-19T23:00:00', 'gold')).toHaveLength(1);
    expect(noSlots('2026-11-20T18:00:00', 'gold')).toHaveLength(1);
    expect(noSlots('2026-11-21T00:01:00', 'gold')).toEqual([]);
    expect(noSlots('2026-11-24T18:00:00', 'bronze')).toHaveLength(1);
    expect(noSlots('2026-11-25T00:01:00', 'bronze')).toEqual([]);
  });

  test('slots that hold other boundaries only', () => {
    const other = compile({ ...BLACK_FRIDAY, everyoneAt: '2026-11-28T09:00' });
    const now = '2026-11-20T18:00:00';
    const slots = slotsAt(now, [other]);
    expect(Object.values(slots)).not.toContain('2026-11-24T09:00:00');
    const input = cartInput({ now, slots }, [{ mirror }], { tier: 'bronze' });
    // Nov 24 09:00 is not in a slot and the date is before it: refused.
    expect(cartValidationsGenerateRun(input).operations[0]!.validationAdd!.errors).toHaveLength(1);
    // The Gold stage (Nov 20 09:00) is in a slot: its answer, not the date, admits Gold today.
    const gold = cartInput({ now, slots }, [{ mirror }], { tier: 'gold' });
    expect(cartValidationsGenerateRun(gold).operations[0]!.validationAdd!.errors).toEqual([]);
  });

  test('a malformed slot metafield counts as no slots', () => {
    for (const slots of [['2026-11-20T09:00:00'], { t0: 'Nov 20' }, 'x'] as unknown[]) {
      const input = cartInput({ now: '2026-11-20T18:00:00', slots: null }, [{ mirror }], {
        tier: 'gold',
      });
      input.validation.timeSlots = { jsonValue: slots };
      expect(cartValidationsGenerateRun(input).operations[0]!.validationAdd!.errors).toHaveLength(
        1,
      );
    }
  });
});

describe('a mirror this Function cannot read lets the line through', () => {
  // Decided in docs/checkout-function.md: our bug must not stop the merchant's checkout; the
  // storefront and the proxy still apply early access.
  const now = '2026-11-21T12:00:00';
  const broken: [string, unknown][] = [
    ['a future version', { ...mirror, v: 2 }],
    ['no version', { windows: mirror.windows }],
    ['not an object', 'early access'],
    ['a list', [mirror]],
    ['windows not a list', { v: 1, windows: {} }],
    ['a window without everyone', { v: 1, windows: [{ ...mirror.windows[0], everyone: null }] }],
    [
      'a time with a space',
      {
        v: 1,
        windows: [{ ...mirror.windows[0], everyone: { at: '2026-11-24 09:00:00', epoch: 0 } }],
      },
    ],
    [
      'tiers not a list',
      {
        v: 1,
        windows: [
          {
            ...mirror.windows[0],
            stages: [{ tiers: 'gold', at: '2026-11-20T09:00:00', epoch: 0 }],
          },
        ],
      },
    ],
    [
      'a tier not a string',
      {
        v: 1,
        windows: [
          { ...mirror.windows[0], stages: [{ tiers: [3], at: '2026-11-20T09:00:00', epoch: 0 }] },
        ],
      },
    ],
  ];

  test.each(broken)('%s', (_, json) => {
    expect(readMirror(json)).toBeNull();
    // The readable mirror on the next line is still enforced.
    const errors = errorsAt(now, 'bronze', [{ title: 'Broken', mirror: json }, { mirror }]);
    expect(errors.map((e) => e.target)).toEqual(['$.cart.lines[1].quantity']);
  });

  test('the real mirror reads back as itself', () => {
    expect(readMirror(mirror)).toBe(mirror);
  });
});

describe('messages', () => {
  test('in French when the buyer checks out in French', () => {
    const now = '2026-11-21T12:00:00';
    const input = cartInput({ now, slots: slotsAt(now, [blackFriday]) }, [{ mirror }], {
      tier: 'bronze',
    });
    input.localization.language.isoCode = 'FR';
    expect(cartValidationsGenerateRun(input).operations[0]!.validationAdd!.errors[0]!.message).toBe(
      "Aurora Jacket est en accès anticipé pour les membres Gold et Platinum jusqu'au 24 nov. à 09:00.",
    );
    const before = cartInput(
      { now: '2026-11-19T12:00:00', slots: slotsAt('2026-11-19T12:00:00', [blackFriday]) },
      [{ mirror }],
      { tier: 'gold' },
      'FR',
    );
    expect(
      cartValidationsGenerateRun(before).operations[0]!.validationAdd!.errors[0]!.message,
    ).toBe("Aurora Jacket n'est pas encore en vente : ouverture le 20 nov. à 09:00.");
  });

  test('the year is shown when the opening is not in the current year', () => {
    expect(formatOpening('2027-01-05T09:30:00', '2026-12-28', 'en')).toBe('Jan 5, 2027, 09:30');
    expect(formatOpening('2027-01-05T09:30:00', '2026-12-28', 'fr')).toBe('5 janv. 2027 à 09:30');
    expect(formatOpening('2027-01-05T09:30:00', '2027-01-01', 'en')).toBe('Jan 5, 09:30');
  });

  test('a tier key reads as a name', () => {
    const vip = {
      v: 1,
      windows: [
        {
          id: 1,
          name: 'VIP',
          stages: [{ tiers: ['vip-plus'], at: '2026-11-20T09:00:00', epoch: 0 }],
          everyone: { at: '2026-11-24T09:00:00', epoch: 0 },
        },
      ],
    };
    expect(errorsAt('2026-11-21T12:00:00', 'gold', [{ mirror: vip }])[0]!.message).toBe(
      'Aurora Jacket is in early access for Vip plus members until Nov 24, 09:00.',
    );
  });
});

test('across a DST change the shop-local wall time decides (Paris, clocks back Oct 25 2026)', () => {
  const autumn = compile({
    name: 'Autumn',
    target: { type: 'product', id: '1003' },
    stages: [{ tier: 'gold', opensAt: '2026-10-24T09:00' }],
    everyoneAt: '2026-10-26T09:00',
  });
  const at = (now: string, tier: string) =>
    cartValidationsGenerateRun(
      cartInput({ now, slots: slotsAt(now, [autumn]) }, [{ mirror: mirrorOf(autumn) }], { tier }),
    ).operations[0]!.validationAdd!.errors.map((e) => e.message);
  expect(at('2026-10-25T12:00:00', 'gold')).toEqual([]);
  expect(at('2026-10-25T12:00:00', 'bronze')).toEqual([
    'Aurora Jacket is in early access for Gold and Platinum members until Oct 26, 09:00.',
  ]);
  expect(at('2026-10-26T09:30:00', 'bronze')).toEqual([]);
});

test('the Function decides as the app does (earlyAccessDecision), whatever the windows and clock', () => {
  // Random windows obeying the app's rules (a higher tier never waits longer), random buyers and
  // random moments over three weeks (New York, clear of DST changes); the shop's clock is checked
  // on a 7-minute offset from the half-hour boundaries, so never exactly on one.
  const timeZone = 'America/New_York';
  const start = instant('2026-11-05T00:00', timeZone);
  const halfHours = (n: number) => start + n * 30 * 60_000;
  const text = (ms: number) => localTimeText(ms, timeZone).slice(0, 16);
  const tierKeys = TIERS.tiers.map((t) => t.key);

  const windowArb = fc
    .record({
      tiers: fc.subarray(tierKeys, { minLength: 1 }),
      offsets: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 4, maxLength: 4 }),
      tail: fc.integer({ min: 1, max: 300 }),
    })
    .map(({ tiers, offsets, tail }) => {
      // Highest tier first, never later than a lower one.
      const ranked = [...tiers].reverse();
      const times = offsets.slice(0, ranked.length).sort((a, b) => a - b);
      const last = times[times.length - 1]!;
      const definition: EarlyAccessWindowDefinition = {
        name: 'Random',
        target: { type: 'product', id: '1' },
        stages: ranked.map((tier, i) => ({ tier, opensAt: text(halfHours(times[i]!)) })),
        everyoneAt: text(halfHours(last + tail)),
      };
      return compile(definition, timeZone);
    });

  fc.assert(
    fc.property(
      fc.array(windowArb, { minLength: 1, maxLength: 3 }),
      fc.option(fc.constantFrom(...tierKeys), { nil: null }),
      fc.integer({ min: 0, max: 21 * 48 }),
      (windows, tier, slot) => {
        const now = halfHours(slot) + 7 * 60_000;
        const rank = tierByKey(TIERS, tier)?.rank ?? null;
        const expected = combinedDecision(
          windows.map((w) => earlyAccessDecision(w, rank, now)),
        ).allowed;
        const local = localTimeText(now, timeZone);
        const input = cartInput(
          { now: local, slots: slotsAt(local, windows, timeZone) },
          [{ mirror: mirrorOf(...windows) }],
          { tier },
        );
        const errors = cartValidationsGenerateRun(input).operations[0]!.validationAdd!.errors;
        expect(errors.length === 0).toBe(expected);
      },
    ),
    { numRuns: 500 },
  );
});
