// GET /apps/loyalty/rewards (→ /proxy/rewards): the rewards catalog, each reward with whether the
// logged-in member may redeem it now (and why not); logged out, reason NOT_LOGGED_IN. A resource
// route. Verification and errors: app/app-proxy.server.ts; contract: docs/storefront-api.md.
import { appProxyRoute, proxyJson, readOnlyProxyAction } from '../app-proxy.server';
import { rewardsCatalog } from '../storefront-rewards.server';

export const loader = appProxyRoute(async ({ shop, customerId }) =>
  proxyJson(await rewardsCatalog({ shop, customerId })),
);

// Anything but GET: 405 in the shared shape (Remix's own 405 would not be).
export const action = readOnlyProxyAction;
