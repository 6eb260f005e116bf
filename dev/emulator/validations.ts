import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';
import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type UserErrorOut,
  type View,
} from './connections';
import { metafieldFields, writeMetafields } from './metafields';
import { gid, idOfType, notImplemented } from './values';

/**
 * Cart and checkout validations: the app's deployed Shopify Functions (read from the extension
 * TOML files, as `shopify app deploy` publishes them), `validationCreate` to install one on a
 * shop, `validations` / `validation(id:)` to read them back, and metafields on a validation (the
 * Function's input variables). The Function itself never runs here: its logic is tested in
 * extensions/laurel-early-access/tests.
 */

/** A Function the app has deployed: its handle and the Function API it implements. */
export interface DeployedFunction {
  handle: string;
  /** Shopify's apiType, e.g. `cart_checkout_validation`. */
  apiType: string;
  title: string;
}

export interface ValidationRecord {
  id: number;
  functionHandle: string;
  title: string;
  enabled: boolean;
  blockOnFailure: boolean;
  createdAt: number;
}

/** Shopify allows this many active validations per shop. */
export const MAX_ACTIVE_VALIDATIONS = 25;

/** Function targets → apiType, for the Function APIs Laurel may deploy. */
const API_TYPES: Record<string, string> = {
  'cart.validations.generate.run': 'cart_checkout_validation',
  'purchase.validation.run': 'cart_checkout_validation',
};

type Table = Record<string, unknown>;
const isTable = (value: unknown): value is Table =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The Functions among the extensions in `extensionsDir` (each `<dir>/shopify.extension.toml` with
 * `type = "function"`), as deploy publishes them. A function whose target is not a validation is
 * listed with apiType `other`.
 */
export function deployedFunctionsIn(extensionsDir: string): DeployedFunction[] {
  if (!existsSync(extensionsDir)) return [];
  const found: DeployedFunction[] = [];
  for (const entry of readdirSync(extensionsDir, { withFileTypes: true })) {
    const file = path.join(extensionsDir, entry.name, 'shopify.extension.toml');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const config = parse(readFileSync(file, 'utf8')) as Table;
    const extensions = Array.isArray(config.extensions) ? config.extensions : [];
    for (const extension of extensions) {
      if (!isTable(extension) || extension.type !== 'function') continue;
      const targets = Array.isArray(extension.targeting) ? extension.targeting : [];
      const target = targets.find(isTable)?.target;
      found.push({
        handle: String(extension.handle),
        apiType: API_TYPES[String(target)] ?? 'other',
        title: String(extension.name ?? extension.handle),
      });
    }
  }
  return found;
}

export function validationView(ctx: ResolverContext, validation: ValidationRecord): View {
  const ownerGid = gid('Validation', validation.id);
  const fn = ctx.state.functions.find((f) => f.handle === validation.functionHandle);
  return {
    __typename: 'Validation',
    id: ownerGid,
    title: validation.title,
    enabled: validation.enabled,
    blockOnFailure: validation.blockOnFailure,
    shopifyFunction: {
      __typename: 'ShopifyFunction',
      id: validation.functionHandle,
      handle: validation.functionHandle,
      title: fn?.title ?? validation.functionHandle,
      apiType: fn?.apiType ?? 'cart_checkout_validation',
    },
    ...metafieldFields(ctx, ownerGid),
  };
}

export function validationsConnection(
  ctx: ResolverContext,
  args: PageArgs & { sortKey?: string | null },
): View {
  if (args.sortKey && args.sortKey !== 'ID')
    throw notImplemented(`validations(sortKey: ${args.sortKey})`);
  const all = [...ctx.store.validations.values()].sort((a, b) => a.id - b.id);
  return connection(
    all,
    args,
    (v) => v.id,
    (v) => validationView(ctx, v),
  );
}

export function validationById(ctx: ResolverContext, id: string): View | null {
  const numeric = idOfType(id, 'Validation');
  const found = numeric === undefined ? undefined : ctx.store.validations.get(numeric);
  return found ? validationView(ctx, found) : null;
}

export function validationCreate(ctx: ResolverContext, args: Args): View {
  const input = args.validation as {
    functionHandle?: string | null;
    functionId?: string | null;
    title?: string | null;
    enable?: boolean | null;
    blockOnFailure?: boolean | null;
    metafields?: Array<{
      id?: string | null;
      namespace?: string | null;
      key?: string | null;
      type?: string | null;
      value?: string | null;
    }> | null;
  };
  const refuse = (field: string[], message: string, code: string): View => ({
    validation: null,
    userErrors: [{ field, message, code } satisfies UserErrorOut],
  });
  if (input.functionId) throw notImplemented('ValidationCreateInput.functionId (deprecated)');
  if (!input.functionHandle) {
    return refuse(
      ['validation', 'functionHandle'],
      'Either function_id or function_handle must be provided.',
      'MISSING_FUNCTION_IDENTIFIER',
    );
  }
  const fn = ctx.state.functions.find((f) => f.handle === input.functionHandle);
  if (!fn) {
    return refuse(
      ['validation', 'functionHandle'],
      `Function ${input.functionHandle} not found. Ensure that it is released in the current app, and that the app is installed.`,
      'FUNCTION_NOT_FOUND',
    );
  }
  if (fn.apiType !== 'cart_checkout_validation') {
    return refuse(
      ['validation', 'functionHandle'],
      'Unexpected Function API. The provided function must implement the cart and checkout validation API.',
      'FUNCTION_DOES_NOT_IMPLEMENT',
    );
  }
  const enable = input.enable ?? false;
  const active = [...ctx.store.validations.values()].filter((v) => v.enabled).length;
  if (enable && active >= MAX_ACTIVE_VALIDATIONS) {
    return refuse(
      ['validation'],
      `Cannot have more than ${MAX_ACTIVE_VALIDATIONS} active validation functions.`,
      'MAX_VALIDATIONS_ACTIVATED',
    );
  }
  const record: ValidationRecord = {
    id: ctx.state.id(),
    functionHandle: fn.handle,
    title: input.title?.trim() || fn.title,
    enabled: enable,
    blockOnFailure: input.blockOnFailure ?? false,
    createdAt: ctx.now,
  };
  ctx.store.validations.set(record.id, record);
  // The metafields go through the same rules as metafieldsSet; one refused undoes the create (the
  // server restores the shop when a mutation raises, so the userErrors are answered explicitly).
  const metafields = input.metafields ?? [];
  if (metafields.some((m) => m.id)) throw notImplemented('MetafieldInput.id');
  if (metafields.length > 0) {
    const ownerId = gid('Validation', record.id);
    const result = writeMetafields(
      ctx,
      metafields.map((m) => ({
        ownerId,
        namespace: m.namespace,
        key: m.key ?? '',
        type: m.type,
        value: m.value ?? '',
      })),
    );
    if (result.userErrors.length > 0) {
      ctx.store.validations.delete(record.id);
      return {
        validation: null,
        userErrors: result.userErrors.map((e) => ({
          field: ['validation', 'metafields', ...(e.field ?? []).slice(1)],
          message: e.message,
          code: e.code === 'INVALID_TYPE' ? 'INVALID_TYPE' : 'INVALID_VALUE',
        })),
      };
    }
  }
  return { validation: validationView(ctx, record), userErrors: [] };
}
