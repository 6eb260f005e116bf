// GET /api/account/history?cursor=&limit=: the signed-in customer's ledger entries, newest first,
// each explained, for the customer-account extension. Verification, CORS and errors:
// app/customer-account.server.ts; contract: docs/storefront-api.md.
import {
  accountJson,
  customerAccountRoute,
  readOnlyAccountAction,
} from '../customer-account.server';
import { pickLocale, singleParam } from '../public-api.server';
import { accountHistory, readHistoryQuery } from '../storefront-account.server';

export const loader = customerAccountRoute(async ({ shop, customerId }, { request }) => {
  const search = new URL(request.url).searchParams;
  const query = readHistoryQuery((name) => singleParam(search, name));
  const locale = pickLocale(singleParam(search, 'locale'), request.headers.get('Accept-Language'));
  return accountJson(await accountHistory({ shop, customerId }, query, locale));
});

// Anything but GET and OPTIONS: 405 in the shared shape, with CORS.
export const action = readOnlyAccountAction;
