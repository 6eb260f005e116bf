import { collectionById } from './collections';
import type { Args, PageArgs, ResolverContext, View } from './connections';
import { customerById, customersConnection } from './customers';
import {
  discountCodeBasicCreate,
  discountCodeDeactivate,
  discountNodeByCode,
  discountNodeById,
} from './discounts';
import { discountCodeActivate, discountCodeBasicUpdate } from './discounts-update';
import {
  automaticDiscountNode,
  discountNodes,
  discountAutomaticDelete,
  discountAutomaticFreeShippingCreate,
} from './discounts-automatic';
import { discountCodeFreeShippingCreate } from './discounts-free-shipping';
import {
  appInstallationView,
  metafieldDefinitionCreate,
  metafieldDefinitions,
  metafieldsDelete,
  metafieldsSet,
} from './metafields';
import { orderById, ordersConnection } from './orders';
import { productById, productVariantById } from './products';
import { discountRedeemCodeBulkAdd, discountRedeemCodeBulkCreation } from './redeem-codes';
import {
  segmentById,
  segmentCreate,
  segmentDelete,
  segmentsConnection,
  segmentUpdate,
} from './segments';
import { shopView } from './shop';
import { changeStoreCredit } from './store-credit';
import { changeTags } from './tags';
import { validationById, validationCreate, validationsConnection } from './validations';

export type { ResolverContext } from './connections';

/**
 * The operations Laurel uses, over the emulator's state. Views are plain objects whose properties
 * are values or functions of the field's arguments; a field with no property is answered with
 * "not implemented by the Laurel emulator: Type.field" (see server.ts), never a silent null.
 * Objects behind interfaces and unions carry `__typename` for type resolution.
 */

export function queryRoot(ctx: ResolverContext): View {
  return {
    shop: () => shopView(ctx),
    customer: ({ id }: { id: string }) => customerById(ctx, id),
    customers: (args: PageArgs & { query?: string | null; sortKey?: string }) =>
      customersConnection(ctx, args),
    order: ({ id }: { id: string }) => orderById(ctx, id),
    orders: (args: PageArgs & { query?: string | null; sortKey?: string }) =>
      ordersConnection(ctx, args),
    codeDiscountNodeByCode: ({ code }: { code: string }) => discountNodeByCode(ctx, code),
    discountNode: ({ id }: { id: string }) => discountNodeById(ctx, id),
    discountRedeemCodeBulkCreation: ({ id }: { id: string }) =>
      discountRedeemCodeBulkCreation(ctx, id),
    product: ({ id }: { id: string }) => productById(ctx, id),
    productVariant: ({ id }: { id: string }) => productVariantById(ctx, id),
    collection: ({ id }: { id: string }) => collectionById(ctx, id),
    validation: ({ id }: { id: string }) => validationById(ctx, id),
    validations: (args: PageArgs & { sortKey?: string | null }) => validationsConnection(ctx, args),
    currentAppInstallation: () => appInstallationView(ctx),
    metafieldDefinitions: (args: Parameters<typeof metafieldDefinitions>[1]) =>
      metafieldDefinitions(ctx, args),
    segments: (args: PageArgs & { query?: string | null }) => segmentsConnection(ctx, args),
    segment: ({ id }: { id: string }) => segmentById(ctx, id),
    discountNodes: (args: Parameters<typeof discountNodes>[1]) => discountNodes(ctx, args),
    automaticDiscountNode: ({ id }: { id: string }) => automaticDiscountNode(ctx, id),
  };
}

export function mutationRoot(ctx: ResolverContext): View {
  return {
    metafieldsSet: (args: Args) => metafieldsSet(ctx, args),
    metafieldsDelete: (args: Args) => metafieldsDelete(ctx, args),
    validationCreate: (args: Args) => validationCreate(ctx, args),
    metafieldDefinitionCreate: (args: Args) => metafieldDefinitionCreate(ctx, args),
    tagsAdd: (args: Args) => changeTags(ctx, args, 'add'),
    tagsRemove: (args: Args) => changeTags(ctx, args, 'remove'),
    discountCodeBasicCreate: (args: Args) => discountCodeBasicCreate(ctx, args),
    discountCodeFreeShippingCreate: (args: Args) => discountCodeFreeShippingCreate(ctx, args),
    discountCodeDeactivate: (args: Args) => discountCodeDeactivate(ctx, args),
    discountCodeActivate: (args: Args) => discountCodeActivate(ctx, args),
    discountCodeBasicUpdate: (args: Args) => discountCodeBasicUpdate(ctx, args),
    discountRedeemCodeBulkAdd: (args: Args) => discountRedeemCodeBulkAdd(ctx, args),
    storeCreditAccountCredit: (args: Args) => changeStoreCredit(ctx, args, 'credit'),
    storeCreditAccountDebit: (args: Args) => changeStoreCredit(ctx, args, 'debit'),
    segmentCreate: (args: Args) => segmentCreate(ctx, args),
    segmentUpdate: (args: Args) => segmentUpdate(ctx, args),
    segmentDelete: (args: Args) => segmentDelete(ctx, args),
    discountAutomaticFreeShippingCreate: (args: Args) =>
      discountAutomaticFreeShippingCreate(ctx, args),
    discountAutomaticDelete: (args: Args) => discountAutomaticDelete(ctx, args),
  };
}
