import { describe, expect, it } from 'vitest';
import { diffPrograms } from './program-diff';
import { referenceProgram, type ProgramDefinition } from './program';

const with_ = (change: (d: ProgramDefinition) => void): ProgramDefinition => {
  const d = structuredClone(referenceProgram);
  change(d);
  return d;
};

describe('diffPrograms', () => {
  it('says "first version" when there is nothing before', () => {
    expect(diffPrograms(null, referenceProgram)).toEqual(['first version']);
  });

  it('finds no change between a definition and the same one written differently', () => {
    const spelled = with_((d) => {
      d.earn.bands[0]!.over = '50';
      delete d.posOrders; // stored before the setting existed: its default
    });
    expect(diffPrograms(spelled, referenceProgram)).toEqual([]);
  });

  it('names a band rate change and the signup bonus, as the history shows them', () => {
    const next = with_((d) => {
      d.earn.bands[1]!.pointsPerUnit = 3;
      d.signupBonus = 100;
    });
    expect(diffPrograms(referenceProgram, next)).toEqual([
      'band 2: 2 → 3 points per $1.00',
      'signup bonus 0 → 100',
    ]);
  });

  it('names moved, added and removed bands by position', () => {
    const three = with_((d) => {
      d.earn.bands = [
        { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
        { over: '100.00', upTo: '200.00', pointsPerUnit: 2 },
        { over: '200.00', pointsPerUnit: 3 },
      ];
    });
    expect(diffPrograms(referenceProgram, three)).toEqual([
      'band 2: over $100.00, no ceiling → over $100.00 up to $200.00',
      'band 3 added: over $200.00, no ceiling, 3 points per $1.00',
    ]);
    expect(diffPrograms(three, referenceProgram)).toEqual([
      'band 2: over $100.00 up to $200.00 → over $100.00, no ceiling',
      'band 3 removed (over $200.00, no ceiling, 3 points per $1.00)',
    ]);
  });

  it('names the name, unit, earn base, POS and refund settings', () => {
    const next = with_((d) => {
      d.name = 'Gold rush';
      d.earn.unit = '5.00';
      d.earnOn = 'total';
      d.posOrders = 'exclude';
      d.redemptionRefunds = 'return_points';
    });
    expect(diffPrograms(referenceProgram, next)).toEqual([
      'name “Reference” → “Gold rush”',
      'earn unit $1.00 → $5.00',
      'earn base subtotal after discounts → order total',
      'POS orders no longer earn',
      'points spent on a refunded order’s reward code are now given back',
    ]);
    expect(diffPrograms(next, referenceProgram)).toContain('POS orders now earn');
  });

  it('formats amounts in the program currency', () => {
    const yen = {
      ...referenceProgram,
      currency: 'JPY',
      earn: { unit: '100', bands: [{ over: '0', pointsPerUnit: 1 }] },
    };
    const next = { ...yen, earn: { unit: '100', bands: [{ over: '0', pointsPerUnit: 2 }] } };
    expect(diffPrograms(yen, next)).toEqual(['band 1: 1 → 2 points per ¥100']);
  });
});
