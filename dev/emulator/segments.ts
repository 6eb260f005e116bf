import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type View,
} from './connections';
import type { ShopStore } from './state';
import { dateTime, gid, idOfType, notImplemented } from './values';

/**
 * Customer segments: the list, one by id, and segmentCreate/Update/Delete. The emulator models the
 * one kind of segment query Laurel writes — customers carrying a tag,
 * `customer_tags CONTAINS 'laurel-tier-gold'` — and refuses any other as not implemented, so a
 * test cannot pass on a query Shopify would read differently.
 */

export interface SegmentRecord {
  id: number;
  name: string;
  query: string;
  /** The tag the query selects. */
  tag: string;
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

/** The tag of `customer_tags CONTAINS '<tag>'`; other queries are outside the emulator. */
function tagOf(query: string): string {
  const match = TAG_QUERY.exec(query.trim());
  if (!match) throw notImplemented(`segment query ${JSON.stringify(query)}`);
  return match[1]!.replace(/\\(.)/g, '$1');
}

/** Whether a customer with `tags` is in the segment (Shopify matches tags case-insensitively). */
export function inSegment(segment: SegmentRecord, tags: readonly string[]): boolean {
  return tags.some((t) => t.toLowerCase() === segment.tag.toLowerCase());
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
    tag: tagOf(query),
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
  const tag = query === null || query === undefined ? segment.tag : tagOf(query);
  if (name !== null && name !== undefined) segment.name = name.trim();
  if (query !== null && query !== undefined) {
    segment.query = query;
    segment.tag = tag;
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
