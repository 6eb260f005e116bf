/**
 * A manual adjustment as staff type it in the admin (docs/customers.md): a signed whole number of
 * points and the reason, plus the key the form was rendered with, so a double submit posts once.
 *
 * Pure: the form's text in, either the adjustment or every problem by field out. Whether a debit
 * fits the balance is {@link overdraftReason}, asked by whoever holds the member's lock.
 */

/** The ledger's own bound on one entry (ledger_entries_points_range). */
export const MAX_ADJUSTMENT_POINTS = 1_000_000_000;
/** Characters of a reason, after trimming. */
export const MAX_REASON_LENGTH = 500;
/** The form key: what the page put in its hidden field (a UUID), checked loosely. */
const FORM_KEY = /^[A-Za-z0-9_-]{8,100}$/;
/** An optionally signed run of digits: ASCII minus, the typographic minus (U+2212) or plus. */
const WHOLE_NUMBER = /^([+\-\u2212]?)([0-9]+)$/;
// Control characters (tab and newline aside, which a reason may hold and the explanation folds).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export type AdjustmentField = 'points' | 'reason' | 'key';

export interface AdjustmentForm {
  points: string;
  reason: string;
  key: string;
}

export interface Adjustment {
  /** Signed, non-zero, within ±{@link MAX_ADJUSTMENT_POINTS}. */
  points: number;
  /** Trimmed, 1–{@link MAX_REASON_LENGTH} characters. */
  reason: string;
  /** The idempotency key the entry is posted under: `adjustment:<form key>`. */
  idempotencyKey: string;
}

export type AdjustmentErrors = Partial<Record<AdjustmentField, string>>;

export type AdjustmentValidation =
  { ok: true; adjustment: Adjustment } | { ok: false; errors: AdjustmentErrors };

export const adjustmentKey = (formKey: string) => `adjustment:${formKey}`;

function parsePoints(text: string): { points: number } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'Points are required: a whole number such as 50 or -50' };
  const match = WHOLE_NUMBER.exec(trimmed);
  if (!match) {
    return {
      error: `Points must be a whole number such as 50 or -50 (got ${JSON.stringify(trimmed.slice(0, 30))})`,
    };
  }
  const digits = match[2]!.replace(/^0+(?=[0-9])/, '');
  const limit = `Points must be between −1,000,000,000 and 1,000,000,000`;
  // Compared as text first: a long run of digits is no safe integer.
  if (digits.length > 10) return { error: limit };
  const magnitude = Number(digits);
  if (magnitude > MAX_ADJUSTMENT_POINTS) return { error: limit };
  if (magnitude === 0) return { error: 'Points must not be 0: add or remove at least 1 point' };
  return { points: match[1] === '' || match[1] === '+' ? magnitude : -magnitude };
}

function parseReason(text: string): { reason: string } | { error: string } {
  const reason = text.trim();
  if (reason === '') {
    return { error: 'Reason is required: say why, e.g. “Goodwill for a late parcel”' };
  }
  const length = [...reason].length;
  if (length > MAX_REASON_LENGTH) {
    return {
      error: `Reason must be at most ${MAX_REASON_LENGTH} characters (it has ${length})`,
    };
  }
  if (CONTROL.test(reason)) return { error: 'Reason must not contain control characters' };
  return { reason };
}

/** The form's fields → the adjustment, or every problem by field (nothing to post). */
export function validateAdjustment(
  form: Partial<Record<AdjustmentField, unknown>>,
): AdjustmentValidation {
  const errors: AdjustmentErrors = {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');

  const points = parsePoints(text(form.points));
  if ('error' in points) errors.points = points.error;
  const reason = parseReason(text(form.reason));
  if ('error' in reason) errors.reason = reason.error;
  const key = text(form.key);
  if (!FORM_KEY.test(key)) {
    errors.key = 'The form has no valid key: reload the page and adjust again';
  }
  if ('error' in points || 'error' in reason || errors.key) return { ok: false, errors };
  return {
    ok: true,
    adjustment: {
      points: points.points,
      reason: reason.reason,
      idempotencyKey: adjustmentKey(key),
    },
  };
}

/**
 * Why `points` cannot be posted on a member holding `balance`, or null when it can: a debit may
 * take the balance to 0, never below (the storefront and redemptions read it as spendable).
 */
export function overdraftReason(balance: number, points: number): string | null {
  if (points >= 0 || balance + points >= 0) return null;
  const fmt = new Intl.NumberFormat('en-US');
  return `Points: removing ${fmt.format(-points)} would take the balance of ${fmt.format(balance)} below 0; remove at most ${fmt.format(Math.max(balance, 0))}`;
}
