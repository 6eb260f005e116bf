/**
 * What every Shopify webhook parser shares: the error it throws and the conversions each body
 * needs (structure, money, ids, timestamps, text). The parsers themselves: shopify-order.ts
 * (orders and refunds), shopify-customer.ts (customers) and shopify-compliance.ts (the mandatory
 * compliance webhooks).
 *
 * Pure: no I/O. Every parser validates with zod, then converts money exactly (parseMoney, never
 * parseFloat) and throws one {@link ShopifyPayloadError} listing every problem with its JSON path.
 * Unknown fields are ignored: Shopify adds fields in every API version.
 *
 * Rules (docs/earning-rules.md):
 * - Money is read from `*_set.shop_money` — the shop's currency, one per payload.
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
import type { AddressFacts } from './contact-keys';
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
// Structural primitives: only the fields Laurel reads, everything else passes through untouched.

export const amount = z.union([z.string(), z.number()], {
  error: 'must be a decimal amount such as "12.50"',
});
export const currencyCode = z.string({ error: 'must be an ISO 4217 code such as "USD"' });
export const moneyBag = z.looseObject(
  {
    shop_money: z.looseObject(
      { amount, currency_code: currencyCode },
      { error: 'must be an object with amount and currency_code' },
    ),
  },
  { error: 'must be an object with shop_money and presentment_money' },
);
export const id = z.union([z.number(), z.string()], { error: 'must be a numeric id' });
export const text = z.string({ error: 'must be a string' });
export const timestamp = z.string({
  error: 'must be an ISO 8601 timestamp such as 2026-03-14T10:15:00-04:00',
});
/** A postal address (orders' shipping and billing, customers' addresses): the fields compared. */
export const address = z.looseObject(
  {
    address1: text.nullish(),
    address2: text.nullish(),
    city: text.nullish(),
    zip: text.nullish(),
    country_code: text.nullish(),
    phone: text.nullish(),
  },
  { error: 'must be an object or null' },
);

// ---------------------------------------------------------------------------------------------
// Conversion helpers. Each records problems in `issues` (with the full path) and returns
// undefined on failure, so one pass reports everything wrong with a payload.

type Path = readonly PropertyKey[];
export type Issues = PayloadIssue[];

export function pathText(base: string, path: Path): string {
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

export function structure<S extends z.ZodType>(
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
export function minorUnits(
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

export function checkCurrency(code: string, path: string, issues: Issues): boolean {
  if (isKnownCurrency(code)) return true;
  issues.push({ path, message: 'is not an ISO 4217 currency code such as "USD"' });
  return false;
}

interface ShopMoney {
  minor: number;
  currency: string;
}

/** `bag.shop_money` in minor units, its currency checked. */
export function shopMoney(
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
export class ShopCurrency {
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
export function idString(
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
export function epochMs(value: string, path: string, issues: Issues): number | undefined {
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

export function optionalEpochMs(
  value: string | null | undefined,
  path: string,
  issues: Issues,
): number | null | undefined {
  return value == null ? null : epochMs(value, path, issues);
}

/** Lower-cased, trimmed email; blank → null. */
export function normaliseEmail(value: string | null | undefined): string | null {
  const trimmed = value?.trim().toLowerCase() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** Trimmed text; blank → null. */
export function normaliseText(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

/**
 * An address as the referral fraud rules read it (loyalty/contact-keys.ts addressKey), trimmed, the
 * country upper-cased; null when absent or empty of everything they compare.
 */
export function addressFacts(raw: z.infer<typeof address> | null | undefined): AddressFacts | null {
  if (raw == null) return null;
  const facts: AddressFacts = {
    address1: normaliseText(raw.address1),
    address2: normaliseText(raw.address2),
    city: normaliseText(raw.city),
    zip: normaliseText(raw.zip),
    countryCode: normaliseText(raw.country_code)?.toUpperCase() ?? null,
  };
  return Object.values(facts).every((v) => v === null) ? null : facts;
}

export function fail(kind: PayloadKind, issues: Issues): never {
  throw new ShopifyPayloadError(kind, issues);
}
