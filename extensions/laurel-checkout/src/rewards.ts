/**
 * The buyer's issued reward codes, from the app backend: `GET <app>/api/checkout/rewards` with the
 * checkout session token (`Authorization: Bearer`), which the backend verifies with
 * authenticate.public.checkout and reads the customer from (app/checkout-extension.server.ts).
 * The extension never sends a customer id of its own.
 *
 * The request is the one both Laurel extensions make (extensions/shared/src/backend.ts: one reading
 * of the app URL the CLI inlines, one set of failure kinds); the answer is checked here like every
 * answer there: one field of the wrong shape rejects it whole, unknown extra fields are ignored.
 */
import { isRecord, isText } from '../../shared/src/answers';
import { backendGet, LoadError, type SessionHost } from '../../shared/src/backend';

export { LoadError };

/** What Shopify was asked to create for the code (loyalty/rewards.ts IssuedValue). */
export type RewardValue =
  | { kind: 'amount_off_order'; amountMinor: number; currency: string }
  | { kind: 'percentage_off_order'; percentage: number }
  | { kind: 'free_shipping' }
  | { kind: 'free_product' }
  /** A kind this extension does not know yet: the code is listed without a value line. */
  | { kind: 'other' };

export interface RewardCode {
  id: string;
  code: string;
  title: string;
  value: RewardValue;
  /** ISO instant, or null for a code that does not expire. */
  expiresAt: string | null;
}

/** The backend answers at most this many codes; more in one answer is not ours. */
export const MAX_CODES = 50;

// Shopify discount codes: letters, digits and a few separators, at most 255 characters.
const CODE = /^[A-Za-z0-9_-]{1,255}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseValue(raw: unknown): RewardValue | null {
  if (!isRecord(raw) || typeof raw.kind !== 'string') return null;
  switch (raw.kind) {
    case 'amount_off_order': {
      const { amountMinor, currency } = raw;
      if (typeof amountMinor !== 'number' || !Number.isSafeInteger(amountMinor)) return null;
      if (amountMinor <= 0 || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
        return null;
      }
      return { kind: 'amount_off_order', amountMinor, currency };
    }
    case 'percentage_off_order': {
      const { percentage } = raw;
      if (typeof percentage !== 'number' || !Number.isInteger(percentage)) return null;
      return percentage >= 1 && percentage <= 100
        ? { kind: 'percentage_off_order', percentage }
        : null;
    }
    case 'free_shipping':
      return { kind: 'free_shipping' };
    case 'free_product':
      return { kind: 'free_product' };
    default:
      return { kind: 'other' };
  }
}

function parseCode(raw: unknown): RewardCode | null {
  if (!isRecord(raw)) return null;
  const { id, code, title, expiresAt } = raw;
  if (!isText(id, 64) || typeof code !== 'string' || !CODE.test(code) || !isText(title, 200)) {
    return null;
  }
  if (
    expiresAt !== null &&
    !(typeof expiresAt === 'string' && ISO_INSTANT.test(expiresAt) && !isNaN(Date.parse(expiresAt)))
  ) {
    return null;
  }
  const value = parseValue(raw.value);
  return value ? { id, code, title, value, expiresAt } : null;
}

/** `{"redemptions":[…]}` as the contract writes it, or null. */
export function parseRewardCodes(body: unknown): RewardCode[] | null {
  if (!isRecord(body) || !Array.isArray(body.redemptions)) return null;
  if (body.redemptions.length > MAX_CODES) return null;
  const codes: RewardCode[] = [];
  for (const raw of body.redemptions) {
    const code = parseCode(raw);
    if (!code) return null;
    codes.push(code);
  }
  return codes;
}

/** The buyer's issued codes; throws LoadError (the shared failure kinds) otherwise. */
export async function loadRewardCodes(host: SessionHost): Promise<RewardCode[]> {
  const codes = parseRewardCodes(await backendGet(host, '/api/checkout/rewards'));
  if (!codes) throw new LoadError('invalid');
  return codes;
}
