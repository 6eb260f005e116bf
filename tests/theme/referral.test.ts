/**
 * The Refer a friend block and the launcher's referral section, rendered by the real Liquid: the
 * offer from the program summary's `referral`, the member's link from `$app.referral_code`, and
 * what each shopper sees — a member with a code, one whose code is on its way, a guest, a shop
 * whose referral program is off — in English and French.
 */
import { describe, expect, it } from 'vitest';
import {
  createStorefrontEngine,
  type LaurelCustomerMetafields,
  type ReferralOfferSummary,
} from '../../dev/storefront/liquid-engine';
import {
  find,
  findAll,
  isHidden,
  member,
  SHOP_URL,
  storefront,
  text,
  type Scenario,
} from './helpers';

const engine = createStorefrontEngine();

const PERCENT: ReferralOfferSummary = {
  friendDiscount: { percentage: 10 },
  friendMinimumOrderMinor: null,
  referrerPoints: 500,
  minimumOrderMinor: 0,
};
const AMOUNT: ReferralOfferSummary = {
  friendDiscount: { amountMinor: 1500 },
  friendMinimumOrderMinor: 5000,
  referrerPoints: 1,
  minimumOrderMinor: 2500,
};
const CODE = 'FRIEND-K7M2Q9XH';

const withCode = (code: string | null): LaurelCustomerMetafields => ({
  ...member(120, 300),
  ...(code === null ? {} : { referral_code: { value: code, type: 'single_line_text_field' } }),
});

const referralSlot = (html: string) =>
  findAll(html, 'data-laurel-slot').find((s) => s.attributes['data-laurel-slot'] === 'referral')!;

const block = (scenario: Scenario, settings: Record<string, unknown> = {}) =>
  engine.renderBlock('referral', storefront(scenario), settings);

describe('Refer a friend block', () => {
  it('a member with a code: the offer, the link, copy, share by email, and the code to type', async () => {
    const html = await block({ referral: PERCENT, customer: withCode(CODE) });
    expect(text(find(html, 'data-laurel-referral-offer'))).toBe(
      'Give your friends 10% off their first order. You get 500 points when they order.',
    );
    const link = `${SHOP_URL}/apps/loyalty/r/${CODE}`;
    expect(find(html, 'data-laurel-referral-url')).toMatchObject({
      tag: 'input',
      attributes: expect.objectContaining({ value: link, readonly: '', type: 'text' }),
    });
    // The label names the field.
    const input = find(html, 'data-laurel-referral-url')!;
    expect(html).toContain(
      `<label class="laurel-label" for="${input.attributes.id}">Your link</label>`,
    );
    expect(text(find(html, 'data-laurel-referral-copy'))).toBe('Copy link');
    const share = find(html, 'data-laurel-referral-share')!;
    expect(text(share)).toBe('Share');
    expect(share.attributes.href).toBe(
      `mailto:?subject=${encodeURIComponent('A welcome discount for you')}&body=${encodeURIComponent(
        `Here is a discount on your first order: ${link}`,
      )}`,
    );
    expect(share.attributes['data-title']).toBe('A welcome discount for you');
    expect(share.attributes['data-text']).toBe('Here is a discount on your first order:');
    expect(text(find(html, 'data-laurel-referral-code'))).toBe(
      `Friends can also enter ${CODE} at checkout.`,
    );
    // The status line is there, empty, before anything is copied: its height is reserved.
    expect(find(html, 'data-laurel-referral-status')).toMatchObject({
      inner: '',
      attributes: expect.objectContaining({ role: 'status', 'aria-live': 'polite' }),
    });
    const section = find(html, 'data-laurel-referral')!;
    expect(section.attributes['data-copied']).toBe('Link copied.');
    expect(section.attributes['data-selected']).toBe('Link selected: copy it with your keyboard.');
    expect(text(find(html, 'aria-labelledby'))).toContain('Refer a friend');
    expect(find(html, 'data-laurel-referral-signed-out')).toBeUndefined();
  });

  it('an amount off with minimums, in the shop currency; one point is singular', async () => {
    const html = await block({ referral: AMOUNT, customer: withCode(CODE) });
    expect(text(find(html, 'data-laurel-referral-offer'))).toBe(
      'Give your friends $15 off a first order of $50 or more. You get 1 point when their first order reaches $25.',
    );
  });

  it('a shopper browsing in another currency: no amounts, which would be in the wrong currency', async () => {
    const html = await block({ referral: AMOUNT, customer: withCode(CODE), currency: 'EUR' });
    expect(text(find(html, 'data-laurel-referral-offer'))).toBe(
      'Give your friends a welcome discount on their first order. You get 1 point when they order.',
    );
  });

  it("a member whose code Shopify does not hold yet: it's on its way, no link", async () => {
    const html = await block({ referral: PERCENT, customer: withCode(null) });
    expect(text(find(html, 'data-laurel-referral-pending'))).toBe(
      'Your referral link is on its way. Check back in a moment.',
    );
    expect(find(html, 'data-laurel-referral-url')).toBeUndefined();
    expect(find(html, 'data-laurel-referral-copy')).toBeUndefined();
  });

  it('a guest: the offer, and sign-in and join links', async () => {
    const html = await block({ referral: PERCENT });
    expect(text(find(html, 'data-laurel-referral-offer'))).toContain('10% off');
    const signedOut = find(html, 'data-laurel-referral-signed-out')!;
    expect(text(signedOut)).toBe(
      'Sign in or create an account to get your link. Sign in Create an account',
    );
    expect(signedOut.inner).toContain('href="/account/login"');
    expect(signedOut.inner).toContain('href="/account/register"');
    expect(find(html, 'data-laurel-referral-url')).toBeUndefined();
  });

  it('referrals off: nothing for shoppers, a note in the theme editor', async () => {
    for (const customer of ['guest', withCode(CODE)] as const) {
      const html = await block({ referral: null, customer });
      expect(text(find(html, 'data-laurel-referral-block'))).toBe('');
      expect(find(html, 'data-laurel-referral')).toBeUndefined();
    }
    const editor = await block({ referral: null, designMode: true });
    expect(text(find(editor, 'data-laurel-referral-block'))).toBe(
      'Laurel: the referral program is off, so this block shows nothing to shoppers.',
    );
    // No program summary at all reads the same as referrals off.
    expect(text(find(await block({ program: null }), 'data-laurel-referral-block'))).toBe('');
  });

  it('in French: the strings of fr.json, French number spacing', async () => {
    const html = await block({ referral: PERCENT, customer: withCode(CODE), locale: 'fr' });
    expect(text(find(html, 'data-laurel-referral-offer'))).toBe(
      'Offrez à vos amis 10\u00a0% de réduction sur leur première commande. Vous recevez 500 points quand ils commandent.',
    );
    expect(text(find(html, 'data-laurel-referral-copy'))).toBe('Copier le lien');
    expect(find(html, 'data-laurel-referral-share')!.attributes['data-title']).toBe(
      'Une remise de bienvenue pour vous',
    );
  });

  it('a heading and accent from the settings, escaped', async () => {
    const html = await block(
      { referral: PERCENT, customer: withCode(CODE) },
      { heading: 'Share <the> love', accent_color: '#aa0000', alignment: 'center' },
    );
    expect(html).toContain('>Share &lt;the&gt; love</h2>');
    expect(find(html, 'data-laurel-referral-block')!.attributes.style).toBe(
      '--laurel-accent:#aa0000;text-align:center',
    );
  });

  it('a code that is not what Laurel writes is shown as text, never as markup', async () => {
    const hostile = '"><script>alert(1)</script>';
    const html = await block({ referral: PERCENT, customer: withCode(hostile) });
    expect(html).not.toContain('<script>alert(1)');
    expect(find(html, 'data-laurel-referral-url')!.attributes.value).toBe(
      `${SHOP_URL}/apps/loyalty/r/${hostile}`,
    );
    expect(find(html, 'data-laurel-referral-share')!.attributes.href).not.toMatch(/[<>"]/);
  });
});

describe("the launcher's referral section and the friend's welcome", () => {
  const launcher = (scenario: Scenario) =>
    engine.renderBlock('launcher', storefront(scenario), { show_to_guests: true });

  it("the panel carries the member's link under a subheading, and the welcome note, hidden", async () => {
    const html = await launcher({ referral: PERCENT, customer: withCode(CODE) });
    const slot = referralSlot(html);
    expect(slot.inner).toContain('<h3 ');
    expect(slot.inner).toContain(`value="${SHOP_URL}/apps/loyalty/r/${CODE}"`);
    const welcome = find(html, 'data-laurel-welcome')!;
    expect(isHidden(welcome)).toBe(true);
    expect(welcome.attributes.role).toBe('status');
    expect(text(welcome)).toBe(
      'Your friend’s welcome discount is in your cart — it applies at checkout.',
    );
    expect(html).toContain('<script src="/dev/preview/assets/laurel-referral.js" defer="defer">');
  });

  it('a guest: the offer in the panel without a second pair of sign-in links', async () => {
    const html = await launcher({ referral: PERCENT });
    const slot = referralSlot(html);
    expect(slot.inner).toContain('data-laurel-referral-signed-out');
    expect(slot.inner).not.toContain('/account/login');
  });

  it('the welcome shows to guests even when the launcher is not offered to them', async () => {
    const html = await engine.renderBlock('launcher', storefront({ referral: PERCENT }), {
      show_to_guests: false,
    });
    expect(find(html, 'data-laurel-launcher')).toBeUndefined();
    expect(find(html, 'data-laurel-welcome')).toBeDefined();
  });

  it('referrals off: an empty slot, no welcome, no referral script', async () => {
    const html = await launcher({ referral: null, customer: withCode(CODE) });
    const slot = referralSlot(html);
    expect(slot.inner.trim()).toBe('');
    expect(find(html, 'data-laurel-welcome')).toBeUndefined();
    expect(html).not.toContain('laurel-referral.js');
  });
});
