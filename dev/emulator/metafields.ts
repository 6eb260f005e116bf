import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type UserErrorOut,
  type View,
} from './connections';
import { collectionView } from './collections';
import { customerView } from './customers';
import { orderView } from './orders';
import { productView } from './products';
import { shopView } from './shop';
import { metafieldDigest, type MetafieldDefinitionRecord, type MetafieldRecord } from './state';
import { validationView } from './validations';
import { dateTime, gid, notImplemented, parseGid } from './values';

/**
 * Metafields on every owner (customers, orders, products, collections, the shop, the app's
 * installation, cart validations), their definitions, and the mutations that write and delete them.
 */

export function metafieldView(ctx: ResolverContext, metafield: MetafieldRecord): View {
  return {
    __typename: 'Metafield',
    id: gid('Metafield', metafield.id),
    legacyResourceId: String(metafield.id),
    namespace: metafield.namespace,
    key: metafield.key,
    type: metafield.type,
    value: metafield.value,
    jsonValue: jsonValue(metafield),
    compareDigest: metafieldDigest(metafield),
    createdAt: dateTime(metafield.createdAt),
    updatedAt: dateTime(metafield.updatedAt),
    ownerType: ownerTypeOf(metafield.ownerGid),
    owner: () => ownerView(ctx, metafield.ownerGid),
  };
}

export function metafieldFields(ctx: ResolverContext, ownerGid: string): View {
  const owned = () => [...ctx.store.metafields.values()].filter((m) => m.ownerGid === ownerGid);
  return {
    metafield: ({ namespace, key }: { namespace?: string | null; key: string }) => {
      const resolved = ctx.state.resolveNamespace(namespace);
      const found = owned().find((m) => m.namespace === resolved && m.key === key);
      return found ? metafieldView(ctx, found) : null;
    },
    metafields: (args: PageArgs & { namespace?: string | null; keys?: string[] | null }) => {
      const namespace =
        args.namespace === undefined || args.namespace === null
          ? undefined
          : ctx.state.resolveNamespace(args.namespace);
      const keys = args.keys?.map((k) => {
        const dot = k.lastIndexOf('.');
        return `${ctx.state.resolveNamespace(k.slice(0, dot))}.${k.slice(dot + 1)}`;
      });
      const matching = owned().filter(
        (m) =>
          (namespace === undefined || m.namespace === namespace) &&
          (keys === undefined || keys.includes(`${m.namespace}.${m.key}`)),
      );
      return connection(
        matching,
        args,
        (m) => m.id,
        (m) => metafieldView(ctx, m),
      );
    },
  };
}

function ownerView(ctx: ResolverContext, ownerGid: string): View | null {
  const { type, id } = parseGid(ownerGid);
  if (type === 'Customer') {
    const customer = ctx.store.customers.get(id);
    return customer ? customerView(ctx, customer) : null;
  }
  if (type === 'Order') {
    const order = ctx.store.orders.get(id);
    return order ? orderView(ctx, order) : null;
  }
  if (type === 'Product') {
    const product = ctx.store.products.get(id);
    return product ? productView(ctx, product) : null;
  }
  if (type === 'Collection') {
    const collection = ctx.store.collections.get(id);
    return collection ? collectionView(ctx, collection) : null;
  }
  if (type === 'Validation') {
    const validation = ctx.store.validations.get(id);
    return validation ? validationView(ctx, validation) : null;
  }
  if (type === 'Shop') return id === ctx.store.shopId ? shopView(ctx) : null;
  if (type === 'AppInstallation') {
    return id === ctx.store.appInstallationId ? appInstallationView(ctx) : null;
  }
  return null;
}

function ownerTypeOf(ownerGid: string): string {
  return (
    // Shopify reports app-data metafields (owned by the installation) as API_PERMISSION.
    {
      Customer: 'CUSTOMER',
      Order: 'ORDER',
      Product: 'PRODUCT',
      Collection: 'COLLECTION',
      Validation: 'VALIDATION',
      Shop: 'SHOP',
      AppInstallation: 'API_PERMISSION',
    }[parseGid(ownerGid).type] ?? 'UNKNOWN'
  );
}

/** The app's installation on the shop; its metafields are the app-data metafields. */
export function appInstallationView(ctx: ResolverContext): View {
  const ownerGid = gid('AppInstallation', ctx.store.appInstallationId);
  return { __typename: 'AppInstallation', id: ownerGid, ...metafieldFields(ctx, ownerGid) };
}

function metafieldDefinitionView(definition: MetafieldDefinitionRecord): View {
  return {
    __typename: 'MetafieldDefinition',
    id: gid('MetafieldDefinition', definition.id),
    name: definition.name,
    namespace: definition.namespace,
    key: definition.key,
    description: definition.description,
    ownerType: definition.ownerType,
    pinnedPosition: definition.pinnedPosition,
    type: { name: definition.type, category: metafieldCategory(definition.type) },
    access: { ...definition.access },
    validations: [],
  };
}

function jsonValue(metafield: MetafieldRecord): unknown {
  switch (metafield.type) {
    case 'number_integer':
      return Number(metafield.value);
    case 'boolean':
      return metafield.value === 'true';
    case 'json':
      return JSON.parse(metafield.value);
    default:
      return metafield.value;
  }
}

export function metafieldDefinitions(
  ctx: ResolverContext,
  args: PageArgs & {
    ownerType: string;
    namespace?: string | null;
    key?: string | null;
    query?: string | null;
    pinnedStatus?: string | null;
    constraintStatus?: string | null;
    constraintSubtype?: unknown;
    sortKey?: string | null;
  },
): View {
  if (args.query || args.constraintSubtype || (args.sortKey && args.sortKey !== 'ID')) {
    throw notImplemented('metafieldDefinitions(query:, constraintSubtype:, sortKey:)');
  }
  if (args.pinnedStatus && args.pinnedStatus !== 'ANY') {
    throw notImplemented('metafieldDefinitions(pinnedStatus:)');
  }
  const namespace =
    args.namespace === undefined || args.namespace === null
      ? undefined
      : ctx.state.resolveNamespace(args.namespace);
  const definitions = [...ctx.store.definitions.values()]
    .filter(
      (d) =>
        d.ownerType === args.ownerType &&
        (namespace === undefined || d.namespace === namespace) &&
        (args.key === undefined || args.key === null || d.key === args.key),
    )
    .sort((a, b) => a.id - b.id);
  return connection(definitions, args, (d) => d.id, metafieldDefinitionView);
}

const METAFIELD_TYPES = new Set([
  'boolean',
  'color',
  'date',
  'date_time',
  'dimension',
  'id',
  'json',
  'link',
  'money',
  'multi_line_text_field',
  'number_decimal',
  'number_integer',
  'rating',
  'rich_text_field',
  'single_line_text_field',
  'url',
  'volume',
  'weight',
  'collection_reference',
  'customer_reference',
  'file_reference',
  'metaobject_reference',
  'page_reference',
  'product_reference',
  'variant_reference',
]);

function isMetafieldType(type: string): boolean {
  return (
    METAFIELD_TYPES.has(type) || (type.startsWith('list.') && METAFIELD_TYPES.has(type.slice(5)))
  );
}

/** Why `value` is not valid for `type`, or null. Types without a rule here are stored as given. */
function metafieldValueProblem(type: string, value: string): string | null {
  switch (type) {
    case 'number_integer':
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value))
        ? null
        : `Value must be an integer.`;
    case 'number_decimal':
      return /^-?\d+(\.\d+)?$/.test(value) ? null : 'Value must be a decimal.';
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'Value must be true or false.';
    case 'single_line_text_field':
      return /[\r\n]/.test(value) ? 'Value must be a single line.' : null;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : 'Value must be a date in YYYY-MM-DD format.';
    case 'date_time':
      return Number.isNaN(Date.parse(value)) ? 'Value must be an ISO 8601 date-time.' : null;
    case 'url':
      return URL.canParse(value) ? null : 'Value must be a URL.';
    case 'json':
      try {
        JSON.parse(value);
        return null;
      } catch {
        return 'Value must be valid JSON.';
      }
    default:
      return null;
  }
}

const KEY = /^[A-Za-z0-9_-]+$/;

function ownerExists(ctx: ResolverContext, ownerGid: string): boolean {
  const { type, id } = parseGid(ownerGid);
  switch (type) {
    case 'Customer':
      return ctx.store.customers.has(id);
    case 'Order':
      return ctx.store.orders.has(id);
    case 'Product':
      return ctx.store.products.has(id);
    case 'Collection':
      return ctx.store.collections.has(id);
    case 'Validation':
      return ctx.store.validations.has(id);
    case 'Shop':
      return id === ctx.store.shopId;
    case 'AppInstallation':
      // An app may write metafields on its own installation only.
      return id === ctx.store.appInstallationId;
    default:
      throw notImplemented(`metafields on ${type}`);
  }
}

export interface MetafieldWrite {
  ownerId: string;
  namespace?: string | null;
  key: string;
  value: string;
  type?: string | null;
  compareDigest?: string | null;
}

export function metafieldsSet(ctx: ResolverContext, args: Args): View {
  return writeMetafields(ctx, args.metafields as MetafieldWrite[]);
}

/**
 * metafieldsSet's rules and write, all or none; also what a mutation that takes metafields on
 * the resource it creates (validationCreate) applies to them.
 */
export function writeMetafields(
  ctx: ResolverContext,
  inputs: MetafieldWrite[],
): { metafields: View[] | null; userErrors: UserErrorOut[] } {
  if (inputs.length > 25) {
    return {
      metafields: null,
      userErrors: [
        {
          field: ['metafields'],
          message: 'Exceeded the maximum metafields input limit of 25.',
          code: 'LESS_THAN_OR_EQUAL_TO',
          elementIndex: null,
        },
      ],
    };
  }
  const errors: UserErrorOut[] = [];
  const plans: Array<{
    existing?: MetafieldRecord;
    ownerGid: string;
    namespace: string;
    key: string;
    type: string;
    value: string;
  }> = [];
  inputs.forEach((input, index) => {
    const problem = (field: string, message: string, code: string) =>
      errors.push({
        field: ['metafields', String(index), field],
        message,
        code,
        elementIndex: index,
      });
    if (!ownerExists(ctx, input.ownerId))
      return problem('ownerId', 'Owner does not exist.', 'INVALID');
    const namespace = ctx.state.resolveNamespace(input.namespace);
    if (namespace.length < 3)
      return problem('namespace', 'Namespace is too short (minimum is 3 characters).', 'TOO_SHORT');
    if (namespace.length > 255)
      return problem('namespace', 'Namespace is too long (maximum is 255 characters).', 'TOO_LONG');
    if (!KEY.test(namespace))
      return problem('namespace', 'Namespace contains invalid characters.', 'INVALID');
    if (input.key.length < 2)
      return problem('key', 'Key is too short (minimum is 2 characters).', 'TOO_SHORT');
    if (input.key.length > 64)
      return problem('key', 'Key is too long (maximum is 64 characters).', 'TOO_LONG');
    if (!KEY.test(input.key)) return problem('key', 'Key contains invalid characters.', 'INVALID');

    const ownerType = ownerTypeOf(input.ownerId);
    const definition = [...ctx.store.definitions.values()].find(
      (d) => d.ownerType === ownerType && d.namespace === namespace && d.key === input.key,
    );
    const existing = [...ctx.store.metafields.values()].find(
      (m) => m.ownerGid === input.ownerId && m.namespace === namespace && m.key === input.key,
    );
    const fixedType = definition?.type ?? existing?.type;
    const type = input.type ?? fixedType;
    if (!type) return problem('type', "Type can't be blank.", 'BLANK');
    if (!isMetafieldType(type))
      return problem('type', `Type '${type}' is not a valid type.`, 'INVALID_TYPE');
    if (fixedType && type !== fixedType) {
      return problem(
        'type',
        `Type must be ${fixedType}, the type this metafield already has.`,
        'INVALID_TYPE',
      );
    }
    const valueProblem = metafieldValueProblem(type, input.value);
    if (valueProblem) return problem('value', valueProblem, 'INVALID_VALUE');
    // Absent: unconditional write. null: only if it does not exist yet. A digest: only if unchanged.
    if ('compareDigest' in input) {
      const current = existing ? metafieldDigest(existing) : null;
      if (input.compareDigest !== current) {
        return problem(
          'compareDigest',
          'The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.',
          'STALE_OBJECT',
        );
      }
    }
    if (
      plans.some(
        (p) => p.ownerGid === input.ownerId && p.namespace === namespace && p.key === input.key,
      )
    ) {
      return problem('key', 'The same metafield appears more than once in this request.', 'TAKEN');
    }
    plans.push({
      existing,
      ownerGid: input.ownerId,
      namespace,
      key: input.key,
      type,
      value: input.value,
    });
  });
  // Atomic like Shopify's: one bad input and nothing is written.
  if (errors.length > 0) return { metafields: null, userErrors: errors };

  const written = plans.map((plan) => {
    let record = plan.existing;
    if (record) {
      record.value = plan.value;
      record.type = plan.type;
      record.updatedAt = ctx.now;
      record.revision += 1;
    } else {
      record = {
        id: ctx.state.id(),
        ownerGid: plan.ownerGid,
        namespace: plan.namespace,
        key: plan.key,
        type: plan.type,
        value: plan.value,
        createdAt: ctx.now,
        updatedAt: ctx.now,
        revision: 1,
      };
      ctx.store.metafields.set(record.id, record);
    }
    return metafieldView(ctx, record);
  });
  return { metafields: written, userErrors: [] };
}

/**
 * metafieldsDelete: each identified metafield removed; one that does not exist answers null in
 * its place (not an error), as Shopify does. An unknown owner is a user error and deletes nothing.
 */
export function metafieldsDelete(ctx: ResolverContext, args: Args): View {
  const inputs = args.metafields as Array<{ ownerId: string; namespace: string; key: string }>;
  const errors: UserErrorOut[] = [];
  inputs.forEach((input, index) => {
    if (!ownerExists(ctx, input.ownerId)) {
      errors.push({
        field: ['metafields', String(index), 'ownerId'],
        message: 'Owner does not exist.',
      });
    }
  });
  if (errors.length > 0) return { deletedMetafields: null, userErrors: errors };
  const deleted = inputs.map((input) => {
    const namespace = ctx.state.resolveNamespace(input.namespace);
    const found = [...ctx.store.metafields.values()].find(
      (m) => m.ownerGid === input.ownerId && m.namespace === namespace && m.key === input.key,
    );
    if (!found) return null;
    ctx.store.metafields.delete(found.id);
    return { ownerId: input.ownerId, namespace: input.namespace, key: input.key };
  });
  return { deletedMetafields: deleted, userErrors: [] };
}

export function metafieldDefinitionCreate(ctx: ResolverContext, args: Args): View {
  const input = args.definition as {
    name: string;
    namespace?: string | null;
    key: string;
    type: string;
    ownerType: string;
    description?: string | null;
    access?: {
      admin?: string | null;
      storefront?: string | null;
      customerAccount?: string | null;
    } | null;
    capabilities?: unknown;
    constraints?: unknown;
    validations?: unknown[] | null;
  };
  if (input.capabilities || input.constraints || input.validations?.length) {
    throw notImplemented('MetafieldDefinitionInput capabilities, constraints and validations');
  }
  const namespace = ctx.state.resolveNamespace(input.namespace);
  const errors: UserErrorOut[] = [];
  const problem = (field: string, message: string, code: string) =>
    errors.push({ field: ['definition', field], message, code });
  if (input.name.trim() === '') problem('name', "Name can't be blank.", 'BLANK');
  if (namespace.length < 3 || namespace.length > 255 || !KEY.test(namespace)) {
    problem(
      'namespace',
      'Namespace must be 3-255 letters, digits, hyphens or underscores.',
      'INVALID',
    );
  }
  if (input.key.length < 2 || input.key.length > 64 || !KEY.test(input.key)) {
    problem('key', 'Key must be 2-64 letters, digits, hyphens or underscores.', 'INVALID');
  }
  if (!isMetafieldType(input.type)) problem('type', 'Type name is not a valid type.', 'INCLUSION');
  const appOwned = ctx.state.isAppNamespace(namespace);
  if (input.access?.admin && !appOwned) {
    problem(
      'access',
      'Admin access can only be specified for app-owned metafield definitions.',
      'ADMIN_ACCESS_INPUT_NOT_ALLOWED',
    );
  }
  const taken = [...ctx.store.definitions.values()].some(
    (d) => d.ownerType === input.ownerType && d.namespace === namespace && d.key === input.key,
  );
  if (taken) {
    const owner = input.ownerType.charAt(0) + input.ownerType.slice(1).toLowerCase();
    problem(
      'key',
      `Key is in use for ${owner} metafields on the '${namespace}' namespace.`,
      'TAKEN',
    );
  }
  if (errors.length > 0) return { createdDefinition: null, userErrors: errors };

  const record = {
    id: ctx.state.id(),
    ownerType: input.ownerType,
    namespace,
    key: input.key,
    name: input.name,
    description: input.description ?? null,
    type: input.type,
    access: {
      admin: input.access?.admin ?? (appOwned ? 'MERCHANT_READ' : 'PUBLIC_READ_WRITE'),
      storefront: input.access?.storefront ?? 'NONE',
      customerAccount: input.access?.customerAccount ?? 'NONE',
    },
    pinnedPosition: null,
  };
  ctx.store.definitions.set(record.id, record);
  return { createdDefinition: metafieldDefinitionView(record), userErrors: [] };
}

function metafieldCategory(type: string): string {
  if (type.endsWith('_reference')) return 'REFERENCE';
  if (type.startsWith('number') || type === 'rating') return 'NUMBER';
  if (type.includes('text')) return 'TEXT';
  if (type.startsWith('date')) return 'DATE_TIME';
  return 'OTHER';
}
