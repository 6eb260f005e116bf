/**
 * The early-access block rendered with the real Liquid: decided on the server from the product's
 * `$app.early_access` mirror and the shopper's `$app.tier` key against the time of rendering —
 * before, during and after a window, for Gold, Bronze, a member without a tier and a logged-out
 * shopper — with the buy buttons hidden or disabled by CSS and no script at all.
 */
import { describe, expect, it } from 'vitest';
import { createStorefrontEngine } from '../../dev/storefront/liquid-engine';
import {
  localTimeText,
  parseEarlyAccessWindow,
  productMirror,
  type ProductMirror,
} from '../../loyalty/early-access';
import { parseTierProgram } from '../../loyalty/tiers';
import { FOUR_TIERS } from '../helpers/tiers';
import {
  find,
  member,
  product,
  storefront,
  text,
  tierStatus,
  variant,
  type Scenario,
} from './helpers';

const engine = createStorefrontEngine();
const tiers = parseTierProgram(FOUR_TIERS, { shopCurrency: 'USD' });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TZ = 'Europe/Paris';
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const local = (ms: number) => localTimeText(ms, TZ).slice(0, 16);

/** A window whose Gold stage opens at `gold` and everyone at `everyone` (epoch ms). */
function mirrorOf(
  ...windows: { gold: number; silver?: number; everyone: number }[]
): ProductMirror {
  return productMirror(
    windows.map((w, i) => ({
      id: i + 1,
      window: parseEarlyAccessWindow(
        {
          name: `Window ${i + 1}`,
          target: { type: 'product', id: '7001' },
          stages: [
            { tier: 'gold', opensAt: local(w.gold) },
            ...(w.silver === undefined ? [] : [{ tier: 'silver', opensAt: local(w.silver) }]),
          ],
          everyoneAt: local(w.everyone),
        },
        { timeZone: TZ, tiers },
      ),
    })),
    tiers,
  );
}

const MONTHS_EN = 'Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec'.split(',');
/** What the block prints for a shop-local instant, in English: "Nov 20, 09:00". */
function shown(ms: number): string {
  const at = localTimeText(ms, TZ);
  return `${MONTHS_EN[Number(at.slice(5, 7)) - 1]} ${Number(at.slice(8, 10))}, ${at.slice(11, 16)}`;
}

function onProduct(mirror: ProductMirror | null, scenario: Scenario = {}): Scenario {
  const tea = product([variant(1, 4500)]);
  return {
    ...scenario,
    product: {
      ...tea,
      ...(mirror
        ? { metafields: { $app: { early_access: { value: mirror, type: 'json' } } } }
        : {}),
    },
  };
}

const gold = member(1250, 2000, tierStatus('gold', 120_000));
const bronze = member(10, 10, tierStatus('bronze', 1_000));
const noTier = member(0, 0);

async function render(scenario: Scenario, settings?: Record<string, unknown>) {
  const html = await engine.renderBlock('early-access', storefront(scenario), settings);
  expect(html).not.toMatch(/Liquid error|translation missing|undefined|NaN/i);
  expect(html).not.toMatch(/<script/i);
  return { html, block: find(html, 'data-laurel-early-access') };
}

describe('early-access block: before, during and after a window', () => {
  const before = mirrorOf({ gold: NOW + HOUR, silver: NOW + 2 * HOUR, everyone: NOW + 2 * DAY });
  const during = mirrorOf({ gold: NOW - HOUR, everyone: NOW + DAY });
  const after = mirrorOf({ gold: NOW - 2 * DAY, everyone: NOW - HOUR });

  it('before: Gold waits for its stage, and sees the whole schedule', async () => {
    const { block } = await render(onProduct(before, { customer: gold }));
    expect(block?.attributes['data-opens-at']).toBe(String((NOW + HOUR) / 1000));
    expect(text(find(block!.inner, 'data-laurel-early-access-opens'))).toBe(
      `You can buy this from ${shown(NOW + HOUR)}.`,
    );
    expect(text(find(block!.inner, 'data-laurel-early-access-schedule'))).toBe(
      `Gold members from ${shown(NOW + HOUR)}; Silver members from ${shown(NOW + 2 * HOUR)}; everyone from ${shown(NOW + 2 * DAY)}`,
    );
  });

  it('during: Gold may buy (told so, buttons untouched); Bronze waits for everyone', async () => {
    const goldPage = await render(onProduct(during, { customer: gold }));
    expect(goldPage.block).toBeUndefined();
    expect(goldPage.html).not.toContain('<style');
    expect(text(find(goldPage.html, 'data-laurel-early-access-member'))).toBe(
      'Early access Early access for Gold members: you can buy this now.',
    );

    const { html, block } = await render(onProduct(during, { customer: bronze }));
    expect(text(find(block!.inner, 'data-laurel-early-access-opens'))).toBe(
      `You can buy this from ${shown(NOW + DAY)}.`,
    );
    // The buy buttons are hidden by CSS in the page itself: nothing to wait for, nothing flashes.
    expect(html).toMatch(
      /<style>\s*form\[action\*='\/cart\/add'\] \[type=submit\], form\[action\*='\/cart\/add'\] \.shopify-payment-button \{display: none !important;\}\s*<\/style>/,
    );
    // A member without a tier and a logged-out shopper wait the same; only the latter is asked to sign in.
    const member = await render(onProduct(during, { customer: noTier }));
    expect(find(member.html, 'data-laurel-early-access-opens')).toBeDefined();
    expect(find(member.html, 'data-laurel-early-access-sign-in')).toBeUndefined();
    const guest = await render(onProduct(during, { customer: 'guest' }));
    expect(text(find(guest.html, 'data-laurel-early-access-sign-in'))).toBe(
      'Members may buy sooner: sign in',
    );
    expect(guest.html).toContain('href="/account/login"');
  });

  it('after: everyone may buy, nothing is shown', async () => {
    for (const customer of [gold, bronze, 'guest' as const]) {
      const { html } = await render(onProduct(after, { customer }));
      expect(find(html, 'data-laurel-early-access')).toBeUndefined();
      expect(find(html, 'data-laurel-early-access-member')).toBeUndefined();
    }
  });

  it('a product without a mirror shows nothing; the theme editor gets a hint', async () => {
    expect((await render(onProduct(null, { customer: bronze }))).block).toBeUndefined();
    const editor = await render(onProduct(null, { customer: bronze, designMode: true }));
    expect(find(editor.html, 'data-laurel-editor-hint')).toBeDefined();
  });

  it('several windows: the shopper waits for the last one still closed to them', async () => {
    const two = mirrorOf(
      { gold: NOW - HOUR, everyone: NOW + DAY },
      { gold: NOW + 3 * HOUR, everyone: NOW + 2 * DAY },
    );
    const { block } = await render(onProduct(two, { customer: gold }));
    expect(text(find(block!.inner, 'data-laurel-early-access-opens'))).toBe(
      `You can buy this from ${shown(NOW + 3 * HOUR)}.`,
    );
  });

  it('a mirror of an unknown version closes the product (fail closed)', async () => {
    const { block } = await render(onProduct({ ...during, v: 2 } as never, { customer: gold }));
    expect(text(find(block!.inner, 'data-laurel-early-access-opens'))).toBe(
      'This product is not available yet.',
    );
  });
});

describe('early-access block settings and languages', () => {
  const during = mirrorOf({ gold: NOW - HOUR, everyone: NOW + DAY });

  it('"Show disabled" greys the buttons out instead of hiding them', async () => {
    const { html } = await render(onProduct(during, { customer: bronze }), {
      buy_buttons: 'disable',
    });
    expect(html).toContain('pointer-events: none !important; opacity: 0.45 !important;');
    expect(html).not.toContain('display: none');
  });

  it('a selector cannot close the style element or open Liquid', async () => {
    const { html } = await render(onProduct(during, { customer: bronze }), {
      buy_buttons_selector: '.buy</style><script>alert(1)</script>{}',
    });
    expect(html).toContain('.buy/style>script>alert(1)/script> {');
    expect(html).not.toMatch(/<\/style><script/);
  });

  it('without the schedule, only when the shopper may buy', async () => {
    const { html } = await render(onProduct(during, { customer: bronze }), {
      show_schedule: false,
    });
    expect(find(html, 'data-laurel-early-access-schedule')).toBeUndefined();
    expect(find(html, 'data-laurel-early-access-opens')).toBeDefined();
  });

  it('speaks French, with French dates', async () => {
    const { block } = await render(onProduct(during, { customer: bronze, locale: 'fr' }));
    const at = localTimeText(NOW + DAY, TZ);
    const months = 'janv.,févr.,mars,avr.,mai,juin,juil.,août,sept.,oct.,nov.,déc.'.split(',');
    expect(text(find(block!.inner, 'data-laurel-early-access-opens'))).toBe(
      `Vous pourrez l’acheter à partir du ${Number(at.slice(8, 10))} ${months[Number(at.slice(5, 7)) - 1]} à ${at.slice(11, 16)}.`,
    );
    expect(text(find(block!.inner, 'data-laurel-early-access-schedule'))).toContain(
      'membres Gold à partir du',
    );
  });
});
