/**
 * `npm run seed:large`: a shop the size the admin's loaders are measured at (docs/reports.md,
 * docs/perf.md "Admin loaders"): 50,000 customers and 1,000,000 ledger entries over three years,
 * every entry backed by what the app would hold for it — order awards by the shop's published
 * program with their orders rows, refunds (order_refunds + reversal entries computed by
 * loyalty/reversal.ts) and cancellations, signup bonuses, redemptions of a fixed-amount reward
 * (a redemptions row per debit, and the return entry when an unused code expired), expiries and
 * manual adjustments — and customer_balances equal to the sum of the entries (checked at the end).
 *
 *   npm run seed:large -- [--database-url URL] [--shop DOMAIN] [--customers N] [--entries N]
 *
 * Fast: rows are generated in Node (deterministic: the same counts give the same data) and
 * written with COPY, a few thousand customers at a time, in one transaction — a failed run leaves
 * nothing behind. The shop must not exist yet: a second run refuses with a message instead of
 * doubling the data. Ids are taken from the tables' sequences while the tables are locked against
 * other writers (reads go on), so the seed can share a database with anything but another seed.
 *
 * Tier entries and referrals are not seeded (they need tier/referral programs whose state would
 * have to match); the storefront metafield sync rows are not either, so no sync runs for the shop.
 */
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { openDatabase, migrate } from '../db/client.server';
import { Rng } from '../dev/demo/rng';
import { computeEarn } from '../loyalty/earn';
import { parseProgram, type ProgramDefinition } from '../loyalty/program';
import { explainReversal } from '../loyalty/reversal';
import {
  generateRewardCode,
  issuedValue,
  parseRewardDefinition,
  CODE_RANDOM_BYTES,
} from '../loyalty/rewards';
import { EARNING_SOURCES, type LedgerSource } from '../app/models/ledger.server';
import { compactMovements } from '../app/models/movements.server';
import { storeOfflineSession } from '../tests/helpers/sessions';

export const DEFAULT_SHOP = 'laurel-large.myshopify.com';
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/laurel_large';

export interface SeedOptions {
  databaseUrl: string;
  shop: string;
  customers: number;
  entries: number;
  /** The newest instant any entry may have; default now. Entries span the 3 years before it. */
  end?: Date;
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

export interface SeedCounts {
  shopId: number;
  customers: number;
  redactedCustomers: number;
  entries: number;
  entriesBySource: Record<string, number>;
  orders: number;
  refunds: number;
  cancellations: number;
  redemptions: number;
  /** Customers whose refunds came after they spent the points. */
  negativeBalances: number;
  from: string;
  to: string;
  seconds: number;
}

export class SeedRefused extends Error {}

/** The program every award is computed with (published effective from the start of the span). */
export const LARGE_PROGRAM: ProgramDefinition = {
  name: 'Large shop',
  currency: 'USD',
  earn: {
    unit: '1.00',
    bands: [
      { over: '0.00', upTo: '100.00', pointsPerUnit: 1 },
      { over: '100.00', pointsPerUnit: 2 },
    ],
  },
  earnOn: 'subtotal_after_discounts',
  signupBonus: 100,
  redemptionRefunds: 'keep_points',
};

/** $5 off for 500 points: the redemption value ($0.01 a point) the money columns are priced at. */
export const LARGE_REWARD = {
  type: 'fixed_amount',
  title: '$5 off',
  pointsCost: 500,
  amountMinor: 500,
  refundPointsOnExpiry: true,
};

const DAY_MS = 86_400_000;
const SPAN_DAYS = 3 * 365 + 1;
const CHUNK_CUSTOMERS = 2_500;
const TIMEZONE = 'America/New_York';
/** One customer in this many is redacted (customers/redact): no name or email, totals kept. */
const REDACT_EVERY = 5_000;

const FIRST = [
  'Ada', 'Ben', 'Chloé', 'Dmitri', 'Elif', 'Farah', 'Goran', 'Hana', 'Ines', 'Jun', 'Kofi',
  'Lena', 'Mateo', 'Nadia', 'Oren', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor',
  'Wen', 'Ximena', 'Yusuf', 'Zoë',
]; // prettier-ignore
const LAST = [
  'Abara', 'Bianchi', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ivanova',
  'Jensen', 'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi',
  'Schmidt', 'Tanaka', 'Usman', 'Varga', 'Weber', 'Yilmaz', 'Zhang',
]; // prettier-ignore
const ADJUSTMENT_REASONS = [
  'Goodwill: late delivery',
  'Missing points for an in-store purchase',
  'Correction: duplicate bonus',
  'Customer service gesture',
];

/** COPY text format: tab-separated, `\N` for null, backslash escapes. */
function field(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}
const line = (values: (string | number | boolean | null)[]) => values.map(field).join('\t') + '\n';
const iso = (ms: number) => new Date(ms).toISOString();

/** Entries per customer: 1 (the signup bonus) plus a share of the rest by weight, summing exactly. */
function budgets(weights: number[], total: number): number[] {
  const extra = total - weights.length;
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * extra);
  const out = exact.map((x) => 1 + Math.floor(x));
  let left = total - out.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length, left--) out[byRemainder[k]![1]]!++;
  return out;
}

interface Ids {
  customer: number;
  order: number;
  refund: number;
  entry: number;
  redemption: number;
}

interface ChunkRows {
  customers: string[];
  orders: string[];
  refunds: string[];
  entries: string[];
  redemptions: string[];
  balances: string[];
}

type FollowUp =
  | { kind: 'refund' | 'cancel'; due: number; order: OrderFacts }
  | { kind: 'return'; due: number; redemption: RedemptionFacts };

interface OrderFacts {
  id: number;
  shopifyId: string;
  name: string;
  earnMinor: number;
  totalMinor: number;
  processedAt: number;
  points: number;
  cancelledAt: number | null;
  email: string | null;
}

interface RedemptionFacts {
  id: number;
  debitId: number;
  at: number;
  code: string;
  returnEntryId: number | null;
  closedAt: number | null;
}

function lognormalMinor(rng: Rng, medianMinor: number, sigma: number): number {
  // Box–Muller from two uniforms; deterministic through the seeded stream.
  const u = Math.max(rng.next(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  return Math.max(500, Math.round(medianMinor * Math.exp(sigma * z)));
}

export async function seedLarge(options: SeedOptions): Promise<SeedCounts> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const { customers: customerCount, entries: entryCount } = options;
  if (!Number.isSafeInteger(customerCount) || customerCount < 1)
    throw new SeedRefused('--customers must be a whole number ≥ 1');
  if (!Number.isSafeInteger(entryCount) || entryCount < customerCount)
    throw new SeedRefused(
      `--entries must be a whole number ≥ --customers (${customerCount}): every customer has a signup bonus`,
    );
  const program = parseProgram(LARGE_PROGRAM);
  const reward = parseRewardDefinition(LARGE_REWARD, 'USD');
  const rewardCost = reward.pointsCost!;
  const end = Math.floor((options.end ?? new Date()).getTime() / 60_000) * 60_000;
  const start = end - SPAN_DAYS * DAY_MS;

  // Migrations first (idempotent), through the app's own migrator; and the shop must be new.
  const handle = await openDatabase({ url: options.databaseUrl, max: 1 });
  try {
    await migrate(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  let shopId = 0;
  const counts: SeedCounts = {
    shopId: 0,
    customers: customerCount,
    redactedCustomers: 0,
    entries: 0,
    entriesBySource: {},
    orders: 0,
    refunds: 0,
    cancellations: 0,
    redemptions: 0,
    negativeBalances: 0,
    from: iso(start),
    to: iso(end),
    seconds: 0,
  };
  try {
    const existing = await sql`SELECT id FROM shops WHERE domain = ${options.shop}`;
    if (existing.length > 0) {
      throw new SeedRefused(
        `shop ${options.shop} already exists (id ${existing[0]!.id}) in this database; seed:large does not add to an existing shop. Use --shop for another domain, or drop the database (dropdb laurel_large, createdb laurel_large) and run again.`,
      );
    }
    await sql.begin(async (tx) => {
      await tx`LOCK TABLE customers, orders, order_refunds, ledger_entries, redemptions IN EXCLUSIVE MODE`;
      const [shop] = await tx`
        INSERT INTO shops (domain, name, currency, timezone, installed_at)
        VALUES (${options.shop}, 'Laurel Large', 'USD', ${TIMEZONE}, ${iso(start)})
        RETURNING id`;
      shopId = shop!.id as number;
      counts.shopId = shopId;
      await tx`
        INSERT INTO programs (shop_id, version, effective_from, definition, created_at)
        VALUES (${shopId}, 1, ${iso(start)}, ${tx.json(program.definition as never)}, ${iso(start)})`;
      const [rewardRow] = await tx`
        INSERT INTO rewards (shop_id, current_version, position, created_at, updated_at)
        VALUES (${shopId}, 1, 1, ${iso(start)}, ${iso(start)}) RETURNING id`;
      const rewardId = rewardRow!.id as number;
      await tx`
        INSERT INTO reward_versions (shop_id, reward_id, version, definition, created_at)
        VALUES (${shopId}, ${rewardId}, 1, ${tx.json(reward as never)}, ${iso(start)})`;

      // Ids continue each table's sequence; the lock above keeps other writers out meanwhile.
      const nextOf = async (table: string) => {
        const [row] =
          await tx`SELECT nextval(pg_get_serial_sequence(${table}, 'id'))::bigint AS id`;
        return Number(row!.id);
      };
      const ids: Ids = {
        customer: await nextOf('customers'),
        order: await nextOf('orders'),
        refund: await nextOf('order_refunds'),
        entry: await nextOf('ledger_entries'),
        redemption: await nextOf('redemptions'),
      };
      const firstCustomerId = ids.customer;

      const rng = new Rng(`seed-large:${customerCount}:${entryCount}`);
      const enrolled: number[] = [];
      const weights: number[] = [];
      for (let i = 0; i < customerCount; i++) {
        // More of the base joined early; the newest members have the last weeks only.
        const at = start + Math.floor(rng.next() ** 1.3 * (SPAN_DAYS - 7) * DAY_MS);
        enrolled.push(at);
        weights.push((0.15 - Math.log(Math.max(rng.next(), 1e-9))) * ((end - at) / DAY_MS));
      }
      const budget = budgets(weights, entryCount);
      let orderNumber = 1000;
      let adjustmentNumber = 0;

      const copy = async (table: string, columns: string, rows: string[]) => {
        if (rows.length === 0) return;
        const stream = await tx.unsafe(`COPY ${table} (${columns}) FROM STDIN`).writable();
        const done = new Promise<void>((resolve, reject) => {
          stream.on('finish', resolve);
          stream.on('error', reject);
        });
        for (let k = 0; k < rows.length; k += 5_000)
          stream.write(rows.slice(k, k + 5_000).join(''));
        stream.end();
        await done;
      };

      for (let chunkStart = 0; chunkStart < customerCount; chunkStart += CHUNK_CUSTOMERS) {
        const rows: ChunkRows = {
          customers: [],
          orders: [],
          refunds: [],
          entries: [],
          redemptions: [],
          balances: [],
        };
        const chunkEnd = Math.min(customerCount, chunkStart + CHUNK_CUSTOMERS);
        for (let i = chunkStart; i < chunkEnd; i++) {
          const r = rng.fork(`customer:${i}`);
          const customerId = ids.customer++;
          const externalId = String(7_100_000_000 + i);
          const redacted = i % REDACT_EVERY === REDACT_EVERY - 1;
          const first = r.pick(FIRST);
          const last = r.pick(LAST);
          const email = redacted
            ? null
            : `${first}.${last}.${i}`
                .normalize('NFD')
                .replace(/[\u0300-\u036f]/g, '')
                .toLowerCase() + '@example.com';
          const joined = enrolled[i]!;
          if (redacted) counts.redactedCustomers++;
          rows.customers.push(
            line([
              customerId,
              shopId,
              externalId,
              email,
              redacted ? null : first,
              redacted ? null : last,
              iso(joined),
              redacted ? iso(end) : null,
              iso(joined),
              iso(joined),
            ]),
          );

          let balance = 0;
          let lifetime = 0;
          const entry = (
            source: LedgerSource,
            key: string,
            points: number,
            at: number,
            inputs: Record<string, unknown>,
            extra: {
              programVersion?: number | null;
              subjectId?: string | null;
              reverses?: number | null;
            } = {},
          ): number => {
            const id = ids.entry++;
            balance += points;
            if (EARNING_SOURCES.has(source)) lifetime += points;
            counts.entries++;
            counts.entriesBySource[source] = (counts.entriesBySource[source] ?? 0) + 1;
            rows.entries.push(
              line([
                id,
                shopId,
                customerId,
                key,
                source,
                points,
                iso(at),
                extra.programVersion ?? null,
                JSON.stringify(inputs),
                extra.subjectId ?? null,
                extra.reverses ?? null,
                iso(at + 2_000),
              ]),
            );
            return id;
          };

          entry(
            'bonus',
            `customer:${externalId}:signup`,
            program.signupBonus,
            joined,
            { rule: 'signup-bonus', signupBonus: program.signupBonus },
            { programVersion: 1, subjectId: externalId },
          );

          // The rest of the customer's entries at sorted random instants after joining; each slot
          // is an order, or a follow-up of an earlier one that has come due, or a redemption, …
          const slots: number[] = [];
          for (let k = 1; k < budget[i]!; k++)
            slots.push(joined + 60_000 + Math.floor(r.next() * (end - joined - 60_000)));
          slots.sort((a, b) => a - b);
          const pending: FollowUp[] = [];
          const orderRows: OrderFacts[] = [];
          const redemptionRows: RedemptionFacts[] = [];
          let expiries = 0;

          for (const at of slots) {
            const due = pending.findIndex((f) => f.due <= at);
            if (due !== -1 && r.chance(0.6)) {
              const follow = pending.splice(due, 1)[0]!;
              if (follow.kind === 'return') {
                const red = follow.redemption;
                red.returnEntryId = entry(
                  'redemption',
                  `redemption:${red.id}:return`,
                  rewardCost,
                  at,
                  {
                    redemptionId: red.id,
                    rewardId,
                    rewardVersion: 1,
                    points: rewardCost,
                    status: 'expired',
                    cause: 'expired',
                    reason: 'the code expired unused',
                    code: red.code,
                  },
                  { subjectId: `redemption:${red.id}`, reverses: red.debitId },
                );
                red.closedAt = at;
                continue;
              }
              const order = follow.order;
              if (follow.kind === 'refund') {
                const full = r.chance(0.4);
                const refundedMinor = full
                  ? order.earnMinor
                  : Math.max(1, Math.floor(order.earnMinor * (0.1 + 0.8 * r.next())));
                const refundDbId = ids.refund++;
                const refundId = String(9_200_000_000 + refundDbId);
                counts.refunds++;
                rows.refunds.push(
                  line([
                    refundDbId,
                    shopId,
                    order.shopifyId,
                    refundId,
                    refundedMinor,
                    0,
                    0,
                    'USD',
                    iso(at),
                    iso(at),
                  ]),
                );
                const explanation = explainReversal({
                  award: { points: order.points, amountMinor: order.earnMinor },
                  refundedMinorTotal: refundedMinor,
                  cancelled: false,
                  alreadyReversed: 0,
                });
                entry(
                  'refund',
                  `refund:${refundId}:reverse`,
                  -explanation.delta,
                  at,
                  { ...explanation, refundId, refundMerchandiseMinor: refundedMinor },
                  { programVersion: 1, subjectId: refundId },
                );
              } else {
                order.cancelledAt = at;
                counts.cancellations++;
                const explanation = explainReversal({
                  award: { points: order.points, amountMinor: order.earnMinor },
                  refundedMinorTotal: 0,
                  cancelled: true,
                  alreadyReversed: 0,
                });
                entry(
                  'cancellation',
                  `order:${order.shopifyId}:cancel`,
                  -explanation.delta,
                  at,
                  { ...explanation, orderId: order.shopifyId },
                  { programVersion: 1, subjectId: order.shopifyId },
                );
              }
              continue;
            }

            const roll = r.next();
            if (balance >= rewardCost && roll < 0.1) {
              const redemptionId = ids.redemption++;
              const debitId = entry(
                'redemption',
                `redemption:${redemptionId}:debit`,
                -rewardCost,
                at,
                {
                  redemptionId,
                  rewardId,
                  rewardVersion: 1,
                  type: reward.type,
                  title: reward.title,
                  pointsCost: rewardCost,
                  points: rewardCost,
                  value: issuedValue(reward, rewardCost, 'USD'),
                  requestId: `seed-${redemptionId}`,
                },
                { subjectId: `redemption:${redemptionId}` },
              );
              const code = generateRewardCode(
                Uint8Array.from({ length: CODE_RANDOM_BYTES }, () => r.int(0, 255)),
              );
              const red: RedemptionFacts = {
                id: redemptionId,
                debitId,
                at,
                code,
                returnEntryId: null,
                closedAt: null,
              };
              redemptionRows.push(red);
              if (r.chance(0.12))
                pending.push({ kind: 'return', due: at + 30 * DAY_MS, redemption: red });
            } else if (balance > 0 && roll < 0.13) {
              const points = Math.max(1, Math.floor(balance * (0.2 + 0.8 * r.next())));
              expiries++;
              entry('expiry', `expiry:${customerId}:${expiries}`, -points, at, {
                rule: 'points-expiry',
                expiredPoints: points,
                reason: 'points older than 12 months',
              });
            } else if (roll < 0.145) {
              const points =
                r.chance(0.7) || balance < 10
                  ? r.int(1, 50) * 10
                  : -Math.min(balance, r.int(1, 20) * 10);
              adjustmentNumber++;
              entry(
                'adjustment',
                `adjustment:seed-${adjustmentNumber}`,
                points,
                at,
                {
                  rule: 'manual-adjustment',
                  reason: r.pick(ADJUSTMENT_REASONS),
                  staff: { userId: 9001 + (adjustmentNumber % 3), sessionId: null },
                },
                { subjectId: null },
              );
            } else {
              orderNumber++;
              const orderId = ids.order++;
              const shopifyId = String(5_500_000_000 + orderId);
              const earnMinor = lognormalMinor(r, 6_500, 0.7);
              const earn = computeEarn(program, earnMinor);
              const order: OrderFacts = {
                id: orderId,
                shopifyId,
                name: `#${orderNumber}`,
                earnMinor,
                totalMinor:
                  earnMinor + Math.round(earnMinor * 0.08) + (earnMinor < 5_000 ? 599 : 0),
                processedAt: at,
                points: earn.points,
                cancelledAt: null,
                email,
              };
              orderRows.push(order);
              entry(
                'order',
                `order:${shopifyId}:earn`,
                earn.points,
                at,
                {
                  rule: 'earn-bands',
                  orderId: shopifyId,
                  orderName: order.name,
                  earnOn: program.earnOn,
                  sourceName: 'web',
                  ...earn,
                },
                { programVersion: 1, subjectId: shopifyId },
              );
              const fate = r.next();
              if (fate < 0.1)
                pending.push({ kind: 'refund', due: at + r.int(1, 20) * DAY_MS, order });
              else if (fate < 0.12)
                pending.push({ kind: 'cancel', due: at + r.int(1, 3) * DAY_MS, order });
            }
          }

          for (const order of orderRows) {
            counts.orders++;
            rows.orders.push(
              line([
                order.id,
                shopId,
                order.shopifyId,
                order.name,
                customerId,
                order.email,
                'USD',
                'web',
                false,
                order.earnMinor,
                order.totalMinor,
                iso(order.processedAt),
                iso(order.processedAt + 1_000),
                order.cancelledAt === null ? null : iso(order.cancelledAt),
                1,
                redacted ? iso(end) : null,
                iso(order.processedAt),
                iso(order.cancelledAt ?? order.processedAt),
              ]),
            );
          }
          for (const red of redemptionRows) {
            counts.redemptions++;
            const expiresAt = red.at + 30 * DAY_MS;
            const status =
              red.returnEntryId !== null ? 'expired' : expiresAt > end ? 'issued' : 'used';
            const usedAt = status === 'used' ? red.at + Math.floor(r.next() * 20 * DAY_MS) : null;
            rows.redemptions.push(
              line([
                red.id,
                shopId,
                customerId,
                rewardId,
                1,
                `seed-${red.id}`,
                status,
                rewardCost,
                JSON.stringify(issuedValue(reward, rewardCost, 'USD')),
                red.code,
                `gid://shopify/DiscountCodeNode/${8_000_000_000 + red.id}`,
                red.debitId,
                red.returnEntryId,
                iso(expiresAt),
                iso(red.at),
                usedAt === null ? null : iso(usedAt),
                red.closedAt === null ? null : iso(red.closedAt),
                1,
                iso(red.at),
                iso(red.closedAt ?? usedAt ?? red.at),
              ]),
            );
          }
          rows.balances.push(line([customerId, shopId, balance, lifetime, iso(end)]));
        }

        await copy(
          'customers',
          'id, shop_id, external_id, email, first_name, last_name, enrolled_at, redacted_at, created_at, updated_at',
          rows.customers,
        );
        await copy(
          'orders',
          'id, shop_id, shopify_order_id, name, customer_id, email, currency, source_name, test, earn_amount_minor, total_minor, processed_at, paid_at, cancelled_at, program_version, redacted_at, created_at, updated_at',
          rows.orders,
        );
        await copy(
          'order_refunds',
          'id, shop_id, shopify_order_id, shopify_refund_id, merchandise_minor, shipping_minor, discrepancy_minor, currency, processed_at, created_at',
          rows.refunds,
        );
        await copy(
          'ledger_entries',
          'id, shop_id, customer_id, idempotency_key, source, points, occurred_at, program_version, inputs, subject_id, reverses_entry_id, created_at',
          rows.entries,
        );
        await copy(
          'redemptions',
          'id, shop_id, customer_id, reward_id, reward_version, request_id, status, points, value, code, shopify_discount_id, debit_entry_id, return_entry_id, expires_at, issued_at, used_at, closed_at, attempts, created_at, updated_at',
          rows.redemptions,
        );
        await copy(
          'customer_balances',
          'customer_id, shop_id, balance, lifetime_earned, updated_at',
          rows.balances,
        );
        log(
          `  ${chunkEnd.toLocaleString('en-US')} customers, ${counts.entries.toLocaleString('en-US')} entries (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        );
      }

      // The sequences continue after the ids used (nextval already consumed the first of each).
      const setTo = async (table: string, last: number) => {
        if (last < 1) return;
        await tx`SELECT setval(pg_get_serial_sequence(${table}, 'id'), greatest(${last}::bigint, (SELECT coalesce(max(id), 1) FROM ${tx(table)})))`;
      };
      await setTo('customers', ids.customer - 1);
      await setTo('orders', ids.order - 1);
      await setTo('order_refunds', ids.refund - 1);
      await setTo('ledger_entries', ids.entry - 1);
      await setTo('redemptions', ids.redemption - 1);

      // The projection must equal the entries, customer by customer.
      const [mismatch] = await tx`
        SELECT count(*)::int AS n FROM customer_balances b
        FULL JOIN (
          SELECT customer_id,
                 sum(points) AS balance,
                 sum(points) FILTER (WHERE source IN ('order','refund','cancellation','bonus','referral','tier','adjustment')) AS lifetime
          FROM ledger_entries WHERE shop_id = ${shopId} GROUP BY customer_id
        ) s ON s.customer_id = b.customer_id
        WHERE (b.shop_id = ${shopId} OR b.shop_id IS NULL)
          AND (b.customer_id IS NULL OR s.customer_id IS NULL
               OR b.balance <> s.balance OR b.lifetime_earned <> coalesce(s.lifetime, 0))`;
      if (mismatch!.n !== 0)
        throw new Error(`customer_balances differs from the ledger for ${mismatch!.n} customers`);
      // A refund after the points were spent leaves a balance below zero, as it does in a shop.
      const [neg] = await tx`
        SELECT count(*)::int AS n FROM customer_balances WHERE shop_id = ${shopId} AND balance < 0`;
      counts.negativeBalances = neg!.n as number;
      log(`  customers ${firstCustomerId}–${ids.customer - 1}: projection equals the ledger`);
    });
    // Fold the movement rows the triggers wrote per COPY now, as the admin would on its first
    // request, and leave the tables vacuumed and analysed: otherwise the first benchmark run pays
    // for the fold and later ones for the dead rows it leaves and statistics from before it.
    await compactMovements(handle.db, shopId, 1);
    await sql`VACUUM ANALYZE customers, orders, order_refunds, ledger_entries, redemptions,
      customer_balances, customer_first_purchases, customer_month_points, customer_ledger_activity,
      ledger_daily_movements, ledger_hourly_movements`;
    // An installed shop has an offline session; the admin's loaders need one to authenticate.
    await storeOfflineSession(handle.db, options.shop, 'shpat_seed_large');
  } finally {
    await sql.end();
    await handle.close();
  }
  counts.seconds = Math.round((performance.now() - started) / 100) / 10;
  return counts;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--'))
    throw new SeedRefused(`--${name} needs a value`);
  return value;
}

function count(argv: string[], name: string, fallback: number): number {
  const text = option(argv, name);
  if (text === undefined) return fallback;
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(value) || value < 1)
    throw new SeedRefused(`--${name} must be a whole number ≥ 1 (got ${JSON.stringify(text)})`);
  return value;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const say = (text: string) => process.stdout.write(`${text}\n`);
  try {
    const options: SeedOptions = {
      databaseUrl: option(argv, 'database-url') ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
      shop: option(argv, 'shop') ?? DEFAULT_SHOP,
      customers: count(argv, 'customers', 50_000),
      entries: count(argv, 'entries', 1_000_000),
      log: say,
    };
    const where = new URL(options.databaseUrl);
    where.password = '';
    say(
      `seed:large: ${options.shop} with ${options.customers.toLocaleString('en-US')} customers and ${options.entries.toLocaleString('en-US')} ledger entries into ${where.host}${where.pathname}`,
    );
    const counts = await seedLarge(options);
    say(`done in ${counts.seconds} s: ${JSON.stringify(counts)}`);
    return 0;
  } catch (error) {
    if (error instanceof SeedRefused) {
      process.stderr.write(`seed:large: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`seed:large: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
