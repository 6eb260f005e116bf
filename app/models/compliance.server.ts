/**
 * Shopify's mandatory privacy webhooks: customers/data_request (export what Laurel holds about a
 * customer), customers/redact (scrub a customer's personal data, keep the ledger exact) and
 * shop/redact (app/models/shops.server.ts deleteShopData).
 */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerDataRequests, orders } from '../../db/schema';
import {
  type Customer,
  findCustomerByExternalId,
  findCustomersByEmail,
  redactCustomer,
} from './customers.server';
import { scrubCustomerPayloads } from './inbox.server';
import { balanceOf, entriesFor } from './ledger.server';
import type { Shop } from './shops.server';

export interface ComplianceSubject {
  /** Shopify customer id, when Shopify gave one. */
  customerExternalId: string | null;
  email: string | null;
}

/** The shop's customers the request is about: by Shopify id, else by email. */
export async function customersFor(
  db: Executor,
  shopId: number,
  subject: ComplianceSubject,
): Promise<Customer[]> {
  if (subject.customerExternalId !== null) {
    const customer = await findCustomerByExternalId(db, shopId, subject.customerExternalId);
    if (customer) return [customer];
  }
  return subject.email ? findCustomersByEmail(db, shopId, subject.email) : [];
}

export interface RedactionResult {
  customersRedacted: number;
  ordersRedacted: number;
  payloadsDropped: number;
}

/**
 * customers/redact: scrubs the customer's email, names and birthday, the email of their orders and
 * of the orders Shopify lists, and the stored webhook bodies about them. Ledger entries, balances
 * and order amounts stay: they carry no personal data and the merchant's accounts must still add up.
 */
export async function redactCustomerData(
  tx: Executor,
  shop: Shop,
  subject: ComplianceSubject & { orderIds: readonly string[] },
): Promise<RedactionResult> {
  const found = await customersFor(tx, shop.id, subject);
  for (const customer of found) await redactCustomer(tx, shop.id, customer.id);
  const customerIds = found.map((c) => c.id);
  const which = [
    ...(customerIds.length > 0 ? [inArray(orders.customerId, customerIds)] : []),
    ...(subject.orderIds.length > 0 ? [inArray(orders.shopifyOrderId, [...subject.orderIds])] : []),
    ...(subject.email ? [eq(orders.email, subject.email)] : []),
  ];
  let redactedOrders: { shopifyOrderId: string }[] = [];
  if (which.length > 0) {
    redactedOrders = await tx
      .update(orders)
      .set({
        email: null,
        redactedAt: sql`coalesce(${orders.redactedAt}, now())`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(orders.shopId, shop.id), or(...which)))
      .returning({ shopifyOrderId: orders.shopifyOrderId });
  }
  const orderIds = [
    ...new Set([...subject.orderIds, ...redactedOrders.map((o) => o.shopifyOrderId)]),
  ];
  let payloadsDropped = 0;
  for (const externalId of found.length > 0
    ? found.map((c) => c.externalId)
    : [subject.customerExternalId]) {
    payloadsDropped += await scrubCustomerPayloads(tx, shop.domain, {
      customerExternalId: externalId,
      orderIds,
    });
  }
  return {
    customersRedacted: found.length,
    ordersRedacted: redactedOrders.length,
    payloadsDropped,
  };
}

/** What a data request export holds (format version 1). */
export interface CustomerDataExport {
  format: 'laurel-customer-data/1';
  shopDomain: string;
  dataRequestId: string;
  generatedAt: string;
  customers: Array<{
    externalId: string;
    email: string | null;
    firstName: string | null;
    lastName: string | null;
    birthday: string | null;
    enrolledAt: string;
    redactedAt: string | null;
    balance: number;
    lifetimeEarned: number;
    ledger: Array<{
      occurredAt: string;
      source: string;
      points: number;
      reference: string;
      programVersion: number | null;
    }>;
  }>;
  orders: Array<{
    shopifyOrderId: string;
    name: string | null;
    email: string | null;
    currency: string;
    earnAmountMinor: number;
    totalMinor: number;
    processedAt: string | null;
    paidAt: string | null;
    cancelledAt: string | null;
    sourceName: string | null;
  }>;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/**
 * customers/data_request: builds the export of everything Laurel holds about the customer (their
 * record, balance, every ledger entry, their orders and the orders Shopify lists) and stores it
 * once per request for the merchant (`loyalty data-request`). A repeat returns the stored export.
 */
export async function recordDataRequest(
  tx: Executor,
  shop: Shop,
  request: ComplianceSubject & { dataRequestId: string; orderIds: readonly string[] },
  now: Date = new Date(),
): Promise<{ export: CustomerDataExport; created: boolean }> {
  const stored = await getDataRequest(tx, shop.id, request.dataRequestId);
  if (stored) return { export: stored, created: false };
  const found = await customersFor(tx, shop.id, request);
  const exported: CustomerDataExport = {
    format: 'laurel-customer-data/1',
    shopDomain: shop.domain,
    dataRequestId: request.dataRequestId,
    generatedAt: now.toISOString(),
    customers: [],
    orders: [],
  };
  for (const customer of found) {
    const balance = await balanceOf(tx, shop.id, customer.id);
    const entries = await entriesFor(tx, shop.id, customer.id);
    exported.customers.push({
      externalId: customer.externalId,
      email: customer.email,
      firstName: customer.firstName,
      lastName: customer.lastName,
      birthday: customer.birthday,
      enrolledAt: customer.enrolledAt.toISOString(),
      redactedAt: iso(customer.redactedAt),
      balance: balance.balance,
      lifetimeEarned: balance.lifetimeEarned,
      ledger: entries.map((e) => ({
        occurredAt: e.occurredAt.toISOString(),
        source: e.source,
        points: e.points,
        reference: e.idempotencyKey,
        programVersion: e.programVersion,
      })),
    });
  }
  const which = [
    ...(found.length > 0
      ? [
          inArray(
            orders.customerId,
            found.map((c) => c.id),
          ),
        ]
      : []),
    ...(request.orderIds.length > 0 ? [inArray(orders.shopifyOrderId, [...request.orderIds])] : []),
    ...(request.email ? [eq(orders.email, request.email)] : []),
  ];
  if (which.length > 0) {
    const rows = await tx
      .select()
      .from(orders)
      .where(and(eq(orders.shopId, shop.id), or(...which)))
      .orderBy(asc(orders.id));
    exported.orders = rows.map((o) => ({
      shopifyOrderId: o.shopifyOrderId,
      name: o.name,
      email: o.email,
      currency: o.currency,
      earnAmountMinor: Number(o.earnAmountMinor),
      totalMinor: Number(o.totalMinor),
      processedAt: iso(o.processedAt),
      paidAt: iso(o.paidAt),
      cancelledAt: iso(o.cancelledAt),
      sourceName: o.sourceName,
    }));
  }
  const inserted = await tx
    .insert(customerDataRequests)
    .values({
      shopId: shop.id,
      dataRequestId: request.dataRequestId,
      customerId: found[0]?.id ?? null,
      export: exported,
    })
    .onConflictDoNothing({
      target: [customerDataRequests.shopId, customerDataRequests.dataRequestId],
    })
    .returning({ id: customerDataRequests.id });
  return { export: exported, created: inserted.length > 0 };
}

export async function getDataRequest(
  db: Executor,
  shopId: number,
  dataRequestId: string,
): Promise<CustomerDataExport | undefined> {
  const [row] = await db
    .select({ export: customerDataRequests.export })
    .from(customerDataRequests)
    .where(
      and(
        eq(customerDataRequests.shopId, shopId),
        eq(customerDataRequests.dataRequestId, dataRequestId),
      ),
    );
  return row?.export as CustomerDataExport | undefined;
}

/** The shop's data requests, newest first (ids and dates only). */
export async function listDataRequests(db: Executor, shopId: number) {
  return db
    .select({
      dataRequestId: customerDataRequests.dataRequestId,
      createdAt: customerDataRequests.createdAt,
    })
    .from(customerDataRequests)
    .where(eq(customerDataRequests.shopId, shopId))
    .orderBy(sql`${customerDataRequests.createdAt} DESC`);
}
