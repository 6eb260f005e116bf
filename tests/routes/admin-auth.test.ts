/**
 * What the embedded admin's auth paths answer to unauthenticated, malformed input: the exit-iframe
 * page only sends the browser to the app itself or to Shopify, and a malformed `host` is a 400
 * with a reason, not a 500 with a stack trace.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers',
    LOG_LEVEL: 'silent',
  });
});

import { loader as appLayout } from '../../app/routes/app';
import { loader as appIndex } from '../../app/routes/app._index';
import { loader as auth } from '../../app/routes/auth.$';

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

const args = (path: string) =>
  ({
    request: new Request(`https://laurel.test${path}`, { headers: { 'User-Agent': BROWSER } }),
    params: {},
    context: {},
  }) as LoaderFunctionArgs;

/** The Response a loader threw (the library answers by throwing), or the one it returned. */
async function answer(work: () => Promise<unknown>): Promise<Response> {
  try {
    const result = await work();
    if (result instanceof Response) return result;
    throw new Error(`the loader returned ${JSON.stringify(result)}`);
  } catch (error) {
    if (error instanceof Response) return error;
    throw error;
  }
}

const exitIframe = (destination: string) =>
  answer(() =>
    auth(
      args(
        `/auth/exit-iframe?shop=laurel-admin.myshopify.com&exitIframe=${encodeURIComponent(destination)}`,
      ),
    ),
  );

describe('/auth/exit-iframe', () => {
  it.each([
    'https://evil.example/phish',
    '//evil.example/phish',
    'https://laurel.test.evil.example/',
    'https://laurel-admin.myshopify.com.evil.example/admin',
    'http://laurel-admin.myshopify.com/admin',
    'https://admin.shopify.com.evil.example/',
    'https://user@evil.example@admin.shopify.com/',
    'javascript:alert(1)',
    'https://laurel.test//evil.example',
  ])('refuses to send the browser to %s with 400', async (destination) => {
    const response = await exitIframe(destination);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error:
        'exitIframe must be a URL of this app, of a *.myshopify.com shop or of admin.shopify.com',
      code: 'VALIDATION',
    });
  });

  it('refuses a missing destination with 400', async () => {
    const response = await answer(() =>
      auth(args('/auth/exit-iframe?shop=laurel-admin.myshopify.com')),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'VALIDATION' });
  });

  it.each([
    ['https://admin.shopify.com/store/laurel-admin/apps/laurel', undefined],
    ['https://laurel-admin.myshopify.com/admin/charges/1/confirm', undefined],
    ['https://laurel.test/app?shop=laurel-admin.myshopify.com', undefined],
    ['/auth/login', 'https://laurel.test/auth/login'],
  ])('sends the browser to %s', async (destination, resolved) => {
    const response = await exitIframe(destination);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(
      `window.open(${JSON.stringify(resolved ?? destination)}, "_top")`,
    );
  });
});

describe('a malformed host parameter', () => {
  it.each([
    ['the admin layout', appLayout],
    ['the admin index', appIndex],
  ])('is a 400 with a reason from %s, not a thrown error', async (_name, loader) => {
    const response = await answer(() =>
      loader(args('/app?embedded=1&shop=laurel-admin.myshopify.com&host=x')),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'the host parameter is not the base64-encoded admin host Shopify sends',
      code: 'VALIDATION',
    });
  });
});
