import { and, asc, desc, eq, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { programs } from '../../db/schema';
import {
  parseProgram,
  parseProgramJson,
  ProgramError,
  type CompiledProgram,
  type ProgramDefinition,
} from '../../loyalty/program';
import { AppError, ErrorCode, validationFrom } from '../errors';
import { requireShop } from './shops.server';
import { retryVersionRace } from './versions.server';

export type ProgramVersion = Omit<typeof programs.$inferSelect, 'definition'> & {
  /** The normalised definition as published (defaults filled in). */
  definition: ProgramDefinition;
};

function checkInstant(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new AppError(ErrorCode.VALIDATION, `${field} must be a valid Date`, { field, value });
  }
  return value;
}

function compile(definitionJson: unknown): CompiledProgram {
  try {
    return typeof definitionJson === 'string'
      ? parseProgramJson(definitionJson)
      : parseProgram(definitionJson);
  } catch (error) {
    if (error instanceof ProgramError) throw validationFrom(error);
    throw error;
  }
}

/**
 * Publishes a new program version: validated (VALIDATION lists every problem with its JSON path),
 * in the shop's currency, numbered max+1. Two publishes racing for the same number meet on the
 * unique (shop_id, version) index; the loser retries inside a savepoint, so this also works within
 * a caller's transaction. Versions are never updated (a trigger refuses UPDATE).
 */
export async function publishProgram(
  db: Executor,
  shopId: number,
  definitionJson: unknown,
  effectiveFrom: Date,
): Promise<ProgramVersion> {
  checkInstant('effectiveFrom', effectiveFrom);
  const program = compile(definitionJson);
  const shop = await requireShop(db, shopId);
  if (program.currency !== shop.currency) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `program currency ${program.currency} differs from the shop currency ${shop.currency}; amounts would be misread`,
      { field: 'currency', programCurrency: program.currency, shopCurrency: shop.currency },
    );
  }
  return retryVersionRace(async () => {
    const row = await db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(programs)
        .values({
          shopId,
          version: sql`(SELECT coalesce(max(${programs.version}), 0) + 1 FROM ${programs} WHERE ${programs.shopId} = ${shopId})`,
          effectiveFrom,
          definition: program.definition,
        })
        .returning();
      return inserted!;
    });
    return row as ProgramVersion;
  });
}

/**
 * The version in force at `instant`: the latest effective_from ≤ instant (the higher version when
 * two share it). Before the first effective_from, the earliest version — an order that predates
 * the program still earns by the first rules rather than not at all. Undefined: no program yet.
 */
export async function programAt(
  db: Executor,
  shopId: number,
  instant: Date,
): Promise<ProgramVersion | undefined> {
  checkInstant('instant', instant);
  const [current] = await db
    .select()
    .from(programs)
    .where(and(eq(programs.shopId, shopId), lte(programs.effectiveFrom, instant)))
    .orderBy(desc(programs.effectiveFrom), desc(programs.version))
    .limit(1);
  if (current) return current as ProgramVersion;
  const [earliest] = await db
    .select()
    .from(programs)
    .where(eq(programs.shopId, shopId))
    .orderBy(asc(programs.effectiveFrom), desc(programs.version))
    .limit(1);
  return earliest as ProgramVersion | undefined;
}

export async function getProgramVersion(
  db: Executor,
  shopId: number,
  version: number,
): Promise<ProgramVersion | undefined> {
  const [row] = await db
    .select()
    .from(programs)
    .where(and(eq(programs.shopId, shopId), eq(programs.version, version)));
  return row as ProgramVersion | undefined;
}

/** Every version of the shop's program, oldest first. */
export async function listPrograms(db: Executor, shopId: number): Promise<ProgramVersion[]> {
  const rows = await db
    .select()
    .from(programs)
    .where(eq(programs.shopId, shopId))
    .orderBy(asc(programs.version));
  return rows as ProgramVersion[];
}

/** The earn maths' view of a stored version. */
export function compiledProgram(version: ProgramVersion): CompiledProgram {
  return parseProgram(version.definition);
}

/**
 * A shop's program versions in memory, to pick the one in force at many instants without a query
 * each (imports, batched webhook processing). Same rule as {@link programAt}: the latest
 * effective_from ≤ the instant, the higher version on a tie; before the first effective_from, the
 * earliest version (the higher one on a tie).
 */
export class ProgramTimeline {
  private readonly versions: {
    from: number;
    version: number;
    program: CompiledProgram;
    row: ProgramVersion;
  }[];

  constructor(versions: readonly ProgramVersion[]) {
    this.versions = versions
      .map((row) => ({
        from: row.effectiveFrom.getTime(),
        version: row.version,
        program: compiledProgram(row),
        row,
      }))
      .sort((a, b) => a.from - b.from || a.version - b.version);
  }

  get empty(): boolean {
    return this.versions.length === 0;
  }

  /** Currency of the latest version (all versions share the shop's currency). */
  get currency(): string {
    const latest = this.versions[this.versions.length - 1];
    if (!latest) throw new AppError(ErrorCode.NOT_FOUND, 'the shop has no program');
    return latest.program.currency;
  }

  /** The version in force at `instant` (epoch ms or Date); undefined when there is none. */
  at(
    instant: number | Date,
  ): { version: number; program: CompiledProgram; row: ProgramVersion } | undefined {
    const t = typeof instant === 'number' ? instant : instant.getTime();
    const first = this.versions[0];
    if (!first) return undefined;
    let chosen: (typeof this.versions)[number] | undefined;
    for (const v of this.versions) {
      if (v.from <= t) chosen = v;
      else break;
    }
    if (chosen) return chosen;
    // Before the first effective_from: the highest version sharing it.
    let earliest = first;
    for (const v of this.versions) if (v.from === first.from) earliest = v;
    return earliest;
  }
}

/** The shop's {@link ProgramTimeline}. */
export async function programTimeline(db: Executor, shopId: number): Promise<ProgramTimeline> {
  return new ProgramTimeline(await listPrograms(db, shopId));
}
