import { connection, type PageArgs, type ResolverContext, type View } from './connections';
import { metafieldFields } from './metafields';
import { findVariant, type ProductRecord, type ProductVariantRecord } from './state';
import { dateTime, decimalOut, gid, idOfType } from './values';

/**
 * Products and their variants, as far as Laurel reads them: a free-product reward reads the
 * variant's price and whether it can be bought, and its discount lists the variant; an
 * early-access window checks the product exists and mirrors itself into its metafields.
 */

export function productView(ctx: ResolverContext, product: ProductRecord): View {
  return {
    __typename: 'Product',
    id: gid('Product', product.id),
    legacyResourceId: String(product.id),
    title: product.title,
    handle: product.handle,
    status: product.status,
    createdAt: dateTime(product.createdAt),
    updatedAt: dateTime(product.updatedAt),
    hasOnlyDefaultVariant:
      product.variants.length === 1 && product.variants[0]!.title === 'Default Title',
    variants: (args: PageArgs) =>
      connection(
        product.variants,
        args,
        (v) => v.id,
        (v) => productVariantView(ctx, product, v),
      ),
    variantsCount: { count: product.variants.length, precision: 'EXACT' },
    ...metafieldFields(ctx, gid('Product', product.id)),
  };
}

export function productVariantView(
  ctx: ResolverContext,
  product: ProductRecord,
  variant: ProductVariantRecord,
): View {
  return {
    __typename: 'ProductVariant',
    id: gid('ProductVariant', variant.id),
    legacyResourceId: String(variant.id),
    title: variant.title,
    // Shopify's displayName is "<product title> - <variant title>".
    displayName: `${product.title} - ${variant.title}`,
    // Money (a scalar, not MoneyV2): a Decimal string in the shop's currency.
    price: decimalOut(variant.priceMinor, ctx.store.settings.currencyCode),
    compareAtPrice: null,
    sku: variant.sku,
    // A variant of a product that is not active cannot be bought, whatever its stock.
    availableForSale: variant.availableForSale && product.status === 'ACTIVE',
    position: product.variants.indexOf(variant) + 1,
    createdAt: dateTime(product.createdAt),
    updatedAt: dateTime(product.updatedAt),
    product: () => productView(ctx, product),
  };
}

/** `productVariant(id:)`: null for an unknown variant or an id of another type, as Shopify does. */
export function productVariantById(ctx: ResolverContext, id: string): View | null {
  const variantId = idOfType(id, 'ProductVariant');
  const found = variantId === undefined ? undefined : findVariant(ctx.store, variantId);
  return found ? productVariantView(ctx, found.product, found.variant) : null;
}

/** `product(id:)`. */
export function productById(ctx: ResolverContext, id: string): View | null {
  const productId = idOfType(id, 'Product');
  const product = productId === undefined ? undefined : ctx.store.products.get(productId);
  return product ? productView(ctx, product) : null;
}
