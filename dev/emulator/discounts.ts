import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type UserErrorOut,
  type View,
} from './connections';
import { customerView } from './customers';
import {
  findDiscountByCode,
  type DiscountBuyers,
  type DiscountRecord,
  type DiscountValue,
} from './state';
import { dateTime, decimalIn, gid, idOfType, moneyV2, notImplemented } from './values';

/** Basic code discounts: the view, lookup by code, and discountCodeBasicCreate's validation. */

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

export function discountNodeByCode(ctx: ResolverContext, code: string): View | null {
  const discount = findDiscountByCode(ctx.store, code);
  return discount ? discountNodeView(ctx, discount) : null;
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

export function discountCodeBasicCreate(ctx: ResolverContext, args: Args): View {
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
