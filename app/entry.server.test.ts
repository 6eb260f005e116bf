import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { UNSAFE_ErrorResponseImpl as ErrorResponse } from '@remix-run/router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers',
    LOG_LEVEL: 'silent',
  });
});

import { handleError } from './entry.server';
import { logger } from './logger.server';

const args = (path: string) =>
  ({
    request: new Request(`https://laurel.test${path}?id_token=secret`),
    params: {},
    context: {},
  }) as LoaderFunctionArgs;

let spies: Record<'error' | 'warn' | 'debug', ReturnType<typeof vi.spyOn>>;
beforeEach(() => {
  spies = {
    error: vi.spyOn(logger(), 'error'),
    warn: vi.spyOn(logger(), 'warn'),
    debug: vi.spyOn(logger(), 'debug'),
  };
});
afterEach(() => vi.restoreAllMocks());

describe('handleError', () => {
  it('logs a thrown Error with its message and stack, and the path without the query', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'id')");
    handleError(error, args('/app'));
    expect(spies.error).toHaveBeenCalledWith(
      {
        url: '/app',
        err: "TypeError: Cannot read properties of undefined (reading 'id')",
        stack: error.stack,
      },
      'request failed',
    );
  });

  it("logs a page that does not exist (Remix's 404 ErrorResponse) at debug, not as an error", () => {
    const notFound = new ErrorResponse(404, 'Not Found', null, true);
    handleError(notFound, args('/favicon.ico'));
    expect(spies.error).not.toHaveBeenCalled();
    expect(spies.warn).not.toHaveBeenCalled();
    expect(spies.debug).toHaveBeenCalledWith(
      { url: '/favicon.ico', status: 404, err: '404 Not Found' },
      'request not answered by any route',
    );
  });

  it('logs a 5xx ErrorResponse and a thrown 5xx Response readably, never as [object Object]', () => {
    const inner = new Error('loader exploded');
    handleError(new ErrorResponse(500, 'Internal Server Error', null, false), args('/app'));
    handleError(
      Object.assign(new ErrorResponse(500, 'Internal Server Error', null, true), { error: inner }),
      args('/app'),
    );
    handleError(
      new Response('gone', { status: 503, statusText: 'Service Unavailable' }),
      args('/app'),
    );
    expect(spies.error.mock.calls).toEqual([
      [{ url: '/app', err: '500 Internal Server Error' }, 'request failed'],
      [
        {
          url: '/app',
          err: '500 Internal Server Error: Error: loader exploded',
          stack: inner.stack,
        },
        'request failed',
      ],
      [{ url: '/app', err: 'a 503 Service Unavailable response was thrown' }, 'request failed'],
    ]);
  });

  it('logs something thrown that is not an Error by its contents', () => {
    handleError({ reason: 'odd' }, args('/app'));
    expect(spies.error).toHaveBeenCalledWith(
      { url: '/app', err: "{ reason: 'odd' }" },
      'request failed',
    );
  });
});
