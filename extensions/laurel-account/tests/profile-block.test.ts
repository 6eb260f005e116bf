/// <reference types="@shopify/ui-extensions/customer-account.profile.block.render" />
import { describe, expect, test, vi } from 'vitest';
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
} from './helpers/host';

const SUMMARY = accountApi().summary;

const host = hostPerTest('customer-account.profile.block.render');

function member(overrides: Record<string, unknown> = {}) {
  return {
    enrolled: true,
    balance: 1250,
    lifetimeEarned: 3400,
    tier: null,
    referralCode: null,
    ...overrides,
  };
}

const shown = (selector: string) => body().querySelector(selector);

describe('the balance from the $app metafields', () => {
  test('shows balance and lifetime points without asking the app backend', async () => {
    host.network.on(CUSTOMER_ACCOUNT_API, () =>
      metafieldsAnswer({ pointsBalance: '1250', lifetimePoints: '3400' }),
    );
    await host.extension.render();

    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('1,250 points'));
    expect(text(shown('#laurel-lifetime'))).toBe('3,400 points earned in total');
    expect(shown('s-section')?.getAttribute('heading')).toBe('Rewards');
    expect(shown('s-link')?.getAttribute('href')).toBe('extension:laurel-account-page/');
    expect(text(shown('s-link'))).toBe('See your points history');
    expect(host.network.to(SUMMARY)).toHaveLength(0);
  });

  test('asks the Customer Account API for the four app-owned metafields', async () => {
    host.network.on(CUSTOMER_ACCOUNT_API, () =>
      metafieldsAnswer({ pointsBalance: '1', lifetimePoints: '1' }),
    );
    await host.extension.render();
    await waitFor(() => expect(shown('#laurel-balance')).not.toBeNull());

    const [request] = host.network.to(CUSTOMER_ACCOUNT_API);
    expect(request?.method).toBe('POST');
    expect(request?.headers.get('Content-Type')).toBe('application/json');
    const { query } = JSON.parse(request?.body ?? '{}') as { query: string };
    for (const key of ['points_balance', 'lifetime_points', 'tier_status', 'referral_code']) {
      expect(query).toContain(`metafield(namespace: "$app", key: "${key}")`);
    }
  });

  test('shows the tier and the referral code when they are written', async () => {
    host.network.on(CUSTOMER_ACCOUNT_API, () =>
      metafieldsAnswer({
        pointsBalance: '1',
        lifetimePoints: '1',
        tier: 'Gold',
        referralCode: 'ANNA-7Q2',
      }),
    );
    await host.extension.render();

    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('1 point'));
    expect(text(shown('#laurel-lifetime'))).toBe('1 point earned in total');
    expect(text(shown('#laurel-tier'))).toBe('Gold');
    expect(text(shown('#laurel-referral'))).toBe('Your referral code: ANNA-7Q2');
  });

  test('a negative balance (refund after spending) is shown as it is', async () => {
    host.network.on(CUSTOMER_ACCOUNT_API, () =>
      metafieldsAnswer({ pointsBalance: '-40', lifetimePoints: '0' }),
    );
    await host.extension.render();
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('-40 points'));
    expect(text(shown('#laurel-lifetime'))).toBe('0 points earned in total');
  });
});

describe('the app backend when the metafields cannot tell', () => {
  test('a member whose metafields are not written yet: the backend, with the session token', async () => {
    host.network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(SUMMARY, () => json(member({ balance: 90, lifetimeEarned: 90, tier: 'Silver' })));
    await host.extension.render();

    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('90 points'));
    expect(text(shown('#laurel-tier'))).toBe('Silver');
    const [request] = host.network.to(SUMMARY);
    expect(request?.method).toBe('GET');
    expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
    expect(request?.headers.get('Accept')).toBe('application/json');
  });

  test.each([
    ['a balance that is not a whole number', { pointsBalance: '12.5', lifetimePoints: '20' }],
    ['a balance with letters', { pointsBalance: '12abc', lifetimePoints: '20' }],
    ['a balance past a safe integer', { pointsBalance: '9999999999999999', lifetimePoints: '1' }],
    ['lifetime points not written', { pointsBalance: '12', lifetimePoints: null }],
    ['an empty tier', { pointsBalance: '12', lifetimePoints: '20', tier: '' }],
  ])('metafields with %s: the backend decides', async (_, values) => {
    host.network.on(CUSTOMER_ACCOUNT_API, () => metafieldsAnswer(values));
    host.network.on(SUMMARY, () => json(member({ balance: 7 })));
    await host.extension.render();
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('7 points'));
    expect(host.network.to(SUMMARY)).toHaveLength(1);
  });

  test.each([
    ['GraphQL errors', () => json({ errors: [{ message: 'Access denied' }], data: null })],
    ['an HTTP error', () => json({}, 503)],
    ['a body that is not JSON', () => new Response('<html>oops</html>', { status: 200 })],
    ['a metafield value of the wrong type', () => json({ data: { customer: { pointsBalance: { value: 12 }, lifetimePoints: { value: '1' }, tier: null, referralCode: null } } })], // prettier-ignore
    ['a failed request', () => Promise.reject(new TypeError('Failed to fetch'))],
  ])('the Customer Account API answering %s: the backend decides', async (_, answer) => {
    host.network.on(CUSTOMER_ACCOUNT_API, answer).on(SUMMARY, () => json(member({ balance: 8 })));
    await host.extension.render();
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('8 points'));
  });
});

describe('states', () => {
  test('loading: a spinner and a label, no number yet', async () => {
    host.network.on(CUSTOMER_ACCOUNT_API, never);
    await host.extension.render();

    await waitFor(() => expect(shown('s-spinner')).not.toBeNull());
    expect(shown('s-spinner')?.getAttribute('accessibilityLabel')).toBe('Loading your points…');
    expect(text()).toBe('Loading your points…');
    expect(text()).not.toMatch(/\d/);
  });

  test('not enrolled: says how to start earning, shows no balance and no history link', async () => {
    host.network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(SUMMARY, () => json(member({ enrolled: false, balance: 0, lifetimeEarned: 0 })));
    await host.extension.render();

    await waitFor(() =>
      expect(text()).toContain("You're not in the rewards program yet. Your next order"),
    );
    expect(shown('#laurel-balance')).toBeNull();
    expect(shown('s-link')).toBeNull();
    expect(text()).not.toContain('0 points');
  });

  test('error: a warning with a retry that loads again', async () => {
    let calls = 0;
    host.network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(SUMMARY, () =>
        ++calls === 1 ? contractError(500, 'INTERNAL', 'boom') : json(member({ balance: 12 })),
      );
    await host.extension.render();

    const banner = await waitFor(() => {
      const element = shown('s-banner');
      expect(element).not.toBeNull();
      return element;
    });
    expect(banner?.getAttribute('tone')).toBe('warning');
    expect(banner?.getAttribute('heading')).toBe("Your points can't be shown right now");
    expect(text()).not.toMatch(/\d/);

    click(shown('s-banner s-button'));
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('12 points'));
    expect(shown('s-banner')).toBeNull();
    expect(calls).toBe(2);
  });

  test.each([
    ['a 401 (no customer in the token)', () => contractError(401, 'UNAUTHORIZED')],
    ['a 404', () => contractError(404, 'NOT_FOUND')],
    ['an HTML error page', () => new Response('<h1>Bad gateway</h1>', { status: 502 })],
    ['a failed request', () => Promise.reject(new TypeError('Failed to fetch'))],
  ])('the backend answering %s: the error state', async (_, answer) => {
    host.network.on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS).on(SUMMARY, answer);
    await host.extension.render();
    await waitFor(() => expect(shown('s-banner')).not.toBeNull());
    expect(shown('#laurel-balance')).toBeNull();
  });

  test('a backend that does not answer: the error state after the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    try {
      host.network.on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS).on(SUMMARY, never);
      await host.extension.render();
      await waitFor(() => expect(host.network.to(SUMMARY)).toHaveLength(1));
      expect(shown('s-banner')).toBeNull();
      vi.advanceTimersByTime(10_000);
      await waitFor(() => expect(shown('s-banner')).not.toBeNull());
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('answers that are not the contract', () => {
  test.each([
    ['a balance as a string', member({ balance: '1250' })],
    ['a fractional balance', member({ balance: 12.5 })],
    ['a balance past a safe integer', member({ balance: 2 ** 60 })],
    ['no lifetime points', { enrolled: true, balance: 5, tier: null, referralCode: null }],
    ['enrolled as a string', member({ enrolled: 'true' })],
    ['a tier that is a number', member({ tier: 3 })],
    ['a referral code of 10,000 characters', member({ referralCode: 'x'.repeat(10_000) })],
    ['an array', [member()]],
    ['null', null],
    ['an error body with status 200', { error: { code: 'INTERNAL', message: 'boom' } }],
  ])('%s: the error state, never a guessed number', async (_, answer) => {
    host.network.on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS).on(SUMMARY, () => json(answer));
    await host.extension.render();
    await waitFor(() => expect(shown('s-banner')).not.toBeNull());
    expect(text()).not.toMatch(/\d/);
  });

  test('extra fields from a newer backend are ignored', async () => {
    host.network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(SUMMARY, () => json(member({ balance: 3, rewards: [{ id: 1 }] })));
    await host.extension.render();
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('3 points'));
  });
});

describe('the app URL the bundle was built with', () => {
  test.each([
    ['none', ''],
    ['plain http', 'http://laurel.test'],
    ['not a URL', 'laurel'],
  ])('%s: the backend is not called and the error state shows', async (_, url) => {
    vi.stubEnv('APP_URL', url);
    host.network.on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS);
    await host.extension.render();
    await waitFor(() => expect(shown('s-banner')).not.toBeNull());
    expect(host.network.requests.map((request) => request.url)).toEqual([CUSTOMER_ACCOUNT_API]);
  });

  test('SHOPIFY_APP_URL (the app server’s own variable) when APP_URL is not set', async () => {
    vi.stubEnv('APP_URL', '');
    vi.stubEnv('SHOPIFY_APP_URL', 'https://laurel.example.com/');
    host.network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on('https://laurel.example.com/api/account/summary', () => json(member({ balance: 4 })));
    await host.extension.render();
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('4 points'));
  });

  test('the metafields alone still show the balance when no app URL is set', async () => {
    vi.stubEnv('APP_URL', '');
    host.network.on(CUSTOMER_ACCOUNT_API, () =>
      metafieldsAnswer({ pointsBalance: '15', lifetimePoints: '15' }),
    );
    await host.extension.render();
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('15 points'));
  });
});

test('no session token: the backend is not called', async () => {
  host.extension.shopify.sessionToken.get = () => Promise.reject(new Error('no token'));
  host.network.on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS);
  await host.extension.render();
  await waitFor(() => expect(shown('s-banner')).not.toBeNull());
  expect(host.network.to(SUMMARY)).toHaveLength(0);
});

test('in French', async () => {
  host.extension.shopify.localization.extensionLanguage.value = { isoCode: 'fr' };
  host.network.on(CUSTOMER_ACCOUNT_API, () =>
    metafieldsAnswer({ pointsBalance: '1250', lifetimePoints: '1', tier: 'Or' }),
  );
  await host.extension.render();

  const thousands = new Intl.NumberFormat('fr').format(1250);
  // textContent as is: text() would collapse the narrow no-break space French groups digits with.
  await waitFor(() => expect(shown('#laurel-balance')?.textContent).toBe(`${thousands} points`));
  expect(thousands).toMatch(/^1\s250$/);
  expect(text(shown('#laurel-lifetime'))).toBe('1 point gagné au total');
  expect(shown('s-section')?.getAttribute('heading')).toBe('Récompenses');
  expect(text(shown('s-link'))).toBe("Voir l'historique de vos points");
  expect(text()).toContain('Niveau');
});
