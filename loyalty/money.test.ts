import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currencyDigits,
  formatMoney,
  isKnownCurrency,
  MoneyError,
  MoneyParseCode,
  parseMoney,
  parseMoneyBytes,
} from './money';

function reasonOf(text: string, currency: string): string {
  try {
    parseMoney(text, currency);
  } catch (error) {
    expect(error).toBeInstanceOf(MoneyError);
    return (error as MoneyError).reason;
  }
  throw new Error(`expected '${text}' to be rejected in ${currency}`);
}

/** Independent reference: BigInt arithmetic on the decimal text. */
function referenceMinor(intPart: string, fraction: string, digits: number): bigint {
  const padded = (fraction + '0'.repeat(digits)).slice(0, digits);
  return BigInt(intPart) * 10n ** BigInt(digits) + BigInt(padded === '' ? '0' : padded);
}

describe('currencyDigits', () => {
  it('knows zero-, two-, three- and four-digit currencies', () => {
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('KRW')).toBe(0);
    expect(currencyDigits('USD')).toBe(2);
    expect(currencyDigits('EUR')).toBe(2);
    expect(currencyDigits('KWD')).toBe(3);
    expect(currencyDigits('BHD')).toBe(3);
    expect(currencyDigits('CLF')).toBe(4);
  });

  it('throws on codes that are not ISO 4217 (including lower case)', () => {
    expect(() => currencyDigits('XYZ')).toThrow(/not an ISO 4217 code/);
    expect(() => currencyDigits('usd')).toThrow(MoneyError);
    expect(isKnownCurrency('usd')).toBe(false);
    expect(isKnownCurrency('GBP')).toBe(true);
  });
});

describe('parseMoney', () => {
  it('parses plain decimals in USD exactly', () => {
    expect(parseMoney('12', 'USD')).toBe(1200);
    expect(parseMoney('12.5', 'USD')).toBe(1250);
    expect(parseMoney('12.50', 'USD')).toBe(1250);
    expect(parseMoney('0.99', 'USD')).toBe(99);
    expect(parseMoney('0', 'USD')).toBe(0);
    // 120.10 * 100 is 12009.999999999998 in floating point; digit parsing is exact.
    expect(parseMoney('120.10', 'USD')).toBe(12010);
    expect(parseMoney('007', 'USD')).toBe(700);
  });

  it('accepts zero padding beyond the currency digits because it is exact', () => {
    expect(parseMoney('1.230', 'USD')).toBe(123);
    expect(parseMoney('1200.00', 'JPY')).toBe(1200);
  });

  it('uses each currency’s minor digits', () => {
    expect(parseMoney('1200', 'JPY')).toBe(1200);
    expect(parseMoney('1.5', 'KWD')).toBe(1500);
    expect(parseMoney('1.234', 'KWD')).toBe(1234);
    expect(reasonOf('12.5', 'JPY')).toBe('has 1 decimal place; JPY allows 0');
    expect(reasonOf('1.2345', 'KWD')).toBe('has 4 decimal places; KWD allows 3');
  });

  it('rejects too many decimals with a readable reason', () => {
    expect(reasonOf('1.234', 'USD')).toBe('has 3 decimal places; USD allows 2');
    const error = (() => {
      try {
        parseMoney('1.234', 'USD');
      } catch (e) {
        return e as MoneyError;
      }
    })();
    expect(error?.message).toBe("amount '1.234' has 3 decimal places; USD allows 2");
  });

  it.each([
    ['', 'is empty'],
    [' 1', 'has leading or trailing spaces'],
    ['1 ', 'has leading or trailing spaces'],
    ['-1', 'is negative'],
    ['+1', "has a '+' sign; write the plain number"],
    ['1e3', 'uses an exponent; write the plain number'],
    ['1,000', "contains ','; use '.' for decimals and no thousands separators"],
    ['12,50', "contains ','; use '.' for decimals and no thousands separators"],
    ['.5', "has no digit before '.'; write 0.5, not .5"],
    ['12.', "has no digit after '.'"],
    ['NaN', 'is not a plain decimal number'],
    ['Infinity', 'is not a plain decimal number'],
    ['1.2.3', 'is not a plain decimal number'],
    ['$12', 'is not a plain decimal number'],
    ['١٢', 'is not a plain decimal number'],
    ['0x10', 'is not a plain decimal number'],
  ])('rejects %j: %s', (text, reason) => {
    expect(reasonOf(text, 'USD')).toBe(reason);
  });

  it('rejects amounts beyond Number.MAX_SAFE_INTEGER minor units', () => {
    expect(parseMoney('90071992547409.91', 'USD')).toBe(Number.MAX_SAFE_INTEGER);
    expect(reasonOf('90071992547409.92', 'USD')).toBe('is too large');
    expect(reasonOf('9007199254740992', 'JPY')).toBe('is too large');
    expect(reasonOf('99999999999999999999999', 'USD')).toBe('is too large');
  });

  it('rejects an unknown currency', () => {
    expect(() => parseMoney('1', 'ABC')).toThrow(/not an ISO 4217 code/);
  });

  it('agrees with BigInt arithmetic on random decimal texts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('JPY', 'USD', 'KWD'),
        fc.stringMatching(/^[0-9]{1,12}$/),
        fc.stringMatching(/^[0-9]{0,4}$/),
        (currency, intPart, fraction) => {
          const digits = currencyDigits(currency);
          const text = fraction === '' ? intPart : `${intPart}.${fraction}`;
          const significant = fraction.replace(/0+$/, '');
          if (significant.length > digits) {
            expect(() => parseMoney(text, currency)).toThrow(MoneyError);
          } else {
            expect(BigInt(parseMoney(text, currency))).toBe(
              referenceMinor(intPart, fraction, digits),
            );
          }
        },
      ),
    );
  });
});

describe('parseMoneyBytes', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('parses a slice of a larger buffer without copying', () => {
    const buf = bytes('C1,2026-01-03,120.10,x');
    expect(parseMoneyBytes(buf, 14, 20, 2)).toBe(12010);
  });

  it('returns negative codes instead of throwing', () => {
    expect(parseMoneyBytes(bytes(''), 0, 0, 2)).toBe(MoneyParseCode.EMPTY);
    expect(parseMoneyBytes(bytes('-1'), 0, 2, 2)).toBe(MoneyParseCode.INVALID);
    expect(parseMoneyBytes(bytes('1.234'), 0, 5, 2)).toBe(MoneyParseCode.TOO_MANY_DECIMALS);
    expect(parseMoneyBytes(bytes('99999999999999999'), 0, 17, 2)).toBe(MoneyParseCode.TOO_LARGE);
  });
});

describe('formatMoney', () => {
  it('formats minor units with the currency digits', () => {
    expect(formatMoney(12010, 'USD')).toBe('120.10');
    expect(formatMoney(5, 'USD')).toBe('0.05');
    expect(formatMoney(-5, 'USD')).toBe('-0.05');
    expect(formatMoney(0, 'USD')).toBe('0.00');
    expect(formatMoney(1200, 'JPY')).toBe('1200');
    expect(formatMoney(1500, 'KWD')).toBe('1.500');
  });

  it('rejects fractional minor units', () => {
    expect(() => formatMoney(1.5, 'USD')).toThrow(MoneyError);
  });

  it('round-trips through parseMoney for every non-negative safe integer', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('JPY', 'USD', 'KWD', 'CLF'),
        fc.maxSafeNat(),
        (currency, minor) => {
          expect(parseMoney(formatMoney(minor, currency), currency)).toBe(minor);
        },
      ),
    );
  });
});
