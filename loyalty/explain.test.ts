import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  explainEntry,
  formatMinorMoney,
  formatPoints,
  type ExplainableEntry,
  type StorefrontLocale,
} from './explain';
import { formatMoney } from './money';
import { settlementOrder } from '../tests/fixtures/settlement';
import { parseProgram, referenceProgram } from './program';
import { planOrderSettlement } from './settlement';

const NBSP = '\u00a0';
const NNBSP = '\u202f';
const en = { locale: 'en', shopCurrency: 'USD' } as const;
const fr = { locale: 'fr', shopCurrency: 'USD' } as const;

const order = settlementOrder();

/** The entries settlement really posts for $120.00, a $30.00 refund, then the cancellation. */
function settledEntries(): {
  award: ExplainableEntry;
  refund: ExplainableEntry;
  cancel: ExplainableEntry;
} {
  const plan = planOrderSettlement({
    order: { ...order, cancelledAt: new Date('2026-03-21T00:00:00Z') },
    testOrdersEarn: false,
    program: { version: 1, program: parseProgram(referenceProgram) },
    award: null,
    postedReversalKeys: new Set(),
    alreadyReversed: 0,
    refunds: [{ refundId: '5001', merchandiseMinor: 3_000, processedAt: new Date('2026-03-20') }],
  });
  const [refund, cancel] = plan.reversals;
  // Reversals store no order name: the history reads it from the order (or the award).
  return {
    award: { ...plan.award!, orderName: null },
    refund: { ...refund!, orderName: '#1001' },
    cancel: { ...cancel!, orderName: '#1001' },
  };
}

describe('explainEntry: what settlement posts', () => {
  it('explains an award from its recorded amount and the order name it recorded', () => {
    const { award } = settledEntries();
    expect(award.points).toBe(90);
    // The award records the order's name; the orders table's current name wins when given.
    expect(explainEntry(award, en)).toBe('Order #1001, $120.00 → 90 points');
    expect(explainEntry({ ...award, orderName: '#1001-R' }, en)).toBe(
      'Order #1001-R, $120.00 → 90 points',
    );
    expect(explainEntry({ ...award, orderName: '#1001' }, fr)).toBe(
      `Commande #1001, 120,00${NBSP}$US → 90 points`,
    );
  });

  it('explains refund and cancellation reversals with a true minus sign', () => {
    const { refund, cancel } = settledEntries();
    expect(refund.points).toBe(-22); // floor(90 × 30 / 120)
    expect(explainEntry(refund, en)).toBe('Refund on order #1001 → −22 points');
    expect(explainEntry(refund, fr)).toBe('Remboursement sur la commande #1001 → −22 points');
    expect(explainEntry(cancel, en)).toBe('Order #1001 cancelled → −68 points');
    expect(explainEntry(cancel, fr)).toBe('Commande #1001 annulée → −68 points');
    expect(explainEntry({ ...refund, orderName: null }, en)).toBe('Refund → −22 points');
    expect(explainEntry({ ...cancel, orderName: null }, en)).toBe('Order cancelled → −68 points');
  });
});

describe('explainEntry: other sources', () => {
  const entry = (source: string, points: number, inputs: Record<string, unknown> = {}) => ({
    source,
    points,
    inputs,
    orderName: null,
  });

  it('gives an adjustment its reason, cut when very long', () => {
    expect(
      explainEntry(entry('adjustment', 10, { reason: 'Goodwill  for a late\nparcel' }), en),
    ).toBe('Adjustment: Goodwill for a late parcel → 10 points');
    expect(explainEntry(entry('adjustment', -5, { reason: 'Doublon' }), fr)).toBe(
      `Ajustement${NBSP}: Doublon → −5 points`,
    );
    expect(explainEntry(entry('adjustment', -5, { reason: '   ' }), en)).toBe(
      'Adjustment → −5 points',
    );
    expect(explainEntry(entry('adjustment', 1, { reason: 42 }), en)).toBe('Adjustment → 1 point');
    const long = explainEntry(entry('adjustment', 3, { reason: 'x'.repeat(500) }), en);
    expect(long).toBe(`Adjustment: ${'x'.repeat(119)}… → 3 points`);
  });

  it('names the signup bonus (the rule the customers/create handler records)', () => {
    const signup = entry('bonus', 50, { rule: 'signup-bonus', signupBonus: 50 });
    expect(explainEntry(signup, en)).toBe('Welcome bonus → 50 points');
    expect(explainEntry(signup, fr)).toBe('Bonus de bienvenue → 50 points');
    expect(explainEntry(entry('bonus', 20, { reason: 'Birthday' }), en)).toBe(
      'Bonus: Birthday → 20 points',
    );
    expect(explainEntry(entry('bonus', 20), en)).toBe('Bonus → 20 points');
  });

  it('names the birthday, newsletter and social follow bonuses (docs/bonuses.md)', () => {
    const birthday = entry('bonus', 200, {
      rule: 'birthday',
      bonusVersion: 1,
      month: 2,
      day: 29,
      year: 2027,
    });
    expect(explainEntry(birthday, en)).toBe('Birthday bonus → 200 points');
    expect(explainEntry(birthday, fr)).toBe('Bonus d’anniversaire → 200 points');
    const newsletter = entry('bonus', 50, { rule: 'newsletter', bonusVersion: 1 });
    expect(explainEntry(newsletter, en)).toBe('Newsletter sign-up bonus → 50 points');
    expect(explainEntry(newsletter, fr)).toBe('Bonus d’inscription à la newsletter → 50 points');
    const follow = entry('bonus', 25, { rule: 'social-follow', network: 'instagram' });
    expect(explainEntry(follow, en)).toBe('Followed us on Instagram → 25 points');
    expect(explainEntry(follow, fr)).toBe('Vous nous suivez sur Instagram → 25 points');
    expect(explainEntry(entry('bonus', 25, { rule: 'social-follow', network: 'x' }), en)).toBe(
      'Followed us on X → 25 points',
    );
    // A network Laurel does not know is no name to print.
    expect(explainEntry(entry('bonus', 25, { rule: 'social-follow', network: '<b>' }), en)).toBe(
      'Bonus → 25 points',
    );
  });

  it('explains a purchase imported from a transactions file by its day', () => {
    const imported = entry('order', 90, {
      importedFrom: 'file',
      amountMinor: 12_000,
      currency: 'USD',
      date: '2026-03-01',
    });
    expect(explainEntry(imported, en)).toBe('Purchase on Mar 1, 2026, $120.00 → 90 points');
    expect(explainEntry(imported, fr)).toBe(`Achat du 1 mars 2026, 120,00${NBSP}$US → 90 points`);
    expect(
      explainEntry({ ...imported, inputs: { ...imported.inputs, date: '2026-02-30' } }, en),
    ).toBe('Purchase, $120.00 → 90 points');
  });

  it('says less, never something false, when inputs are missing or of the wrong type', () => {
    expect(explainEntry({ ...entry('order', 90), orderName: '#1001' }, en)).toBe(
      'Order #1001 → 90 points',
    );
    expect(explainEntry(entry('order', 90, { amountMinor: '12000', currency: 'USD' }), en)).toBe(
      'Order → 90 points',
    );
    expect(explainEntry(entry('order', 90, { amountMinor: 1.5 }), en)).toBe('Order → 90 points');
    // An unknown recorded currency falls back to the shop's.
    expect(explainEntry(entry('order', 1, { amountMinor: 150, currency: 'ZZZ' }), en)).toBe(
      'Order, $1.50 → 1 point',
    );
    expect(
      explainEntry(
        {
          source: 'order',
          points: 1,
          inputs: null as unknown as Record<string, unknown>,
          orderName: null,
        },
        en,
      ),
    ).toBe('Order → 1 point');
  });

  it('names the lots an expiry took, in both languages, counting those beyond three', () => {
    const lots = [
      { entryId: 1, points: 1200, earnedDay: '2025-03-03', source: 'order', orderName: '#1001' },
      { entryId: 2, points: 40, earnedDay: '2025-04-09', source: 'bonus' },
    ];
    expect(explainEntry(entry('expiry', -1240, { rule: 'expiry', lots }), en)).toBe(
      'Points expired: 1,200 earned Mar 3, 2025 (order #1001), 40 earned Apr 9, 2025 (bonus) → −1,240 points',
    );
    expect(explainEntry(entry('expiry', -1240, { rule: 'expiry', lots }), fr)).toBe(
      'Points expirés\u00a0: 1\u202f200 gagnés le 3 mars 2025 (commande #1001), 40 gagnés le 9 avr. 2025 (bonus) → −1\u202f240 points',
    );
    const many = [1, 2, 3, 4, 5].map((n) => ({
      entryId: n,
      points: 10,
      earnedDay: `2025-01-0${n}`,
      source: 'referral',
    }));
    expect(explainEntry(entry('expiry', -50, { rule: 'expiry', lots: many }), en)).toBe(
      'Points expired: 10 earned Jan 1, 2025 (referral), 10 earned Jan 2, 2025 (referral), 10 earned Jan 3, 2025 (referral) and 2 more → −50 points',
    );
  });

  it('has a generic sentence for sources added later, reading nothing from their inputs', () => {
    const secret = { reason: '{{ customer.email }}', note: 'internal' };
    expect(explainEntry(entry('redemption', -500, secret), en)).toBe(
      'Points redeemed → −500 points',
    );
    expect(explainEntry(entry('expiry', -20, secret), fr)).toBe('Points expirés → −20 points');
    expect(explainEntry(entry('referral', 100, secret), en)).toBe('Referral reward → 100 points');
    expect(explainEntry(entry('tier', 250, secret), fr)).toBe('Récompense de palier → 250 points');
    expect(explainEntry(entry('streak', 5, secret), en)).toBe('Points added → 5 points');
    expect(explainEntry(entry('clawback', -5, secret), fr)).toBe('Points retirés → −5 points');
  });

  it('says which friend’s order a referral reward came from, and why it was taken back', () => {
    const reward = { rule: 'referral-reward', referralId: 7, order: '#1002', shopifyOrderId: '42' };
    expect(explainEntry(entry('referral', 500, reward), en)).toBe(
      'Referred a friend: order #1002 → 500 points',
    );
    expect(explainEntry(entry('referral', 500, reward), fr)).toBe(
      'Ami parrainé\u00a0: commande #1002 → 500 points',
    );
    const reversal = (cause: string) => ({
      rule: 'referral-reversal',
      referralId: 7,
      order: '#1002',
      reason: 'the order was refunded to $4.00, below the minimum',
      cause,
    });
    expect(explainEntry(entry('referral', -500, reversal('order-refunded')), en)).toBe(
      'Referral reversed: order #1002 was refunded → −500 points',
    );
    expect(explainEntry(entry('referral', -500, reversal('order-cancelled')), en)).toBe(
      'Referral reversed: order #1002 was cancelled → −500 points',
    );
    expect(explainEntry(entry('referral', -500, reversal('order-refunded')), fr)).toBe(
      'Parrainage annulé\u00a0: la commande #1002 a été remboursée → −500 points',
    );
    expect(explainEntry(entry('referral', -500, reversal('order-cancelled')), fr)).toBe(
      'Parrainage annulé\u00a0: la commande #1002 a été annulée → −500 points',
    );
    // The order's current name wins over the recorded one; without either, the sentence is shorter.
    expect(
      explainEntry({ source: 'referral', points: 500, inputs: reward, orderName: '#1002-A' }, en),
    ).toBe('Referred a friend: order #1002-A → 500 points');
    expect(explainEntry(entry('referral', 500, { rule: 'referral-reward' }), en)).toBe(
      'Referred a friend → 500 points',
    );
    expect(
      explainEntry(entry('referral', -500, { rule: 'referral-reversal', cause: 'x' }), fr),
    ).toBe('Parrainage annulé → −500 points');
    expect(
      explainEntry(
        entry('referral', -5, { rule: 'referral-reversal', cause: 'order-refunded' }),
        en,
      ),
    ).toBe('Referral reversed: the order was refunded → −5 points');
  });

  it('names the reward redeemed, and why points came back, never the internal reason', () => {
    expect(explainEntry(entry('redemption', -500, { title: '$5 off your next order' }), en)).toBe(
      'Redeemed: $5 off your next order → −500 points',
    );
    expect(explainEntry(entry('redemption', -500, { title: 'Thé offert' }), fr)).toBe(
      'Échangés\u00a0: Thé offert → −500 points',
    );
    const returned = (cause: string, extra: Record<string, unknown> = {}) =>
      entry('redemption', 500, { cause, reason: 'HTTP 500 from shop-123', ...extra });
    expect(explainEntry(returned('not-created'), en)).toBe(
      'Points returned: the reward could not be created → 500 points',
    );
    expect(explainEntry(returned('expired'), fr)).toBe(
      'Points rendus\u00a0: la récompense a expiré sans être utilisée → 500 points',
    );
    expect(explainEntry(returned('order-cancelled', { orderName: '#1001' }), en)).toBe(
      'Points returned: order #1001 was cancelled → 500 points',
    );
    expect(explainEntry(returned('order-refunded', { orderName: '#1001' }), fr)).toBe(
      'Points rendus\u00a0: la commande #1001 a été remboursée → 500 points',
    );
  });
});

describe('formatPoints', () => {
  it('agrees in number and groups digits as each language does', () => {
    expect(formatPoints(1, 'en')).toBe('1 point');
    expect(formatPoints(-1, 'en')).toBe('−1 point');
    expect(formatPoints(0, 'en')).toBe('0 points');
    expect(formatPoints(1200, 'en')).toBe('1,200 points');
    // French: 0 and 1 are singular; thousands are separated by a narrow no-break space.
    expect(formatPoints(0, 'fr')).toBe('0 point');
    expect(formatPoints(1, 'fr')).toBe('1 point');
    expect(formatPoints(2, 'fr')).toBe('2 points');
    expect(formatPoints(-1200, 'fr')).toBe(`−1${NNBSP}200 points`);
  });
});

describe('formatMinorMoney', () => {
  it('uses each currency’s ISO digits', () => {
    expect(formatMinorMoney(120_000, 'JPY', 'en')).toBe('¥120,000');
    expect(formatMinorMoney(1_500, 'KWD', 'en')).toBe('KWD' + NBSP + '1.500');
    expect(formatMinorMoney(5, 'USD', 'en')).toBe('$0.05');
    expect(formatMinorMoney(12_050, 'EUR', 'fr')).toBe(`120,50${NBSP}€`);
  });

  it('is exact up to the largest safe amount (no float on the way)', () => {
    expect(formatMinorMoney(Number.MAX_SAFE_INTEGER, 'USD', 'en')).toBe('$90,071,992,547,409.91');
    const digitsOf = (s: string) => s.replace(/[^0-9]/g, '');
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.constantFrom('USD', 'EUR', 'JPY', 'KWD', 'CLF', 'GBP'),
        fc.constantFrom<StorefrontLocale>('en', 'fr'),
        (minor, currency, locale) => {
          const shown = formatMinorMoney(minor, currency, locale);
          expect(digitsOf(shown)).toBe(digitsOf(formatMoney(minor, currency)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('explainEntry: tiers', () => {
  const names = { bronze: 'Bronze', silver: 'Silver', gold: 'Gold' };
  const reason = (extra: Record<string, unknown> = {}) => ({
    metric: 'spend',
    window: 'calendar_year',
    value: 110_000,
    threshold: 100_000,
    year: 2026,
    heldUntil: null,
    graceEndedAt: null,
    currency: 'USD',
    ...extra,
  });
  const change = (inputs: Record<string, unknown>): ExplainableEntry => ({
    source: 'tier',
    points: 0,
    inputs: { rule: 'tier-change', tierVersion: 1, names, ...inputs },
    orderName: null,
  });

  it('names the tier multiplier an award carried', () => {
    const plan = planOrderSettlement({
      order,
      testOrdersEarn: false,
      program: { version: 1, program: parseProgram(referenceProgram) },
      award: null,
      postedReversalKeys: new Set(),
      alreadyReversed: 0,
      refunds: [],
      tier: { key: 'gold', name: 'Gold', version: 3, multiplierBps: 15_000 },
    });
    const award = { ...plan.award!, orderName: null };
    expect(explainEntry(award, en)).toBe('Order #1001, $120.00 → 135 points (Gold ×1.5)');
    expect(explainEntry(award, fr)).toBe(
      `Commande #1001, 120,00${NBSP}$US → 135 points (Gold ×1,5)`,
    );
    // An award recording only the multiplier's id still says which tier.
    const { tier: _tier, ...withoutName } = award.inputs;
    expect(explainEntry({ ...award, inputs: withoutName }, en)).toBe(
      'Order #1001, $120.00 → 135 points (gold ×1.5)',
    );
  });

  it('says why a member moved up, in each window', () => {
    const up = change({ from: null, to: 'gold', direction: 'up', reason: reason() });
    expect(explainEntry(up, en)).toBe('Reached Gold: $1,000.00 spent in 2026');
    expect(explainEntry(up, fr)).toBe(
      `Palier Gold atteint${NBSP}: 1${NNBSP}000,00${NBSP}$US dépensés en 2026`,
    );
    const rolling = change({
      from: 'bronze',
      to: 'silver',
      direction: 'up',
      reason: reason({ metric: 'orders', window: 'rolling_12_months', threshold: 5 }),
    });
    expect(explainEntry(rolling, en)).toBe('Reached Silver: 5 orders placed in the last 12 months');
    expect(explainEntry(rolling, fr)).toBe(
      `Palier Silver atteint${NBSP}: 5 commandes passées au cours des 12 derniers mois`,
    );
    const lifetime = change({
      from: null,
      to: 'bronze',
      direction: 'up',
      reason: reason({ metric: 'points', window: 'lifetime', threshold: 1 }),
    });
    expect(explainEntry(lifetime, en)).toBe('Reached Bronze: 1 point earned');
    expect(explainEntry(lifetime, fr)).toBe(`Palier Bronze atteint${NBSP}: 1 point gagné`);
  });

  it('says why a member moved down', () => {
    const down = change({
      from: 'gold',
      to: 'silver',
      direction: 'down',
      reason: reason({ year: 2027, value: 30_000 }),
    });
    expect(explainEntry(down, en)).toBe(
      'Moved from Gold to Silver: below $1,000.00 spent in 2027 after the grace period',
    );
    expect(explainEntry(down, fr)).toBe(
      `Passage de Gold à Silver${NBSP}: moins de 1${NNBSP}000,00${NBSP}$US dépensés en 2027 après la période de grâce`,
    );
    const starting = change({
      from: null,
      to: 'bronze',
      direction: 'up',
      reason: reason({ threshold: 0 }),
    });
    expect(explainEntry(starting, en)).toBe('Reached Bronze');
    expect(explainEntry(starting, fr)).toBe('Palier Bronze atteint');
    const none = change({
      from: 'vip',
      to: null,
      direction: 'down',
      reason: reason({ threshold: 0 }),
    });
    expect(explainEntry(none, en)).toBe('Moved from vip to no tier');
    expect(explainEntry(none, fr)).toBe('Fin du palier vip');
  });

  it('welcomes a member with the entry reward', () => {
    const entry: ExplainableEntry = {
      source: 'tier',
      points: 200,
      inputs: { rule: 'tier-entry-reward', tier: 'gold', name: 'Gold', tierVersion: 1 },
      orderName: null,
    };
    expect(explainEntry(entry, en)).toBe('Welcome to Gold → 200 points');
    expect(explainEntry(entry, fr)).toBe('Bienvenue au palier Gold → 200 points');
  });

  it('falls back to the generic sentence when a tier entry’s inputs are unreadable', () => {
    expect(explainEntry(change({ to: 42, direction: 'sideways' }), en)).toBe(
      'Tier reward → 0 points',
    );
  });
});
