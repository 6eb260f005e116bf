/** Error text for operators, shared by the database code and the app (re-exported by app/errors.ts). */

/**
 * The innermost error's words, e.g. "connect ECONNREFUSED 127.0.0.1:5432" rather than drizzle's
 * "Failed query: CREATE SCHEMA …" wrapper around it. For operator-facing messages.
 */
export function rootCauseMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 5; depth++) {
    if (e instanceof AggregateError && e.errors.length > 0) e = e.errors[0];
    else if (e instanceof Error && e.cause) e = e.cause;
    else break;
  }
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.includes(code)
    ? `${code}: ${e.message}`
    : e.message;
}
