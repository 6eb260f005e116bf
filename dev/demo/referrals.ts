/**
 * The demo store's referrals (docs/demo.md, "Referrals"): a referral program published before the
 * replay (effective from the history's start), then — once the replay is processed and the
 * referral code sync has put the chosen members' friend codes into the shop's friend discount —
 * five friends' first orders carrying those codes, as the same signed webhooks the history uses:
 *
 * | Friend | Referrer | What happens                                              | Expected |
 * | ------ | -------- | --------------------------------------------------------- | -------- |
 * | Maya   | first    | signs up, orders $60 with the code                        | rewarded |
 * | Noah   | second   | signs up, orders $85 with the code                        | rewarded |
 * | Iris   | first    | signs up, orders $48, refunded in full two days later     | reversed |
 * | Leo    | third    | signs up, ships the order to the referrer's address       | held     |
 * | a guest | second  | ordered as a guest before; signs up, orders with the code | rejected |
 *
 * The deliveries are dated in the history's last days and derive from it and from the codes (which
 * never change once made), so a re-run builds the same deliveries under the same webhook ids and
 * the inbox recognises them. What the ledger must then hold for referrals is written here from the
 * cases and the program's points, not from Laurel's rules (dev/demo/referral-check.ts).
 */
import {
  currentReferralProgram,
  publishReferralProgram,
} from '../../app/models/referral-programs.server';
import type { Executor } from '../../db/client.server';
import type { ReferralProgramDefinition, ReferralStatus } from '../../loyalty/referrals';
import { customerPayload, orderPayload, refundPayload } from '../shopify-payloads';
import { deliveryOf, sortDeliveries, type Delivery } from './deliveries';
import { isoInZone } from './zoned';

/** The demo's program: 10% off a friend's first order, 500 points to the referrer from $25. */
export const DEMO_REFERRAL_PROGRAM = {
  enabled: true,
  currency: 'USD',
  friendDiscount: { percentage: 10 },
  friendMinimumOrder: null,
  referrerReward: { points: 500 },
  minimumOrder: '25.00',
  reversalWindowDays: 30,
  codePrefix: 'FRIEND-',
} satisfies ReferralProgramDefinition;

export const DEMO_REFERRER_POINTS = DEMO_REFERRAL_PROGRAM.referrerReward.points;

/** Publishes the demo's program effective `from` (the history's start) unless the shop has one. */
export async function ensureDemoReferralProgram(
  db: Executor,
  shopId: number,
  from: Date,
): Promise<void> {
  if (await currentReferralProgram(db, shopId)) return;
  await publishReferralProgram(db, shopId, DEMO_REFERRAL_PROGRAM, from);
}

type Json = Record<string, unknown>;

/** Who refers whom: three referrers from the history, and someone who ordered before. */
export interface ReferralCast {
  referrers: [Json, Json, Json];
  /**
   * Someone the friend discount's "no orders yet" segment lets through but who is no new customer:
   * a shopper who ordered as a guest and signs up now (Laurel finds the earlier order by email),
   * or, for a history without guest orders, a member who ordered before.
   */
  existing: { kind: 'guest'; email: string } | { kind: 'account'; customer: Json };
}

/**
 * The cast from the history's deliveries: the three customers with a paid order and the lowest
 * Shopify ids refer; the existing customer is the first guest order's email (else the next
 * customer with an order). Undefined when the history has too few customers with orders.
 */
export function referralCast(deliveries: readonly Delivery[]): ReferralCast | undefined {
  const created = new Map<number, Json>();
  const ordered = new Set<number>();
  let guest: string | undefined;
  for (const d of deliveries) {
    const p = d.payload as Json;
    if (d.topic === 'customers/create' && typeof p.id === 'number') created.set(p.id, p);
    if (d.topic === 'orders/paid' && p.test !== true) {
      const c = p.customer as Json | null | undefined;
      if (c && typeof c.id === 'number') ordered.add(c.id);
      else if (!c && typeof p.email === 'string' && p.email !== '') guest ??= p.email;
    }
  }
  const ids = [...ordered].filter((id) => created.has(id)).sort((a, b) => a - b);
  const [a, b, c, d] = ids.map((id) => created.get(id)!);
  if (!a || !b || !c) return undefined;
  if (guest) return { referrers: [a, b, c], existing: { kind: 'guest', email: guest } };
  return d ? { referrers: [a, b, c], existing: { kind: 'account', customer: d } } : undefined;
}

/** One friend's first order and what it should come to. */
export interface ReferralCase {
  label: string;
  friend: string;
  /** Shopify ids. */
  referrerId: string;
  friendId: string;
  orderId: string;
  orderName: string;
  friendCode: string;
  expected: ReferralStatus;
  /** Why, in words, for the summary. */
  why: string;
}

export interface ReferralScenario {
  deliveries: Delivery[];
  cases: ReferralCase[];
}

const HOUR = 3_600_000;

function maxId(deliveries: readonly Delivery[], topic: string, field = 'id'): number {
  let max = 0;
  for (const d of deliveries) {
    if (d.topic !== topic) continue;
    const value = (d.payload as Json)[field];
    if (typeof value === 'number' && value > max) max = value;
  }
  return max;
}

function address(street: string, zip: string, first: string, last: string): Json {
  return {
    first_name: first,
    last_name: last,
    company: null,
    address1: street,
    address2: null,
    city: 'Brooklyn',
    province: 'New York',
    country: 'United States',
    zip,
    phone: null,
    name: `${first} ${last}`,
    province_code: 'NY',
    country_code: 'US',
    country_name: 'United States',
  };
}

/**
 * The referral deliveries for `cast` with each referrer's friend code (`codes`: Shopify customer
 * id → friend code), after `history` (their ids follow its largest; they are dated in its last
 * three days). Deterministic: the same inputs give the same deliveries and webhook ids.
 */
export function referralDeliveries(options: {
  shop: string;
  timezone: string;
  history: readonly Delivery[];
  cast: ReferralCast;
  codes: ReadonlyMap<string, string>;
}): ReferralScenario {
  const { shop, timezone, history, cast } = options;
  const last = Math.max(...history.map((d) => Date.parse(d.occurredAt)));
  const start = last - 72 * HOUR;
  let customerId = maxId(history, 'customers/create') + 1_000_000;
  let orderId = maxId(history, 'orders/paid') + 1_000_000;
  const refundId = maxId(history, 'refunds/create') + 1_000_000;
  let orderNumber = maxId(history, 'orders/paid', 'order_number') + 100;
  const codeOf = (referrer: Json) => {
    const code = options.codes.get(String(referrer.id));
    if (!code) throw new Error(`no friend code for referrer ${String(referrer.id)}`);
    return code;
  };
  const [first, second, third] = cast.referrers;
  const deliveries: Delivery[] = [];
  const cases: ReferralCase[] = [];

  const order = (
    at: number,
    buyer: Json,
    code: string,
    cents: number,
    ip: string,
    shipTo?: Json,
  ): Json => {
    orderId += 1_000;
    orderNumber += 1;
    const price = (cents / 100).toFixed(2);
    const off = (
      Math.round(cents * DEMO_REFERRAL_PROGRAM.friendDiscount.percentage) / 10_000
    ).toFixed(2);
    const processedAt = isoInZone(at, timezone);
    const body = orderPayload({
      id: orderId,
      orderNumber,
      customer: {
        id: buyer.id as number,
        email: buyer.email as string,
        firstName: buyer.first_name as string,
        lastName: buyer.last_name as string,
        createdAt: buyer.created_at as string,
      },
      lineItems: [{ title: 'Sample Flight', sku: 'TEA-SAMPLER', price }],
      discounts: [{ code, amount: off }],
      shipping: '0.00',
      tax: '0.00',
      currency: 'USD',
      processedAt,
      createdAt: processedAt,
    });
    const own = buyer.default_address as Json;
    (body.customer as Json).default_address = own;
    body.billing_address = own;
    body.shipping_address = shipTo ?? own;
    body.browser_ip = ip;
    body.client_details = {
      accept_language: 'en-US',
      browser_height: null,
      browser_ip: ip,
      browser_width: null,
      session_hash: null,
      user_agent: 'Mozilla/5.0 (demo)',
    };
    deliveries.push(deliveryOf(shop, 'orders/paid', orderId, at, body));
    return body;
  };

  const friend = (
    i: number,
    first_name: string,
    last_name: string,
    street: string,
    zip: string,
  ): Json => {
    customerId += 1_000;
    const at = start + i * 4 * HOUR;
    const body = customerPayload({
      id: customerId,
      email: `${first_name.toLowerCase()}.${last_name.toLowerCase()}@example.net`,
      firstName: first_name,
      lastName: last_name,
      createdAt: isoInZone(at, timezone),
    });
    body.default_address = {
      ...(body.default_address as Json),
      ...address(street, zip, first_name, last_name),
    };
    deliveries.push(deliveryOf(shop, 'customers/create', customerId, at, body));
    return body;
  };

  const add = (
    label: string,
    buyer: Json,
    referrer: Json,
    body: Json,
    expected: ReferralCase['expected'],
    why: string,
  ) =>
    cases.push({
      label,
      friend:
        expected === 'rejected' && cast.existing.kind === 'guest'
          ? `a past guest (${String(buyer.email)})`
          : [buyer.first_name, buyer.last_name].filter(Boolean).join(' '),
      referrerId: String(referrer.id),
      friendId: String(buyer.id),
      orderId: String(body.id),
      orderName: String(body.name),
      friendCode: codeOf(referrer),
      expected,
      why,
    });

  const maya = friend(0, 'Maya', 'Okafor', '18 Linden Street', '11221');
  add(
    'Maya',
    maya,
    first,
    order(start + 1 * HOUR, maya, codeOf(first), 6000, '198.51.100.21'),
    'rewarded',
    'a new customer',
  );

  const noah = friend(1, 'Noah', 'Brandt', '240 Bergen Street', '11217');
  add(
    'Noah',
    noah,
    second,
    order(start + 5 * HOUR, noah, codeOf(second), 8500, '198.51.100.22'),
    'rewarded',
    'a new customer',
  );

  const iris = friend(2, 'Iris', 'Valdez', '7 Cortelyou Road', '11218');
  const irisOrder = order(start + 9 * HOUR, iris, codeOf(first), 4800, '198.51.100.23');
  add('Iris', iris, first, irisOrder, 'reversed', 'refunded in full two days later');
  const refundAt = start + 57 * HOUR;
  const line = (irisOrder.line_items as Json[])[0]!;
  const refund = refundPayload({
    id: refundId,
    orderId: irisOrder.id as number,
    order: irisOrder,
    lineItems: [{ lineItemId: line.id as number, quantity: 1, restockType: 'return' }],
    createdAt: isoInZone(refundAt, timezone),
    processedAt: isoInZone(refundAt, timezone),
    note: 'Returned in full',
  });
  deliveries.push(deliveryOf(shop, 'refunds/create', refundId, refundAt, refund));

  const leo = friend(3, 'Leo', 'Marsh', '55 Prospect Place', '11238');
  add(
    'Leo',
    leo,
    third,
    order(
      start + 13 * HOUR,
      leo,
      codeOf(third),
      7200,
      '198.51.100.24',
      third.default_address as Json,
    ),
    'held',
    "ships to the referrer's address",
  );

  if (cast.existing.kind === 'guest') {
    // A guest shopper signs up: a new account, with the email of an order placed before.
    const email = cast.existing.email;
    const [first, last] = email.split('@')[0]!.split('.');
    const title = (part: string) => part.charAt(0).toUpperCase() + part.slice(1);
    customerId += 1_000;
    const at = start + 16 * HOUR;
    const body = customerPayload({
      id: customerId,
      email,
      firstName: title(first!),
      lastName: last ? title(last) : null,
      createdAt: isoInZone(at, timezone),
    });
    body.default_address = {
      ...(body.default_address as Json),
      ...address('310 Sterling Place', '11238', title(first!), last ? title(last) : ''),
    };
    deliveries.push(deliveryOf(shop, 'customers/create', customerId, at, body));
    add(
      'a past guest',
      body,
      second,
      order(start + 17 * HOUR, body, codeOf(second), 5400, '198.51.100.25'),
      'rejected',
      'ordered as a guest before signing up',
    );
  } else {
    const member = cast.existing.customer;
    add(
      'an existing customer',
      member,
      second,
      order(start + 17 * HOUR, member, codeOf(second), 5400, '198.51.100.25'),
      'rejected',
      'ordered before',
    );
  }

  return { deliveries: sortDeliveries(deliveries), cases };
}

/**
 * The friends' sign-ups alone (`customers/create`), which do not depend on the codes: the emulator
 * is seeded with them at start, like the history's customers, so a re-run's metafield sync finds
 * them at Shopify before their orders are sent again.
 */
export function referralFriendDeliveries(options: {
  shop: string;
  timezone: string;
  history: readonly Delivery[];
  cast: ReferralCast;
}): Delivery[] {
  const standIn = new Map(options.cast.referrers.map((r) => [String(r.id), 'FRIEND-CODE']));
  return referralDeliveries({ ...options, codes: standIn }).deliveries.filter(
    (d) => d.topic === 'customers/create',
  );
}
