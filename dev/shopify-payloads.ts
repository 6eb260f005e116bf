/**
 * Realistic Shopify webhook bodies (REST shape, API 2026-07) and signed delivery headers, for the
 * demo (dev/demo) and the tests (re-exported by tests/fixtures/shopify.ts).
 *
 * The builders produce internally consistent payloads: line items minus discount allocations equal
 * the subtotal, subtotal + shipping + tax equals the total, every amount appears as a decimal
 * string and in `*_set` objects with shop and presentment money, refunds list their shipping in
 * `refund_shipping_lines` (2024-10+). Money is computed in integer minor units (loyalty/money).
 * A builder throws when asked for an inconsistent payload, so a test cannot silently lie.
 *
 * Pass the result through JSON.stringify to deliver it; `signedWebhook` does that and signs it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { currencyDigits, formatMoney, parseMoney } from '../loyalty/money';

export const DEFAULT_API_VERSION = '2026-07';
const DEFAULT_PROCESSED_AT = '2026-03-14T10:15:00-04:00';

type Json = Record<string, unknown>;

export interface MoneyBagPayload {
  shop_money: { amount: string; currency_code: string };
  presentment_money: { amount: string; currency_code: string };
}

/** Presentment conversion for a payload: shop money × rate, rounded half up to the currency's digits. */
interface Currencies {
  shop: string;
  presentment: string;
  /** Presentment units per shop unit, decimal text ('1.3650'); '1' when the currencies match. */
  rate: string;
}

function toPresentment(minor: number, c: Currencies): number {
  if (c.shop === c.presentment) return minor;
  const [whole, fraction = ''] = c.rate.split('.');
  const rateScaled = BigInt(`${whole}${fraction}`);
  const rateScale = 10n ** BigInt(fraction.length);
  const shift = currencyDigits(c.presentment) - currencyDigits(c.shop);
  let numerator = BigInt(minor) * rateScaled;
  let denominator = rateScale;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  const sign = numerator < 0n ? -1n : 1n;
  const abs = numerator * sign;
  return Number(sign * ((abs * 2n + denominator) / (2n * denominator)));
}

function bag(minor: number, c: Currencies): MoneyBagPayload {
  return {
    shop_money: { amount: formatMoney(minor, c.shop), currency_code: c.shop },
    presentment_money: {
      amount: formatMoney(toPresentment(minor, c), c.presentment),
      currency_code: c.presentment,
    },
  };
}

function currenciesOf(shop: string, presentment?: string, rate?: string): Currencies {
  currencyDigits(shop); // throws on an unknown code
  const p = presentment ?? shop;
  currencyDigits(p);
  if (rate !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(rate)) {
    throw new Error(`presentmentRate '${rate}' must be a plain decimal such as '1.3650'`);
  }
  return { shop, presentment: p, rate: p === shop ? '1' : (rate ?? '1.25') };
}

const gid = (type: string, id: number | string) => `gid://shopify/${type}/${id}`;

/** Deterministic ids in Shopify's current ranges (13–14 digits, below 2^53). */
const derivedId = (base: number, salt: number, i: number) =>
  10_000_000_000_000 + ((base * 7919 + salt * 104_729) % 1_000_000_000) * 100 + i;

/** Splits `total` over `weights` in proportion, integer parts, largest remainder first. */
function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (BigInt(total) * BigInt(w)) / BigInt(sum));
  const parts = exact.map(Number);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const byRemainder = weights
    .map((w, i) => ({ i, r: (BigInt(total) * BigInt(w)) % BigInt(sum) }))
    .sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left === 0) break;
    parts[i]! += 1;
    left -= 1;
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Customers

export interface CustomerOptions {
  id: number;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  /** `enabled` (has an account), `disabled`, `invited`, `declined`. */
  state?: string;
  createdAt?: string;
  updatedAt?: string;
  currency?: string;
  tags?: string;
  /** `YYYY-MM-DD`: adds a `facts.birth_date` metafield, as a subscription with that namespace would. */
  birthday?: string;
}

/** A customers/create|update body (also the shape nested in orders, minus metafields). */
export function customerPayload(options: CustomerOptions): Json {
  const email = options.email === undefined ? `customer${options.id}@example.com` : options.email;
  const createdAt = options.createdAt ?? '2026-01-05T09:30:00-05:00';
  const firstName = options.firstName === undefined ? 'Ada' : options.firstName;
  const lastName = options.lastName === undefined ? 'Lovelace' : options.lastName;
  const payload: Json = {
    id: options.id,
    email,
    created_at: createdAt,
    updated_at: options.updatedAt ?? createdAt,
    first_name: firstName,
    last_name: lastName,
    state: options.state ?? 'enabled',
    note: null,
    verified_email: true,
    multipass_identifier: null,
    tax_exempt: false,
    phone: options.phone ?? null,
    email_marketing_consent:
      email === null
        ? null
        : { state: 'not_subscribed', opt_in_level: 'single_opt_in', consent_updated_at: null },
    sms_marketing_consent: null,
    tags: options.tags ?? '',
    currency: options.currency ?? 'USD',
    tax_exemptions: [],
    admin_graphql_api_id: gid('Customer', options.id),
    default_address: {
      id: derivedId(options.id, 3, 0),
      customer_id: options.id,
      first_name: firstName,
      last_name: lastName,
      company: null,
      address1: '1 Analytical Row',
      address2: null,
      city: 'Ottawa',
      province: 'Ontario',
      country: 'Canada',
      zip: 'K1A 0B1',
      phone: null,
      name: [firstName, lastName].filter(Boolean).join(' '),
      province_code: 'ON',
      country_code: 'CA',
      country_name: 'Canada',
      default: true,
    },
  };
  if (options.birthday !== undefined) {
    payload.metafields = [
      {
        id: derivedId(options.id, 4, 0),
        namespace: 'facts',
        key: 'birth_date',
        value: options.birthday,
        type: 'date',
        owner_id: options.id,
        owner_resource: 'customer',
        admin_graphql_api_id: gid('Metafield', derivedId(options.id, 4, 0)),
      },
    ];
  }
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Orders

export interface LineItemOptions {
  id?: number;
  title?: string;
  /** Unit price, decimal text in shop currency. */
  price: string;
  quantity?: number;
  sku?: string;
  productId?: number;
  variantId?: number;
  giftCard?: boolean;
}

export interface DiscountOptions {
  /** Discount code as typed at checkout. */
  code: string;
  /** Fixed amount off the order, decimal text in shop currency; spread over the line items. */
  amount: string;
}

export interface OrderOptions {
  id: number;
  /** Omitted → a default customer with an account; null → guest checkout (`customer: null`). */
  customer?: CustomerOptions | null;
  /** Order email; defaults to the customer's, or guest<id>@example.com for guests. null = none. */
  email?: string | null;
  /** Subtotal after discounts, before shipping and tax. Optional when lineItems are given. */
  subtotal?: string;
  /** Defaults to subtotal + shipping + tax (tax not added when taxesIncluded). */
  total?: string;
  shipping?: string;
  /** Defaults to 0, or to whatever `total` leaves after subtotal and shipping. */
  tax?: string;
  taxesIncluded?: boolean;
  /** Shop currency. Default USD. */
  currency?: string;
  presentmentCurrency?: string;
  /** Presentment units per shop unit when the currencies differ (default '1.25'). */
  presentmentRate?: string;
  sourceName?: string;
  test?: boolean;
  /** Default ['cash'] for POS, ['shopify_payments'] otherwise; test orders use ['bogus']. */
  paymentGatewayNames?: string[];
  financialStatus?: string;
  processedAt?: string;
  createdAt?: string;
  updatedAt?: string;
  /** Shop-wide order number (order_number; `number` is it minus 1000). Default: derived from id. */
  orderNumber?: number;
  /** Default `#<orderNumber>`. */
  name?: string;
  lineItems?: LineItemOptions[];
  discounts?: DiscountOptions[];
  /** Refund bodies (from refundPayload) already made on the order, as orders/updated carries them. */
  refunds?: Json[];
}

interface BuiltLine {
  options: LineItemOptions;
  id: number;
  quantity: number;
  unitMinor: number;
  discountMinors: number[];
}

/** An orders/create|updated|paid body. */
export function orderPayload(options: OrderOptions): Json {
  const shopCurrency = options.currency ?? 'USD';
  const c = currenciesOf(shopCurrency, options.presentmentCurrency, options.presentmentRate);
  const money = (text: string, what: string) => {
    try {
      return parseMoney(text, shopCurrency);
    } catch (error) {
      throw new Error(`orderPayload ${what}: ${(error as Error).message}`);
    }
  };

  const discounts = options.discounts ?? [];
  const discountMinors = discounts.map((d, i) => money(d.amount, `discounts[${i}].amount`));
  const discountTotal = discountMinors.reduce((a, b) => a + b, 0);

  let lineOptions = options.lineItems;
  if (!lineOptions) {
    if (options.subtotal === undefined) throw new Error('orderPayload needs subtotal or lineItems');
    const price = formatMoney(money(options.subtotal, 'subtotal') + discountTotal, shopCurrency);
    lineOptions = [{ title: 'Linen Shirt', price, sku: 'LINEN-SHIRT-M' }];
  }
  if (lineOptions.length === 0) throw new Error('orderPayload needs at least one line item');
  const lines: BuiltLine[] = lineOptions.map((line, i) => {
    const quantity = line.quantity ?? 1;
    if (!Number.isSafeInteger(quantity) || quantity < 1) {
      throw new Error(`orderPayload lineItems[${i}].quantity must be a whole number ≥ 1`);
    }
    return {
      options: line,
      id: line.id ?? derivedId(options.id, 1, i + 1),
      quantity,
      unitMinor: money(line.price, `lineItems[${i}].price`),
      discountMinors: [],
    };
  });
  const lineTotals = lines.map((l) => l.unitMinor * l.quantity);
  const lineItemsTotal = lineTotals.reduce((a, b) => a + b, 0);
  discountMinors.forEach((amount) => {
    allocate(amount, lineTotals).forEach((part, i) => lines[i]!.discountMinors.push(part));
  });

  const subtotal = lineItemsTotal - discountTotal;
  if (subtotal < 0) throw new Error('orderPayload discounts exceed the line items');
  if (options.subtotal !== undefined && money(options.subtotal, 'subtotal') !== subtotal) {
    throw new Error(
      `orderPayload subtotal ${options.subtotal} ≠ line items ${formatMoney(lineItemsTotal, shopCurrency)} − discounts ${formatMoney(discountTotal, shopCurrency)}`,
    );
  }
  const shipping = options.shipping === undefined ? 0 : money(options.shipping, 'shipping');
  const taxesIncluded = options.taxesIncluded ?? false;
  let tax = options.tax === undefined ? 0 : money(options.tax, 'tax');
  let total = subtotal + shipping + (taxesIncluded ? 0 : tax);
  if (options.total !== undefined) {
    const wanted = money(options.total, 'total');
    if (options.tax === undefined && !taxesIncluded && wanted >= subtotal + shipping) {
      tax = wanted - subtotal - shipping; // the rest of the total is tax
      total = wanted;
    } else if (wanted !== total) {
      throw new Error(
        `orderPayload total ${options.total} ≠ subtotal + shipping${taxesIncluded ? '' : ' + tax'} (${formatMoney(total, shopCurrency)})`,
      );
    }
  }

  const processedAt = options.processedAt ?? DEFAULT_PROCESSED_AT;
  const createdAt = options.createdAt ?? processedAt;
  const customer =
    options.customer === null
      ? null
      : customerPayload({
          currency: shopCurrency,
          ...(options.customer ?? { id: derivedId(options.id, 2, 0) }),
        });
  const email =
    options.email !== undefined
      ? options.email
      : customer
        ? (customer.email as string | null)
        : `guest${options.id}@example.com`;
  if (customer) delete customer.metafields; // nested customers never carry metafields
  const orderNumber = options.orderNumber ?? 1000 + (options.id % 9000);
  const name = options.name ?? `#${orderNumber}`;
  const pos = options.sourceName === 'pos';
  const financialStatus = options.financialStatus ?? 'paid';
  const paid = ['paid', 'partially_refunded', 'refunded'].includes(financialStatus);

  const taxLines =
    tax === 0
      ? []
      : [
          {
            title: 'Sales Tax',
            price: formatMoney(tax, shopCurrency),
            // Display-only rate; money fields stay exact.
            rate: subtotal === 0 ? 0 : Number((BigInt(tax) * 10_000n) / BigInt(subtotal)) / 10_000,
            channel_liable: false,
            price_set: bag(tax, c),
          },
        ];
  const lineTaxes = allocate(
    tax,
    lineTotals.map((t, i) => t - sum(lines[i]!.discountMinors)),
  );

  const lineItems = lines.map((line, i) => {
    const title = line.options.title ?? `Product ${i + 1}`;
    return {
      id: line.id,
      admin_graphql_api_id: gid('LineItem', line.id),
      attributed_staffs: [],
      current_quantity: line.quantity,
      fulfillable_quantity: line.quantity,
      fulfillment_service: 'manual',
      fulfillment_status: null,
      gift_card: line.options.giftCard ?? false,
      grams: 250,
      name: title,
      price: formatMoney(line.unitMinor, shopCurrency),
      price_set: bag(line.unitMinor, c),
      product_exists: true,
      product_id: line.options.productId ?? derivedId(options.id, 5, i + 1),
      properties: [],
      quantity: line.quantity,
      requires_shipping: !(line.options.giftCard ?? false),
      sales_line_item_group_id: null,
      sku: line.options.sku ?? `SKU-${i + 1}`,
      taxable: true,
      title,
      total_discount: '0.00',
      total_discount_set: bag(0, c),
      variant_id: line.options.variantId ?? derivedId(options.id, 6, i + 1),
      variant_inventory_management: 'shopify',
      variant_title: null,
      vendor: 'Laurel Test Goods',
      tax_lines:
        lineTaxes[i] === 0
          ? []
          : [
              {
                title: 'Sales Tax',
                price: formatMoney(lineTaxes[i]!, shopCurrency),
                rate: taxLines[0]?.rate ?? 0,
                channel_liable: false,
                price_set: bag(lineTaxes[i]!, c),
              },
            ],
      duties: [],
      discount_allocations: line.discountMinors.flatMap((amount, d) =>
        amount === 0
          ? []
          : [
              {
                amount: formatMoney(amount, shopCurrency),
                amount_set: bag(amount, c),
                discount_application_index: d,
              },
            ],
      ),
    };
  });

  const shippingLines =
    shipping === 0
      ? []
      : [
          {
            id: derivedId(options.id, 7, 1),
            carrier_identifier: null,
            code: 'Standard',
            current_discounted_price_set: bag(shipping, c),
            discounted_price: formatMoney(shipping, shopCurrency),
            discounted_price_set: bag(shipping, c),
            is_removed: false,
            phone: null,
            price: formatMoney(shipping, shopCurrency),
            price_set: bag(shipping, c),
            requested_fulfillment_service_id: null,
            source: 'shopify',
            title: 'Standard',
            tax_lines: [],
            discount_allocations: [],
          },
        ];

  // current_* = after refunds (Shopify recomputes them as refunds happen).
  const refunds = options.refunds ?? [];
  let refundedMerchandise = 0;
  let refundedTax = 0;
  let refundedShipping = 0;
  for (const refund of refunds) {
    const facts = refundAmounts(refund, shopCurrency);
    refundedMerchandise += facts.merchandise;
    refundedTax += facts.tax;
    refundedShipping += facts.shipping;
  }
  if (refundedMerchandise > subtotal || refundedShipping > shipping || refundedTax > tax) {
    throw new Error('orderPayload refunds exceed what the order charged');
  }
  const currentSubtotal = subtotal - refundedMerchandise;
  const currentTax = tax - refundedTax;
  const currentTotal =
    total - refundedMerchandise - refundedShipping - (taxesIncluded ? 0 : refundedTax);

  const address = customer?.default_address ?? null;
  return {
    id: options.id,
    admin_graphql_api_id: gid('Order', options.id),
    app_id: pos ? 129_785 : 580_111,
    browser_ip: pos ? null : '203.0.113.7',
    buyer_accepts_marketing: false,
    cancel_reason: null,
    cancelled_at: null,
    cart_token: null,
    checkout_id: pos ? null : derivedId(options.id, 8, 0),
    checkout_token: null,
    client_details: null,
    closed_at: null,
    confirmation_number: `LRL${String(options.id % 1_000_000).padStart(6, '0')}`,
    confirmed: true,
    contact_email: email,
    created_at: createdAt,
    currency: shopCurrency,
    current_shipping_price_set: bag(shipping - refundedShipping, c),
    current_subtotal_price: formatMoney(currentSubtotal, shopCurrency),
    current_subtotal_price_set: bag(currentSubtotal, c),
    current_total_additional_fees_set: null,
    current_total_discounts: formatMoney(discountTotal, shopCurrency),
    current_total_discounts_set: bag(discountTotal, c),
    current_total_duties_set: null,
    current_total_price: formatMoney(currentTotal, shopCurrency),
    current_total_price_set: bag(currentTotal, c),
    current_total_tax: formatMoney(currentTax, shopCurrency),
    current_total_tax_set: bag(currentTax, c),
    customer_locale: 'en',
    device_id: pos ? 1 : null,
    discount_codes: discounts.map((d, i) => ({
      code: d.code,
      amount: formatMoney(discountMinors[i]!, shopCurrency),
      type: 'fixed_amount',
    })),
    duties_included: false,
    email,
    estimated_taxes: false,
    financial_status: financialStatus,
    fulfillment_status: null,
    landing_site: pos ? null : '/',
    landing_site_ref: null,
    location_id: pos ? derivedId(options.id, 9, 0) : null,
    merchant_business_entity_id: 'MTU0ODM4MDAwOQ',
    merchant_of_record_app_id: null,
    name,
    note: null,
    note_attributes: [],
    number: orderNumber - 1000,
    order_number: orderNumber,
    order_status_url: `https://laurel-demo.myshopify.com/548380009/orders/${options.id.toString(16)}/authenticate?key=fixture`,
    original_total_additional_fees_set: null,
    original_total_duties_set: null,
    payment_gateway_names: options.paymentGatewayNames ?? (pos ? ['cash'] : ['shopify_payments']),
    phone: null,
    po_number: null,
    presentment_currency: c.presentment,
    processed_at: processedAt,
    reference: null,
    referring_site: null,
    source_identifier: null,
    source_name: options.sourceName ?? 'web',
    source_url: null,
    subtotal_price: formatMoney(subtotal, shopCurrency),
    subtotal_price_set: bag(subtotal, c),
    tags: '',
    tax_exempt: false,
    tax_lines: taxLines,
    taxes_included: taxesIncluded,
    test: options.test ?? false,
    token: `fixture${options.id.toString(16)}`,
    total_cash_rounding_payment_adjustment_set: bag(0, c),
    total_cash_rounding_refund_adjustment_set: bag(0, c),
    total_discounts: formatMoney(discountTotal, shopCurrency),
    total_discounts_set: bag(discountTotal, c),
    total_line_items_price: formatMoney(lineItemsTotal, shopCurrency),
    total_line_items_price_set: bag(lineItemsTotal, c),
    total_outstanding: formatMoney(paid ? 0 : total, shopCurrency),
    total_price: formatMoney(total, shopCurrency),
    total_price_set: bag(total, c),
    total_shipping_price_set: bag(shipping, c),
    total_tax: formatMoney(tax, shopCurrency),
    total_tax_set: bag(tax, c),
    total_tip_received: formatMoney(0, shopCurrency),
    total_weight: 250 * lines.reduce((a, l) => a + l.quantity, 0),
    updated_at: options.updatedAt ?? processedAt,
    user_id: pos ? 548_380_009 : null,
    billing_address: address,
    customer,
    discount_applications: discounts.map((d, i) => ({
      target_type: 'line_item',
      type: 'discount_code',
      value: formatMoney(discountMinors[i]!, shopCurrency),
      value_type: 'fixed_amount',
      allocation_method: 'across',
      target_selection: 'all',
      code: d.code,
    })),
    fulfillments: [],
    line_items: lineItems,
    payment_terms: null,
    refunds,
    shipping_address: pos ? null : address,
    shipping_lines: shippingLines,
    returns: [],
    line_item_groups: [],
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Shop-money totals of a refund body built by refundPayload (for current_* fields). */
function refundAmounts(refund: Json, currency: string) {
  const shop = (b: unknown) =>
    parseMoney(String((b as MoneyBagPayload).shop_money.amount).replace(/^-/, ''), currency);
  const lines = (refund.refund_line_items as Json[] | undefined) ?? [];
  const shippingLines = (refund.refund_shipping_lines as Json[] | undefined) ?? [];
  return {
    merchandise: sum(lines.map((l) => shop(l.subtotal_set))),
    tax: sum(lines.map((l) => shop(l.total_tax_set))),
    shipping: sum(shippingLines.map((l) => shop(l.subtotal_amount_set))),
  };
}

export interface CancelOptions {
  /** Default: one day after the order was processed. */
  cancelledAt?: string;
  reason?: 'customer' | 'fraud' | 'inventory' | 'declined' | 'staff' | 'other';
  /** Default 'voided'; 'refunded' when the cancellation refunded a paid order. */
  financialStatus?: string;
}

/**
 * An orders/cancelled body for `order` (an orderPayload result): cancelled_at, cancel_reason and
 * closed_at set, line items' current quantities and the current_* totals at zero, as Shopify
 * reports a cancelled order.
 */
export function cancelledOrderPayload(order: Json, options: CancelOptions = {}): Json {
  const cancelledAt =
    options.cancelledAt ??
    shiftIso(String(order.processed_at ?? DEFAULT_PROCESSED_AT), 24 * 60 * 60 * 1000);
  const zero = (field: unknown) => {
    const b = structuredClone(field) as MoneyBagPayload;
    b.shop_money.amount = formatMoney(0, b.shop_money.currency_code);
    b.presentment_money.amount = formatMoney(0, b.presentment_money.currency_code);
    return b;
  };
  const currency = String(order.currency);
  const cancelled = structuredClone(order);
  Object.assign(cancelled, {
    cancelled_at: cancelledAt,
    cancel_reason: options.reason ?? 'customer',
    closed_at: cancelledAt,
    updated_at: cancelledAt,
    financial_status: options.financialStatus ?? 'voided',
    current_subtotal_price: formatMoney(0, currency),
    current_subtotal_price_set: zero(order.current_subtotal_price_set),
    current_total_price: formatMoney(0, currency),
    current_total_price_set: zero(order.current_total_price_set),
    current_total_tax: formatMoney(0, currency),
    current_total_tax_set: zero(order.current_total_tax_set),
    current_total_discounts: formatMoney(0, currency),
    current_total_discounts_set: zero(order.current_total_discounts_set),
    current_shipping_price_set: zero(order.current_shipping_price_set),
    total_outstanding: formatMoney(0, currency),
    line_items: (order.line_items as Json[]).map((line) => ({
      ...line,
      current_quantity: 0,
      fulfillable_quantity: 0,
    })),
  });
  return cancelled;
}

/** `iso` moved by `ms`, keeping its UTC offset (Shopify writes times in the shop's zone). */
function shiftIso(iso: string, ms: number): string {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(iso);
  const offsetMin = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date(Date.parse(iso) + ms + offsetMin * 60_000);
  const suffix = m ? m[0] : 'Z';
  return local.toISOString().replace(/\.\d{3}Z$/, suffix);
}

// ---------------------------------------------------------------------------------------------
// Refunds

export interface RefundLineOptions {
  lineItemId: number;
  quantity?: number;
  /** Refunded merchandise after the line's discounts, before tax (decimal text, shop currency). */
  subtotal?: string;
  tax?: string;
  /** Default 'return'; 'no_restock' for a money-only refund. */
  restockType?: 'no_restock' | 'cancel' | 'return' | 'legacy_restock';
}

export interface RefundOptions {
  id: number;
  orderId: number;
  lineItems?: RefundLineOptions[];
  /** Refunded shipping (decimal text): a refund_shipping_lines entry, as API 2024-10+ reports it. */
  shipping?: string;
  /** Report shipping the pre-2024-10 way: an order adjustment of kind shipping_refund. */
  legacyShippingAdjustment?: boolean;
  /**
   * A refund_discrepancy adjustment (signed decimal text): the refund paid differs from the
   * calculated one. From API 2024-10 adjustments carry no `kind`; pass legacyShippingAdjustment to get one.
   */
  discrepancy?: string;
  createdAt?: string;
  processedAt?: string;
  currency?: string;
  presentmentCurrency?: string;
  presentmentRate?: string;
  /**
   * The order (an orderPayload result) being refunded: each refund line embeds its line_item, and a
   * line without `subtotal` refunds its discounted price × quantity (it must divide exactly).
   */
  order?: Json;
  note?: string | null;
}

/** A refunds/create body. */
export function refundPayload(options: RefundOptions): Json {
  const shopCurrency = options.currency ?? (options.order?.currency as string | undefined) ?? 'USD';
  const c = currenciesOf(
    shopCurrency,
    options.presentmentCurrency ?? (options.order?.presentment_currency as string | undefined),
    options.presentmentRate,
  );
  const money = (text: string, what: string) => {
    try {
      return parseMoney(text, shopCurrency);
    } catch (error) {
      throw new Error(`refundPayload ${what}: ${(error as Error).message}`);
    }
  };
  const orderLines = (options.order?.line_items as Json[] | undefined) ?? [];
  const createdAt = options.createdAt ?? '2026-03-20T15:45:00-04:00';

  let merchandise = 0;
  let tax = 0;
  const refundLineItems = (options.lineItems ?? []).map((line, i) => {
    const quantity = line.quantity ?? 1;
    const orderLine = orderLines.find((l) => l.id === line.lineItemId);
    if (options.order && !orderLine) {
      throw new Error(`refundPayload lineItems[${i}]: order has no line item ${line.lineItemId}`);
    }
    let subtotal: number;
    if (line.subtotal !== undefined) {
      subtotal = money(line.subtotal, `lineItems[${i}].subtotal`);
    } else if (orderLine) {
      const lineQuantity = orderLine.quantity as number;
      const discounted =
        money(String(orderLine.price), 'price') * lineQuantity -
        sum(
          ((orderLine.discount_allocations as Json[]) ?? []).map((a) =>
            money(String(a.amount), 'discount allocation'),
          ),
        );
      if ((discounted * quantity) % lineQuantity !== 0) {
        throw new Error(
          `refundPayload lineItems[${i}]: ${quantity} of ${lineQuantity} does not divide the line's discounted total exactly; pass subtotal`,
        );
      }
      subtotal = (discounted * quantity) / lineQuantity;
    } else {
      throw new Error(`refundPayload lineItems[${i}] needs subtotal (or pass order)`);
    }
    const lineTax = line.tax === undefined ? 0 : money(line.tax, `lineItems[${i}].tax`);
    merchandise += subtotal;
    tax += lineTax;
    const restockType = line.restockType ?? 'return';
    return {
      id: derivedId(options.id, 11, i + 1),
      quantity,
      line_item_id: line.lineItemId,
      location_id: restockType === 'no_restock' ? null : 48_783_832_201,
      restock_type: restockType,
      // Shopify writes these two as JSON numbers; the *_set objects hold the exact text.
      subtotal: Number(formatMoney(subtotal, shopCurrency)),
      total_tax: Number(formatMoney(lineTax, shopCurrency)),
      subtotal_set: bag(subtotal, c),
      total_tax_set: bag(lineTax, c),
      line_item: orderLine ?? {
        id: line.lineItemId,
        admin_graphql_api_id: gid('LineItem', line.lineItemId),
        quantity,
        title: 'Refunded item',
      },
    };
  });

  const shipping = options.shipping === undefined ? 0 : money(options.shipping, 'shipping');
  const legacy = options.legacyShippingAdjustment ?? false;
  const adjustments: Json[] = [];
  const refundShippingLines: Json[] = [];
  if (shipping > 0) {
    if (legacy) {
      adjustments.push({
        id: derivedId(options.id, 12, adjustments.length + 1),
        order_id: options.orderId,
        refund_id: options.id,
        amount: formatMoney(-shipping, shopCurrency),
        tax_amount: formatMoney(0, shopCurrency),
        kind: 'shipping_refund',
        reason: 'Shipping refund',
        amount_set: bag(-shipping, c),
        tax_amount_set: bag(0, c),
      });
    } else {
      const shippingLineId = (options.order?.shipping_lines as Json[] | undefined)?.[0]?.id;
      refundShippingLines.push({
        id: derivedId(options.id, 13, 1),
        shipping_line_id: shippingLineId ?? derivedId(options.orderId, 7, 1),
        shipping_line: (options.order?.shipping_lines as Json[] | undefined)?.[0] ?? {},
        subtotal_amount_set: bag(shipping, c),
        tax_amount_set: bag(0, c),
      });
    }
  }
  let discrepancy = 0;
  if (options.discrepancy !== undefined) {
    const negative = options.discrepancy.startsWith('-');
    discrepancy =
      (negative ? -1 : 1) *
      money(negative ? options.discrepancy.slice(1) : options.discrepancy, 'discrepancy');
    adjustments.push({
      id: derivedId(options.id, 12, adjustments.length + 1),
      order_id: options.orderId,
      refund_id: options.id,
      amount: formatMoney(discrepancy, shopCurrency),
      tax_amount: formatMoney(0, shopCurrency),
      ...(legacy ? { kind: 'refund_discrepancy' } : {}),
      reason: 'Refund discrepancy',
      amount_set: bag(discrepancy, c),
      tax_amount_set: bag(0, c),
    });
  }

  // What the payment gateway actually returned: merchandise + tax + shipping − discrepancy
  // (a positive discrepancy is money the merchant kept).
  const paid = merchandise + tax + shipping - discrepancy;
  const transactions =
    paid <= 0
      ? []
      : [
          {
            id: derivedId(options.id, 14, 1),
            order_id: options.orderId,
            kind: 'refund',
            gateway: 'shopify_payments',
            status: 'success',
            message: 'Transaction approved',
            created_at: createdAt,
            test: false,
            authorization: null,
            location_id: null,
            user_id: null,
            parent_id: derivedId(options.orderId, 15, 1),
            processed_at: options.processedAt ?? createdAt,
            device_id: null,
            error_code: null,
            source_name: 'web',
            receipt: {},
            currency_exchange_adjustment: null,
            amount: formatMoney(toPresentment(paid, c), c.presentment),
            currency: c.presentment,
            payment_id: `r${options.id}`,
            manual_payment_gateway: false,
            amount_rounding: null,
            admin_graphql_api_id: gid('OrderTransaction', derivedId(options.id, 14, 1)),
          },
        ];

  return {
    id: options.id,
    order_id: options.orderId,
    created_at: createdAt,
    note: options.note ?? null,
    user_id: null,
    processed_at: options.processedAt ?? createdAt,
    duties: [],
    total_duties_set: bag(0, c),
    return: null,
    restock: false,
    additional_fees: [],
    total_additional_fees_set: bag(0, c),
    refund_shipping_lines: refundShippingLines,
    admin_graphql_api_id: gid('Refund', options.id),
    order_adjustments: adjustments,
    refund_line_items: refundLineItems,
    transactions,
  };
}

// ---------------------------------------------------------------------------------------------
// Mandatory compliance webhooks

/** A stable numeric shop id for a domain (fixtures only). */
export function shopIdFor(shopDomain: string): number {
  let h = 0;
  for (const ch of shopDomain) h = (h * 31 + ch.charCodeAt(0)) % 1_000_000_000;
  return 50_000_000_000 + h;
}

export interface ComplianceCustomerOptions {
  id?: number | null;
  email?: string | null;
  phone?: string | null;
}

export function customersRedactPayload(options: {
  shopDomain: string;
  shopId?: number;
  customer: ComplianceCustomerOptions;
  ordersToRedact?: number[];
}): Json {
  return {
    shop_id: options.shopId ?? shopIdFor(options.shopDomain),
    shop_domain: options.shopDomain,
    customer: {
      id: options.customer.id ?? null,
      email: options.customer.email ?? null,
      phone: options.customer.phone ?? null,
    },
    orders_to_redact: options.ordersToRedact ?? [],
  };
}

export function customersDataRequestPayload(options: {
  shopDomain: string;
  shopId?: number;
  customer: ComplianceCustomerOptions;
  ordersRequested?: number[];
  dataRequestId: number;
}): Json {
  return {
    shop_id: options.shopId ?? shopIdFor(options.shopDomain),
    shop_domain: options.shopDomain,
    orders_requested: options.ordersRequested ?? [],
    customer: {
      id: options.customer.id ?? null,
      email: options.customer.email ?? null,
      phone: options.customer.phone ?? null,
    },
    data_request: { id: options.dataRequestId },
  };
}

export function shopRedactPayload(options: { shopDomain: string; shopId?: number }): Json {
  return {
    shop_id: options.shopId ?? shopIdFor(options.shopDomain),
    shop_domain: options.shopDomain,
  };
}

// ---------------------------------------------------------------------------------------------
// Delivery

export interface WebhookHeaderOptions {
  /** `orders/paid`, `refunds/create`, `customers/redact`… */
  topic: string;
  /** `example.myshopify.com`. */
  shop: string;
  /** The exact raw body that will be sent: the HMAC covers these bytes. */
  body: string;
  /** The app's API secret (SHOPIFY_API_SECRET). */
  secret: string;
  /** Same id = the same delivery retried. Default: a new UUID. */
  webhookId?: string;
  /** Default: a new UUID (shared by all deliveries of one merchant action). */
  eventId?: string;
  apiVersion?: string;
  /** Default: now. */
  triggeredAt?: string;
}

/** Base64 HMAC-SHA256 of the raw body with the app secret: Shopify's X-Shopify-Hmac-Sha256. */
export function shopifyHmac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

/** The headers Shopify sends with a webhook delivery, signed for `body`. */
export function webhookHeaders(options: WebhookHeaderOptions): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Shopify-Topic': options.topic,
    'X-Shopify-Hmac-Sha256': shopifyHmac(options.body, options.secret),
    'X-Shopify-Shop-Domain': options.shop,
    'X-Shopify-API-Version': options.apiVersion ?? DEFAULT_API_VERSION,
    'X-Shopify-Webhook-Id': options.webhookId ?? randomUUID(),
    'X-Shopify-Triggered-At': options.triggeredAt ?? new Date().toISOString(),
    'X-Shopify-Event-Id': options.eventId ?? randomUUID(),
  };
}

export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
}

/** JSON-encodes `payload` and signs it: what to POST to a webhook route. */
export function signedWebhook(
  options: Omit<WebhookHeaderOptions, 'body'> & { payload: unknown },
): SignedWebhook {
  const { payload, ...rest } = options;
  const body = JSON.stringify(payload);
  return { body, headers: webhookHeaders({ ...rest, body }) };
}

/** A POST Request carrying a signed delivery, for route handlers that take a Fetch Request. */
export function webhookRequest(
  url: string,
  options: Omit<WebhookHeaderOptions, 'body'> & { payload: unknown },
): Request {
  const { body, headers } = signedWebhook(options);
  return new Request(url, { method: 'POST', headers, body });
}
