// The storefront app proxy (shopify.app.toml [app_proxy]: /apps/loyalty → /proxy): the logged-in
// customer's points. Verification and errors: app/app-proxy.server.ts.
import { appProxyRoute, proxyJson } from '../app-proxy.server';
import { getDatabase } from '../db.server';
import { findCustomerByExternalId } from '../models/customers.server';
import { balanceOf } from '../models/ledger.server';
import { getShopByDomain } from '../models/shops.server';

export const loader = appProxyRoute(async ({ shop: domain, customerId }) => {
  if (!customerId) return proxyJson({ loggedIn: false });

  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, domain);
  const customer = shop ? await findCustomerByExternalId(db, shop.id, customerId) : undefined;
  const { balance, lifetimeEarned } =
    shop && customer
      ? await balanceOf(db, shop.id, customer.id)
      : { balance: 0, lifetimeEarned: 0 };
  return proxyJson({
    loggedIn: true,
    customerId,
    enrolled: customer !== undefined,
    balance,
    lifetimeEarned,
  });
});
