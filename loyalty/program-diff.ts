/**
 * What changed between two program versions, in the merchant's words: "band 2: 2 → 3 points per
 * $1.00", "signup bonus 0 → 100". The program editor's version history shows one line per change
 * (docs/program-editor.md). Pure, and read off the compiled form, so a stored definition that
 * predates a setting (no `posOrders`) compares by its default, and "50" vs "50.00" is no change.
 */
import { formatMinorMoney } from './explain';
import { parseProgram, type CompiledBand, type CompiledProgram, type EarnOn } from './program';

const EARN_ON: Record<EarnOn, string> = {
  subtotal_after_discounts: 'subtotal after discounts',
  total: 'order total',
};

function money(minor: number, currency: string): string {
  return formatMinorMoney(minor, currency, 'en');
}

function range(band: CompiledBand, currency: string): string {
  const over = `over ${money(band.overMinor, currency)}`;
  return band.upToMinor === null
    ? `${over}, no ceiling`
    : `${over} up to ${money(band.upToMinor, currency)}`;
}

function rate(points: number, unit: string): string {
  return `${points} ${points === 1 ? 'point' : 'points'} per ${unit}`;
}

/**
 * The changes from `before` to `after`, one phrase each, in a fixed order (name, earn unit, bands
 * by position, earn base, signup bonus, POS orders, reward codes on refunds). `before` null: the
 * first version. Both are definitions as stored (validated when published); throws ProgramError
 * for one that is not.
 */
export function diffPrograms(before: unknown, after: unknown): string[] {
  const next = parseProgram(after);
  if (before === null || before === undefined) return ['first version'];
  return diffCompiled(parseProgram(before), next);
}

export function diffCompiled(a: CompiledProgram, b: CompiledProgram): string[] {
  const changes: string[] = [];
  const currency = b.currency;
  if (a.name !== b.name) changes.push(`name “${a.name}” → “${b.name}”`);
  if (a.currency !== b.currency) changes.push(`currency ${a.currency} → ${b.currency}`);
  if (a.unitMinor !== b.unitMinor) {
    changes.push(`earn unit ${money(a.unitMinor, a.currency)} → ${money(b.unitMinor, currency)}`);
  }
  const unit = money(b.unitMinor, currency);
  const count = Math.max(a.bands.length, b.bands.length);
  for (let i = 0; i < count; i++) {
    const was = a.bands[i];
    const now = b.bands[i];
    const label = `band ${i + 1}`;
    if (!was && now) {
      changes.push(`${label} added: ${range(now, currency)}, ${rate(now.pointsPerUnit, unit)}`);
    } else if (was && !now) {
      changes.push(
        `${label} removed (${range(was, a.currency)}, ${rate(was.pointsPerUnit, money(a.unitMinor, a.currency))})`,
      );
    } else if (was && now) {
      if (was.overMinor !== now.overMinor || was.upToMinor !== now.upToMinor) {
        changes.push(`${label}: ${range(was, a.currency)} → ${range(now, currency)}`);
      }
      if (was.pointsPerUnit !== now.pointsPerUnit) {
        changes.push(`${label}: ${was.pointsPerUnit} → ${rate(now.pointsPerUnit, unit)}`);
      }
    }
  }
  if (a.earnOn !== b.earnOn) changes.push(`earn base ${EARN_ON[a.earnOn]} → ${EARN_ON[b.earnOn]}`);
  if (a.signupBonus !== b.signupBonus) {
    changes.push(`signup bonus ${a.signupBonus} → ${b.signupBonus}`);
  }
  if (a.posOrders !== b.posOrders) {
    changes.push(b.posOrders === 'earn' ? 'POS orders now earn' : 'POS orders no longer earn');
  }
  if (a.redemptionRefunds !== b.redemptionRefunds) {
    changes.push(
      b.redemptionRefunds === 'return_points'
        ? 'points spent on a refunded order’s reward code are now given back'
        : 'points spent on a refunded order’s reward code are now kept',
    );
  }
  return changes;
}
