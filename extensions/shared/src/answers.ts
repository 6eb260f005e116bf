/**
 * The checks every network answer passes before a Laurel UI extension shows it (the
 * customer-account extension's member.ts, the checkout extension's rewards.ts): nothing from the
 * network is trusted for its shape, so a field of the wrong type or an absurd length rejects the
 * whole answer rather than rendering a guess.
 */

/** An error code longer than this is not one the backend writes. */
const ERROR_CODE_LIMIT = 64;

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string of at most `max` characters. */
export function isText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

export function isNullableText(value: unknown, max: number): value is string | null {
  return value === null || isText(value, max);
}

/** The code of the contract's error body {"error":{"code","message"}}, if the body is one. */
export function parseErrorCode(body: unknown): string | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code } = body.error;
  return isText(code, ERROR_CODE_LIMIT) ? code : undefined;
}
