// GET /api/account/summary: the signed-in customer's points for the customer-account extension.
// Verification, CORS and errors: app/customer-account.server.ts; contract: docs/storefront-api.md.
import {
  accountJson,
  customerAccountRoute,
  readOnlyAccountAction,
} from '../customer-account.server';
import { accountSummary } from '../storefront-account.server';

export const loader = customerAccountRoute(async ({ shop, customerId }) =>
  accountJson(await accountSummary({ shop, customerId })),
);

// Anything but GET and OPTIONS: 405 in the shared shape, with CORS.
export const action = readOnlyAccountAction;
