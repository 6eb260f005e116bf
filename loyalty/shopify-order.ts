/**
 * Shopify orders/* and refunds/create bodies (REST shape) → the order and refund facts Laurel's
 * workers act on. Pure: no I/O. The error type and the conversions every parser shares (money,
 * ids, timestamps) are in shopify-payload.ts, with the rules they follow.
 *
 * Rules (docs/earning-rules.md):
 * - Money is read from `*_set.shop_money` — the shop's currency. Presentment (shopper) currency
 *   amounts are never used for points. A refund amount in `XXX` ("no currency", sent by POS) is in
 *   the currency the rest of the refund states, else the order's or the shop's.
 */
import { z } from 'zod';
import { ipKey, type AddressFacts } from './contact-keys';
import { orderLinesOf, type OrderLineFacts } from './order-lines';
import {
  address,
  addressFacts,
  amount,
  checkCurrency,
  currencyCode,
  epochMs,
  fail,
  id,
  idString,
  type Issues,
  minorUnits,
  moneyBag,
  normaliseEmail,
  normaliseText,
  optionalEpochMs,
  pathText,
  ShopCurrency,
  shopMoney,
  structure,
  text,
  timestamp,
} from './shopify-payload';

// ---------------------------------------------------------------------------------------------
// Facts

export interface OrderCustomer {
  /** Shopify customer id (decimal string). */
  id: string;
  /** Lower-cased and trimmed; null when absent or blank. */
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  /** The account's phone (`customer.phone`), trimmed; null if none. */
  phone: string | null;
}

export interface OrderFacts {
  /** Shopify order id (decimal string). */
  orderId: string;
  /** `gid://shopify/Order/<orderId>` (built from the id when the payload has none). */
  adminGraphqlId: string;
  /** `#1001`. */
  name: string;
  /** null = guest checkout (no customer object, or `customer: null`). */
  customer: OrderCustomer | null;
  /** The order's email (`email`, else `contact_email`), lower-cased and trimmed; null if none. */
  email: string | null;
  /** ISO 4217 code of the shop currency: every *Minor amount below is in it. */
  shopCurrency: string;
  /** What the shopper saw (recorded only; never used for points). */
  presentmentCurrency: string | null;
  /** Subtotal after discounts, before shipping, duties, tax and tips (`subtotal_price_set`). */
  earnAmountMinor: number;
  /** `total_price_set`: what the shopper paid, shipping and tax included. */
  totalMinor: number;
  /** Prices include tax (`taxes_included`, common in the EU/UK/AU): the subtotal then includes it. */
  taxesIncluded: boolean;
  /** `web`, `pos`, `shopify_draft_order`, an app id…; null when absent. */
  sourceName: string | null;
  /** Shopify test order (bogus gateway / test mode). */
  test: boolean;
  financialStatus: string | null;
  /** Business time of the order: `processed_at`, else `created_at` (epoch ms). */
  processedAt: number;
  updatedAt: number | null;
  cancelledAt: number | null;
  cancelReason: string | null;
  /** Refunds embedded in the order body (orders/updated, orders/cancelled), parsed like refunds/create. */
  refunds: RefundFacts[];
  /**
   * The discount codes the order used (`discount_codes[].code`), trimmed, as typed: how a
   * redemption's code is seen being used (docs/redemption.md).
   */
  discountCodes: string[];
  /**
   * Contact facts the referral fraud rules compare (docs/referrals.md): the order's `phone`, its
   * shipping and billing addresses and the shopper's IP (`client_details.browser_ip`). Laurel
   * keeps them only as keyed hashes (app/models/fingerprints.server.ts), never as given.
   */
  phone: string | null;
  shippingAddress: AddressFacts | null;
  billingAddress: AddressFacts | null;
  /** The phones of the shipping and billing addresses (where checkout usually puts one), once each. */
  addressPhones: string[];
  browserIp: string | null;
  /**
   * The order's lines: product (null for a custom item) and amount after the line's discounts
   * (price × quantity − discount_allocations), shop currency. What a campaign limited to some
   * products counts (docs/campaigns.md). Null when the body has no line_items or one cannot be
   * read: the order then earns no scoped campaign, and nothing else about it changes.
   */
  lines?: OrderLineFacts[] | null;
}

export interface RefundLineFacts {
  lineItemId: string;
  quantity: number;
  /** Refunded merchandise after the line's discounts, before tax, in shop currency. */
  subtotalMinor: number;
  /** `no_restock`, `cancel`, `return`, `legacy_restock`; null when absent. */
  restockType: string | null;
}

export interface RefundFacts {
  refundId: string;
  orderId: string;
  adminGraphqlId: string;
  /** When Shopify recorded the refund (epoch ms). */
  createdAt: number;
  /** When the refund happened: `processed_at`, else `created_at` (differs only for imported refunds). */
  processedAt: number;
  /** Σ refund_line_items[].subtotal_set.shop_money — what reverses points. */
  merchandiseMinor: number;
  /** Refunded shipping (absolute), from refund_shipping_lines or legacy shipping_refund adjustments. */
  shippingMinor: number;
  /**
   * Σ of the other order_adjustments (kind `refund_discrepancy`, or no kind from API 2024-10 on), signed
   * as Shopify reports them. Recorded for explanation; ignored for points.
   */
  discrepancyMinor: number;
  /**
   * Shop currency of the amounts above (the caller's shop currency when they state none, `XXX`);
   * null when the refund carries no amount at all.
   */
  shopCurrency: string | null;
  lineItems: RefundLineFacts[];
}

// ---------------------------------------------------------------------------------------------
// Structural schemas: only the fields Laurel reads, everything else passes through untouched.

const orderCustomerSchema = z.looseObject(
  {
    id,
    admin_graphql_api_id: text.nullish(),
    email: text.nullish(),
    first_name: text.nullish(),
    last_name: text.nullish(),
    phone: text.nullish(),
  },
  { error: 'must be an object or null' },
);

const clientDetailsSchema = z.looseObject(
  { browser_ip: text.nullish() },
  { error: 'must be an object or null' },
);

const refundSchema = z.looseObject(
  {
    id,
    order_id: id,
    admin_graphql_api_id: text.nullish(),
    created_at: timestamp,
    processed_at: timestamp.nullish(),
    refund_line_items: z.array(
      z.looseObject(
        {
          line_item_id: id,
          quantity: z
            .number({ error: 'must be a number' })
            .int('must be a whole number')
            .nonnegative('must not be negative'),
          restock_type: text.nullish(),
          subtotal_set: moneyBag,
        },
        { error: 'must be an object' },
      ),
      { error: 'must be an array (empty when no line items were refunded)' },
    ),
    refund_shipping_lines: z
      .array(z.looseObject({ subtotal_amount_set: moneyBag }, { error: 'must be an object' }), {
        error: 'must be an array',
      })
      .nullish(),
    order_adjustments: z
      .array(
        z.looseObject(
          { kind: text.nullish(), amount: amount.nullish(), amount_set: moneyBag.nullish() },
          { error: 'must be an object' },
        ),
        { error: 'must be an array' },
      )
      .nullish(),
  },
  { error: 'must be a JSON object' },
);

const orderSchema = z.looseObject(
  {
    id,
    admin_graphql_api_id: text.nullish(),
    name: text,
    email: text.nullish(),
    contact_email: text.nullish(),
    currency: currencyCode.nullish(),
    presentment_currency: currencyCode.nullish(),
    subtotal_price: amount.nullish(),
    subtotal_price_set: moneyBag.nullish(),
    total_price: amount.nullish(),
    total_price_set: moneyBag.nullish(),
    taxes_included: z.boolean({ error: 'must be true or false' }).nullish(),
    source_name: text.nullish(),
    test: z.boolean({ error: 'must be true or false' }),
    financial_status: text.nullish(),
    processed_at: timestamp.nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
    cancelled_at: timestamp.nullish(),
    cancel_reason: text.nullish(),
    customer: orderCustomerSchema.nullish(),
    refunds: z.array(z.unknown(), { error: 'must be an array' }).nullish(),
    discount_codes: z.array(z.unknown(), { error: 'must be an array' }).nullish(),
    line_items: z.unknown().optional(),
    phone: text.nullish(),
    shipping_address: address.nullish(),
    billing_address: address.nullish(),
    client_details: clientDetailsSchema.nullish(),
  },
  { error: 'must be a JSON object' },
);

/**
 * The codes of `discount_codes`. An entry without a text code is skipped rather than refused: the
 * codes only mark redemptions used, and a malformed one must not stop the order from earning.
 */
function discountCodesOf(entries: readonly unknown[] | null | undefined): string[] {
  const codes: string[] = [];
  for (const entry of entries ?? []) {
    const code = (entry as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.trim() !== '' && !codes.includes(code.trim())) {
      codes.push(code.trim());
    }
  }
  return codes;
}

// ---------------------------------------------------------------------------------------------
// Refunds

/**
 * ISO 4217's "no currency". Shopify POS has sent refunds whose line amounts say `XXX` (shop and
 * presentment money alike) while the money returned was in the shop currency: such an amount is
 * read in the currency the rest of the refund states, else the shop's (docs/earning-rules.md).
 */
const NO_CURRENCY = 'XXX';

type MoneyBag = z.infer<typeof moneyBag>;

function refundFacts(
  json: unknown,
  base: string,
  issues: Issues,
  shopCurrency: string | null,
): RefundFacts | undefined {
  const before = issues.length;
  const raw = structure(refundSchema, json, base, issues);
  if (!raw) return undefined;
  const at = (path: string) => pathText(base, [path]);

  const refundId = idString(raw.id, at('id'), issues, {
    value: raw.admin_graphql_api_id,
    type: 'Refund',
    path: at('admin_graphql_api_id'),
  });
  const orderId = idString(raw.order_id, at('order_id'), issues);
  const createdAt = epochMs(raw.created_at, at('created_at'), issues);
  const processedAt =
    raw.processed_at != null ? epochMs(raw.processed_at, at('processed_at'), issues) : createdAt;

  // Every shop-money amount of the refund, with its path; an adjustment without amount_set is an
  // old payload whose `amount` is in the shop currency.
  const shippingLines = raw.refund_shipping_lines ?? [];
  const lineBags = raw.refund_line_items.map((line, i) => ({
    bag: line.subtotal_set,
    path: pathText(base, ['refund_line_items', i, 'subtotal_set']),
  }));
  const shippingBags = shippingLines.map((line, i) => ({
    bag: line.subtotal_amount_set,
    path: pathText(base, ['refund_shipping_lines', i, 'subtotal_amount_set']),
  }));
  const adjustments = (raw.order_adjustments ?? []).map((adjustment, i) => ({
    adjustment,
    path: pathText(base, ['order_adjustments', i]),
  }));

  // First the currency the refund states: every code checked, all stated ones must agree.
  const currency = new ShopCurrency(issues);
  const unusable = new Set<MoneyBag>();
  let unstated = false;
  const state = ({ bag, path }: { bag: MoneyBag; path: string }) => {
    const code = bag.shop_money.currency_code;
    if (code === NO_CURRENCY) unstated = true;
    else if (checkCurrency(code, `${path}.shop_money.currency_code`, issues)) {
      currency.see(code, `${path}.shop_money.currency_code`);
    } else unusable.add(bag);
  };
  lineBags.forEach(state);
  shippingBags.forEach(state);
  for (const { adjustment, path } of adjustments) {
    if (adjustment.amount_set != null)
      state({ bag: adjustment.amount_set, path: `${path}.amount_set` });
    else if (adjustment.amount != null) unstated = true;
  }
  // Then the currency every amount is read in: the stated one, else the shop's (when the caller
  // knows it). A stated currency other than the shop's is kept, for the handler to refuse.
  const code = currency.code ?? (unstated ? shopCurrency : null);

  const minorOf = (
    { bag, path }: { bag: MoneyBag; path: string },
    signed = false,
  ): number | undefined => {
    if (unusable.has(bag)) return undefined;
    if (code === null) {
      issues.push({
        path: `${path}.shop_money.currency_code`,
        message: `is ${NO_CURRENCY} (no currency) and nothing else in the refund states the shop currency`,
      });
      return undefined;
    }
    return minorUnits(bag.shop_money.amount, code, `${path}.shop_money.amount`, issues, signed);
  };

  const lineItems: RefundLineFacts[] = [];
  let merchandiseMinor = 0;
  raw.refund_line_items.forEach((line, i) => {
    const path = pathText(base, ['refund_line_items', i]);
    const lineItemId = idString(line.line_item_id, `${path}.line_item_id`, issues);
    const minor = minorOf(lineBags[i]!);
    if (minor === undefined || lineItemId === undefined) return;
    merchandiseMinor += minor;
    lineItems.push({
      lineItemId,
      quantity: line.quantity,
      subtotalMinor: minor,
      restockType: line.restock_type ?? null,
    });
  });

  // Refunded shipping: API 2024-10+ lists refund_shipping_lines; older versions report it as an
  // order adjustment of kind shipping_refund (negative). Never both, so lines win when present.
  let shippingFromLines = 0;
  for (const shippingBag of shippingBags) {
    const minor = minorOf(shippingBag, true);
    if (minor !== undefined) shippingFromLines += Math.abs(minor);
  }

  let shippingFromAdjustments = 0;
  let discrepancyMinor = 0;
  for (const { adjustment, path } of adjustments) {
    let minor: number | undefined;
    if (adjustment.amount_set != null) {
      minor = minorOf({ bag: adjustment.amount_set, path: `${path}.amount_set` }, true);
    } else if (adjustment.amount != null) {
      if (code === null) {
        issues.push({
          path: `${path}.amount`,
          message: 'has no currency: amount_set (with shop_money) is required',
        });
        continue;
      }
      minor = minorUnits(adjustment.amount, code, `${path}.amount`, issues, true);
    } else {
      issues.push({ path: `${path}.amount_set`, message: 'is required' });
      continue;
    }
    if (minor === undefined) continue;
    if (adjustment.kind === 'shipping_refund') shippingFromAdjustments += Math.abs(minor);
    else discrepancyMinor += minor;
  }

  if (issues.length > before) return undefined;
  for (const [name, value] of [
    ['merchandise', merchandiseMinor],
    ['shipping', shippingFromLines + shippingFromAdjustments],
    ['discrepancy', discrepancyMinor],
  ] as const) {
    if (!Number.isSafeInteger(value)) {
      issues.push({ path: base, message: `refunded ${name} total is too large` });
      return undefined;
    }
  }
  return {
    refundId: refundId!,
    orderId: orderId!,
    adminGraphqlId: raw.admin_graphql_api_id ?? `gid://shopify/Refund/${refundId}`,
    createdAt: createdAt!,
    processedAt: processedAt!,
    merchandiseMinor,
    shippingMinor: shippingLines.length > 0 ? shippingFromLines : shippingFromAdjustments,
    discrepancyMinor,
    shopCurrency: code,
    lineItems,
  };
}

/**
 * Parses a refunds/create body. merchandiseMinor (Σ refund line subtotals in shop currency) is
 * what reverses points; shipping and discrepancies are recorded, never reversed. A refund of only
 * shipping, or only a restock, has merchandiseMinor 0.
 *
 * `shopCurrency` (the shop's, known to the caller) is the currency of amounts that state none
 * (`XXX`, as POS refunds have) when nothing else in the refund states one.
 */
export function parseRefundPayload(
  json: unknown,
  options: { shopCurrency?: string } = {},
): RefundFacts {
  const issues: Issues = [];
  const facts = refundFacts(json, '', issues, options.shopCurrency ?? null);
  if (!facts || issues.length > 0) fail('refund', issues);
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Orders

/**
 * Parses an orders/create|updated|paid|cancelled body. earnAmountMinor is the subtotal after
 * discounts, before shipping, duties, tax and tips, in shop currency (`subtotal_price_set`;
 * `subtotal_price` with the order's `currency` only when the set is absent).
 */
export function parseOrderPayload(json: unknown): OrderFacts {
  const issues: Issues = [];
  const raw = structure(orderSchema, json, '', issues);
  if (!raw) fail('order', issues);

  const orderId = idString(raw.id, 'id', issues, {
    value: raw.admin_graphql_api_id,
    type: 'Order',
    path: 'admin_graphql_api_id',
  });

  const currency = new ShopCurrency(issues);
  // Read both amounts from their sets first, so the shop currency is known for any fallback.
  const fromSet = (
    bag: z.infer<typeof moneyBag> | null | undefined,
    field: string,
  ): number | undefined => {
    if (bag == null) return undefined;
    const money = shopMoney(bag, field, issues);
    if (money) currency.see(money.currency, `${field}.shop_money.currency_code`);
    return money?.minor;
  };
  let earnAmountMinor = fromSet(raw.subtotal_price_set, 'subtotal_price_set');
  let totalMinor = fromSet(raw.total_price_set, 'total_price_set');
  // REST `currency` is the shop currency; it must agree with shop_money.
  if (raw.currency != null && checkCurrency(raw.currency, 'currency', issues)) {
    currency.see(raw.currency, 'currency');
  }
  const fallback = (value: string | number | null | undefined, field: string, setField: string) => {
    if (value == null) {
      issues.push({ path: setField, message: `is required (or ${field} with currency)` });
      return undefined;
    }
    if (currency.code === null) {
      issues.push({
        path: 'currency',
        message: `is required to read ${field} without ${setField}`,
      });
      return undefined;
    }
    return minorUnits(value, currency.code, field, issues);
  };
  if (raw.subtotal_price_set == null) {
    earnAmountMinor = fallback(raw.subtotal_price, 'subtotal_price', 'subtotal_price_set');
  }
  if (raw.total_price_set == null) {
    totalMinor = fallback(raw.total_price, 'total_price', 'total_price_set');
  }

  if (raw.presentment_currency != null) {
    checkCurrency(raw.presentment_currency, 'presentment_currency', issues);
  }

  let processedAt: number | undefined;
  if (raw.processed_at != null) processedAt = epochMs(raw.processed_at, 'processed_at', issues);
  else if (raw.created_at != null) processedAt = epochMs(raw.created_at, 'created_at', issues);
  else issues.push({ path: 'processed_at', message: 'is required (or created_at)' });
  const updatedAt = optionalEpochMs(raw.updated_at, 'updated_at', issues);
  const cancelledAt = optionalEpochMs(raw.cancelled_at, 'cancelled_at', issues);

  let customer: OrderCustomer | null = null;
  if (raw.customer != null) {
    const customerId = idString(raw.customer.id, 'customer.id', issues, {
      value: raw.customer.admin_graphql_api_id,
      type: 'Customer',
      path: 'customer.admin_graphql_api_id',
    });
    if (customerId !== undefined) {
      customer = {
        id: customerId,
        email: normaliseEmail(raw.customer.email),
        firstName: normaliseText(raw.customer.first_name),
        lastName: normaliseText(raw.customer.last_name),
        phone: normaliseText(raw.customer.phone),
      };
    }
  }

  const refunds: RefundFacts[] = [];
  (raw.refunds ?? []).forEach((refund, i) => {
    const facts = refundFacts(refund, pathText('', ['refunds', i]), issues, currency.code);
    if (facts) refunds.push(facts);
  });
  for (const [i, refund] of refunds.entries()) {
    if (refund.orderId !== orderId) {
      issues.push({
        path: `refunds[${i}].order_id`,
        message: 'names another order than this one',
      });
    }
    if (
      refund.shopCurrency !== null &&
      currency.code !== null &&
      refund.shopCurrency !== currency.code
    ) {
      issues.push({
        path: `refunds[${i}]`,
        message: `is in ${refund.shopCurrency} but the order's shop currency is ${currency.code}`,
      });
    }
  }

  if (raw.name.trim() === '') issues.push({ path: 'name', message: 'must not be empty' });
  if (issues.length > 0) fail('order', issues);
  return {
    orderId: orderId!,
    adminGraphqlId: raw.admin_graphql_api_id ?? `gid://shopify/Order/${orderId}`,
    name: raw.name,
    customer,
    email: normaliseEmail(raw.email ?? raw.contact_email),
    shopCurrency: currency.code!,
    presentmentCurrency: raw.presentment_currency ?? null,
    earnAmountMinor: earnAmountMinor!,
    totalMinor: totalMinor!,
    taxesIncluded: raw.taxes_included ?? false,
    sourceName: normaliseText(raw.source_name),
    test: raw.test,
    financialStatus: raw.financial_status ?? null,
    processedAt: processedAt!,
    updatedAt: updatedAt ?? null,
    cancelledAt: cancelledAt ?? null,
    cancelReason: raw.cancel_reason ?? null,
    refunds,
    discountCodes: discountCodesOf(raw.discount_codes),
    phone: normaliseText(raw.phone),
    shippingAddress: addressFacts(raw.shipping_address),
    billingAddress: addressFacts(raw.billing_address),
    addressPhones: [
      ...new Set(
        [raw.shipping_address?.phone, raw.billing_address?.phone].flatMap((p) => {
          const phone = normaliseText(p);
          return phone === null ? [] : [phone];
        }),
      ),
    ],
    // IPv6 text compares case-insensitively; the hash is of the lower-cased text.
    browserIp: ipKey(raw.client_details?.browser_ip),
    lines: orderLinesOf(
      Array.isArray(raw.line_items) ? (raw.line_items as unknown[]) : null,
      currency.code,
    ),
  };
}

export type { OrderLineFacts } from './order-lines';
