/**
 * Shopify webhook payloads (REST shape) → the plain facts Laurel's workers act on.
 *
 * Pure: no I/O. Every parser validates with zod, then converts money exactly (parseMoney, never
 * parseFloat) and throws one {@link ShopifyPayloadError} listing every problem with its JSON path.
 * Unknown fields are ignored: Shopify adds fields in every API version.
 *
 * Rules (docs/earning-rules.md):
 * - Money is read from `*_set.shop_money` — the shop's currency. Presentment (shopper) currency
 *   amounts are never used for points. A refund amount in `XXX` ("no currency", sent by POS) is in
 *   the currency the rest of the refund states, else the order's or the shop's.
 * - Messages name the JSON path and the rule, never the value refused: they end up in
 *   `webhook_inbox.last_error` and the logs, and a field can hold personal data.
 * - Amounts may arrive as strings ("12.50", the normal case) or as JSON numbers (a few REST fields,
 *   e.g. `refund_line_items[].subtotal`, and some documentation examples). A number is turned back
 *   into its shortest decimal text (12.5 → "12.5") and parsed like a string: no float arithmetic.
 * - Ids are returned as decimal strings. Shopify ids can exceed 2^53, which JSON.parse silently
 *   rounds, so when `admin_graphql_api_id` is present its exact numeric tail is used (and checked
 *   against `id` when `id` is exact). An unsafe numeric id without a gid is an error, not a guess.
 * - Timestamps must carry an offset (`2026-03-14T10:15:00-04:00` or `…Z`) and become epoch ms.
 */
import { z } from 'zod';
import { isKnownCurrency, MoneyError, parseMoney } from './money';

// ---------------------------------------------------------------------------------------------
// Errors

export interface PayloadIssue {
  /** JSON path such as `refund_line_items[1].subtotal_set.shop_money.amount` (empty = root). */
  path: string;
  message: string;
}

/** Which webhook body a parser was reading. */
export type PayloadKind =
  'order' | 'refund' | 'customer' | 'customers/redact' | 'customers/data_request' | 'shop/redact';

/** A webhook body Laurel cannot act on; `issues` names every problem with its path. */
export class ShopifyPayloadError extends Error {
  readonly kind: PayloadKind;
  readonly issues: PayloadIssue[];
  constructor(kind: PayloadKind, issues: PayloadIssue[]) {
    super(
      `invalid ${kind} payload:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ShopifyPayloadError';
    this.kind = kind;
    this.issues = issues;
  }
}

// ---------------------------------------------------------------------------------------------
// Facts

export interface OrderCustomer {
  /** Shopify customer id (decimal string). */
  id: string;
  /** Lower-cased and trimmed; null when absent or blank. */
  email: string | null;
  firstName: string | null;
  lastName: string | null;
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

export interface CustomerFacts {
  id: string;
  adminGraphqlId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  /** `disabled`, `invited`, `enabled`, `declined`; null when absent. */
  state: string | null;
  /** `verified_email`: the shopper proved they own `email`. False when absent. */
  verifiedEmail: boolean;
  /**
   * `YYYY-MM-DD`. REST customers have no birthday field: taken from a `metafields` entry
   * `facts.birth_date` when the subscription includes that namespace; null otherwise.
   */
  birthday: string | null;
  createdAt: number | null;
  updatedAt: number | null;
}

export interface ComplianceCustomer {
  /** May be null: Shopify can identify the customer by email only. */
  id: string | null;
  email: string | null;
  phone: string | null;
}

export interface ShopRedactFacts {
  shopId: string;
  /** Lower-cased `*.myshopify.com` domain. */
  shopDomain: string;
}

export interface CustomersRedactFacts extends ShopRedactFacts {
  customer: ComplianceCustomer;
  ordersToRedact: string[];
}

export interface CustomersDataRequestFacts extends ShopRedactFacts {
  customer: ComplianceCustomer;
  ordersRequested: string[];
  dataRequestId: string;
}

// ---------------------------------------------------------------------------------------------
// Structural schemas: only the fields Laurel reads, everything else passes through untouched.

const amount = z.union([z.string(), z.number()], {
  error: 'must be a decimal amount such as "12.50"',
});
const currencyCode = z.string({ error: 'must be an ISO 4217 code such as "USD"' });
const moneyBag = z.looseObject(
  {
    shop_money: z.looseObject(
      { amount, currency_code: currencyCode },
      { error: 'must be an object with amount and currency_code' },
    ),
  },
  { error: 'must be an object with shop_money and presentment_money' },
);
const id = z.union([z.number(), z.string()], { error: 'must be a numeric id' });
const text = z.string({ error: 'must be a string' });
const timestamp = z.string({
  error: 'must be an ISO 8601 timestamp such as 2026-03-14T10:15:00-04:00',
});

const orderCustomerSchema = z.looseObject(
  {
    id,
    admin_graphql_api_id: text.nullish(),
    email: text.nullish(),
    first_name: text.nullish(),
    last_name: text.nullish(),
  },
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
  },
  { error: 'must be a JSON object' },
);

const customerSchema = z.looseObject(
  {
    id,
    admin_graphql_api_id: text.nullish(),
    email: text.nullish(),
    first_name: text.nullish(),
    last_name: text.nullish(),
    phone: text.nullish(),
    state: text.nullish(),
    verified_email: z.boolean({ error: 'must be true or false' }).nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
    metafields: z
      .array(
        z.looseObject(
          { namespace: text.nullish(), key: text.nullish(), value: z.unknown() },
          { error: 'must be an object' },
        ),
        { error: 'must be an array' },
      )
      .nullish(),
  },
  { error: 'must be a JSON object' },
);

const complianceCustomerSchema = z.looseObject(
  { id: id.nullish(), email: text.nullish(), phone: text.nullish() },
  { error: 'must be an object with id, email and phone' },
);
const shopRedactSchema = z.looseObject(
  { shop_id: id, shop_domain: text },
  { error: 'must be a JSON object' },
);
const customersRedactSchema = shopRedactSchema.extend({
  customer: complianceCustomerSchema,
  orders_to_redact: z.array(id, { error: 'must be an array of order ids' }).nullish(),
});
const customersDataRequestSchema = shopRedactSchema.extend({
  customer: complianceCustomerSchema,
  orders_requested: z.array(id, { error: 'must be an array of order ids' }).nullish(),
  data_request: z.looseObject({ id }, { error: 'must be an object with id' }),
});

// ---------------------------------------------------------------------------------------------
// Conversion helpers. Each records problems in `issues` (with the full path) and returns
// undefined on failure, so one pass reports everything wrong with a payload.

type Path = readonly PropertyKey[];
type Issues = PayloadIssue[];

function pathText(base: string, path: Path): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

/**
 * Zod's issues as path + rule. Messages are the schema's own words or zod's defaults, which name
 * types and limits, never the input (`reportInput` only lets us tell "missing" from "wrong type")
 * — except `unrecognized_keys`, which lists the body's own key names, so it is reworded.
 */
function zodIssues(error: z.ZodError, base: string): PayloadIssue[] {
  return error.issues.map((issue) => {
    const path = pathText(base, issue.path);
    if (issue.code === 'unrecognized_keys') return { path, message: 'has unexpected keys' };
    if (issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined) {
      return { path, message: 'is required' };
    }
    if (issue.code === 'invalid_type' && !issue.message.startsWith('Invalid input')) {
      return { path, message: issue.message };
    }
    if (issue.code === 'invalid_type') {
      const received =
        'input' in issue ? (issue.input === null ? 'null' : typeof issue.input) : 'something else';
      return {
        path,
        message: `must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${received})`,
      };
    }
    return { path, message: issue.message };
  });
}

function structure<S extends z.ZodType>(
  schema: S,
  json: unknown,
  base: string,
  issues: Issues,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(json, { reportInput: true });
  if (parsed.success) return parsed.data;
  issues.push(...zodIssues(parsed.error, base));
  return undefined;
}

const DIGITS_ONLY = /^[0-9]+$/;

/** The decimal text of a Shopify amount, or undefined (issue recorded). */
function amountText(value: string | number, path: string, issues: Issues): string | undefined {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) {
    issues.push({ path, message: 'must be a finite decimal amount' });
    return undefined;
  }
  // Shortest round-trip text: 10.99 → "10.99", exactly what Shopify serialised.
  return String(value);
}

/** Exact minor units of an amount in `currency`; `signed` allows a leading '-'. */
function minorUnits(
  value: string | number,
  currency: string,
  path: string,
  issues: Issues,
  signed = false,
): number | undefined {
  const raw = amountText(value, path, issues);
  if (raw === undefined) return undefined;
  const negative = signed && raw.startsWith('-');
  const digits = negative ? raw.slice(1) : raw;
  try {
    const minor = parseMoney(digits, currency);
    return negative ? -minor : minor;
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    issues.push({ path, message: error.reason });
    return undefined;
  }
}

function checkCurrency(code: string, path: string, issues: Issues): boolean {
  if (isKnownCurrency(code)) return true;
  issues.push({ path, message: 'is not an ISO 4217 currency code such as "USD"' });
  return false;
}

interface ShopMoney {
  minor: number;
  currency: string;
}

/** `bag.shop_money` in minor units, its currency checked. */
function shopMoney(
  bag: z.infer<typeof moneyBag>,
  path: string,
  issues: Issues,
  signed = false,
): ShopMoney | undefined {
  const currency = bag.shop_money.currency_code;
  if (!checkCurrency(currency, `${path}.shop_money.currency_code`, issues)) return undefined;
  const minor = minorUnits(
    bag.shop_money.amount,
    currency,
    `${path}.shop_money.amount`,
    issues,
    signed,
  );
  return minor === undefined ? undefined : { minor, currency };
}

/**
 * Tracks the shop currency across every shop_money a payload carries: the first one sets it, any
 * other is an error (mixing currencies would make the points maths meaningless).
 */
class ShopCurrency {
  code: string | null = null;
  private source = '';
  constructor(private readonly issues: Issues) {}
  see(code: string, path: string): void {
    if (this.code === null) {
      this.code = code;
      this.source = path;
    } else if (code !== this.code) {
      this.issues.push({
        path,
        message: `is '${code}' but ${this.source} is '${this.code}'; all shop_money amounts must be in the shop currency`,
      });
    }
  }
}

/** A positive integer id as a decimal string, preferring the exact digits of a matching gid. */
function idString(
  value: string | number,
  path: string,
  issues: Issues,
  gid?: { value: string | null | undefined; type: string; path: string },
): string | undefined {
  let fromGid: string | undefined;
  if (gid?.value != null) {
    const prefix = `gid://shopify/${gid.type}/`;
    const tail = gid.value.startsWith(prefix) ? gid.value.slice(prefix.length) : '';
    if (DIGITS_ONLY.test(tail) && !tail.startsWith('0')) {
      fromGid = tail;
    } else {
      issues.push({ path: gid.path, message: `must look like ${prefix}<numeric id>` });
      return undefined;
    }
  }
  let own: string | undefined;
  if (typeof value === 'string') {
    if (!DIGITS_ONLY.test(value) || value.startsWith('0')) {
      issues.push({ path, message: 'is not a positive integer id' });
      return undefined;
    }
    own = value;
  } else if (Number.isInteger(value) && value > 0) {
    if (Number.isSafeInteger(value)) {
      own = String(value);
    } else if (fromGid === undefined) {
      issues.push({
        path,
        message: 'is above 2^53 and was rounded when the JSON was parsed; the exact id is unknown',
      });
      return undefined;
    }
  } else {
    issues.push({ path, message: 'is not a positive integer id' });
    return undefined;
  }
  if (fromGid !== undefined && own !== undefined && own !== fromGid) {
    issues.push({ path: gid!.path, message: `names another id than ${path}` });
    return undefined;
  }
  return fromGid ?? own;
}

const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Epoch ms of an ISO 8601 timestamp with an explicit offset; impossible dates are errors. */
function epochMs(value: string, path: string, issues: Issues): number | undefined {
  const m = ISO_TIMESTAMP.exec(value);
  if (!m) {
    issues.push({
      path,
      message: 'is not an ISO 8601 timestamp with an offset, e.g. 2026-03-14T10:15:00-04:00',
    });
    return undefined;
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(local);
  // Date.UTC rolls 31 April over to 1 May; a round trip catches any out-of-range field.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    issues.push({ path, message: 'is not a real date and time' });
    return undefined;
  }
  if (m[8] === 'Z') return local;
  const offsetHours = Number(m[10]);
  const offsetMinutes = Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) {
    issues.push({ path, message: 'has an impossible UTC offset' });
    return undefined;
  }
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
  return m[9] === '+' ? local - offset : local + offset;
}

function optionalEpochMs(
  value: string | null | undefined,
  path: string,
  issues: Issues,
): number | null | undefined {
  return value == null ? null : epochMs(value, path, issues);
}

/** Lower-cased, trimmed email; blank → null. */
function normaliseEmail(value: string | null | undefined): string | null {
  const trimmed = value?.trim().toLowerCase() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** Trimmed text; blank → null. */
function normaliseText(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

function fail(kind: PayloadKind, issues: Issues): never {
  throw new ShopifyPayloadError(kind, issues);
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
  };
}

// ---------------------------------------------------------------------------------------------
// Customers

const BIRTHDAY_NAMESPACE = 'facts';
const BIRTHDAY_KEY = 'birth_date';
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRealDate(value: string): boolean {
  const m = DATE_ONLY.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

/** Parses a customers/create|update body. */
export function parseCustomerPayload(json: unknown): CustomerFacts {
  const issues: Issues = [];
  const raw = structure(customerSchema, json, '', issues);
  if (!raw) fail('customer', issues);

  const customerId = idString(raw.id, 'id', issues, {
    value: raw.admin_graphql_api_id,
    type: 'Customer',
    path: 'admin_graphql_api_id',
  });
  const createdAt = optionalEpochMs(raw.created_at, 'created_at', issues);
  const updatedAt = optionalEpochMs(raw.updated_at, 'updated_at', issues);

  let birthday: string | null = null;
  (raw.metafields ?? []).forEach((metafield, i) => {
    if (metafield.namespace !== BIRTHDAY_NAMESPACE || metafield.key !== BIRTHDAY_KEY) return;
    if (metafield.value == null || metafield.value === '') return;
    if (typeof metafield.value === 'string' && isRealDate(metafield.value)) {
      birthday = metafield.value;
    } else {
      issues.push({
        path: `metafields[${i}].value`,
        message: 'is not a date (YYYY-MM-DD)',
      });
    }
  });

  if (issues.length > 0) fail('customer', issues);
  return {
    id: customerId!,
    adminGraphqlId: raw.admin_graphql_api_id ?? `gid://shopify/Customer/${customerId}`,
    email: normaliseEmail(raw.email),
    firstName: normaliseText(raw.first_name),
    lastName: normaliseText(raw.last_name),
    phone: normaliseText(raw.phone),
    state: raw.state ?? null,
    verifiedEmail: raw.verified_email === true,
    birthday,
    createdAt: createdAt ?? null,
    updatedAt: updatedAt ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Mandatory compliance webhooks

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

function shopFacts(
  raw: { shop_id: string | number; shop_domain: string },
  issues: Issues,
): ShopRedactFacts | undefined {
  const shopId = idString(raw.shop_id, 'shop_id', issues);
  const shopDomain = raw.shop_domain.trim().toLowerCase();
  if (!SHOP_DOMAIN.test(shopDomain)) {
    issues.push({
      path: 'shop_domain',
      message: 'is not a myshopify.com domain such as example.myshopify.com',
    });
    return undefined;
  }
  return shopId === undefined ? undefined : { shopId, shopDomain };
}

function complianceCustomer(
  raw: z.infer<typeof complianceCustomerSchema>,
  issues: Issues,
): ComplianceCustomer | undefined {
  const customerId = raw.id == null ? null : idString(raw.id, 'customer.id', issues);
  if (customerId === undefined) return undefined;
  const email = normaliseEmail(raw.email);
  if (customerId === null && email === null) {
    issues.push({ path: 'customer', message: 'needs an id or an email to identify the customer' });
    return undefined;
  }
  return { id: customerId, email, phone: normaliseText(raw.phone) };
}

function orderIds(
  values: Array<string | number> | null | undefined,
  field: string,
  issues: Issues,
) {
  const out: string[] = [];
  (values ?? []).forEach((value, i) => {
    const orderId = idString(value, `${field}[${i}]`, issues);
    if (orderId !== undefined) out.push(orderId);
  });
  return out;
}

/** Parses shop/redact (sent 48 hours after uninstall): erase everything for the shop. */
export function parseShopRedactPayload(json: unknown): ShopRedactFacts {
  const issues: Issues = [];
  const raw = structure(shopRedactSchema, json, '', issues);
  if (!raw) fail('shop/redact', issues);
  const shop = shopFacts(raw, issues);
  if (!shop || issues.length > 0) fail('shop/redact', issues);
  return shop;
}

/** Parses customers/redact: scrub the customer's personal data and the listed orders. */
export function parseCustomersRedactPayload(json: unknown): CustomersRedactFacts {
  const issues: Issues = [];
  const raw = structure(customersRedactSchema, json, '', issues);
  if (!raw) fail('customers/redact', issues);
  const shop = shopFacts(raw, issues);
  const customer = complianceCustomer(raw.customer, issues);
  const ordersToRedact = orderIds(raw.orders_to_redact, 'orders_to_redact', issues);
  if (!shop || !customer || issues.length > 0) fail('customers/redact', issues);
  return { ...shop, customer, ordersToRedact };
}

/** Parses customers/data_request: the merchant must receive what Laurel holds on the customer. */
export function parseCustomersDataRequestPayload(json: unknown): CustomersDataRequestFacts {
  const issues: Issues = [];
  const raw = structure(customersDataRequestSchema, json, '', issues);
  if (!raw) fail('customers/data_request', issues);
  const shop = shopFacts(raw, issues);
  const customer = complianceCustomer(raw.customer, issues);
  const ordersRequested = orderIds(raw.orders_requested, 'orders_requested', issues);
  const dataRequestId = idString(raw.data_request.id, 'data_request.id', issues);
  if (!shop || !customer || dataRequestId === undefined || issues.length > 0) {
    fail('customers/data_request', issues);
  }
  return { ...shop, customer, ordersRequested, dataRequestId };
}
