/**
 * Shopify's mandatory compliance webhooks (shop/redact, customers/redact, customers/data_request)
 * → the facts Laurel's erasure and data-request handlers act on. Pure: no I/O. The error type and
 * the shared conversions (ids, text) are in shopify-payload.ts, with the rules every parser
 * follows.
 */
import { z } from 'zod';
import {
  fail,
  id,
  idString,
  type Issues,
  normaliseEmail,
  normaliseText,
  structure,
  text,
} from './shopify-payload';
import { isMyshopifyDomain } from './shop-domain';

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

function shopFacts(
  raw: { shop_id: string | number; shop_domain: string },
  issues: Issues,
): ShopRedactFacts | undefined {
  const shopId = idString(raw.shop_id, 'shop_id', issues);
  const shopDomain = raw.shop_domain.trim().toLowerCase();
  if (!isMyshopifyDomain(shopDomain)) {
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
