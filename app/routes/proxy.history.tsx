// GET /apps/loyalty/history?cursor=&limit= (→ /proxy/history): the logged-in customer's ledger
// entries, newest first, each explained. A resource route: only this loader runs, not /proxy's.
// Verification and errors: app/app-proxy.server.ts; contract: docs/storefront-api.md.
import { appProxyRoute, proxyJson, readOnlyProxyAction } from '../app-proxy.server';
import { pickLocale } from '../public-api.server';
import { accountHistory, readHistoryQuery } from '../storefront-account.server';

export const loader = appProxyRoute(async (proxy, { request }) => {
  const query = readHistoryQuery((name) => proxy.param(name));
  const { shop, customerId } = proxy;
  if (!customerId) return proxyJson({ loggedIn: false }, { headers: { Vary: 'Accept-Language' } });
  const locale = pickLocale(proxy.param('locale'), request.headers.get('Accept-Language'));
  const history = await accountHistory({ shop, customerId }, query, locale);
  return proxyJson({ loggedIn: true, ...history }, { headers: { Vary: 'Accept-Language' } });
});

// Anything but GET: 405 in the shared shape (Remix's own 405 would not be).
export const action = readOnlyProxyAction;
