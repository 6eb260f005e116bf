import { GraphQLError } from 'graphql';
import { parseSearch, matchDate, matchId, matchText, type SearchTerm } from './search';
import {
  findDiscountByCode,
  metafieldDigest,
  normalizeTags,
  type CustomerRecord,
  type DiscountBuyers,
  type DiscountRecord,
  type DiscountValue,
  type EmulatorState,
  type MetafieldDefinitionRecord,
  type MetafieldRecord,
  type OrderRecord,
  type ShopStore,
  type StoreCreditAccountRecord,
  type StoreCreditTransactionRecord,
} from './state';
import {
  dateTime,
  decimalIn,
  gid,
  idOfType,
  moneyBag,
  moneyV2,
  notImplemented,
  parseGid,
} from './values';

/**
 * The operations Laurel uses, over the emulator's state. Views are plain objects whose properties
 * are values or functions of the field's arguments; a field with no property is answered with
 * "not implemented by the Laurel emulator: Type.field" (see server.ts), never a silent null.
 * Objects behind interfaces and unions carry `__typename` for type resolution.
 */

export interface ResolverContext {
  state: EmulatorState;
  store: ShopStore;
  /** Time of the request (ms). */
  now: number;
}

type Args = Record<string, unknown>;
type View = Record<string, unknown>;

interface UserErrorOut {
  field: string[] | null;
  message: string;
  code?: string | null;
  elementIndex?: number | null;
  extraInfo?: string | null;
}

const MAX_PAGE_SIZE = 250;

// ---------------------------------------------------------------------------------------------
// Connections

interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  reverse?: boolean | null;
}

function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify({ last_id: id })).toString('base64');
}

function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as {
      last_id?: unknown;
    };
    if (typeof parsed.last_id === 'number') return parsed.last_id;
  } catch {
    // fall through to the error below
  }
  throw new GraphQLError(`Invalid cursor: ${cursor}`, { extensions: { code: 'BAD_REQUEST' } });
}

function connection<T>(
  items: T[],
  args: PageArgs,
  idOf: (item: T) => number,
  view: (item: T) => View,
): View {
  const { first, last } = args;
  if ((first === null || first === undefined) && (last === null || last === undefined)) {
    throw new GraphQLError('you must provide one of first or last', {
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  for (const [name, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value !== null && value !== undefined && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw new GraphQLError(
        `The ${name} argument must be between 0 and ${MAX_PAGE_SIZE}; got ${value}`,
        {
          extensions: { code: 'BAD_REQUEST' },
        },
      );
    }
  }
  const list = args.reverse ? [...items].reverse() : items;
  const position = (cursor: string) => {
    const id = decodeCursor(cursor);
    const index = list.findIndex((item) => idOf(item) === id);
    if (index < 0)
      throw new GraphQLError(`Invalid cursor: ${cursor}`, { extensions: { code: 'BAD_REQUEST' } });
    return index;
  };
  let start = args.after ? position(args.after) + 1 : 0;
  let end = args.before ? position(args.before) : list.length;
  if (first !== null && first !== undefined) end = Math.min(end, start + first);
  if (last !== null && last !== undefined) start = Math.max(start, end - last);
  const page = list.slice(start, end);
  const edges = page.map((item) => ({ cursor: encodeCursor(idOf(item)), node: view(item) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: end < list.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Views

function shopView(ctx: ResolverContext): View {
  const { store } = ctx;
  const ownerGid = gid('Shop', store.shopId);
  return {
    __typename: 'Shop',
    id: ownerGid,
    name: store.settings.name,
    email: store.settings.email,
    contactEmail: store.settings.email,
    currencyCode: store.settings.currencyCode,
    enabledPresentmentCurrencies: [store.settings.currencyCode],
    ianaTimezone: store.settings.ianaTimezone,
    myshopifyDomain: store.domain,
    url: `https://${store.domain}`,
    ...metafieldFields(ctx, ownerGid),
  };
}

function customerView(ctx: ResolverContext, customer: CustomerRecord): View {
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

function orderView(ctx: ResolverContext, order: OrderRecord): View {
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

function metafieldView(ctx: ResolverContext, metafield: MetafieldRecord): View {
  return {
    __typename: 'Metafield',
    id: gid('Metafield', metafield.id),
    legacyResourceId: String(metafield.id),
    namespace: metafield.namespace,
    key: metafield.key,
    type: metafield.type,
    value: metafield.value,
    jsonValue: jsonValue(metafield),
    compareDigest: metafieldDigest(metafield),
    createdAt: dateTime(metafield.createdAt),
    updatedAt: dateTime(metafield.updatedAt),
    ownerType: ownerTypeOf(metafield.ownerGid),
    owner: () => ownerView(ctx, metafield.ownerGid),
  };
}

function metafieldFields(ctx: ResolverContext, ownerGid: string): View {
  const owned = () => [...ctx.store.metafields.values()].filter((m) => m.ownerGid === ownerGid);
  return {
    metafield: ({ namespace, key }: { namespace?: string | null; key: string }) => {
      const resolved = ctx.state.resolveNamespace(namespace);
      const found = owned().find((m) => m.namespace === resolved && m.key === key);
      return found ? metafieldView(ctx, found) : null;
    },
    metafields: (args: PageArgs & { namespace?: string | null; keys?: string[] | null }) => {
      const namespace =
        args.namespace === undefined || args.namespace === null
          ? undefined
          : ctx.state.resolveNamespace(args.namespace);
      const keys = args.keys?.map((k) => {
        const dot = k.lastIndexOf('.');
        return `${ctx.state.resolveNamespace(k.slice(0, dot))}.${k.slice(dot + 1)}`;
      });
      const matching = owned().filter(
        (m) =>
          (namespace === undefined || m.namespace === namespace) &&
          (keys === undefined || keys.includes(`${m.namespace}.${m.key}`)),
      );
      return connection(
        matching,
        args,
        (m) => m.id,
        (m) => metafieldView(ctx, m),
      );
    },
  };
}

function storeCreditAccountView(ctx: ResolverContext, account: StoreCreditAccountRecord): View {
  return {
    __typename: 'StoreCreditAccount',
    id: gid('StoreCreditAccount', account.id),
    balance: moneyV2(account.balanceMinor, account.currencyCode),
    owner: () => {
      const customer = ctx.store.customers.get(account.ownerCustomerId);
      return customer ? customerView(ctx, customer) : null;
    },
    transactions: (args: PageArgs & { query?: string | null; sortKey?: string }) => {
      if (args.query) throw notImplemented('StoreCreditAccount.transactions(query:)');
      const transactions = [...ctx.store.storeCreditTransactions.values()].filter(
        (t) => t.accountId === account.id,
      );
      return connection(
        transactions,
        args,
        (t) => t.id,
        (t) => storeCreditTransactionView(ctx, t),
      );
    },
  };
}

function storeCreditTransactionView(
  ctx: ResolverContext,
  transaction: StoreCreditTransactionRecord,
): View {
  const account = ctx.store.storeCreditAccounts.get(transaction.accountId)!;
  const currency = account.currencyCode;
  const credit = transaction.kind === 'credit';
  return {
    __typename: credit
      ? 'StoreCreditAccountCreditTransaction'
      : 'StoreCreditAccountDebitTransaction',
    id: gid(
      credit ? 'StoreCreditAccountCreditTransaction' : 'StoreCreditAccountDebitTransaction',
      transaction.id,
    ),
    // Debits are reported as negative amounts (as recalled from Shopify's documented example
    // response; not verifiable offline). Laurel should read balanceAfterTransaction instead.
    amount: moneyV2(credit ? transaction.amountMinor : -transaction.amountMinor, currency),
    balanceAfterTransaction: moneyV2(transaction.balanceAfterMinor, currency),
    createdAt: dateTime(transaction.createdAt),
    event: 'ADJUSTMENT',
    origin: null,
    account: storeCreditAccountView(ctx, account),
    ...(credit
      ? { expiresAt: transaction.expiresAt === null ? null : dateTime(transaction.expiresAt) }
      : {}),
  };
}

function discountNodeView(ctx: ResolverContext, discount: DiscountRecord): View {
  return {
    __typename: 'DiscountCodeNode',
    id: gid('DiscountCodeNode', discount.id),
    codeDiscount: discountCodeBasicView(ctx, discount),
  };
}

function discountCodeBasicView(ctx: ResolverContext, discount: DiscountRecord): View {
  const currency = ctx.store.settings.currencyCode;
  const status =
    discount.startsAt > ctx.now
      ? 'SCHEDULED'
      : discount.endsAt !== null && discount.endsAt <= ctx.now
        ? 'EXPIRED'
        : 'ACTIVE';
  const redeemCode = {
    __typename: 'DiscountRedeemCode',
    id: gid('DiscountRedeemCode', discount.codeId),
    code: discount.code,
    asyncUsageCount: discount.usageCount,
    createdBy: null,
  };
  const customers = (ids: number[]) =>
    ids.flatMap((id) => {
      const customer = ctx.store.customers.get(id);
      return customer ? [customerView(ctx, customer)] : [];
    });
  const buyers = discount.buyers;
  const summary = discountSummary(discount.value, currency);
  return {
    __typename: 'DiscountCodeBasic',
    title: discount.title,
    status,
    summary,
    shortSummary: summary,
    startsAt: dateTime(discount.startsAt),
    endsAt: discount.endsAt === null ? null : dateTime(discount.endsAt),
    createdAt: dateTime(discount.createdAt),
    updatedAt: dateTime(discount.updatedAt),
    usageLimit: discount.usageLimit,
    appliesOncePerCustomer: discount.appliesOncePerCustomer,
    asyncUsageCount: discount.usageCount,
    recurringCycleLimit: 0,
    hasTimelineComment: false,
    tags: [],
    discountClasses: ['ORDER'],
    discountClass: 'ORDER',
    codes: (args: PageArgs) =>
      connection(
        [redeemCode],
        args,
        () => discount.codeId,
        (c) => c,
      ),
    codesCount: { count: 1, precision: 'EXACT' },
    context:
      buyers.kind === 'all'
        ? { __typename: 'DiscountBuyerSelectionAll', all: 'ALL' }
        : { __typename: 'DiscountCustomers', customers: customers(buyers.customerIds) },
    customerSelection:
      buyers.kind === 'all'
        ? { __typename: 'DiscountCustomerAll', allCustomers: true }
        : { __typename: 'DiscountCustomers', customers: customers(buyers.customerIds) },
    customerGets: {
      appliesOnOneTimePurchase: discount.appliesOnOneTimePurchase,
      appliesOnSubscription: discount.appliesOnSubscription,
      items: { __typename: 'AllDiscountItems', allItems: true },
      value:
        discount.value.kind === 'percentage'
          ? { __typename: 'DiscountPercentage', percentage: discount.value.percentage }
          : {
              __typename: 'DiscountAmount',
              amount: moneyV2(discount.value.amountMinor, currency),
              appliesOnEachItem: discount.value.appliesOnEachItem,
            },
    },
    minimumRequirement:
      discount.minimumSubtotalMinor === null
        ? null
        : {
            __typename: 'DiscountMinimumSubtotal',
            greaterThanOrEqualToSubtotal: moneyV2(discount.minimumSubtotalMinor, currency),
          },
    combinesWith: { ...discount.combinesWith, productDiscountsWithTagsOnSameCartLine: null },
  };
}

function discountSummary(value: DiscountValue, currency: string): string {
  if (value.kind === 'percentage') {
    return `${Math.round(value.percentage * 10_000) / 100}% off entire order`;
  }
  return `${moneyV2(value.amountMinor, currency).amount} ${currency} off entire order`;
}

function ownerView(ctx: ResolverContext, ownerGid: string): View | null {
  const { type, id } = parseGid(ownerGid);
  if (type === 'Customer') {
    const customer = ctx.store.customers.get(id);
    return customer ? customerView(ctx, customer) : null;
  }
  if (type === 'Order') {
    const order = ctx.store.orders.get(id);
    return order ? orderView(ctx, order) : null;
  }
  if (type === 'Shop') return id === ctx.store.shopId ? shopView(ctx) : null;
  if (type === 'AppInstallation') {
    return id === ctx.store.appInstallationId ? appInstallationView(ctx) : null;
  }
  return null;
}

function ownerTypeOf(ownerGid: string): string {
  return (
    // Shopify reports app-data metafields (owned by the installation) as API_PERMISSION.
    {
      Customer: 'CUSTOMER',
      Order: 'ORDER',
      Shop: 'SHOP',
      AppInstallation: 'API_PERMISSION',
    }[parseGid(ownerGid).type] ?? 'UNKNOWN'
  );
}

/** The app's installation on the shop; its metafields are the app-data metafields. */
function appInstallationView(ctx: ResolverContext): View {
  const ownerGid = gid('AppInstallation', ctx.store.appInstallationId);
  return { __typename: 'AppInstallation', id: ownerGid, ...metafieldFields(ctx, ownerGid) };
}

function metafieldDefinitionView(definition: MetafieldDefinitionRecord): View {
  return {
    __typename: 'MetafieldDefinition',
    id: gid('MetafieldDefinition', definition.id),
    name: definition.name,
    namespace: definition.namespace,
    key: definition.key,
    description: definition.description,
    ownerType: definition.ownerType,
    pinnedPosition: definition.pinnedPosition,
    type: { name: definition.type, category: metafieldCategory(definition.type) },
    access: { ...definition.access },
    validations: [],
  };
}

function jsonValue(metafield: MetafieldRecord): unknown {
  switch (metafield.type) {
    case 'number_integer':
      return Number(metafield.value);
    case 'boolean':
      return metafield.value === 'true';
    case 'json':
      return JSON.parse(metafield.value);
    default:
      return metafield.value;
  }
}

// ---------------------------------------------------------------------------------------------
// Queries

const CUSTOMER_SEARCH_FIELDS = ['id', 'email', 'tag', 'created_at', 'updated_at'];
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

function sorted<T extends { id: number }>(
  items: T[],
  sortKey: string,
  keys: Record<string, ((item: T) => number) | undefined>,
): T[] {
  const keyOf = keys[sortKey];
  if (!keyOf) throw notImplemented(`sortKey ${sortKey}`);
  // Ties broken by id so pages are stable.
  return [...items].sort((a, b) => keyOf(a) - keyOf(b) || a.id - b.id);
}

function ordersConnection(
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

export function queryRoot(ctx: ResolverContext): View {
  const { store } = ctx;
  return {
    shop: () => shopView(ctx),
    customer: ({ id }: { id: string }) => {
      const customerId = idOfType(id, 'Customer');
      const customer = customerId === undefined ? undefined : store.customers.get(customerId);
      return customer ? customerView(ctx, customer) : null;
    },
    customers: (args: PageArgs & { query?: string | null; sortKey?: string }) => {
      const terms = parseSearch(args.query, CUSTOMER_SEARCH_FIELDS);
      const customers = [...store.customers.values()].filter((c) =>
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
    },
    order: ({ id }: { id: string }) => {
      const orderId = idOfType(id, 'Order');
      const order = orderId === undefined ? undefined : store.orders.get(orderId);
      return order ? orderView(ctx, order) : null;
    },
    orders: (args: PageArgs & { query?: string | null; sortKey?: string }) =>
      ordersConnection(ctx, args),
    codeDiscountNodeByCode: ({ code }: { code: string }) => {
      const discount = findDiscountByCode(store, code);
      return discount ? discountNodeView(ctx, discount) : null;
    },
    currentAppInstallation: () => appInstallationView(ctx),
    metafieldDefinitions: (
      args: PageArgs & {
        ownerType: string;
        namespace?: string | null;
        key?: string | null;
        query?: string | null;
        pinnedStatus?: string | null;
        constraintStatus?: string | null;
        constraintSubtype?: unknown;
        sortKey?: string | null;
      },
    ) => {
      if (args.query || args.constraintSubtype || (args.sortKey && args.sortKey !== 'ID')) {
        throw notImplemented('metafieldDefinitions(query:, constraintSubtype:, sortKey:)');
      }
      if (args.pinnedStatus && args.pinnedStatus !== 'ANY') {
        throw notImplemented('metafieldDefinitions(pinnedStatus:)');
      }
      const namespace =
        args.namespace === undefined || args.namespace === null
          ? undefined
          : ctx.state.resolveNamespace(args.namespace);
      const definitions = [...store.definitions.values()]
        .filter(
          (d) =>
            d.ownerType === args.ownerType &&
            (namespace === undefined || d.namespace === namespace) &&
            (args.key === undefined || args.key === null || d.key === args.key),
        )
        .sort((a, b) => a.id - b.id);
      return connection(definitions, args, (d) => d.id, metafieldDefinitionView);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations

const METAFIELD_TYPES = new Set([
  'boolean',
  'color',
  'date',
  'date_time',
  'dimension',
  'id',
  'json',
  'link',
  'money',
  'multi_line_text_field',
  'number_decimal',
  'number_integer',
  'rating',
  'rich_text_field',
  'single_line_text_field',
  'url',
  'volume',
  'weight',
  'collection_reference',
  'customer_reference',
  'file_reference',
  'metaobject_reference',
  'page_reference',
  'product_reference',
  'variant_reference',
]);

function isMetafieldType(type: string): boolean {
  return (
    METAFIELD_TYPES.has(type) || (type.startsWith('list.') && METAFIELD_TYPES.has(type.slice(5)))
  );
}

/** Why `value` is not valid for `type`, or null. Types without a rule here are stored as given. */
function metafieldValueProblem(type: string, value: string): string | null {
  switch (type) {
    case 'number_integer':
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value))
        ? null
        : `Value must be an integer.`;
    case 'number_decimal':
      return /^-?\d+(\.\d+)?$/.test(value) ? null : 'Value must be a decimal.';
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'Value must be true or false.';
    case 'single_line_text_field':
      return /[\r\n]/.test(value) ? 'Value must be a single line.' : null;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : 'Value must be a date in YYYY-MM-DD format.';
    case 'date_time':
      return Number.isNaN(Date.parse(value)) ? 'Value must be an ISO 8601 date-time.' : null;
    case 'url':
      return URL.canParse(value) ? null : 'Value must be a URL.';
    case 'json':
      try {
        JSON.parse(value);
        return null;
      } catch {
        return 'Value must be valid JSON.';
      }
    default:
      return null;
  }
}

const KEY = /^[A-Za-z0-9_-]+$/;

function ownerExists(ctx: ResolverContext, ownerGid: string): boolean {
  const { type, id } = parseGid(ownerGid);
  switch (type) {
    case 'Customer':
      return ctx.store.customers.has(id);
    case 'Order':
      return ctx.store.orders.has(id);
    case 'Shop':
      return id === ctx.store.shopId;
    case 'AppInstallation':
      // An app may write metafields on its own installation only.
      return id === ctx.store.appInstallationId;
    default:
      throw notImplemented(`metafields on ${type}`);
  }
}

function metafieldsSet(ctx: ResolverContext, args: Args): View {
  const inputs = args.metafields as Array<{
    ownerId: string;
    namespace?: string | null;
    key: string;
    value: string;
    type?: string | null;
    compareDigest?: string | null;
  }>;
  if (inputs.length > 25) {
    return {
      metafields: null,
      userErrors: [
        {
          field: ['metafields'],
          message: 'Exceeded the maximum metafields input limit of 25.',
          code: 'LESS_THAN_OR_EQUAL_TO',
          elementIndex: null,
        },
      ],
    };
  }
  const errors: UserErrorOut[] = [];
  const plans: Array<{
    existing?: MetafieldRecord;
    ownerGid: string;
    namespace: string;
    key: string;
    type: string;
    value: string;
  }> = [];
  inputs.forEach((input, index) => {
    const problem = (field: string, message: string, code: string) =>
      errors.push({
        field: ['metafields', String(index), field],
        message,
        code,
        elementIndex: index,
      });
    if (!ownerExists(ctx, input.ownerId))
      return problem('ownerId', 'Owner does not exist.', 'INVALID');
    const namespace = ctx.state.resolveNamespace(input.namespace);
    if (namespace.length < 3)
      return problem('namespace', 'Namespace is too short (minimum is 3 characters).', 'TOO_SHORT');
    if (namespace.length > 255)
      return problem('namespace', 'Namespace is too long (maximum is 255 characters).', 'TOO_LONG');
    if (!KEY.test(namespace))
      return problem('namespace', 'Namespace contains invalid characters.', 'INVALID');
    if (input.key.length < 2)
      return problem('key', 'Key is too short (minimum is 2 characters).', 'TOO_SHORT');
    if (input.key.length > 64)
      return problem('key', 'Key is too long (maximum is 64 characters).', 'TOO_LONG');
    if (!KEY.test(input.key)) return problem('key', 'Key contains invalid characters.', 'INVALID');

    const ownerType = ownerTypeOf(input.ownerId);
    const definition = [...ctx.store.definitions.values()].find(
      (d) => d.ownerType === ownerType && d.namespace === namespace && d.key === input.key,
    );
    const existing = [...ctx.store.metafields.values()].find(
      (m) => m.ownerGid === input.ownerId && m.namespace === namespace && m.key === input.key,
    );
    const fixedType = definition?.type ?? existing?.type;
    const type = input.type ?? fixedType;
    if (!type) return problem('type', "Type can't be blank.", 'BLANK');
    if (!isMetafieldType(type))
      return problem('type', `Type '${type}' is not a valid type.`, 'INVALID_TYPE');
    if (fixedType && type !== fixedType) {
      return problem(
        'type',
        `Type must be ${fixedType}, the type this metafield already has.`,
        'INVALID_TYPE',
      );
    }
    const valueProblem = metafieldValueProblem(type, input.value);
    if (valueProblem) return problem('value', valueProblem, 'INVALID_VALUE');
    // Absent: unconditional write. null: only if it does not exist yet. A digest: only if unchanged.
    if ('compareDigest' in input) {
      const current = existing ? metafieldDigest(existing) : null;
      if (input.compareDigest !== current) {
        return problem(
          'compareDigest',
          'The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.',
          'STALE_OBJECT',
        );
      }
    }
    if (
      plans.some(
        (p) => p.ownerGid === input.ownerId && p.namespace === namespace && p.key === input.key,
      )
    ) {
      return problem('key', 'The same metafield appears more than once in this request.', 'TAKEN');
    }
    plans.push({
      existing,
      ownerGid: input.ownerId,
      namespace,
      key: input.key,
      type,
      value: input.value,
    });
  });
  // Atomic like Shopify's: one bad input and nothing is written.
  if (errors.length > 0) return { metafields: null, userErrors: errors };

  const written = plans.map((plan) => {
    let record = plan.existing;
    if (record) {
      record.value = plan.value;
      record.type = plan.type;
      record.updatedAt = ctx.now;
      record.revision += 1;
    } else {
      record = {
        id: ctx.state.id(),
        ownerGid: plan.ownerGid,
        namespace: plan.namespace,
        key: plan.key,
        type: plan.type,
        value: plan.value,
        createdAt: ctx.now,
        updatedAt: ctx.now,
        revision: 1,
      };
      ctx.store.metafields.set(record.id, record);
    }
    return metafieldView(ctx, record);
  });
  return { metafields: written, userErrors: [] };
}

function metafieldDefinitionCreate(ctx: ResolverContext, args: Args): View {
  const input = args.definition as {
    name: string;
    namespace?: string | null;
    key: string;
    type: string;
    ownerType: string;
    description?: string | null;
    access?: {
      admin?: string | null;
      storefront?: string | null;
      customerAccount?: string | null;
    } | null;
    capabilities?: unknown;
    constraints?: unknown;
    validations?: unknown[] | null;
  };
  if (input.capabilities || input.constraints || input.validations?.length) {
    throw notImplemented('MetafieldDefinitionInput capabilities, constraints and validations');
  }
  const namespace = ctx.state.resolveNamespace(input.namespace);
  const errors: UserErrorOut[] = [];
  const problem = (field: string, message: string, code: string) =>
    errors.push({ field: ['definition', field], message, code });
  if (input.name.trim() === '') problem('name', "Name can't be blank.", 'BLANK');
  if (namespace.length < 3 || namespace.length > 255 || !KEY.test(namespace)) {
    problem(
      'namespace',
      'Namespace must be 3-255 letters, digits, hyphens or underscores.',
      'INVALID',
    );
  }
  if (input.key.length < 2 || input.key.length > 64 || !KEY.test(input.key)) {
    problem('key', 'Key must be 2-64 letters, digits, hyphens or underscores.', 'INVALID');
  }
  if (!isMetafieldType(input.type)) problem('type', 'Type name is not a valid type.', 'INCLUSION');
  const appOwned = ctx.state.isAppNamespace(namespace);
  if (input.access?.admin && !appOwned) {
    problem(
      'access',
      'Admin access can only be specified for app-owned metafield definitions.',
      'ADMIN_ACCESS_INPUT_NOT_ALLOWED',
    );
  }
  const taken = [...ctx.store.definitions.values()].some(
    (d) => d.ownerType === input.ownerType && d.namespace === namespace && d.key === input.key,
  );
  if (taken) {
    const owner = input.ownerType.charAt(0) + input.ownerType.slice(1).toLowerCase();
    problem(
      'key',
      `Key is in use for ${owner} metafields on the '${namespace}' namespace.`,
      'TAKEN',
    );
  }
  if (errors.length > 0) return { createdDefinition: null, userErrors: errors };

  const record = {
    id: ctx.state.id(),
    ownerType: input.ownerType,
    namespace,
    key: input.key,
    name: input.name,
    description: input.description ?? null,
    type: input.type,
    access: {
      admin: input.access?.admin ?? (appOwned ? 'MERCHANT_READ' : 'PUBLIC_READ_WRITE'),
      storefront: input.access?.storefront ?? 'NONE',
      customerAccount: input.access?.customerAccount ?? 'NONE',
    },
    pinnedPosition: null,
  };
  ctx.store.definitions.set(record.id, record);
  return { createdDefinition: metafieldDefinitionView(record), userErrors: [] };
}

function metafieldCategory(type: string): string {
  if (type.endsWith('_reference')) return 'REFERENCE';
  if (type.startsWith('number') || type === 'rating') return 'NUMBER';
  if (type.includes('text')) return 'TEXT';
  if (type.startsWith('date')) return 'DATE_TIME';
  return 'OTHER';
}

function taggable(
  ctx: ResolverContext,
  id: string,
): { record: { tags: string[]; updatedAt: number }; view: () => View } | undefined {
  const { type, id: numeric } = parseGid(id);
  if (type === 'Customer') {
    const customer = ctx.store.customers.get(numeric);
    return customer && { record: customer, view: () => customerView(ctx, customer) };
  }
  if (type === 'Order') {
    const order = ctx.store.orders.get(numeric);
    return order && { record: order, view: () => orderView(ctx, order) };
  }
  throw notImplemented(`tags on ${type}`);
}

function changeTags(ctx: ResolverContext, args: Args, change: 'add' | 'remove'): View {
  const target = taggable(ctx, args.id as string);
  if (!target)
    return { node: null, userErrors: [{ field: ['id'], message: 'Resource not found.' }] };
  const tags = args.tags as string[];
  const tooLong = tags.flatMap((t) => t.split(',')).find((t) => t.trim().length > 255);
  if (tooLong !== undefined) {
    return {
      node: null,
      userErrors: [
        { field: ['tags'], message: 'Tags are too long (maximum is 255 characters per tag).' },
      ],
    };
  }
  const before = target.record.tags;
  if (change === 'add') {
    target.record.tags = normalizeTags(tags, before);
  } else {
    const removing = new Set(normalizeTags(tags).map((t) => t.toLowerCase()));
    target.record.tags = before.filter((t) => !removing.has(t.toLowerCase()));
  }
  if (target.record.tags.length !== before.length) target.record.updatedAt = ctx.now;
  return { node: target.view(), userErrors: [] };
}

interface DiscountInput {
  title?: string | null;
  code?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  usageLimit?: number | null;
  appliesOncePerCustomer?: boolean | null;
  context?: {
    all?: string;
    customers?: { add?: string[] | null; remove?: string[] | null };
    customerSegments?: unknown;
    markets?: unknown;
  } | null;
  customerSelection?: {
    all?: boolean | null;
    customers?: { add?: string[] | null } | null;
    customerSegments?: unknown;
  } | null;
  customerGets?: {
    value?: {
      percentage?: number | null;
      discountAmount?: { amount?: unknown; appliesOnEachItem?: boolean | null } | null;
      discountOnQuantity?: unknown;
    } | null;
    items?: { all?: boolean | null; products?: unknown; collections?: unknown } | null;
    appliesOnOneTimePurchase?: boolean | null;
    appliesOnSubscription?: boolean | null;
  } | null;
  minimumRequirement?: {
    subtotal?: { greaterThanOrEqualToSubtotal?: unknown } | null;
    quantity?: unknown;
  } | null;
  combinesWith?: {
    orderDiscounts?: boolean | null;
    productDiscounts?: boolean | null;
    shippingDiscounts?: boolean | null;
    productDiscountsWithTagsOnSameCartLine?: unknown;
  } | null;
  recurringCycleLimit?: number | null;
  tags?: string[] | null;
}

function discountCodeBasicCreate(ctx: ResolverContext, args: Args): View {
  const input = args.basicCodeDiscount as DiscountInput;
  const currency = ctx.store.settings.currencyCode;
  const errors: UserErrorOut[] = [];
  const problem = (path: string[], message: string, code: string) =>
    errors.push({ field: ['basicCodeDiscount', ...path], message, code, extraInfo: null });

  const code = input.code?.trim() ?? '';
  if (code === '') problem(['code'], "Code can't be blank", 'BLANK');
  else if (code.length > 255)
    problem(['code'], 'Code is too long (maximum is 255 characters)', 'TOO_LONG');
  else if (/[\r\n]/.test(code))
    problem(['code'], 'Code cannot contain newline characters.', 'INVALID');
  else if (findDiscountByCode(ctx.store, code)) {
    problem(['code'], 'Code must be unique. Please try a different code.', 'TAKEN');
  }
  if (!input.title?.trim()) problem(['title'], "Title can't be blank", 'BLANK');
  const startsAt = input.startsAt ? Date.parse(input.startsAt) : undefined;
  if (startsAt === undefined) problem(['startsAt'], "Starts at can't be blank", 'BLANK');
  const endsAt = input.endsAt ? Date.parse(input.endsAt) : null;
  if (startsAt !== undefined && endsAt !== null && endsAt <= startsAt) {
    problem(['endsAt'], 'Ends at needs to be after starts_at', 'END_DATE_BEFORE_START_DATE');
  }
  if (input.usageLimit !== null && input.usageLimit !== undefined && input.usageLimit < 1) {
    problem(['usageLimit'], 'Usage limit must be greater than 0', 'GREATER_THAN');
  }
  if (input.recurringCycleLimit || input.tags?.length)
    throw notImplemented('recurringCycleLimit and tags on discounts');

  // Who may use it: `context` (2026-07) or the deprecated `customerSelection`, not both.
  let buyers: DiscountBuyers | undefined;
  const customerIds = (ids: string[] | null | undefined, path: string[]) => {
    const found: number[] = [];
    (ids ?? []).forEach((id, index) => {
      const numeric = idOfType(id, 'Customer');
      if (numeric === undefined || !ctx.store.customers.has(numeric)) {
        problem([...path, String(index)], `Customer ${id} does not exist`, 'INVALID');
      } else if (!found.includes(numeric)) {
        found.push(numeric);
      }
    });
    if ((ids ?? []).length === 0) problem(path, 'Customers to add must not be empty', 'BLANK');
    return found;
  };
  if (input.context && input.customerSelection) {
    problem(['context'], 'Only one of context or customerSelection can be provided', 'CONFLICT');
  } else if (input.context) {
    if (input.context.customerSegments || input.context.markets)
      throw notImplemented('discount context by segments or markets');
    if (input.context.all) buyers = { kind: 'all' };
    else
      buyers = {
        kind: 'customers',
        customerIds: customerIds(input.context.customers?.add, ['context', 'customers', 'add']),
      };
  } else if (input.customerSelection) {
    if (input.customerSelection.customerSegments)
      throw notImplemented('discount customerSelection by segments');
    if (input.customerSelection.all) buyers = { kind: 'all' };
    else
      buyers = {
        kind: 'customers',
        customerIds: customerIds(input.customerSelection.customers?.add, [
          'customerSelection',
          'customers',
          'add',
        ]),
      };
  } else {
    problem(['context'], "Context can't be blank", 'BLANK');
  }

  let value: DiscountValue | undefined;
  const gets = input.customerGets;
  if (!gets?.value) {
    problem(['customerGets', 'value'], "Value can't be blank", 'BLANK');
  } else if (gets.value.discountOnQuantity) {
    problem(
      ['customerGets', 'value', 'discountOnQuantity'],
      'Discount on quantity is only valid for Buy X Get Y discounts',
      'INVALID',
    );
  } else if (gets.value.percentage !== null && gets.value.percentage !== undefined) {
    const percentage = gets.value.percentage;
    if (!(percentage > 0 && percentage <= 1)) {
      problem(
        ['customerGets', 'value', 'percentage'],
        'Value must be between 0.0 and 1.0',
        'VALUE_OUTSIDE_RANGE',
      );
    } else {
      value = { kind: 'percentage', percentage };
    }
  } else if (gets.value.discountAmount) {
    const parsed = decimalIn(gets.value.discountAmount.amount, currency);
    if ('problem' in parsed) {
      problem(['customerGets', 'value', 'discountAmount', 'amount'], parsed.problem, 'INVALID');
    } else if (parsed.minor <= 0) {
      problem(
        ['customerGets', 'value', 'discountAmount', 'amount'],
        'Value must be greater than 0',
        'GREATER_THAN',
      );
    } else {
      value = {
        kind: 'amount',
        amountMinor: parsed.minor,
        appliesOnEachItem: gets.value.discountAmount.appliesOnEachItem ?? false,
      };
    }
  } else {
    problem(['customerGets', 'value'], "Value can't be blank", 'BLANK');
  }
  if (gets?.items?.products || gets?.items?.collections)
    throw notImplemented('discounts on specific products or collections');
  if (gets && !gets.items?.all)
    problem(['customerGets', 'items'], 'Items must be specified', 'APPLIES_ON_NOTHING');

  let minimumSubtotalMinor: number | null = null;
  if (input.minimumRequirement?.quantity) throw notImplemented('minimum quantity requirements');
  if (input.minimumRequirement?.subtotal) {
    const parsed = decimalIn(
      input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal,
      currency,
    );
    if ('problem' in parsed || parsed.minor <= 0) {
      problem(
        ['minimumRequirement', 'subtotal', 'greaterThanOrEqualToSubtotal'],
        'Minimum subtotal must be greater than 0',
        'GREATER_THAN',
      );
    } else {
      minimumSubtotalMinor = parsed.minor;
    }
  }
  if (input.combinesWith?.productDiscountsWithTagsOnSameCartLine)
    throw notImplemented('productDiscountsWithTagsOnSameCartLine');

  if (errors.length > 0 || !buyers || !value || startsAt === undefined) {
    return { codeDiscountNode: null, userErrors: errors };
  }
  const record: DiscountRecord = {
    id: ctx.state.id(),
    codeId: ctx.state.id(),
    code,
    title: input.title!.trim(),
    startsAt,
    endsAt,
    usageLimit: input.usageLimit ?? null,
    appliesOncePerCustomer: input.appliesOncePerCustomer ?? false,
    buyers,
    viaCustomerSelection: !input.context,
    value,
    minimumSubtotalMinor,
    combinesWith: {
      orderDiscounts: input.combinesWith?.orderDiscounts ?? false,
      productDiscounts: input.combinesWith?.productDiscounts ?? false,
      shippingDiscounts: input.combinesWith?.shippingDiscounts ?? false,
    },
    appliesOnOneTimePurchase: gets?.appliesOnOneTimePurchase ?? true,
    appliesOnSubscription: gets?.appliesOnSubscription ?? false,
    usageCount: 0,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  ctx.store.discounts.set(record.id, record);
  return { codeDiscountNode: discountNodeView(ctx, record), userErrors: [] };
}

type StoreCreditTarget =
  { account: StoreCreditAccountRecord } | { customerId: number } | { error: UserErrorOut };

function storeCreditTarget(
  ctx: ResolverContext,
  id: string,
  kind: 'credit' | 'debit',
): StoreCreditTarget {
  const { type, id: numeric } = parseGid(id);
  if (type === 'StoreCreditAccount') {
    const account = ctx.store.storeCreditAccounts.get(numeric);
    return account
      ? { account }
      : {
          error: {
            field: ['id'],
            message: 'Store credit account does not exist',
            code: 'ACCOUNT_NOT_FOUND',
          },
        };
  }
  if (type === 'Customer') {
    return ctx.store.customers.has(numeric)
      ? { customerId: numeric }
      : {
          error: {
            field: ['id'],
            message: 'Owner does not exist',
            code: kind === 'credit' ? 'OWNER_NOT_FOUND' : 'ACCOUNT_NOT_FOUND',
          },
        };
  }
  if (type === 'CompanyLocation') throw notImplemented('store credit for company locations');
  return {
    error: {
      field: ['id'],
      message: `${type} cannot hold store credit`,
      code: kind === 'credit' ? 'OWNER_NOT_FOUND' : 'ACCOUNT_NOT_FOUND',
    },
  };
}

function changeStoreCredit(ctx: ResolverContext, args: Args, kind: 'credit' | 'debit'): View {
  const input =
    kind === 'credit'
      ? (args.creditInput as {
          creditAmount: { amount: unknown; currencyCode: string };
          expiresAt?: string | null;
        })
      : (args.debitInput as { debitAmount: { amount: unknown; currencyCode: string } });
  const money = 'creditAmount' in input ? input.creditAmount : input.debitAmount;
  const amountField = [
    kind === 'credit' ? 'creditInput' : 'debitInput',
    kind === 'credit' ? 'creditAmount' : 'debitAmount',
    'amount',
  ];
  const fail = (error: UserErrorOut) => ({
    storeCreditAccountTransaction: null,
    userErrors: [error],
  });

  const target = storeCreditTarget(ctx, args.id as string, kind);
  if ('error' in target) return fail(target.error);
  const currency = money.currencyCode;
  if (kind === 'credit' && currency !== ctx.store.settings.currencyCode) {
    return fail({
      field: [...amountField.slice(0, 2), 'currencyCode'],
      message: `${currency} is not a currency this shop accepts`,
      code: 'UNSUPPORTED_CURRENCY',
    });
  }
  const parsed = decimalIn(money.amount, currency);
  if ('problem' in parsed) return fail({ field: amountField, message: parsed.problem, code: null });
  if (parsed.minor <= 0)
    return fail({
      field: amountField,
      message: 'Amount must be greater than zero',
      code: 'NEGATIVE_OR_ZERO_AMOUNT',
    });
  let expiresAt: number | null = null;
  if ('expiresAt' in input && input.expiresAt) {
    expiresAt = Date.parse(input.expiresAt);
    if (expiresAt <= ctx.now) {
      return fail({
        field: ['creditInput', 'expiresAt'],
        message: 'Expiry date must be in the future',
        code: 'EXPIRES_AT_IN_PAST',
      });
    }
  }

  let account: StoreCreditAccountRecord | undefined;
  if ('account' in target) {
    account = target.account;
    if (account.currencyCode !== currency) {
      return fail({
        field: amountField.slice(0, 2).concat('currencyCode'),
        message: `The account holds ${account.currencyCode}, not ${currency}`,
        code: 'MISMATCHING_CURRENCY',
      });
    }
  } else {
    account = [...ctx.store.storeCreditAccounts.values()].find(
      (a) => a.ownerCustomerId === target.customerId && a.currencyCode === currency,
    );
    if (!account && kind === 'debit') {
      return fail({
        field: ['id'],
        message: `The customer has no ${currency} store credit account`,
        code: 'ACCOUNT_NOT_FOUND',
      });
    }
    if (!account) {
      // Shopify opens the account on the first credit in a currency.
      account = {
        id: ctx.state.id(),
        ownerCustomerId: target.customerId,
        currencyCode: currency,
        balanceMinor: 0,
      };
      ctx.store.storeCreditAccounts.set(account.id, account);
    }
  }
  if (kind === 'debit' && account.balanceMinor < parsed.minor) {
    return fail({
      field: amountField,
      message: 'The account balance is insufficient for this debit',
      code: 'INSUFFICIENT_FUNDS',
    });
  }
  account.balanceMinor += kind === 'credit' ? parsed.minor : -parsed.minor;
  const transaction: StoreCreditTransactionRecord = {
    id: ctx.state.id(),
    accountId: account.id,
    kind,
    amountMinor: parsed.minor,
    balanceAfterMinor: account.balanceMinor,
    createdAt: ctx.now,
    expiresAt,
  };
  ctx.store.storeCreditTransactions.set(transaction.id, transaction);
  return {
    storeCreditAccountTransaction: storeCreditTransactionView(ctx, transaction),
    userErrors: [],
  };
}

export function mutationRoot(ctx: ResolverContext): View {
  return {
    metafieldsSet: (args: Args) => metafieldsSet(ctx, args),
    metafieldDefinitionCreate: (args: Args) => metafieldDefinitionCreate(ctx, args),
    tagsAdd: (args: Args) => changeTags(ctx, args, 'add'),
    tagsRemove: (args: Args) => changeTags(ctx, args, 'remove'),
    discountCodeBasicCreate: (args: Args) => discountCodeBasicCreate(ctx, args),
    storeCreditAccountCredit: (args: Args) => changeStoreCredit(ctx, args, 'credit'),
    storeCreditAccountDebit: (args: Args) => changeStoreCredit(ctx, args, 'debit'),
  };
}
