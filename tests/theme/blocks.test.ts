import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createStorefrontEngine,
  DEFAULT_EXTENSION_DIR,
  type BlockName,
} from '../../dev/storefront/liquid-engine';
import { referenceProgram } from '../../loyalty/program';
import {
  find,
  findAll,
  isHidden,
  member,
  product,
  referenceSummary,
  storefront,
  summaryOf,
  text,
  tierStatus,
  variant,
  type Scenario,
} from './helpers';

const engine = createStorefrontEngine();
const NNBSP = '\u202f';

const render = (name: BlockName, scenario: Scenario, settings?: Record<string, unknown>) =>
  engine.renderBlock(name, storefront(scenario), settings);

const shoe = product([variant(41, 12000), variant(42, 3000), variant(43, 5100)]);

/** The four situations every block must handle. */
const situations: Record<string, Scenario> = {
  'logged out': { customer: 'guest', product: shoe },
  'logged in with metafields': { customer: member(1250, 2000), product: shoe },
  'logged in, metafields not written yet': { customer: {}, product: shoe },
  'shopping in another currency': { customer: member(1250, 2000), currency: 'EUR', product: shoe },
};

describe('every block renders in every situation', () => {
  for (const name of ['points-balance', 'product-points', 'launcher', 'rewards'] as const) {
    for (const [situation, scenario] of Object.entries(situations)) {
      for (const locale of ['en', 'fr']) {
        it(`${name}: ${situation} (${locale})`, async () => {
          const html = await render(name, { ...scenario, locale });
          expect(html).toMatch(
            /^<div id="shopify-block-laurel_[a-z_]+_\d+" class="shopify-block shopify-app-block">/,
          );
          expect(html).not.toMatch(/Liquid error|translation missing|undefined|NaN/i);
          expect(html).not.toContain('{{');
        });
      }
    }
  }
});

describe('points balance block', () => {
  it('shows a member their balance and lifetime points from the $app metafields', async () => {
    const html = await render('points-balance', { customer: member(1250, 20_000) });
    const balance = find(html, 'data-laurel-balance');
    expect(balance?.attributes['data-laurel-balance']).toBe('1250');
    expect(text(balance)).toBe('1,250');
    const lifetime = find(html, 'data-laurel-lifetime');
    expect(lifetime?.attributes['data-laurel-lifetime']).toBe('20000');
    expect(text(lifetime)).toBe('20,000');
    expect(text(find(html, 'data-laurel-balance-block'))).toContain('1,250 points');
    expect(find(html, 'data-laurel-signed-out')).toBeUndefined();
    expect(find(html, 'data-laurel-tier')).toBeUndefined();
  });

  it('says "point" for one, groups digits the French way in French', async () => {
    expect(
      text(
        find(
          await render('points-balance', { customer: member(1, 1) }),
          'data-laurel-balance-block',
        ),
      ),
    ).toContain('1 point Lifetime points 1 point');
    const html = await render('points-balance', { customer: member(1_234_567, 0), locale: 'fr' });
    expect(text(find(html, 'data-laurel-balance'))).toBe(`1${NNBSP}234${NNBSP}567`);
    expect(text(find(html, 'data-laurel-balance-block'))).toContain('Solde de points');
    // French: 0 and 1 take the singular
    expect(text(find(html, 'data-laurel-balance-block'))).toContain('Points cumulés 0 point');
  });

  it('shows a negative balance as such', async () => {
    const html = await render('points-balance', { customer: member(-1500, 3000) });
    expect(find(html, 'data-laurel-balance')?.attributes['data-laurel-balance']).toBe('-1500');
    expect(text(find(html, 'data-laurel-balance'))).toBe('-1,500');
  });

  it('shows a Gold member their tier and what is left to the next, server-rendered', async () => {
    const html = await render('points-balance', {
      customer: member(10, 10, tierStatus('gold', 482_000)),
    });
    const tier = find(html, 'data-laurel-tier');
    expect(tier?.attributes['data-laurel-tier']).toBe('gold');
    expect(text(tier)).toBe('Gold');
    expect(text(find(html, 'data-laurel-tier-progress'))).toBe('$180 more to Platinum');
    expect(text(find(html, 'data-laurel-tier-row'))).toBe('Tier Gold $180 more to Platinum');
    const fr = await render('points-balance', {
      customer: member(10, 10, tierStatus('gold', 482_000)),
      locale: 'fr',
      moneyFormat: '{{amount_with_comma_separator}} €',
    });
    expect(text(find(fr, 'data-laurel-tier-progress'))).toBe(
      'Encore 180 € pour atteindre Platinum',
    );
  });

  it('says "Top tier" at the top, and shows the way to the first tier to a member without one', async () => {
    const top = await render('points-balance', {
      customer: member(10, 10, tierStatus('platinum', 600_000)),
    });
    expect(text(find(top, 'data-laurel-tier'))).toBe('Platinum');
    expect(text(find(top, 'data-laurel-tier-progress'))).toBe('Top tier');
    const none = await render('points-balance', {
      customer: member(10, 10, tierStatus(null, 2_550, { key: null })),
    });
    expect(find(none, 'data-laurel-tier')).toBeUndefined();
    expect(text(find(none, 'data-laurel-tier-progress'))).toBe('$224.50 more to Silver');
  });

  it('counts points and orders in their own words, and leaves out amounts in another currency', async () => {
    const points = await render('points-balance', {
      customer: member(
        10,
        10,
        tierStatus('silver', 0, {
          metric: 'points',
          currency: null,
          digits: null,
          next: { key: 'gold', name: 'Gold', threshold: 2_000, remaining: 1_250 },
        }),
      ),
    });
    expect(text(find(points, 'data-laurel-tier-progress'))).toBe('1,250 more points to Gold');
    const orders = await render('points-balance', {
      customer: member(
        10,
        10,
        tierStatus('silver', 0, {
          metric: 'orders',
          currency: null,
          digits: null,
          next: { key: 'gold', name: 'Gold', threshold: 5, remaining: 1 },
        }),
      ),
    });
    expect(text(find(orders, 'data-laurel-tier-progress'))).toBe('1 more order to Gold');
    const euros = await render('points-balance', {
      customer: member(10, 10, tierStatus('gold', 482_000)),
      currency: 'EUR',
    });
    expect(text(find(euros, 'data-laurel-tier-progress'))).toBe('Next tier: Platinum');
  });

  it('escapes the merchant’s tier names, and hides what the merchant turned off', async () => {
    const hostile = tierStatus('gold', 482_000, {
      name: '<b>Gold</b> & co',
      next: { key: 'platinum', name: '<i>Plat</i>', threshold: 500_000, remaining: 18_000 },
    });
    const html = await render('points-balance', { customer: member(10, 10, hostile) });
    expect(text(find(html, 'data-laurel-tier'))).toBe('<b>Gold</b> & co');
    expect(html).toContain('&lt;b&gt;Gold&lt;/b&gt; &amp; co');
    expect(html).toContain('more to &lt;i&gt;Plat&lt;/i&gt;');
    expect(html).not.toContain('<i>Plat');
    const off = await render(
      'points-balance',
      { customer: member(10, 10, tierStatus('gold', 482_000)) },
      { show_tier: false, show_lifetime: false },
    );
    expect(find(off, 'data-laurel-tier-row')).toBeUndefined();
    expect(find(off, 'data-laurel-lifetime')).toBeUndefined();
    expect(find(off, 'data-laurel-balance')).toBeDefined();
  });

  it('never shows a number it does not know: a member whose metafields are not written yet waits', async () => {
    const html = await render('points-balance', { customer: {} });
    expect(find(html, 'data-laurel-balance')).toBeUndefined();
    expect(find(html, 'data-laurel-lifetime')).toBeUndefined();
    expect(text(find(html, 'data-laurel-balance-pending'))).toBe(
      'Your points are on their way. Check back in a moment.',
    );
    expect(text(find(html, 'data-laurel-balance-block'))).not.toMatch(/\d/);
  });

  it('a lifetime metafield without a balance still waits (the balance is what the block is for)', async () => {
    const html = await render('points-balance', {
      customer: { lifetime_points: { value: 40, type: 'number_integer' } },
    });
    expect(find(html, 'data-laurel-balance-pending')).toBeDefined();
    expect(find(html, 'data-laurel-lifetime')).toBeUndefined();
  });

  it('tells a signed-out shopper the program in one sentence, with sign-in and join links', async () => {
    const html = await render('points-balance', {
      program: summaryOf({ ...referenceProgram, signupBonus: 1500 }),
    });
    const signedOut = find(html, 'data-laurel-signed-out');
    expect(text(signedOut)).toContain(
      'Earn 1 point per $1 between $50 and $100 and 2 points per $1 over $100 on each order. Get 1,500 points when you join.',
    );
    const links = findAll(signedOut!.inner, 'href').map((a) => [a.attributes.href, text(a)]);
    expect(links).toEqual([
      ['/account/login', 'Sign in'],
      ['/account/register', 'Create an account'],
    ]);
    expect(find(html, 'data-laurel-balance')).toBeUndefined();
  });

  it('describes every band shape: from zero, capped, between, open-ended', async () => {
    const program = summaryOf({
      name: 'Bands',
      currency: 'USD',
      earn: {
        unit: '0.50',
        bands: [
          { over: '0', upTo: '20.00', pointsPerUnit: 1 },
          { over: '20.00', upTo: '1000.00', pointsPerUnit: 3 },
          { over: '1000.00', pointsPerUnit: 5 },
        ],
      },
    });
    const html = await render('points-balance', { program });
    expect(text(find(html, 'data-laurel-signed-out'))).toContain(
      'Earn 1 point per $0.50 up to $20, 3 points per $0.50 between $20 and $1,000 and 5 points per $0.50 over $1,000 on each order.',
    );
    const single = summaryOf({
      name: 'Flat',
      currency: 'USD',
      earn: { unit: '1.00', bands: [{ over: '0', pointsPerUnit: 10 }] },
    });
    const flat = await render('points-balance', { program: single, locale: 'fr' });
    expect(text(find(flat, 'data-laurel-signed-out'))).toContain(
      'Gagnez 10 points par $1 sur chaque commande.',
    );
  });

  it("formats amounts with the shop's money format, in hundredths whatever the currency's digits", async () => {
    const yen = summaryOf({
      name: 'Yen',
      currency: 'JPY',
      earn: { unit: '100', bands: [{ over: '5000', pointsPerUnit: 1 }] },
    });
    const html = await render('points-balance', {
      program: yen,
      moneyFormat: '¥{{amount_no_decimals}}',
    });
    expect(text(find(html, 'data-laurel-signed-out'))).toContain(
      'Earn 1 point per ¥100 over ¥5,000 on each order.',
    );
    const dinar = summaryOf({
      name: 'Dinar',
      currency: 'KWD',
      earn: { unit: '1.000', bands: [{ over: '10.500', pointsPerUnit: 2 }] },
    });
    const kd = await render('points-balance', { program: dinar, moneyFormat: '{{amount}} KD' });
    expect(text(find(kd, 'data-laurel-signed-out'))).toContain(
      'Earn 2 points per 1 KD over 10.50 KD on each order.',
    );
    const euro = summaryOf({
      name: 'Euro',
      currency: 'EUR',
      earn: { unit: '1.00', bands: [{ over: '1234.50', pointsPerUnit: 1 }] },
    });
    const eu = await render('points-balance', {
      program: euro,
      moneyFormat: '{{amount_with_comma_separator}} €',
      locale: 'fr',
    });
    expect(text(find(eu, 'data-laurel-signed-out'))).toContain(
      'Gagnez 1 point par 1 € au-delà de 1.234,50 € sur chaque commande.',
    );
  });

  it('shows no amounts to a shopper browsing in another currency, nor without a program', async () => {
    for (const scenario of [{ currency: 'EUR' }, { program: null }] satisfies Scenario[]) {
      const html = await render('points-balance', scenario);
      expect(text(find(html, 'data-laurel-signed-out'))).toBe(
        'Join our rewards program to earn points on your orders. Sign in Create an account',
      );
    }
  });

  it("uses the merchant's heading, escaped, and the theme's colours unless one is set", async () => {
    const html = await render(
      'points-balance',
      {},
      { heading: 'Club <Laurel>', accent_color: '#aa0000', alignment: 'center' },
    );
    expect(html).toContain('Club &lt;Laurel&gt;');
    expect(find(html, 'data-laurel-balance-block')?.attributes.style).toBe(
      '--laurel-accent:#aa0000;text-align:center',
    );
  });
});

describe('product points block', () => {
  it('renders "Earn N points" for the selected variant, with every variant price for the script', async () => {
    const html = await render('product-points', { product: shoe });
    const root = find(html, 'data-laurel-product-points');
    expect(root?.attributes['data-points']).toBe('90');
    expect(isHidden(root)).toBe(false);
    expect(text(find(html, 'data-laurel-earn'))).toBe('Earn 90 points with this item');
    expect(isHidden(find(html, 'data-laurel-earn-zero'))).toBe(true);
    expect(text(find(html, 'data-laurel-product-points'))).toContain(
      'Points are counted on your whole order.',
    );
    const data = JSON.parse(find(html, 'data-laurel-product-data')!.inner) as unknown;
    expect(data).toEqual({
      program: referenceSummary,
      // No campaign running: ×1 (tests/theme/campaigns.test.ts).
      bps: 10_000,
      variants: { '41': 12000, '42': 3000, '43': 5100 },
    });
    const earn = find(html, 'data-laurel-earn')!;
    expect(earn.attributes['data-one']).toBe('Earn {n} point with this item');
    expect(earn.attributes['data-other']).toBe('Earn {n} points with this item');
  });

  it('follows ?variant= (Shopify resolves it into selected_or_first_available_variant)', async () => {
    const one = await render('product-points', {
      product: product(shoe.variants, shoe.variants[2]),
    });
    expect(find(one, 'data-laurel-product-points')?.attributes['data-points']).toBe('1');
    expect(text(find(one, 'data-laurel-earn'))).toBe('Earn 1 point with this item');
    const fr = await render('product-points', { product: shoe, locale: 'fr' });
    expect(text(find(fr, 'data-laurel-earn'))).toBe('Gagnez 90 points avec cet article');
  });

  it('says from what order amount points start when this item alone earns nothing', async () => {
    const cheap = product(shoe.variants, shoe.variants[1]);
    const html = await render('product-points', { product: cheap });
    expect(find(html, 'data-laurel-product-points')?.attributes['data-points']).toBe('0');
    expect(isHidden(find(html, 'data-laurel-earn'))).toBe(true);
    const zero = find(html, 'data-laurel-earn-zero');
    expect(isHidden(zero)).toBe(false);
    // $50 is the band floor; a whole $1 above it is the first amount that earns
    expect(text(zero)).toBe('Orders of $51 or more earn points.');

    const hidden = await render('product-points', { product: cheap }, { show_when_zero: false });
    const root = find(hidden, 'data-laurel-product-points');
    expect(isHidden(root)).toBe(true);
    expect(root?.attributes['data-zero']).toBe('hide');
  });

  it('shows nothing in another currency or without a program; the theme editor explains why', async () => {
    for (const scenario of [{ currency: 'EUR' }, { program: null }] satisfies Scenario[]) {
      const html = await render('product-points', { ...scenario, product: shoe });
      expect(find(html, 'data-laurel-product-points')).toBeUndefined();
      expect(find(html, 'data-laurel-editor-hint')).toBeUndefined();
    }
    const other = await render('product-points', {
      currency: 'EUR',
      product: shoe,
      designMode: true,
    });
    expect(text(find(other, 'data-laurel-editor-hint'))).toBe(
      'Laurel: the program earns in USD; shoppers browsing in another currency see nothing here.',
    );
    const none = await render('product-points', { program: null, product: shoe, designMode: true });
    expect(text(find(none, 'data-laurel-editor-hint'))).toContain(
      'no earn program is published yet',
    );
  });

  it('shows nothing outside a product page', async () => {
    const html = await render('product-points', {});
    expect(find(html, 'data-laurel-product-points')).toBeUndefined();
  });

  it('cannot be broken out of its JSON script by a program name', async () => {
    const program = { ...referenceSummary, name: '</script><script>alert(1)</script>' };
    const html = await render('product-points', { program, product: shoe });
    const script = find(html, 'data-laurel-product-data')!;
    expect(script.inner).not.toContain('</script');
    expect((JSON.parse(script.inner) as { program: { name: string } }).program.name).toBe(
      program.name,
    );
  });
});

describe('launcher embed', () => {
  it('renders a closed dialog wired to its button, fetching nothing', async () => {
    const html = await render('launcher', { customer: member(1250, 2000) });
    const root = find(html, 'data-laurel-root')!;
    expect(root.attributes).toMatchObject({
      'data-root': '/',
      'data-locale': 'en',
      'data-limit': '10',
      'data-signed-in': 'true',
      'data-group': ',',
      'data-one': 'point',
      'data-other': 'points',
    });
    const button = find(html, 'data-laurel-launcher')!;
    expect(button.tag).toBe('button');
    expect(button.attributes['aria-expanded']).toBe('false');
    expect(text(button)).toBe('Rewards');
    const panel = find(html, 'data-laurel-panel')!;
    expect(panel.attributes.id).toBe(button.attributes['aria-controls']);
    expect(panel.attributes).toMatchObject({
      role: 'dialog',
      'aria-modal': 'true',
      tabindex: '-1',
    });
    expect(isHidden(panel)).toBe(true);
    const title = findAll(html, 'id').find(
      (e) => e.attributes.id === panel.attributes['aria-labelledby'],
    );
    expect(text(title)).toBe('Your rewards');
    expect(find(html, 'data-laurel-close')?.attributes['aria-label']).toBe('Close');
    expect(find(html, 'data-laurel-status')?.attributes).toMatchObject({
      role: 'status',
      'aria-live': 'polite',
    });
    expect(text(find(html, 'data-laurel-panel-balance'))).toBe('');
    expect(findAll(html, 'data-laurel-history')[0]?.inner).toBe('');
    expect(isHidden(find(html, 'data-laurel-history-more'))).toBe(true);
    expect(isHidden(find(html, 'data-laurel-panel-member'))).toBe(false);
    expect(isHidden(find(html, 'data-laurel-panel-signed-out'))).toBe(true);
    expect(text(find(html, 'data-laurel-panel'))).toContain(
      'How to earn Earn 1 point per $1 between $50 and $100 and 2 points per $1 over $100 on each order.',
    );
  });

  it('fills the rewards slot [6]; tier [7] and referral [8] stay empty, with no placeholder text', async () => {
    const html = await render('launcher', { customer: member(1, 1) });
    const slots = findAll(html, 'data-laurel-slot');
    expect(slots.map((slot) => slot.attributes['data-laurel-slot'])).toEqual([
      'rewards',
      'tier',
      'referral',
    ]);
    expect(slots.slice(1).map((slot) => slot.inner)).toEqual(['', '']);
    const rewards = find(slots[0]!.inner, 'data-laurel-rewards')!;
    expect(rewards.tag).toBe('section');
    // a subheading under the panel's title, and no balance line or links: the panel has them
    expect(find(rewards.inner, 'class')?.tag).toBe('h3');
    expect(find(rewards.inner, 'data-laurel-rewards-balance')).toBeUndefined();
    expect(find(rewards.inner, 'data-laurel-rewards-signed-out')).toBeUndefined();
    expect(html).not.toMatch(/TODO|coming soon/i);
  });

  it('loads the rewards scripts itself, deferred, from the extension assets', async () => {
    const html = await render('launcher', {});
    const scripts = findAll(html, 'src').filter((e) => e.tag === 'script');
    expect(scripts.map((e) => [e.attributes.src, e.attributes.defer])).toEqual([
      ['/dev/preview/assets/laurel-rewards.js', 'defer'],
      ['/dev/preview/assets/laurel-redeem.js', 'defer'],
    ]);
    // laurel.js itself comes from the schema, as before
    expect(engine.blockSchema('launcher').javascript).toBe('laurel.js');
    const none = await render('launcher', {}, { show_to_guests: false });
    expect(none).not.toContain('<script');
  });

  it('shows a signed-out shopper how to earn and where to sign in, or nothing if the merchant says so', async () => {
    const html = await render('launcher', { locale: 'fr' });
    expect(find(html, 'data-laurel-root')?.attributes['data-signed-in']).toBe('false');
    expect(isHidden(find(html, 'data-laurel-panel-member'))).toBe(true);
    expect(isHidden(find(html, 'data-laurel-activity'))).toBe(true);
    const signedOut = find(html, 'data-laurel-panel-signed-out');
    expect(isHidden(signedOut)).toBe(false);
    expect(text(signedOut)).toBe(
      'Connectez-vous pour voir vos points et votre activité. Se connecter Créer un compte',
    );
    const none = await render('launcher', {}, { show_to_guests: false });
    expect(find(none, 'data-laurel-root')).toBeUndefined();
  });

  it("takes the merchant's label, position, colours and page size", async () => {
    const html = await render(
      'launcher',
      { customer: member(1, 1) },
      {
        label: 'Points & perks',
        position: 'bottom_left',
        button_color: '#000000',
        text_color: '#fafafa',
        offset: 24,
        history_page_size: 25,
      },
    );
    const root = find(html, 'data-laurel-root')!;
    expect(root.attributes.class).toContain('laurel-launcher--bottom_left');
    expect(root.attributes.style).toBe(
      '--laurel-button-bg:#000000;--laurel-button-fg:#fafafa;--laurel-offset:24px',
    );
    expect(root.attributes['data-limit']).toBe('25');
    expect(text(find(html, 'data-laurel-launcher'))).toBe('Points & perks');
    expect(html).toContain('Points &amp; perks');
  });

  it('points the script at the app proxy under the locale root', async () => {
    const objects = storefront({ customer: member(1, 1), locale: 'fr' });
    objects.routes.root_url = '/fr';
    const html = await engine.renderBlock('launcher', objects);
    expect(find(html, 'data-laurel-root')?.attributes['data-root']).toBe('/fr');
    expect(find(html, 'data-laurel-root')?.attributes['data-group']).toBe(NNBSP);
  });
});

describe('the engine', () => {
  it('refuses a setting the block does not have', async () => {
    await expect(render('launcher', {}, { colour: 'red' })).rejects.toThrow(
      "block 'launcher' has no setting 'colour'",
    );
  });

  it('gives each block a unique id', async () => {
    const a = await render('launcher', {});
    const b = await render('launcher', {});
    expect(find(a, 'data-laurel-panel')?.attributes.id).not.toBe(
      find(b, 'data-laurel-panel')?.attributes.id,
    );
  });

  it("injects each block's stylesheet and deferred script once, at the preview's asset URL", () => {
    expect(engine.headTags(['points-balance', 'product-points', 'launcher'])).toBe(
      '<link href="/dev/preview/assets/laurel.css" rel="stylesheet" type="text/css" media="all">\n' +
        '<script src="/dev/preview/assets/laurel.js" defer="defer"></script>',
    );
    expect(engine.headTags(['rewards', 'launcher'])).toBe(
      '<link href="/dev/preview/assets/laurel.css" rel="stylesheet" type="text/css" media="all">\n' +
        '<script src="/dev/preview/assets/laurel-rewards.js" defer="defer"></script>\n' +
        '<script src="/dev/preview/assets/laurel.js" defer="defer"></script>',
    );
    // the balance block is server-rendered: no script for it
    expect(engine.headTags(['points-balance'])).not.toContain('<script');
    const cdn = createStorefrontEngine({ assetBaseUrl: 'https://cdn.example/ext/' });
    expect(cdn.assetUrl('laurel.js')).toBe('https://cdn.example/ext/laurel.js');
  });

  it('reads each block schema', () => {
    expect(engine.blockSchema('launcher')).toMatchObject({
      target: 'body',
      javascript: 'laurel.js',
    });
    expect(engine.blockSchema('product-points').enabled_on).toEqual({ templates: ['product'] });
  });
});

describe('rewards block', () => {
  it('renders the heading, the balance from the metafield, and a skeleton for the catalog', async () => {
    const html = await render('rewards', { customer: member(1250, 2000) });
    const root = find(html, 'data-laurel-rewards')!;
    expect(root.attributes).toMatchObject({
      'data-root': '/',
      'data-locale': 'en',
      'data-login': '/account/login',
      'data-signed-in': 'true',
      'data-group': ',',
      'data-one': 'point',
      'data-other': 'points',
    });
    expect(root.attributes).not.toHaveProperty('data-hide-redeemed');
    const title = findAll(html, 'id').find(
      (e) => e.attributes.id === root.attributes['aria-labelledby'],
    );
    expect(title?.tag).toBe('h2');
    expect(text(title)).toBe('Rewards');
    const balance = find(html, 'data-laurel-rewards-balance');
    expect(balance?.attributes['data-laurel-rewards-balance']).toBe('1250');
    expect(text(balance)).toBe('1,250');
    expect(text(find(html, 'data-laurel-points-unit'))).toBe('points');
    // the catalog comes from the script: three skeleton rows hidden from assistive technology
    const list = find(html, 'data-laurel-rewards-list')!;
    const rows = findAll(list.inner, 'class');
    expect(
      rows.map((row) => [row.attributes.class, row.attributes['aria-hidden'], row.inner]),
    ).toEqual(Array(3).fill(['laurel-reward laurel-reward--skeleton', 'true', '']));
    expect(find(html, 'data-laurel-rewards-status')?.attributes).toMatchObject({
      role: 'status',
      'aria-live': 'polite',
    });
    expect(isHidden(find(html, 'data-laurel-rewards-result'))).toBe(true);
    expect(isHidden(find(html, 'data-laurel-rewards-mine'))).toBe(true);
    expect(find(html, 'data-laurel-rewards-signed-out')).toBeUndefined();
    expect(find(html, 'data-laurel-rewards-block')?.attributes.style).toBe(
      '--laurel-rewards-height:400px',
    );
  });

  it('gives a signed-out shopper sign-in and join links, and no balance', async () => {
    const html = await render('rewards', { locale: 'fr' });
    expect(find(html, 'data-laurel-rewards')?.attributes['data-signed-in']).toBe('false');
    const signedOut = find(html, 'data-laurel-rewards-signed-out');
    expect(text(signedOut)).toBe(
      'Connectez-vous ou créez un compte pour échanger vos points contre des récompenses. Se connecter Créer un compte',
    );
    expect(findAll(signedOut!.inner, 'href').map((a) => a.attributes.href)).toEqual([
      '/account/login',
      '/account/register',
    ]);
    expect(find(html, 'data-laurel-rewards-balance')).toBeUndefined();
    const root = find(html, 'data-laurel-rewards')!;
    const title = findAll(html, 'id').find(
      (e) => e.attributes.id === root.attributes['aria-labelledby'],
    );
    expect(text(title)).toBe('Récompenses');
  });

  it('keeps the balance line empty for a member whose metafields are not written yet', async () => {
    const html = await render('rewards', { customer: {} });
    const balance = find(html, 'data-laurel-rewards-balance');
    expect(balance?.attributes['data-laurel-rewards-balance']).toBe('');
    expect(text(balance)).toBe('');
    expect(html).not.toMatch(/>\s*0\s*</);
  });

  it("takes the merchant's heading (escaped), height, colour and choices", async () => {
    const html = await render(
      'rewards',
      { customer: member(5, 5) },
      {
        heading: '<b>Perks</b> & more',
        show_balance: false,
        show_redeemed: false,
        list_height: 560,
        accent_color: '#aa0000',
      },
    );
    expect(html).toContain('&lt;b&gt;Perks&lt;/b&gt; &amp; more');
    expect(html).not.toContain('<b>Perks');
    expect(find(html, 'data-laurel-rewards-balance')).toBeUndefined();
    expect(find(html, 'data-laurel-rewards')?.attributes).toHaveProperty('data-hide-redeemed');
    expect(find(html, 'data-laurel-rewards-block')?.attributes.style).toBe(
      '--laurel-accent:#aa0000;--laurel-rewards-height:560px',
    );
  });

  it('holds every string the scripts show, in the page language, with both plural forms', async () => {
    const english = await render('rewards', { customer: member(1, 1) });
    const messages = findAll(english, 'data-m');
    const byName = new Map(messages.map((m) => [m.attributes['data-m'], m]));
    expect(text(byName.get('confirm'))).toBe('Spend {points} for {value}?');
    expect(byName.get('more')?.attributes).toMatchObject({
      'data-one': '{n} more point needed',
      'data-other': '{n} more points needed',
    });
    expect(text(byName.get('upstream'))).toBe(
      'Shopify could not create your code; your points were returned.',
    );
    expect(text(byName.get('pending'))).toContain('Your code is on its way');
    // every message the scripts ask for (m('…') in either file) is in the template
    const scripts = ['laurel-rewards.js', 'laurel-redeem.js']
      .map((file) => readFileSync(path.join(DEFAULT_EXTENSION_DIR, 'assets', file), 'utf8'))
      .join('\n');
    const asked = new Set([...scripts.matchAll(/\bm\(\s*'([a-z_]+)'/g)].map((match) => match[1]!));
    for (const table of scripts.matchAll(/\{ (?:LIMIT_REACHED|403): [^}]+\}/g))
      for (const name of table[0].matchAll(/: '([a-z_]+)'/g)) asked.add(name[1]!);
    expect(asked.size).toBeGreaterThan(25);
    expect([...asked].filter((name) => !byName.has(name))).toEqual([]);

    const french = await render('rewards', { customer: member(1, 1), locale: 'fr' });
    const fr = new Map(findAll(french, 'data-m').map((m) => [m.attributes['data-m'], m]));
    expect(text(fr.get('confirm'))).toBe('Dépenser {points} pour {value}\u00a0?');
    expect(fr.get('expiry')?.attributes['data-other']).toBe('Code valable {n} jours');
  });

  it('loads its script from the schema and the Redeem script beside it, deferred', async () => {
    expect(engine.blockSchema('rewards')).toMatchObject({
      target: 'section',
      javascript: 'laurel-rewards.js',
      stylesheet: 'laurel.css',
    });
    const html = await render('rewards', {});
    const scripts = findAll(html, 'src').filter((e) => e.tag === 'script');
    expect(scripts.map((e) => [e.attributes.src, e.attributes.defer])).toEqual([
      ['/dev/preview/assets/laurel-redeem.js', 'defer'],
    ]);
  });

  it('gives each rewards section unique ids, in the block and in the launcher on one page', async () => {
    const objects = storefront({ customer: member(1, 1) });
    const page = [
      await engine.renderBlock('rewards', objects),
      await engine.renderBlock('launcher', objects),
    ].join('');
    const ids = findAll(page, 'id').map((e) => e.attributes.id);
    expect(ids.filter((id) => id!.startsWith('laurel-rewards')).length).toBe(4);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
