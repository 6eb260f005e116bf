/**
 * The demo store's program history for the program page (docs/program-editor.md): after the
 * reference program (version 1, in force since the history's start), a version 2 the merchant has
 * scheduled for the first day of next month — band 2 at 3 points per $1 and a 50-point signup
 * bonus. Scheduled, not in force: every demo order is dated in the history, before it, so the
 * ledger and the demo's independent check stay those of the reference program, while the page
 * shows two versions with what changed and opens its editor (and the simulator) on the draft of a
 * real change. Published once; a re-run finds it and publishes nothing.
 */
import type { Executor } from '../../db/client.server';
import {
  listPrograms,
  publishProgram,
  type ProgramVersion,
} from '../../app/models/programs.server';
import type { ProgramDefinition } from '../../loyalty/program';
import {
  monthKeyFromNumber,
  monthKeyOfInstant,
  monthNumberFromKey,
  zonedMidnight,
} from '../../loyalty/time';

/** The change version 2 makes to the reference program. */
export function demoSecondVersion(first: ProgramDefinition): ProgramDefinition {
  return {
    ...first,
    earn: {
      ...first.earn,
      bands: first.earn.bands.map((band, i) =>
        i === first.earn.bands.length - 1
          ? { ...band, pointsPerUnit: band.pointsPerUnit + 1 }
          : band,
      ),
    },
    signupBonus: 50,
  };
}

/** Publishes version 2 (scheduled for the 1st of next month in `timezone`) when only version 1 exists. */
export async function ensureDemoProgramHistory(
  db: Executor,
  shopId: number,
  timezone: string,
  now: Date = new Date(),
): Promise<ProgramVersion | null> {
  const versions = await listPrograms(db, shopId);
  if (versions.length !== 1) return null;
  const next = monthKeyFromNumber(
    monthNumberFromKey(monthKeyOfInstant(now.getTime(), timezone)) + 1,
  );
  return publishProgram(
    db,
    shopId,
    demoSecondVersion(versions[0]!.definition),
    new Date(zonedMidnight(`${next}-01`, timezone)),
  );
}
