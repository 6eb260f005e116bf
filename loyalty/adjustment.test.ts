import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ADJUSTMENT_POINTS,
  overdraftReason,
  validateAdjustment,
  type AdjustmentValidation,
} from './adjustment';

const KEY = '3f0c8e2a-9d1b-4c55-8a57-0f6a2b1c9d00';
const form = (fields: Partial<Record<'points' | 'reason' | 'key', unknown>>) =>
  validateAdjustment({ points: '50', reason: 'Goodwill', key: KEY, ...fields });

function errorsOf(result: AdjustmentValidation) {
  expect(result.ok).toBe(false);
  return result.ok ? {} : result.errors;
}

describe('validateAdjustment', () => {
  it('takes a signed whole number, a trimmed reason and the form key', () => {
    expect(form({ points: ' 50 ', reason: '  Goodwill for a late parcel \n' })).toEqual({
      ok: true,
      adjustment: {
        points: 50,
        reason: 'Goodwill for a late parcel',
        idempotencyKey: `adjustment:${KEY}`,
      },
    });
    expect(form({ points: '-25' })).toMatchObject({ ok: true, adjustment: { points: -25 } });
    expect(form({ points: '\u221225' })).toMatchObject({ ok: true, adjustment: { points: -25 } });
    expect(form({ points: '+7' })).toMatchObject({ ok: true, adjustment: { points: 7 } });
    expect(form({ points: '007' })).toMatchObject({ ok: true, adjustment: { points: 7 } });
  });

  it('accepts the bounds ±1,000,000,000 and refuses one past them', () => {
    expect(form({ points: '1000000000' })).toMatchObject({
      ok: true,
      adjustment: { points: MAX_ADJUSTMENT_POINTS },
    });
    expect(form({ points: '-1000000000' })).toMatchObject({
      ok: true,
      adjustment: { points: -MAX_ADJUSTMENT_POINTS },
    });
    for (const points of ['1000000001', '-1000000001', '99999999999999999999999']) {
      expect(errorsOf(form({ points })).points).toBe(
        'Points must be between −1,000,000,000 and 1,000,000,000',
      );
    }
  });

  it('names the field of every problem at once', () => {
    const errors = errorsOf(validateAdjustment({ points: '', reason: '   ', key: '' }));
    expect(errors).toEqual({
      points: 'Points are required: a whole number such as 50 or -50',
      reason: 'Reason is required: say why, e.g. “Goodwill for a late parcel”',
      key: 'The form has no valid key: reload the page and adjust again',
    });
    expect(errorsOf(form({ points: '0' }))).toEqual({
      points: 'Points must not be 0: add or remove at least 1 point',
    });
    expect(errorsOf(form({ points: '-0' })).points).toMatch(/must not be 0/);
    for (const points of ['1.5', '1e3', '1,000', 'ten', '--5', '5-']) {
      expect(errorsOf(form({ points })).points).toMatch(/^Points must be a whole number/);
    }
    expect(errorsOf(form({ points: 50 })).points).toMatch(/required/);
  });

  it('bounds the reason at 500 characters after trimming, counting characters not bytes', () => {
    expect(form({ reason: ` ${'é'.repeat(500)} ` })).toMatchObject({ ok: true });
    expect(form({ reason: '🎁'.repeat(500) })).toMatchObject({ ok: true });
    expect(errorsOf(form({ reason: 'x'.repeat(501) })).reason).toBe(
      'Reason must be at most 500 characters (it has 501)',
    );
    expect(errorsOf(form({ reason: 'bad\u0000byte' })).reason).toBe(
      'Reason must not contain control characters',
    );
    expect(form({ reason: 'two\nlines' })).toMatchObject({ ok: true });
  });

  it('refuses a key the page did not make', () => {
    for (const key of ['short', 'has space in it', 'x'.repeat(101), 'semi;colon-123']) {
      expect(errorsOf(form({ key })).key).toMatch(/no valid key/);
    }
  });

  it('round-trips every valid amount', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: -MAX_ADJUSTMENT_POINTS, max: MAX_ADJUSTMENT_POINTS })
          .filter((n) => n !== 0),
        (points) => {
          const result = form({ points: String(points) });
          expect(result).toMatchObject({ ok: true, adjustment: { points } });
        },
      ),
    );
  });
});

describe('overdraftReason', () => {
  it('lets credits and debits down to 0 through, and refuses a debit below 0 with the reason', () => {
    expect(overdraftReason(0, 10)).toBeNull();
    expect(overdraftReason(100, -100)).toBeNull();
    expect(overdraftReason(1_500, -1_501)).toBe(
      'Points: removing 1,501 would take the balance of 1,500 below 0; remove at most 1,500',
    );
    expect(overdraftReason(0, -1)).toMatch(/remove at most 0$/);
  });

  it('agrees with the arithmetic for any balance and debit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2e9 }), fc.integer({ min: -1e9, max: 1e9 }), (b, p) => {
        expect(overdraftReason(b, p) === null).toBe(b + p >= 0 || p >= 0);
      }),
    );
  });
});
