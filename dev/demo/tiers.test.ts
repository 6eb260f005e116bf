/**
 * The demo's tier check: the expectation multiplies band points by the multiplier the caller
 * names and reverses proportionally to the multiplied award; awardMultipliers reads which tier
 * held at each award from the ledger's tier-change entries before it (PostgreSQL) and names an
 * award whose recorded multiplier is not that tier's.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { ensureShop } from '../../app/models/shops.server';
import { currentTierProgram } from '../../app/models/tiers.server';
import { parseTierProgram } from '../../loyalty/tiers';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { orderPayload, refundPayload } from '../shopify-payloads';
import type { Delivery } from './deliveries';
import { expectedResults } from './expected';
import { awardMultipliers, DEMO_TIERS, ensureDemoTiers } from './tiers';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('postgres');
});
afterAll(async () => {
  await db?.close();
});

let nextId = 1;
const delivery = (topic: Delivery['topic'], payload: Record<string, unknown>): Delivery => ({
  topic,
  payload,
  webhookId: `w${nextId++}`,
  occurredAt: '2026-01-01T00:00:00Z',
});
const ada = { id: 101, email: 'ada@example.com' };

describe('the demo tiers', () => {
  it('compile, and are published once, effective from the history’s start', async () => {
    const program = parseTierProgram(DEMO_TIERS, { shopCurrency: 'USD' });
    expect(program.tiers.map((t) => [t.key, t.threshold, t.multiplierBps])).toEqual([
      ['bronze', 0, 10_000],
      ['silver', 25_000, 12_500],
      ['gold', 50_000, 15_000],
      ['platinum', 70_000, 20_000],
    ]);
    const shop = await ensureShop(db.db, { domain: `demo-tiers-${nextId++}.myshopify.com` });
    const from = new Date('2026-01-01T05:00:00Z');
    await ensureDemoTiers(db.db, shop.id, from);
    await ensureDemoTiers(db.db, shop.id, new Date());
    const current = await currentTierProgram(db.db, shop.id);
    expect(current).toMatchObject({ version: 1, effectiveFrom: from });
  });
});

describe('expectedResults with tier multipliers', () => {
  it('multiplies the band points with one floor, and reverses in proportion to the award', () => {
    const order = orderPayload({
      id: 8,
      subtotal: '120.00',
      customer: ada,
      processedAt: '2026-01-15T10:00:00-05:00',
    });
    const deliveries = [
      delivery('orders/paid', order),
      delivery(
        'refunds/create',
        refundPayload({ id: 80, orderId: 8, lineItems: [{ lineItemId: 1, subtotal: '20.00' }] }),
      ),
    ];
    const plain = expectedResults(deliveries, { timezone: 'America/New_York' });
    // $120 → 90 points; $20 of $120 refunded → 15 back.
    expect(plain.entries.map((e) => e.points)).toEqual([90, -15]);
    const gold = expectedResults(deliveries, {
      timezone: 'America/New_York',
      awardMultiplierBps: (id) => (id === '8' ? 15_000 : 10_000),
    });
    // ×1.5 → 135; floor(135 × 20 / 120) = 22 back (docs/tiers.md).
    expect(gold.entries.map((e) => e.points)).toEqual([135, -22]);
    const odd = expectedResults(deliveries.slice(0, 1), {
      timezone: 'America/New_York',
      awardMultiplierBps: () => 12_500,
    });
    // 90 × 1.25 = 112.5 → 112.
    expect(odd.entries.map((e) => e.points)).toEqual([112]);
  });
});

describe('awardMultipliers', () => {
  it('reads the tier held at each award from the tier changes before it, and names a wrong one', async () => {
    const shop = await ensureShop(db.db, {
      domain: `demo-check-${randomUUID().slice(0, 8)}.myshopify.com`,
    });
    const member = await ensureCustomer(db.db, shop.id, { externalId: '7001', email: null });
    const at = new Date();
    const entry = (key: string, inputs: Record<string, unknown>, points = 0) =>
      post(db.db, shop.id, {
        customerId: member.id,
        idempotencyKey: key,
        source: key.startsWith('tier') ? 'tier' : 'order',
        points,
        occurredAt: at,
        inputs,
      });
    const change = (n: number, from: string | null, to: string) =>
      entry(`tier:${member.id}:change:${n}`, { rule: 'tier-change', from, to, direction: 'up' });
    const gold = { multipliers: [{ source: 'tier', id: 'gold@v1', factorBps: 15_000 }] };

    await change(1, null, 'bronze');
    await entry('order:1:earn', {}, 90); // Bronze ×1: nothing recorded
    await change(2, 'bronze', 'gold');
    await entry('order:2:earn', gold, 135);
    // Posted under Gold but recorded as ×1: the check names it.
    await entry('order:3:earn', {}, 90);
    await change(3, 'gold', 'silver');
    // Silver by then, but recorded Gold's.
    await entry('order:4:earn', gold, 135);

    const checked = await awardMultipliers(db.db, shop.id);
    expect(Object.fromEntries(checked.byOrder)).toEqual({
      '1': 10_000,
      '2': 15_000,
      '3': 15_000,
      '4': 12_500,
    });
    expect(checked.multiplied).toBe(3);
    expect(checked.problems).toEqual([
      "order:3:earn (customer 7001) recorded no multiplier, but the ledger's tier changes before it say gold (×1.5)",
      "order:4:earn (customer 7001) recorded gold@v1 ×1.5, but the ledger's tier changes before it say silver (×1.25)",
    ]);
  });
});
