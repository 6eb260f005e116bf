import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ErrorCode } from '../errors';
import { ensureCustomer } from './customers.server';
import { post, type LedgerSource } from './ledger.server';
import { earnedReport, monthlyEarned } from './reports.server';
import { ensureShop } from './shops.server';

async function shopWith(
  db: Executor,
  timezone: string,
  entries: [customer: string, occurredAt: string, points: number, source?: LedgerSource][],
) {
  const shop = await ensureShop(db, {
    domain: `rep-${randomUUID().slice(0, 8)}.myshopify.com`,
    timezone,
  });
  for (const [i, [externalId, occurredAt, points, source = 'order']] of entries.entries()) {
    const customer = await ensureCustomer(db, shop.id, { externalId });
    await post(db, shop.id, {
      customerId: customer.id,
      idempotencyKey: `${source}:${i}`,
      source,
      points,
      occurredAt: new Date(occurredAt),
      inputs: { fixture: i },
    });
  }
  return shop;
}

describe.each(['postgres', 'pglite'] as const)('reports on %s', (kind) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('buckets by month in the requested timezone at month boundaries', async () => {
    const { db } = handle;
    const shop = await shopWith(db, 'America/New_York', [
      ['ann', '2026-01-31T23:30:00-05:00', 10], // 04:30Z on Feb 1
      ['bob', '2026-03-01T03:00:00Z', 20], // Feb 28 in the Americas
    ]);
    const months = async (timezone: string) =>
      (await monthlyEarned(db, shop.id, { timezone })).map(
        (r) => `${r.customerExternalId} ${r.month} ${r.points}`,
      );
    expect(await months('America/New_York')).toEqual(['ann 2026-01 10', 'bob 2026-02 20']);
    expect(await months('UTC')).toEqual(['ann 2026-02 10', 'bob 2026-03 20']);
    expect(await months('America/Los_Angeles')).toEqual(['ann 2026-01 10', 'bob 2026-02 20']);
    expect(await months('Asia/Tokyo')).toEqual(['ann 2026-02 10', 'bob 2026-03 20']);
  });

  it('nets purchase reversals by the month they occur, keeps customers at zero, ignores other sources', async () => {
    const { db } = handle;
    const shop = await shopWith(db, 'UTC', [
      ['c1', '2026-01-10T12:00:00Z', 90],
      ['c1', '2026-01-20T12:00:00Z', -90, 'refund'],
      ['c2', '2026-01-15T12:00:00Z', 52],
      ['c2', '2026-02-02T12:00:00Z', -10, 'refund'],
      ['c2', '2026-02-03T12:00:00Z', -42, 'cancellation'],
      ['c2', '2026-01-16T12:00:00Z', 100, 'bonus'],
      ['c2', '2026-01-17T12:00:00Z', -20, 'redemption'],
      ['c3', '2026-01-18T12:00:00Z', 500, 'referral'],
    ]);
    expect(await monthlyEarned(db, shop.id, { timezone: 'UTC' })).toEqual([
      { customerExternalId: 'c1', month: '2026-01', points: 0 },
      { customerExternalId: 'c2', month: '2026-01', points: 52 },
      { customerExternalId: 'c2', month: '2026-02', points: -52 },
    ]);
  });

  it('filters on calendar days in the timezone, both ends inclusive', async () => {
    const { db } = handle;
    const shop = await shopWith(db, 'America/New_York', [
      ['early', '2025-12-31T23:59:59-05:00', 1],
      ['first', '2026-01-01T00:00:00-05:00', 2],
      ['last', '2026-03-31T23:59:59.999-04:00', 4], // after the DST change
      ['late', '2026-04-01T00:00:00-04:00', 8],
    ]);
    const ids = async (options: { from?: string; to?: string }) =>
      (await monthlyEarned(db, shop.id, { timezone: 'America/New_York', ...options })).map(
        (r) => r.customerExternalId,
      );
    expect(await ids({ from: '2026-01-01', to: '2026-03-31' })).toEqual(['first', 'last']);
    expect(await ids({ from: '2026-01-01' })).toEqual(['first', 'last', 'late']);
    expect(await ids({ to: '2025-12-31' })).toEqual(['early']);
    expect(await ids({ from: '2026-04-01', to: '2026-04-01' })).toEqual(['late']);
    // The same instants seen from UTC fall on other days.
    const utc = await monthlyEarned(db, shop.id, {
      timezone: 'UTC',
      from: '2026-01-01',
      to: '2026-03-31',
    });
    expect(utc.map((r) => r.customerExternalId)).toEqual(['early', 'first']);
  });

  it('builds the report over the requested months, zero-filled, in the shop timezone by default', async () => {
    const { db } = handle;
    const shop = await shopWith(db, 'America/New_York', [
      ['a', '2026-01-05T12:00:00Z', 90],
      ['B', '2026-03-10T12:00:00Z', 52],
      ['B', '2026-01-31T23:30:00-05:00', 1],
      ['C10', '2026-03-11T12:00:00Z', 0],
    ]);
    const other = await shopWith(db, 'America/New_York', [['a', '2026-01-05T12:00:00Z', 1000]]);
    const report = await earnedReport(db, shop.id, { from: '2026-01-01', to: '2026-04-30' });
    expect(report).toEqual({
      months: ['2026-01', '2026-02', '2026-03', '2026-04'],
      customers: [
        {
          customerId: 'B',
          monthly: { '2026-01': 1, '2026-02': 0, '2026-03': 52, '2026-04': 0 },
          total: 53,
        },
        {
          customerId: 'C10',
          monthly: { '2026-01': 0, '2026-02': 0, '2026-03': 0, '2026-04': 0 },
          total: 0,
        },
        {
          customerId: 'a',
          monthly: { '2026-01': 90, '2026-02': 0, '2026-03': 0, '2026-04': 0 },
          total: 90,
        },
      ],
      totals: { monthly: { '2026-01': 91, '2026-02': 0, '2026-03': 52, '2026-04': 0 }, total: 143 },
    });
    expect((await earnedReport(db, shop.id)).months).toEqual(['2026-01', '2026-02', '2026-03']);
    expect((await earnedReport(db, shop.id, { timezone: 'UTC' })).customers[0]!.monthly).toEqual({
      '2026-01': 0,
      '2026-02': 1,
      '2026-03': 52,
    });
    expect((await earnedReport(db, other.id)).totals.total).toBe(1000);
  });

  it.each([
    [{ timezone: 'Nowhere/Land' }, /report timezone "Nowhere\/Land" is not an IANA timezone/],
    [{ timezone: 'UTC', from: '2026-02-30' }, /report from "2026-02-30" is not a calendar day/],
    [{ timezone: 'UTC', to: '2026/01/01' }, /report to "2026\/01\/01" is not a calendar day/],
    [
      { timezone: 'UTC', from: '2026-02-01', to: '2026-01-31' },
      /report from 2026-02-01 is after to 2026-01-31/,
    ],
  ])('rejects bad options %j with VALIDATION', async (options, message) => {
    const attempt = monthlyEarned(handle.db, 1, options);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: ErrorCode.VALIDATION });
  });
});
