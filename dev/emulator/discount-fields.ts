import { connection, type PageArgs, type ResolverContext, type View } from './connections';
import { customerView } from './customers';
import { findSegment, segmentsOf, segmentView } from './segments';
import { findDiscountByCode, type DiscountBuyers, type DiscountRecord } from './state';
import { dateTime, decimalIn, gid, idOfType, moneyV2, notImplemented } from './values';

/**
 * What every code discount shares, whatever it gives (basic, free shipping): its status, codes,
 * buyers, dates, limits and minimum in views, and the validation of those inputs on create.
 */

/** An expired window wins over a future start: a deactivated scheduled discount is EXPIRED. */
export function discountStatus(
  discount: DiscountRecord,
  now: number,
): 'ACTIVE' | 'EXPIRED' | 'SCHEDULED' {
  if (discount.endsAt !== null && discount.endsAt <= now) return 'EXPIRED';
  return discount.startsAt > now ? 'SCHEDULED' : 'ACTIVE';
}

/** The DiscountCodeNode around a code discount's view. */
export function discountNode(discount: DiscountRecord, codeDiscount: View): View {
  return {
    __typename: 'DiscountCodeNode',
    id: gid('DiscountCodeNode', discount.id),
    codeDiscount,
  };
}

/** Fields DiscountCodeBasic and DiscountCodeFreeShipping have in common. */
export function commonDiscountFields(ctx: ResolverContext, discount: DiscountRecord): View {
  const currency = ctx.store.settings.currencyCode;
  // The first code's uses are the discount's less those of the codes added later.
  const addedUses = discount.moreCodes.reduce((sum, c) => sum + c.usageCount, 0);
  const redeemCodes = [
    { id: discount.codeId, code: discount.code, usageCount: discount.usageCount - addedUses },
    ...discount.moreCodes,
  ].map((c) => ({
    id: c.id,
    view: {
      __typename: 'DiscountRedeemCode',
      id: gid('DiscountRedeemCode', c.id),
      code: c.code,
      asyncUsageCount: c.usageCount,
      createdBy: null,
    },
  }));
  const customers = (ids: number[]) =>
    ids.flatMap((id) => {
      const customer = ctx.store.customers.get(id);
      return customer ? [customerView(ctx, customer)] : [];
    });
  const segments = (ids: number[]) =>
    ids.flatMap((id) => {
      const segment = segmentsOf(ctx.store).get(id);
      return segment ? [segmentView(segment)] : [];
    });
  const buyers = discount.buyers;
  return {
    title: discount.title,
    status: discountStatus(discount, ctx.now),
    startsAt: dateTime(discount.startsAt),
    endsAt: discount.endsAt === null ? null : dateTime(discount.endsAt),
    createdAt: dateTime(discount.createdAt),
    updatedAt: dateTime(discount.updatedAt),
    usageLimit: discount.usageLimit,
    appliesOncePerCustomer: discount.appliesOncePerCustomer,
    appliesOnOneTimePurchase: discount.appliesOnOneTimePurchase,
    appliesOnSubscription: discount.appliesOnSubscription,
    asyncUsageCount: discount.usageCount,
    recurringCycleLimit: 0,
    hasTimelineComment: false,
    tags: [],
    codes: (args: PageArgs & { query?: string | null; savedSearchId?: string | null }) => {
      if (args.query || args.savedSearchId) throw notImplemented('codes(query:, savedSearchId:)');
      return connection(
        redeemCodes,
        args,
        (c) => c.id,
        (c) => c.view,
      );
    },
    codesCount: { count: redeemCodes.length, precision: 'EXACT' },
    context:
      buyers.kind === 'all'
        ? { __typename: 'DiscountBuyerSelectionAll', all: 'ALL' }
        : buyers.kind === 'segments'
          ? { __typename: 'DiscountCustomerSegments', segments: segments(buyers.segmentIds) }
          : { __typename: 'DiscountCustomers', customers: customers(buyers.customerIds) },
    customerSelection:
      buyers.kind === 'all'
        ? { __typename: 'DiscountCustomerAll', allCustomers: true }
        : buyers.kind === 'segments'
          ? { __typename: 'DiscountCustomerSegments', segments: segments(buyers.segmentIds) }
          : { __typename: 'DiscountCustomers', customers: customers(buyers.customerIds) },
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

/** The inputs DiscountCodeBasicInput and DiscountCodeFreeShippingInput share. */
export interface CommonDiscountInput {
  title?: string | null;
  code?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  usageLimit?: number | null;
  appliesOncePerCustomer?: boolean | null;
  appliesOnOneTimePurchase?: boolean | null;
  appliesOnSubscription?: boolean | null;
  context?: {
    all?: string;
    customers?: { add?: string[] | null; remove?: string[] | null };
    customerSegments?: { add?: string[] | null; remove?: string[] | null } | null;
    markets?: unknown;
  } | null;
  customerSelection?: {
    all?: boolean | null;
    customers?: { add?: string[] | null } | null;
    customerSegments?: unknown;
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

/** A userError's path below the input argument, its message and DiscountErrorCode. */
export type DiscountProblem = (path: string[], message: string, code: string) => void;

/** The shared fields of a record, once they are valid. */
export type CommonDiscountFields = Omit<
  DiscountRecord,
  'id' | 'codeId' | 'kind' | 'value' | 'items' | 'destination' | 'maximumShippingPriceMinor'
>;

/**
 * `context.customerSegments` of a create: segments that exist in the shop (`remove` makes no sense
 * on a new discount). Reports problems under `path`; returns the ids when all are valid.
 */
export function readSegmentIds(
  ctx: ResolverContext,
  input: { add?: string[] | null; remove?: string[] | null },
  path: string[],
  problem: DiscountProblem,
): number[] | undefined {
  let valid = true;
  if (input.remove?.length) {
    valid = false;
    problem(
      [...path, 'remove'],
      'Segments to remove cannot be given when creating a discount',
      'INVALID',
    );
  }
  const add = input.add ?? [];
  if (add.length === 0) {
    valid = false;
    problem([...path, 'add'], 'Customer segments must not be empty', 'BLANK');
  }
  const ids: number[] = [];
  add.forEach((id, index) => {
    const segment = findSegment(ctx, id);
    if (!segment) {
      valid = false;
      problem([...path, 'add', String(index)], `Segment ${id} does not exist`, 'INVALID');
    } else if (!ids.includes(segment.id)) ids.push(segment.id);
  });
  return valid ? ids : undefined;
}

/**
 * Validates the shared inputs like Shopify: the code (unique per shop, case-insensitively), title,
 * dates, usage limit, buyers (`context` or the deprecated `customerSelection`, customers that
 * exist), minimum subtotal. Reports each problem; returns the fields only when all are valid.
 */
export function readCommonDiscountInput(
  ctx: ResolverContext,
  input: CommonDiscountInput,
  problem: DiscountProblem,
): CommonDiscountFields | undefined {
  const currency = ctx.store.settings.currencyCode;
  let valid = true;
  const fail: DiscountProblem = (path, message, code) => {
    valid = false;
    problem(path, message, code);
  };

  const code = input.code?.trim() ?? '';
  if (code === '') fail(['code'], "Code can't be blank", 'BLANK');
  else if (code.length > 255)
    fail(['code'], 'Code is too long (maximum is 255 characters)', 'TOO_LONG');
  else if (/[\r\n]/.test(code))
    fail(['code'], 'Code cannot contain newline characters.', 'INVALID');
  else if (findDiscountByCode(ctx.store, code)) {
    fail(['code'], 'Code must be unique. Please try a different code.', 'TAKEN');
  }
  const title = input.title?.trim() ?? '';
  if (title === '') fail(['title'], "Title can't be blank", 'BLANK');
  else if (title.length > 255)
    fail(['title'], 'Title is too long (maximum is 255 characters)', 'TOO_LONG');
  const startsAt = input.startsAt ? Date.parse(input.startsAt) : undefined;
  if (startsAt === undefined) fail(['startsAt'], "Starts at can't be blank", 'BLANK');
  const endsAt = input.endsAt ? Date.parse(input.endsAt) : null;
  if (startsAt !== undefined && endsAt !== null && endsAt <= startsAt) {
    fail(['endsAt'], 'Ends at needs to be after starts_at', 'END_DATE_BEFORE_START_DATE');
  }
  if (input.usageLimit !== null && input.usageLimit !== undefined && input.usageLimit < 1) {
    fail(['usageLimit'], 'Usage limit must be greater than 0', 'GREATER_THAN');
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
        fail([...path, String(index)], `Customer ${id} does not exist`, 'INVALID');
      } else if (!found.includes(numeric)) {
        found.push(numeric);
      }
    });
    if ((ids ?? []).length === 0) fail(path, 'Customers to add must not be empty', 'BLANK');
    return found;
  };
  if (input.context && input.customerSelection) {
    fail(['context'], 'Only one of context or customerSelection can be provided', 'CONFLICT');
  } else if (input.context) {
    if (input.context.markets) throw notImplemented('discount context by markets');
    if (input.context.customerSegments) {
      const segmentIds = readSegmentIds(
        ctx,
        input.context.customerSegments,
        ['context', 'customerSegments'],
        fail,
      );
      if (segmentIds) buyers = { kind: 'segments', segmentIds };
    } else if (input.context.all) buyers = { kind: 'all' };
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
    fail(['context'], "Context can't be blank", 'BLANK');
  }

  let minimumSubtotalMinor: number | null = null;
  if (input.minimumRequirement?.quantity) throw notImplemented('minimum quantity requirements');
  if (input.minimumRequirement?.subtotal) {
    const parsed = decimalIn(
      input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal,
      currency,
    );
    if ('problem' in parsed || parsed.minor <= 0) {
      fail(
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

  if (!valid || !buyers || startsAt === undefined) return undefined;
  return {
    code,
    title,
    startsAt,
    endsAt,
    usageLimit: input.usageLimit ?? null,
    appliesOncePerCustomer: input.appliesOncePerCustomer ?? false,
    buyers,
    viaCustomerSelection: !input.context,
    minimumSubtotalMinor,
    combinesWith: {
      orderDiscounts: input.combinesWith?.orderDiscounts ?? false,
      productDiscounts: input.combinesWith?.productDiscounts ?? false,
      shippingDiscounts: input.combinesWith?.shippingDiscounts ?? false,
    },
    appliesOnOneTimePurchase: input.appliesOnOneTimePurchase ?? true,
    appliesOnSubscription: input.appliesOnSubscription ?? false,
    usageCount: 0,
    moreCodes: [],
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
}
