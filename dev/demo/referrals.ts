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
 * | (a member who ordered before) | second | orders with the code               | rejected |
 *
 * The deliveries are dated in the history's last days and derive from it and from the codes (which
 * never change once made), so a re-run builds the same deliveries under the same webhook ids and
 * the inbox recognises them. What the ledger must then hold for referrals is written here from the
 * cases and the program's points, not from Laurel's rules: {@link expectedReferralLedger}.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { appProxySignature } from '../../app/app-proxy.server';
import { ensureReferralCodes } from '../../app/models/referral-codes.server';
import {
  currentReferralProgram,
  publishReferralProgram,
} from '../../app/models/referral-programs.server';
import type { Executor } from '../../db/client.server';
import { customers, ledgerEntries, referralCodes, referrals } from '../../db/schema';
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

/** Who refers whom: three referrers and a member who ordered before, all from the history. */
export interface ReferralCast {
  referrers: [Json, Json, Json];
  /** A customer with a paid order in the history: not a new customer. */
  existing: Json;
}

/**
 * The cast from the history's deliveries: the customers with a paid order, by Shopify id; the
 * three lowest refer, the next one is the existing customer who tries a friend code. Undefined
 * when the history has fewer than four such customers.
 */
export function referralCast(deliveries: readonly Delivery[]): ReferralCast | undefined {
  const created = new Map<number, Json>();
  const ordered = new Set<number>();
  for (const d of deliveries) {
    const p = d.payload as Json;
    if (d.topic === 'customers/create' && typeof p.id === 'number') created.set(p.id, p);
    if (d.topic === 'orders/paid' && p.test !== true) {
      const c = p.customer as Json | null | undefined;
      if (c && typeof c.id === 'number') ordered.add(c.id);
    }
  }
  const ids = [...ordered].filter((id) => created.has(id)).sort((a, b) => a - b);
  if (ids.length < 4) return undefined;
  const [a, b, c, d] = ids.map((id) => created.get(id)!);
  return { referrers: [a!, b!, c!], existing: d! };
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
      friend: `${String(buyer.first_name)} ${String(buyer.last_name)}`,
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

  const existing = cast.existing;
  add(
    'an existing customer',
    existing,
    second,
    order(start + 17 * HOUR, existing, codeOf(second), 5400, '198.51.100.25'),
    'rejected',
    'ordered before',
  );

  return { deliveries: sortDeliveries(deliveries), cases };
}

// ---------------------------------------------------------------------------------------------
// After the replay: codes, checks, the line

/**
 * The referrers' codes, made now if the sync has not made them yet (the program's prefix): what
 * the sync must put into the friend discount before a friend can use them.
 */
export async function referrerCodes(
  db: Executor,
  shopId: number,
  cast: ReferralCast,
  codePrefix: string,
): Promise<Map<string, { friendCode: string; status: string }>> {
  const externalIds = cast.referrers.map((r) => String(r.id));
  const rows = await db
    .select({ id: customers.id, externalId: customers.externalId })
    .from(customers)
    .where(and(eq(customers.shopId, shopId), inArray(customers.externalId, externalIds)));
  const made = await ensureReferralCodes(
    db,
    shopId,
    rows.map((r) => r.id),
    codePrefix,
  );
  const byExternal = new Map<string, { friendCode: string; status: string }>();
  for (const row of rows) {
    const code = made.get(row.id);
    if (code) byExternal.set(row.externalId, { friendCode: code.friendCode, status: code.status });
  }
  return byExternal;
}

/** A referral as the ledger and the referrals table hold it now. */
export interface ReferralOutcome {
  orderId: string;
  status: string;
  reasons: { rule: string }[];
  reviewedBy: string | null;
  referralId: number;
}

export async function referralOutcomes(
  db: Executor,
  shopId: number,
  orderIds: readonly string[],
): Promise<Map<string, ReferralOutcome>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(referrals)
    .where(and(eq(referrals.shopId, shopId), inArray(referrals.shopifyOrderId, [...orderIds])));
  return new Map(
    rows.map((r) => [
      r.shopifyOrderId,
      {
        orderId: r.shopifyOrderId,
        status: r.status,
        reasons: r.reasons as { rule: string }[],
        reviewedBy: r.reviewedBy,
        referralId: r.id,
      },
    ]),
  );
}

/** Ledger entry key → points, for the referral entries the ledger should hold. */
export type ExpectedLedger = Map<string, { customer: string; points: number }>;

/**
 * What the ledger should hold for the cases, from the demo's own reading of the program: a reward
 * of the program's points for each rewarded or reversed referral, its exact opposite for each
 * reversed one, nothing for held or rejected ones. A held referral the merchant has since approved
 * (reviewed, now rewarded) has its reward too.
 */
export function expectedReferralLedger(
  cases: readonly ReferralCase[],
  outcomes: ReadonlyMap<string, ReferralOutcome>,
  points = DEMO_REFERRER_POINTS,
): ExpectedLedger {
  const expected: ExpectedLedger = new Map();
  for (const c of cases) {
    const outcome = outcomes.get(c.orderId);
    if (!outcome) continue;
    const approved =
      c.expected === 'held' && outcome.reviewedBy !== null && outcome.status === 'rewarded';
    if (c.expected === 'rewarded' || c.expected === 'reversed' || approved) {
      expected.set(`referral:${outcome.referralId}:reward`, { customer: c.referrerId, points });
    }
    if (c.expected === 'reversed') {
      expected.set(`referral:${outcome.referralId}:reverse`, {
        customer: c.referrerId,
        points: -points,
      });
    }
  }
  return expected;
}

/** Every difference between the referral cases and what Laurel recorded, in sentences. */
export async function referralDifferences(
  db: Executor,
  shopId: number,
  cases: readonly ReferralCase[],
): Promise<{ problems: string[]; outcomes: Map<string, ReferralOutcome> }> {
  const outcomes = await referralOutcomes(
    db,
    shopId,
    cases.map((c) => c.orderId),
  );
  const problems: string[] = [];
  for (const c of cases) {
    const outcome = outcomes.get(c.orderId);
    if (!outcome) {
      problems.push(`${c.orderName} (${c.label}): no referral recorded, expected ${c.expected}`);
      continue;
    }
    // A held referral may have been reviewed since (in the admin, or by the e2e tests).
    const reviewed = c.expected === 'held' && outcome.reviewedBy !== null;
    if (outcome.status !== c.expected && !reviewed) {
      problems.push(
        `${c.orderName} (${c.label}): ${outcome.status} (${outcome.reasons.map((r) => r.rule).join(', ') || 'no reasons'}), expected ${c.expected}`,
      );
    }
  }
  const expected = expectedReferralLedger(cases, outcomes);
  const ids = [...outcomes.values()].map((o) => o.referralId);
  const entries =
    ids.length === 0
      ? []
      : await db
          .select({
            key: ledgerEntries.idempotencyKey,
            points: ledgerEntries.points,
            customer: customers.externalId,
          })
          .from(ledgerEntries)
          .innerJoin(customers, eq(customers.id, ledgerEntries.customerId))
          .where(
            and(
              eq(ledgerEntries.shopId, shopId),
              eq(ledgerEntries.source, 'referral'),
              inArray(
                ledgerEntries.idempotencyKey,
                ids.flatMap((id) => [`referral:${id}:reward`, `referral:${id}:reverse`]),
              ),
            ),
          )
          .orderBy(asc(ledgerEntries.id));
  const seen = new Set<string>();
  for (const entry of entries) {
    seen.add(entry.key);
    const want = expected.get(entry.key);
    if (!want) {
      problems.push(`${entry.key}: ${entry.points} points to ${entry.customer}, expected none`);
    } else if (want.points !== entry.points || want.customer !== entry.customer) {
      problems.push(
        `${entry.key}: ${entry.points} points to ${entry.customer}, expected ${want.points} to ${want.customer}`,
      );
    }
  }
  for (const [key, want] of expected) {
    if (!seen.has(key))
      problems.push(`${key}: missing (${want.points} points to ${want.customer})`);
  }
  return { problems, outcomes };
}

/** "2 rewarded, 1 held, 1 rejected, 1 reversed" over the cases' referrals as they stand now. */
export function referralCounts(outcomes: ReadonlyMap<string, ReferralOutcome>): string {
  const by = (s: string) => [...outcomes.values()].filter((o) => o.status === s).length;
  return (['rewarded', 'held', 'rejected', 'reversed'] as const)
    .map((s) => `${by(s)} ${s}`)
    .join(', ');
}

/**
 * GET /apps/loyalty/r/<code> as Shopify's app proxy forwards a shopper's visit (signed, nobody
 * logged in): the landing's status and Location.
 */
export async function shareLinkLanding(options: {
  shop: string;
  secret: string;
  baseUrl: string;
  code: string;
}): Promise<{ status: number; location: string | null }> {
  const query = new Map<string, string[]>([
    ['shop', [options.shop]],
    ['logged_in_customer_id', ['']],
    ['path_prefix', ['/apps/loyalty']],
    ['timestamp', [String(Math.trunc(Date.now() / 1000))]],
  ]);
  query.set('signature', [appProxySignature(query, options.secret)]);
  const search = new URLSearchParams([...query].map(([name, [value]]) => [name, value!]));
  const response = await fetch(
    `${options.baseUrl}/proxy/r/${encodeURIComponent(options.code)}?${search}`,
    { redirect: 'manual', headers: { 'X-Forwarded-For': '198.51.100.99' } },
  );
  await response.body?.cancel();
  return { status: response.status, location: response.headers.get('location') };
}

/** The codes of `cast`'s referrers that are active at Shopify (in the friend discount). */
export async function activeReferrerCodes(
  db: Executor,
  shopId: number,
  cast: ReferralCast,
): Promise<Map<string, string>> {
  const rows = await db
    .select({ externalId: customers.externalId, friendCode: referralCodes.friendCode })
    .from(referralCodes)
    .innerJoin(customers, eq(customers.id, referralCodes.customerId))
    .where(
      and(
        eq(referralCodes.shopId, shopId),
        eq(referralCodes.status, 'active'),
        inArray(
          customers.externalId,
          cast.referrers.map((r) => String(r.id)),
        ),
      ),
    );
  return new Map(rows.map((r) => [r.externalId, r.friendCode]));
}
