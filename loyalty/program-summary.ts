/**
 * The program as the storefront reads it: the compact, minor-unit form Laurel writes to its
 * app-data metafield (`app.metafields.laurel.program`) so a theme block can compute "Earn N points"
 * in Liquid with the same maths as {@link earnPoints} — no request, no rounding of its own.
 */
import type { CompiledProgram } from './program';

export interface ProgramSummaryBand {
  /** Minor units of `currency`; a band earns on spend above `over` up to `upTo` (null: no ceiling). */
  over: number;
  upTo: number | null;
  pointsPerUnit: number;
}

export interface ProgramSummary {
  /** The program version this summary was written from. */
  version: number;
  name: string;
  currency: string;
  /** Minor digits of `currency` (USD 2, JPY 0, KWD 3): Liquid prices are in hundredths. */
  digits: number;
  earnOn: CompiledProgram['earnOn'];
  unitMinor: number;
  bands: ProgramSummaryBand[];
  signupBonus: number;
}

export function programSummary(program: CompiledProgram, version: number): ProgramSummary {
  return {
    version,
    name: program.name,
    currency: program.currency,
    digits: program.digits,
    earnOn: program.earnOn,
    unitMinor: program.unitMinor,
    bands: program.bands.map((band) => ({
      over: band.overMinor,
      upTo: band.upToMinor,
      pointsPerUnit: band.pointsPerUnit,
    })),
    signupBonus: program.signupBonus,
  };
}

/**
 * Liquid money values (`variant.price`) are hundredths of the currency whatever its digits; the
 * program's amounts are minor units. Undefined when the price cannot be expressed exactly.
 */
export function liquidPriceToMinor(price: number, digits: number): number | undefined {
  if (!Number.isSafeInteger(price) || price < 0) return undefined;
  if (digits === 2) return price;
  if (digits > 2) return price * 10 ** (digits - 2);
  const scale = 10 ** (2 - digits);
  return price % scale === 0 ? price / scale : undefined;
}
