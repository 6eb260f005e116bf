import { connection, sorted, type PageArgs, type ResolverContext, type View } from './connections';
import { metafieldFields } from './metafields';
import { ordersConnection } from './orders';
import { parseSearch, matchDate, matchId, matchText, type SearchTerm } from './search';
import type { CustomerRecord } from './state';
import { storeCreditAccountView } from './store-credit';
import { dateTime, gid, idOfType, moneyV2, notImplemented } from './values';

export function customerView(ctx: ResolverContext, customer: CustomerRecord): View {
  const { store } = ctx;
  const ownerGid = gid('Customer', customer.id);
  return {
    __typename: 'Customer',
    id: ownerGid,
    legacyResourceId: String(customer.id),
    firstName: customer.firstName,
    lastName: customer.lastName,
    displayName:
      [customer.firstName, customer.lastName].filter(Boolean).join(' ') || customer.email || '',
    email: customer.email,
    defaultEmailAddress: customer.email
      ? { emailAddress: customer.email, validFormat: true }
      : null,
    note: customer.note,
    tags: customer.tags,
    createdAt: dateTime(customer.createdAt),
    updatedAt: dateTime(customer.updatedAt),
    numberOfOrders: String(customer.numberOfOrders),
    amountSpent: moneyV2(customer.amountSpentMinor, store.settings.currencyCode),
    state: 'ENABLED',
    verifiedEmail: customer.email !== null,
    taxExempt: false,
    ...metafieldFields(ctx, ownerGid),
    orders: (args: PageArgs & { query?: string | null; sortKey?: string }) =>
      ordersConnection(ctx, args, (o) => o.customerId === customer.id),
    storeCreditAccounts: (args: PageArgs & { query?: string | null }) => {
      if (args.query) throw notImplemented('storeCreditAccounts(query:)');
      const accounts = [...store.storeCreditAccounts.values()].filter(
        (a) => a.ownerCustomerId === customer.id,
      );
      return connection(
        accounts,
        args,
        (a) => a.id,
        (a) => storeCreditAccountView(ctx, a),
      );
    },
  };
}

const CUSTOMER_SEARCH_FIELDS = ['id', 'email', 'tag', 'created_at', 'updated_at'];

function customerMatches(customer: CustomerRecord, term: SearchTerm): boolean {
  switch (term.field) {
    case 'id':
      return matchId(customer.id, term);
    case 'email':
      return matchText(customer.email, term);
    case 'tag':
      return customer.tags.some((tag) => matchText(tag, term));
    case 'created_at':
      return matchDate(customer.createdAt, term);
    default:
      return matchDate(customer.updatedAt, term);
  }
}

export function customerById(ctx: ResolverContext, id: string): View | null {
  const customerId = idOfType(id, 'Customer');
  const customer = customerId === undefined ? undefined : ctx.store.customers.get(customerId);
  return customer ? customerView(ctx, customer) : null;
}

export function customersConnection(
  ctx: ResolverContext,
  args: PageArgs & { query?: string | null; sortKey?: string },
): View {
  const terms = parseSearch(args.query, CUSTOMER_SEARCH_FIELDS);
  const customers = [...ctx.store.customers.values()].filter((c) =>
    terms.every((t) => customerMatches(c, t)),
  );
  const list = sorted(customers, args.sortKey ?? 'ID', {
    ID: (c) => c.id,
    CREATED_AT: (c) => c.createdAt,
    UPDATED_AT: (c) => c.updatedAt,
  });
  return connection(
    list,
    args,
    (c) => c.id,
    (c) => customerView(ctx, c),
  );
}
