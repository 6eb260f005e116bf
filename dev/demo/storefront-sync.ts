/**
 * What the demo says about the storefront sync: whether the emulator (standing in for Shopify)
 * holds every member's ledger figures in their metafields, and the lag from ledger commit to
 * metafield written. Lag per member = the emulator's updatedAt of `points_balance` minus the
 * created_at of the newest ledger entry that value includes (customer_metafield_sync's
 * synced_position). created_at is the posting transaction's start, a little before its commit, so
 * the figure errs long. Only entries created by this run count: a re-run's emulator is new, and its
 * rewrites of old balances say nothing about lag.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  hasPendingMembers,
  memberSyncStates,
  programSyncState,
  type MemberSyncState,
} from '../../app/models/metafield-sync.server';
import type { Executor } from '../../db/client.server';
import type { AdminEmulator } from '../emulator/server';
import type { MetafieldRecord } from '../emulator/state';

export interface StorefrontSyncReport {
  members: number;
  /** Members whose metafields differ from the ledger (or are missing), with what Shopify holds. */
  mismatched: { externalId: string; ledger: [number, number]; shopify: [string?, string?] }[];
  /** Lag samples in ms, one per member changed by this run, ascending. */
  lagsMs: number[];
}

export function storefrontSyncReport(
  states: readonly MemberSyncState[],
  metafieldsOf: (customerGid: string) => readonly MetafieldRecord[],
  since: Date,
): StorefrontSyncReport {
  const mismatched: StorefrontSyncReport['mismatched'] = [];
  const lagsMs: number[] = [];
  for (const state of states) {
    const fields = metafieldsOf(`gid://shopify/Customer/${state.externalId}`);
    const balance = fields.find((f) => f.key === 'points_balance');
    const lifetime = fields.find((f) => f.key === 'lifetime_points');
    if (
      balance?.value !== String(state.balance) ||
      lifetime?.value !== String(state.lifetimeEarned)
    ) {
      mismatched.push({
        externalId: state.externalId,
        ledger: [state.balance, state.lifetimeEarned],
        shopify: [balance?.value, lifetime?.value],
      });
      continue;
    }
    const committed = state.syncedEntryCreatedAt;
    if (committed && committed.getTime() >= since.getTime()) {
      lagsMs.push(Math.max(0, balance.updatedAt - committed.getTime()));
    }
  }
  lagsMs.sort((a, b) => a - b);
  return { members: states.length, mismatched, lagsMs };
}

/** Nearest-rank percentile of ascending samples. */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sortedMs.length);
  return sortedMs[Math.min(sortedMs.length, Math.max(1, rank)) - 1]!;
}

export const LAG_TARGET_P95_MS = 5_000;

const secondsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const count = (n: number) => new Intl.NumberFormat('en-US').format(n);

/** The demo's one line (and whether the storefront is right). */
export function formatStorefrontSync(
  report: StorefrontSyncReport,
  calls: { metafieldsSet: number; ledgerChanges: number },
): { line: string; ok: boolean } {
  if (report.mismatched.length > 0) {
    const first = report.mismatched[0]!;
    return {
      ok: false,
      line: `Warning: ${count(report.mismatched.length)} of ${count(report.members)} members' storefront metafields differ from the ledger (customer ${first.externalId}: ledger ${first.ledger.join('/')}, Shopify ${first.shopify.map((v) => v ?? 'none').join('/')}).`,
    };
  }
  const writes = `${count(calls.metafieldsSet)} metafieldsSet calls for ${count(calls.ledgerChanges)} ledger changes`;
  if (report.lagsMs.length === 0) {
    return {
      ok: true,
      line: `Storefront sync: ${count(report.members)} members' metafields equal the ledger (${writes}; no new entries this run, so no lag to measure).`,
    };
  }
  const p95 = percentile(report.lagsMs, 95);
  return {
    ok: true,
    line:
      `Storefront sync: ${count(report.members)} members' metafields equal the ledger; ledger commit → metafield written ` +
      `p50 ${secondsText(percentile(report.lagsMs, 50))}, p95 ${secondsText(p95)}, max ${secondsText(report.lagsMs.at(-1)!)} ` +
      `over ${count(report.lagsMs.length)} members (target p95 ≤ ${secondsText(LAG_TARGET_P95_MS)}: ${p95 <= LAG_TARGET_P95_MS ? 'met' : 'missed'}); ${writes}.`,
  };
}

/**
 * Waits (at most `timeoutMs`) until the sync workers have written every member and the program
 * summary — members Shopify refused are backing off and not waited for; the report shows them —
 * then compares the emulator with the ledger and measures the lag.
 */
export async function checkStorefrontSync(options: {
  db: Executor;
  shopId: number;
  emulator: AdminEmulator;
  shop: string;
  since: Date;
  ledgerChanges: number;
  timeoutMs: number;
}): Promise<{ line: string; ok: boolean; settled: boolean }> {
  const { db, shopId, emulator, shop } = options;
  const deadline = Date.now() + options.timeoutMs;
  let settled = false;
  for (;;) {
    const program = await programSyncState(db, shopId);
    settled = !(await hasPendingMembers(db, shopId)) && program.programVersion !== null;
    if (settled || Date.now() > deadline) break;
    await sleep(100);
  }
  const report = storefrontSyncReport(
    await memberSyncStates(db, shopId),
    (customerGid) => emulator.state.metafields(shop, customerGid),
    options.since,
  );
  const metafieldsSet = emulator.requests.filter(
    (r) =>
      r.shop === shop &&
      r.operationName === 'MetafieldsSet' &&
      r.outcome === 'executed' &&
      JSON.stringify(r.variables ?? {}).includes('/Customer/'),
  ).length;
  const { line, ok } = formatStorefrontSync(report, {
    metafieldsSet,
    ledgerChanges: options.ledgerChanges,
  });
  return { line, ok: ok && settled, settled };
}
