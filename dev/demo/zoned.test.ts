import { describe, expect, it } from 'vitest';
import { monthKeyOfInstant, zonedMidnight } from '../../loyalty/time';
import { eventIdFor, resourceOf, sortDeliveries, webhookIdFor } from './deliveries';
import {
  addMonths,
  isoInZone,
  monthOfInstant,
  monthStart,
  offsetMinutes,
  zonedInstant,
} from './zoned';

describe('zoned time helpers (checked against loyalty/time.ts)', () => {
  it('writes instants with the zone offset, as Shopify does', () => {
    const winter = Date.parse('2026-01-15T15:15:00Z');
    const summer = Date.parse('2026-07-15T14:15:00Z');
    expect(isoInZone(winter, 'America/New_York')).toBe('2026-01-15T10:15:00-05:00');
    expect(isoInZone(summer, 'America/New_York')).toBe('2026-07-15T10:15:00-04:00');
    expect(isoInZone(winter, 'Asia/Kolkata')).toBe('2026-01-15T20:45:00+05:30');
    expect(isoInZone(winter, 'UTC')).toBe('2026-01-15T15:15:00+00:00');
    expect(offsetMinutes(summer, 'Australia/Sydney')).toBe(600);
    for (const t of [winter, summer]) {
      expect(Date.parse(isoInZone(t, 'Pacific/Chatham'))).toBe(t);
    }
  });

  it('finds wall-clock times, including on DST change days', () => {
    expect(zonedInstant('America/New_York', 2026, 3, 8, 12)).toBe(
      Date.parse('2026-03-08T16:00:00Z'),
    );
    // 02:30 does not exist on 8 March 2026 in New York: read with the earlier offset.
    expect(zonedInstant('America/New_York', 2026, 3, 8, 2, 30)).toBe(
      Date.parse('2026-03-08T07:30:00Z'),
    );
    // 01:30 happens twice on 1 November 2026: the earlier one.
    expect(zonedInstant('America/New_York', 2026, 11, 1, 1, 30)).toBe(
      Date.parse('2026-11-01T05:30:00Z'),
    );
    for (const tz of [
      'America/New_York',
      'Europe/London',
      'Australia/Sydney',
      'America/Santiago',
      'UTC',
    ]) {
      for (const day of [
        '2026-01-01',
        '2026-03-08',
        '2026-04-05',
        '2026-09-06',
        '2026-10-25',
        '2026-11-01',
      ]) {
        const [y, m, d] = day.split('-').map(Number) as [number, number, number];
        expect(zonedInstant(tz, y, m, d), `${day} in ${tz}`).toBe(zonedMidnight(day, tz));
      }
    }
  });

  it('buckets instants into the same months as loyalty/time.ts', () => {
    for (const tz of ['America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'UTC']) {
      for (
        let t = Date.parse('2025-12-31T00:00:00Z');
        t < Date.parse('2026-04-02T00:00:00Z');
        t += 3 * 3_600_000 + 17_000
      ) {
        expect(monthOfInstant(t, tz)).toBe(monthKeyOfInstant(t, tz));
      }
    }
    expect(monthStart('2026-03', 'America/New_York')).toBe(Date.parse('2026-03-01T05:00:00Z'));
    expect(addMonths('2026-11', 3)).toBe('2027-02');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(() => addMonths('2026-13', 1)).toThrow(/not a month/);
  });
});

describe('delivery helpers', () => {
  it('derives name-based UUIDs: stable, and different for any other shop, topic or resource', () => {
    const id = webhookIdFor('a.myshopify.com', 'orders/paid', 1);
    expect(id).toBe(webhookIdFor('a.myshopify.com', 'orders/paid', '1'));
    expect(
      new Set([
        id,
        webhookIdFor('b.myshopify.com', 'orders/paid', 1),
        webhookIdFor('a.myshopify.com', 'orders/cancelled', 1),
        webhookIdFor('a.myshopify.com', 'orders/paid', 2),
        eventIdFor(id),
      ]).size,
    ).toBe(5);
  });

  it('knows which resource a delivery is about and what it follows', () => {
    const d = (topic: string, payload: unknown) => ({ topic, payload, webhookId: 'w' });
    expect(resourceOf(d('customers/create', { id: 7 }))).toEqual({ key: 'customer:7', after: [] });
    expect(resourceOf(d('orders/paid', { id: 9, customer: { id: 7 } }))).toEqual({
      key: 'order:9',
      after: ['customer:7'],
    });
    expect(resourceOf(d('orders/paid', { id: 9, customer: null }))).toEqual({
      key: 'order:9',
      after: [],
    });
    expect(resourceOf(d('refunds/create', { id: 3, order_id: 9 }))).toEqual({
      key: 'order:9',
      after: [],
    });
    // The gid's digits win: ids past 2^53 lose precision as JSON numbers.
    expect(
      resourceOf(
        d('orders/cancelled', {
          ...JSON.parse('{"id": 9007199254740993}'), // what JSON.parse makes of it: …992
          admin_graphql_api_id: 'gid://shopify/Order/9007199254740993',
        }),
      ).key,
    ).toBe('order:9007199254740993');
    expect(resourceOf(d('shop/redact', {}))).toEqual({ key: 'delivery:w', after: [] });
  });

  it('sorts by time, and at the same instant customer, order, refund, cancellation', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const sorted = sortDeliveries([
      { topic: 'orders/cancelled', occurredAt: at },
      { topic: 'refunds/create', occurredAt: at },
      { topic: 'orders/paid', occurredAt: '2025-12-31T23:59:59.000Z' },
      { topic: 'orders/paid', occurredAt: at },
      { topic: 'customers/create', occurredAt: at },
    ]);
    expect(sorted.map((d) => d.topic)).toEqual([
      'orders/paid',
      'customers/create',
      'orders/paid',
      'refunds/create',
      'orders/cancelled',
    ]);
  });
});
