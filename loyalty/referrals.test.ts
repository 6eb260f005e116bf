import { describe, expect, it } from 'vitest';
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  DEFAULT_RULE_ACTIONS,
  friendCodeOf,
  generateReferralCode,
  parseReferralProgram,
  ReferralProgramError,
  referralReversal,
  referralVerdict,
  type ReferralFacts,
  type ReferralProgramDefinition,
} from './referrals';

const USD = { shopCurrency: 'USD' };
const base: ReferralProgramDefinition = {
  enabled: true,
  currency: 'USD',
  friendDiscount: { percentage: 10 },
  referrerReward: { points: 500 },
};

function issuesOf(json: unknown, options = USD) {
  try {
    parseReferralProgram(json, options);
  } catch (error) {
    if (error instanceof ReferralProgramError) return error.issues;
    throw error;
  }
  throw new Error('expected the program to be refused');
}

describe('parseReferralProgram', () => {
  it('fills in every default and stores the normalised definition', () => {
    const program = parseReferralProgram(base, USD);
    expect(program).toMatchObject({
      enabled: true,
      currency: 'USD',
      friendDiscount: { kind: 'percentage', percentage: 10 },
      friendMinimumOrderMinor: null,
      referrerPoints: 500,
      minimumOrderMinor: 0,
      reversalWindowDays: 30,
      referrerLimit: { count: 10, periodDays: 30 },
      ipLimit: { count: 5, periodDays: 1 },
      rules: DEFAULT_RULE_ACTIONS,
      codePrefix: 'FRIEND-',
    });
    expect(program.definition).toEqual({
      ...base,
      friendMinimumOrder: null,
      minimumOrder: '0.00',
      reversalWindowDays: 30,
      referrerLimit: { count: 10, periodDays: 30 },
      ipLimit: { count: 5, periodDays: 1 },
      rules: DEFAULT_RULE_ACTIONS,
      codePrefix: 'FRIEND-',
    });
    // The stored definition compiles to the same program: a version reads back as it was written.
    expect(parseReferralProgram(program.definition, USD)).toEqual(program);
  });

  it('reads amounts in the shop currency and keeps a rule override beside the defaults', () => {
    const program = parseReferralProgram(
      {
        ...base,
        friendDiscount: { amount: '10' },
        friendMinimumOrder: '50.00',
        minimumOrder: '25.5',
        rules: { same_address: 'reject', existing_customer: undefined },
        codePrefix: '',
      },
      USD,
    );
    expect(program.friendDiscount).toEqual({ kind: 'amount', amountMinor: 1000 });
    expect(program.friendMinimumOrderMinor).toBe(5000);
    expect(program.minimumOrderMinor).toBe(2550);
    expect(program.definition.minimumOrder).toBe('25.50');
    expect(program.rules).toEqual({ ...DEFAULT_RULE_ACTIONS, same_address: 'reject' });
    expect(program.codePrefix).toBe('');
    expect(
      parseReferralProgram({ ...base, currency: 'JPY' }, { shopCurrency: 'JPY' }).currency,
    ).toBe('JPY');
  });

  it('lists every problem with its path', () => {
    expect(
      issuesOf({
        enabled: 'yes',
        currency: 'EUR',
        friendDiscount: { percentage: 0 },
        referrerReward: { points: 1.5 },
        reversalWindowDays: -1,
        referrerLimit: { count: 0, periodDays: 30 },
        ipLimit: 'five',
        rules: { same_email: 'ignore', same_dog: 'hold' },
        codePrefix: 'friend-',
        bonus: 1,
      }),
    ).toEqual(
      expect.arrayContaining([
        { path: 'enabled', message: 'must be true or false' },
        { path: 'friendDiscount.percentage', message: 'must be at least 1' },
        { path: 'referrerReward.points', message: 'must be a whole number' },
        { path: 'reversalWindowDays', message: 'must not be negative' },
        { path: 'referrerLimit.count', message: 'must be at least 1' },
        { path: 'ipLimit', message: 'must be an object such as {"count": 10, "periodDays": 30}' },
        { path: 'rules.same_email', message: 'must be "hold" or "reject"' },
        { path: 'rules.same_dog', message: 'is not a known field' },
        { path: 'bonus', message: 'is not a known field' },
        {
          path: 'currency',
          message: "must be the shop's currency (USD): orders are counted in it",
        },
        {
          path: 'codePrefix',
          message:
            'must be empty or 1–16 upper-case letters, digits, "-" or "_", starting with a letter or digit',
        },
      ]),
    );
    expect(issuesOf({ ...base, friendDiscount: 'ten' })).toEqual([
      { path: 'friendDiscount', message: 'must be {"percentage": 10} or {"amount": "10.00"}' },
    ]);
    expect(issuesOf({ ...base, currency: 'XYZ' })).toEqual([
      { path: 'currency', message: "'XYZ' is not an ISO 4217 currency code" },
    ]);
    expect(issuesOf({ ...base, minimumOrder: '12.345' })).toEqual([
      { path: 'minimumOrder', message: expect.stringMatching(/^'12\.345' /) },
    ]);
    expect(issuesOf({ ...base, friendDiscount: { amount: '0' } })).toEqual([
      { path: 'friendDiscount.amount', message: "'0' must be more than zero" },
    ]);
    expect(
      issuesOf({ ...base, friendDiscount: { amount: '60.00' }, friendMinimumOrder: '50.00' }),
    ).toEqual([
      {
        path: 'friendDiscount.amount',
        message: "must not exceed the friend's minimum order (50.00)",
      },
    ]);
    expect(issuesOf(null)).toEqual(
      expect.arrayContaining([{ path: '', message: expect.any(String) }]),
    );
    expect(issuesOf({})).toEqual(
      expect.arrayContaining([
        { path: 'enabled', message: 'must be true or false' },
        { path: 'referrerReward', message: 'must be an object such as {"points": 500}' },
      ]),
    );
  });

  it('says which program is wrong in its message', () => {
    expect(() => parseReferralProgram({ ...base, reversalWindowDays: 400 }, USD)).toThrow(
      /invalid referral program:\n {2}- reversalWindowDays: must be at most 365 days/,
    );
  });
});

describe('codes', () => {
  it('makes codes of CODE_LENGTH characters of the alphabet', () => {
    const code = generateReferralCode(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 30, 31, 99]));
    // Byte i is character i % 31; the bytes after the eighth character are not read.
    expect(code).toBe('2345678Z');
    expect(code).toHaveLength(CODE_LENGTH);
    expect(generateReferralCode(new Uint8Array(16).fill(30))).toBe('ZZZZZZZZ');
  });

  it('draws every character equally often: bytes that would favour some are skipped', () => {
    // Every byte value once: 248 usable ones (8 of each character), the 8 above skipped.
    const counts = new Map<string, number>();
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let start = 0; start + CODE_LENGTH <= 248; start += CODE_LENGTH) {
      const code = generateReferralCode(bytes.subarray(start, start + 16));
      for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...CODE_ALPHABET].sort().join(''));
    expect(new Set(counts.values())).toEqual(new Set([8]));
    expect(generateReferralCode(Uint8Array.from([248, 249, 255, 0, 1, 2, 3, 4, 5, 6, 7]))).toBe(
      '23456789',
    );
  });

  it('refuses too few usable random bytes', () => {
    expect(() => generateReferralCode(new Uint8Array(7))).toThrow(/needs more random bytes/);
    expect(() => generateReferralCode(new Uint8Array(16).fill(250))).toThrow(
      /needs more random bytes \(got 16\)/,
    );
  });

  it('makes the friend code of a member code under the prefix', () => {
    expect(friendCodeOf('K7M2Q9XH', 'FRIEND-')).toBe('FRIEND-K7M2Q9XH');
    expect(friendCodeOf('K7M2Q9XH', '')).toBe('K7M2Q9XH');
  });
});

describe('referralVerdict', () => {
  const program = parseReferralProgram(
    {
      ...base,
      minimumOrder: '20.00',
      referrerLimit: { count: 3, periodDays: 30 },
      ipLimit: { count: 2, periodDays: 1 },
    },
    USD,
  );
  const clean: ReferralFacts = {
    referrer: { customerId: 1, emails: ['e-ref'], addresses: ['a-ref'], phones: ['p-ref'] },
    friend: { customerId: 2, emails: ['e-friend'], addresses: ['a-friend'], phones: ['p-friend'] },
    friendEarlierOrders: 0,
    friendReferredBefore: false,
    orderAmountMinor: 5000,
    referrerRecentReferrals: 0,
    ipRecentUses: 0,
  };
  const verdict = (change: Partial<ReferralFacts>, p = program) =>
    referralVerdict(p, { ...clean, ...change });
  const friend = (change: Partial<ReferralFacts['friend']>) => ({
    friend: { ...clean.friend, ...change },
  });

  it('rewards a clean referral', () => {
    expect(verdict({})).toEqual({ status: 'rewarded', reasons: [] });
    expect(verdict({ ipRecentUses: null })).toEqual({ status: 'rewarded', reasons: [] });
  });

  it('applies each rule with its default action and a reason', () => {
    const cases: [Partial<ReferralFacts>, string, string, RegExp][] = [
      [friend({ customerId: 1 }), 'same_customer', 'reject', /friend is the referrer/],
      [friend({ emails: ['x', 'e-ref'] }), 'same_email', 'reject', /mailbox/],
      [friend({ addresses: ['a-ref'] }), 'same_address', 'hold', /address the referrer uses/],
      [friend({ phones: ['p-ref'] }), 'same_phone', 'hold', /phone number the referrer uses/],
      [{ friendEarlierOrders: 1 }, 'existing_customer', 'reject', /had 1 earlier order$/],
      [{ friendEarlierOrders: 3 }, 'existing_customer', 'reject', /had 3 earlier orders$/],
      [
        { referrerRecentReferrals: 3 },
        'referrer_limit',
        'hold',
        /3 referrals in 30 days \(limit 3\)/,
      ],
      [{ ipRecentUses: 2 }, 'ip_limit', 'hold', /^2 referral landings .* in 1 days \(limit 2\)/],
    ];
    for (const [change, rule, action, detail] of cases) {
      const result = verdict(change);
      expect(result.status, rule).toBe(action === 'reject' ? 'rejected' : 'held');
      expect(result.reasons, rule).toEqual([
        { rule, action, detail: expect.stringMatching(detail) },
      ]);
    }
  });

  it('lets the limits through up to their count', () => {
    expect(verdict({ referrerRecentReferrals: 2, ipRecentUses: 1 }).status).toBe('rewarded');
  });

  it('does not compare contact details of a friend who is the referrer: one reason is enough', () => {
    expect(
      verdict(friend({ customerId: 1, emails: ['e-ref'], phones: ['p-ref'] })).reasons,
    ).toEqual([{ rule: 'same_customer', action: 'reject', detail: 'the friend is the referrer' }]);
    // A guest friend (no account) is compared by contact details only.
    expect(
      verdict(friend({ customerId: null, emails: ['e-ref'] })).reasons.map((r) => r.rule),
    ).toEqual(['same_email']);
  });

  it('lets a rejection outweigh any hold, and lists every reason, rejections first', () => {
    const result = verdict({
      ...friend({ addresses: ['a-ref'], emails: ['e-ref'] }),
      referrerRecentReferrals: 5,
    });
    expect(result.status).toBe('rejected');
    expect(result.reasons.map((r) => [r.rule, r.action])).toEqual([
      ['same_email', 'reject'],
      ['same_address', 'hold'],
      ['referrer_limit', 'hold'],
    ]);
  });

  it('follows the program’s actions for each rule', () => {
    const strict = parseReferralProgram(
      { ...base, rules: { same_address: 'reject', existing_customer: 'hold' } },
      USD,
    );
    expect(verdict(friend({ addresses: ['a-ref'] }), strict).status).toBe('rejected');
    expect(verdict({ friendEarlierOrders: 2 }, strict)).toMatchObject({
      status: 'held',
      reasons: [{ rule: 'existing_customer', action: 'hold' }],
    });
  });

  it('rejects whatever the rules say when the program is off, the order is small or the friend was referred', () => {
    const off = parseReferralProgram({ ...base, enabled: false }, USD);
    expect(verdict({}, off)).toEqual({
      status: 'rejected',
      reasons: [
        {
          rule: 'program_disabled',
          action: 'reject',
          detail: 'the referral program was off when the order was paid',
        },
      ],
    });
    expect(verdict({ orderAmountMinor: 1999 })).toEqual({
      status: 'rejected',
      reasons: [
        {
          rule: 'below_minimum',
          action: 'reject',
          detail: "the order's $19.99 is below the $20.00 minimum",
        },
      ],
    });
    expect(verdict({ orderAmountMinor: 2000 }).status).toBe('rewarded');
    expect(verdict({ friendReferredBefore: true, ipRecentUses: 9 })).toMatchObject({
      status: 'rejected',
      reasons: [
        { rule: 'not_first_order', action: 'reject' },
        { rule: 'ip_limit', action: 'hold' },
      ],
    });
  });
});

describe('referralReversal', () => {
  const program = parseReferralProgram(
    { ...base, minimumOrder: '50.00', reversalWindowDays: 30 },
    USD,
  );
  const DAY = 86_400_000;
  const paidAt = Date.UTC(2026, 2, 14, 12);
  const order = { paidAt, amountMinor: 12_000, refunds: [], cancelledAt: null };

  it('keeps the reward of an order neither refunded nor cancelled', () => {
    expect(referralReversal(program, order)).toBeNull();
  });

  it('takes it back for a cancellation up to the last instant of the window, not after', () => {
    expect(referralReversal(program, { ...order, cancelledAt: paidAt + 30 * DAY })).toEqual({
      reason: 'the order was cancelled',
      at: paidAt + 30 * DAY,
      cancelled: true,
    });
    expect(referralReversal(program, { ...order, cancelledAt: paidAt + 30 * DAY + 1 })).toBeNull();
  });

  it('takes it back for a full refund, or one leaving less than the minimum, within the window', () => {
    const refund = (merchandiseMinor: number, at: number) => ({ merchandiseMinor, at });
    expect(
      referralReversal(program, { ...order, refunds: [refund(12_000, paidAt + DAY)] }),
    ).toEqual({ reason: 'the order was refunded', at: paidAt + DAY, cancelled: false });
    expect(
      referralReversal(program, { ...order, refunds: [refund(7_001, paidAt + 30 * DAY)] }),
    ).toEqual({
      reason: 'the order was refunded to $49.99, below the minimum',
      at: paidAt + 30 * DAY,
      cancelled: false,
    });
    // $50.00 left is still the minimum: kept.
    expect(
      referralReversal(program, { ...order, refunds: [refund(7_000, paidAt + DAY)] }),
    ).toBeNull();
    expect(
      referralReversal(program, { ...order, refunds: [refund(12_000, paidAt + 30 * DAY + 1)] }),
    ).toBeNull();
  });

  it('decides by the refund that took the order below the minimum, whatever order they came in', () => {
    const inWindow = { merchandiseMinor: 12_000, at: paidAt + 2 * DAY };
    const late = { merchandiseMinor: 0, at: paidAt + 40 * DAY };
    const expected = { reason: 'the order was refunded', at: paidAt + 2 * DAY, cancelled: false };
    expect(referralReversal(program, { ...order, refunds: [inWindow, late] })).toEqual(expected);
    expect(referralReversal(program, { ...order, refunds: [late, inWindow] })).toEqual(expected);
    // Partly refunded in the window, below the minimum only after it: kept.
    const partly = { merchandiseMinor: 5_000, at: paidAt + DAY };
    const rest = { merchandiseMinor: 7_000, at: paidAt + 31 * DAY };
    expect(referralReversal(program, { ...order, refunds: [rest, partly] })).toBeNull();
  });

  it('takes the earlier of a cancellation and a refund below the minimum', () => {
    expect(
      referralReversal(program, {
        ...order,
        cancelledAt: paidAt + 45 * DAY,
        refunds: [{ merchandiseMinor: 12_000, at: paidAt + 3 * DAY }],
      }),
    ).toEqual({ reason: 'the order was refunded', at: paidAt + 3 * DAY, cancelled: false });
  });

  it('has no window to speak of at zero days: only what happens at payment counts', () => {
    const now = parseReferralProgram({ ...base, reversalWindowDays: 0 }, USD);
    expect(referralReversal(now, { ...order, cancelledAt: paidAt })).not.toBeNull();
    expect(referralReversal(now, { ...order, cancelledAt: paidAt + 1 })).toBeNull();
  });
});
