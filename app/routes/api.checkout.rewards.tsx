// GET /api/checkout/rewards: the signed-in buyer's issued reward codes, for the checkout extension
// to apply. Verification, CORS and errors: app/checkout-extension.server.ts; contract:
// docs/checkout.md. A guest's token (no customer) is answered 401 NOT_LOGGED_IN.
import { extensionJson } from '../extension-endpoint.server';
import {
  checkoutExtensionRoute,
  issuedRewardCodes,
  readOnlyCheckoutAction,
  requireCustomer,
} from '../checkout-extension.server';

export const loader = checkoutExtensionRoute(async (checkout) => {
  const customerId = requireCustomer(checkout);
  const redemptions = await issuedRewardCodes({ shop: checkout.shop, customerId });
  return extensionJson({ redemptions });
});

// Anything but GET and OPTIONS: 405 in the shared shape, with CORS.
export const action = readOnlyCheckoutAction;
