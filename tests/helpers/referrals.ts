/**
 * Referral tests through the real path: signed webhooks POSTed to the webhook routes (HMAC checked,
 * stored in the inbox, enqueued), then processed as the worker does (processInbox). Each shopper is
 * a person of their own — email, street address, phone and IP — because the fixtures' builders give
 * every customer the same default address, which the fraud rules would rightly call one household.
 *
 *   await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));
 *   const stack = await openReferralStack();          // a database, a queue, a shop with programs
 *   const ada = person(1); await stack.deliver('customers/create', customerBody(ada));
 *   const code = await stack.codeOf(ada);             // FRIEND-XXXXXXXX
 *   await stack.deliver('orders/paid', orderBody(person(2), { id: 5001, code }));
 */
import { randomUUID } from 'node:crypto';
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { balanceOf } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureReferralCodes } from '../../app/models/referral-codes.server';
import { publishReferralProgram } from '../../app/models/referral-programs.server';
import { referralOfOrder, type Referral } from '../../app/models/referrals.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import * as customersCreate from '../../app/routes/webhooks.customers.create';
import * as customersRedact from '../../app/routes/webhooks.customers.redact';
import * as customersUpdate from '../../app/routes/webhooks.customers.update';
import * as ordersCancelled from '../../app/routes/webhooks.orders.cancelled';
import * as ordersPaid from '../../app/routes/webhooks.orders.paid';
import * as refundsCreate from '../../app/routes/webhooks.refunds.create';
import type { Database } from '../../db/client.server';
import { webhookInbox } from '../../db/schema';
import {
  cancelledOrderPayload,
  customerPayload,
  orderPayload,
  refundPayload,
  webhookRequest,
} from '../../dev/shopify-payloads';
import { referenceProgram } from '../../loyalty/program';
import type { ReferralProgramDefinition } from '../../loyalty/referrals';
import {
  processInbox,
  processInboxBatch,
  type ProcessOutcome,
  type RowResult,
} from '../../workers/process-inbox';
import { openPipeline, type Pipeline } from './pipeline';
import { STOREFRONT_ENV } from './storefront-env';

type Json = Record<string, unknown>;

const ORIGIN = 'https://laurel.test';
const log = pino({ level: 'silent' });

const routes = {
  'orders/paid': ordersPaid,
  'orders/cancelled': ordersCancelled,
  'refunds/create': refundsCreate,
  'customers/create': customersCreate,
  'customers/update': customersUpdate,
  'customers/redact': customersRedact,
} as const;
export type ReferralTopic = keyof typeof routes;

/** The program the tests run under unless they say otherwise. */
export const TEST_PROGRAM: ReferralProgramDefinition = {
  enabled: true,
  currency: 'USD',
  friendDiscount: { amount: '10.00' },
  referrerReward: { points: 500 },
  minimumOrder: '20.00',
  reversalWindowDays: 30,
  referrerLimit: { count: 2, periodDays: 30 },
  ipLimit: { count: 2, periodDays: 1 },
};

/** Every program version in the tests is in force from here; orders are paid after it. */
export const PROGRAM_FROM = new Date('2026-01-01T00:00:00Z');

export interface Person {
  /** Shopify customer id. */
  id: number;
  email: string;
  phone: string;
  address: {
    address1: string;
    address2: string | null;
    city: string;
    zip: string;
    country_code: string;
  };
  ip: string;
}

/** Shopper `n`: their own email, street, phone and IP address. */
export function person(n: number, change: Partial<Person> = {}): Person {
  return {
    id: 7_700_000_000_000 + n,
    email: `shopper${n}@example.org`,
    phone: `+1 613 555 ${String(1000 + n).slice(-4)}`,
    address: {
      address1: `${n} Referral Lane`,
      address2: null,
      city: 'Ottawa',
      zip: `K${n % 10}A ${n % 10}B${n % 10}`,
      country_code: 'CA',
    },
    ip: `198.51.100.${n % 250}`,
    ...change,
  };
}

function addressOf(p: Person): Json {
  return { ...p.address, first_name: 'Ada', last_name: 'Shopper', phone: null, country: 'Canada' };
}

/** A customers/create|update body for `p`. */
export function customerBody(p: Person, options: { createdAt?: string } = {}): Json {
  const body = customerPayload({
    id: p.id,
    email: p.email,
    phone: p.phone,
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
  body.default_address = { ...addressOf(p), id: p.id + 1, customer_id: p.id, default: true };
  body.addresses = [body.default_address];
  return body;
}

export interface OrderOptions {
  id: number;
  /** The friend code typed at checkout (a $10 code discount); none when omitted. */
  code?: string;
  /** Default $60.00 of goods ($50.00 after the code). */
  price?: string;
  processedAt?: string;
  /** A guest checkout: no customer object. */
  guest?: boolean;
  /** Ship to someone else (another person's address). */
  shipTo?: Person;
  /** Default the person's IP; null: the order states none (a POS order, an import). */
  ip?: string | null;
  test?: boolean;
}

/** An orders/paid body of `p`'s order, shipping to them unless `shipTo` says otherwise. */
export function orderBody(p: Person, options: OrderOptions): Json {
  const body = orderPayload({
    id: options.id,
    customer: options.guest ? null : { id: p.id, email: p.email, phone: p.phone },
    email: p.email,
    lineItems: [{ title: 'Linen Shirt', price: options.price ?? '60.00' }],
    discounts: options.code ? [{ code: options.code, amount: '10.00' }] : [],
    processedAt: options.processedAt ?? '2026-03-14T10:15:00Z',
    ...(options.test ? { test: true } : {}),
  });
  const customer = body.customer as Json | null;
  if (customer) {
    customer.default_address = { ...addressOf(p), id: p.id + 1, customer_id: p.id };
  }
  body.shipping_address = addressOf(options.shipTo ?? p);
  body.billing_address = addressOf(p);
  body.phone = null;
  const ip = options.ip === undefined ? p.ip : options.ip;
  body.browser_ip = ip;
  body.client_details =
    ip === null ? null : { browser_ip: ip, accept_language: 'en-CA', user_agent: 'Mozilla/5.0' };
  return body;
}

export { cancelledOrderPayload, refundPayload };

/** A refunds/create body refunding `amount` of the order's only line, on `processedAt`. */
export function refundBody(order: Json, id: number, amount: string, processedAt: string): Json {
  const line = (order.line_items as Json[])[0]!;
  return refundPayload({
    id,
    orderId: order.id as number,
    order,
    lineItems: [{ lineItemId: line.id as number, subtotal: amount }],
    createdAt: processedAt,
    processedAt,
  });
}

export interface ReferralStack {
  pipeline: Pipeline;
  db: Database;
  shop: Shop;
  /**
   * POSTs a signed delivery to the topic's route (200 expected), then processes the row it stored as
   * the worker does. A repeated `webhookId` is Shopify retrying one delivery: stored once, so the
   * outcome is null.
   */
  deliver(
    topic: ReferralTopic,
    payload: Json,
    options?: { webhookId?: string; shop?: Shop },
  ): Promise<{ inboxId: number | null; outcome: ProcessOutcome | null }>;
  /**
   * POSTs signed deliveries, then processes them together, as a worker given many at once does
   * (one transaction for the order topics). Returns each row's result.
   */
  deliverBatch(deliveries: [ReferralTopic, Json][]): Promise<Map<number, RowResult>>;
  /** A shop of its own (another merchant), with the same programs. */
  newShop(): Promise<Shop>;
  /** The Laurel customer id of a shopper. */
  customerId(p: Person, shop?: Shop): Promise<number>;
  /** The member's friend code (made now if they have none). */
  codeOf(p: Person, shop?: Shop): Promise<string>;
  balance(p: Person, shop?: Shop): Promise<number>;
  referral(orderId: number, shop?: Shop): Promise<Referral | undefined>;
  close(): Promise<void>;
}

export async function openReferralStack(
  program: ReferralProgramDefinition = TEST_PROGRAM,
): Promise<ReferralStack> {
  const pipeline = await openPipeline();
  const db = pipeline.db.db;
  const newShop = async () => {
    const shop = await ensureShop(db, {
      domain: `laurel-referrals-${randomUUID().slice(0, 8)}.myshopify.com`,
      currency: 'USD',
      timezone: 'UTC',
    });
    await publishProgram(db, shop.id, referenceProgram, PROGRAM_FROM);
    await publishReferralProgram(db, shop.id, program, PROGRAM_FROM);
    return shop;
  };
  const shop = await newShop();
  /** POSTs a signed delivery to its route; the inbox id it was stored as, or null for a repeat. */
  const post = async (
    topic: ReferralTopic,
    payload: Json,
    webhookId: string = randomUUID(),
    inShop: Shop = shop,
  ): Promise<number | null> => {
    const response = await routes[topic].action({
      request: webhookRequest(`${ORIGIN}/webhooks/${topic}`, {
        topic,
        shop: inShop.domain,
        secret: STOREFRONT_ENV.SHOPIFY_API_SECRET,
        payload,
        webhookId,
      }),
      params: {},
      context: {},
    } as ActionFunctionArgs);
    if (response.status !== 200) {
      throw new Error(`${topic} answered ${response.status}: ${await response.text()}`);
    }
    const { duplicate } = (await response.json()) as { duplicate: boolean };
    if (duplicate) return null;
    const [row] = await db
      .select({ id: webhookInbox.id })
      .from(webhookInbox)
      .where(eq(webhookInbox.webhookId, webhookId));
    return row!.id;
  };
  const stack: ReferralStack = {
    pipeline,
    db,
    shop,
    newShop,
    async deliver(topic, payload, options = {}) {
      const webhookId = options.webhookId ?? randomUUID();
      const id = await post(topic, payload, webhookId, options.shop);
      return { inboxId: id, outcome: id === null ? null : await processInbox(db, id, log) };
    },
    async deliverBatch(deliveries) {
      const ids: number[] = [];
      for (const [topic, payload] of deliveries) ids.push((await post(topic, payload))!);
      return processInboxBatch(db, ids, log);
    },
    async customerId(p, inShop = shop) {
      const customer = await findCustomerByExternalId(db, inShop.id, String(p.id));
      if (!customer) throw new Error(`shopper ${p.id} is no customer of ${inShop.domain}`);
      return customer.id;
    },
    async codeOf(p, inShop = shop) {
      const id = await stack.customerId(p, inShop);
      const codes = await ensureReferralCodes(db, inShop.id, [id], 'FRIEND-');
      return codes.get(id)!.friendCode;
    },
    async balance(p, inShop = shop) {
      return (await balanceOf(db, inShop.id, await stack.customerId(p, inShop))).balance;
    },
    referral: (orderId, inShop = shop) => referralOfOrder(db, inShop.id, String(orderId)),
    close: () => pipeline.close(),
  };
  return stack;
}
