/**
 * The merchant-facing program definition (JSON) and its compiled, minor-unit form.
 *
 * A definition is data, not code: the database stores it verbatim per program version, and
 * {@link parseProgram} turns it into a {@link CompiledProgram} that the earn maths reads. Money in
 * the JSON is decimal text in the program currency (`"50.00"`), parsed exactly by parseMoney.
 * The schema is documented in docs/cli.md ("Program file").
 */
import { z } from 'zod';
import { isRecord, schemaIssues } from './definition-issues';
import { currencyDigits, isKnownCurrency, MoneyError, parseMoney } from './money';

/** Which Shopify order amount earns (only the Shopify integrations read it; files give one amount). */
export type EarnOn = 'subtotal_after_discounts' | 'total';

/**
 * Whether orders taken at Shopify POS (source_name `pos`) earn. Part of the versioned definition,
 * so an order is judged by the version in force when it was placed. Default "earn".
 */
export type PosOrders = 'earn' | 'exclude';

export interface EarnBandDefinition {
  /** Spend above this amount (decimal text) earns in this band. */
  over: string;
  /** Spend up to this amount counts here; omitted on the last band = no ceiling. */
  upTo?: string;
  /** Points per whole `unit` of spend inside the band (positive integer). */
  pointsPerUnit: number;
}

export interface ProgramDefinition {
  name: string;
  /** ISO 4217 code; every amount in the definition is in this currency. */
  currency: string;
  earn: {
    /** The spend step that earns, e.g. "1.00" = per whole dollar. */
    unit: string;
    bands: EarnBandDefinition[];
  };
  /** Default "subtotal_after_discounts". */
  earnOn?: EarnOn;
  /** Points granted once on enrolment (integer ≥ 0). Default 0. */
  signupBonus?: number;
  /**
   * When an order that used a reward code is cancelled or fully refunded: keep the points spent on
   * the code (default, what most programs do) or give them back. docs/redemption.md.
   */
  redemptionRefunds?: RedemptionRefundRule;
  /** POS orders earn ("earn", default) or not ("exclude"). */
  posOrders?: PosOrders;
}

export type RedemptionRefundRule = 'keep_points' | 'return_points';

export interface CompiledBand {
  overMinor: number;
  /** null = open-ended. */
  upToMinor: number | null;
  pointsPerUnit: number;
}

export interface CompiledProgram {
  name: string;
  currency: string;
  /** Minor digits of `currency` (USD 2). */
  digits: number;
  earnOn: EarnOn;
  unitMinor: number;
  /** Sorted by overMinor, non-overlapping. */
  bands: readonly CompiledBand[];
  signupBonus: number;
  redemptionRefunds: RedemptionRefundRule;
  posOrders: PosOrders;
  /** The normalised definition (defaults filled in): what a program version stores. */
  definition: ProgramDefinition;
}

export interface ProgramIssue {
  /** JSON path like `earn.bands[1].upTo` (empty for the root). */
  path: string;
  message: string;
}

/** A program definition with problems; `issues` lists every one with its JSON path. */
export class ProgramError extends Error {
  readonly issues: ProgramIssue[];
  constructor(issues: ProgramIssue[]) {
    super(
      `invalid program:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ProgramError';
    this.issues = issues;
  }
}

/** The reference program: 1 point per whole dollar from $50 to $100, 2 per whole dollar above $100. */
export const referenceProgram: ProgramDefinition = {
  name: 'Reference',
  currency: 'USD',
  earn: {
    unit: '1.00',
    bands: [
      { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
      { over: '100.00', pointsPerUnit: 2 },
    ],
  },
  earnOn: 'subtotal_after_discounts',
  signupBonus: 0,
  redemptionRefunds: 'keep_points',
  posOrders: 'earn',
};

const MAX_POINTS_PER_UNIT = 1_000_000;
const MAX_SIGNUP_BONUS = 1_000_000_000;

const moneyText = z.string({ error: 'must be a decimal amount as a string, e.g. "50.00"' });

const bandSchema = z.strictObject({
  over: moneyText,
  upTo: moneyText.optional(),
  pointsPerUnit: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be at least 1')
    .max(MAX_POINTS_PER_UNIT, `must be at most ${MAX_POINTS_PER_UNIT}`),
});

const definitionSchema = z.strictObject({
  name: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters'),
  currency: z.string({ error: 'must be an ISO 4217 code such as "USD"' }),
  earn: z.strictObject(
    {
      unit: moneyText,
      bands: z
        .array(bandSchema, { error: 'must be an array of bands' })
        .min(1, 'needs at least one band'),
    },
    { error: 'must be an object with unit and bands' },
  ),
  earnOn: z
    .enum(['subtotal_after_discounts', 'total'], {
      error: 'must be "subtotal_after_discounts" or "total"',
    })
    .optional(),
  signupBonus: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(MAX_SIGNUP_BONUS, `must be at most ${MAX_SIGNUP_BONUS}`)
    .optional(),
  redemptionRefunds: z
    .enum(['keep_points', 'return_points'], { error: 'must be "keep_points" or "return_points"' })
    .optional(),
  posOrders: z.enum(['earn', 'exclude'], { error: 'must be "earn" or "exclude"' }).optional(),
});

/**
 * Validates a program definition (already JSON-parsed) and compiles it to minor units.
 * Throws {@link ProgramError} listing every problem with its path, e.g.
 * `earn.bands[1].over: overlaps the previous band, which goes up to 100.00`.
 */
export function parseProgram(json: unknown): CompiledProgram {
  const issues: ProgramIssue[] = [];
  const parsed = definitionSchema.safeParse(json);
  if (!parsed.success) issues.push(...schemaIssues(parsed.error));

  // Semantic checks run on the raw input wherever its shape allows, so one pass reports everything.
  const raw = isRecord(json) ? json : {};
  const currency = typeof raw.currency === 'string' ? raw.currency : undefined;
  let digits: number | undefined;
  if (currency !== undefined) {
    if (isKnownCurrency(currency)) digits = currencyDigits(currency);
    else
      issues.push({ path: 'currency', message: `'${currency}' is not an ISO 4217 currency code` });
  }
  const money = (value: unknown, path: string): number | undefined => {
    if (typeof value !== 'string' || currency === undefined || digits === undefined)
      return undefined;
    try {
      return parseMoney(value, currency);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      issues.push({ path, message: `'${value}' ${error.reason}` });
      return undefined;
    }
  };

  const earn = isRecord(raw.earn) ? raw.earn : {};
  const unitMinor = money(earn.unit, 'earn.unit');
  if (unitMinor === 0) issues.push({ path: 'earn.unit', message: 'must be greater than 0' });

  const rawBands = Array.isArray(earn.bands) ? earn.bands : [];
  const bands: CompiledBand[] = [];
  let previous: { upToMinor: number | null; upTo: unknown } | undefined;
  rawBands.forEach((band: unknown, i) => {
    if (!isRecord(band)) return;
    const at = `earn.bands[${i}]`;
    const overMinor = money(band.over, `${at}.over`);
    const upToMinor = band.upTo === undefined ? null : money(band.upTo, `${at}.upTo`);
    if (
      overMinor !== undefined &&
      upToMinor !== undefined &&
      upToMinor !== null &&
      upToMinor <= overMinor
    ) {
      issues.push({
        path: `${at}.upTo`,
        message: `must be greater than over (${String(band.over)})`,
      });
    }
    if (band.upTo === undefined && i < rawBands.length - 1) {
      issues.push({
        path: `${at}.upTo`,
        message: 'is required: only the last band may be open-ended',
      });
    }
    if (
      previous &&
      overMinor !== undefined &&
      previous.upToMinor !== null &&
      overMinor < previous.upToMinor
    ) {
      issues.push({
        path: `${at}.over`,
        message: `overlaps the previous band, which goes up to ${String(previous.upTo)}; bands must be sorted and not overlap`,
      });
    }
    if (
      overMinor !== undefined &&
      upToMinor !== undefined &&
      typeof band.pointsPerUnit === 'number'
    ) {
      bands.push({ overMinor, upToMinor, pointsPerUnit: band.pointsPerUnit });
    }
    previous = upToMinor === undefined ? undefined : { upToMinor, upTo: band.upTo };
  });

  if (issues.length > 0 || !parsed.success || unitMinor === undefined || digits === undefined) {
    throw new ProgramError(
      issues.length > 0 ? issues : [{ path: '', message: 'is not a valid program' }],
    );
  }
  const data = parsed.data;
  const definition: ProgramDefinition = {
    name: data.name,
    currency: data.currency,
    earn: {
      unit: data.earn.unit,
      bands: data.earn.bands.map((b) =>
        b.upTo === undefined
          ? { over: b.over, pointsPerUnit: b.pointsPerUnit }
          : { over: b.over, upTo: b.upTo, pointsPerUnit: b.pointsPerUnit },
      ),
    },
    earnOn: data.earnOn ?? 'subtotal_after_discounts',
    signupBonus: data.signupBonus ?? 0,
    redemptionRefunds: data.redemptionRefunds ?? 'keep_points',
    posOrders: data.posOrders ?? 'earn',
  };
  return {
    name: definition.name,
    currency: definition.currency,
    digits,
    earnOn: definition.earnOn!,
    unitMinor,
    bands,
    signupBonus: definition.signupBonus!,
    redemptionRefunds: definition.redemptionRefunds!,
    posOrders: definition.posOrders!,
    definition,
  };
}

/** Parses program JSON text (e.g. a `--program` file); JSON syntax errors become a ProgramError too. */
export function parseProgramJson(text: string): CompiledProgram {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProgramError([
      { path: '', message: `is not valid JSON (${(error as Error).message})` },
    ]);
  }
  return parseProgram(json);
}
