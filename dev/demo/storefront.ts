/**
 * The demo store's product for the storefront preview (/dev/preview): a tea in three sizes whose
 * prices fall on either side of the reference program's bands (nothing under $50, 1 point per
 * dollar to $100, 2 above), shaped as Shopify's Liquid `product` object so the theme blocks read
 * it as they would on a real product page. Liquid money is in hundredths of the currency.
 *
 * The emulator's seed (dev/demo/emulator-seed.ts) holds the same product under the same ids, so a
 * free-product reward can point at one of its variants and Shopify (the emulator) knows its price.
 */

/** The Liquid `variant` fields the theme blocks and the preview's variant picker read. */
export interface LiquidVariant {
  id: number;
  title: string;
  option1: string;
  /** Hundredths of the shop's currency. */
  price: number;
  compare_at_price: number | null;
  available: boolean;
  sku: string;
  url: string;
}

/** The Liquid `product` fields the blocks and the preview's product page read. */
export interface LiquidProduct {
  id: number;
  title: string;
  handle: string;
  url: string;
  vendor: string;
  type: string;
  description: string;
  options: string[];
  variants: LiquidVariant[];
  /** Null unless the URL names a variant (`?variant=<id>`), as on Shopify. */
  selected_variant: LiquidVariant | null;
  selected_or_first_available_variant: LiquidVariant;
  first_available_variant: LiquidVariant;
  has_only_default_variant: boolean;
  available: boolean;
  price: number;
  price_min: number;
  price_max: number;
  price_varies: boolean;
  compare_at_price: number | null;
}

const HANDLE = 'gyokuro-reserve';
const PRODUCT_URL = `/products/${HANDLE}`;

const SIZES: readonly { id: number; size: string; price: number }[] = [
  // Under the first band: earns nothing on its own.
  { id: 47120394821001, size: '50 g tin', price: 2400 },
  // Inside the first band: 1 point per whole dollar over $50.
  { id: 47120394821002, size: '200 g tin', price: 8550 },
  // Across both bands.
  { id: 47120394821003, size: '1 kg caddy', price: 16500 },
];

export const DEMO_PRODUCT_VARIANT_IDS: readonly number[] = SIZES.map((s) => s.id);

/**
 * The product as Liquid sees it on its page: `selectedVariantId` is the page's `?variant=`
 * (ignored when it names no variant of this product, as Shopify does).
 */
export function demoProduct(selectedVariantId?: number): LiquidProduct {
  const variants: LiquidVariant[] = SIZES.map((s) => ({
    id: s.id,
    title: s.size,
    option1: s.size,
    price: s.price,
    compare_at_price: null,
    available: true,
    sku: `GYO-${s.size.replace(/[^0-9a-z]/gi, '').toUpperCase()}`,
    url: `${PRODUCT_URL}?variant=${s.id}`,
  }));
  const selected = variants.find((v) => v.id === selectedVariantId) ?? null;
  const first = variants[0]!;
  const prices = variants.map((v) => v.price);
  return {
    id: 9012345678901,
    title: 'Gyokuro Reserve',
    handle: HANDLE,
    url: PRODUCT_URL,
    vendor: 'Laurel Demo Tea',
    type: 'Green tea',
    description: 'Shade-grown Japanese green tea, first flush.',
    options: ['Size'],
    variants,
    selected_variant: selected,
    selected_or_first_available_variant: selected ?? first,
    first_available_variant: first,
    has_only_default_variant: false,
    available: true,
    price: Math.min(...prices),
    price_min: Math.min(...prices),
    price_max: Math.max(...prices),
    price_varies: true,
    compare_at_price: null,
  };
}
