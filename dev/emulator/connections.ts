import { GraphQLError } from 'graphql';
import type { EmulatorState, ShopStore } from './state';
import { notImplemented } from './values';

/**
 * What every resolver module shares: the request context, the shape of views and user errors, and
 * Relay connections over the emulator's in-memory records.
 */

export interface ResolverContext {
  state: EmulatorState;
  store: ShopStore;
  /** Time of the request (ms). */
  now: number;
}

export type Args = Record<string, unknown>;
export type View = Record<string, unknown>;

export interface UserErrorOut {
  field: string[] | null;
  message: string;
  code?: string | null;
  elementIndex?: number | null;
  extraInfo?: string | null;
}

const MAX_PAGE_SIZE = 250;

export interface PageArgs {
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

export function connection<T>(
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

export function sorted<T extends { id: number }>(
  items: T[],
  sortKey: string,
  keys: Record<string, ((item: T) => number) | undefined>,
): T[] {
  const keyOf = keys[sortKey];
  if (!keyOf) throw notImplemented(`sortKey ${sortKey}`);
  // Ties broken by id so pages are stable.
  return [...items].sort((a, b) => keyOf(a) - keyOf(b) || a.id - b.id);
}
