/**
 * The movements projection on real PostgreSQL (and PGlite, as the demo runs): what the trigger
 * writes, read back over shop-local months and arbitrary instants, must equal the ledger entries
 * classified one by one; folding changes nothing; erasing a customer takes their movements back.
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import {
  customers,
  ledgerDailyMovements,
  ledgerEntries,
  ledgerHourlyMovements,
} from '../../db/schema';
import {
  addMovements,
  movementAmount,
  movementKind,
  noMovements,
  type Movements,
} from '../../loyalty/ledger-movements';
import { monthKeyOfInstant, zonedMidnight } from '../../loyalty/time';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ensureCustomer } from './customers.server';
import { postMany, type LedgerEntryInput, type LedgerSource } from './ledger.server';
import {
  compactMovements,
  dormantPoints,
  movementTimeline,
  outstandingPoints,
} from './movements.server';
import { ensureShop } from './shops.server';

const SOURCES: [LedgerSource, number][] = [
  ['order', 120],
  ['order', -30],
  ['refund', -40],
  ['cancellation', -25],
  ['redemption', -500],
  ['redemption', 500],
  ['expiry', -15],
  ['adjustment', 70],
  ['adjustment', -20],
  ['bonus', 100],
  ['referral', 250],
  ['referral', -250],
  ['tier', 300],
  ['tier', 0],
];

/** A deterministic pseudo-random sequence (the test must not depend on Math.random). */
function sequence(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** `count` entries of every source over 15 months up to `end`, some on month boundaries. */
async function seed(db: Executor, timezone: string, count: number, end: number) {
  const shop = await ensureShop(db, {
    domain: `mov-${randomUUID().slice(0, 8)}.myshopify.com`,
    timezone,
  });
  const members = [];
  for (let i = 0; i < 6; i++) {
    members.push(await ensureCustomer(db, shop.id, { externalId: `m${i}` }));
  }
  const random = sequence(count);
  const span = 15 * 31 * 86_400_000;
  const entries: LedgerEntryInput[] = [];
  for (let i = 0; i < count; i++) {
    const [source, points] = SOURCES[i % SOURCES.length]!;
    let at = end - Math.floor(random() * span);
    // Every 7th entry sits exactly on, or a second before, a shop-local month start.
    if (i % 7 === 0) {
      const month = monthKeyOfInstant(at, timezone);
      at = zonedMidnight(`${month}-01`, timezone) - (i % 14 === 0 ? 1000 : 0);
    }
    entries.push({
      customerId: members[i % members.length]!.id,
      idempotencyKey: `e${i}`,
      source,
      points: points === 0 ? 0 : points + (i % 5),
      occurredAt: new Date(at),
      inputs: { i },
    });
  }
  // Several statements, as the pipeline posts them, so the projection has loose rows to fold.
  for (let i = 0; i < entries.length; i += 37) {
    await postMany(db, shop.id, entries.slice(i, i + 37));
  }
  return { shop, members };
}

/** The ledger itself, classified entry by entry into [from, to) ranges. */
async function bruteForce(
  db: Executor,
  shopId: number,
  boundaries: number[],
): Promise<Movements[]> {
  const rows = await db
    .select({
      source: ledgerEntries.source,
      points: ledgerEntries.points,
      at: ledgerEntries.occurredAt,
    })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.shopId, shopId));
  const out = boundaries.slice(1).map(() => noMovements());
  for (const row of rows) {
    const t = row.at.getTime();
    const i = boundaries.findIndex(
      (b, k) => k + 1 < boundaries.length && b <= t && t < boundaries[k + 1]!,
    );
    if (i < 0) continue;
    const kind = movementKind(row.source, row.points);
    out[i] = addMovements(out[i]!, { ...noMovements(), [kind]: movementAmount(kind, row.points) });
  }
  return out;
}

const monthStarts = (tz: string, months: string[]) =>
  months.map((m) => zonedMidnight(`${m}-01`, tz));
const MONTHS = [
  '2025-10',
  '2025-11',
  '2025-12',
  '2026-01',
  '2026-02',
  '2026-03',
  '2026-04',
  '2026-05',
  '2026-06',
  '2026-07',
  '2026-08',
  '2026-09',
  '2026-10',
  '2026-11',
  '2026-12',
  '2027-01',
];
const END = Date.parse('2026-12-20T12:00:00Z');

let pg: TestDatabase;

beforeAll(async () => {
  pg = await createTestDatabase('postgres');
});
afterAll(async () => {
  await pg?.close();
});

describe('movementTimeline on PostgreSQL', () => {
  for (const timezone of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
    it(`equals the ledger classified entry by entry, per ${timezone} month and across odd instants`, async () => {
      const { shop } = await seed(pg.db, timezone, 700, END);
      const months = [-Infinity, ...monthStarts(timezone, MONTHS), Infinity];
      const timeline = await movementTimeline(pg.db, shop.id, months);
      expect(timeline.intervals).toEqual(await bruteForce(pg.db, shop.id, months));

      // Instants in the middle of UTC days, a day apart and far apart.
      const odd = [
        Date.parse('2026-01-03T05:17:00Z'),
        Date.parse('2026-01-04T05:17:00Z'),
        Date.parse('2026-06-30T23:59:59Z'),
        END,
      ];
      const oddTimeline = await movementTimeline(pg.db, shop.id, odd);
      expect(oddTimeline.intervals).toEqual(await bruteForce(pg.db, shop.id, odd));

      // Folding the trigger's rows changes no figure.
      expect(await compactMovements(pg.db, shop.id, 1)).toBeGreaterThan(0);
      const [{ loose }] = (await pg.db
        .select({
          loose: sql<number>`count(*) FILTER (WHERE NOT ${ledgerDailyMovements.compacted})::int`,
        })
        .from(ledgerDailyMovements)
        .where(eq(ledgerDailyMovements.shopId, shop.id))) as [{ loose: number }];
      expect(loose).toBe(0);
      const [{ hourly }] = (await pg.db
        .select({
          hourly: sql<number>`count(*) FILTER (WHERE NOT ${ledgerHourlyMovements.compacted})::int`,
        })
        .from(ledgerHourlyMovements)
        .where(eq(ledgerHourlyMovements.shopId, shop.id))) as [{ hourly: number }];
      expect(hourly).toBe(0);
      expect((await movementTimeline(pg.db, shop.id, months)).intervals).toEqual(
        timeline.intervals,
      );
      // Below the threshold nothing is folded.
      expect(await compactMovements(pg.db, shop.id)).toBe(0);
    });
  }

  it('takes an erased customer’s movements back and keeps the others', async () => {
    const { shop, members } = await seed(pg.db, 'Europe/Paris', 140, END);
    const all = [-Infinity, Infinity];
    await pg.db.delete(customers).where(eq(customers.id, members[0]!.id));
    const timeline = await movementTimeline(pg.db, shop.id, all);
    expect(timeline.intervals).toEqual(await bruteForce(pg.db, shop.id, all));
    const [{ n }] = (await pg.db
      .execute(
        sql`SELECT count(*)::int AS n FROM customer_ledger_activity WHERE customer_id = ${members[0]!.id}`,
      )
      .then((r) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows))) as [{ n: number }];
    expect(n).toBe(0);
  });

  it('sums balances now and the dormant ones by their latest entry', async () => {
    const { shop, members } = await seed(pg.db, 'UTC', 0, END);
    const old = new Date('2025-01-10T00:00:00Z');
    const recent = new Date('2026-11-10T00:00:00Z');
    await postMany(pg.db, shop.id, [
      {
        customerId: members[0]!.id,
        idempotencyKey: 'a',
        source: 'order',
        points: 400,
        occurredAt: old,
        inputs: {},
      },
      {
        customerId: members[1]!.id,
        idempotencyKey: 'b',
        source: 'order',
        points: 300,
        occurredAt: old,
        inputs: {},
      },
      {
        customerId: members[1]!.id,
        idempotencyKey: 'c',
        source: 'redemption',
        points: -100,
        occurredAt: recent,
        inputs: {},
      },
      {
        customerId: members[2]!.id,
        idempotencyKey: 'd',
        source: 'bonus',
        points: 50,
        occurredAt: recent,
        inputs: {},
      },
    ]);
    // A backdated entry does not make an active member dormant.
    await postMany(pg.db, shop.id, [
      {
        customerId: members[2]!.id,
        idempotencyKey: 'e',
        source: 'order',
        points: 10,
        occurredAt: old,
        inputs: {},
      },
    ]);
    expect(await outstandingPoints(pg.db, shop.id)).toBe(400 + 200 + 60);
    expect(await dormantPoints(pg.db, shop.id, new Date('2025-12-20T00:00:00Z'))).toBe(400);
    expect(await dormantPoints(pg.db, shop.id, new Date('2027-01-01T00:00:00Z'))).toBe(660);
  });
});

describe('on PGlite', () => {
  it('the trigger and the reads work the same', async () => {
    const lite = await createTestDatabase('pglite');
    try {
      const { shop } = await seed(lite.db, 'America/New_York', 120, END);
      const months = [-Infinity, ...monthStarts('America/New_York', MONTHS), Infinity];
      const timeline = await movementTimeline(lite.db, shop.id, months);
      expect(timeline.intervals).toEqual(await bruteForce(lite.db, shop.id, months));
      await compactMovements(lite.db, shop.id, 1);
      expect((await movementTimeline(lite.db, shop.id, months)).intervals).toEqual(
        timeline.intervals,
      );
    } finally {
      await lite.close();
    }
  });
});
