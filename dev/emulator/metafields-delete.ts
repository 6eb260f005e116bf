import type { Args, ResolverContext, View } from './connections';

/**
 * metafieldsDelete: removes metafields by owner, namespace and key. As Shopify documents it, one
 * that does not exist is not an error: its entry in `deletedMetafields` is null. Only the app may
 * delete in its own (`$app`) namespace, which is the one Laurel deletes in.
 */
export function metafieldsDelete(ctx: ResolverContext, args: Args): View {
  const inputs = args.metafields as { ownerId: string; namespace: string; key: string }[];
  const deleted = inputs.map((input) => {
    const namespace = ctx.state.resolveNamespace(input.namespace);
    const found = [...ctx.store.metafields.entries()].find(
      ([, m]) => m.ownerGid === input.ownerId && m.namespace === namespace && m.key === input.key,
    );
    if (!found) return null;
    ctx.store.metafields.delete(found[0]);
    return { ownerId: input.ownerId, namespace: input.namespace, key: input.key };
  });
  return { deletedMetafields: deleted, userErrors: [] };
}
