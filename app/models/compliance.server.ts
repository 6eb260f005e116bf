/**
 * Shopify's mandatory privacy webhooks: customers/data_request (export what Laurel holds about a
 * customer), customers/redact (scrub a customer's personal data, keep the ledger exact) and
 * shop/redact (app/models/shops.server.ts deleteShopData).
 */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerDataRequests, orders } from '../../db/schema';
import { getBirthday } from './birthdays.server';
import {
  type Customer,
  findCustomersBySubject,
  normalizeEmail,
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

/**
 * The shop's customers the request is about: the one with the Shopify id and every one with the
 * email, including an old import's email-keyed twin.
 */
export async function customersFor(
  db: Executor,
  shopId: number,
  subject: ComplianceSubject,
): Promise<Customer[]> {
  return findCustomersBySubject(db, shopId, {
    externalId: subject.customerExternalId,
    email: subject.email,
  });
}

export interface RedactionResult {
  customersRedacted: number;
  ordersRedacted: number;
  exportsRedacted: number;
  /** Stored webhook bodies dropped now. */
  payloadsDropped: number;
  /** Bodies still waiting to be processed: stripped now, dropped when processed. */
  payloadsMarked: number;
}

/**
 * customers/redact: scrubs every copy of the customer's personal data — their customer rows
 * (email, names, birthday, an email used as external id), the email of their orders, of the orders
 * Shopify lists and of guest orders placed with their email, the exports of earlier data requests,
 * and the stored webhook bodies about them. Ledger entries, balances and order amounts stay: they
 * carry no personal data and the merchant's accounts must still add up. What is processed later
 * stays scrubbed: see docs/privacy.md.
 */
export async function redactCustomerData(
  tx: Executor,
  shop: Shop,
  subject: ComplianceSubject & { orderIds: readonly string[] },
): Promise<RedactionResult> {
  const email = subject.email === null ? null : normalizeEmail(subject.email);
  const found = await customersFor(tx, shop.id, subject);
  for (const customer of found) await redactCustomer(tx, shop.id, customer.id);
  const customerIds = found.map((c) => c.id);
  const which = [
    ...(customerIds.length > 0 ? [inArray(orders.customerId, customerIds)] : []),
    ...(subject.orderIds.length > 0 ? [inArray(orders.shopifyOrderId, [...subject.orderIds])] : []),
    ...(email ? [eq(orders.email, email)] : []),
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
  // The external ids as Shopify knows them (an email-keyed twin's is the email, matched by email).
  const externalIds = [
    ...new Set([
      ...(subject.customerExternalId === null ? [] : [subject.customerExternalId]),
      ...found.map((c) => c.externalId).filter((externalId) => !externalId.includes('@')),
    ]),
  ];
  const exportsRedacted = await redactExports(tx, shop.id, {
    customerIds,
    externalIds,
    email,
    orderIds,
  });
  const payloads = await scrubCustomerPayloads(tx, shop.domain, {
    customerExternalIds: externalIds,
    email,
    orderIds,
  });
  return {
    customersRedacted: found.length,
    ordersRedacted: redactedOrders.length,
    exportsRedacted,
    payloadsDropped: payloads.dropped,
    payloadsMarked: payloads.marked,
  };
}

/** An export with every personal field emptied; points, totals and ids kept. */
export function redactedExport(exported: CustomerDataExport, at: Date): CustomerDataExport {
  return {
    ...exported,
    customers: exported.customers.map((c) => ({
      ...c,
      email: null,
      firstName: null,
      lastName: null,
      birthday: null,
      birthMonthDay: null,
      redactedAt: c.redactedAt ?? at.toISOString(),
    })),
    orders: exported.orders.map((o) => ({ ...o, email: null })),
  };
}

function exportIsAbout(
  exported: CustomerDataExport,
  subject: { externalIds: readonly string[]; email: string | null; orderIds: readonly string[] },
): boolean {
  const ids = new Set(subject.externalIds);
  const orderIds = new Set(subject.orderIds);
  const isEmail = (value: string | null) => subject.email !== null && value === subject.email;
  return (
    exported.customers.some((c) => ids.has(c.externalId) || isEmail(c.email)) ||
    exported.orders.some((o) => orderIds.has(o.shopifyOrderId) || isEmail(o.email))
  );
}

/**
 * Empties the personal fields of the shop's data-request exports about the subject. An export is
 * about one person, so all of its personal fields go. A shop has few data requests: they are
 * read whole and matched here.
 */
async function redactExports(
  tx: Executor,
  shopId: number,
  subject: {
    customerIds: readonly number[];
    externalIds: readonly string[];
    email: string | null;
    orderIds: readonly string[];
  },
): Promise<number> {
  const rows = await tx
    .select({
      id: customerDataRequests.id,
      customerId: customerDataRequests.customerId,
      export: customerDataRequests.export,
    })
    .from(customerDataRequests)
    .where(eq(customerDataRequests.shopId, shopId))
    .orderBy(asc(customerDataRequests.id));
  const now = new Date();
  let redacted = 0;
  for (const row of rows) {
    const exported = row.export as CustomerDataExport;
    const about =
      (row.customerId !== null && subject.customerIds.includes(row.customerId)) ||
      exportIsAbout(exported, subject);
    if (!about) continue;
    await tx
      .update(customerDataRequests)
      .set({ export: redactedExport(exported, now) })
      .where(and(eq(customerDataRequests.shopId, shopId), eq(customerDataRequests.id, row.id)));
    redacted++;
  }
  return redacted;
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
    /** The birthday given for the birthday bonus (month and day only; docs/bonuses.md). */
    birthMonthDay: { month: number; day: number; source: string; setAt: string } | null;
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
    const birthMonthDay = await getBirthday(tx, shop.id, customer.id);
    exported.customers.push({
      externalId: customer.externalId,
      email: customer.email,
      firstName: customer.firstName,
      lastName: customer.lastName,
      birthday: customer.birthday,
      birthMonthDay: birthMonthDay && {
        month: birthMonthDay.month,
        day: birthMonthDay.day,
        source: birthMonthDay.source,
        setAt: birthMonthDay.setAt.toISOString(),
      },
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
  const email = request.email === null ? null : normalizeEmail(request.email);
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
    ...(email ? [eq(orders.email, email)] : []),
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
