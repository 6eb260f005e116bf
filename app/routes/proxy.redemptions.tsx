// GET /apps/loyalty/redemptions (→ /proxy/redemptions): the logged-in shopper's redemptions with
// their codes and statuses, newest first (at most 50); logged out, 401 NOT_LOGGED_IN. Verification
// and errors: app/app-proxy.server.ts; contract: docs/storefront-api.md.
import { AppError, ErrorCode } from '../errors';
import { appProxyRoute, proxyJson, readOnlyProxyAction } from '../app-proxy.server';
import { shopperRedemptions } from '../storefront-rewards.server';

export const loader = appProxyRoute(async ({ shop, customerId }) => {
  if (!customerId) throw new AppError(ErrorCode.NOT_LOGGED_IN, 'log in to see your rewards');
  return proxyJson(await shopperRedemptions({ shop, customerId }));
});

// Anything but GET: 405 in the shared shape (Remix's own 405 would not be).
export const action = readOnlyProxyAction;
