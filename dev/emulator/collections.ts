import { connection, type PageArgs, type ResolverContext, type View } from './connections';
import { metafieldFields } from './metafields';
import { productView } from './products';
import { dateTime, gid, idOfType } from './values';

/**
 * Collections, as far as Laurel reads them: an early-access window on a collection reads its
 * title and pages through its products (app/early-access.server.ts). Seeded with
 * EmulatorState.addCollection; membership is a list of product ids, as a manual collection's.
 */

export interface CollectionRecord {
  id: number;
  title: string;
  handle: string;
  /** In the collection's order. */
  productIds: number[];
  createdAt: number;
  updatedAt: number;
}

export function collectionView(ctx: ResolverContext, collection: CollectionRecord): View {
  const ownerGid = gid('Collection', collection.id);
  const products = () =>
    collection.productIds.map((id) => ctx.store.products.get(id)).filter((p) => p !== undefined);
  return {
    __typename: 'Collection',
    id: ownerGid,
    legacyResourceId: String(collection.id),
    title: collection.title,
    handle: collection.handle,
    updatedAt: dateTime(collection.updatedAt),
    products: (args: PageArgs & { sortKey?: string | null }) =>
      connection(
        products(),
        args,
        (p) => p.id,
        (p) => productView(ctx, p),
      ),
    productsCount: () => ({ count: products().length, precision: 'EXACT' }),
    ...metafieldFields(ctx, ownerGid),
  };
}

/** `collection(id:)`: null for an unknown collection or an id of another type. */
export function collectionById(ctx: ResolverContext, id: string): View | null {
  const collectionId = idOfType(id, 'Collection');
  const collection =
    collectionId === undefined ? undefined : ctx.store.collections.get(collectionId);
  return collection ? collectionView(ctx, collection) : null;
}
