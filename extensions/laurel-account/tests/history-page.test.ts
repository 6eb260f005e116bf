/// <reference types="@shopify/ui-extensions/customer-account.page.render" />
import { beforeEach, describe, expect, test } from 'vitest';
import type { HistoryEntry } from '../src/member';
import type { MiniElement } from '../../shared/tests/helpers/dom';
import {
  accountApi,
  body,
  click,
  contractError,
  CUSTOMER_ACCOUNT_API,
  json,
  metafieldsAnswer,
  never,
  NO_METAFIELDS,
  SESSION_TOKEN,
  hostPerTest,
  text,
  waitFor,
  type RecordedRequest,
} from './helpers/host';

const { history: HISTORY, summary: SUMMARY } = accountApi();

const host = hostPerTest('customer-account.page.render');

beforeEach(() => {
  host.network.on(CUSTOMER_ACCOUNT_API, () =>
    metafieldsAnswer({ pointsBalance: '160', lifetimePoints: '250' }),
  );
});

function entry(n: number, overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id: `le_${n}`,
    occurredAt: `2026-03-${String(n).padStart(2, '0')}T10:00:00.000Z`,
    points: 10 * n,
    source: 'order',
    explanation: `Order #${1000 + n}, $${n}0.00 → ${10 * n} points`,
    ...overrides,
  };
}

function page(entries: unknown[], nextCursor: unknown = null) {
  return json({ entries, nextCursor });
}

/** Serves pages keyed by the cursor the request carries ('' for the first page). */
function pages(byCursor: Record<string, () => Response | Promise<Response>>) {
  return (request: RecordedRequest) => {
    const cursor = new URL(request.url).searchParams.get('cursor') ?? '';
    const answer = byCursor[cursor];
    if (!answer) throw new Error(`no page for cursor ${cursor}`);
    return answer();
  };
}

const historySection = () => body().querySelectorAll('s-section')[1] ?? null;
const rows = () => body().querySelectorAll('s-stack[accessibilityRole="list-item"]');
const explanations = () =>
  rows().map((row) => text(row.querySelector('s-text') as MiniElement | null));
const loadMore = () => historySection()?.querySelector('s-button') ?? null;

describe('the first page', () => {
  test('entries newest first with their explanation, date and signed points', async () => {
    host.network.on(
      HISTORY,
      pages({
        '': () =>
          page([
            entry(3),
            entry(2, {
              points: -20,
              source: 'refund',
              explanation: 'Refund on order #1002 → −20 points',
            }),
            entry(1, { points: 1, explanation: 'Order #1001, $1.00 → 1 point' }),
          ]),
      }),
    );
    await host.extension.render();

    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(explanations()).toEqual([
      'Order #1003, $30.00 → 30 points',
      'Refund on order #1002 → −20 points',
      'Order #1001, $1.00 → 1 point',
    ]);
    expect(rows().map((row) => row.querySelectorAll('s-text').map((part) => text(part)))).toEqual([
      ['Order #1003, $30.00 → 30 points', 'Mar 3, 2026', '+30 points'],
      ['Refund on order #1002 → −20 points', 'Mar 2, 2026', '-20 points'],
      ['Order #1001, $1.00 → 1 point', 'Mar 1, 2026', '+1 point'],
    ]);
    const refundPoints = rows()[1]?.querySelector('s-text[type="strong"]');
    expect(refundPoints?.getAttribute('tone')).toBe('critical');
    expect(body().querySelector('s-page')?.getAttribute('heading')).toBe('Rewards');
    expect(historySection()?.getAttribute('heading')).toBe('Points history');
    expect(loadMore()).toBeNull();
  });

  test('asks for one page of 10 with the session token, no cursor', async () => {
    host.network.on(HISTORY, () => page([entry(1)]));
    await host.extension.render();
    await waitFor(() => expect(rows()).toHaveLength(1));

    const [request] = host.network.to(HISTORY);
    const url = new URL(request?.url ?? '');
    expect(url.searchParams.get('limit')).toBe('10');
    expect(url.searchParams.has('cursor')).toBe(false);
    expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
  });

  test('the summary above the history, from the metafields', async () => {
    host.network.on(HISTORY, () => page([]));
    await host.extension.render();
    await waitFor(() => expect(text(body().querySelector('#laurel-balance'))).toBe('160 points'));
    expect(text(body().querySelector('#laurel-lifetime'))).toBe('250 points earned in total');
    expect(body().querySelector('s-section')?.getAttribute('heading')).toBe('Your points');
    expect(host.network.to(SUMMARY)).toHaveLength(0);
  });
});

describe('Load more', () => {
  test('follows the cursor, appends the page, and disappears on the last page', async () => {
    host.network.on(
      HISTORY,
      pages({
        '': () => page([entry(9), entry(8)], 'cursor-A'),
        'cursor-A': () => page([entry(7), entry(6)], 'cursor-B'),
        'cursor-B': () => page([entry(5)], null),
      }),
    );
    await host.extension.render();

    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(text(loadMore())).toBe('Load more');
    click(loadMore());
    await waitFor(() => expect(rows()).toHaveLength(4));
    click(loadMore());
    await waitFor(() => expect(rows()).toHaveLength(5));

    expect(explanations().map((line) => line.split(',')[0])).toEqual([
      'Order #1009',
      'Order #1008',
      'Order #1007',
      'Order #1006',
      'Order #1005',
    ]);
    expect(loadMore()).toBeNull();
    const requested = host.network.to(HISTORY).map((request) => new URL(request.url));
    expect(requested.map((url) => url.searchParams.get('cursor'))).toEqual([
      null,
      'cursor-A',
      'cursor-B',
    ]);
    expect(requested.every((url) => url.searchParams.get('limit') === '10')).toBe(true);
    expect(
      host.network
        .to(HISTORY)
        .every((r) => r.headers.get('Authorization') === `Bearer ${SESSION_TOKEN}`),
    ).toBe(true);
  });

  test('loading: the button shows it, and a second click sends no second request', async () => {
    host.network.on(
      HISTORY,
      pages({ '': () => page([entry(2)], 'cursor-A'), 'cursor-A': () => never(null!, undefined) }),
    );
    await host.extension.render();
    await waitFor(() => expect(loadMore()).not.toBeNull());

    click(loadMore());
    await waitFor(() => expect(loadMore()?.getAttribute('loading')).toBe('true'));
    click(loadMore());
    click(loadMore());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(host.network.to(HISTORY)).toHaveLength(2);
    expect(rows()).toHaveLength(1);
  });

  test('a cursor the backend refuses (400 BAD_CURSOR): the entries stay, with a warning and a retry', async () => {
    let attempts = 0;
    host.network.on(
      HISTORY,
      pages({
        '': () => page([entry(4), entry(3)], 'cursor-A'),
        'cursor-A': () =>
          ++attempts === 1
            ? contractError(400, 'BAD_CURSOR', 'This cursor was not issued to you')
            : page([entry(2)], null),
      }),
    );
    await host.extension.render();
    await waitFor(() => expect(rows()).toHaveLength(2));

    click(loadMore());
    const warning = await waitFor(() => {
      const banner = historySection()?.querySelector('s-banner');
      expect(banner).toBeTruthy();
      return banner;
    });
    expect(warning?.getAttribute('heading')).toBe("More activity can't be loaded right now");
    expect(rows()).toHaveLength(2);
    expect(text(loadMore())).toBe('Try again');

    click(loadMore());
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(historySection()?.querySelector('s-banner')).toBeNull();
    expect(loadMore()).toBeNull();
  });

  test('a page repeating entries already shown does not show them twice', async () => {
    host.network.on(
      HISTORY,
      pages({
        '': () => page([entry(5), entry(4)], 'cursor-A'),
        'cursor-A': () => page([entry(4), entry(3)], null),
      }),
    );
    await host.extension.render();
    await waitFor(() => expect(rows()).toHaveLength(2));
    click(loadMore());
    await waitFor(() => expect(loadMore()).toBeNull());
    expect(explanations().map((line) => line.split(',')[0])).toEqual([
      'Order #1005',
      'Order #1004',
      'Order #1003',
    ]);
  });

  test.each([
    ['points back at the cursor it was asked with', () => page([entry(1)], 'cursor-A')],
    ['says there is more but brings nothing', () => page([], 'cursor-B')],
    ['is not the contract', () => page([{ ...entry(1), points: '10' }], null)],
  ])('a next page that %s: a warning, not an endless list', async (_, next) => {
    host.network.on(HISTORY, pages({ '': () => page([entry(2)], 'cursor-A'), 'cursor-A': next }));
    await host.extension.render();
    await waitFor(() => expect(rows()).toHaveLength(1));
    click(loadMore());
    await waitFor(() => expect(historySection()?.querySelector('s-banner')).toBeTruthy());
    expect(rows()).toHaveLength(1);
  });
});

describe('states', () => {
  test('loading: a labelled spinner for the history', async () => {
    host.network.on(HISTORY, never);
    await host.extension.render();
    await waitFor(() =>
      expect(historySection()?.querySelector('s-spinner')?.getAttribute('accessibilityLabel')).toBe(
        'Loading your history…',
      ),
    );
    expect(rows()).toHaveLength(0);
  });

  test('empty: says points will appear here', async () => {
    host.network.on(HISTORY, () => page([]));
    await host.extension.render();
    await waitFor(() =>
      expect(text(historySection())).toBe('No activity yet. Points you earn will appear here.'),
    );
    expect(loadMore()).toBeNull();
  });

  test('not enrolled: the summary says so and the history is empty', async () => {
    host.network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(SUMMARY, () =>
        json({ enrolled: false, balance: 0, lifetimeEarned: 0, tier: null, referralCode: null }),
      )
      .on(HISTORY, () => page([]));
    await host.extension.render();
    await waitFor(() => expect(text()).toContain("You're not in the rewards program yet."));
    expect(text()).toContain('No activity yet.');
    expect(body().querySelector('#laurel-balance')).toBeNull();
  });

  test('error: a warning with a retry that loads the first page again', async () => {
    let attempts = 0;
    host.network.on(HISTORY, () =>
      ++attempts === 1 ? contractError(503, 'UNAVAILABLE') : page([entry(1)]),
    );
    await host.extension.render();
    const banner = await waitFor(() => {
      const element = historySection()?.querySelector('s-banner');
      expect(element).toBeTruthy();
      return element;
    });
    expect(banner?.getAttribute('heading')).toBe("Your history can't be shown right now");
    // The summary is independent: it still shows.
    expect(text(body().querySelector('#laurel-balance'))).toBe('160 points');

    click(banner?.querySelector('s-button') ?? null);
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(historySection()?.querySelector('s-banner')).toBeNull();
  });

  test.each([
    ['entries that are not an array', { entries: {}, nextCursor: null }],
    ['a numeric cursor', { entries: [entry(1)], nextCursor: 5 }],
    ['an entry without an id', { entries: [{ ...entry(1), id: undefined }], nextCursor: null }],
    ['a date that is not an instant', { entries: [entry(1, { occurredAt: 'yesterday' })], nextCursor: null }], // prettier-ignore
    ['a date without a time', { entries: [entry(1, { occurredAt: '2026-03-01' })], nextCursor: null }], // prettier-ignore
    ['fractional points', { entries: [entry(1, { points: 0.5 })], nextCursor: null }],
    ['an empty explanation', { entries: [entry(1, { explanation: '' })], nextCursor: null }],
    ['51 entries', { entries: Array.from({ length: 51 }, (_, i) => entry(i + 1)), nextCursor: null }], // prettier-ignore
    ['one bad entry among good ones', { entries: [entry(2), { ...entry(1), source: null }], nextCursor: null }], // prettier-ignore
  ])('%s: the error state, nothing half-shown', async (_, answer) => {
    host.network.on(HISTORY, () => json(answer));
    await host.extension.render();
    await waitFor(() => expect(historySection()?.querySelector('s-banner')).toBeTruthy());
    expect(rows()).toHaveLength(0);
  });
});

test('in French', async () => {
  host.extension.shopify.localization.extensionLanguage.value = { isoCode: 'fr' };
  host.network.on(HISTORY, () => page([entry(1, { points: 1 }), entry(2)], 'cursor-A'));
  await host.extension.render();

  await waitFor(() => expect(rows()).toHaveLength(2));
  expect(body().querySelector('s-page')?.getAttribute('heading')).toBe('Récompenses');
  expect(historySection()?.getAttribute('heading')).toBe('Historique des points');
  expect(text(loadMore())).toBe('Afficher plus');
  expect(text(rows()[0] ?? null)).toContain('+1 point');
  expect(text(rows()[0] ?? null)).toContain('1 mars 2026');
  expect(text(rows()[1] ?? null)).toContain('+20 points');
});
