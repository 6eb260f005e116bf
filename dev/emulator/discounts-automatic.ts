import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type UserErrorOut,
  type View,
} from './connections';
import { discountStatus } from './discount-fields';
import { findSegment, segmentsOf, segmentView } from './segments';
import type { ShippingDestination, ShopStore } from './state';
import { dateTime, gid, idOfType, notImplemented } from './values';

/**
 * Automatic free-shipping discounts limited to customer segments (a tier's free shipping): the
 * list, one by id, discountAutomaticFreeShippingCreate and discountAutomaticDelete. Only what
 * Laurel sends is modelled (context by segments or all, all or listed countries); anything else
 * is refused as not implemented.
 */

export interface AutomaticFreeShippingRecord {
  id: number;
  title: string;
  startsAt: number;
  endsAt: number | null;
  /** Segment ids (empty with `all`). */
  segmentIds: number[];
  all: boolean;
  destination: ShippingDestination;
  combinesWith: { orderDiscounts: boolean; productDiscounts: boolean; shippingDiscounts: boolean };
  createdAt: number;
  updatedAt: number;
}

const byStore = new WeakMap<ShopStore, Map<number, AutomaticFreeShippingRecord>>();

/** The shop's automatic discounts (tests read and change them here). */
export function automaticDiscountsOf(store: ShopStore): Map<number, AutomaticFreeShippingRecord> {
  let discounts = byStore.get(store);
  if (!discounts) {
    discounts = new Map();
    byStore.set(store, discounts);
  }
  return discounts;
}

function discountView(ctx: ResolverContext, discount: AutomaticFreeShippingRecord): View {
  const segments = discount.segmentIds.flatMap((id) => {
    const segment = segmentsOf(ctx.store).get(id);
    return segment ? [segmentView(segment)] : [];
  });
  const summary = 'Free shipping on entire order';
  return {
    __typename: 'DiscountAutomaticFreeShipping',
    title: discount.title,
    status: discountStatus(
      // discountStatus reads the window only.
      { startsAt: discount.startsAt, endsAt: discount.endsAt } as Parameters<
        typeof discountStatus
      >[0],
      ctx.now,
    ),
    startsAt: dateTime(discount.startsAt),
    endsAt: discount.endsAt === null ? null : dateTime(discount.endsAt),
    createdAt: dateTime(discount.createdAt),
    updatedAt: dateTime(discount.updatedAt),
    summary,
    shortSummary: summary,
    discountClasses: ['SHIPPING'],
    discountClass: 'SHIPPING',
    asyncUsageCount: 0,
    recurringCycleLimit: 0,
    hasTimelineComment: false,
    appliesOnOneTimePurchase: true,
    appliesOnSubscription: false,
    tags: [],
    maximumShippingPrice: null,
    minimumRequirement: null,
    combinesWith: { ...discount.combinesWith, productDiscountsWithTagsOnSameCartLine: null },
    context: discount.all
      ? { __typename: 'DiscountBuyerSelectionAll', all: 'ALL' }
      : { __typename: 'DiscountCustomerSegments', segments },
    destinationSelection:
      discount.destination.kind === 'all'
        ? { __typename: 'DiscountCountryAll', allCountries: true }
        : {
            __typename: 'DiscountCountries',
            countries: discount.destination.countries,
            includeRestOfWorld: discount.destination.includeRestOfWorld,
          },
  };
}

function nodeView(ctx: ResolverContext, discount: AutomaticFreeShippingRecord): View {
  return {
    __typename: 'DiscountAutomaticNode',
    id: gid('DiscountAutomaticNode', discount.id),
    automaticDiscount: discountView(ctx, discount),
  };
}

/** The one discountNodes filter the emulator answers: Laurel's automatic free shipping by segment. */
const SEGMENT_FREE_SHIPPING = 'method:automatic discount_type:free_shipping context:segment';

export function discountNodes(
  ctx: ResolverContext,
  args: PageArgs & { query?: string | null; savedSearchId?: string | null; sortKey?: string },
): View {
  const query = args.query?.trim().split(/\s+/).sort().join(' ');
  if (query !== SEGMENT_FREE_SHIPPING.split(' ').sort().join(' ') || args.savedSearchId) {
    throw notImplemented(`discountNodes(query: ${JSON.stringify(args.query ?? null)})`);
  }
  if (args.sortKey && args.sortKey !== 'ID') throw notImplemented(`sortKey ${args.sortKey}`);
  const matching = [...automaticDiscountsOf(ctx.store).values()]
    .filter((d) => !d.all)
    .sort((a, b) => a.id - b.id);
  return connection(
    matching,
    args,
    (d) => d.id,
    (d) => ({
      __typename: 'DiscountNode',
      id: gid('DiscountAutomaticNode', d.id),
      discount: discountView(ctx, d),
    }),
  );
}

export function automaticDiscountNode(ctx: ResolverContext, id: string): View | null {
  const numeric = idOfType(id, 'DiscountAutomaticNode');
  const discount = numeric === undefined ? undefined : automaticDiscountsOf(ctx.store).get(numeric);
  return discount ? nodeView(ctx, discount) : null;
}

interface AutomaticFreeShippingInput {
  title?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  context?: {
    all?: string | null;
    customerSegments?: { add?: string[] | null; remove?: string[] | null } | null;
    customers?: unknown;
    markets?: unknown;
  } | null;
  destination?: { all?: boolean | null; countries?: unknown } | null;
  combinesWith?: {
    orderDiscounts?: boolean | null;
    productDiscounts?: boolean | null;
    shippingDiscounts?: boolean | null;
  } | null;
  minimumRequirement?: unknown;
  maximumShippingPrice?: unknown;
  recurringCycleLimit?: number | null;
  tags?: string[] | null;
}

export function discountAutomaticFreeShippingCreate(ctx: ResolverContext, args: Args): View {
  const input = args.freeShippingAutomaticDiscount as AutomaticFreeShippingInput;
  if (input.minimumRequirement || input.maximumShippingPrice || input.recurringCycleLimit)
    throw notImplemented(
      'minimum requirements, maximum shipping price and cycles on automatic discounts',
    );
  if (input.context?.customers || input.context?.markets)
    throw notImplemented('automatic discount context by customers or markets');
  if (input.destination?.countries)
    throw notImplemented('automatic free shipping to listed countries');
  if (input.tags?.length) throw notImplemented('tags on automatic discounts');
  const errors: UserErrorOut[] = [];
  const problem = (path: string[], message: string, code: string) =>
    errors.push({
      field: ['freeShippingAutomaticDiscount', ...path],
      message,
      code,
      extraInfo: null,
    });

  const title = input.title?.trim() ?? '';
  if (title === '') problem(['title'], "Title can't be blank", 'BLANK');
  const startsAt = input.startsAt ? Date.parse(input.startsAt) : undefined;
  if (startsAt === undefined) problem(['startsAt'], "Starts at can't be blank", 'BLANK');
  const endsAt = input.endsAt ? Date.parse(input.endsAt) : null;
  if (startsAt !== undefined && endsAt !== null && endsAt <= startsAt)
    problem(['endsAt'], 'Ends at needs to be after starts_at', 'END_DATE_BEFORE_START_DATE');
  if (!input.destination?.all) problem(['destination'], "Destination can't be blank", 'BLANK');
  const segmentIds: number[] = [];
  let all = false;
  if (input.context?.customerSegments) {
    if (input.context.customerSegments.remove?.length)
      problem(
        ['context', 'customerSegments', 'remove'],
        'Segments to remove cannot be given when creating a discount',
        'INVALID',
      );
    const add = input.context.customerSegments.add ?? [];
    if (add.length === 0)
      problem(
        ['context', 'customerSegments', 'add'],
        'Customer segments must not be empty',
        'BLANK',
      );
    add.forEach((id, index) => {
      const segment = findSegment(ctx, id);
      if (!segment)
        problem(
          ['context', 'customerSegments', 'add', String(index)],
          `Segment ${id} does not exist`,
          'INVALID',
        );
      else if (!segmentIds.includes(segment.id)) segmentIds.push(segment.id);
    });
  } else if (input.context?.all) {
    all = true;
  } else {
    problem(['context'], "Context can't be blank", 'BLANK');
  }
  if (errors.length > 0 || startsAt === undefined) {
    return { automaticDiscountNode: null, userErrors: errors };
  }
  const record: AutomaticFreeShippingRecord = {
    id: ctx.state.id(),
    title,
    startsAt,
    endsAt,
    segmentIds,
    all,
    destination: { kind: 'all' },
    combinesWith: {
      orderDiscounts: input.combinesWith?.orderDiscounts ?? false,
      productDiscounts: input.combinesWith?.productDiscounts ?? false,
      shippingDiscounts: input.combinesWith?.shippingDiscounts ?? false,
    },
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  automaticDiscountsOf(ctx.store).set(record.id, record);
  return { automaticDiscountNode: nodeView(ctx, record), userErrors: [] };
}

export function discountAutomaticDelete(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.id, 'DiscountAutomaticNode');
  const discounts = automaticDiscountsOf(ctx.store);
  if (numeric === undefined || !discounts.has(numeric)) {
    return {
      deletedAutomaticDiscountId: null,
      userErrors: [
        { field: ['id'], message: 'Discount does not exist', code: 'INVALID', extraInfo: null },
      ],
    };
  }
  discounts.delete(numeric);
  return { deletedAutomaticDiscountId: gid('DiscountAutomaticNode', numeric), userErrors: [] };
}
