import { createHash } from 'node:crypto';
import { isKnownCurrency } from '../../loyalty/money';
import type { DeclaredDefinition } from './app-config';
import type { CollectionRecord } from './collections';
import type { DeployedFunction, ValidationRecord } from './validations';
import { gid, idOfType, parseDateTime } from './values';

/**
 * The emulator's in-memory shops. Records are plain data (structuredClone-able) so a mutation that
 * fails half-way can be rolled back; the GraphQL views over them live in resolvers.ts.
 * Money is integer minor units of the shop's currency, as everywhere in Laurel.
 */

export interface ShopSettings {
  name: string;
  /** ISO 4217, e.g. USD. */
  currencyCode: string;
  /** IANA timezone, e.g. America/New_York. */
  ianaTimezone: string;
  email: string;
}

export interface CustomerRecord {
  id: number;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  tags: string[];
  note: string | null;
  createdAt: number;
  updatedAt: number;
  numberOfOrders: number;
  amountSpentMinor: number;
}

export type FinancialStatus =
  | 'AUTHORIZED'
  | 'EXPIRED'
  | 'PAID'
  | 'PARTIALLY_PAID'
  | 'PARTIALLY_REFUNDED'
  | 'PENDING'
  | 'REFUNDED'
  | 'VOIDED';

export interface OrderRecord {
  id: number;
  name: string;
  email: string | null;
  customerId: number | null;
  processedAt: number;
  createdAt: number;
  updatedAt: number;
  cancelledAt: number | null;
  test: boolean;
  sourceName: string | null;
  displayFinancialStatus: FinancialStatus | null;
  /** Original subtotal; null like Shopify's for orders without line items. */
  subtotalMinor: number | null;
  /** After edits and refunds. */
  currentSubtotalMinor: number;
  totalPriceMinor: number;
  tags: string[];
}

export interface MetafieldRecord {
  id: number;
  ownerGid: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
  createdAt: number;
  updatedAt: number;
  /** Bumped on every write; feeds compareDigest. */
  revision: number;
}

export interface MetafieldDefinitionRecord {
  id: number;
  ownerType: string;
  namespace: string;
  key: string;
  name: string;
  description: string | null;
  type: string;
  access: { admin: string | null; storefront: string; customerAccount: string };
  pinnedPosition: number | null;
}

export type DiscountBuyers =
  | { kind: 'all' }
  | { kind: 'customers'; customerIds: number[] }
  | { kind: 'segments'; segmentIds: number[] };
export type DiscountValue =
  | { kind: 'percentage'; percentage: number }
  | { kind: 'amount'; amountMinor: number; appliesOnEachItem: boolean };
/** What a basic discount applies to: every item, or listed products and variants. */
export type DiscountItems =
  { kind: 'all' } | { kind: 'products'; productIds: number[]; variantIds: number[] };
/** Where free shipping applies: everywhere, or to listed countries (plus the rest of the world). */
export type ShippingDestination =
  { kind: 'all' } | { kind: 'countries'; countries: string[]; includeRestOfWorld: boolean };

/** The fields every code discount has, whatever it gives. */
interface CodeDiscountRecordBase {
  id: number;
  codeId: number;
  code: string;
  title: string;
  startsAt: number;
  endsAt: number | null;
  usageLimit: number | null;
  appliesOncePerCustomer: boolean;
  buyers: DiscountBuyers;
  /** Whether the deprecated customerSelection input was used (affects nothing but the record). */
  viaCustomerSelection: boolean;
  minimumSubtotalMinor: number | null;
  combinesWith: { orderDiscounts: boolean; productDiscounts: boolean; shippingDiscounts: boolean };
  appliesOnOneTimePurchase: boolean;
  appliesOnSubscription: boolean;
  usageCount: number;
  /** Codes added after the create (discountRedeemCodeBulkAdd), oldest first; `code` is the first. */
  moreCodes: RedeemCodeRecord[];
  createdAt: number;
  updatedAt: number;
}

/** A code added to a discount by discountRedeemCodeBulkAdd. */
export interface RedeemCodeRecord {
  id: number;
  code: string;
  usageCount: number;
}

/**
 * A discountRedeemCodeBulkAdd, queued as Shopify queues it: its codes are added (or refused one by
 * one) when it runs, at the first request from `runAt` on (dev/emulator/redeem-codes.ts).
 */
export interface BulkCreationRecord {
  id: number;
  discountId: number;
  codes: string[];
  createdAt: number;
  runAt: number;
  /** Per code, once run: the code made, or why not. */
  results: { code: string; redeemCodeId: number | null; errors: BulkCodeError[] }[] | null;
}

export interface BulkCodeError {
  field: string[];
  message: string;
  code: string;
}

/** discountCodeBasicCreate: an amount or percentage off all items or listed products. */
export interface BasicDiscountRecord extends CodeDiscountRecordBase {
  kind: 'basic';
  value: DiscountValue;
  items: DiscountItems;
}

/** discountCodeFreeShippingCreate. */
export interface FreeShippingDiscountRecord extends CodeDiscountRecordBase {
  kind: 'free_shipping';
  destination: ShippingDestination;
  /** Free shipping only for rates up to this price; null = any rate. */
  maximumShippingPriceMinor: number | null;
}

export type DiscountRecord = BasicDiscountRecord | FreeShippingDiscountRecord;

/** A product variant; `priceMinor` in the shop's currency. */
export interface ProductVariantRecord {
  id: number;
  title: string;
  priceMinor: number;
  sku: string | null;
  /** Shopify's availableForSale: in stock (or sold when out of stock) and purchasable. */
  availableForSale: boolean;
}

export type ProductStatus = 'ACTIVE' | 'ARCHIVED' | 'DRAFT' | 'UNLISTED';

export interface ProductRecord {
  id: number;
  title: string;
  handle: string;
  status: ProductStatus;
  variants: ProductVariantRecord[];
  createdAt: number;
  updatedAt: number;
}

export interface StoreCreditAccountRecord {
  id: number;
  ownerCustomerId: number;
  currencyCode: string;
  balanceMinor: number;
}

export interface StoreCreditTransactionRecord {
  id: number;
  accountId: number;
  kind: 'credit' | 'debit';
  amountMinor: number;
  balanceAfterMinor: number;
  createdAt: number;
  expiresAt: number | null;
}

export interface ShopStore {
  domain: string;
  shopId: number;
  /** The app's installation on this shop (`currentAppInstallation`): owner of app-data metafields. */
  appInstallationId: number;
  settings: ShopSettings;
  customers: Map<number, CustomerRecord>;
  orders: Map<number, OrderRecord>;
  metafields: Map<number, MetafieldRecord>;
  definitions: Map<number, MetafieldDefinitionRecord>;
  discounts: Map<number, DiscountRecord>;
  products: Map<number, ProductRecord>;
  collections: Map<number, CollectionRecord>;
  /** Cart and checkout validations installed on the shop (dev/emulator/validations.ts). */
  validations: Map<number, ValidationRecord>;
  storeCreditAccounts: Map<number, StoreCreditAccountRecord>;
  storeCreditTransactions: Map<number, StoreCreditTransactionRecord>;
  /** discountRedeemCodeBulkAdd operations, run or queued. */
  bulkCreations: Map<number, BulkCreationRecord>;
}

export interface NewCustomer {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  tags?: string[];
  note?: string | null;
  /** ISO date-time; default now. */
  createdAt?: string;
  numberOfOrders?: number;
  amountSpentMinor?: number;
}

export interface NewOrder {
  /** Customer gid from addCustomer, or null for a guest checkout. */
  customerId?: string | null;
  email?: string | null;
  /** Default `#1001`, `#1002`, ... per shop. */
  name?: string;
  /** ISO date-time; default now. */
  processedAt?: string;
  /** Integer minor units in the shop's currency. */
  subtotalMinor: number | null;
  /** Default: subtotalMinor (or 0). */
  currentSubtotalMinor?: number;
  totalPriceMinor?: number;
  test?: boolean;
  sourceName?: string | null;
  cancelledAt?: string | null;
  displayFinancialStatus?: FinancialStatus | null;
  tags?: string[];
}

export interface NewProductVariant {
  /** Numeric id (e.g. the real Shopify id, for a demo); default the next id. */
  id?: number;
  /** Default `Default Title`, as Shopify names a product's only variant. */
  title?: string;
  /** Integer minor units in the shop's currency. */
  priceMinor: number;
  sku?: string | null;
  /** Default true. */
  availableForSale?: boolean;
}

export interface NewProduct {
  id?: number;
  title: string;
  /** Default: the title in lower case with dashes. */
  handle?: string;
  /** Default ACTIVE. */
  status?: ProductStatus;
  /** At least one. */
  variants: NewProductVariant[];
  /** ISO date-time; default now. */
  createdAt?: string;
}

export interface SeededProduct {
  productGid: string;
  variantGids: string[];
}

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export class EmulatorState {
  private readonly shops = new Map<string, ShopStore>();
  /** One id sequence for everything, so ids are unique across types and shops like Shopify's. */
  private nextId = 1_000_001;

  /**
   * How long a discountRedeemCodeBulkAdd stays queued (ms). With 0 it runs at the next request, so
   * the mutation itself always answers `done: false`, as Shopify's does.
   */
  bulkCreationDelayMs = 0;

  constructor(
    private readonly now: () => number,
    /** The app's API client id: `$app` namespaces resolve to `app--<appId>`. */
    readonly appId: string,
    /**
     * Definitions the app declares in shopify.app.toml (dev/emulator/app-config.ts): every shop
     * has them from the start, as every shop has after `shopify app deploy`.
     */
    private readonly declared: readonly DeclaredDefinition[] = [],
    /** The app's deployed Shopify Functions, which validationCreate may install. */
    readonly functions: readonly DeployedFunction[] = [],
  ) {}

  /** Reads (and with `settings`, changes) a shop's settings; a shop exists once mentioned. */
  shop(domain: string, settings: Partial<ShopSettings> = {}): ShopSettings {
    const store = this.store(domain);
    if (settings.currencyCode !== undefined && !isKnownCurrency(settings.currencyCode)) {
      throw new Error(`currencyCode ${settings.currencyCode} is not an ISO 4217 code`);
    }
    if (settings.ianaTimezone !== undefined && !isTimeZone(settings.ianaTimezone)) {
      throw new Error(`ianaTimezone ${settings.ianaTimezone} is not an IANA timezone`);
    }
    Object.assign(store.settings, definedOnly(settings));
    return { ...store.settings };
  }

  /** The shop's records (created with defaults on first use). */
  store(domain: string): ShopStore {
    let store = this.shops.get(domain);
    if (!store) {
      if (!SHOP_DOMAIN.test(domain)) {
        throw new Error(
          `shop must be a myshopify domain such as laurel-demo.myshopify.com; got '${domain}'`,
        );
      }
      const handle = domain.replace(/\.myshopify\.com$/, '');
      store = {
        domain,
        shopId: this.id(),
        appInstallationId: this.id(),
        settings: {
          name: handle.replace(/-/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
          currencyCode: 'USD',
          ianaTimezone: 'UTC',
          email: `owner@${handle}.example`,
        },
        customers: new Map(),
        orders: new Map(),
        metafields: new Map(),
        definitions: new Map(),
        discounts: new Map(),
        products: new Map(),
        collections: new Map(),
        validations: new Map(),
        storeCreditAccounts: new Map(),
        storeCreditTransactions: new Map(),
        bulkCreations: new Map(),
      };
      for (const declared of this.declared) {
        const id = this.id();
        store.definitions.set(id, {
          id,
          ownerType: declared.ownerType,
          namespace: this.resolveNamespace(declared.namespace),
          key: declared.key,
          name: declared.name,
          description: declared.description,
          type: declared.type,
          access: { ...declared.access },
          pinnedPosition: null,
        });
      }
      this.shops.set(domain, store);
    }
    return store;
  }

  /** The app installation's gid on a shop (what `currentAppInstallation { id }` answers). */
  appInstallationGid(domain: string): string {
    return gid('AppInstallation', this.store(domain).appInstallationId);
  }

  /** Copies of a shop's metafield definitions (declared ones included). */
  definitions(domain: string): MetafieldDefinitionRecord[] {
    return [...this.store(domain).definitions.values()].map((d) => structuredClone(d));
  }

  hasShop(domain: string): boolean {
    return this.shops.has(domain);
  }

  id(): number {
    return this.nextId++;
  }

  /** Seeds a customer; returns its gid. */
  addCustomer(domain: string, customer: NewCustomer = {}): string {
    const store = this.store(domain);
    const createdAt = customer.createdAt
      ? parseDateTime(customer.createdAt, 'createdAt')
      : this.now();
    const record: CustomerRecord = {
      id: this.id(),
      firstName: customer.firstName ?? null,
      lastName: customer.lastName ?? null,
      email: customer.email ?? null,
      tags: normalizeTags(customer.tags ?? []),
      note: customer.note ?? null,
      createdAt,
      updatedAt: createdAt,
      numberOfOrders: requireWhole(customer.numberOfOrders ?? 0, 'numberOfOrders'),
      amountSpentMinor: requireWhole(customer.amountSpentMinor ?? 0, 'amountSpentMinor'),
    };
    store.customers.set(record.id, record);
    return gid('Customer', record.id);
  }

  /** Seeds an order (and counts it on its customer); returns its gid. */
  addOrder(domain: string, order: NewOrder): string {
    const store = this.store(domain);
    let customerId: number | null = null;
    if (order.customerId) {
      customerId = idOfType(order.customerId, 'Customer') ?? null;
      if (customerId === null || !store.customers.has(customerId)) {
        throw new Error(`addOrder: no customer ${order.customerId} in ${domain}`);
      }
    }
    if (order.subtotalMinor !== null) requireWhole(order.subtotalMinor, 'subtotalMinor');
    const processedAt = order.processedAt
      ? parseDateTime(order.processedAt, 'processedAt')
      : this.now();
    const currentSubtotalMinor = requireWhole(
      order.currentSubtotalMinor ?? order.subtotalMinor ?? 0,
      'currentSubtotalMinor',
    );
    const number = 1001 + store.orders.size;
    const customer = customerId === null ? undefined : store.customers.get(customerId);
    const record: OrderRecord = {
      id: this.id(),
      name: order.name ?? `#${number}`,
      email: order.email !== undefined ? order.email : (customer?.email ?? null),
      customerId,
      processedAt,
      createdAt: processedAt,
      updatedAt: processedAt,
      cancelledAt: order.cancelledAt ? parseDateTime(order.cancelledAt, 'cancelledAt') : null,
      test: order.test ?? false,
      sourceName: order.sourceName !== undefined ? order.sourceName : 'web',
      displayFinancialStatus:
        order.displayFinancialStatus !== undefined ? order.displayFinancialStatus : 'PAID',
      subtotalMinor: order.subtotalMinor,
      currentSubtotalMinor,
      totalPriceMinor: requireWhole(
        order.totalPriceMinor ?? currentSubtotalMinor,
        'totalPriceMinor',
      ),
      tags: normalizeTags(order.tags ?? []),
    };
    store.orders.set(record.id, record);
    if (customer) {
      customer.numberOfOrders += 1;
      customer.amountSpentMinor += record.totalPriceMinor;
    }
    return gid('Order', record.id);
  }

  /**
   * Seeds a product and its variants; returns their gids. Ids may be given (the demo uses real
   * Shopify ids) but must be unused in the shop.
   */
  addProduct(domain: string, product: NewProduct): SeededProduct {
    const store = this.store(domain);
    if (product.title.trim() === '') throw new Error('addProduct: title must not be blank');
    if (product.variants.length === 0) {
      throw new Error(`addProduct: ${product.title} needs at least one variant`);
    }
    const taken = new Set<number>();
    for (const existing of store.products.values()) {
      taken.add(existing.id);
      for (const variant of existing.variants) taken.add(variant.id);
    }
    const idFor = (id: number | undefined, what: string): number => {
      if (id === undefined) return this.id();
      if (!Number.isSafeInteger(id) || id < 1 || taken.has(id)) {
        throw new Error(`addProduct: ${what} id ${id} is not a free positive whole number`);
      }
      taken.add(id);
      return id;
    };
    const createdAt = product.createdAt
      ? parseDateTime(product.createdAt, 'createdAt')
      : this.now();
    const record: ProductRecord = {
      id: idFor(product.id, 'product'),
      title: product.title.trim(),
      handle:
        product.handle ??
        product.title
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, ''),
      status: product.status ?? 'ACTIVE',
      variants: product.variants.map((variant) => ({
        id: idFor(variant.id, 'variant'),
        title: variant.title ?? 'Default Title',
        priceMinor: requireWhole(variant.priceMinor, 'priceMinor'),
        sku: variant.sku ?? null,
        availableForSale: variant.availableForSale ?? true,
      })),
      createdAt,
      updatedAt: createdAt,
    };
    store.products.set(record.id, record);
    return {
      productGid: gid('Product', record.id),
      variantGids: record.variants.map((v) => gid('ProductVariant', v.id)),
    };
  }

  /**
   * Seeds a (manual) collection of existing products, in the order given; returns its gid.
   */
  addCollection(
    domain: string,
    collection: { title: string; productIds: string[]; id?: number },
  ): string {
    const store = this.store(domain);
    if (collection.title.trim() === '') throw new Error('addCollection: title must not be blank');
    const productIds = collection.productIds.map((productGid) => {
      const id = idOfType(productGid, 'Product');
      if (id === undefined || !store.products.has(id)) {
        throw new Error(`addCollection: no product ${productGid} in ${domain}`);
      }
      return id;
    });
    const id = collection.id ?? this.id();
    if (store.collections.has(id)) throw new Error(`addCollection: collection id ${id} is taken`);
    const now = this.now();
    store.collections.set(id, {
      id,
      title: collection.title.trim(),
      handle: collection.title
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, ''),
      productIds,
      createdAt: now,
      updatedAt: now,
    });
    return gid('Collection', id);
  }

  /** Copies of the cart and checkout validations installed on a shop. */
  validations(domain: string): ValidationRecord[] {
    return [...this.store(domain).validations.values()].map((v) => structuredClone(v));
  }

  /** A copy of a customer's record, for assertions. */
  customer(domain: string, customerGid: string): CustomerRecord | undefined {
    const id = idOfType(customerGid, 'Customer');
    const record = id === undefined ? undefined : this.store(domain).customers.get(id);
    return record && structuredClone(record);
  }

  /**
   * Copies of the metafields on an owner (Customer, Order, Shop or AppInstallation gid). Each
   * carries updatedAt in milliseconds: when its value was last written.
   */
  metafields(domain: string, ownerGid: string): MetafieldRecord[] {
    return [...this.store(domain).metafields.values()]
      .filter((m) => m.ownerGid === ownerGid)
      .map((m) => structuredClone(m));
  }

  /**
   * Counts one use of a discount code, as when an order that carried it is paid (the emulator has
   * no checkout); Shopify reports it as asyncUsageCount. Returns the new count.
   */
  useDiscountCode(domain: string, code: string): number {
    const discount = findDiscountByCode(this.store(domain), code);
    if (!discount) throw new Error(`useDiscountCode: no discount with code ${code} in ${domain}`);
    const added = discount.moreCodes.find(
      (c) => c.code.toLowerCase() === code.trim().toLowerCase(),
    );
    if (added) added.usageCount += 1;
    discount.usageCount += 1;
    discount.updatedAt = this.now();
    return discount.usageCount;
  }

  discountByCode(domain: string, code: string): DiscountRecord | undefined {
    const found = findDiscountByCode(this.store(domain), code);
    return found && structuredClone(found);
  }

  /** A customer's store credit balance in minor units (0 without an account). */
  storeCreditBalance(domain: string, customerGid: string, currencyCode: string): number {
    const id = idOfType(customerGid, 'Customer');
    const account = [...this.store(domain).storeCreditAccounts.values()].find(
      (a) => a.ownerCustomerId === id && a.currencyCode === currencyCode,
    );
    return account?.balanceMinor ?? 0;
  }

  /** A deep copy of everything a shop holds: compare two to prove nothing changed. */
  snapshot(domain: string): ShopStore {
    return structuredClone(this.store(domain));
  }

  /** Puts back a snapshot (used to undo a mutation that failed half-way). */
  restore(snapshot: ShopStore): void {
    this.shops.set(snapshot.domain, structuredClone(snapshot));
  }

  reset(): void {
    this.shops.clear();
  }

  /** Shopify's resolution of app-reserved namespaces: `$app` → `app--<id>`, `$app:x` → `app--<id>--x`. */
  resolveNamespace(namespace: string | null | undefined): string {
    if (namespace === null || namespace === undefined || namespace === '$app')
      return `app--${this.appId}`;
    if (namespace.startsWith('$app:'))
      return `app--${this.appId}--${namespace.slice('$app:'.length)}`;
    return namespace;
  }

  isAppNamespace(namespace: string): boolean {
    return namespace === `app--${this.appId}` || namespace.startsWith(`app--${this.appId}--`);
  }
}

/** The variant with `variantId` and its product, if the shop has it. */
export function findVariant(
  store: ShopStore,
  variantId: number,
): { product: ProductRecord; variant: ProductVariantRecord } | undefined {
  for (const product of store.products.values()) {
    const variant = product.variants.find((v) => v.id === variantId);
    if (variant) return { product, variant };
  }
  return undefined;
}

export function findDiscountByCode(store: ShopStore, code: string): DiscountRecord | undefined {
  const wanted = code.trim().toLowerCase();
  return [...store.discounts.values()].find(
    (d) =>
      d.code.toLowerCase() === wanted || d.moreCodes.some((c) => c.code.toLowerCase() === wanted),
  );
}

/** compareDigest: changes whenever the stored value is written. */
export function metafieldDigest(metafield: MetafieldRecord): string {
  return createHash('sha256')
    .update(`${metafield.id}:${metafield.revision}:${metafield.value}`)
    .digest('hex');
}

/** Shopify splits comma-separated tags, trims them and keeps one of each (case-insensitively). */
export function normalizeTags(tags: string[], existing: string[] = []): string[] {
  const result = [...existing];
  const seen = new Set(existing.map((t) => t.toLowerCase()));
  for (const tag of tags.flatMap((t) => t.split(','))) {
    const trimmed = tag.trim();
    if (trimmed === '' || seen.has(trimmed.toLowerCase())) continue;
    seen.add(trimmed.toLowerCase());
    result.push(trimmed);
  }
  return result;
}

function requireWhole(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${what} must be a whole number of minor units ≥ 0; got ${value}`);
  }
  return value;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
