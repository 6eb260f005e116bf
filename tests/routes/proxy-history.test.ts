/**
 * GET /apps/loyalty/history (→ /proxy/history) over a ledger written by the real pipeline: entries
 * newest first with their explanations, keyset pages that neither repeat nor skip, cursors that
 * only work for the shop and customer they were issued to, and the refusals of bad input before
 * anything is read.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  });
});

import { useDatabase } from '../../app/db.server';
import { post } from '../../app/models/ledger.server';
import { loader as history } from '../../app/routes/proxy.history';
import type { HistoryEntryView, HistoryView } from '../../app/storefront-account.server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import {
  HOSTILE_NAME,
  OTHER_SHOP,
  proxyRequest,
  seedStorefront,
  signedProxyQuery,
  tripwireDatabase,
  type StorefrontSeed,
} from '../helpers/storefront';

const args = (request: Request) => ({ request, params: {}, context: {} }) as LoaderFunctionArgs;

type Entry = HistoryEntryView;
type Page = HistoryView & { loggedIn: true };

async function ask(
  params: Record<string, string>,
  options: Parameters<typeof proxyRequest>[2] = {},
) {
  const response = await history(args(proxyRequest('/proxy/history', params, options)));
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as unknown,
  };
}

async function page(
  params: Record<string, string>,
  options: Parameters<typeof proxyRequest>[2] = {},
) {
  const answer = await ask(params, options);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as Page;
}

let handle: TestDatabase;
let seed: StorefrontSeed;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  seed = await seedStorefront(handle.db);
});
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});
afterEach(() => useDatabase(handle));
beforeAll(() => useDatabase(handle));

describe('GET /proxy/history', () => {
  it("answers the customer's entries newest first, each explained, privately", async () => {
    const answer = await ask({ logged_in_customer_id: '7001', limit: '50' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Cache-Control')).toBe('private, no-store');
    const body = answer.body as Page;
    expect(body.loggedIn).toBe(true);
    expect(body.nextCursor).toBeNull();
    expect(
      body.entries.map(({ occurredAt, points, source, explanation }) => ({
        occurredAt,
        points,
        source,
        explanation,
      })),
    ).toEqual([
      {
        occurredAt: '2026-03-25T12:00:00.000Z',
        points: 10,
        source: 'adjustment',
        explanation: 'Adjustment: Goodwill → 10 points',
      },
      {
        occurredAt: '2026-03-20T14:00:00.000Z',
        points: -22,
        source: 'refund',
        explanation: 'Refund on order #1001 → −22 points',
      },
      {
        occurredAt: '2026-03-18T14:00:00.000Z',
        points: 10,
        source: 'order',
        // Plain text in JSON: the page that shows it escapes it (tests/routes/proxy-page.test.ts).
        explanation: `Order ${HOSTILE_NAME}, $60.00 → 10 points`,
      },
      {
        occurredAt: '2026-03-17T14:00:00.000Z',
        points: -25,
        source: 'cancellation',
        explanation: 'Order #1002 cancelled → −25 points',
      },
      {
        occurredAt: '2026-03-16T14:00:00.000Z',
        points: 25,
        source: 'order',
        explanation: 'Order #1002, $75.00 → 25 points',
      },
      {
        occurredAt: '2026-03-14T14:15:00.000Z',
        points: 90,
        source: 'order',
        explanation: 'Order #1001, $120.00 → 90 points',
      },
      {
        occurredAt: '2026-01-05T14:30:00.000Z',
        points: 25,
        source: 'bonus',
        explanation: 'Welcome bonus → 25 points',
      },
    ]);
    for (const entry of body.entries) expect(entry.id).toMatch(/^[1-9][0-9]*$/);
    // The entries add up to the balance the summary answers.
    expect(body.entries.reduce((sum, e) => sum + e.points, 0)).toBe(113);
  });

  it('explains in the language asked for: the locale parameter, else Accept-Language', async () => {
    const fr = await page({ logged_in_customer_id: '7001', locale: 'fr' });
    expect(fr.entries.map((e) => e.explanation).slice(0, 2)).toEqual([
      'Ajustement\u00a0: Goodwill → 10 points',
      'Remboursement sur la commande #1001 → −22 points',
    ]);
    const byHeader = await page(
      { logged_in_customer_id: '7001', limit: '50' },
      { headers: { 'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.5' } },
    );
    expect(byHeader.entries.at(-2)!.explanation).toBe(
      'Commande #1001, 120,00\u00a0$US → 90 points',
    );
  });

  it('pages through every entry once, in order, ties broken by posting order', async () => {
    const seen: Entry[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const params: Record<string, string> = { logged_in_customer_id: '7003', limit: '5' };
      if (cursor) params.cursor = cursor;
      const body = await page(params);
      sizes.push(body.entries.length);
      seen.push(...body.entries);
      cursor = body.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([5, 5, 5, 5, 4]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(24);
    // Newest first: later instants first; within an instant, the later posting first.
    const expected = [...seen].sort(
      (a, b) => b.occurredAt.localeCompare(a.occurredAt) || Number(b.id) - Number(a.id),
    );
    expect(seen.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(seen[0]!.explanation).toBe('Adjustment: Entry 23 → 23 points');
    expect(seen.at(-1)!.explanation).toBe('Welcome bonus → 25 points');
  });

  it('defaults to 10 entries, and the last page has no cursor', async () => {
    const first = await page({ logged_in_customer_id: '7003' });
    expect(first.entries).toHaveLength(10);
    expect(first.nextCursor).toEqual(expect.any(String));
    const exact = await page({ logged_in_customer_id: '7003', limit: '24' });
    expect(exact.entries).toHaveLength(24);
    expect(exact.nextCursor).toBeNull();
  });

  it('continues after the cursor whatever is posted meanwhile: nothing repeats, nothing is skipped', async () => {
    const first = await page({ logged_in_customer_id: '7002', limit: '1' });
    expect(first.entries.map((e) => e.explanation)).toEqual([
      'Adjustment: Welcome back → 5 points',
    ]);
    // A newer entry lands between the two requests.
    await post(handle.db, seed.shop.id, {
      customerId: seed.customerIds.bob,
      idempotencyKey: 'adjustment:bob:late',
      source: 'adjustment',
      points: 1,
      occurredAt: new Date('2026-04-30T00:00:00Z'),
      inputs: { reason: 'Late' },
    });
    const second = await page({ logged_in_customer_id: '7002', cursor: first.nextCursor! });
    expect(second.entries.map((e) => e.explanation)).toEqual(['Welcome bonus → 25 points']);
    expect(second.nextCursor).toBeNull();
  });

  it('answers {"loggedIn":false} without a customer', async () => {
    const answer = await ask({ logged_in_customer_id: '' });
    expect(answer).toMatchObject({ status: 200, body: { loggedIn: false } });
    expect(answer.body).toEqual({ loggedIn: false });
  });

  it("shows a customer of another shop nothing of this shop's, and nothing of theirs here", async () => {
    // 7002 is a customer of SHOP only: asked for by OTHER_SHOP, there is nothing.
    expect(await page({ logged_in_customer_id: '7002' }, { shop: OTHER_SHOP })).toEqual({
      loggedIn: true,
      entries: [],
      nextCursor: null,
    });
    // 7001 exists in both shops: each shop answers its own entries only.
    const elsewhere = await page({ logged_in_customer_id: '7001' }, { shop: OTHER_SHOP });
    expect(elsewhere.entries.map((e) => e.explanation)).toEqual([
      'Adjustment: Other shop → 500 points',
      'Adjustment → 1 point',
    ]);
    const here = await page({ logged_in_customer_id: '7001', limit: '50' });
    expect(here.entries.map((e) => e.points)).not.toContain(500);
  });
});

describe('GET /proxy/history: refused input', () => {
  const BAD_CURSOR = {
    error: {
      code: 'BAD_CURSOR',
      message: 'the cursor was not issued for this customer; start again without one',
    },
  };

  async function cursorOf(customer: string, shop?: string): Promise<string> {
    const body = await page({ logged_in_customer_id: customer, limit: '1' }, { shop });
    return body.nextCursor!;
  }

  it('refuses a tampered cursor with 400 BAD_CURSOR', async () => {
    const cursor = await cursorOf('7003');
    const [version, id, mac] = cursor.split('.');
    for (const tampered of [
      `${version}.${Number(id) - 1}.${mac}`,
      `${version}.${id}.${mac!.slice(1)}A`,
      'not-a-cursor',
      `${cursor}.`,
    ]) {
      const answer = await ask({ logged_in_customer_id: '7003', cursor: tampered });
      expect(answer.status, tampered).toBe(400);
      expect(answer.body).toEqual(BAD_CURSOR);
      expect(answer.headers.get('Cache-Control')).toBe('private, no-store');
    }
  });

  it("refuses another customer's cursor, and another shop's, with 400 BAD_CURSOR", async () => {
    const others = await cursorOf('7003');
    expect(await ask({ logged_in_customer_id: '7001', cursor: others })).toMatchObject({
      status: 400,
      body: BAD_CURSOR,
    });
    // The same customer id in another shop is another customer.
    const elsewhere = await cursorOf('7001', OTHER_SHOP);
    expect(await ask({ logged_in_customer_id: '7001', cursor: elsewhere })).toMatchObject({
      status: 400,
      body: BAD_CURSOR,
    });
    // Each is accepted by its owner.
    expect(
      (await ask({ logged_in_customer_id: '7001', cursor: elsewhere }, { shop: OTHER_SHOP }))
        .status,
    ).toBe(200);
  });

  it.each([
    ['0', 'limit must be a whole number from 1 to 50'],
    ['51', 'limit must be a whole number from 1 to 50'],
    ['abc', 'limit must be a whole number from 1 to 50'],
    ['2.5', 'limit must be a whole number from 1 to 50'],
    ['-1', 'limit must be a whole number from 1 to 50'],
    ['1e1', 'limit must be a whole number from 1 to 50'],
    ['', 'limit must be a whole number from 1 to 50'],
  ])('refuses limit=%j with 400', async (limit, message) => {
    expect(await ask({ logged_in_customer_id: '7001', limit })).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION', message } },
    });
  });

  it('refuses a repeated limit with 400', async () => {
    const response = await history(
      args(
        proxyRequest('/proxy/history', [
          ['logged_in_customer_id', '7001'],
          ['limit', '5'],
          ['limit', '50'],
        ]),
      ),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'VALIDATION', message: 'the limit parameter appears more than once' },
    });
  });

  it('reads nothing for an unsigned, stale, duplicated or badly-cursored request', async () => {
    const tripwire = tripwireDatabase();
    useDatabase(tripwire.handle);
    const valid = signedProxyQuery({ logged_in_customer_id: '7001' });
    const unsigned = new URLSearchParams(valid);
    unsigned.delete('signature');
    const refused = [
      [unsigned.toString(), 401],
      [
        signedProxyQuery(
          { logged_in_customer_id: '7001' },
          { timestamp: Math.floor(Date.now() / 1000) - 91 },
        ).toString(),
        401,
      ],
      [`logged_in_customer_id=7002&${valid}`, 400],
      [signedProxyQuery({ logged_in_customer_id: '7001', cursor: 'h1.1.forged' }).toString(), 400],
      [signedProxyQuery({ logged_in_customer_id: '7001', limit: '500' }).toString(), 400],
    ] as const;
    for (const [query, status] of refused) {
      const response = await history(
        args(new Request(`https://laurel.test/proxy/history?${query}`)),
      );
      expect(response.status, query).toBe(status);
    }
    expect(tripwire.touched()).toBe(false);
    // The same route does read for a valid request: the tripwire would have caught a read above.
    const response = await history(args(new Request(`https://laurel.test/proxy/history?${valid}`)));
    expect(response.status).toBe(500);
    expect(tripwire.touched()).toBe(true);
  });
});
