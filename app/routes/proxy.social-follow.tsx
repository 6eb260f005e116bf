// POST /apps/loyalty/social-follow (→ /proxy/social-follow) `{ "network": "instagram" }`: the
// logged-in shopper says they followed the shop there; one bonus per network ever (docs/bonuses.md
// — a follow cannot be verified). 200 awarded or already claimed; 400 a network that is unknown or
// gives no points; 401 logged out; 429 RATE_LIMITED with Retry-After (one claim per 30 s, ten a
// day). GET answers 405. Verification and errors: app/app-proxy.server.ts; contract:
// docs/storefront-api.md.
import { AppError, ErrorCode } from '../errors';
import {
  appProxyRoute,
  postOnlyProxyLoader,
  proxyError,
  proxyJson,
  readProxyJson,
} from '../app-proxy.server';
import { claimShopperSocialFollow, readSocialFollowBody } from '../storefront-bonuses.server';

export const action = appProxyRoute(async ({ shop, customerId }, { request }) => {
  if (request.method !== 'POST') {
    throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, 'only POST is answered here');
  }
  if (!customerId) throw new AppError(ErrorCode.NOT_LOGGED_IN, 'log in to claim your points');
  const network = readSocialFollowBody(await readProxyJson(request));
  const answer = await claimShopperSocialFollow({ shop, customerId }, network);
  if ('rateLimited' in answer) {
    const { reason, retryAfterSeconds } = answer.rateLimited;
    return proxyError(ErrorCode.RATE_LIMITED, `too many claims: ${reason}; try again later`, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
  return proxyJson(answer);
});

export const loader = postOnlyProxyLoader;
