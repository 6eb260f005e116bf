import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type View,
} from './connections';
import type { CustomerRecord, ShopStore } from './state';
import { dateTime, gid, idOfType, notImplemented } from './values';

/**
 * Customer segments: the list, one by id, and segmentCreate/Update/Delete. The emulator models the
 * two kinds of segment query Laurel writes — customers carrying a tag,
 * `customer_tags CONTAINS 'laurel-tier-gold'` (a tier), and customers who have never ordered,
 * `number_of_orders = 0` (the referral friend discount's new customers) — and refuses any other as
 * not implemented, so a test cannot pass on a query Shopify would read differently.
 */

/** Who a segment holds: customers with a tag, or customers with no orders. */
export type SegmentCondition = { kind: 'tag'; tag: string } | { kind: 'no-orders' };

export interface SegmentRecord {
  id: number;
  name: string;
  query: string;
  condition: SegmentCondition;
  createdAt: number;
  updatedAt: number;
}

const segmentsByStore = new WeakMap<ShopStore, Map<number, SegmentRecord>>();

/** The shop's segments (tests read and change them here). */
export function segmentsOf(store: ShopStore): Map<number, SegmentRecord> {
  let segments = segmentsByStore.get(store);
  if (!segments) {
    segments = new Map();
    segmentsByStore.set(store, segments);
  }
  return segments;
}

const TAG_QUERY = /^customer_tags CONTAINS '((?:[^'\\]|\\.)+)'$/;
/** ShopifyQL is case-insensitive in its keywords and spacing; the fact name is lower case. */
const NO_ORDERS_QUERY = /^number_of_orders\s*=\s*0$/;

/** What a query selects; queries other than the two Laurel writes are outside the emulator. */
function conditionOf(query: string): SegmentCondition {
  const trimmed = query.trim();
  const match = TAG_QUERY.exec(trimmed);
  if (match) return { kind: 'tag', tag: match[1]!.replace(/\\(.)/g, '$1') };
  if (NO_ORDERS_QUERY.test(trimmed)) return { kind: 'no-orders' };
  throw notImplemented(`segment query ${JSON.stringify(query)}`);
}

/**
 * Whether a customer is in the segment, from what the emulator stores of them: their tags (matched
 * case-insensitively, as Shopify does) and their order count (orders seeded with addOrder count).
 * Given only tags, a segment on orders cannot be answered.
 */
export function inSegment(
  segment: SegmentRecord,
  customer: readonly string[] | Pick<CustomerRecord, 'tags' | 'numberOfOrders'>,
): boolean {
  const condition = segment.condition;
  const tags = Array.isArray(customer)
    ? (customer as readonly string[])
    : (customer as Pick<CustomerRecord, 'tags'>).tags;
  if (condition.kind === 'tag') {
    return tags.some((t) => t.toLowerCase() === condition.tag.toLowerCase());
  }
  if (Array.isArray(customer)) {
    throw new Error(`inSegment: segment ${segment.name} is about orders; pass the customer`);
  }
  return (customer as Pick<CustomerRecord, 'numberOfOrders'>).numberOfOrders === 0;
}

/** The shop's customers in the segment, lowest id first. */
export function segmentMembers(store: ShopStore, segment: SegmentRecord): CustomerRecord[] {
  return [...store.customers.values()]
    .filter((c) => inSegment(segment, c))
    .sort((a, b) => a.id - b.id);
}

export function segmentView(segment: SegmentRecord): View {
  return {
    __typename: 'Segment',
    id: gid('Segment', segment.id),
    name: segment.name,
    query: segment.query,
    creationDate: dateTime(segment.createdAt),
    lastEditDate: dateTime(segment.updatedAt),
  };
}

export function segmentsConnection(
  ctx: ResolverContext,
  args: PageArgs & { query?: string | null },
) {
  if (args.query) throw notImplemented('segments(query:)');
  const all = [...segmentsOf(ctx.store).values()].sort((a, b) => a.id - b.id);
  return connection(all, args, (s) => s.id, segmentView);
}

export function segmentById(ctx: ResolverContext, id: string): View | null {
  const numeric = idOfType(id, 'Segment');
  const segment = numeric === undefined ? undefined : segmentsOf(ctx.store).get(numeric);
  return segment ? segmentView(segment) : null;
}

function nameProblem(ctx: ResolverContext, name: string, except?: number) {
  const trimmed = name.trim();
  if (trimmed === '') return { field: ['name'], message: "Name can't be blank" };
  if (trimmed.length > 255)
    return { field: ['name'], message: 'Name is too long (maximum is 255 characters)' };
  const taken = [...segmentsOf(ctx.store).values()].some(
    (s) => s.id !== except && s.name.toLowerCase() === trimmed.toLowerCase(),
  );
  return taken ? { field: ['name'], message: 'Name has already been taken' } : undefined;
}

export function segmentCreate(ctx: ResolverContext, args: Args): View {
  const name = args.name as string;
  const query = args.query as string;
  const problem = nameProblem(ctx, name);
  if (problem) return { segment: null, userErrors: [problem] };
  const segment: SegmentRecord = {
    id: ctx.state.id(),
    name: name.trim(),
    query,
    condition: conditionOf(query),
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  segmentsOf(ctx.store).set(segment.id, segment);
  return { segment: segmentView(segment), userErrors: [] };
}

export function segmentUpdate(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.id, 'Segment');
  const segment = numeric === undefined ? undefined : segmentsOf(ctx.store).get(numeric);
  if (!segment)
    return { segment: null, userErrors: [{ field: ['id'], message: 'Segment does not exist' }] };
  const name = args.name as string | null | undefined;
  const query = args.query as string | null | undefined;
  if (name !== null && name !== undefined) {
    const problem = nameProblem(ctx, name, segment.id);
    if (problem) return { segment: null, userErrors: [problem] };
  }
  const condition = query === null || query === undefined ? segment.condition : conditionOf(query);
  if (name !== null && name !== undefined) segment.name = name.trim();
  if (query !== null && query !== undefined) {
    segment.query = query;
    segment.condition = condition;
  }
  segment.updatedAt = ctx.now;
  return { segment: segmentView(segment), userErrors: [] };
}

export function segmentDelete(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.id, 'Segment');
  const segments = segmentsOf(ctx.store);
  if (numeric === undefined || !segments.has(numeric)) {
    return {
      deletedSegmentId: null,
      userErrors: [{ field: ['id'], message: 'Segment does not exist' }],
    };
  }
  segments.delete(numeric);
  return { deletedSegmentId: gid('Segment', numeric), userErrors: [] };
}

/** A segment a discount names, or undefined when there is none with that id. */
export function findSegment(ctx: ResolverContext, id: string): SegmentRecord | undefined {
  const numeric = idOfType(id, 'Segment');
  return numeric === undefined ? undefined : segmentsOf(ctx.store).get(numeric);
}
