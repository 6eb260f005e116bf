import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode, httpStatusFor, isAppError, isPermanent, sqlStateOf } from './errors';

describe('error codes', () => {
  it('maps every code to an HTTP error status', () => {
    for (const code of Object.values(ErrorCode)) {
      const status = httpStatusFor(code);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
    expect(httpStatusFor(ErrorCode.VALIDATION)).toBe(400);
    expect(httpStatusFor(ErrorCode.UNAUTHORIZED)).toBe(401);
    expect(httpStatusFor(ErrorCode.NOT_FOUND)).toBe(404);
    expect(httpStatusFor(ErrorCode.IDEMPOTENCY_CONFLICT)).toBe(409);
    expect(httpStatusFor(ErrorCode.PAYLOAD_TOO_LARGE)).toBe(413);
    expect(httpStatusFor(ErrorCode.INSUFFICIENT_BALANCE)).toBe(409);
    expect(httpStatusFor(ErrorCode.NOT_LOGGED_IN)).toBe(401);
  });

  it('tells permanent failures from ones worth retrying', () => {
    expect(isPermanent(ErrorCode.VALIDATION)).toBe(true);
    expect(isPermanent(ErrorCode.IDEMPOTENCY_CONFLICT)).toBe(true);
    expect(isPermanent(ErrorCode.RATE_LIMITED)).toBe(false);
    expect(isPermanent(ErrorCode.UNAVAILABLE)).toBe(false);
  });

  it('carries code, message and details', () => {
    const error = new AppError(ErrorCode.NOT_FOUND, 'shop 3 does not exist', { shopId: 3 });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'AppError',
      code: 'NOT_FOUND',
      message: 'shop 3 does not exist',
      details: { shopId: 3 },
    });
    expect(isAppError(error)).toBe(true);
    expect(isAppError(error, ErrorCode.VALIDATION)).toBe(false);
    expect(isAppError(new Error('x'))).toBe(false);
  });

  it('finds the SQLSTATE through wrapped driver errors', () => {
    const driver = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(sqlStateOf(new Error('Failed query', { cause: driver }))).toBe('23505');
    expect(sqlStateOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(sqlStateOf('nope')).toBeUndefined();
  });
});
