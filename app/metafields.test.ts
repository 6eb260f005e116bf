// shopify.app.toml ↔ app/metafields.ts: the declarations `shopify app deploy` installs are exactly
// the metafields the code writes and the extensions read.
import { readFileSync } from 'node:fs';
import { Kind, parse as parseGraphql, type OperationDefinitionNode } from 'graphql';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { declaredDefinitions } from '../dev/emulator/app-config';
import { CurrentAppInstallation } from './graphql';
import {
  CUSTOMER_METAFIELD_ACCESS,
  CUSTOMER_METAFIELD_NAMESPACE,
  CUSTOMER_METAFIELDS,
  customerGid,
  isShopifyCustomerId,
  METAFIELDS_PER_SET,
  CHECKOUT_PROGRAM_METAFIELD,
  PROGRAM_METAFIELD,
  PRODUCT_METAFIELD_ACCESS,
  PRODUCT_METAFIELDS,
} from './metafields';
import { PRODUCT_MIRROR_METAFIELD } from './early-access-sync.server';

const text = readFileSync('shopify.app.toml', 'utf8');
const toml = parse(text) as Record<string, unknown>;
const fields = Object.values(CUSTOMER_METAFIELDS);

describe('shopify.app.toml metafield declarations', () => {
  it('declares customer and product metafields under [<owner>.metafields.app] only', () => {
    const owners = Object.entries(toml)
      .filter(([, section]) => (section as { metafields?: unknown } | null)?.metafields)
      .map(([owner]) => owner);
    expect(owners).toEqual(['customer', 'product']);
    expect(Object.keys((toml.product as { metafields: object }).metafields)).toEqual(['app']);
    const metafields = (toml.customer as { metafields: Record<string, unknown> }).metafields;
    expect(Object.keys(metafields)).toEqual(['app']);
    expect(CUSTOMER_METAFIELD_NAMESPACE).toBe('$app');
  });

  it('declares exactly the keys of app/metafields.ts, in order, with their type, name and access', () => {
    const declared = (toml.customer as { metafields: { app: Record<string, unknown> } }).metafields
      .app;
    expect(Object.keys(declared)).toEqual(fields.map((f) => f.key));
    for (const field of fields) {
      expect(declared[field.key], field.key).toEqual({
        type: field.type,
        name: field.name,
        description: field.description,
        access: { ...CUSTOMER_METAFIELD_ACCESS },
      });
    }
  });

  it('makes every one readable by the storefront and customer accounts, read-only for the merchant', () => {
    expect(CUSTOMER_METAFIELD_ACCESS).toEqual({
      admin: 'merchant_read',
      storefront: 'public_read',
      customer_account: 'read',
    });
    // As Shopify installs them (the emulator's reading of the same file).
    expect(declaredDefinitions(text).filter((d) => d.ownerType === 'CUSTOMER')).toEqual(
      fields.map((f) => ({
        ownerType: 'CUSTOMER',
        namespace: '$app',
        key: f.key,
        type: f.type,
        name: f.name,
        description: f.description,
        access: { admin: 'MERCHANT_READ', storefront: 'PUBLIC_READ', customerAccount: 'READ' },
      })),
    );
  });

  it('declares the product metafields of app/metafields.ts, readable by the storefront only', () => {
    const declared = (toml.product as { metafields: { app: Record<string, unknown> } }).metafields
      .app;
    const products = Object.values(PRODUCT_METAFIELDS);
    expect(Object.keys(declared)).toEqual(products.map((f) => f.key));
    for (const field of products) {
      expect(declared[field.key], field.key).toEqual({
        type: field.type,
        name: field.name,
        description: field.description,
        access: { ...PRODUCT_METAFIELD_ACCESS },
      });
    }
    expect(declaredDefinitions(text).filter((d) => d.ownerType === 'PRODUCT')).toEqual(
      products.map((f) => ({
        ownerType: 'PRODUCT',
        namespace: '$app',
        key: f.key,
        type: f.type,
        name: f.name,
        description: f.description,
        access: { admin: 'MERCHANT_READ', storefront: 'PUBLIC_READ', customerAccount: 'NONE' },
      })),
    );
    // The sync writes the key the declaration names.
    expect(PRODUCT_MIRROR_METAFIELD).toEqual({
      namespace: '$app',
      key: PRODUCT_METAFIELDS.earlyAccess.key,
      type: PRODUCT_METAFIELDS.earlyAccess.type,
    });
  });

  it('has the contract’s keys and types', () => {
    expect(fields.map((f) => [f.key, f.type])).toEqual([
      ['points_balance', 'number_integer'],
      ['lifetime_points', 'number_integer'],
      ['tier', 'single_line_text_field'],
      ['tier_status', 'json'],
      ['referral_code', 'single_line_text_field'],
      ['points_expiring', 'json'],
    ]);
    expect(PROGRAM_METAFIELD).toEqual({ namespace: 'laurel', key: 'program', type: 'json' });
    expect(METAFIELDS_PER_SET).toBe(25);
  });

  it('fails a declaration with another type or access (so the checks above can fail)', () => {
    const wrongType = text.replace(
      /(\[customer\.metafields\.app\.points_balance\]\ntype = )"number_integer"/,
      '$1"number_decimal"',
    );
    expect(wrongType).not.toBe(text);
    expect(declaredDefinitions(wrongType)[0]?.type).toBe('number_decimal');
    expect(() =>
      declaredDefinitions(
        text.replace('access.storefront = "public_read"', 'access.storefront = "public"'),
      ),
    ).toThrow(/access\.storefront must be one of none, public_read; got public/);
  });
});

describe('the program summary document', () => {
  it('reads back the app-data metafield Laurel writes', () => {
    const operation = parseGraphql(CurrentAppInstallation.source)
      .definitions[0] as OperationDefinitionNode;
    const defaults = Object.fromEntries(
      (operation.variableDefinitions ?? []).map((v) => [
        v.variable.name.value,
        v.defaultValue?.kind === Kind.STRING ? v.defaultValue.value : undefined,
      ]),
    );
    expect(defaults).toEqual({
      programNamespace: PROGRAM_METAFIELD.namespace,
      programKey: PROGRAM_METAFIELD.key,
      checkoutNamespace: CHECKOUT_PROGRAM_METAFIELD.namespace,
    });
    expect(CHECKOUT_PROGRAM_METAFIELD.key).toBe(PROGRAM_METAFIELD.key);
  });
});

describe('customer ids', () => {
  it('writes to the Shopify customer of a numeric id, and to nothing else', () => {
    expect(customerGid('6012345678901')).toBe('gid://shopify/Customer/6012345678901');
    expect(isShopifyCustomerId('6012345678901')).toBe(true);
    for (const id of ['', '0', '007', 'C-1', '12 3', '1'.repeat(21)]) {
      expect(isShopifyCustomerId(id), id).toBe(false);
    }
  });
});
