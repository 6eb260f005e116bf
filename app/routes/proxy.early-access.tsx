// GET /apps/loyalty/early-access?product=<id|gid> (→ /proxy/early-access): may the shopper (the
// signed logged_in_customer_id; logged out = no tier) buy this product now, and from when. A
// resource route. Verification and errors: app/app-proxy.server.ts; contract:
// docs/storefront-api.md; rules: docs/early-access.md.
import { appProxyRoute, proxyJson, readOnlyProxyAction } from '../app-proxy.server';
import { earlyAccessForShopper } from '../early-access.server';

export const loader = appProxyRoute(async (proxy) =>
  proxyJson(
    await earlyAccessForShopper(
      { shop: proxy.shop, customerId: proxy.customerId },
      proxy.param('product'),
    ),
  ),
);

// Anything but GET: 405 in the shared shape (Remix's own 405 would not be).
export const action = readOnlyProxyAction;
