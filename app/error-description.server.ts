import { inspect } from 'node:util';

/**
 * What a log line says about something thrown while answering a request. Remix hands
 * `handleError` Errors, thrown Responses and its own ErrorResponses (a 404 for a page that does
 * not exist is one); `String()` of the last two is "[object Object]".
 */
export interface ErrorDescription {
  /** The HTTP status it stands for: its own for (Error)Responses, else 500. */
  status: number;
  /** A readable one-line message. */
  err: string;
  /** Where it was thrown, when there is an Error to say so. */
  stack?: string;
}

interface RouteErrorResponse {
  status: number;
  statusText: string;
  internal: boolean;
  data: unknown;
  error?: unknown;
}

/** Remix's own test (isRouteErrorResponse), without importing React into the server bundle. */
function isRouteErrorResponse(value: unknown): value is RouteErrorResponse {
  const candidate = value as Partial<RouteErrorResponse> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.status === 'number' &&
    typeof candidate.statusText === 'string' &&
    typeof candidate.internal === 'boolean' &&
    'data' in candidate
  );
}

export function describeError(error: unknown): ErrorDescription {
  if (error instanceof Error) {
    return { status: 500, err: String(error), ...(error.stack ? { stack: error.stack } : {}) };
  }
  if (isRouteErrorResponse(error)) {
    const inner = error.error instanceof Error ? error.error : undefined;
    return {
      status: error.status,
      err: `${error.status} ${error.statusText}${inner ? `: ${String(inner)}` : ''}`.trim(),
      ...(inner?.stack ? { stack: inner.stack } : {}),
    };
  }
  if (error instanceof Response) {
    const status = `${error.status} ${error.statusText}`.trim();
    return { status: error.status, err: `a ${status} response was thrown` };
  }
  return {
    status: 500,
    err: inspect(error, { depth: 2, breakLength: Infinity }).slice(0, 500),
  };
}
