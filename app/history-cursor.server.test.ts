import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from './errors';
import { issueCursor, readCursor } from './history-cursor.server';

const SECRET = 'laurel-test-secret';
const owner = { shop: 'laurel-demo.myshopify.com', customerId: '7001' };

function refusal(read: () => unknown): unknown {
  try {
    read();
  } catch (error) {
    return error instanceof AppError ? { code: error.code, message: error.message } : error;
  }
  return 'accepted';
}

const BAD = {
  code: ErrorCode.BAD_CURSOR,
  message: 'the cursor was not issued for this customer; start again without one',
};

describe('history cursors', () => {
  it('round-trip for the owner they were issued to', () => {
    const cursor = issueCursor(SECRET, owner, 123_456);
    expect(readCursor(SECRET, owner, cursor)).toBe(123_456);
    // Opaque but short, and only URL-safe characters.
    expect(cursor).toMatch(/^[A-Za-z0-9._-]{1,80}$/);
  });

  it("refuse another customer's, another shop's, or another secret's cursor", () => {
    const cursor = issueCursor(SECRET, owner, 42);
    expect(refusal(() => readCursor(SECRET, { ...owner, customerId: '7002' }, cursor))).toEqual(
      BAD,
    );
    expect(
      refusal(() => readCursor(SECRET, { ...owner, shop: 'laurel-other.myshopify.com' }, cursor)),
    ).toEqual(BAD);
    expect(refusal(() => readCursor('rotated-secret', owner, cursor))).toEqual(BAD);
  });

  it('refuse an edited position, signature or format', () => {
    const cursor = issueCursor(SECRET, owner, 42);
    const [version, , mac] = cursor.split('.');
    const flipped = `${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`;
    for (const tampered of [
      `${version}.43.${mac}`,
      `${version}.42.${flipped}`,
      `h2.42.${mac}`,
      `${version}.042.${mac}`,
      `${version}.42.${mac}.x`,
      `${version}.42`,
      `${version}.9007199254740993.${mac}`,
      '',
      'x'.repeat(81),
      'h1.-1.AAAA',
    ]) {
      expect(
        refusal(() => readCursor(SECRET, owner, tampered)),
        tampered,
      ).toEqual(BAD);
    }
  });
});
