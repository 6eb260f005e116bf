// POST /apps/loyalty/birthday (→ /proxy/birthday) `{ "month": 7, "day": 14 }`: the logged-in
// shopper's birthday, month and day only, for the birthday bonus (docs/bonuses.md). 200 with the
// stored birthday and any points awarded now; 400 a bad field; 401 logged out; 409 changed less
// than 12 months ago. GET answers 405. Verification and errors: app/app-proxy.server.ts; contract:
// docs/storefront-api.md.
import { AppError, ErrorCode } from '../errors';
import { appProxyRoute, postOnlyProxyLoader, proxyJson, readProxyJson } from '../app-proxy.server';
import { readBirthdayBody, setShopperBirthday } from '../storefront-bonuses.server';

export const action = appProxyRoute(async ({ shop, customerId }, { request }) => {
  if (request.method !== 'POST') {
    throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, 'only POST is answered here');
  }
  if (!customerId) throw new AppError(ErrorCode.NOT_LOGGED_IN, 'log in to give your birthday');
  const birthday = readBirthdayBody(await readProxyJson(request));
  return proxyJson(await setShopperBirthday({ shop, customerId }, birthday));
});

export const loader = postOnlyProxyLoader;
