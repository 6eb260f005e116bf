import { isRouteErrorResponse } from '@remix-run/react';

/**
 * The reason of a 4xx the app answered as `{"error": "<reason>", "code": …}` JSON (app proxy,
 * admin-auth.server.ts), for an error boundary to show as text. Undefined for anything else.
 */
export function refusalReason(error: unknown): string | undefined {
  if (!isRouteErrorResponse(error) || error.status >= 500) return undefined;
  const data: unknown = error.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const reason = (data as { error?: unknown }).error;
  return typeof reason === 'string' ? reason : undefined;
}
