import type { ResolverContext, View } from './connections';
import { metafieldFields } from './metafields';
import { gid } from './values';

export function shopView(ctx: ResolverContext): View {
  const { store } = ctx;
  const ownerGid = gid('Shop', store.shopId);
  return {
    __typename: 'Shop',
    id: ownerGid,
    name: store.settings.name,
    email: store.settings.email,
    contactEmail: store.settings.email,
    currencyCode: store.settings.currencyCode,
    enabledPresentmentCurrencies: [store.settings.currencyCode],
    ianaTimezone: store.settings.ianaTimezone,
    myshopifyDomain: store.domain,
    url: `https://${store.domain}`,
    ...metafieldFields(ctx, ownerGid),
  };
}
