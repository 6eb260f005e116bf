import { GraphQLError } from 'graphql';
import { formatMoney, isKnownCurrency, MoneyError, parseMoney } from '../../loyalty/money';

/** Shopify global ids: `gid://shopify/Customer/123`. */
export function gid(type: string, id: number): string {
  return `gid://shopify/${type}/${id}`;
}

const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(\?.*)?$/;

/** Splits a gid; throws Shopify's "Invalid global id" error for anything else. */
export function parseGid(value: unknown): { type: string; id: number } {
  const match = typeof value === 'string' ? GID.exec(value) : null;
  if (!match) {
    throw new GraphQLError(`Invalid global id '${String(value)}'`, {
      extensions: { code: 'INVALID_GLOBAL_ID' },
    });
  }
  return { type: match[1]!, id: Number(match[2]) };
}

/** A gid that must be of `type` (e.g. customer(id:) given an Order id is simply not found). */
export function idOfType(value: unknown, type: string): number | undefined {
  const parsed = parseGid(value);
  return parsed.type === type ? parsed.id : undefined;
}

/** The error for every field or input the emulator does not model. */
export function notImplemented(what: string): GraphQLError {
  return new GraphQLError(`not implemented by the Laurel emulator: ${what}`, {
    extensions: { code: 'NOT_IMPLEMENTED' },
  });
}

/** Shopify prints DateTime without milliseconds: 2026-07-01T12:00:00Z. */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseDateTime(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`${what} is not a date-time: '${text}'`);
  return ms;
}

/**
 * Shopify's Decimal output: trailing zeros dropped but one decimal kept ("10.0", "12.5", "0.99"),
 * so clients must not assume the currency's digits are present.
 */
export function decimalOut(minor: number, currency: string): string {
  const text = formatMoney(minor, currency);
  if (!text.includes('.')) return `${text}.0`;
  const trimmed = text.replace(/0+$/, '');
  return trimmed.endsWith('.') ? `${trimmed}0` : trimmed;
}

export interface MoneyV2 {
  amount: string;
  currencyCode: string;
}

export function moneyV2(minor: number, currency: string): MoneyV2 {
  return { amount: decimalOut(minor, currency), currencyCode: currency };
}

export function moneyBag(
  minor: number,
  currency: string,
): { shopMoney: MoneyV2; presentmentMoney: MoneyV2 } {
  return { shopMoney: moneyV2(minor, currency), presentmentMoney: moneyV2(minor, currency) };
}

/**
 * A Decimal input (string or number) in integer minor units, or why not. Negative amounts are
 * returned as negative numbers so callers can answer with their own "must be positive" error.
 */
export function decimalIn(
  value: unknown,
  currency: string,
): { minor: number } | { problem: string } {
  if (!isKnownCurrency(currency)) return { problem: `currency ${currency} is not supported` };
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const negative = text.startsWith('-');
  try {
    const minor = parseMoney(negative ? text.slice(1) : text, currency);
    return { minor: negative ? -minor : minor };
  } catch (error) {
    if (error instanceof MoneyError) return { problem: `Amount ${error.reason}` };
    throw error;
  }
}
