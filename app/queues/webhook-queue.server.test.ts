import { Backoffs, type BackoffOptions, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_OPTIONS, retryDelayMs } from './webhook-queue.server';

const HOUR_MS = 3_600_000;

/** The waits BullMQ makes between the attempts of a job with our options and our strategy. */
function waits(): number[] {
  const backoff = Backoffs.normalize(DEFAULT_JOB_OPTIONS.backoff!) as BackoffOptions;
  const attempts = DEFAULT_JOB_OPTIONS.attempts ?? 1;
  return Array.from({ length: attempts - 1 }, (_, i) =>
    Number(Backoffs.calculate(backoff, i + 1, new Error('down'), {} as Job, retryDelayMs)),
  );
}

describe('the retry schedule of a delivery', () => {
  it("lasts at least Shopify's own (8 retries over 4 hours), never waiting over 15 minutes", () => {
    const schedule = waits();
    const total = schedule.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(4 * HOUR_MS);
    expect(total).toBeLessThan(5 * HOUR_MS);
    expect(schedule[0]).toBe(1_000);
    expect(Math.max(...schedule)).toBe(15 * 60_000);
    // Each wait at least the one before: quick retries first, for blips.
    expect(schedule.every((wait, i) => i === 0 || wait >= schedule[i - 1]!)).toBe(true);
  });
});
