import { getOperationAST, parse } from 'graphql';
import { CUSTOMER_METAFIELD_NAMESPACE, CUSTOMER_METAFIELDS } from '../metafields';
import { documentSources } from './documents.generated';

/**
 * The Admin GraphQL documents Laurel sends to Shopify (API 2026-07), one per .graphql file in this
 * folder, with hand-written TypeScript types for their variables and results. The types follow the
 * selections in the documents and the nullability in Shopify's schema; documents.test.ts validates
 * every document against that schema. Money amounts arrive as Decimal strings ("12.5"): convert with
 * parseMoney from loyalty/money, never parseFloat.
 */

export type OperationKind = 'query' | 'mutation';

/** A document plus the types of its variables and result (phantom fields carry the types). */
export interface AdminDocument<TResult, TVariables> {
  readonly operationName: string;
  readonly kind: OperationKind;
  /** File in app/graphql it was loaded from. */
  readonly file: string;
  readonly source: string;
  /**
   * Whether resending after an ambiguous failure (HTTP 5xx, dropped connection) is harmless: true
   * for queries and for mutations whose repeat changes nothing (setting a metafield, adding a tag).
   * A second store credit is not harmless, so those mutations are never resent blindly.
   */
  readonly retrySafe: boolean;
  readonly __result?: TResult;
  readonly __variables?: TVariables;
}

export type ResultOf<D> = D extends AdminDocument<infer R, unknown> ? R : never;
export type VariablesOf<D> = D extends AdminDocument<unknown, infer V> ? V : never;

/** Loads `file` from app/graphql (via the generated module) and reads its one operation. */
export function adminDocument<TResult, TVariables>(
  file: string,
  options: { retrySafe?: boolean } = {},
): AdminDocument<TResult, TVariables> {
  const source = documentSources[file];
  if (source === undefined) {
    throw new Error(`No GraphQL document ${file} in app/graphql (run npm run graphql:generate?)`);
  }
  const document = parse(source);
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  const operation = getOperationAST(document);
  if (operations.length !== 1 || !operation?.name) {
    throw new Error(`${file} must contain exactly one named operation`);
  }
  if (operation.operation === 'subscription') {
    throw new Error(`${file}: subscriptions are not part of the Admin API`);
  }
  const kind = operation.operation;
  return {
    operationName: operation.name.value,
    kind,
    file,
    source,
    retrySafe: kind === 'query' || options.retrySafe === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** Shopify's MoneyV2: `amount` is a Decimal string such as "12.5" in `currencyCode`. */
export interface MoneyV2 {
  amount: string;
  currencyCode: string;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** DisplayableError as most mutations return it; `code` is a per-mutation enum. */
export interface UserError<TCode extends string = string> {
  field: string[] | null;
  message: string;
  code?: TCode | null;
}

/** Where Laurel keeps its customer metafields (app/metafields.ts): `$app`, owned by Laurel only. */
export const LOYALTY_METAFIELD_NAMESPACE = CUSTOMER_METAFIELD_NAMESPACE;
/** The member's points balance mirrored onto the customer (type number_integer). */
export const POINTS_BALANCE_METAFIELD_KEY = CUSTOMER_METAFIELDS.pointsBalance.key;

// ---------------------------------------------------------------------------------------------
// Queries

export type ShopInfoVariables = Record<string, never>;
export interface ShopInfoResult {
  shop: {
    id: string;
    name: string;
    currencyCode: string;
    ianaTimezone: string;
    myshopifyDomain: string;
  };
}
export const ShopInfo = adminDocument<ShopInfoResult, ShopInfoVariables>('shop-info.graphql');

export interface CurrentAppInstallationVariables {
  /** Defaults to PROGRAM_METAFIELD (app/metafields.ts). */
  programNamespace?: string | null;
  programKey?: string;
  /** Defaults to CHECKOUT_PROGRAM_METAFIELD's namespace. */
  checkoutNamespace?: string | null;
}
export interface CurrentAppInstallationResult {
  /** Non-null in the schema: every app calling the Admin API is installed on the shop. */
  currentAppInstallation: {
    id: string;
    program: { value: string; updatedAt: string } | null;
  };
  shop: { id: string; checkoutProgram: { value: string } | null };
}
export const CurrentAppInstallation = adminDocument<
  CurrentAppInstallationResult,
  CurrentAppInstallationVariables
>('current-app-installation.graphql');

export interface MetafieldValue {
  id: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
  compareDigest: string;
  updatedAt: string;
}

export interface CustomerByIdVariables {
  id: string;
  /** Defaults to LOYALTY_METAFIELD_NAMESPACE. */
  balanceNamespace?: string | null;
  /** Defaults to POINTS_BALANCE_METAFIELD_KEY. */
  balanceKey?: string;
}
export interface CustomerByIdResult {
  customer: {
    id: string;
    firstName: string | null;
    lastName: string | null;
    displayName: string;
    defaultEmailAddress: { emailAddress: string } | null;
    tags: string[];
    createdAt: string;
    updatedAt: string;
    /** UnsignedInt64, serialized as a string. */
    numberOfOrders: string;
    amountSpent: MoneyV2;
    pointsBalance: MetafieldValue | null;
    storeCreditAccounts: { nodes: { id: string; balance: MoneyV2 }[] };
  } | null;
}
export const CustomerById = adminDocument<CustomerByIdResult, CustomerByIdVariables>(
  'customer-by-id.graphql',
);

export interface PageVariables {
  /** 1–250. */
  first: number;
  after?: string | null;
  /** Shopify search syntax, e.g. `updated_at:>'2026-01-01T00:00:00Z'`. */
  query?: string | null;
}

export type CustomersPageVariables = PageVariables;
export interface CustomersPageResult {
  customers: {
    pageInfo: PageInfo;
    nodes: {
      id: string;
      firstName: string | null;
      lastName: string | null;
      defaultEmailAddress: { emailAddress: string } | null;
      tags: string[];
      createdAt: string;
      updatedAt: string;
      numberOfOrders: string;
    }[];
  };
}
export const CustomersPage = adminDocument<CustomersPageResult, CustomersPageVariables>(
  'customers-page.graphql',
);

export type OrderDisplayFinancialStatus =
  | 'AUTHORIZED'
  | 'EXPIRED'
  | 'PAID'
  | 'PARTIALLY_PAID'
  | 'PARTIALLY_REFUNDED'
  | 'PENDING'
  | 'REFUNDED'
  | 'VOIDED';

export type OrdersPageVariables = PageVariables;
export interface OrdersPageResult {
  orders: {
    pageInfo: PageInfo;
    nodes: {
      id: string;
      name: string;
      processedAt: string;
      email: string | null;
      customer: { id: string } | null;
      currencyCode: string;
      subtotalPriceSet: { shopMoney: MoneyV2 } | null;
      currentSubtotalPriceSet: { shopMoney: MoneyV2 };
      test: boolean;
      sourceName: string | null;
      cancelledAt: string | null;
      displayFinancialStatus: OrderDisplayFinancialStatus | null;
    }[];
  };
}
export const OrdersPage = adminDocument<OrdersPageResult, OrdersPageVariables>(
  'orders-page.graphql',
);

export interface CodeDiscountNodeByCodeVariables {
  code: string;
}
export type DiscountStatus = 'ACTIVE' | 'EXPIRED' | 'SCHEDULED';
export type DiscountContextResult =
  | { __typename: 'DiscountCustomers'; customers: { id: string }[] }
  | { __typename: 'DiscountBuyerSelectionAll'; all: 'ALL' }
  | { __typename: 'DiscountCustomerSegments' | 'DiscountMarkets' };
export type DiscountValueResult =
  | { __typename: 'DiscountPercentage'; percentage: number }
  | { __typename: 'DiscountAmount'; amount: MoneyV2; appliesOnEachItem: boolean }
  | { __typename: 'DiscountOnQuantity' };
export interface DiscountMinimumRequirementResult {
  __typename: 'DiscountMinimumSubtotal' | 'DiscountMinimumQuantity';
  /** Present for DiscountMinimumSubtotal. */
  greaterThanOrEqualToSubtotal?: MoneyV2;
}
export interface DiscountCombinesWithResult {
  orderDiscounts: boolean;
  productDiscounts: boolean;
  shippingDiscounts: boolean;
}
export type DiscountItemsResult =
  | { __typename: 'AllDiscountItems'; allItems: boolean }
  | {
      __typename: 'DiscountProducts';
      /** The first 5 (Laurel's free-product codes list exactly one variant). */
      productVariants: { nodes: { id: string }[] };
      products: { nodes: { id: string }[] };
    }
  | { __typename: 'DiscountCollections' };
export type DiscountShippingDestinationResult =
  | { __typename: 'DiscountCountryAll'; allCountries: boolean }
  | { __typename: 'DiscountCountries'; countries: string[]; includeRestOfWorld: boolean };
/** What DiscountCodeBasic and DiscountCodeFreeShipping both report in CodeDiscountNodeByCode. */
export interface CodeDiscountCommonResult {
  title: string;
  status: DiscountStatus;
  startsAt: string;
  endsAt: string | null;
  usageLimit: number | null;
  appliesOncePerCustomer: boolean;
  asyncUsageCount: number;
  codes: { nodes: { id: string; code: string; asyncUsageCount: number }[] };
  context: DiscountContextResult;
  minimumRequirement: DiscountMinimumRequirementResult | null;
  combinesWith: DiscountCombinesWithResult;
}
export interface CodeDiscountNodeByCodeResult {
  codeDiscountNodeByCode: {
    id: string;
    codeDiscount:
      | (CodeDiscountCommonResult & {
          __typename: 'DiscountCodeBasic';
          customerGets: { value: DiscountValueResult; items: DiscountItemsResult };
        })
      | (CodeDiscountCommonResult & {
          __typename: 'DiscountCodeFreeShipping';
          destinationSelection: DiscountShippingDestinationResult;
        })
      | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' };
  } | null;
}
export const CodeDiscountNodeByCode = adminDocument<
  CodeDiscountNodeByCodeResult,
  CodeDiscountNodeByCodeVariables
>('code-discount-node-by-code.graphql');

export interface ProductVariantVariables {
  /** A ProductVariant gid. */
  id: string;
}
export type ProductStatus = 'ACTIVE' | 'ARCHIVED' | 'DRAFT' | 'UNLISTED';
export interface ProductVariantResult {
  /** Null when the shop has no such variant (deleted, or never existed). */
  productVariant: {
    id: string;
    title: string;
    displayName: string;
    /** Money scalar: a Decimal string in the shop's currency, e.g. "24.0". */
    price: string;
    availableForSale: boolean;
    product: { id: string; title: string; status: ProductStatus };
  } | null;
}
export const ProductVariant = adminDocument<ProductVariantResult, ProductVariantVariables>(
  'product-variant.graphql',
);

export interface CustomerStoreCreditTransactionsVariables {
  /** A Customer gid. */
  id: string;
  /** Newest transactions per account, 1–250. */
  first: number;
}
export interface StoreCreditTransactionSummary {
  __typename:
    | 'StoreCreditAccountCreditTransaction'
    | 'StoreCreditAccountDebitTransaction'
    | 'StoreCreditAccountDebitRevertTransaction'
    | 'StoreCreditAccountExpirationTransaction'
    | (string & {});
  id: string;
  /** Credits positive; debits as Shopify reports them. */
  amount: MoneyV2;
  createdAt: string;
  /** Present on credit transactions only. */
  expiresAt?: string | null;
}
export interface CustomerStoreCreditTransactionsResult {
  customer: {
    id: string;
    storeCreditAccounts: {
      nodes: {
        id: string;
        balance: MoneyV2;
        transactions: { nodes: StoreCreditTransactionSummary[] };
      }[];
    };
  } | null;
}
export const CustomerStoreCreditTransactions = adminDocument<
  CustomerStoreCreditTransactionsResult,
  CustomerStoreCreditTransactionsVariables
>('customer-store-credit-transactions.graphql');

// ---------------------------------------------------------------------------------------------
// Mutations

export interface MetafieldsSetInput {
  ownerId: string;
  /** Omit (or `$app`) for the app-reserved namespace; `laurel` for the app-data program summary. */
  namespace?: string | null;
  key: string;
  value: string;
  /** Required unless a metafield definition fixes it, e.g. `number_integer`. */
  type?: string | null;
  /**
   * Compare-and-set: the digest read earlier; the write fails (STALE_OBJECT) if the value changed.
   * `null` means "only if no such metafield exists yet"; omit it for an unconditional write.
   */
  compareDigest?: string | null;
}
export type MetafieldsSetUserErrorCode =
  | 'APP_NOT_AUTHORIZED'
  | 'BLANK'
  | 'CAPABILITY_VIOLATION'
  | 'INCLUSION'
  | 'INTERNAL_ERROR'
  | 'INVALID'
  | 'INVALID_COMPARE_DIGEST'
  | 'INVALID_TYPE'
  | 'INVALID_VALUE'
  | 'LESS_THAN_OR_EQUAL_TO'
  | 'PRESENT'
  | 'STALE_OBJECT'
  | 'TAKEN'
  | 'TOO_LONG'
  | 'TOO_SHORT';
export interface MetafieldsSetVariables {
  /** At most 25 per call. */
  metafields: MetafieldsSetInput[];
}
export interface MetafieldsSetResult {
  metafieldsSet: {
    metafields: MetafieldValue[] | null;
    userErrors: (UserError<MetafieldsSetUserErrorCode> & { elementIndex: number | null })[];
  } | null;
}
// Setting the same values again leaves the same state, so a resend is harmless. (With a
// compareDigest, a resend of a write that did apply answers STALE_OBJECT: re-read, then decide.)
export const MetafieldsSet = adminDocument<MetafieldsSetResult, MetafieldsSetVariables>(
  'metafields-set.graphql',
  { retrySafe: true },
);

export type MetafieldOwnerType = 'CUSTOMER' | 'ORDER' | 'SHOP' | 'DISCOUNT' | (string & {});
export interface MetafieldDefinitionInput {
  name: string;
  namespace?: string | null;
  key: string;
  type: string;
  ownerType: MetafieldOwnerType;
  description?: string | null;
  pin?: boolean;
  access?: {
    admin?: 'MERCHANT_READ' | 'MERCHANT_READ_WRITE' | null;
    storefront?: 'NONE' | 'PUBLIC_READ' | null;
    customerAccount?: 'NONE' | 'READ' | 'READ_WRITE' | null;
  } | null;
}
export interface MetafieldDefinitionCreateVariables {
  definition: MetafieldDefinitionInput;
}
export interface MetafieldDefinitionCreateResult {
  metafieldDefinitionCreate: {
    createdDefinition: {
      id: string;
      name: string;
      namespace: string;
      key: string;
      ownerType: MetafieldOwnerType;
      type: { name: string };
      access: {
        admin: string | null;
        storefront: 'NONE' | 'PUBLIC_READ' | null;
        customerAccount: 'NONE' | 'READ' | 'READ_WRITE';
      };
    } | null;
    userErrors: UserError[];
  } | null;
}
// Not retry-safe: a resend after a create that went through answers TAKEN; callers check first.
export const MetafieldDefinitionCreate = adminDocument<
  MetafieldDefinitionCreateResult,
  MetafieldDefinitionCreateVariables
>('metafield-definition-create.graphql');

export interface TagsVariables {
  /** A Customer or Order gid. */
  id: string;
  tags: string[];
}
export interface TagsAddResult {
  tagsAdd: { node: { id: string } | null; userErrors: UserError<never>[] } | null;
}
export interface TagsRemoveResult {
  tagsRemove: { node: { id: string } | null; userErrors: UserError<never>[] } | null;
}
// Tags are a set: adding or removing the same tags twice ends in the same state.
export const TagsAdd = adminDocument<TagsAddResult, TagsVariables>('tags-add.graphql', {
  retrySafe: true,
});
export const TagsRemove = adminDocument<TagsRemoveResult, TagsVariables>('tags-remove.graphql', {
  retrySafe: true,
});

export interface CustomerTierTagsVariables {
  /** A Customer gid. */
  id: string;
  remove: string[];
  /** False skips tagsRemove (nothing to remove). */
  removing: boolean;
  add: string[];
  /** False skips tagsAdd (no tier). */
  adding: boolean;
}
export interface CustomerTierTagsResult {
  tagsRemove?: { node: { id: string } | null; userErrors: UserError<never>[] } | null;
  tagsAdd?: { node: { id: string } | null; userErrors: UserError<never>[] } | null;
}
// Tags are a set: the same removal and addition again end in the same state.
export const CustomerTierTags = adminDocument<CustomerTierTagsResult, CustomerTierTagsVariables>(
  'customer-tier-tags.graphql',
  { retrySafe: true },
);

export interface MetafieldIdentifier {
  ownerId: string;
  namespace: string;
  key: string;
}
export interface MetafieldsDeleteVariables {
  metafields: MetafieldIdentifier[];
}
export interface MetafieldsDeleteResult {
  metafieldsDelete: {
    /** Null entries: no such metafield (nothing to delete). */
    deletedMetafields: (MetafieldIdentifier | null)[] | null;
    userErrors: UserError<never>[];
  } | null;
}
// Deleting what is gone changes nothing: a resend is harmless.
export const MetafieldsDelete = adminDocument<MetafieldsDeleteResult, MetafieldsDeleteVariables>(
  'metafields-delete.graphql',
  { retrySafe: true },
);

/** The subset of DiscountCodeBasicInput Laurel uses; every field is optional in the schema. */
export interface DiscountCodeBasicInput {
  title?: string;
  code?: string;
  startsAt?: string;
  endsAt?: string | null;
  usageLimit?: number | null;
  appliesOncePerCustomer?: boolean;
  /** A oneOf input: exactly one key. */
  context?:
    | { all: 'ALL' }
    | { customers: { add?: string[]; remove?: string[] } }
    | { customerSegments: { add?: string[]; remove?: string[] } };
  customerGets?: {
    /** `percentage` is a fraction: 0.1 is 10 % off. */
    value:
      { percentage: number } | { discountAmount: { amount: string; appliesOnEachItem?: boolean } };
    /**
     * Everything, or listed products/variants. A free product is one variant with
     * `discountAmount {amount: <its price>, appliesOnEachItem: false}`: the amount comes off once
     * per order, i.e. exactly one unit.
     */
    items:
      { all: true } | { products: { productVariantsToAdd?: string[]; productsToAdd?: string[] } };
    appliesOnOneTimePurchase?: boolean;
    appliesOnSubscription?: boolean;
  };
  minimumRequirement?: DiscountMinimumRequirementInput | null;
  combinesWith?: DiscountCombinesWithInput;
}
export interface DiscountMinimumRequirementInput {
  subtotal?: { greaterThanOrEqualToSubtotal: string };
}
export interface DiscountCombinesWithInput {
  orderDiscounts?: boolean;
  productDiscounts?: boolean;
  shippingDiscounts?: boolean;
}
export type DiscountErrorCode = string;
export interface DiscountCodeBasicCreateVariables {
  basicCodeDiscount: DiscountCodeBasicInput;
}
/** What both code-discount creates select of the discount they made. */
export interface CreatedCodeDiscount {
  title: string;
  status: DiscountStatus;
  startsAt: string;
  endsAt: string | null;
  usageLimit: number | null;
  appliesOncePerCustomer: boolean;
  codes: { nodes: { id: string; code: string }[] };
}
export interface DiscountCodeBasicCreateResult {
  discountCodeBasicCreate: {
    codeDiscountNode: {
      id: string;
      codeDiscount:
        | ({ __typename: 'DiscountCodeBasic' } & CreatedCodeDiscount)
        | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' | 'DiscountCodeFreeShipping' };
    } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Not retry-safe: after an uncertain create, look the code up with CodeDiscountNodeByCode.
export const DiscountCodeBasicCreate = adminDocument<
  DiscountCodeBasicCreateResult,
  DiscountCodeBasicCreateVariables
>('discount-code-basic-create.graphql');

/** The subset of DiscountCodeFreeShippingInput Laurel uses; every field is optional in the schema. */
export interface DiscountCodeFreeShippingInput {
  title?: string;
  code?: string;
  startsAt?: string;
  endsAt?: string | null;
  usageLimit?: number | null;
  appliesOncePerCustomer?: boolean;
  context?: DiscountCodeBasicInput['context'];
  /** Where shipping is free: `{all: true}` for every country. */
  destination?: { all: true } | { countries: { add?: string[]; includeRestOfWorld?: boolean } };
  /** Only rates up to this price are free (Decimal string); omit for any rate. */
  maximumShippingPrice?: string | null;
  minimumRequirement?: DiscountMinimumRequirementInput | null;
  combinesWith?: DiscountCombinesWithInput;
  appliesOnOneTimePurchase?: boolean;
  appliesOnSubscription?: boolean;
}
export interface DiscountCodeFreeShippingCreateVariables {
  freeShippingCodeDiscount: DiscountCodeFreeShippingInput;
}
export interface DiscountCodeFreeShippingCreateResult {
  discountCodeFreeShippingCreate: {
    codeDiscountNode: {
      id: string;
      codeDiscount:
        | ({ __typename: 'DiscountCodeFreeShipping' } & CreatedCodeDiscount)
        | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' | 'DiscountCodeBasic' };
    } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Not retry-safe, like the basic create: after an uncertain create, look the code up.
export const DiscountCodeFreeShippingCreate = adminDocument<
  DiscountCodeFreeShippingCreateResult,
  DiscountCodeFreeShippingCreateVariables
>('discount-code-free-shipping-create.graphql');

export interface DiscountCodeDeactivateVariables {
  /** A DiscountCodeNode gid. */
  id: string;
}
export interface DiscountCodeDeactivateResult {
  discountCodeDeactivate: {
    codeDiscountNode: {
      id: string;
      codeDiscount:
        | {
            __typename: 'DiscountCodeBasic' | 'DiscountCodeFreeShipping';
            status: DiscountStatus;
            endsAt: string | null;
          }
        | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' };
    } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Retry-safe: a discount that has ended stays ended; a repeat at worst moves endsAt to a later
// "now", which is still in the past by the time anyone could use the code.
export const DiscountCodeDeactivate = adminDocument<
  DiscountCodeDeactivateResult,
  DiscountCodeDeactivateVariables
>('discount-code-deactivate.graphql', { retrySafe: true });

export interface StoreCreditTransactionResult {
  id: string;
  amount: MoneyV2;
  balanceAfterTransaction: MoneyV2;
  createdAt: string;
  account: { id: string; balance: MoneyV2 };
}

export type StoreCreditAccountCreditUserErrorCode =
  | 'ACCOUNT_NOT_FOUND'
  | 'CREDIT_LIMIT_EXCEEDED'
  | 'EXPIRES_AT_IN_PAST'
  | 'MISMATCHING_CURRENCY'
  | 'NEGATIVE_OR_ZERO_AMOUNT'
  | 'OWNER_NOT_FOUND'
  | 'UNSUPPORTED_CURRENCY';
export interface StoreCreditAccountCreditVariables {
  /** A Customer gid (an account is opened if needed) or a StoreCreditAccount gid. */
  id: string;
  creditInput: {
    creditAmount: { amount: string; currencyCode: string };
    expiresAt?: string | null;
    notify?: boolean;
  };
}
export interface StoreCreditAccountCreditResult {
  storeCreditAccountCredit: {
    storeCreditAccountTransaction: StoreCreditTransactionResult | null;
    userErrors: UserError<StoreCreditAccountCreditUserErrorCode>[];
  } | null;
}
export const StoreCreditAccountCredit = adminDocument<
  StoreCreditAccountCreditResult,
  StoreCreditAccountCreditVariables
>('store-credit-account-credit.graphql');

export type StoreCreditAccountDebitUserErrorCode =
  'ACCOUNT_NOT_FOUND' | 'INSUFFICIENT_FUNDS' | 'MISMATCHING_CURRENCY' | 'NEGATIVE_OR_ZERO_AMOUNT';
export interface StoreCreditAccountDebitVariables {
  id: string;
  debitInput: { debitAmount: { amount: string; currencyCode: string } };
}
export interface StoreCreditAccountDebitResult {
  storeCreditAccountDebit: {
    storeCreditAccountTransaction: StoreCreditTransactionResult | null;
    userErrors: UserError<StoreCreditAccountDebitUserErrorCode>[];
  } | null;
}
export const StoreCreditAccountDebit = adminDocument<
  StoreCreditAccountDebitResult,
  StoreCreditAccountDebitVariables
>('store-credit-account-debit.graphql');

// ---------------------------------------------------------------------------------------------
// Tier perks (app/tier-perks.server.ts): a segment and an automatic free-shipping discount per tier

export interface SegmentResult {
  id: string;
  name: string;
  query: string;
}
export interface PageAfterVariables {
  after?: string | null;
}
export interface TierPerkSegmentsResult {
  segments: { pageInfo: PageInfo; nodes: SegmentResult[] };
}
export const TierPerkSegments = adminDocument<TierPerkSegmentsResult, PageAfterVariables>(
  'tier-perk-segments.graphql',
);

export interface SegmentCreateVariables {
  name: string;
  /** Shopify's segment query language, e.g. `customer_tags CONTAINS 'laurel-tier-gold'`. */
  query: string;
}
export interface SegmentCreateResult {
  segmentCreate: { segment: SegmentResult | null; userErrors: UserError<never>[] } | null;
}
// Not retry-safe: a second create answers "Name has already been taken"; look it up instead.
export const SegmentCreate = adminDocument<SegmentCreateResult, SegmentCreateVariables>(
  'segment-create.graphql',
);

export interface SegmentUpdateVariables {
  id: string;
  query: string;
}
export interface SegmentUpdateResult {
  segmentUpdate: { segment: SegmentResult | null; userErrors: UserError<never>[] } | null;
}
// Setting the same query again leaves the same segment.
export const SegmentUpdate = adminDocument<SegmentUpdateResult, SegmentUpdateVariables>(
  'segment-update.graphql',
  { retrySafe: true },
);

export interface SegmentDeleteVariables {
  id: string;
}
export interface SegmentDeleteResult {
  segmentDelete: { deletedSegmentId: string | null; userErrors: UserError<never>[] } | null;
}
// Not retry-safe: a resend after a delete that went through answers an error; look it up first.
export const SegmentDelete = adminDocument<SegmentDeleteResult, SegmentDeleteVariables>(
  'segment-delete.graphql',
);

export interface TierPerkDiscountsResult {
  discountNodes: {
    pageInfo: PageInfo;
    nodes: {
      /** A DiscountAutomaticNode gid (what discountAutomaticDelete takes). */
      id: string;
      discount:
        | {
            __typename: 'DiscountAutomaticFreeShipping';
            title: string;
            status: DiscountStatus;
            context:
              | { __typename: 'DiscountCustomerSegments'; segments: { id: string }[] }
              | {
                  __typename: 'DiscountBuyerSelectionAll' | 'DiscountCustomers' | 'DiscountMarkets';
                };
          }
        | { __typename: string };
    }[];
  };
}
export const TierPerkDiscounts = adminDocument<TierPerkDiscountsResult, PageAfterVariables>(
  'tier-perk-discounts.graphql',
);

/** The subset of DiscountAutomaticFreeShippingInput Laurel uses. */
export interface DiscountAutomaticFreeShippingInput {
  title: string;
  startsAt: string;
  endsAt?: string | null;
  context: { customerSegments: { add: string[] } } | { all: 'ALL' };
  destination: { all: true };
  combinesWith?: DiscountCombinesWithInput;
}
export interface DiscountAutomaticFreeShippingCreateVariables {
  freeShippingAutomaticDiscount: DiscountAutomaticFreeShippingInput;
}
export interface DiscountAutomaticFreeShippingCreateResult {
  discountAutomaticFreeShippingCreate: {
    automaticDiscountNode: {
      id: string;
      automaticDiscount:
        | {
            __typename: 'DiscountAutomaticFreeShipping';
            title: string;
            status: DiscountStatus;
            startsAt: string;
          }
        | {
            __typename: 'DiscountAutomaticApp' | 'DiscountAutomaticBasic' | 'DiscountAutomaticBxgy';
          };
    } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Not retry-safe: after an uncertain create, look the discount up by title.
export const DiscountAutomaticFreeShippingCreate = adminDocument<
  DiscountAutomaticFreeShippingCreateResult,
  DiscountAutomaticFreeShippingCreateVariables
>('discount-automatic-free-shipping-create.graphql');

export interface DiscountAutomaticDeleteVariables {
  /** A DiscountAutomaticNode gid. */
  id: string;
}
export interface DiscountAutomaticDeleteResult {
  discountAutomaticDelete: {
    deletedAutomaticDiscountId: string | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Not retry-safe: a resend after a delete that went through answers an error; look it up first.
export const DiscountAutomaticDelete = adminDocument<
  DiscountAutomaticDeleteResult,
  DiscountAutomaticDeleteVariables
>('discount-automatic-delete.graphql');

/** A metafield as the storefront preview reads it: Liquid needs only the key, type and value. */
export interface StorefrontMetafield {
  key: string;
  type: string;
  value: string;
}
export interface StorefrontPreviewVariables {
  /** A customer GID; ignored (pass any) when `withCustomer` is false. */
  customerId: string;
  withCustomer: boolean;
  /** A product GID; ignored (pass any) when `withProduct` is false. */
  productId: string;
  withProduct: boolean;
}
export interface StorefrontPreviewResult {
  shop: { name: string; currencyCode: string; myshopifyDomain: string };
  /** Absent when `withCustomer` is false; null when Shopify has no such customer. */
  customer?: {
    id: string;
    firstName: string | null;
    lastName: string | null;
    displayName: string;
    defaultEmailAddress: { emailAddress: string } | null;
    metafields: { nodes: StorefrontMetafield[] };
  } | null;
  currentAppInstallation: { metafields: { nodes: StorefrontMetafield[] } };
  /** Absent when `withProduct` is false; null when Shopify has no such product. */
  product?: { metafields: { nodes: StorefrontMetafield[] } } | null;
}
/** The storefront preview's one read (development only): see storefront-preview.graphql. */
export const StorefrontPreview = adminDocument<StorefrontPreviewResult, StorefrontPreviewVariables>(
  'storefront-preview.graphql',
);

// ---------------------------------------------------------------------------------------------
// Early access (issue 11): app/early-access.server.ts and app/early-access-sync.server.ts

export interface ProductTitleVariables {
  /** A Product gid. */
  id: string;
}
export interface ProductTitleResult {
  /** Null when the shop has no such product. */
  product: { id: string; title: string } | null;
}
export const ProductTitle = adminDocument<ProductTitleResult, ProductTitleVariables>(
  'product-title.graphql',
);

export interface CollectionProductsVariables {
  /** A Collection gid. */
  id: string;
  /** 1–250. */
  first: number;
  after?: string | null;
}
export interface CollectionProductsResult {
  /** Null when the shop has no such collection. */
  collection: {
    id: string;
    title: string;
    products: { pageInfo: PageInfo; nodes: { id: string }[] };
  } | null;
}
export const CollectionProducts = adminDocument<
  CollectionProductsResult,
  CollectionProductsVariables
>('collection-products.graphql');

export interface ValidationCreateInput {
  functionHandle: string;
  title?: string;
  enable?: boolean;
  /** Block checkout when the Function itself fails (times out, crashes), not only on its errors. */
  blockOnFailure?: boolean;
  metafields?: { namespace: string; key: string; type: string; value: string }[];
}
export type ValidationUserErrorCode =
  | 'FUNCTION_NOT_FOUND'
  | 'FUNCTION_DOES_NOT_IMPLEMENT'
  | 'MAX_VALIDATIONS_ACTIVATED'
  | 'CUSTOM_APP_FUNCTION_NOT_ELIGIBLE'
  | (string & {});
export interface ValidationCreateVariables {
  validation: ValidationCreateInput;
}
export interface ValidationCreateResult {
  validationCreate: {
    validation: { id: string; title: string; enabled: boolean; blockOnFailure: boolean } | null;
    userErrors: UserError<ValidationUserErrorCode>[];
  } | null;
}
// Not retry-safe: a second create is a second validation. After an uncertain create, look for it
// with ValidationsPage.
export const ValidationCreate = adminDocument<ValidationCreateResult, ValidationCreateVariables>(
  'validation-create.graphql',
);

export type ValidationsPageVariables = Omit<PageVariables, 'query'>;
export interface ValidationsPageResult {
  validations: {
    pageInfo: PageInfo;
    nodes: {
      id: string;
      enabled: boolean;
      blockOnFailure: boolean;
      shopifyFunction: { handle: string };
      times: { value: string } | null;
    }[];
  };
}
export const ValidationsPage = adminDocument<ValidationsPageResult, ValidationsPageVariables>(
  'validations-page.graphql',
);

// ---------------------------------------------------------------------------------------------
// The referral friend discount (app/referral-discount.server.ts)

export interface ReferralDiscountVariables {
  /** A DiscountCodeNode gid. */
  id: string;
}
export interface ReferralDiscountResult {
  /** Null when the shop has no such discount (deleted in the admin). */
  discountNode: {
    id: string;
    discount:
      | {
          __typename: 'DiscountCodeBasic';
          title: string;
          status: DiscountStatus;
          appliesOncePerCustomer: boolean;
          usageLimit: number | null;
          codesCount: { count: number } | null;
          customerGets: { value: DiscountValueResult };
          minimumRequirement: DiscountMinimumRequirementResult | null;
          context:
            | { __typename: 'DiscountCustomerSegments'; segments: { id: string }[] }
            | {
                __typename: 'DiscountBuyerSelectionAll' | 'DiscountCustomers' | 'DiscountMarkets';
              };
        }
      | {
          __typename:
            | 'DiscountCodeApp'
            | 'DiscountCodeBxgy'
            | 'DiscountCodeFreeShipping'
            | 'DiscountAutomaticApp'
            | 'DiscountAutomaticBasic'
            | 'DiscountAutomaticBxgy'
            | 'DiscountAutomaticFreeShipping';
        };
  } | null;
}
export const ReferralDiscount = adminDocument<ReferralDiscountResult, ReferralDiscountVariables>(
  'referral-discount.graphql',
);

export interface ReferralCodeOwnerVariables {
  code: string;
}
export interface ReferralCodeOwnerResult {
  codeDiscountNodeByCode: {
    id: string;
    codeDiscount:
      | { __typename: 'DiscountCodeBasic'; title: string }
      | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' | 'DiscountCodeFreeShipping' };
  } | null;
}
export const ReferralCodeOwner = adminDocument<ReferralCodeOwnerResult, ReferralCodeOwnerVariables>(
  'referral-code-owner.graphql',
);

export interface SegmentByIdVariables {
  /** A Segment gid. */
  id: string;
}
export interface SegmentByIdResult {
  segment: SegmentResult | null;
}
export const SegmentById = adminDocument<SegmentByIdResult, SegmentByIdVariables>(
  'segment-by-id.graphql',
);

/** The subset of DiscountCodeBasicInput an update sends: only what changes. */
export type DiscountCodeBasicUpdateInput = Omit<DiscountCodeBasicInput, 'customerGets'> & {
  customerGets?: { value: NonNullable<DiscountCodeBasicInput['customerGets']>['value'] };
};
export interface DiscountCodeBasicUpdateVariables {
  /** A DiscountCodeNode gid. */
  id: string;
  basicCodeDiscount: DiscountCodeBasicUpdateInput;
}
export interface DiscountCodeBasicUpdateResult {
  discountCodeBasicUpdate: {
    codeDiscountNode: {
      id: string;
      codeDiscount:
        | { __typename: 'DiscountCodeBasic'; status: DiscountStatus }
        | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' | 'DiscountCodeFreeShipping' };
    } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Retry-safe: it sets values; sending the same values again leaves the discount as it was.
export const DiscountCodeBasicUpdate = adminDocument<
  DiscountCodeBasicUpdateResult,
  DiscountCodeBasicUpdateVariables
>('discount-code-basic-update.graphql', { retrySafe: true });

export interface DiscountCodeActivateVariables {
  /** A DiscountCodeNode gid. */
  id: string;
}
export interface DiscountCodeActivateResult {
  discountCodeActivate: {
    codeDiscountNode: {
      id: string;
      codeDiscount:
        | { __typename: 'DiscountCodeBasic'; status: DiscountStatus; endsAt: string | null }
        | { __typename: 'DiscountCodeApp' | 'DiscountCodeBxgy' | 'DiscountCodeFreeShipping' };
    } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Retry-safe: an active discount stays active.
export const DiscountCodeActivate = adminDocument<
  DiscountCodeActivateResult,
  DiscountCodeActivateVariables
>('discount-code-activate.graphql', { retrySafe: true });

export interface DiscountRedeemCodeBulkAddVariables {
  /** A DiscountCodeNode gid. */
  discountId: string;
  /** At most 250. */
  codes: { code: string }[];
}
export interface DiscountRedeemCodeBulkAddResult {
  discountRedeemCodeBulkAdd: {
    bulkCreation: { id: string; done: boolean; codesCount: number } | null;
    userErrors: (UserError<DiscountErrorCode> & { extraInfo: string | null })[];
  } | null;
}
// Not retry-safe: a repeat queues the codes again, and each then fails as taken. After an uncertain
// add, the codes stay pending and the next run tells ours from others' with ReferralCodeOwner.
export const DiscountRedeemCodeBulkAdd = adminDocument<
  DiscountRedeemCodeBulkAddResult,
  DiscountRedeemCodeBulkAddVariables
>('discount-redeem-code-bulk-add.graphql');

export interface DiscountRedeemCodeBulkCreationVariables {
  /** A DiscountRedeemCodeBulkCreation gid. */
  id: string;
  after?: string | null;
}
export interface BulkCreationCodeResult {
  code: string;
  /** Empty: the code was added. */
  errors: UserError<DiscountErrorCode>[];
}
export interface DiscountRedeemCodeBulkCreationResult {
  discountRedeemCodeBulkCreation: {
    id: string;
    done: boolean;
    codesCount: number;
    importedCount: number;
    failedCount: number;
    codes: { pageInfo: PageInfo; nodes: BulkCreationCodeResult[] };
  } | null;
}
export const DiscountRedeemCodeBulkCreation = adminDocument<
  DiscountRedeemCodeBulkCreationResult,
  DiscountRedeemCodeBulkCreationVariables
>('discount-redeem-code-bulk-creation.graphql');

/** Every document above, for validation and for the emulator's coverage test. */
export const adminDocuments = [
  ShopInfo,
  CurrentAppInstallation,
  CustomerById,
  CustomersPage,
  OrdersPage,
  CodeDiscountNodeByCode,
  ProductVariant,
  CustomerStoreCreditTransactions,
  MetafieldsSet,
  MetafieldDefinitionCreate,
  TagsAdd,
  TagsRemove,
  CustomerTierTags,
  MetafieldsDelete,
  DiscountCodeBasicCreate,
  DiscountCodeFreeShippingCreate,
  DiscountCodeDeactivate,
  StoreCreditAccountCredit,
  StoreCreditAccountDebit,
  StorefrontPreview,
  TierPerkSegments,
  SegmentCreate,
  SegmentUpdate,
  SegmentDelete,
  TierPerkDiscounts,
  DiscountAutomaticFreeShippingCreate,
  DiscountAutomaticDelete,
  ProductTitle,
  CollectionProducts,
  ValidationCreate,
  ValidationsPage,
  ReferralDiscount,
  ReferralCodeOwner,
  SegmentById,
  DiscountCodeBasicUpdate,
  DiscountCodeActivate,
  DiscountRedeemCodeBulkAdd,
  DiscountRedeemCodeBulkCreation,
] as const;
