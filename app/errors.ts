/**
 * Errors are values with codes: one enum, one code → HTTP status mapping. Routes turn an AppError
 * into a response with `httpStatusFor`; workers treat permanent codes as unrecoverable.
 */
export enum ErrorCode {
  VALIDATION = 'VALIDATION',
  /** A pagination cursor Laurel did not issue for this shop and customer (tampered, or another's). */
  BAD_CURSOR = 'BAD_CURSOR',
  NOT_FOUND = 'NOT_FOUND',
  IDEMPOTENCY_CONFLICT = 'IDEMPOTENCY_CONFLICT',
  INSUFFICIENT_BALANCE = 'INSUFFICIENT_BALANCE',
  CONFLICT = 'CONFLICT',
  UNAUTHORIZED = 'UNAUTHORIZED',
  /** A shopper-facing route that needs a logged-in customer was called without one. */
  NOT_LOGGED_IN = 'NOT_LOGGED_IN',
  FORBIDDEN = 'FORBIDDEN',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  /** The route answers other methods only (the answer's Allow header lists them). */
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  RATE_LIMITED = 'RATE_LIMITED',
  SHOP_INACTIVE = 'SHOP_INACTIVE',
  UPSTREAM = 'UPSTREAM',
  UNAVAILABLE = 'UNAVAILABLE',
  INTERNAL = 'INTERNAL',
}

const httpStatus: Record<ErrorCode, number> = {
  [ErrorCode.VALIDATION]: 400,
  [ErrorCode.BAD_CURSOR]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.NOT_LOGGED_IN]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.METHOD_NOT_ALLOWED]: 405,
  [ErrorCode.IDEMPOTENCY_CONFLICT]: 409,
  [ErrorCode.CONFLICT]: 409,
  // The request was fine; the balance is what it is now (issue [6]'s contract).
  [ErrorCode.INSUFFICIENT_BALANCE]: 409,
  [ErrorCode.SHOP_INACTIVE]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.UPSTREAM]: 502,
  [ErrorCode.UNAVAILABLE]: 503,
};

/** The HTTP status a route answers with for `code`. The only place this mapping lives. */
export function httpStatusFor(code: ErrorCode): number {
  return httpStatus[code];
}

/**
 * Codes retrying cannot fix: the same input will fail the same way. Workers map these to
 * BullMQ's UnrecoverableError; everything else is retried with backoff.
 */
export function isPermanent(code: ErrorCode): boolean {
  return httpStatusFor(code) < 500 && code !== ErrorCode.RATE_LIMITED;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A domain rule's refusal listing every problem (ProgramError, RewardError, TierProgramError…). */
export interface IssuesError extends Error {
  readonly issues: readonly { path: string; message: string }[];
}

/** That refusal as a VALIDATION AppError carrying its issues (HTTP 400 with `details.issues`). */
export function validationFrom(error: IssuesError, message = error.message): AppError {
  return new AppError(ErrorCode.VALIDATION, message, { issues: error.issues }, { cause: error });
}

export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/**
 * The SQLSTATE of a database error (e.g. '23505' unique violation), looking through the wrappers
 * drizzle puts around driver errors. Both node-postgres and PGlite expose `code`.
 */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

// Lives with the database code, which reports connection failures too (db/migrate.ts).
export { rootCauseMessage } from '../db/errors';
