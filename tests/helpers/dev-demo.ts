/**
 * The demo shop the dev-route tests (dev-routes.test.ts, dev-preview.test.ts) run against, as
 * `npm run demo` sets it up: a demo state file naming the shop and the app secret, a database
 * with the reference program and three members (7001 Ada 120 points, 7002 Grace 30, 7003 Linus
 * none), and the shop's offline session. Given the Admin API emulator, Shopify's side too: the
 * shop and its customers, the `$app` metafields the sync writes (7001 synced, 7002 not reached
 * yet, 7003 holding 55, a value the ledger does not have) and the program summary on the app's
 * installation.
 *
 * The environment (DEMO's secret, and ADMIN_API_ENDPOINT when there is an emulator) must be set in
 * the test file's `vi.hoisted`, before the app's modules load: it is read once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Session } from '@shopify/shopify-api';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { useDatabase } from '../../app/db.server';
import { CurrentAppInstallation, MetafieldsSet } from '../../app/graphql';
import { PROGRAM_METAFIELD } from '../../app/metafields';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { createAdminClient } from '../../app/shopify/admin-client.server';
import { sessionStorage } from '../../app/shopify.server';
import { seedEmulatorShop } from '../../dev/demo/emulator-seed';
import type { AdminEmulator } from '../../dev/emulator/server';
import { parseProgram, referenceProgram } from '../../loyalty/program';
import { programSummary } from '../../loyalty/program-summary';
import { createTestDatabase, type TestDatabase } from './db';

export interface DemoIdentity {
  secret: string;
  shop: string;
  token: string;
}

export type Loader = (a: LoaderFunctionArgs) => unknown;

/** A loader's or action's arguments for a request to the app at `url`. */
export const args = (url: string, init?: RequestInit, params: Record<string, string> = {}) =>
  ({
    request: new Request(`http://127.0.0.1:3000${url}`, init),
    params,
    context: {},
  }) as LoaderFunctionArgs;

/** What `work` throws (Remix loaders throw their refusals as Responses), or undefined. */
export async function thrownBy(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Sets up the demo shop before the file's tests and removes it after; stubbed environment
 * variables are restored after each test. Returns the folder holding the demo state file.
 */
export function useDemoShop(demo: DemoIdentity, emulator?: AdminEmulator): { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'laurel-dev-routes-'));
  const stateFile = join(dir, 'pglite-demo.json');
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    writeFileSync(
      stateFile,
      JSON.stringify({ version: 1, shop: demo.shop, apiSecret: demo.secret }),
    );
    process.env.DEMO_STATE_FILE = stateFile;
    db = await createTestDatabase('pglite');
    useDatabase(db);
    const shop = await ensureShop(db.db, {
      domain: demo.shop,
      currency: 'USD',
      timezone: 'America/New_York',
    });
    await publishProgram(db.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
    for (const [externalId, firstName, points] of [
      ['7001', 'Ada', 120],
      ['7002', 'Grace', 30],
    ] as const) {
      const customer = await ensureCustomer(db.db, shop.id, { externalId, firstName });
      await post(db.db, shop.id, {
        customerId: customer.id,
        idempotencyKey: `order:${externalId}:earn`,
        source: 'order',
        points,
        occurredAt: new Date('2026-03-01T17:00:00Z'),
        programVersion: 1,
        inputs: { amountMinor: points * 100, currency: 'USD' },
      });
    }
    await ensureCustomer(db.db, shop.id, { externalId: '7003', firstName: 'Linus' });
    await sessionStorage.storeSession(
      new Session({
        id: `offline_${demo.shop}`,
        shop: demo.shop,
        state: 'installed',
        isOnline: false,
        scope: process.env.SCOPES,
        accessToken: demo.token,
      }),
    );
    if (emulator) await seedShopify(demo, emulator);
  });
  afterAll(async () => {
    useDatabase(undefined);
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  return { dir };
}

async function seedShopify(demo: DemoIdentity, emulator: AdminEmulator): Promise<void> {
  seedEmulatorShop(
    emulator.state,
    demo.shop,
    { name: 'Laurel Demo Tea', currencyCode: 'USD', ianaTimezone: 'America/New_York' },
    [
      { topic: 'customers/create', payload: { id: 7001, first_name: 'Ada' } },
      { topic: 'customers/create', payload: { id: 7002, first_name: 'Grace' } },
      { topic: 'customers/create', payload: { id: 7003, first_name: 'Linus' } },
    ],
  );
  const admin = createAdminClient({
    shop: demo.shop,
    accessToken: demo.token,
    endpoint: emulator.endpointTemplate,
  });
  // 7003 holds a value the ledger does not have, so a page showing it can only have read the
  // metafield.
  const metafield = (customer: string, key: string, value: number) => ({
    ownerId: `gid://shopify/Customer/${customer}`,
    namespace: '$app',
    key,
    type: 'number_integer',
    value: String(value),
  });
  await admin.request(MetafieldsSet, {
    metafields: [
      metafield('7001', 'points_balance', 120),
      metafield('7001', 'lifetime_points', 120),
      metafield('7003', 'points_balance', 55),
      metafield('7003', 'lifetime_points', 55),
    ],
  });
  // The program summary on the app's installation, as the sync keeps it (app.metafields.laurel).
  const { currentAppInstallation } = await admin.request(CurrentAppInstallation);
  await admin.request(MetafieldsSet, {
    metafields: [
      {
        ownerId: currentAppInstallation.id,
        ...PROGRAM_METAFIELD,
        value: JSON.stringify(programSummary(parseProgram(referenceProgram), 1)),
      },
    ],
  });
}
