/**
 * Versioned definitions (earn programs, tier programs) are numbered max+1 by the insert itself; two
 * publishes racing for one number meet on the unique (shop, version) index. The loser tries again —
 * inside a savepoint when the caller has a transaction open, so this works there too.
 */
import { sqlStateOf } from '../errors';

const ATTEMPTS = 50;

/** Runs `insert` until it does not lose a unique-index race (SQLSTATE 23505), 50 tries at most. */
export async function retryVersionRace<T>(insert: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await insert();
    } catch (error) {
      if (sqlStateOf(error) !== '23505' || attempt >= ATTEMPTS) throw error;
      // A little jitter so the losers of one round do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 10)));
    }
  }
}
