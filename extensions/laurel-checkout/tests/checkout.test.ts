/// <reference types="@shopify/ui-extensions/purchase.checkout.reductions.render-after" />
import { createResult } from '@shopify/ui-extensions-tester/checkout';
import { describe, expect, test, vi } from 'vitest';
import {
  balanceEntry,
  body,
  click,
  contractError,
  hostPerTest,
  json,
  never,
  programEntry,
  REFERENCE_SUMMARY,
  REWARDS_URL,
  SESSION_TOKEN,
  signIn,
  text,
  usd,
  waitFor,
} from './helpers/host';

const host = hostPerTest();
const shown = (selector: string) => body().querySelector(selector);

/** A code's row as the buyer reads it: title, details, then the badge or button. */
const row = (id: string) =>
  ['s-text[type="strong"]', 's-text[color="subdued"]', 's-badge, s-button'].map((selector) =>
    text(shown(`#laurel-code-${id}`)?.querySelector(selector) ?? null),
  );

function code(overrides: Record<string, unknown> = {}) {
  return {
    id: '34',
    code: 'LRL-7KQ2-M9XP-4HTV',
    title: '$5 off your next order',
    value: { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' },
    expiresAt: '2026-03-12T10:00:00.000Z',
    ...overrides,
  };
}

const PERCENT = code({
  id: '35',
  code: 'LRL-AAAA-BBBB-CCCC',
  title: '10% off',
  value: { kind: 'percentage_off_order', percentage: 10 },
  expiresAt: null,
});

/** Renders and lets effects and pending promises settle. */
async function rendered() {
  await host.extension.render();
  await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('"This order earns N points"', () => {
  test('a guest is told to sign in to earn what this order earns; nothing is fetched', async () => {
    await rendered();
    // $120 under the reference program: 50 × 1 + 20 × 2 = 90.
    expect(text(shown('#laurel-earn'))).toBe('Sign in to earn 90 points with this order');
    expect(text()).toBe('Sign in to earn 90 points with this order');
    expect(host.network.requests).toHaveLength(0);
  });

  test('a signed-in customer is told what the order earns', async () => {
    signIn(host);
    host.network.on(REWARDS_URL, () => json({ redemptions: [] }));
    await rendered();
    await waitFor(() => expect(text(shown('#laurel-earn'))).toBe('This order earns 90 points'));
  });

  test('follows the cart: the line changes with the subtotal and goes when it earns nothing', async () => {
    await rendered();
    expect(text(shown('#laurel-earn'))).toContain('90 points');
    host.checkout.subtotal.value = usd(200.99);
    await waitFor(() => expect(text(shown('#laurel-earn'))).toContain('250 points'));
    host.checkout.subtotal.value = usd(51);
    await waitFor(() => expect(text(shown('#laurel-earn'))).toContain('earn 1 point with'));
    host.checkout.subtotal.value = usd(50.99);
    await waitFor(() => expect(shown('#laurel-earn')).toBeNull());
    expect(text()).toBe('');
  });

  test('order-level discounts are taken off the subtotal, as the order webhook will', async () => {
    host.checkout.discountAllocations.value = [
      { type: 'code', code: 'LRL-7KQ2-M9XP-4HTV', discountedAmount: usd(20) },
    ];
    await rendered();
    // $120 − $20 = $100: 50 points.
    expect(text(shown('#laurel-earn'))).toContain('earn 50 points');
  });

  test('a program that earns on the total reads checkout’s total', async () => {
    host.checkout.appMetafields.value = [programEntry({ ...REFERENCE_SUMMARY, earnOn: 'total' })];
    host.checkout.total.value = usd(130);
    await rendered();
    expect(text(shown('#laurel-earn'))).toContain('earn 110 points');
  });

  test.each([
    ['checkout in another currency than the program’s', () => usd(120, 'CAD')],
    ['an amount that is not whole cents', () => usd(120.005)],
  ])('%s: no line at all rather than a wrong number', async (_, money) => {
    host.checkout.subtotal.value = money();
    await rendered();
    expect(shown('#laurel-earn')).toBeNull();
    expect(text()).toBe('');
  });

  test('a discount in another currency: no line', async () => {
    host.checkout.discountAllocations.value = [
      { type: 'automatic', title: 'Sale', discountedAmount: usd(5, 'EUR') },
    ];
    await rendered();
    expect(shown('#laurel-earn')).toBeNull();
  });

  test.each([
    ['no program summary', []],
    ['a summary that is not JSON', [programEntry('{oops')]],
    ['a summary with a fractional unit', [programEntry({ ...REFERENCE_SUMMARY, unitMinor: 1.5 })]],
    ['a summary with unsorted bands', [programEntry({ ...REFERENCE_SUMMARY, bands: [...REFERENCE_SUMMARY.bands].reverse() })]], // prettier-ignore
    [
      'the summary under another namespace',
      [{ ...programEntry(), metafield: { ...programEntry().metafield, namespace: 'laurel' } }],
    ],
  ])('%s: no line', async (_, entries) => {
    host.checkout.appMetafields.value = entries;
    await rendered();
    expect(shown('#laurel-earn')).toBeNull();
  });

  test('the summary arriving later (metafields load with the cart) shows the line', async () => {
    host.checkout.appMetafields.value = [];
    await rendered();
    expect(shown('#laurel-earn')).toBeNull();
    host.checkout.appMetafields.value = [programEntry()];
    await waitFor(() => expect(text(shown('#laurel-earn'))).toContain('90 points'));
  });

  test('in French, with the number grouped as French groups it', async () => {
    host.checkout.language.value = { isoCode: 'fr' };
    host.checkout.subtotal.value = usd(1000);
    await rendered();
    const points = new Intl.NumberFormat('fr').format(1850);
    expect(shown('#laurel-earn')?.textContent).toBe(
      `Connectez-vous pour gagner ${points} points avec cette commande`,
    );
  });
});

describe('"Apply one of your rewards"', () => {
  test('a signed-in customer’s issued codes, fetched with the session token', async () => {
    signIn(host);
    host.network.on(REWARDS_URL, () => json({ redemptions: [code(), PERCENT] }));
    await rendered();

    await waitFor(() => expect(shown('#laurel-rewards')).not.toBeNull());
    expect(text(shown('#laurel-rewards s-heading'))).toBe('Apply one of your rewards');
    expect(row('34')).toEqual([
      '$5 off your next order',
      'LRL-7KQ2-M9XP-4HTV · $5.00 off your order · Expires Mar 12, 2026',
      'Apply',
    ]);
    expect(row('35')).toEqual(['10% off', 'LRL-AAAA-BBBB-CCCC · 10% off your order', 'Apply']);
    expect(shown('#laurel-code-34 s-button')?.getAttribute('accessibilityLabel')).toBe(
      'Apply $5 off your next order',
    );

    const [request] = host.network.to(REWARDS_URL);
    expect(host.network.requests).toHaveLength(1);
    expect(request?.method).toBe('GET');
    expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
    expect(request?.headers.get('Accept')).toBe('application/json');
  });

  test('Apply adds the code through the checkout API and marks it applied', async () => {
    signIn(host);
    host.network.on(REWARDS_URL, () => json({ redemptions: [code(), PERCENT] }));
    await rendered();
    await waitFor(() => expect(shown('#laurel-code-34 s-button')).not.toBeNull());

    click(shown('#laurel-code-34 s-button'));
    await waitFor(() => expect(text(shown('#laurel-code-34 s-badge'))).toBe('Applied'));
    expect(host.applyDiscountCodeChange).toHaveBeenCalledTimes(1);
    expect(host.applyDiscountCodeChange).toHaveBeenCalledWith({
      type: 'addDiscountCode',
      code: 'LRL-7KQ2-M9XP-4HTV',
    });
    expect(shown('#laurel-code-34 s-button')).toBeNull();
    expect(shown('#laurel-code-35 s-button')).not.toBeNull();
  });

  test('a code already in the checkout (any case) is marked applied, with no button', async () => {
    signIn(host);
    host.checkout.discountCodes.value = [{ code: 'lrl-7kq2-m9xp-4htv' }];
    host.network.on(REWARDS_URL, () => json({ redemptions: [code(), PERCENT] }));
    await rendered();

    await waitFor(() => expect(text(shown('#laurel-code-34 s-badge'))).toBe('Applied'));
    expect(shown('#laurel-code-34 s-button')).toBeNull();
    expect(shown('#laurel-code-35 s-badge')).toBeNull();

    // The buyer removes it in checkout's own discount field: the button comes back.
    host.checkout.discountCodes.value = [];
    await waitFor(() => expect(shown('#laurel-code-34 s-button')).not.toBeNull());
  });

  test('Shopify refusing the code: its message, plainly, and the button stays', async () => {
    signIn(host);
    host.applyDiscountCodeChange.mockResolvedValueOnce(
      createResult('applyDiscountCodeChange', {
        type: 'error',
        message: 'Enter a valid discount code',
      }),
    );
    host.network.on(REWARDS_URL, () => json({ redemptions: [code()] }));
    await rendered();
    await waitFor(() => expect(shown('#laurel-code-34 s-button')).not.toBeNull());

    click(shown('#laurel-code-34 s-button'));
    const banner = await waitFor(() => {
      const element = shown('#laurel-apply-error');
      expect(element).not.toBeNull();
      return element;
    });
    expect(banner?.getAttribute('tone')).toBe('critical');
    expect(text(banner)).toBe(
      "LRL-7KQ2-M9XP-4HTV couldn't be applied: Enter a valid discount code",
    );
    expect(shown('#laurel-code-34 s-badge')).toBeNull();
    expect(shown('#laurel-code-34 s-button')).not.toBeNull();
  });

  test('the checkout API throwing (an accelerated checkout): a plain message', async () => {
    signIn(host);
    host.applyDiscountCodeChange.mockRejectedValueOnce(new Error('not now'));
    host.network.on(REWARDS_URL, () => json({ redemptions: [code()] }));
    await rendered();
    await waitFor(() => expect(shown('#laurel-code-34 s-button')).not.toBeNull());
    click(shown('#laurel-code-34 s-button'));
    await waitFor(() =>
      expect(text(shown('#laurel-apply-error'))).toBe(
        "LRL-7KQ2-M9XP-4HTV couldn't be applied: The code couldn't be applied. Please try again.",
      ),
    );
  });

  test('while one code is being applied the others wait', async () => {
    signIn(host);
    let finish: (value: { type: 'success' }) => void = () => undefined;
    host.applyDiscountCodeChange.mockReturnValueOnce(
      new Promise((resolve) => {
        finish = resolve;
      }),
    );
    host.network.on(REWARDS_URL, () => json({ redemptions: [code(), PERCENT] }));
    await rendered();
    await waitFor(() => expect(shown('#laurel-code-34 s-button')).not.toBeNull());
    click(shown('#laurel-code-34 s-button'));
    await waitFor(() =>
      expect(shown('#laurel-code-34 s-button')?.getAttribute('loading')).toBe('true'),
    );
    expect(shown('#laurel-code-35 s-button')?.getAttribute('disabled')).toBe('true');
    finish({ type: 'success' });
    await waitFor(() => expect(shown('#laurel-code-34 s-badge')).not.toBeNull());
    expect(shown('#laurel-code-35 s-button')?.getAttribute('disabled')).not.toBe('true');
  });

  test('a checkout that does not take codes from extensions: listed, no buttons, said so', async () => {
    signIn(host);
    const instructions = host.checkout.instructions.value;
    host.checkout.instructions.value = {
      ...instructions,
      discounts: { canUpdateDiscountCodes: false },
    };
    host.network.on(REWARDS_URL, () => json({ redemptions: [code()] }));
    await rendered();
    await waitFor(() => expect(shown('#laurel-code-34')).not.toBeNull());
    expect(shown('s-button')).toBeNull();
    expect(text()).toContain("Rewards can't be applied to this checkout.");
  });

  test('the balance from the customer’s $app metafield', async () => {
    signIn(host);
    host.checkout.appMetafields.value = [programEntry(), balanceEntry('1250')];
    host.network.on(REWARDS_URL, () => json({ redemptions: [code()] }));
    await rendered();
    await waitFor(() => expect(shown('#laurel-rewards')).not.toBeNull());
    expect(text(shown('#laurel-balance'))).toBe('You have 1,250 points');
  });

  test('no codes: no heading, only the earn line (and the balance when known)', async () => {
    signIn(host);
    host.checkout.appMetafields.value = [programEntry(), balanceEntry('40')];
    host.network.on(REWARDS_URL, () => json({ redemptions: [] }));
    await rendered();
    await waitFor(() => expect(host.network.requests).toHaveLength(1));
    await waitFor(() => expect(text(shown('#laurel-balance'))).toBe('You have 40 points'));
    expect(text(shown('#laurel-earn'))).toBe('This order earns 90 points');
    expect(text()).toBe('This order earns 90 pointsYou have 40 points');
    expect(shown('s-heading')).toBeNull();
  });

  test('nothing while the codes load: no spinner pushing the summary about', async () => {
    signIn(host);
    host.network.on(REWARDS_URL, never);
    await rendered();
    expect(text()).toBe('This order earns 90 points');
    expect(shown('s-spinner')).toBeNull();
  });
});

describe('when the codes cannot be had', () => {
  test.each([
    ['401 UNAUTHORIZED (a bad or expired token)', () => contractError(401, 'UNAUTHORIZED')],
    ['a 500', () => contractError(500, 'INTERNAL')],
    ['an HTML error page', () => new Response('<h1>Bad gateway</h1>', { status: 502 })],
    ['a failed request', () => Promise.reject(new TypeError('Failed to fetch'))],
    ['an answer of the wrong shape', () => json({ redemptions: [code({ code: 42 })] })],
    ['an unknown expiry', () => json({ redemptions: [code({ expiresAt: 'soon' })] })],
    ['a percentage over 100', () => json({ redemptions: [code({ value: { kind: 'percentage_off_order', percentage: 150 } })] })], // prettier-ignore
    ['more codes than the backend ever sends', () => json({ redemptions: Array.from({ length: 51 }, (_, i) => code({ id: String(i) })) })], // prettier-ignore
  ])('%s: a short message, the earn line stays', async (_, answer) => {
    signIn(host);
    host.network.on(REWARDS_URL, answer);
    await rendered();
    await waitFor(() =>
      expect(text(shown('#laurel-rewards-error'))).toBe("Your rewards can't be shown right now."),
    );
    expect(text(shown('#laurel-earn'))).toBe('This order earns 90 points');
    expect(shown('s-button')).toBeNull();
  });

  test('401 NOT_LOGGED_IN (the token names no customer): nothing to say', async () => {
    signIn(host);
    host.network.on(REWARDS_URL, () => contractError(401, 'NOT_LOGGED_IN'));
    await rendered();
    await waitFor(() => expect(host.network.requests).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(text()).toBe('This order earns 90 points');
  });

  test('a backend that does not answer: the message after the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    try {
      signIn(host);
      host.network.on(REWARDS_URL, never);
      await host.extension.render();
      await waitFor(() => expect(host.network.requests).toHaveLength(1));
      expect(shown('#laurel-rewards-error')).toBeNull();
      vi.advanceTimersByTime(10_000);
      await waitFor(() => expect(shown('#laurel-rewards-error')).not.toBeNull());
    } finally {
      vi.useRealTimers();
    }
  });

  test.each([
    ['no app URL', ''],
    ['a plain-http app URL', 'http://laurel.test'],
  ])('%s in the bundle: no request, the short message', async (_, url) => {
    vi.stubEnv('APP_URL', url);
    signIn(host);
    await rendered();
    await waitFor(() => expect(shown('#laurel-rewards-error')).not.toBeNull());
    expect(host.network.requests).toHaveLength(0);
  });

  test('no session token: no request', async () => {
    host.extension.shopify.sessionToken.get = () => Promise.reject(new Error('no token'));
    signIn(host);
    await rendered();
    await waitFor(() => expect(shown('#laurel-rewards-error')).not.toBeNull());
    expect(host.network.requests).toHaveLength(0);
  });

  test('an app without access to customer data (no buyerIdentity): the guest line, no request', async () => {
    Object.defineProperty(host.extension.shopify, 'buyerIdentity', { value: undefined });
    await rendered();
    expect(text()).toBe('Sign in to earn 90 points with this order');
    expect(host.network.requests).toHaveLength(0);
  });

  test('the buyer signing in during checkout: the codes are fetched then, once', async () => {
    host.network.on(REWARDS_URL, () => json({ redemptions: [code()] }));
    await rendered();
    expect(host.network.requests).toHaveLength(0);
    signIn(host);
    await waitFor(() => expect(shown('#laurel-code-34')).not.toBeNull());
    expect(text(shown('#laurel-earn'))).toBe('This order earns 90 points');
    host.checkout.subtotal.value = usd(130);
    await waitFor(() => expect(text(shown('#laurel-earn'))).toContain('110 points'));
    expect(host.network.requests).toHaveLength(1);
  });
});
