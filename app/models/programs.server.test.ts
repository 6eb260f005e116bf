import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { programs } from '../../db/schema';
import { computeEarn } from '../../loyalty/earn';
import { referenceProgram, type ProgramDefinition } from '../../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode } from '../errors';
import {
  compiledProgram,
  getProgramVersion,
  listPrograms,
  programAt,
  publishProgram,
} from './programs.server';
import { ensureShop } from './shops.server';

const newShop = (db: Executor, currency = 'USD') =>
  ensureShop(db, { domain: `prog-${randomUUID().slice(0, 8)}.myshopify.com`, currency });

/** The reference program with every band's rate scaled, so versions are told apart by their maths. */
function scaled(factor: number, name = `x${factor}`): ProgramDefinition {
  return {
    ...referenceProgram,
    name,
    earn: {
      ...referenceProgram.earn,
      bands: referenceProgram.earn.bands.map((b) => ({
        ...b,
        pointsPerUnit: b.pointsPerUnit * factor,
      })),
    },
  };
}

const at = (iso: string) => new Date(iso);

describe.each(['postgres', 'pglite'] as const)('programs on %s', (kind) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('numbers versions 1, 2, 3… and stores the normalised definition', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const { earnOn: _earnOn, signupBonus: _bonus, ...withoutDefaults } = referenceProgram;
    const v1 = await publishProgram(db, shop.id, withoutDefaults, at('2026-01-01T00:00:00Z'));
    const v2 = await publishProgram(
      db,
      shop.id,
      JSON.stringify(scaled(2)),
      at('2026-02-01T00:00:00Z'),
    );
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.definition).toEqual(referenceProgram);
    expect(computeEarn(compiledProgram(v1), 12_000).points).toBe(90);
    expect(computeEarn(compiledProgram(v2), 12_000).points).toBe(180);
    expect(await getProgramVersion(db, shop.id, 2)).toEqual(v2);
    expect(await getProgramVersion(db, shop.id, 3)).toBeUndefined();
    expect((await listPrograms(db, shop.id)).map((p) => p.version)).toEqual([1, 2]);
    // Another shop numbers its own versions.
    const other = await newShop(db);
    expect(
      (await publishProgram(db, other.id, referenceProgram, at('2026-01-01T00:00:00Z'))).version,
    ).toBe(1);
    expect(await listPrograms(db, shop.id)).toHaveLength(2);
  });

  it('rejects an invalid definition listing every problem with its path', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const bad = {
      ...referenceProgram,
      earn: { unit: '0.00', bands: [{ over: '1.001', pointsPerUnit: 0 }] },
      extra: true,
    };
    const error = (await publishProgram(db, shop.id, bad, at('2026-01-01T00:00:00Z')).catch(
      (e: unknown) => e,
    )) as AppError;
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe(ErrorCode.VALIDATION);
    const paths = (error.details.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'extra',
        'earn.unit',
        'earn.bands[0].over',
        'earn.bands[0].pointsPerUnit',
      ]),
    );
    await expect(
      publishProgram(db, shop.id, '{not json', at('2026-01-01T00:00:00Z')),
    ).rejects.toThrow(/not valid JSON/);
    expect(await listPrograms(db, shop.id)).toEqual([]);
  });

  it("refuses a program in another currency than the shop's, and an unknown shop", async () => {
    const { db } = handle;
    const shop = await newShop(db, 'EUR');
    await expect(
      publishProgram(db, shop.id, referenceProgram, at('2026-01-01T00:00:00Z')),
    ).rejects.toThrow(/program currency USD differs from the shop currency EUR/);
    await expect(
      publishProgram(db, 2_000_000_000, referenceProgram, at('2026-01-01T00:00:00Z')),
    ).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    await expect(
      publishProgram(db, shop.id, { ...referenceProgram, currency: 'EUR' }, new Date('x')),
    ).rejects.toThrow(/effectiveFrom must be a valid Date/);
  });

  it('finds the version in force at an instant', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    expect(await programAt(db, shop.id, at('2026-01-01T00:00:00Z'))).toBeUndefined();
    // Published out of order: version numbers follow publishing, effectiveness follows effective_from.
    await publishProgram(db, shop.id, scaled(1, 'jan'), at('2026-01-01T00:00:00Z'));
    await publishProgram(db, shop.id, scaled(3, 'mar'), at('2026-03-01T00:00:00Z'));
    await publishProgram(db, shop.id, scaled(2, 'feb'), at('2026-02-01T00:00:00Z'));
    await publishProgram(db, shop.id, scaled(4, 'mar-fix'), at('2026-03-01T00:00:00Z'));
    const nameAt = async (iso: string) => (await programAt(db, shop.id, at(iso)))?.definition.name;
    expect(await nameAt('2025-06-01T00:00:00Z')).toBe('jan'); // before any: the earliest
    expect(await nameAt('2026-01-01T00:00:00Z')).toBe('jan'); // effective_from itself is included
    expect(await nameAt('2026-01-31T23:59:59.999Z')).toBe('jan');
    expect(await nameAt('2026-02-01T00:00:00Z')).toBe('feb');
    expect(await nameAt('2026-03-01T00:00:00Z')).toBe('mar-fix'); // same instant: the later version
    expect(await nameAt('2030-01-01T00:00:00Z')).toBe('mar-fix');
    const other = await newShop(db);
    expect(await programAt(db, other.id, at('2026-03-01T00:00:00Z'))).toBeUndefined();
  });

  it('gives racing publishes distinct consecutive versions', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const published = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        publishProgram(db, shop.id, scaled(i + 1), at('2026-01-01T00:00:00Z')),
      ),
    );
    expect(published.map((p) => p.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  it('never updates a version: the database refuses', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const v1 = await publishProgram(db, shop.id, referenceProgram, at('2026-01-01T00:00:00Z'));
    await expect(
      db
        .update(programs)
        .set({ effectiveFrom: at('2020-01-01T00:00:00Z') })
        .where(eq(programs.id, v1.id)),
    ).rejects.toThrow();
    expect(await getProgramVersion(db, shop.id, 1)).toEqual(v1);
  });
});

describe('program publish race on PostgreSQL', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres', { max: 12 });
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('retries losers of the unique (shop, version) race, also inside callers’ transactions', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const published = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0
          ? publishProgram(db, shop.id, scaled(i + 1), at('2026-01-01T00:00:00Z'))
          : db.transaction((tx) =>
              publishProgram(tx, shop.id, scaled(i + 1), at('2026-01-01T00:00:00Z')),
            ),
      ),
    );
    expect(published.map((p) => p.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 24 }, (_, i) => i + 1),
    );
  });
});
