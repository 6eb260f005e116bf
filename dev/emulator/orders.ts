import { connection, sorted, type PageArgs, type ResolverContext, type View } from './connections';
import { customerView } from './customers';
import { metafieldFields } from './metafields';
import { parseSearch, matchDate, matchId, matchText, type SearchTerm } from './search';
import type { OrderRecord } from './state';
import { dateTime, gid, idOfType, moneyBag, notImplemented } from './values';

export function orderView(ctx: ResolverContext, order: OrderRecord): View {
  const currency = ctx.store.settings.currencyCode;
  const customer =
    order.customerId === null ? undefined : ctx.store.customers.get(order.customerId);
  const ownerGid = gid('Order', order.id);
  return {
    __typename: 'Order',
    id: ownerGid,
    legacyResourceId: String(order.id),
    name: order.name,
    email: order.email,
    customer: customer ? customerView(ctx, customer) : null,
    processedAt: dateTime(order.processedAt),
    createdAt: dateTime(order.createdAt),
    updatedAt: dateTime(order.updatedAt),
    cancelledAt: order.cancelledAt === null ? null : dateTime(order.cancelledAt),
    closed: false,
    test: order.test,
    sourceName: order.sourceName,
    currencyCode: currency,
    presentmentCurrencyCode: currency,
    displayFinancialStatus: order.displayFinancialStatus,
    tags: order.tags,
    subtotalPriceSet: order.subtotalMinor === null ? null : moneyBag(order.subtotalMinor, currency),
    currentSubtotalPriceSet: moneyBag(order.currentSubtotalMinor, currency),
    totalPriceSet: moneyBag(order.totalPriceMinor, currency),
    ...metafieldFields(ctx, ownerGid),
  };
}

const ORDER_SEARCH_FIELDS = [
  'id',
  'name',
  'email',
  'customer_id',
  'processed_at',
  'created_at',
  'updated_at',
  'test',
  'financial_status',
  'status',
];

function orderMatches(order: OrderRecord, term: SearchTerm): boolean {
  switch (term.field) {
    case 'id':
      return matchId(order.id, term);
    case 'name':
      return matchText(order.name, term) || matchText(order.name.replace(/^#/, ''), term);
    case 'email':
      return matchText(order.email, term);
    case 'customer_id':
      return order.customerId !== null && matchId(order.customerId, term);
    case 'processed_at':
      return matchDate(order.processedAt, term);
    case 'created_at':
      return matchDate(order.createdAt, term);
    case 'updated_at':
      return matchDate(order.updatedAt, term);
    case 'test':
      return matchText(String(order.test), term);
    case 'financial_status':
      return matchText(order.displayFinancialStatus, term);
    default: {
      // status:open|cancelled|any, as in the Admin's order list.
      const status = term.value.toLowerCase();
      if (status === 'any') return true;
      if (status === 'cancelled') return order.cancelledAt !== null;
      if (status === 'open') return order.cancelledAt === null;
      throw notImplemented(`order search status:${term.value}`);
    }
  }
}

export function orderById(ctx: ResolverContext, id: string): View | null {
  const orderId = idOfType(id, 'Order');
  const order = orderId === undefined ? undefined : ctx.store.orders.get(orderId);
  return order ? orderView(ctx, order) : null;
}

export function ordersConnection(
  ctx: ResolverContext,
  args: PageArgs & { query?: string | null; sortKey?: string },
  scope: (order: OrderRecord) => boolean = () => true,
): View {
  const terms = parseSearch(args.query, ORDER_SEARCH_FIELDS);
  const orders = [...ctx.store.orders.values()].filter(
    (o) => scope(o) && terms.every((t) => orderMatches(o, t)),
  );
  const list = sorted(orders, args.sortKey ?? 'PROCESSED_AT', {
    ID: (o) => o.id,
    PROCESSED_AT: (o) => o.processedAt,
    CREATED_AT: (o) => o.createdAt,
    UPDATED_AT: (o) => o.updatedAt,
  });
  return connection(
    list,
    args,
    (o) => o.id,
    (o) => orderView(ctx, o),
  );
}
