import { describe, expect, it } from 'vitest';
import { orderPayload } from '../tests/fixtures/shopify';
import { parseOrderPayload } from './shopify-order';

describe('parseOrderPayload: the lines campaigns count', () => {
  it('reads each line’s product and amount after its discounts; they add up to the subtotal', () => {
    const facts = parseOrderPayload(
      orderPayload({
        id: 5_001,
        lineItems: [
          { price: '40.00', quantity: 2, productId: 111 },
          { price: '40.00', productId: 222 },
        ],
        discounts: [{ code: 'TENOFF', amount: '12.00' }],
      }),
    );
    // $12.00 spread over $80.00 and $40.00: $8.00 and $4.00.
    expect(facts.lines).toEqual([
      { productId: '111', amountMinor: 7_200 },
      { productId: '222', amountMinor: 3_600 },
    ]);
    expect(facts.lines!.reduce((s, l) => s + l.amountMinor, 0)).toBe(facts.earnAmountMinor);
  });

  it('is null when the body has no line items or a line cannot be read, and the order still parses', () => {
    const body = orderPayload({ id: 5_002, subtotal: '120.00' });
    const { line_items: _, ...without } = body;
    expect(parseOrderPayload(without).lines).toBeNull();
    const broken = structuredClone(body);
    (broken.line_items as Record<string, unknown>[])[0]!.price_set = 'twelve';
    const facts = parseOrderPayload(broken);
    expect(facts.lines).toBeNull();
    expect(facts.earnAmountMinor).toBe(12_000);
  });

  it('keeps a custom item (no product) as a line of no product', () => {
    const body = orderPayload({ id: 5_003, lineItems: [{ price: '10.00' }] });
    (body.line_items as Record<string, unknown>[])[0]!.product_id = null;
    expect(parseOrderPayload(body).lines).toEqual([{ productId: null, amountMinor: 1_000 }]);
  });
});
