/**
 * The program editor's form (app/routes/app.program.tsx), isomorphic: the browser runs it for the
 * live preview ("an order of $X earns Y points", computed by loyalty/earn.ts on the draft), the
 * server to validate a save or a simulation with the very same reading. What the merchant typed →
 * a program definition, and loyalty/program.ts's issues (JSON paths) → the field they belong to.
 * The rules are program.ts's; this module only reads text and names fields. docs/program-editor.md.
 */
import { computeEarn, type EarnResult } from '../loyalty/earn';
import { formatMinorMoney } from '../loyalty/explain';
import { formatMoney, MoneyError, parseMoney } from '../loyalty/money';
import {
  parseProgram,
  ProgramError,
  type CompiledProgram,
  type EarnOn,
  type ProgramDefinition,
  type ProgramIssue,
  type RedemptionRefundRule,
} from '../loyalty/program';

export interface BandRowValues {
  over: string;
  /** Empty: no ceiling (the last band only). */
  upTo: string;
  pointsPerUnit: string;
}

export interface ProgramFormValues {
  name: string;
  /** The spend step that earns ("1.00": per whole dollar). */
  unit: string;
  bands: BandRowValues[];
  earnOn: EarnOn;
  posOrdersEarn: boolean;
  /** The shop's setting (shops.test_orders_earn), edited here; not part of a version. */
  testOrdersEarn: boolean;
  signupBonus: string;
  /** Not edited on this page (docs/redemption.md); carried so a save keeps it. */
  redemptionRefunds: RedemptionRefundRule;
  /** "now", or "scheduled" at `effectiveAt` (shop-local `YYYY-MM-DDTHH:MM`). */
  effective: 'now' | 'scheduled';
  effectiveAt: string;
}

/** Field errors by field (`name`, `bands[1].over`, `effectiveAt`…) and `form` for the rest. */
export type ProgramFieldErrors = Record<string, string>;

export const EARN_ON_LABELS: Record<EarnOn, string> = {
  subtotal_after_discounts: 'Subtotal after discounts',
  total: 'Order total (with shipping and tax)',
};

const FIELD_LABELS: Record<string, string> = {
  name: 'Program name',
  unit: 'Earn unit',
  bands: 'Bands',
  earnOn: 'Earn on',
  signupBonus: 'Signup bonus',
  posOrders: 'POS orders',
  effectiveAt: 'Effective from',
};

const BAND_LABELS: Record<keyof BandRowValues, string> = {
  over: 'over',
  upTo: 'up to',
  pointsPerUnit: 'points per unit',
};

/** The message beside a band field, naming it in the banner too: "Band 2 up to: …". */
export const bandMessage = (index: number, field: keyof BandRowValues, message: string) =>
  `Band ${index + 1} ${BAND_LABELS[field]}: ${message}`;

/** A stored definition (and the shop's test-order setting) as the editor shows it. */
export function programFormValues(
  definition: ProgramDefinition,
  testOrdersEarn: boolean,
): ProgramFormValues {
  return {
    name: definition.name,
    unit: definition.earn.unit,
    bands: definition.earn.bands.map((b) => ({
      over: b.over,
      upTo: b.upTo ?? '',
      pointsPerUnit: String(b.pointsPerUnit),
    })),
    earnOn: definition.earnOn ?? 'subtotal_after_discounts',
    posOrdersEarn: (definition.posOrders ?? 'earn') === 'earn',
    testOrdersEarn,
    signupBonus: String(definition.signupBonus ?? 0),
    redemptionRefunds: definition.redemptionRefunds ?? 'keep_points',
    effective: 'now',
    effectiveAt: '',
  };
}

const WHOLE = /^[0-9]{1,10}$/;

/**
 * The form → a definition in `currency`, and every problem by field: first what the text itself
 * cannot say (a rate that is not a whole number), then what loyalty/program.ts finds wrong,
 * mapped from its paths. The first message of a field wins. Pure.
 */
export function parseProgramForm(
  values: ProgramFormValues,
  currency: string,
): { definition: Record<string, unknown>; errors: ProgramFieldErrors } {
  const errors: ProgramFieldErrors = {};
  const whole = (text: string, field: string, say: (message: string) => string) => {
    const t = text.trim();
    if (WHOLE.test(t)) return Number(t);
    errors[field] ??= say(
      /^-\s*[0-9]/.test(t)
        ? 'must not be negative'
        : t === ''
          ? 'is required'
          : 'must be a whole number',
    );
    return t;
  };
  const definition: Record<string, unknown> = {
    name: values.name,
    currency,
    earn: {
      unit: values.unit.trim(),
      bands: values.bands.map((band, i) => ({
        over: band.over.trim(),
        ...(band.upTo.trim() === '' ? {} : { upTo: band.upTo.trim() }),
        pointsPerUnit: whole(band.pointsPerUnit, `bands[${i}].pointsPerUnit`, (m) =>
          bandMessage(i, 'pointsPerUnit', m),
        ),
      })),
    },
    earnOn: values.earnOn,
    signupBonus: whole(
      values.signupBonus,
      'signupBonus',
      (m) => `${FIELD_LABELS.signupBonus} ${m}`,
    ),
    redemptionRefunds: values.redemptionRefunds,
    posOrders: values.posOrdersEarn ? 'earn' : 'exclude',
  };
  try {
    parseProgram(definition);
  } catch (error) {
    if (!(error instanceof ProgramError)) throw error;
    Object.assign(errors, issuesToProgramFieldErrors(error.issues, errors));
  }
  return { definition, errors };
}

const BAND_PATH = /^earn\.bands\[(\d+)\](?:\.([A-Za-z]+))?$/;

/**
 * program.ts's issues (`earn.bands[1].over: overlaps the previous band…`) as messages beside the
 * editor's fields (`Band 2 over: overlaps the previous band…`). An issue no field holds (the
 * currency, the definition as a whole) goes to `form`.
 */
export function issuesToProgramFieldErrors(
  issues: readonly ProgramIssue[],
  errors: ProgramFieldErrors = {},
): ProgramFieldErrors {
  const out: ProgramFieldErrors = { ...errors };
  const put = (field: string, message: string) => {
    out[field] ??= message;
  };
  for (const issue of issues) {
    const band = BAND_PATH.exec(issue.path);
    if (band) {
      const index = Number(band[1]);
      const field = band[2] as keyof BandRowValues | undefined;
      if (field && field in BAND_LABELS) {
        put(`bands[${index}].${field}`, bandMessage(index, field, issue.message));
        continue;
      }
    }
    const field =
      issue.path === 'earn.unit' ? 'unit' : issue.path === 'earn.bands' ? 'bands' : issue.path;
    if (field in FIELD_LABELS) {
      put(field, `${FIELD_LABELS[field]} ${issue.message}`);
      continue;
    }
    const line = issue.path ? `${issue.path} ${issue.message}` : issue.message;
    out.form = out.form ? `${out.form}; ${line}` : line;
  }
  return out;
}

/** The draft compiled, or null while it has problems (the preview then says so). */
export function compileDraft(values: ProgramFormValues, currency: string): CompiledProgram | null {
  const { definition, errors } = parseProgramForm(values, currency);
  if (Object.keys(errors).length > 0) return null;
  return parseProgram(definition);
}

export interface EarnPreview {
  /** "An order of $120.00 earns 90 points" */
  sentence: string;
  /** One line per band that earns: "$50.00 to $100.00: 50 × 1 = 50 points". */
  bands: string[];
  result: EarnResult;
}

const points = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'point' : 'points'}`;

/**
 * What an order of `amountText` (the merchant's typing) earns under the compiled draft, with the
 * band breakdown — or the reason it cannot be said (bad money text).
 */
export function earnPreview(
  program: CompiledProgram,
  amountText: string,
): EarnPreview | { error: string } {
  let amountMinor: number;
  try {
    amountMinor = parseMoney(amountText.trim(), program.currency);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    return { error: `Order amount '${amountText}' ${error.reason}` };
  }
  const money = (minor: number) => formatMinorMoney(minor, program.currency, 'en');
  const result = computeEarn(program, amountMinor);
  const unit = money(program.unitMinor);
  return {
    sentence: `An order of ${money(amountMinor)} earns ${points(result.points)}`,
    bands: result.bands
      .filter((b) => b.wholeUnits > 0)
      .map(
        (b) =>
          `${money(b.over)} to ${money(b.upTo === null || b.upTo > amountMinor ? amountMinor : b.upTo)}: ${b.wholeUnits.toLocaleString('en-US')} × ${unit} × ${b.pointsPerUnit} = ${points(b.points)}`,
      ),
    result,
  };
}

/** A first program for a shop without one: the reference bands, moved into `currency`. */
export function starterForm(currency: string, digits: number): ProgramFormValues {
  const major = (n: number) => formatMoney(n * 10 ** digits, currency);
  return {
    name: 'Points',
    unit: major(1),
    bands: [
      { over: major(50), upTo: major(100), pointsPerUnit: '1' },
      { over: major(100), upTo: '', pointsPerUnit: '2' },
    ],
    earnOn: 'subtotal_after_discounts',
    posOrdersEarn: true,
    testOrdersEarn: false,
    signupBonus: '0',
    redemptionRefunds: 'keep_points',
    effective: 'now',
    effectiveAt: '',
  };
}
