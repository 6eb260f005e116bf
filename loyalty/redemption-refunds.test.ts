import { describe, expect, it } from 'vitest';
import { orderUndone, returnsRedemptionPoints } from './redemption-refunds';

const standing = {
  cancelledAt: null,
  earnAmountMinor: 5_500,
  refundedMinor: 0,
  hasRefunds: false,
};

describe('orderUndone', () => {
  it('is null while the order stands or is only partly refunded', () => {
    expect(orderUndone(standing)).toBeNull();
    expect(orderUndone({ ...standing, refundedMinor: 5_499, hasRefunds: true })).toBeNull();
  });

  it('is cancelled or refunded once the order is undone', () => {
    expect(orderUndone({ ...standing, cancelledAt: new Date('2026-03-02T00:00:00Z') })).toBe(
      'cancelled',
    );
    expect(orderUndone({ ...standing, refundedMinor: 5_500, hasRefunds: true })).toBe('refunded');
    // A free order (the reward covered it all) is undone by any refund of it.
    expect(orderUndone({ ...standing, earnAmountMinor: 0, hasRefunds: true })).toBe('refunded');
    expect(orderUndone({ ...standing, earnAmountMinor: 0 })).toBeNull();
  });
});

describe('returnsRedemptionPoints', () => {
  const undone = { ...standing, cancelledAt: new Date('2026-03-02T00:00:00Z') };
  it('keeps the points by default, returns them when the program says so', () => {
    expect(returnsRedemptionPoints('keep_points', undone)).toBeNull();
    expect(returnsRedemptionPoints('return_points', undone)).toBe('cancelled');
    expect(returnsRedemptionPoints('return_points', standing)).toBeNull();
  });
});
