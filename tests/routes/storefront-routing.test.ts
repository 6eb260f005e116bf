/**
 * The storefront routes through Remix's own request handler, with the route tree Remix's flat-routes
 * convention makes of the real files in app/routes: /proxy/history is nested under /proxy, and
 * must reach its own loader (a resource route), not /proxy's; an OPTIONS preflight must reach the
 * customer-account loaders (Remix sends it to the loader, not the action).
 */
import { createRequestHandler } from '@remix-run/server-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  });
});

import { useDatabase } from '../../app/db.server';
import * as accountHistory from '../../app/routes/api.account.history';
import * as accountSummary from '../../app/routes/api.account.summary';
import * as proxy from '../../app/routes/proxy';
import * as proxyHistory from '../../app/routes/proxy.history';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { routeManifest, routeTreeBuild } from '../helpers/route-tree';
import { accountRequest, accountToken, proxyRequest, seedStorefront } from '../helpers/storefront';

const MODULES: Record<string, unknown> = {
  'routes/proxy': proxy,
  'routes/proxy.history': proxyHistory,
  'routes/api.account.summary': accountSummary,
  'routes/api.account.history': accountHistory,
};

let handle: TestDatabase;
let handler: ReturnType<typeof createRequestHandler>;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  await seedStorefront(handle.db);
  useDatabase(handle);
  handler = createRequestHandler(routeTreeBuild(MODULES));
});
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});

describe('storefront routes through Remix', () => {
  it('nests proxy.history under proxy, as flat routes name them', () => {
    const manifest = routeManifest();
    expect(manifest['routes/proxy.history']).toMatchObject({
      parentId: 'routes/proxy',
      path: 'history',
    });
    expect(manifest['routes/api.account.summary']).toMatchObject({ path: 'api/account/summary' });
  });

  it("answers /proxy/history from its own loader, and /proxy from /proxy's", async () => {
    const historyResponse = await handler(
      proxyRequest('/proxy/history', { logged_in_customer_id: '7001', limit: '2' }),
    );
    expect(historyResponse.status).toBe(200);
    const history = (await historyResponse.json()) as { entries: unknown[] };
    expect(history).toMatchObject({ loggedIn: true, nextCursor: expect.any(String) });
    expect(history.entries).toHaveLength(2);
    const summaryResponse = await handler(
      proxyRequest('/proxy', { logged_in_customer_id: '7001' }),
    );
    expect(await summaryResponse.json()).toMatchObject({ loggedIn: true, balance: 113 });
  });

  it('serves the Liquid page with its headers through Remix', async () => {
    const response = await handler(
      proxyRequest(
        '/proxy',
        { logged_in_customer_id: '7001' },
        { headers: { Accept: 'text/html' } },
      ),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/liquid');
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
  });

  it('sends an OPTIONS preflight to the customer-account loaders', async () => {
    for (const path of ['/api/account/summary', '/api/account/history']) {
      const response = await handler(accountRequest(path, null, { method: 'OPTIONS' }));
      expect(response.status, path).toBe(204);
      expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(response.headers.get('Access-Control-Allow-Headers')).toBe(
        'Authorization, Content-Type',
      );
    }
    const summary = await handler(accountRequest('/api/account/summary', accountToken()));
    expect(await summary.json()).toMatchObject({ enrolled: true, balance: 113 });
    const refused = await handler(accountRequest('/api/account/history', null));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBe('*');
  });

  it('answers other methods 405 in the shared shape (with CORS on the account endpoints)', async () => {
    const posted = await handler(
      new Request(proxyRequest('/proxy/history', { logged_in_customer_id: '7001' }), {
        method: 'POST',
      }),
    );
    expect(posted.status).toBe(405);
    expect(posted.headers.get('Allow')).toBe('GET, HEAD');
    expect(await posted.json()).toEqual({
      error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is answered here' },
    });
    // Verification still comes first: an unsigned POST is a 401.
    const unsigned = await handler(new Request('https://laurel.test/proxy', { method: 'POST' }));
    expect(unsigned.status).toBe(401);
    const put = await handler(
      accountRequest('/api/account/summary', accountToken(), { method: 'PUT' }),
    );
    expect(put.status).toBe(405);
    expect(put.headers.get('Allow')).toBe('GET, OPTIONS');
    expect(put.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await put.json()).toEqual({
      error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is answered here' },
    });
  });
});
