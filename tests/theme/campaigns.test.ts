/**
 * Campaigns in the theme blocks, rendered with the real Liquid from the program summary Laurel
 * writes (loyalty/campaigns.ts campaignSummaries): a line while `now` is inside the window and
 * none before or after (no sync needed), the product block's estimate multiplied for eligible
 * products only, bonuses with their minimum, and French.
 */
import { describe, expect, it } from 'vitest';
import { createStorefrontEngine } from '../../dev/storefront/liquid-engine';
import { campaignSummaries, untilText, type CampaignRule } from '../../loyalty/campaigns';
import {
  find,
  findAll,
  product,
  referenceSummary,
  storefront,
  text,
  variant,
  type Scenario,
} from './helpers';

const engine = createStorefrontEngine();
const TZ = 'America/New_York';
const HOUR = 3_600_000;
const NOW = Date.now();

const rule = (over: Partial<CampaignRule> = {}): CampaignRule => ({
  id: 1,
  name: 'Double points weekend',
  kind: 'multiplier',
  factorBps: 20_000,
  bonusPoints: null,
  minimumMinor: null,
  scope: 'all',
  productIds: null,
  stacking: 'multiply',
  startsAt: NOW - HOUR,
  endsAt: NOW + 30 * HOUR,
  ...over,
});

function withCampaigns(rules: CampaignRule[], scenario: Scenario = {}): Scenario {
  return {
    ...scenario,
    program: { ...referenceSummary, campaigns: campaignSummaries(rules, TZ) },
  };
}

async function render(name: 'points-balance' | 'product-points' | 'launcher', scenario: Scenario) {
  const html = await engine.renderBlock(name, storefront(scenario));
  expect(html).not.toMatch(/Liquid error|translation missing|undefined|NaN/i);
  return html;
}

const lines = (html: string) => findAll(html, 'data-laurel-campaign').map((e) => text(e));
const until = (end: number, locale: 'en' | 'fr' = 'en') => untilText(end, TZ, locale);
// A $120.00 shoe: 90 points under the reference program.
const shoe = product([variant(1, 12_000)]);

describe('campaign lines', () => {
  it('show while now is inside the window, in every block', async () => {
    const end = NOW + 30 * HOUR;
    for (const block of ['points-balance', 'launcher'] as const) {
      expect(lines(await render(block, withCampaigns([rule()])))).toEqual([
        `Double points until ${until(end)}`,
      ]);
    }
    expect(
      lines(await render('product-points', withCampaigns([rule()], { product: shoe }))),
    ).toEqual([`Double points until ${until(end)}`]);
  });

  it('are absent before the start and from the end on, without any sync', async () => {
    const upcoming = rule({ startsAt: NOW + HOUR, endsAt: NOW + 2 * HOUR });
    const ended = rule({ id: 2, startsAt: NOW - 2 * HOUR, endsAt: NOW - 1_000 });
    expect(lines(await render('points-balance', withCampaigns([upcoming, ended])))).toEqual([]);
  });

  it('name ×1.5, triple, bonuses with their minimum, and a scoped campaign off its products', async () => {
    const html = await render(
      'points-balance',
      withCampaigns([
        rule({ id: 1, factorBps: 15_000, name: 'Spring' }),
        rule({ id: 2, factorBps: 30_000, name: 'Triple' }),
        rule({ id: 3, kind: 'bonus', factorBps: null, bonusPoints: 50, minimumMinor: 5_000 }),
        rule({ id: 4, kind: 'bonus', factorBps: null, bonusPoints: 1 }),
        rule({ id: 5, scope: 'products', productIds: new Set(['42']) }),
      ]),
    );
    const end = until(NOW + 30 * HOUR);
    expect(lines(html)).toEqual([
      `×1.5 points until ${end}`,
      `Triple points until ${end}`,
      `+50 bonus points on orders of $50 or more until ${end}`,
      `+1 bonus point per order until ${end}`,
      `Double points on selected products until ${end}`,
    ]);
  });

  it('speak French', async () => {
    const html = await render(
      'points-balance',
      withCampaigns([rule(), rule({ id: 2, factorBps: 15_000 })], { locale: 'fr' }),
    );
    const end = until(NOW + 30 * HOUR, 'fr');
    expect(lines(html)).toEqual([`Points doublés jusqu’au ${end}`, `Points ×1,5 jusqu’au ${end}`]);
  });
});

describe('the product block’s estimate', () => {
  it('multiplies an eligible product’s points, with one floor', async () => {
    const html = await render('product-points', withCampaigns([rule()], { product: shoe }));
    expect(text(find(html, 'data-laurel-earn'))).toBe('Earn 180 points with this item');
    const data = JSON.parse(text(find(html, 'data-laurel-product-data'))) as { bps: number };
    expect(data.bps).toBe(20_000);
  });

  it('takes the best running multiplier on the product, and ignores the others', async () => {
    const html = await render(
      'product-points',
      withCampaigns(
        [
          rule({ id: 1, factorBps: 15_000 }),
          rule({ id: 2, factorBps: 30_000, scope: 'products', productIds: new Set(['7001']) }),
          rule({ id: 3, factorBps: 50_000, scope: 'products', productIds: new Set(['9']) }),
          rule({ id: 4, factorBps: 100_000, startsAt: NOW + HOUR, endsAt: NOW + 2 * HOUR }),
        ],
        { product: shoe },
      ),
    );
    // 90 × 3 on product 7001; ×5 is another product's, ×10 has not started.
    expect(text(find(html, 'data-laurel-earn'))).toBe('Earn 270 points with this item');
    expect(lines(html)).toHaveLength(2);
  });

  it('is the plain estimate on a product the campaign does not cover', async () => {
    const html = await render(
      'product-points',
      withCampaigns([rule({ scope: 'products', productIds: new Set(['9']) })], { product: shoe }),
    );
    expect(text(find(html, 'data-laurel-earn'))).toBe('Earn 90 points with this item');
    expect(lines(html)).toEqual([]);
  });
});
