import type { Args, ResolverContext, View } from './connections';
import { customerView } from './customers';
import { orderView } from './orders';
import { normalizeTags } from './state';
import { notImplemented, parseGid } from './values';

/** tagsAdd and tagsRemove on customers and orders. */

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

export function changeTags(ctx: ResolverContext, args: Args, change: 'add' | 'remove'): View {
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
