// The storefront app proxy (shopify.app.toml [app_proxy]: /apps/loyalty → /proxy): the logged-in
// customer's summary as JSON, or the rewards page (application/liquid) for a browser navigating
// to /apps/loyalty. Verification and errors: app/app-proxy.server.ts; contract:
// docs/storefront-api.md.
import { appProxyRoute, proxyJson, proxyLiquid, readOnlyProxyAction } from '../app-proxy.server';
import { pickLocale, prefersHtml } from '../public-api.server';
import { accountSummary } from '../storefront-account.server';
import { rewardsPage } from '../storefront-page.server';

// One URL, two representations and two languages: caches must key on both headers.
const VARY = { Vary: 'Accept, Accept-Language' };

export const loader = appProxyRoute(async (proxy, { request }) => {
  const { shop, customerId } = proxy;
  if (prefersHtml(request.headers.get('Accept'))) {
    const locale = pickLocale(proxy.param('locale'), request.headers.get('Accept-Language'));
    return proxyLiquid(await rewardsPage({ shop, customerId }, locale), { headers: VARY });
  }
  if (!customerId) return proxyJson({ loggedIn: false }, { headers: VARY });
  const summary = await accountSummary({ shop, customerId });
  return proxyJson({ loggedIn: true, customerId, ...summary }, { headers: VARY });
});

// Anything but GET: 405 in the shared shape (Remix's own 405 would not be).
export const action = readOnlyProxyAction;
