/**
 * The demo's double-points weekend: where it falls (the first whole weekend a month into the
 * history, on the shop's clock), saved once however often the demo runs, holding orders of the
 * generated history, and an order of that weekend earning ×2 through the real order worker — the
 * figure dev/demo/expected.ts then expects with campaignBpsByOrder.
 */
import { describe, expect, it, vi } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { listCampaigns } from '../../app/models/campaigns.server';
import { ledgerEntries } from '../../db/schema';
import { explainEntry } from '../../loyalty/explain';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import {
  campaignBpsByOrder,
  DEMO_CAMPAIGN_BPS,
  demoCampaignDefinition,
  demoCampaigns,
} from './campaigns';
import { expectedResults, referencePoints } from './expected';
import { generateHistory } from './history';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const NY = 'America/New_York';
const handle = useInboxHarness();

describe('the demo campaign', () => {
  it('is the first whole weekend 30 days into the history, Saturday 00:00 to Monday 00:00', () => {
    // Sep 1 + 30 days = Thu Oct 1, 2026: the weekend of Oct 3–4.
    expect(demoCampaignDefinition(new Date('2026-09-01T04:00:00Z'), NY)).toMatchObject({
      startsAt: '2026-10-03T00:00',
      endsAt: '2026-10-05T00:00',
      multiplier: '2',
      stacking: 'multiply',
    });
    // Already a Saturday 30 days on: that one.
    expect(demoCampaignDefinition(new Date('2026-09-03T12:00:00Z'), NY).startsAt).toBe(
      '2026-10-03T00:00',
    );
  });

  it('is saved once, and an order of that weekend earns ×2 through the worker', async () => {
    const shop = await handle.newShop('demo-campaigns', { currency: 'USD', timezone: NY });
    const history = generateHistory({
      shop: shop.domain,
      seed: 7,
      firstMonth: '2026-06',
      timezone: NY,
      customers: 120,
    });
    const from = new Date(history.from);
    const campaign = await demoCampaigns(handle.db, shop, from);
    expect(await demoCampaigns(handle.db, shop, from)).toEqual(campaign);
    expect(await listCampaigns(handle.db, shop.id)).toHaveLength(1);
    expect(campaign).toMatchObject({ startsAtLocal: '2026-07-04T00:00:00', factorBps: 20_000 });
    expect(campaign.startsAt.toISOString()).toBe('2026-07-04T04:00:00.000Z');

    const doubled = campaignBpsByOrder(history.deliveries, campaign);
    expect(doubled.size).toBeGreaterThan(0);
    expect([...doubled.values()].every((bps) => bps === DEMO_CAMPAIGN_BPS)).toBe(true);

    // A paid member order of the weekend, delivered as the demo replays it.
    const paid = history.deliveries.find((d) => {
      const p = d.payload as {
        id: number;
        customer?: unknown;
        test?: boolean;
        subtotal_price: string;
        currency: string;
      };
      // One that earns points (bands start above $50), in the shop's currency.
      return (
        d.topic === 'orders/paid' &&
        Number(p.subtotal_price) >= 60 &&
        p.currency === 'USD' &&
        doubled.has(String(p.id)) &&
        p.customer != null &&
        !p.test
      );
    })!;
    const order = paid.payload as {
      id: number;
      customer: { id: number };
      subtotal_price: string;
    };
    const { outcome } = await handle.deliver(shop, 'orders/paid', order as never);
    const base = referencePoints(Math.round(Number(order.subtotal_price) * 100));
    expect(base).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ status: 'processed', summary: { awardedPoints: base * 2 } });
    const [award] = await handle.db
      .select()
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.shopId, shop.id),
          eq(ledgerEntries.idempotencyKey, `order:${order.id}:earn`),
        ),
      );
    expect(award!.points).toBe(base * 2);
    expect(
      explainEntry(
        { ...award!, inputs: award!.inputs as Record<string, unknown>, orderName: null },
        { locale: 'en', shopCurrency: 'USD' },
      ),
    ).toMatch(/\(Double points weekend ×2\)$/);

    // The independent expectation agrees when told the weekend's orders.
    const expected = expectedResults([paid], {
      timezone: NY,
      awardMultiplierBps: (id) => doubled.get(id) ?? 10_000,
    });
    expect(expected.entries.map((e) => e.points)).toEqual([base * 2]);
  });
});
