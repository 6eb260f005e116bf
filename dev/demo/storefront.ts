/**
 * The demo store's products for the storefront preview (/dev/preview): a tea in three sizes whose
 * prices fall on either side of the reference program's bands (nothing under $50, 1 point per
 * dollar to $100, 2 above), and the early-access matcha; shaped as Shopify's Liquid `product`
 * object so the theme blocks read them as they would on a real product page. Liquid money is in
 * hundredths of the currency.
 *
 * The emulator's seed (dev/demo/emulator-seed.ts) holds the same products under the same ids, so a
 * free-product reward can point at one of their variants, Shopify (the emulator) knows its price,
 * and an early-access window on the matcha is checked and mirrored as on Shopify.
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

interface DemoProductSpec {
  id: number;
  title: string;
  handle: string;
  type: string;
  description: string;
  sizes: readonly { id: number; size: string; price: number }[];
}

const GYOKURO: DemoProductSpec = {
  id: 9012345678901,
  title: 'Gyokuro Reserve',
  handle: 'gyokuro-reserve',
  type: 'Green tea',
  description: 'Shade-grown Japanese green tea, first flush.',
  sizes: [
    // Under the first band: earns nothing on its own.
    { id: 47120394821001, size: '50 g tin', price: 2400 },
    // Inside the first band: 1 point per whole dollar over $50.
    { id: 47120394821002, size: '200 g tin', price: 8550 },
    // Across both bands.
    { id: 47120394821003, size: '1 kg caddy', price: 16500 },
  ],
};

/**
 * The demo's early-access product: the demo creates a window on it ("Gold and above now; everyone
 * in a week", dev/demo/tiers.ts), so the preview shows a Gold and a Bronze shopper on its page.
 */
const MATCHA: DemoProductSpec = {
  id: 9012345678902,
  title: 'Uji Matcha First Harvest',
  handle: 'uji-matcha-first-harvest',
  type: 'Matcha',
  description:
    'Stone-ground ceremonial matcha from the first spring picking; a few hundred tins a year.',
  sizes: [
    { id: 47120394822001, size: '30 g tin', price: 4800 },
    { id: 47120394822002, size: '100 g tin', price: 13500 },
  ],
};

const PRODUCTS: readonly DemoProductSpec[] = [GYOKURO, MATCHA];

export const DEMO_PRODUCT_VARIANT_IDS: readonly number[] = GYOKURO.sizes.map((s) => s.id);

/** Every product of the demo store (the emulator's seed holds them all). */
export function demoProducts(): LiquidProduct[] {
  return PRODUCTS.map((spec) => liquidProduct(spec));
}

/** The early-access product as Liquid sees it on its page. */
export function demoEarlyAccessProduct(selectedVariantId?: number): LiquidProduct {
  return liquidProduct(MATCHA, selectedVariantId);
}

/** A demo product by its handle (the preview's `?product=`); undefined when none has it. */
export function demoProductByHandle(
  handle: string,
  selectedVariantId?: number,
): LiquidProduct | undefined {
  const spec = PRODUCTS.find((p) => p.handle === handle);
  return spec ? liquidProduct(spec, selectedVariantId) : undefined;
}

/**
 * The product as Liquid sees it on its page: `selectedVariantId` is the page's `?variant=`
 * (ignored when it names no variant of this product, as Shopify does).
 */
export function demoProduct(selectedVariantId?: number): LiquidProduct {
  return liquidProduct(GYOKURO, selectedVariantId);
}

function liquidProduct(spec: DemoProductSpec, selectedVariantId?: number): LiquidProduct {
  const url = `/products/${spec.handle}`;
  const variants: LiquidVariant[] = spec.sizes.map((s) => ({
    id: s.id,
    title: s.size,
    option1: s.size,
    price: s.price,
    compare_at_price: null,
    available: true,
    sku: `${spec.handle.slice(0, 3).toUpperCase()}-${s.size.replace(/[^0-9a-z]/gi, '').toUpperCase()}`,
    url: `${url}?variant=${s.id}`,
  }));
  const selected = variants.find((v) => v.id === selectedVariantId) ?? null;
  const first = variants[0]!;
  const prices = variants.map((v) => v.price);
  return {
    id: spec.id,
    title: spec.title,
    handle: spec.handle,
    url,
    vendor: 'Laurel Demo Tea',
    type: spec.type,
    description: spec.description,
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
    price_varies: prices.length > 1,
    compare_at_price: null,
  };
}
