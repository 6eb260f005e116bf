/**
 * An order body's `line_items` as campaigns limited to some products count them
 * (docs/campaigns.md): the product and the line's amount after its discounts, in shop currency.
 * Read leniently: the lines only scope campaigns, so a body whose lines cannot be read still
 * parses (loyalty/shopify-order.ts), with no lines.
 */
import { moneyBag, shopMoney, type Issues } from './shopify-payload';

export interface OrderLineFacts {
  productId: string | null;
  amountMinor: number;
}

/**
 * `line_items` → product and discounted amount per line, or null when absent or any line cannot be
 * read. Never an issue: the lines only scope campaigns, and a malformed one must not stop the
 * order from earning.
 */
export function orderLinesOf(
  entries: readonly unknown[] | null | undefined,
  currency: string | null,
): OrderLineFacts[] | null {
  if (!entries || currency === null) return null;
  const lines: OrderLineFacts[] = [];
  const scratch: Issues = [];
  const money = (bag: unknown): number | undefined => {
    const parsed = moneyBag.safeParse(bag);
    if (!parsed.success || parsed.data.shop_money.currency_code !== currency) return undefined;
    return shopMoney(parsed.data, 'line', scratch)?.minor;
  };
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) return null;
    const line = entry as Record<string, unknown>;
    const quantity = line.quantity;
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 0)
      return null;
    const price = money(line.price_set);
    if (price === undefined) return null;
    let discount = 0;
    const allocations = line.discount_allocations ?? [];
    if (!Array.isArray(allocations)) return null;
    for (const allocation of allocations) {
      const amount = money((allocation as Record<string, unknown> | null)?.amount_set);
      if (amount === undefined) return null;
      discount += amount;
    }
    const product = line.product_id;
    const productId =
      (typeof product === 'number' && Number.isSafeInteger(product) && product > 0) ||
      (typeof product === 'string' && /^[1-9]\d{0,19}$/.test(product))
        ? String(product)
        : null;
    const amountMinor = price * quantity - discount;
    if (!Number.isSafeInteger(amountMinor)) return null;
    lines.push({ productId, amountMinor: Math.max(0, amountMinor) });
  }
  return scratch.length > 0 ? null : lines;
}
