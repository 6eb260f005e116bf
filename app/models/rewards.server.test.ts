import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode, sqlStateOf } from '../errors';
import {
  createReward,
  getReward,
  getRewardVersion,
  listRewards,
  reviseReward,
  setRewardArchived,
} from './rewards.server';
import { ensureShop } from './shops.server';
import { seedTierProgram } from '../../tests/helpers/tiers';

const newShop = (db: Executor, currency = 'USD') =>
  ensureShop(db, { domain: `rw-${randomUUID().slice(0, 8)}.myshopify.com`, currency });

const fiveOff = { type: 'fixed_amount', title: '$5 off', pointsCost: 500, amountMinor: 500 };

describe.each(['postgres', 'pglite'] as const)('rewards catalog on %s', (kind) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('creates, revises with a new version and keeps the old one', async () => {
    const shop = await newShop(handle.db);
    const created = await createReward(handle.db, shop.id, fiveOff);
    expect(created).toMatchObject({ version: 1, archivedAt: null });
    expect(created.definition).toMatchObject({ pointsCost: 500, expiryDays: 30, tiers: null });
    const revised = await reviseReward(handle.db, shop.id, created.id, {
      ...fiveOff,
      pointsCost: 450,
    });
    expect(revised.version).toBe(2);
    expect((await getReward(handle.db, shop.id, created.id))!.definition.pointsCost).toBe(450);
    expect((await getRewardVersion(handle.db, shop.id, created.id, 1))!.pointsCost).toBe(500);
    // Versions are insert-only: the database refuses an update.
    const refused = await handle.db
      .execute(sql`UPDATE reward_versions SET version = 9 WHERE reward_id = ${created.id}`)
      .catch((e: unknown) => e);
    expect(sqlStateOf(refused)).toBe('23001');
  });

  it("stores a reward's tiers as the tier program's keys, and refuses a tier it does not have", async () => {
    const shop = await newShop(handle.db);
    // Before the shop has tiers the names are kept as given (and match no member yet).
    const early = await createReward(handle.db, shop.id, { ...fiveOff, tiers: ['Gold'] });
    expect(early.definition.tiers).toEqual(['Gold']);
    await seedTierProgram(handle.db, shop.id);
    const gold = await createReward(handle.db, shop.id, {
      ...fiveOff,
      tiers: ['Gold', 'platinum'],
    });
    expect(gold.definition.tiers).toEqual(['gold', 'platinum']);
    const before = (await listRewards(handle.db, shop.id)).length;
    const refused = await createReward(handle.db, shop.id, {
      ...fiveOff,
      tiers: ['Diamond'],
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe(ErrorCode.VALIDATION);
    expect((refused as AppError).details.issues).toEqual([
      {
        path: 'tiers',
        message:
          "'Diamond' is not a tier (bronze: Bronze, silver: Silver, gold: Gold, platinum: Platinum)",
      },
    ]);
    expect((await listRewards(handle.db, shop.id)).length).toBe(before);
    const revised = await reviseReward(handle.db, shop.id, early.id, {
      ...fiveOff,
      tiers: ['GOLD'],
    });
    expect(revised.definition.tiers).toEqual(['gold']);
  });

  it('orders the catalog, hides archived rewards and never reads another shop', async () => {
    const shop = await newShop(handle.db);
    const other = await newShop(handle.db);
    const a = await createReward(handle.db, shop.id, fiveOff);
    const b = await createReward(handle.db, shop.id, { ...fiveOff, title: 'second' });
    const foreign = await createReward(handle.db, other.id, fiveOff);
    expect((await listRewards(handle.db, shop.id)).map((r) => r.id)).toEqual([a.id, b.id]);
    await setRewardArchived(handle.db, shop.id, a.id, true);
    expect((await listRewards(handle.db, shop.id)).map((r) => r.id)).toEqual([b.id]);
    expect(await listRewards(handle.db, shop.id, { includeArchived: true })).toHaveLength(2);
    expect(await getReward(handle.db, shop.id, foreign.id)).toBeUndefined();
    await expect(reviseReward(handle.db, shop.id, foreign.id, fiveOff)).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
  });

  it('refuses an invalid definition with every problem named', async () => {
    const shop = await newShop(handle.db, 'JPY');
    const error = await createReward(handle.db, shop.id, {
      type: 'points_slider',
      title: '',
      slider: { pointsPerUnit: 3, minPoints: 10, maxPoints: 102, stepPoints: 5 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.VALIDATION);
    const paths = ((error as AppError).details.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'title',
        'slider.minPoints',
        'slider.stepPoints',
        'slider.maxPoints',
      ]),
    );
    expect(await listRewards(handle.db, shop.id, { includeArchived: true })).toEqual([]);
  });
});
