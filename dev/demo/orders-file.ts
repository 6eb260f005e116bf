/**
 * `npm run demo -- --orders FILE`: a transaction file turned into the webhook deliveries the demo
 * replays. The file is read by the same reader as `loyalty report --input` and `loyalty import`
 * (cli/transactions.ts), so it accepts exactly what they accept — Laurel's plain CSV
 * (`transaction_id,customer_id,date,amount`) or Shopify's orders export — and a bad file fails with
 * the reader's errors, each naming its line.
 *
 * Each distinct customer gets a customers/create (an hour before their first purchase), then each
 * transaction an orders/paid whose subtotal is the amount the file says earns. Replayed, the ledger
 * then holds what `loyalty report --input` prints for the file (in the same timezone).
 *
 * What the reader gives, and so what the deliveries can say:
 * - Plain files: customer ids such as `C001` are not Shopify ids, so each customer gets a numeric
 *   id (its own digits when it is a Shopify-sized number, else derived from a hash); its first name
 *   is the file's id, so the merchant can tell who is who. Calendar-day dates become noon of that
 *   day in `timezone`, which keeps them in their month as the file report does.
 * - Shopify exports: the customer is the order's email. The reader folds refunds into the earning
 *   amount (`Subtotal − Refunded Amount`) and marks orders that earn nothing (cancelled, pending,
 *   refunded…) with a reason, without their amounts. So an order is replayed as orders/paid for
 *   that net amount (0 for the others, with the export's financial status), and a cancelled order
 *   also gets an orders/cancelled. No refunds/create: the export does not say what was refunded when.
 *   Guest orders (no email) are skipped by the reader, as the report skips them.
 *
 * The whole file is held in memory as payloads (~5 KB each): meant for demo-sized files.
 */
import { createHash } from 'node:crypto';
import { formatMoney } from '../../loyalty/money';
import { MAX_LISTED_ERRORS } from '../../cli/report-file';
import {
  readTransactions,
  type ReadSummary,
  type TransactionError,
  type TransactionSource,
} from '../../cli/transactions';
import { cancelledOrderPayload, customerPayload, orderPayload } from '../shopify-payloads';
import { deliveryOf, sortDeliveries, type Delivery, type DeliveryTopic } from './deliveries';
import { isoInZone, zonedInstant } from './zoned';

export interface OrdersFileOptions {
  /** The shop the deliveries are for (part of every webhook id). */
  shop: string;
  /**
   * The shop's IANA timezone (default UTC): timestamps are written with its offset, calendar days
   * become noon there. Compare with `loyalty report --input FILE --timezone` in the same zone.
   */
  timezone?: string;
  /** The program (and shop) currency of the amounts. Default USD. */
  currency?: string;
}

export interface OrdersFileDeliveries {
  source: TransactionSource;
  deliveries: Delivery[];
  /** The file's customer (plain customer_id, or the export's email) → its Shopify customer id. */
  customerIds: Map<string, string>;
  summary: ReadSummary;
}

/** The file has problems: nothing should be replayed. `message` lists them as the CLI does. */
export class OrdersFileError extends Error {
  constructor(
    readonly path: string,
    /** Every problem, by line. */
    readonly errors: TransactionError[],
  ) {
    const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => `  line ${e.line}: ${e.message}`);
    if (errors.length > MAX_LISTED_ERRORS) {
      listed.push(`  … and ${errors.length - MAX_LISTED_ERRORS} more`);
    }
    const n = errors.length;
    super(
      `${path} has ${n} error${n === 1 ? '' : 's'}; nothing was replayed.\n${listed.join('\n')}`,
    );
    this.name = 'OrdersFileError';
  }
}

/** What is kept of a row (the reader reuses its row object). */
interface Purchase {
  customer: string;
  transactionId: string | undefined;
  orderName: string | undefined;
  /** Text identifying the date, for rows without a transaction id. */
  dateText: string;
  at: number;
  amountMinor: number;
  nonEarningReason: string | undefined;
}

const NOON = 12;
/** Shopify-sized ids: 13 digits, below 2^53. */
const ID_BASE = 1_000_000_000_000;
const ID_SPAN = 8_000_000_000_000;

/** Allocates numeric ids: a Shopify-looking number is kept, anything else is hashed, never twice. */
class IdAllocator {
  private readonly taken = new Set<number>();
  constructor(private readonly kind: string) {}

  idFor(text: string): number {
    let id =
      /^[1-9]\d{0,15}$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : NaN;
    if (Number.isNaN(id) || this.taken.has(id)) {
      const hash = createHash('sha256').update(`${this.kind}\u0000${text}`).digest();
      id = ID_BASE + (hash.readUIntBE(0, 6) % ID_SPAN);
    }
    while (this.taken.has(id)) id += 1; // a hash collision: the next free id, deterministically
    this.taken.add(id);
    return id;
  }
}

/** Reads `path` and returns its deliveries, or throws OrdersFileError / InputFileError. */
export async function readOrdersFile(
  path: string,
  options: OrdersFileOptions,
): Promise<OrdersFileDeliveries> {
  const tz = options.timezone ?? 'UTC';
  const currency = options.currency ?? 'USD';
  const purchases: Purchase[] = [];
  const errors: TransactionError[] = [];
  const summary = await readTransactions(path, {
    currency,
    timezone: tz,
    onRow(row) {
      let at: number;
      let dateText: string;
      if (row.dateKind === 'day') {
        const [y, m, d] = row.day!.split('-').map(Number) as [number, number, number];
        at = zonedInstant(tz, y, m, d, NOON);
        dateText = row.day!;
      } else {
        at = row.epochMs!;
        dateText = new Date(at).toISOString();
      }
      purchases.push({
        customer: row.customerId,
        transactionId: row.transactionId,
        orderName: row.orderName,
        dateText,
        at,
        amountMinor: row.amountMinor,
        nonEarningReason: row.nonEarningReason,
      });
    },
    onError(error) {
      errors.push(error);
    },
  });
  if (errors.length > 0) {
    throw new OrdersFileError(
      path,
      errors.sort((a, b) => a.line - b.line),
    );
  }

  const customerIds = new Map<string, string>();
  const customers = new IdAllocator('customer');
  const orders = new IdAllocator('order');
  const firstPurchase = new Map<string, number>();
  for (const p of purchases) {
    if (!customerIds.has(p.customer))
      customerIds.set(p.customer, String(customers.idFor(p.customer)));
    firstPurchase.set(p.customer, Math.min(firstPurchase.get(p.customer) ?? Infinity, p.at));
  }

  const deliveries: Delivery[] = [];
  const deliver = (
    topic: DeliveryTopic,
    resourceId: number,
    at: number,
    payload: Record<string, unknown>,
  ) => deliveries.push(deliveryOf(options.shop, topic, resourceId, at, payload));

  const shopify = summary.source === 'shopify';
  const customerOptions = new Map(
    [...customerIds].map(([fileId, id]) => {
      const createdAt = isoInZone(firstPurchase.get(fileId)! - 3_600_000, tz);
      return [
        fileId,
        shopify
          ? { id: Number(id), email: fileId, firstName: null, lastName: null, createdAt, currency }
          : { id: Number(id), email: null, firstName: fileId, lastName: null, createdAt, currency },
      ] as const;
    }),
  );
  for (const [fileId, c] of customerOptions) {
    deliver('customers/create', c.id, firstPurchase.get(fileId)! - 3_600_000, customerPayload(c));
  }

  // Rows without a transaction id are told apart like `loyalty import` does: by what they say,
  // plus how many identical rows came before.
  const occurrences = new Map<string, number>();
  purchases.forEach((p, index) => {
    let key = p.transactionId;
    if (key === undefined) {
      const what = `${p.customer}\u0000${p.dateText}\u0000${p.amountMinor}`;
      const n = (occurrences.get(what) ?? 0) + 1;
      occurrences.set(what, n);
      key = `row\u0000${what}\u0000${n}`;
    }
    const id = orders.idFor(key);
    const orderNumber = 1001 + index;
    const name =
      p.orderName ?? (p.transactionId !== undefined ? `#${p.transactionId}` : `#${orderNumber}`);
    const cancelled = p.nonEarningReason === 'cancelled';
    const status = p.nonEarningReason?.startsWith('financial status ')
      ? p.nonEarningReason.slice('financial status '.length)
      : 'paid';
    const processedAt = isoInZone(p.at, tz);
    const order = orderPayload({
      id,
      orderNumber,
      name,
      customer: customerOptions.get(p.customer)!,
      subtotal: formatMoney(p.amountMinor, currency),
      currency,
      financialStatus: status,
      processedAt,
      createdAt: processedAt,
    });
    deliver('orders/paid', id, p.at, order);
    if (cancelled) {
      const at = p.at + 1_000;
      deliver(
        'orders/cancelled',
        id,
        at,
        cancelledOrderPayload(order, { cancelledAt: isoInZone(at, tz), reason: 'other' }),
      );
    }
  });

  return { source: summary.source, deliveries: sortDeliveries(deliveries), customerIds, summary };
}
