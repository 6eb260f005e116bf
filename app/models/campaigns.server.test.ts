// Campaigns as stored, and through the order worker: an order processed inside a campaign's window
// (mid-day edges, New York) earns its multiplier, recorded on the award; a partial then a full
// refund nets to zero; editing stops once a campaign starts, "end now" stops it applying.
import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { parseCampaign, type CampaignDefinition } from '../../loyalty/campaigns';
import { explainEntry } from '../../loyalty/explain';
import { orderPayload, refundPayload } from '../../tests/fixtures/shopify';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { isAppError, ErrorCode } from '../errors';
import {
  campaignRulesFor,
  currentCampaigns,
  endCampaignNow,
  getCampaign,
  insertCampaign,
  listCampaigns,
  updateCampaign,
} from './campaigns.server';
import { findCustomerByExternalId } from './customers.server';
import { entriesFor } from './ledger.server';
import type { Shop } from './shops.server';

vi.hoisted(() => {
  process.env.LOG_LEVEL ??= 'silent';
});

const NY = 'America/New_York';
const handle = useInboxHarness();
type Json = Record<string, unknown>;

let nextId = 9_810_000_000_000;
const id = () => ++nextId;

const weekend: CampaignDefinition = {
  name: 'Double points weekend',
  kind: 'multiplier',
  multiplier: '2',
  scope: 'all',
  startsAt: '2026-03-07T12:00',
  endsAt: '2026-03-08T12:30',
};
const past = { timeZone: NY, currency: 'USD', now: Date.parse('2026-03-01T00:00:00Z') };

async function shopWith(definitions: CampaignDefinition[], productIds: string[][] = []) {
  const shop = await handle.newShop('campaigns', { currency: 'USD', timezone: NY });
  const rows = [];
  for (const [i, def] of definitions.entries()) {
    rows.push(
      await insertCampaign(handle.db, shop.id, parseCampaign(def, past), {
        productIds: productIds[i] ?? [],
        createdBy: 'staff@example.com',
        now: new Date(past.now),
      }),
    );
  }
  return { shop, rows };
}

async function deliver(shop: Shop, topic: string, payload: Json) {
  const { outcome } = await handle.deliver(shop, topic, payload);
  expect(outcome).toMatchObject({ status: 'processed' });
  return outcome as { status: 'processed'; summary: Json };
}

async function awardOf(shop: Shop, customerId: number, orderId: number) {
  const member = (await findCustomerByExternalId(handle.db, shop.id, String(customerId)))!;
  const entries = await entriesFor(handle.db, shop.id, member.id);
  return { entries, award: entries.find((e) => e.idempotencyKey === `order:${orderId}:earn`)! };
}

describe('orders inside a campaign', () => {
  it('earn ×2 from the start to the millisecond before the end, mid-day, across DST', async () => {
    const { shop } = await shopWith([weekend]);
    // 12:00 EST = 17:00Z (start), 12:30 EDT = 16:30Z (end).
    const cases: [string, number][] = [
      ['2026-03-07T16:59:59.999Z', 90],
      ['2026-03-07T17:00:00.000Z', 180],
      ['2026-03-08T16:29:59.999Z', 180],
      ['2026-03-08T16:30:00.000Z', 90],
    ];
    for (const [processedAt, points] of cases) {
      const order = orderPayload({
        id: id(),
        customer: { id: id() },
        subtotal: '120.00',
        processedAt,
      });
      const outcome = await deliver(shop, 'orders/paid', order);
      expect([processedAt, outcome.summary.awardedPoints]).toEqual([processedAt, points]);
    }
  });

  it('records the campaign on the award; a partial refund then the rest nets to zero', async () => {
    const { shop, rows } = await shopWith([weekend]);
    const customerId = id();
    const order = orderPayload({
      id: id(),
      customer: { id: customerId },
      lineItems: [
        { title: 'Coat', price: '100.00' },
        { title: 'Scarf', price: '20.00' },
      ],
      processedAt: '2026-03-07T18:00:00Z',
    });
    await deliver(shop, 'orders/paid', order);
    const { award } = await awardOf(shop, customerId, order.id as number);
    expect(award.points).toBe(180);
    expect(award.inputs.campaigns).toEqual([
      {
        id: rows[0]!.id,
        name: 'Double points weekend',
        kind: 'multiplier',
        factorBps: 20_000,
        scope: 'all',
        stacking: 'multiply',
        eligibleAmountMinor: 12_000,
      },
    ]);
    expect(
      explainEntry({ ...award, orderName: '#1001' }, { locale: 'en', shopCurrency: 'USD' }),
    ).toBe('Order #1001, $120.00 → 180 points (Double points weekend ×2)');

    // The campaign is ended afterwards: the reversals use what the award recorded, not it.
    await endCampaignNow(handle.db, shop.id, rows[0]!.id, new Date('2026-03-07T19:00:00Z'));
    const [scarf, coat] = [(order.line_items as Json[])[1]!, (order.line_items as Json[])[0]!];
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: order.id as number,
        order,
        lineItems: [{ lineItemId: scarf.id as number }],
      }),
    );
    await deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: order.id as number,
        order,
        lineItems: [{ lineItemId: coat.id as number }],
      }),
    );
    const { entries } = await awardOf(shop, customerId, order.id as number);
    expect(entries.map((e) => e.points).sort((a, b) => a - b)).toEqual([-150, -30, 180]);
  });

  it('a scoped campaign multiplies only its products’ lines', async () => {
    const { shop } = await shopWith(
      [{ ...weekend, scope: 'products', targetIds: ['222'] }],
      [['222']],
    );
    const customerId = id();
    const order = orderPayload({
      id: id(),
      customer: { id: customerId },
      lineItems: [
        { title: 'Coat', price: '80.00', productId: 111 },
        { title: 'Scarf', price: '40.00', productId: 222 },
      ],
      processedAt: '2026-03-07T18:00:00Z',
    });
    expect((await deliver(shop, 'orders/paid', order)).summary.awardedPoints).toBe(120);
    const { award } = await awardOf(shop, customerId, order.id as number);
    expect(award.inputs).toMatchObject({
      campaigns: [{ scope: 'products', eligibleAmountMinor: 4_000 }],
    });
  });
});

describe('the campaigns model', () => {
  it('edits until the start, then only ends; "end now" stops it applying', async () => {
    const { shop, rows } = await shopWith([weekend]);
    const campaign = rows[0]!;
    const before = new Date('2026-03-05T00:00:00Z');
    const edited = await updateCampaign(
      handle.db,
      shop.id,
      campaign.id,
      parseCampaign({ ...weekend, multiplier: '3' }, past),
      { productIds: [], now: before },
    );
    expect(edited.factorBps).toBe(30_000);

    const started = new Date('2026-03-07T17:00:00Z');
    const refused = await updateCampaign(
      handle.db,
      shop.id,
      campaign.id,
      parseCampaign({ ...weekend, multiplier: '4' }, past),
      { productIds: [], now: started },
    ).catch((e: unknown) => e);
    expect(isAppError(refused, ErrorCode.CONFLICT)).toBe(true);
    expect((await getCampaign(handle.db, shop.id, campaign.id))!.factorBps).toBe(30_000);

    const span = { from: started, to: new Date('2026-03-08T00:00:00Z') };
    expect(await campaignRulesFor(handle.db, shop.id, span)).toHaveLength(1);
    const endAt = new Date('2026-03-07T20:00:00Z');
    await endCampaignNow(handle.db, shop.id, campaign.id, endAt);
    const [rule] = await campaignRulesFor(handle.db, shop.id, span);
    expect(rule!.endsAt).toBe(endAt.getTime());
    expect(await campaignRulesFor(handle.db, shop.id, { from: endAt, to: span.to })).toHaveLength(
      0,
    );
    expect(await currentCampaigns(handle.db, shop.id, endAt)).toEqual([]);
    const again = await endCampaignNow(handle.db, shop.id, campaign.id, span.to).catch(
      (e: unknown) => e,
    );
    expect(isAppError(again, ErrorCode.CONFLICT)).toBe(true);
  });

  it('never reads or changes another shop’s campaign', async () => {
    const { rows } = await shopWith([weekend]);
    const other = await handle.newShop('campaigns-other', { currency: 'USD', timezone: NY });
    expect(await getCampaign(handle.db, other.id, rows[0]!.id)).toBeUndefined();
    expect(await listCampaigns(handle.db, other.id)).toEqual([]);
    const refused = await endCampaignNow(handle.db, other.id, rows[0]!.id, new Date()).catch(
      (e: unknown) => e,
    );
    expect(isAppError(refused, ErrorCode.NOT_FOUND)).toBe(true);
  });

  it('the database refuses what the rules refuse (end before start, multiplier ≤ ×1)', async () => {
    const { shop, rows } = await shopWith([weekend]);
    const bad = handle.db.execute(
      sql`UPDATE campaigns SET factor_bps = 10000 WHERE id = ${rows[0]!.id} AND shop_id = ${shop.id}`,
    );
    await expect(bad).rejects.toThrow();
  });
});
