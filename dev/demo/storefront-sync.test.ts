import { describe, expect, it } from 'vitest';
import type { MemberSyncState } from '../../app/models/metafield-sync.server';
import type { MetafieldRecord } from '../emulator/state';
import { formatStorefrontSync, percentile, storefrontSyncReport } from './storefront-sync';

const since = new Date('2026-12-03T10:00:00Z');
const at = (offsetMs: number) => since.getTime() + offsetMs;

function state(
  externalId: string,
  balance: number,
  committedOffsetMs: number | null,
): MemberSyncState {
  return {
    customerId: Number(externalId),
    externalId,
    balance,
    lifetimeEarned: balance + 10,
    revision: 3,
    syncedRevision: 3,
    ledgerPosition: 7,
    syncedPosition: 7,
    syncedEntryCreatedAt: committedOffsetMs === null ? null : new Date(at(committedOffsetMs)),
    syncedAt: new Date(),
    attempts: 0,
    lastError: null,
  };
}

function fields(balance: string, lifetime: string, updatedOffsetMs: number): MetafieldRecord[] {
  const base = {
    id: 1,
    ownerGid: '',
    namespace: 'app--1',
    type: 'number_integer',
    createdAt: 0,
    revision: 1,
  };
  return [
    { ...base, key: 'points_balance', value: balance, updatedAt: at(updatedOffsetMs) },
    { ...base, key: 'lifetime_points', value: lifetime, updatedAt: at(updatedOffsetMs) },
  ];
}

describe('storefront sync report', () => {
  it('measures lag from the newest included entry to the write, for this run’s entries only', () => {
    const held = new Map<string, MetafieldRecord[]>([
      ['gid://shopify/Customer/1', fields('90', '100', 1_200)],
      ['gid://shopify/Customer/2', fields('5', '15', 400)],
      // Changed before this run (a re-run): right, but no lag sample.
      ['gid://shopify/Customer/3', fields('7', '17', 9_000)],
    ]);
    const report = storefrontSyncReport(
      [state('1', 90, 200), state('2', 5, 100), state('3', 7, -60_000)],
      (gid) => held.get(gid) ?? [],
      since,
    );
    expect(report).toEqual({ members: 3, mismatched: [], lagsMs: [300, 1_000] });
    const { line, ok } = formatStorefrontSync(report, { metafieldsSet: 2, ledgerChanges: 40 });
    expect(ok).toBe(true);
    expect(line).toBe(
      "Storefront sync: 3 members' metafields equal the ledger; ledger commit → metafield written p50 0.3 s, p95 1.0 s, max 1.0 s over 2 members (target p95 ≤ 5.0 s: met); 2 metafieldsSet calls for 40 ledger changes.",
    );
  });

  it('reports a member whose metafields differ from the ledger, or are missing, as a warning', () => {
    const report = storefrontSyncReport(
      [state('1', 90, 0), state('2', 5, 0)],
      (gid) => (gid.endsWith('/1') ? fields('80', '100', 10) : []),
      since,
    );
    expect(report.mismatched).toEqual([
      { externalId: '1', ledger: [90, 100], shopify: ['80', '100'] },
      { externalId: '2', ledger: [5, 15], shopify: [undefined, undefined] },
    ]);
    const { line, ok } = formatStorefrontSync(report, { metafieldsSet: 1, ledgerChanges: 2 });
    expect(ok).toBe(false);
    expect(line).toBe(
      "Warning: 2 of 2 members' storefront metafields differ from the ledger (customer 1: ledger 90/100, Shopify 80/100).",
    );
  });

  it('says a target missed, and has no lag to report when nothing changed this run', () => {
    const slow = formatStorefrontSync(
      { members: 1, mismatched: [], lagsMs: [6_000] },
      { metafieldsSet: 1, ledgerChanges: 1 },
    );
    expect(slow.line).toContain('p95 6.0 s, max 6.0 s over 1 members (target p95 ≤ 5.0 s: missed)');
    expect(slow.ok).toBe(true);
    expect(
      formatStorefrontSync(
        { members: 4, mismatched: [], lagsMs: [] },
        { metafieldsSet: 1, ledgerChanges: 0 },
      ).line,
    ).toBe(
      "Storefront sync: 4 members' metafields equal the ledger (1 metafieldsSet calls for 0 ledger changes; no new entries this run, so no lag to measure).",
    );
  });

  it('takes nearest-rank percentiles', () => {
    const samples = Array.from({ length: 20 }, (_, i) => (i + 1) * 100);
    expect(percentile(samples, 50)).toBe(1_000);
    expect(percentile(samples, 95)).toBe(1_900);
    expect(percentile(samples, 100)).toBe(2_000);
    expect(percentile([], 95)).toBeNaN();
  });
});
