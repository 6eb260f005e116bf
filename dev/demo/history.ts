/**
 * A deterministic three-month history of a small tea shop (USD, reference program) as the webhook
 * deliveries Shopify would have sent: customers/create, orders/paid, refunds/create and
 * orders/cancelled, in chronological order, built with the realistic REST payload builders.
 *
 *   const history = generateHistory({ shop: 'laurel-demo.myshopify.com', seed: 1, now: new Date() });
 *   history.deliveries  // [{ topic, payload, webhookId, occurredAt }, …]
 *   expectedResults(history.deliveries, { timezone: history.timezone })  // what the ledger should say
 *
 * Same options → byte-for-byte the same history, webhook ids included (a seeded PRNG; nothing reads
 * the clock unless `now` and `firstMonth` are both omitted). Every id in it (customers, orders,
 * refunds) derives from the seed and the first month, so different histories never share ids.
 *
 * The mix: ~200 customers (a tenth of them loyal, some who never buy, some with birthdays, a few
 * paying in CAD/EUR/GBP/AUD), mostly online orders with some POS and draft orders, a few guest
 * checkouts and two test orders, discount codes, partial refunds (some with a restocking fee kept),
 * orders refunded in two parts, full refunds, shipping-only refunds (one the pre-2024-10 way) and
 * cancellations (with and without a refund). Fixed orders hit the earn bands' edges: $49.99, $50.00,
 * $50.99, $51.00, $100.00 (also via a discount code), $100.99, $101.00, $120.00.
 */
import { formatMoney, parseMoney } from '../../loyalty/money';
import {
  cancelledOrderPayload,
  customerPayload,
  orderPayload,
  refundPayload,
  type CustomerOptions,
  type LineItemOptions,
  type OrderOptions,
  type RefundLineOptions,
} from '../shopify-payloads';
import { deliveryOf, sortDeliveries, type Delivery, type DeliveryTopic } from './deliveries';
import { Rng } from './rng';
import { addMonths, isoInZone, monthOfInstant, monthStart, wallClock, zonedInstant } from './zoned';

export { expectedReport, expectedResults, referencePoints } from './expected';
export type { Delivery } from './deliveries';

const CURRENCY = 'USD';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** NY combined sales tax, 8.875%, in 1/100000. */
const TAX_RATE = 8_875;

export interface HistoryOptions {
  /** The shop the deliveries are for (part of every webhook id). */
  shop: string;
  /** Default 1. */
  seed?: number | string;
  /** The history covers the three full calendar months before `now` (in `timezone`). Default: the clock. */
  now?: Date | number;
  /** Or name the first of the three months ("YYYY-MM"); `now` is then ignored. */
  firstMonth?: string;
  /** The shop's IANA timezone: timestamps carry its offset and months are its months. */
  timezone?: string;
  /** Default 200. */
  customers?: number;
}

export interface HistoryCustomer {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  birthday: string | null;
  createdAt: string;
}

export interface HistoryStats {
  customers: number;
  orders: number;
  guestOrders: number;
  testOrders: number;
  posOrders: number;
  draftOrders: number;
  discountedOrders: number;
  presentmentOrders: number;
  refunds: number;
  cancellations: number;
}

export interface StoreHistory {
  shop: string;
  seed: number | string;
  timezone: string;
  currency: string;
  /** The three months, "YYYY-MM", in order. */
  months: string[];
  /** Start (inclusive) and end (exclusive) of the three months, ISO 8601 UTC. */
  from: string;
  to: string;
  customers: HistoryCustomer[];
  deliveries: Delivery[];
  stats: HistoryStats;
}

// ---------------------------------------------------------------------------------------------
// The shop

interface Product {
  title: string;
  sku: string;
  cents: number;
  /** How often it is bought, relative to the others. */
  weight: number;
}

const CATALOG: Product[] = [
  { title: 'Sencha Green Tea - 100g', sku: 'TEA-SEN-100', cents: 1800, weight: 10 },
  { title: 'Earl Grey - 100g', sku: 'TEA-EG-100', cents: 1450, weight: 10 },
  { title: 'Matcha Ceremonial - 30g', sku: 'TEA-MAT-30', cents: 3200, weight: 6 },
  { title: 'Oolong - 250g', sku: 'TEA-OOL-250', cents: 2775, weight: 6 },
  { title: 'Jasmine Pearls - 50g', sku: 'TEA-JAS-50', cents: 2100, weight: 6 },
  { title: 'Rooibos - 250g', sku: 'TEA-ROO-250', cents: 1625, weight: 6 },
  { title: 'Chai Blend - 100g', sku: 'TEA-CHAI-100', cents: 1299, weight: 8 },
  { title: 'Pu-erh Cake - 357g', sku: 'TEA-PUER-357', cents: 4800, weight: 3 },
  { title: 'Yerba Mate - 500g', sku: 'TEA-MATE-500', cents: 1995, weight: 4 },
  { title: 'Sample Flight', sku: 'TEA-SAMPLER', cents: 2999, weight: 5 },
  { title: 'Cast Iron Teapot', sku: 'POT-CI-1', cents: 6400, weight: 3 },
  { title: 'Glass Infuser Mug', sku: 'ACC-MUG', cents: 2400, weight: 5 },
  { title: 'Bamboo Tea Scoop', sku: 'ACC-SCOOP', cents: 750, weight: 4 },
  { title: 'Tea Tin', sku: 'ACC-TIN', cents: 900, weight: 5 },
  { title: 'Honey Sticks (20)', sku: 'ACC-HONEY', cents: 600, weight: 5 },
  { title: 'Gift Wrap', sku: 'GIFT-WRAP', cents: 200, weight: 2 },
  { title: 'Porcelain Cup Set', sku: 'ACC-CUPS-4', cents: 4200, weight: 3 },
  { title: 'Electric Gooseneck Kettle', sku: 'KET-GOOSE', cents: 8900, weight: 2 },
  { title: 'Tea Ceremony Set', sku: 'SET-CER-1', cents: 18900, weight: 1 },
];
const PRODUCT_BY_SKU = new Map(CATALOG.map((p, i) => [p.sku, { ...p, index: i }]));

interface Discount {
  code: string;
  cents: number;
  /** Minimum line-items total for the code to apply. */
  minimum: number;
}
const DISCOUNTS: Discount[] = [
  { code: 'TEATIME5', cents: 500, minimum: 2000 },
  { code: 'SPRING15', cents: 1500, minimum: 7500 },
];
const WELCOME: Discount = { code: 'WELCOME10', cents: 1000, minimum: 4000 };

/** Presentment currencies of international shoppers, with a fixed rate per shop dollar. */
const PRESENTMENT: [string, string][] = [
  ['CAD', '1.3650'],
  ['EUR', '0.9210'],
  ['GBP', '0.7890'],
  ['AUD', '1.5320'],
];

type Basket = [sku: string, quantity: number][];

interface EdgeOrder {
  basket: Basket;
  discount?: Discount;
  sourceName?: string;
  presentment?: [string, string];
}

/** Orders on the earn bands' edges, placed in every history. */
const EDGE_ORDERS: EdgeOrder[] = [
  {
    basket: [
      ['TEA-SAMPLER', 1],
      ['TEA-SEN-100', 1],
      ['GIFT-WRAP', 1],
    ],
  }, // 49.99 → 0
  {
    basket: [
      ['TEA-PUER-357', 1],
      ['GIFT-WRAP', 1],
    ],
  }, // 50.00 → 0
  {
    basket: [
      ['TEA-MAT-30', 1],
      ['TEA-CHAI-100', 1],
      ['ACC-HONEY', 1],
    ],
  }, // 50.99 → 0
  {
    basket: [
      ['ACC-CUPS-4', 1],
      ['ACC-TIN', 1],
    ],
  }, // 51.00 → 1
  {
    basket: [
      ['KET-GOOSE', 1],
      ['ACC-TIN', 1],
      ['GIFT-WRAP', 1],
    ],
  }, // 100.00 → 50
  {
    basket: [
      ['KET-GOOSE', 1],
      ['ACC-TIN', 1],
      ['GIFT-WRAP', 1],
    ],
    sourceName: 'pos',
  }, // 100.00 → 50
  {
    basket: [
      ['KET-GOOSE', 1],
      ['TEA-JAS-50', 1],
    ],
    discount: WELCOME,
  }, // 110.00 − 10.00 → 50
  {
    basket: [
      ['POT-CI-1', 1],
      ['ACC-MUG', 1],
      ['TEA-CHAI-100', 1],
    ],
  }, // 100.99 → 50
  {
    basket: [
      ['KET-GOOSE', 1],
      ['ACC-HONEY', 2],
    ],
  }, // 101.00 → 52
  {
    basket: [
      ['KET-GOOSE', 1],
      ['TEA-SEN-100', 1],
      ['ACC-TIN', 1],
      ['GIFT-WRAP', 2],
    ],
  }, // 120.00 → 90
  {
    basket: [
      ['KET-GOOSE', 1],
      ['TEA-SEN-100', 1],
      ['ACC-TIN', 1],
      ['GIFT-WRAP', 2],
    ],
    presentment: ['CAD', '1.3650'],
  }, // 120.00 USD (163.80 CAD) → 90
];

const FIRST_NAMES = (
  'Olivia Liam Emma Noah Ava Mateo Sofia Lucas Isabella Ethan Mia Aiden Amara Kofi Chloe Hiroshi ' +
  'Priya Arjun Mei Wei Fatima Omar Leila Yusuf Zara Ibrahim Ana João Lucía Diego Camille Louis ' +
  'Élodie Théo Greta Lukas Ingrid Sven Aoife Cian Siobhan Niamh Chiara Marco Giulia Luca Nadia ' +
  'Dmitri Olga Anya Kwame Ama Chidi Ngozi Tariq Samira Rafael Beatriz Hana Minjun Grace Owen Ruth ' +
  'Ezra Maya Caleb Nora Julian Iris Felix'
).split(' ');
const LAST_NAMES = (
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernández Lopez ' +
  'Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Pérez Thompson White Harris ' +
  'Sánchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill ' +
  'Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Kim Chen Patel ' +
  'Singh Okafor Mensah Haddad Kowalski Novak Müller Rossi Dubois Silva Tanaka Sato Ivanova ' +
  "O'Brien Murphy Larsen Berg"
).split(' ');
const EMAIL_DOMAINS = ['example.com', 'example.com', 'example.net', 'example.org', 'mail.example'];
const AREA_CODES = ['212', '718', '917', '347', '646', '516', '914', '201'];

/** Relative weight of each local hour for online orders (evenings are busy). */
const WEB_HOURS = [
  1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.5, 3.5, 4, 4.5, 5, 5, 4.5, 4, 4, 4.5, 5, 5.5, 5.5, 4.5, 3,
  2,
];
/** The shop is open 10:00–19:00. */
const POS_HOURS = WEB_HOURS.map((_, h) => (h >= 10 && h < 19 ? 1 : 0));

// ---------------------------------------------------------------------------------------------
// Planning: who buys what when, before any payload is built

type Segment = 'loyal' | 'regular' | 'occasional' | 'dormant';

interface CustomerPlan {
  options: CustomerOptions & { id: number; email: string; firstName: string; lastName: string };
  createdAt: number;
  segment: Segment;
  /** Buys in the shop more often than online. */
  local: boolean;
  presentment: [string, string] | null;
}

/** How often each follow-up happens to an order (the rest: none, ~90%). */
const REFUND_MIX: [RefundKind, number][] = [
  ['partial', 0.03],
  ['partial-with-fee', 0.01],
  ['two-part', 0.015],
  ['full', 0.025],
  ['shipping-only', 0.005],
  ['shipping-only-legacy', 0.005],
  ['cancel-with-refund', 0.008],
  ['cancel-after-partial', 0.004],
  ['cancel-only', 0.003],
];

type RefundKind =
  | 'partial'
  | 'partial-with-fee'
  | 'two-part'
  | 'full'
  | 'shipping-only'
  | 'shipping-only-legacy'
  | 'cancel-with-refund'
  | 'cancel-after-partial'
  | 'cancel-only';

interface OrderPlan {
  at: number;
  customer: CustomerPlan | null;
  /** Guest orders: the address typed at checkout (null: none, e.g. a walk-in POS sale). */
  guestEmail: string | null;
  sourceName: string;
  basket: Basket;
  discount: Discount | null;
  presentment: [string, string] | null;
  test: boolean;
  edge: boolean;
  refund: RefundKind | null;
}

function asciiFold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/** A wall-clock time on a random day in [lo, hi), at an hour drawn from `hours`. */
function randomTime(rng: Rng, tz: string, lo: number, hi: number, hours: number[]): number {
  for (let attempt = 0; attempt < 20; attempt++) {
    const day = wallClock(lo + rng.int(0, Math.max(0, Math.floor((hi - lo) / DAY))) * DAY, tz);
    const hour = rng.weighted(hours.map((w, h) => [h, w] as const));
    const t = zonedInstant(tz, day.year, day.month, day.day, hour, rng.int(0, 59), rng.int(0, 59));
    if (t >= lo && t < hi) return t;
  }
  return lo + Math.floor(rng.next() * (hi - lo));
}

function randomBasket(rng: Rng, segment: Segment | 'guest'): Basket {
  const lines = rng.weighted([
    [1, 40],
    [2, 30],
    [3, 18],
    [4, segment === 'loyal' ? 14 : 8],
    [5, segment === 'loyal' ? 6 : 3],
  ]);
  const basket: Basket = [];
  const taken = new Set<string>();
  while (basket.length < lines) {
    const product = rng.weighted(CATALOG.map((p) => [p, p.weight] as const));
    if (taken.has(product.sku)) continue;
    taken.add(product.sku);
    basket.push([
      product.sku,
      rng.weighted([
        [1, 78],
        [2, 16],
        [3, 6],
      ]),
    ]);
  }
  return basket;
}

const basketCents = (basket: Basket) =>
  basket.reduce((sum, [sku, q]) => sum + PRODUCT_BY_SKU.get(sku)!.cents * q, 0);

function plan(options: { customers: number; tz: string; from: number; to: number; rng: Rng }) {
  const { rng, tz, from, to } = options;
  const names = rng.shuffle(FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => [f, l] as const)));
  const usedEmails = new Set<string>();
  const emailFor = (first: string, last: string) => {
    const f = asciiFold(first);
    const l = asciiFold(last);
    const domain = rng.pick(EMAIL_DOMAINS);
    const style = rng.int(0, 3);
    let local =
      style === 0
        ? `${f}.${l}`
        : style === 1
          ? `${f}${l[0]}`
          : style === 2
            ? `${f[0]}${l}`
            : `${f}_${l}`;
    if (rng.chance(0.2)) local += String(rng.int(1, 99));
    let address = `${local}@${domain}`;
    for (let n = 2; usedEmails.has(address); n++) address = `${local}${n}@${domain}`;
    usedEmails.add(address);
    return address;
  };

  const customers: CustomerPlan[] = [];
  for (let i = 0; i < options.customers; i++) {
    const [firstName, lastName] = names[i]!;
    const segment = rng.weighted<Segment>([
      ['loyal', 10],
      ['regular', 30],
      ['occasional', 52],
      ['dormant', 8],
    ]);
    // Most customers predate the three months; the others sign up during them.
    const createdAt = rng.chance(0.55)
      ? randomTime(rng, tz, from - 120 * DAY, from, WEB_HOURS)
      : randomTime(rng, tz, from, from + Math.floor((to - from) * 0.8), WEB_HOURS);
    const birthday = rng.chance(0.35)
      ? `${rng.int(1955, 2005)}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`
      : undefined;
    customers.push({
      options: {
        id: 0, // assigned once everyone is sorted by sign-up time
        email: emailFor(firstName, lastName),
        firstName,
        lastName,
        phone: rng.chance(0.4)
          ? `+1${rng.pick(AREA_CODES)}5550${String(rng.int(100, 199)).slice(1)}`
          : null,
        state: rng.weighted([
          ['enabled', 85],
          ['invited', 8],
          ['disabled', 7],
        ]),
        tags: segment === 'loyal' && rng.chance(0.5) ? 'vip' : rng.chance(0.1) ? 'newsletter' : '',
        ...(birthday !== undefined && { birthday }),
      },
      createdAt,
      segment,
      local: rng.chance(0.15),
      presentment: rng.chance(0.1) ? rng.pick(PRESENTMENT) : null,
    });
  }

  const orders: OrderPlan[] = [];
  const orderCount: Record<Segment, () => number> = {
    loyal: () => rng.int(6, 11),
    regular: () => rng.int(3, 5),
    occasional: () => rng.int(1, 2),
    dormant: () => 0,
  };
  for (const customer of customers) {
    const n = orderCount[customer.segment]();
    const lo = Math.max(from, customer.createdAt + HOUR);
    for (let k = 0; k < n; k++) {
      const sourceName = rng.chance(customer.local ? 0.6 : 0.06)
        ? 'pos'
        : rng.chance(0.025)
          ? 'shopify_draft_order'
          : 'web';
      const at = randomTime(rng, tz, lo, to - HOUR, sourceName === 'pos' ? POS_HOURS : WEB_HOURS);
      orders.push({
        at,
        customer,
        guestEmail: null,
        sourceName,
        basket: randomBasket(rng, customer.segment),
        discount: null,
        presentment: sourceName === 'web' ? customer.presentment : null,
        test: false,
        edge: false,
        refund: null,
      });
    }
  }

  // Guest checkouts: shoppers without an account (their addresses never match a customer's).
  const guests = Math.max(3, Math.round(orders.length * 0.04));
  for (let g = 0; g < guests; g++) {
    const [firstName, lastName] = names[options.customers + g]!;
    const walkIn = g === 0; // a POS sale with no email at all
    orders.push({
      at: randomTime(rng, tz, from, to - HOUR, walkIn ? POS_HOURS : WEB_HOURS),
      customer: null,
      guestEmail: walkIn ? null : emailFor(firstName, lastName),
      sourceName: walkIn ? 'pos' : 'web',
      basket: randomBasket(rng, 'guest'),
      discount: null,
      presentment: null,
      test: false,
      edge: false,
      refund: null,
    });
  }
  orders.sort((a, b) => a.at - b.at);

  // Discount codes: WELCOME10 on some first orders, the others now and then (online only).
  const seenCustomer = new Set<CustomerPlan>();
  for (const order of orders) {
    const first = order.customer !== null && !seenCustomer.has(order.customer);
    if (order.customer) seenCustomer.add(order.customer);
    if (order.sourceName !== 'web') continue;
    const lines = basketCents(order.basket);
    if (first && lines >= WELCOME.minimum && rng.chance(0.3)) order.discount = WELCOME;
    else if (rng.chance(0.1)) {
      const code = rng.pick(DISCOUNTS);
      if (lines >= code.minimum) order.discount = code;
    }
  }

  // The edge orders replace the baskets of some registered customers' orders.
  const registered = orders.filter((o) => o.customer !== null);
  // (A tiny history has fewer orders than edges: it gets the first ones.)
  const edgeOrders = rng.sample(registered, Math.min(EDGE_ORDERS.length, registered.length));
  edgeOrders.forEach((order, i) => {
    const edge = EDGE_ORDERS[i]!;
    order.edge = true;
    order.basket = edge.basket;
    order.discount = edge.discount ?? null;
    order.sourceName = edge.sourceName ?? 'web';
    order.presentment = edge.presentment ?? null;
  });

  // Two test orders (the merchant trying the checkout), from customers who also really buy.
  const regularBuyers = registered.filter(
    (o) => !o.edge && o.customer!.segment !== 'occasional' && o.customer!.segment !== 'dormant',
  );
  for (const order of rng.sample(regularBuyers, Math.min(2, regularBuyers.length))) {
    order.test = true;
  }

  // Refunds and cancellations, on orders with time left for them inside the three months; every
  // kind at least once, whatever the seed.
  const candidates = orders.filter((o) => !o.edge && !o.test && to - o.at >= 3 * DAY);
  const fits = (order: OrderPlan, kind: RefundKind) => {
    const multiLine = order.basket.length > 1 || order.basket[0]![1] > 1;
    const shipped =
      order.sourceName !== 'pos' && basketCents(order.basket) - (order.discount?.cents ?? 0) < 7500;
    if (kind === 'shipping-only' || kind === 'shipping-only-legacy') return shipped;
    if (kind === 'partial' || kind === 'partial-with-fee' || kind === 'two-part') return multiLine;
    if (kind === 'cancel-after-partial') return multiLine;
    return true;
  };
  for (const order of candidates) {
    let r = rng.next();
    for (const [kind, share] of REFUND_MIX) {
      r -= share;
      if (r >= 0) continue;
      if (fits(order, kind)) order.refund = kind;
      break;
    }
  }
  for (const [kind] of REFUND_MIX) {
    if (candidates.some((o) => o.refund === kind)) continue;
    const free = candidates.filter((o) => o.refund === null && fits(o, kind));
    if (free.length > 0) rng.pick(free).refund = kind;
  }
  return { customers, orders };
}

// ---------------------------------------------------------------------------------------------
// Building: payloads and deliveries

const money = (cents: number) => formatMoney(cents, CURRENCY);
const cents = (text: unknown) => parseMoney(String(text), CURRENCY);

/** Discounted merchandise and tax of each line of a built order, in cents. */
function lineAmounts(order: Record<string, unknown>) {
  return (order.line_items as Record<string, unknown>[]).map((line) => {
    const quantity = line.quantity as number;
    const gross = cents(line.price) * quantity;
    const discount = (line.discount_allocations as { amount: string }[]).reduce(
      (sum, a) => sum + cents(a.amount),
      0,
    );
    const tax = (line.tax_lines as { price: string }[]).reduce((sum, t) => sum + cents(t.price), 0);
    return { id: line.id as number, quantity, merchandise: gross - discount, tax };
  });
}

type Line = ReturnType<typeof lineAmounts>[number];

/** A refund line for `quantity` of `line`: its share of the discounted price and of the tax. */
function refundLine(
  line: Line,
  quantity: number,
  restockType: RefundLineOptions['restockType'] = 'return',
): RefundLineOptions {
  const share = (total: number) =>
    quantity === line.quantity ? total : Math.floor((total * quantity) / line.quantity);
  return {
    lineItemId: line.id,
    quantity,
    subtotal: money(share(line.merchandise)),
    tax: money(share(line.tax)),
    restockType,
  };
}

/** Generates the history. See the module comment. */
export function generateHistory(options: HistoryOptions): StoreHistory {
  const tz = options.timezone ?? 'America/New_York';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new RangeError(`timezone '${tz}' is not an IANA timezone such as America/New_York`);
  }
  const seed = options.seed ?? 1;
  const customerCount = options.customers ?? 200;
  if (!Number.isSafeInteger(customerCount) || customerCount < 1 || customerCount > 2000) {
    throw new RangeError(`customers must be a whole number from 1 to 2000 (got ${customerCount})`);
  }
  let firstMonth = options.firstMonth;
  if (firstMonth === undefined) {
    const now = options.now === undefined ? Date.now() : new Date(options.now).getTime();
    if (Number.isNaN(now)) throw new RangeError(`now is not a date`);
    firstMonth = addMonths(monthOfInstant(now, tz), -3);
  }
  const months = [firstMonth, addMonths(firstMonth, 1), addMonths(firstMonth, 2)];
  const from = monthStart(months[0]!, tz);
  const to = monthStart(addMonths(months[2]!, 1), tz);

  const rng = new Rng(`laurel-history\u0000${seed}\u0000${firstMonth}`);
  const { customers, orders } = plan({ customers: customerCount, tz, from, to, rng });

  // Shopify ids grow with time: assign them in order of creation, from a base unique to this history.
  const ids = rng.fork('ids');
  let nextCustomerId = 7_000_000_000_000 + ids.int(0, 999_999) * 1_000_000;
  for (const c of [...customers].sort((a, b) => a.createdAt - b.createdAt)) {
    nextCustomerId += ids.int(1_000, 400_000);
    c.options.id = nextCustomerId;
    c.options.createdAt = isoInZone(c.createdAt, tz);
    c.options.currency = CURRENCY;
  }
  let nextOrderId = 5_000_000_000_000 + ids.int(0, 999_999) * 1_000_000;
  let nextRefundId = 1_000_000_000_000 + ids.int(0, 999_999) * 100_000;
  let orderNumber = 1000 + ids.int(0, 8) * 1000;

  const deliveries: Delivery[] = [];
  const deliver = (
    topic: DeliveryTopic,
    resourceId: number,
    at: number,
    payload: Record<string, unknown>,
  ) => deliveries.push(deliveryOf(options.shop, topic, resourceId, at, payload));

  for (const c of customers)
    deliver('customers/create', c.options.id, c.createdAt, customerPayload(c.options));

  const stats: HistoryStats = {
    customers: customers.length,
    orders: orders.length,
    guestOrders: 0,
    testOrders: 0,
    posOrders: 0,
    draftOrders: 0,
    discountedOrders: 0,
    presentmentOrders: 0,
    refunds: 0,
    cancellations: 0,
  };
  const events = rng.fork('events');

  for (const planned of orders) {
    nextOrderId += ids.int(5_000, 900_000);
    orderNumber += 1;
    const id = nextOrderId;
    const subtotal = basketCents(planned.basket) - (planned.discount?.cents ?? 0);
    const shipping = planned.sourceName === 'pos' || subtotal >= 7500 ? 0 : 695;
    const tax = Math.floor((subtotal * TAX_RATE + 50_000) / 100_000);
    const lineItems: LineItemOptions[] = planned.basket.map(([sku, quantity]) => {
      const product = PRODUCT_BY_SKU.get(sku)!;
      return {
        title: product.title,
        sku,
        price: money(product.cents),
        quantity,
        productId: 8_100_000_000_000 + product.index * 7_919,
        variantId: 45_000_000_000_000 + product.index * 104_729,
      };
    });
    const processedAt = isoInZone(planned.at, tz);
    const orderOptions: OrderOptions = {
      id,
      orderNumber,
      customer: planned.customer ? planned.customer.options : null,
      ...(planned.customer === null && { email: planned.guestEmail }),
      lineItems,
      discounts: planned.discount
        ? [{ code: planned.discount.code, amount: money(planned.discount.cents) }]
        : [],
      shipping: money(shipping),
      tax: money(tax),
      currency: CURRENCY,
      ...(planned.presentment && {
        presentmentCurrency: planned.presentment[0],
        presentmentRate: planned.presentment[1],
      }),
      sourceName: planned.sourceName,
      test: planned.test,
      ...(planned.test && { paymentGatewayNames: ['bogus'] }),
      processedAt,
      createdAt: processedAt,
    };
    const order = orderPayload(orderOptions);
    deliver('orders/paid', id, planned.at, order);

    if (planned.customer === null) stats.guestOrders++;
    if (planned.test) stats.testOrders++;
    if (planned.sourceName === 'pos') stats.posOrders++;
    if (planned.sourceName === 'shopify_draft_order') stats.draftOrders++;
    if (planned.discount) stats.discountedOrders++;
    if (planned.presentment) stats.presentmentOrders++;
    if (!planned.refund) continue;

    // Times of the follow-ups: inside the three months, in order.
    const laterThan = (t: number, maxDays: number) =>
      t +
      HOUR +
      Math.floor(events.next() * Math.max(0, Math.min(maxDays * DAY, to - t - 2 * HOUR)));
    const lines = lineAmounts(order);
    const refunds: Record<string, unknown>[] = [];
    const refund = (
      at: number,
      refundOptions: {
        lineItems?: RefundLineOptions[];
        shipping?: number;
        discrepancy?: number;
        legacy?: boolean;
        note?: string;
      },
    ) => {
      nextRefundId += ids.int(1_000, 90_000);
      const createdAt = isoInZone(at, tz);
      const body = refundPayload({
        id: nextRefundId,
        orderId: id,
        order,
        lineItems: refundOptions.lineItems ?? [],
        ...(refundOptions.shipping && { shipping: money(refundOptions.shipping) }),
        ...(refundOptions.discrepancy && { discrepancy: money(refundOptions.discrepancy) }),
        ...(refundOptions.legacy && { legacyShippingAdjustment: true }),
        ...(planned.presentment && { presentmentRate: planned.presentment[1] }),
        createdAt,
        processedAt: createdAt,
        note: refundOptions.note ?? null,
      });
      refunds.push(body);
      deliver('refunds/create', nextRefundId, at, body);
      stats.refunds++;
    };
    const everything = (restockType: RefundLineOptions['restockType'] = 'return') =>
      lines.map((line) => refundLine(line, line.quantity, restockType));
    /** One line, or one unit of a line bought several times. */
    const someItems = () => {
      const line = events.pick(lines.filter((l) => lines.length > 1 || l.quantity > 1));
      return [
        refundLine(line, lines.length > 1 ? line.quantity : events.int(1, line.quantity - 1)),
      ];
    };
    const cancel = (
      at: number,
      financialStatus: string,
      reason: 'customer' | 'inventory' | 'fraud',
    ) => {
      const current = orderPayload({ ...orderOptions, refunds, financialStatus });
      const body = cancelledOrderPayload(current, {
        cancelledAt: isoInZone(at, tz),
        reason,
        financialStatus,
      });
      deliver('orders/cancelled', id, at, body);
      stats.cancellations++;
    };

    const first = laterThan(planned.at, 21);
    switch (planned.refund) {
      case 'partial':
        refund(first, { lineItems: someItems(), note: 'Returned' });
        break;
      case 'partial-with-fee': {
        const items = someItems();
        // The merchant keeps a restocking fee: points still follow the returned merchandise.
        const fee = Math.min(500, cents(items[0]!.subtotal!));
        refund(first, {
          lineItems: items,
          discrepancy: fee,
          note: 'Returned, restocking fee kept',
        });
        break;
      }
      case 'two-part': {
        const firstPart = someItems();
        refund(first, { lineItems: firstPart, note: 'Returned' });
        const firstLine = firstPart[0]!;
        const rest = lines.flatMap((line) => {
          const already = line.id === firstLine.lineItemId ? firstLine.quantity! : 0;
          if (already === line.quantity) return [];
          if (already === 0) return [refundLine(line, line.quantity)];
          const remaining = refundLine(line, line.quantity);
          remaining.quantity = line.quantity - already;
          remaining.subtotal = money(line.merchandise - cents(firstLine.subtotal));
          remaining.tax = money(line.tax - cents(firstLine.tax));
          return [remaining];
        });
        refund(laterThan(first, 10), { lineItems: rest, shipping, note: 'Returned the rest' });
        break;
      }
      case 'full':
        refund(first, { lineItems: everything(), shipping, note: 'Returned in full' });
        break;
      case 'shipping-only':
        refund(first, { shipping, note: 'Late delivery: shipping refunded' });
        break;
      case 'shipping-only-legacy':
        refund(first, { shipping, legacy: true, note: 'Late delivery: shipping refunded' });
        break;
      case 'cancel-with-refund': {
        const at = laterThan(planned.at, 2);
        refund(at, { lineItems: everything('cancel'), shipping });
        cancel(at + 2_000, 'refunded', events.pick(['customer', 'inventory', 'fraud'] as const));
        break;
      }
      case 'cancel-after-partial':
        refund(first, { lineItems: someItems(), note: 'Returned' });
        cancel(laterThan(first, 5), 'partially_refunded', 'customer');
        break;
      case 'cancel-only':
        cancel(laterThan(planned.at, 2), 'paid', 'customer');
        break;
    }
  }

  return {
    shop: options.shop,
    seed,
    timezone: tz,
    currency: CURRENCY,
    months,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    customers: customers
      .map((c) => ({
        id: c.options.id,
        email: c.options.email,
        firstName: c.options.firstName,
        lastName: c.options.lastName,
        birthday: c.options.birthday ?? null,
        createdAt: c.options.createdAt!,
      }))
      .sort((a, b) => a.id - b.id),
    deliveries: sortDeliveries(deliveries),
    stats,
  };
}
