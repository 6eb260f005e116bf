// The emulator as the storefront sync needs it: the app's installation and its app-data
// metafields, the metafield definitions shopify.app.toml declares (as after `shopify app deploy`),
// and when each metafield value was written.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { declaredDefinitions } from './app-config';
import { startAdminEmulator, type AdminEmulator } from './server';

let emulator: AdminEmulator;
let clock = Date.parse('2026-07-01T12:00:00Z');

beforeAll(async () => {
  emulator = await startAdminEmulator({ now: () => clock, appConfig: 'shopify.app.toml' });
});
afterAll(async () => {
  await emulator.close();
});

let shop: string;
beforeEach(() => {
  shop = `appdata-${randomUUID().slice(0, 8)}.myshopify.com`;
});

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(query: string, variables: Record<string, unknown> = {}): Promise<Body> {
  const response = await fetch(emulator.url(shop), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': 'shpat_any' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Body;
}

const SET = `mutation Set($m: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $m) { metafields { key value updatedAt } userErrors { field message code elementIndex } }
}`;

describe('currentAppInstallation and app-data metafields', () => {
  it('answers the installation id, stores metafields on it and reads them back', async () => {
    const { data } = await post('{ currentAppInstallation { id } }');
    const id = (data?.currentAppInstallation as { id: string }).id;
    expect(id).toBe(emulator.state.appInstallationGid(shop));
    expect(id).toMatch(/^gid:\/\/shopify\/AppInstallation\/\d+$/);

    const value = JSON.stringify({ version: 1, bands: [] });
    const set = await post(SET, {
      m: [{ ownerId: id, namespace: 'laurel', key: 'program', type: 'json', value }],
    });
    expect(set.data?.metafieldsSet).toEqual({
      metafields: [{ key: 'program', value, updatedAt: '2026-07-01T12:00:00Z' }],
      userErrors: [],
    });
    const back = await post(`{ currentAppInstallation {
      metafield(namespace: "laurel", key: "program") { type value jsonValue ownerType }
      metafields(first: 5) { nodes { namespace key } } } }`);
    expect(back.data?.currentAppInstallation).toEqual({
      metafield: {
        type: 'json',
        value,
        jsonValue: { version: 1, bands: [] },
        ownerType: 'API_PERMISSION',
      },
      metafields: { nodes: [{ namespace: 'laurel', key: 'program' }] },
    });
  });

  it('refuses metafields on an installation that is not the app’s own on this shop', async () => {
    const other = emulator.state.appInstallationGid(
      `other-${randomUUID().slice(0, 6)}.myshopify.com`,
    );
    const set = await post(SET, {
      m: [{ ownerId: other, namespace: 'laurel', key: 'program', type: 'json', value: '{}' }],
    });
    expect(set.data?.metafieldsSet).toEqual({
      metafields: null,
      userErrors: [
        {
          field: ['metafields', '0', 'ownerId'],
          message: 'Owner does not exist.',
          code: 'INVALID',
          elementIndex: 0,
        },
      ],
    });
  });
});

describe('definitions declared in shopify.app.toml', () => {
  it('every shop has them, with their storefront and customer-account access', async () => {
    const { data } =
      await post(`{ metafieldDefinitions(first: 10, ownerType: CUSTOMER, namespace: "$app") {
      nodes { namespace key name type { name } access { admin storefront customerAccount } } } }`);
    const nodes = (data?.metafieldDefinitions as { nodes: unknown[] }).nodes;
    expect(nodes).toEqual(
      [
        ['points_balance', 'number_integer'],
        ['lifetime_points', 'number_integer'],
        ['tier', 'single_line_text_field'],
        ['tier_status', 'json'],
        ['referral_code', 'single_line_text_field'],
        ['points_expiring', 'json'],
      ].map(([key, type]) => ({
        namespace: 'app--1000000',
        key,
        name: expect.any(String),
        type: { name: type },
        access: { admin: 'MERCHANT_READ', storefront: 'PUBLIC_READ', customerAccount: 'READ' },
      })),
    );
    const none = await post(
      '{ metafieldDefinitions(first: 5, ownerType: ORDER) { nodes { key } } }',
    );
    expect(none.data?.metafieldDefinitions).toEqual({ nodes: [] });
  });

  it('holds values to the declared type, which may then be omitted', async () => {
    const customer = emulator.state.addCustomer(shop, {});
    const wrong = await post(SET, {
      m: [
        {
          ownerId: customer,
          namespace: '$app',
          key: 'points_balance',
          type: 'single_line_text_field',
          value: 'lots',
        },
      ],
    });
    expect(
      (wrong.data?.metafieldsSet as { userErrors: { code: string }[] }).userErrors[0]?.code,
    ).toBe('INVALID_TYPE');
    const typed = await post(SET, {
      m: [{ ownerId: customer, namespace: '$app', key: 'points_balance', value: '120' }],
    });
    expect((typed.data?.metafieldsSet as { userErrors: unknown[] }).userErrors).toEqual([]);
    expect(emulator.state.metafields(shop, customer)[0]).toMatchObject({
      namespace: 'app--1000000',
      type: 'number_integer',
      value: '120',
    });
  });

  it('reads the TOML as deploy does: defaults, and refusals for what Shopify would refuse', () => {
    expect(
      declaredDefinitions('[customer.metafields.app.nickname]\ntype = "single_line_text_field"\n'),
    ).toEqual([
      {
        ownerType: 'CUSTOMER',
        namespace: '$app',
        key: 'nickname',
        type: 'single_line_text_field',
        name: 'nickname',
        description: null,
        access: { admin: 'MERCHANT_READ', storefront: 'NONE', customerAccount: 'NONE' },
      },
    ]);
    expect(() => declaredDefinitions('[customer.metafields.custom.x1]\ntype = "json"\n')).toThrow(
      /only the app namespace/,
    );
    expect(() => declaredDefinitions('[customer.metafields.app.x]\ntype = "json"\n')).toThrow(
      /key must be 2–64/,
    );
    expect(() => declaredDefinitions('[customer.metafields.app.xy]\nname = "no type"\n')).toThrow(
      /type is required/,
    );
  });
});

describe('when values were written', () => {
  it('keeps each metafield’s updatedAt to the millisecond, moved by every write', async () => {
    const customer = emulator.state.addCustomer(shop, {});
    const write = (value: string) =>
      post(SET, { m: [{ ownerId: customer, namespace: '$app', key: 'points_balance', value }] });
    clock = Date.parse('2026-07-01T12:00:00.125Z');
    await write('10');
    const [first] = emulator.state.metafields(shop, customer);
    expect(first).toMatchObject({ value: '10', createdAt: clock, updatedAt: clock });
    clock += 1_250;
    await write('25');
    const [second] = emulator.state.metafields(shop, customer);
    expect(second).toMatchObject({ value: '25', createdAt: first!.createdAt, updatedAt: clock });
    // And the request log keeps what each mutation set.
    const sets = emulator.requests.filter((r) => r.shop === shop && r.operationName === 'Set');
    expect(sets.map((r) => (r.variables?.m as { value: string }[])[0]?.value)).toEqual([
      '10',
      '25',
    ]);
  });
});
