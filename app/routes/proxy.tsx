// The storefront app proxy (shopify.app.toml [app_proxy]: /apps/loyalty → /proxy). Shopify signs
// the query string and adds logged_in_customer_id; the answer is that customer's points.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { getDatabase } from '../db.server';
import { findCustomerByExternalId } from '../models/customers.server';
import { balanceOf } from '../models/ledger.server';
import { getShopByDomain } from '../models/shops.server';
import { authenticate } from '../shopify.server';

const PRIVATE = { 'Cache-Control': 'private, no-store' };

export const loader = async ({ request }: LoaderFunctionArgs) => {
  // Throws a 400 Response when the signature does not match.
  await authenticate.public.appProxy(request);
  const params = new URL(request.url).searchParams;
  const customerId = params.get('logged_in_customer_id');
  if (!customerId) return Response.json({ loggedIn: false }, { headers: PRIVATE });

  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, params.get('shop') ?? '');
  const customer = shop ? await findCustomerByExternalId(db, shop.id, customerId) : undefined;
  const { balance, lifetimeEarned } =
    shop && customer
      ? await balanceOf(db, shop.id, customer.id)
      : { balance: 0, lifetimeEarned: 0 };
  return Response.json(
    { loggedIn: true, customerId, enrolled: customer !== undefined, balance, lifetimeEarned },
    { headers: PRIVATE },
  );
};
