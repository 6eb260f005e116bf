import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';

/**
 * The metafield definitions an app declares in shopify.app.toml (`[<owner>.metafields.app.<key>]`),
 * read the way `shopify app deploy` installs them: app-owned (`$app`), with the declared type, name
 * and access. The emulator gives every shop these definitions, as Shopify does for every shop the
 * deployed app is installed on.
 */
export interface DeclaredDefinition {
  /** MetafieldOwnerType, e.g. CUSTOMER. */
  ownerType: string;
  /** Always `$app` (the only namespace TOML declarations may use). */
  namespace: '$app';
  key: string;
  type: string;
  name: string;
  description: string | null;
  /** GraphQL enum values, e.g. { admin: 'MERCHANT_READ', storefront: 'PUBLIC_READ', customerAccount: 'READ' }. */
  access: { admin: string; storefront: string; customerAccount: string };
}

/** TOML owner tables → MetafieldOwnerType (the ones Laurel may declare; others are refused). */
const OWNERS: Record<string, string> = {
  customer: 'CUSTOMER',
  order: 'ORDER',
  product: 'PRODUCT',
  shop: 'SHOP',
};
const ADMIN = { merchant_read: 'MERCHANT_READ', merchant_read_write: 'MERCHANT_READ_WRITE' };
const STOREFRONT = { none: 'NONE', public_read: 'PUBLIC_READ' };
const CUSTOMER_ACCOUNT = { none: 'NONE', read: 'READ', read_write: 'READ_WRITE' };
const KEY = /^[A-Za-z0-9_-]{2,64}$/;

type Table = Record<string, unknown>;
const isTable = (value: unknown): value is Table =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function pick<T extends Record<string, string>>(
  map: T,
  value: unknown,
  fallback: keyof T,
  where: string,
): string {
  if (value === undefined) return map[fallback]!;
  if (typeof value !== 'string' || !(value in map)) {
    throw new Error(`${where} must be one of ${Object.keys(map).join(', ')}; got ${String(value)}`);
  }
  return map[value]!;
}

/** The declared definitions in a shopify.app.toml text; throws naming what Shopify would refuse. */
export function declaredDefinitions(tomlText: string): DeclaredDefinition[] {
  const config = parse(tomlText) as Table;
  const found: DeclaredDefinition[] = [];
  for (const [owner, section] of Object.entries(config)) {
    if (!isTable(section) || !isTable(section.metafields)) continue;
    const ownerType = OWNERS[owner];
    if (!ownerType) throw new Error(`[${owner}.metafields]: owner not modelled by the emulator`);
    for (const [namespace, keys] of Object.entries(section.metafields)) {
      if (namespace !== 'app') {
        throw new Error(`[${owner}.metafields.${namespace}]: only the app namespace is declarable`);
      }
      if (!isTable(keys)) continue;
      for (const [key, spec] of Object.entries(keys)) {
        const where = `[${owner}.metafields.app.${key}]`;
        if (!KEY.test(key)) throw new Error(`${where}: key must be 2–64 letters, digits, _ or -`);
        if (!isTable(spec) || typeof spec.type !== 'string') {
          throw new Error(`${where}: type is required`);
        }
        const access = isTable(spec.access) ? spec.access : {};
        found.push({
          ownerType,
          namespace: '$app',
          key,
          type: spec.type,
          name: typeof spec.name === 'string' ? spec.name : key,
          description: typeof spec.description === 'string' ? spec.description : null,
          access: {
            admin: pick(ADMIN, access.admin, 'merchant_read', `${where} access.admin`),
            storefront: pick(STOREFRONT, access.storefront, 'none', `${where} access.storefront`),
            customerAccount: pick(
              CUSTOMER_ACCOUNT,
              access.customer_account,
              'none',
              `${where} access.customer_account`,
            ),
          },
        });
      }
    }
  }
  return found;
}

/** declaredDefinitions of a file (default: the repository's shopify.app.toml). */
export function declaredDefinitionsIn(
  path: string = new URL('../../shopify.app.toml', import.meta.url).pathname,
): DeclaredDefinition[] {
  return declaredDefinitions(readFileSync(path, 'utf8'));
}
