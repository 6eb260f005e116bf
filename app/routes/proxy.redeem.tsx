// POST /apps/loyalty/redeem (→ /proxy/redeem): redeems points for a reward for the logged-in
// shopper — 200 issued, 202 still pending at Shopify, or a refusal in the shared shape (the
// statuses are in docs/storefront-api.md). GET answers 405. Verification and errors:
// app/app-proxy.server.ts; the redemption itself: app/redemption.server.ts.
import { AppError, ErrorCode, isAppError } from '../errors';
import {
  appProxyRoute,
  postOnlyProxyLoader,
  proxyError,
  proxyJson,
  readProxyJson,
} from '../app-proxy.server';
import { logger } from '../logger.server';
import { readRedeemBody, redeemForShopper } from '../storefront-rewards.server';

export const action = appProxyRoute(async ({ shop, customerId }, { request }) => {
  if (request.method !== 'POST') {
    throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, 'only POST is answered here');
  }
  if (!customerId) {
    throw new AppError(ErrorCode.NOT_LOGGED_IN, 'log in to redeem your points');
  }
  const body = readRedeemBody(await readProxyJson(request), request.headers);
  try {
    const answer = await redeemForShopper({ shop, customerId }, body);
    return proxyJson(answer.body, { status: answer.status });
  } catch (error) {
    // Shopify refused (or ran nothing) and the points were returned: the shopper must be told
    // so, not given the bare 500 the shared path answers for codes of 500 and above.
    if (isAppError(error, ErrorCode.UPSTREAM)) {
      logger().warn(
        { surface: 'app proxy', path: '/proxy/redeem', status: 502, reason: error.message },
        'redemption failed at Shopify; points returned',
      );
      return proxyError(ErrorCode.UPSTREAM, error.message);
    }
    throw error;
  }
});

export const loader = postOnlyProxyLoader;
