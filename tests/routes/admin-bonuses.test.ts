/**
 * The bonuses page through the built server (`node dist/server.mjs`) on this file's own PostgreSQL
 * database, with App Bridge session tokens minted as Shopify mints them: the loader (the form's
 * values, the sign-up bonus from the earn program, this month's bonuses by kind), Save refused by
 * field with nothing written, Save publishing a version, another shop's isolation, and a request
 * without a token.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBonusPrograms, publishBonusProgram } from '../../app/models/bonus-programs.server';
import { claimSocialFollow } from '../../app/models/bonuses.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { referenceProgram } from '../../loyalty/program';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { ADMIN_BROWSER, adminHeaders, adminLoader, adminSubmit } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-bonuses.myshopify.com';
const OTHER_SHOP = 'laurel-bonuses-other.myshopify.com';
const ROUTE = 'routes/app.bonuses';

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'UTC' });
  await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await publishProgram(
    db.db,
    shop.id,
    { ...referenceProgram, signupBonus: 100 },
    new Date(Date.now() - 86_400_000),
  );
  await publishBonusProgram(
    db.db,
    shop.id,
    {
      birthdayPoints: 200,
      social: { instagram: { url: 'https://instagram.com/laurel', points: 25 } },
    },
    new Date(Date.now() - 86_400_000),
  );
  const member = await ensureCustomer(db.db, shop.id, { externalId: '9201' });
  await claimSocialFollow(db.db, shop.id, member, 'instagram', new Date());
  await storeOfflineSession(db.db, SHOP, 'shpat_bonuses');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_bonuses_other');
  app = await startAppProcess({
    env: {
      DATABASE_URL: db.url!,
      QUEUE_PREFIX: `test-${randomUUID()}`,
      LOG_LEVEL: 'warn',
      SESSION_CACHE_TTL_MS: '0',
    },
  });
}, 300_000);

afterAll(async () => {
  await app?.stop();
  await db?.close();
});

const bearer = (shopDomain = SHOP) => adminHeaders(shopDomain);

async function loaderData(shopDomain = SHOP, headers = bearer(shopDomain)) {
  const { status, data } = await adminLoader(app.url, '/app/bonuses', ROUTE, headers);
  return { status, data };
}

async function submit(fields: Record<string, string>, shopDomain = SHOP) {
  const { status, body } = await adminSubmit(app.url, '/app/bonuses', fields, bearer(shopDomain));
  return { status, data: (body as { data?: Record<string, unknown> }).data ?? {} };
}

describe('admin: bonuses', () => {
  it('loads the settings, the sign-up bonus and this month’s bonuses', async () => {
    const { status, data } = await loaderData();
    expect(status).toBe(200);
    expect(data).toMatchObject({
      inForce: 1,
      signupBonus: 100,
      values: {
        birthdayPoints: '200',
        newsletterPoints: '',
        'social.instagram.url': 'https://instagram.com/laurel',
        'social.instagram.points': '25',
      },
      history: [{ version: 1, summary: 'birthday 200 points, Instagram 25 points' }],
      awarded: [
        { kind: 'signup', entries: 0, points: 0 },
        { kind: 'birthday', entries: 0, points: 0 },
        { kind: 'newsletter', entries: 0, points: 0 },
        { kind: 'social', entries: 1, points: 25 },
      ],
    });
    const other = await loaderData(OTHER_SHOP);
    expect(other.data).toMatchObject({ inForce: null, signupBonus: 0, history: [] });
  });

  it('answers 400 with the problems by field and saves nothing', async () => {
    const refused = await submit({
      intent: 'save',
      birthdayPoints: '-5',
      newsletterPoints: '2000000',
      'social.tiktok.url': 'http://tiktok.com/@laurel',
      'social.tiktok.points': '10',
      'social.x.points': '5',
    });
    expect(refused.status).toBe(400);
    expect(refused.data).toMatchObject({
      ok: false,
      errors: {
        birthdayPoints: 'Birthday points must be a whole number of points',
        newsletterPoints: 'Newsletter points must be between 0 (off) and 1,000,000',
        'social.tiktok.url': 'TikTok profile URL must start with https://',
        'social.x.url': 'X profile URL is required when the network gives points',
      },
    });
    expect((await listBonusPrograms(db.db, shop.id)).length).toBe(1);
    expect((await submit({ intent: 'delete' })).status).toBe(400);
  });

  it('saves a new version', async () => {
    const saved = await submit({
      intent: 'save',
      birthdayPoints: '300',
      newsletterPoints: '50',
      'social.instagram.url': 'https://instagram.com/laurel',
      'social.instagram.points': '25',
    });
    expect(saved).toMatchObject({ status: 200, data: { ok: true, version: 2 } });
    const versions = await listBonusPrograms(db.db, shop.id);
    expect(versions.at(-1)?.definition).toMatchObject({
      birthdayPoints: 300,
      newsletterPoints: 50,
    });
    const { data } = await loaderData();
    expect(data).toMatchObject({ inForce: 2, values: { birthdayPoints: '300' } });
  });

  it('refuses a request without a valid session token', async () => {
    const response = await fetch(new URL('/app/bonuses.data', app.url), {
      method: 'POST',
      headers: {
        Authorization: 'Bearer not-a-token',
        'User-Agent': ADMIN_BROWSER,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ intent: 'save', birthdayPoints: '1' }),
    });
    expect(response.status).toBe(401);
    expect((await listBonusPrograms(db.db, shop.id)).length).toBe(2);
  });
});
