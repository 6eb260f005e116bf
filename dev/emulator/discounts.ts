import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type UserErrorOut,
  type View,
} from './connections';
import {
  commonDiscountFields,
  discountNode,
  discountStatus,
  readCommonDiscountInput,
  type CommonDiscountInput,
  type DiscountProblem,
} from './discount-fields';
import { freeShippingDiscountView } from './discounts-free-shipping';
import { productVariantView, productView } from './products';
import {
  findDiscountByCode,
  findVariant,
  type BasicDiscountRecord,
  type DiscountItems,
  type DiscountRecord,
  type DiscountValue,
} from './state';
import { decimalIn, idOfType, moneyV2, notImplemented } from './values';

/**
 * Code discounts: basic ones (amount or percentage off all items or listed products), lookup by
 * code for every kind, and deactivation. Free shipping lives in discounts-free-shipping.ts.
 */

export function discountNodeView(ctx: ResolverContext, discount: DiscountRecord): View {
  return discountNode(
    discount,
    discount.kind === 'basic'
      ? discountCodeBasicView(ctx, discount)
      : freeShippingDiscountView(ctx, discount),
  );
}

function discountCodeBasicView(ctx: ResolverContext, discount: BasicDiscountRecord): View {
  const currency = ctx.store.settings.currencyCode;
  const summary = discountSummary(ctx, discount, currency);
  // A discount on listed products is a product discount; on everything, an order discount.
  const discountClass = discount.items.kind === 'all' ? 'ORDER' : 'PRODUCT';
  return {
    __typename: 'DiscountCodeBasic',
    ...commonDiscountFields(ctx, discount),
    summary,
    shortSummary: summary,
    discountClasses: [discountClass],
    discountClass,
    customerGets: {
      appliesOnOneTimePurchase: discount.appliesOnOneTimePurchase,
      appliesOnSubscription: discount.appliesOnSubscription,
      items: discountItemsView(ctx, discount.items),
      value:
        discount.value.kind === 'percentage'
          ? { __typename: 'DiscountPercentage', percentage: discount.value.percentage }
          : {
              __typename: 'DiscountAmount',
              amount: moneyV2(discount.value.amountMinor, currency),
              appliesOnEachItem: discount.value.appliesOnEachItem,
            },
    },
  };
}

function discountItemsView(ctx: ResolverContext, items: DiscountItems): View {
  if (items.kind === 'all') return { __typename: 'AllDiscountItems', allItems: true };
  const products = items.productIds.flatMap((id) => {
    const product = ctx.store.products.get(id);
    return product ? [product] : [];
  });
  const variants = items.variantIds.flatMap((id) => {
    const found = findVariant(ctx.store, id);
    return found ? [found] : [];
  });
  return {
    __typename: 'DiscountProducts',
    products: (args: PageArgs) =>
      connection(
        products,
        args,
        (p) => p.id,
        (p) => productView(ctx, p),
      ),
    productVariants: (args: PageArgs) =>
      connection(
        variants,
        args,
        (v) => v.variant.id,
        (v) => productVariantView(ctx, v.product, v.variant),
      ),
  };
}

function discountSummary(
  ctx: ResolverContext,
  discount: BasicDiscountRecord,
  currency: string,
): string {
  const { value, items } = discount;
  const amount =
    value.kind === 'percentage'
      ? `${Math.round(value.percentage * 10_000) / 100}%`
      : `${moneyV2(value.amountMinor, currency).amount} ${currency}`;
  if (items.kind === 'all') return `${amount} off entire order`;
  const names = [
    ...items.productIds.map((id) => ctx.store.products.get(id)?.title),
    ...items.variantIds.map((id) => {
      const found = findVariant(ctx.store, id);
      return found && `${found.product.title} - ${found.variant.title}`;
    }),
  ].filter(Boolean);
  const once = value.kind === 'amount' && !value.appliesOnEachItem ? ' (once per order)' : '';
  return `${amount} off ${names.join(', ')}${once}`;
}

export function discountNodeByCode(ctx: ResolverContext, code: string): View | null {
  const discount = findDiscountByCode(ctx.store, code);
  return discount ? discountNodeView(ctx, discount) : null;
}

/**
 * discountNode(id:) for a code discount (its DiscountCodeNode gid, as every create answers): the
 * DiscountNode around the same view. Automatic discounts are read with automaticDiscountNode.
 */
export function discountNodeById(ctx: ResolverContext, id: string): View | null {
  if (idOfType(id, 'DiscountAutomaticNode') !== undefined)
    throw notImplemented('discountNode(id:) of an automatic discount');
  const numeric = idOfType(id, 'DiscountCodeNode');
  const discount = numeric === undefined ? undefined : ctx.store.discounts.get(numeric);
  if (!discount) return null;
  const node = discountNodeView(ctx, discount);
  return { __typename: 'DiscountNode', id: node.id, discount: node.codeDiscount };
}

export interface BasicDiscountInput extends CommonDiscountInput {
  customerGets?: {
    value?: {
      percentage?: number | null;
      discountAmount?: { amount?: unknown; appliesOnEachItem?: boolean | null } | null;
      discountOnQuantity?: unknown;
    } | null;
    items?: {
      all?: boolean | null;
      products?: {
        productsToAdd?: string[] | null;
        productVariantsToAdd?: string[] | null;
        productsToRemove?: string[] | null;
        productVariantsToRemove?: string[] | null;
      } | null;
      collections?: unknown;
    } | null;
    appliesOnOneTimePurchase?: boolean | null;
    appliesOnSubscription?: boolean | null;
  } | null;
}

export function discountCodeBasicCreate(ctx: ResolverContext, args: Args): View {
  const input = args.basicCodeDiscount as BasicDiscountInput;
  const errors: UserErrorOut[] = [];
  const problem: DiscountProblem = (path, message, code) =>
    errors.push({ field: ['basicCodeDiscount', ...path], message, code, extraInfo: null });

  const common = readCommonDiscountInput(ctx, input, problem);

  const gets = input.customerGets;
  const value = readValue(ctx, gets?.value, problem);
  const items = gets ? readItems(ctx, gets.items, problem) : undefined;

  if (errors.length > 0 || !common || !value || !items) {
    return { codeDiscountNode: null, userErrors: errors };
  }
  const record: BasicDiscountRecord = {
    id: ctx.state.id(),
    codeId: ctx.state.id(),
    ...common,
    kind: 'basic',
    value,
    items,
    appliesOnOneTimePurchase: gets?.appliesOnOneTimePurchase ?? true,
    appliesOnSubscription: gets?.appliesOnSubscription ?? false,
  };
  ctx.store.discounts.set(record.id, record);
  return { codeDiscountNode: discountNodeView(ctx, record), userErrors: [] };
}

/** customerGets.value: a percentage (a fraction, 0 < p ≤ 1) or an amount in the shop's currency. */
export function readValue(
  ctx: ResolverContext,
  value: NonNullable<BasicDiscountInput['customerGets']>['value'] | undefined,
  problem: DiscountProblem,
): DiscountValue | undefined {
  const currency = ctx.store.settings.currencyCode;
  if (!value) {
    problem(['customerGets', 'value'], "Value can't be blank", 'BLANK');
    return undefined;
  }
  if (value.discountOnQuantity) {
    problem(
      ['customerGets', 'value', 'discountOnQuantity'],
      'Discount on quantity is only valid for Buy X Get Y discounts',
      'INVALID',
    );
    return undefined;
  }
  if (value.percentage !== null && value.percentage !== undefined) {
    const percentage = value.percentage;
    if (!(percentage > 0 && percentage <= 1)) {
      problem(
        ['customerGets', 'value', 'percentage'],
        'Value must be between 0.0 and 1.0',
        'VALUE_OUTSIDE_RANGE',
      );
      return undefined;
    }
    return { kind: 'percentage', percentage };
  }
  if (value.discountAmount) {
    const parsed = decimalIn(value.discountAmount.amount, currency);
    if ('problem' in parsed) {
      problem(['customerGets', 'value', 'discountAmount', 'amount'], parsed.problem, 'INVALID');
      return undefined;
    }
    if (parsed.minor <= 0) {
      problem(
        ['customerGets', 'value', 'discountAmount', 'amount'],
        'Value must be greater than 0',
        'GREATER_THAN',
      );
      return undefined;
    }
    return {
      kind: 'amount',
      amountMinor: parsed.minor,
      appliesOnEachItem: value.discountAmount.appliesOnEachItem ?? false,
    };
  }
  problem(['customerGets', 'value'], "Value can't be blank", 'BLANK');
  return undefined;
}

/** customerGets.items: everything, or products and variants that exist in the shop. */
function readItems(
  ctx: ResolverContext,
  items: NonNullable<BasicDiscountInput['customerGets']>['items'],
  problem: DiscountProblem,
): DiscountItems | undefined {
  if (items?.collections) throw notImplemented('discounts on collections');
  const products = items?.products;
  if (items?.all && products) {
    problem(
      ['customerGets', 'items'],
      'Only one of all items or specific products can be selected',
      'CONFLICT',
    );
    return undefined;
  }
  if (items?.all) return { kind: 'all' };
  if (!products) {
    problem(['customerGets', 'items'], 'Items must be specified', 'APPLIES_ON_NOTHING');
    return undefined;
  }
  if (products.productsToRemove?.length || products.productVariantsToRemove?.length) {
    problem(
      ['customerGets', 'items', 'products'],
      'Products to remove cannot be given when creating a discount',
      'INVALID',
    );
    return undefined;
  }
  let valid = true;
  const ids = (list: string[] | null | undefined, type: 'Product' | 'ProductVariant') => {
    const key = type === 'Product' ? 'productsToAdd' : 'productVariantsToAdd';
    const found: number[] = [];
    (list ?? []).forEach((id, index) => {
      const numeric = idOfType(id, type);
      const exists =
        numeric !== undefined &&
        (type === 'Product'
          ? ctx.store.products.has(numeric)
          : findVariant(ctx.store, numeric) !== undefined);
      if (!exists) {
        valid = false;
        const what = type === 'Product' ? 'Product' : 'Product variant';
        problem(
          ['customerGets', 'items', 'products', key, String(index)],
          `${what} ${id} does not exist`,
          'INVALID',
        );
      } else if (!found.includes(numeric)) {
        found.push(numeric);
      }
    });
    return found;
  };
  const productIds = ids(products.productsToAdd, 'Product');
  const variantIds = ids(products.productVariantsToAdd, 'ProductVariant');
  if (!valid) return undefined;
  if (productIds.length === 0 && variantIds.length === 0) {
    problem(['customerGets', 'items'], 'Items must be specified', 'APPLIES_ON_NOTHING');
    return undefined;
  }
  return { kind: 'products', productIds, variantIds };
}

/**
 * discountCodeDeactivate: the discount ends now (Shopify sets endsAt to the current time) and its
 * status becomes EXPIRED. Deactivating one that has already ended changes nothing.
 */
export function discountCodeDeactivate(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.id, 'DiscountCodeNode');
  const discount = numeric === undefined ? undefined : ctx.store.discounts.get(numeric);
  if (!discount) return noSuchDiscount(['id']);
  if (discountStatus(discount, ctx.now) !== 'EXPIRED') {
    discount.endsAt = ctx.now;
    discount.updatedAt = ctx.now;
  }
  return { codeDiscountNode: discountNodeView(ctx, discount), userErrors: [] };
}

/** The answer to a mutation naming a code discount the shop does not have. */
export function noSuchDiscount(field: string[]): View {
  return {
    codeDiscountNode: null,
    userErrors: [
      { field, message: 'Code discount does not exist.', code: 'INVALID', extraInfo: null },
    ],
  };
}
