import { describe, expect, it } from 'vitest';
import { replayProgress } from './progress';

/** A stream that records what is written, and a clock the test moves. */
function setup(isTTY: boolean) {
  const written: string[] = [];
  let now = 1_000_000;
  return {
    written,
    stream: { isTTY, write: (text: string) => written.push(text) },
    now: () => now,
    tick: (ms: number) => {
      now += ms;
    },
  };
}

describe('replayProgress', () => {
  it('redraws one line in place on a terminal, at most every 100 ms, and always the last state', () => {
    const t = setup(true);
    const progress = replayProgress(860, { stream: t.stream, now: t.now });
    progress.update(10);
    progress.update(11); // too soon: skipped
    t.tick(150);
    progress.update(430);
    progress.update(860); // the end is always drawn
    progress.finish();
    expect(t.written).toEqual([
      '\rReplaying [..............................] 1% 10/860 webhooks',
      '\rReplaying [###############...............] 50% 430/860 webhooks',
      '\rReplaying [##############################] 100% 860/860 webhooks',
      '\n',
    ]);
  });

  it('writes plain lines every few seconds when the output is not a terminal (CI logs)', () => {
    const t = setup(false);
    const progress = replayProgress(2_000, { stream: t.stream, now: t.now, lineIntervalMs: 5_000 });
    progress.update(100); // less than 5 s in: nothing yet
    t.tick(5_000);
    progress.update(1_200);
    t.tick(1_000);
    progress.update(1_500);
    progress.finish(); // the final state was not printed yet
    expect(t.written).toEqual([
      'Replaying: 1,200/2,000 webhooks (60%)\n',
      'Replaying: 1,500/2,000 webhooks (75%)\n',
    ]);
    expect(t.written.join('')).not.toContain('\r');
  });

  it('prints the end once, and nothing at all when off', () => {
    const t = setup(false);
    const progress = replayProgress(3, { stream: t.stream, now: t.now });
    progress.update(3);
    progress.finish();
    expect(t.written).toEqual(['Replaying: 3/3 webhooks (100%)\n']);
    const quiet = setup(true);
    const off = replayProgress(3, { stream: quiet.stream, now: quiet.now, mode: 'off' });
    off.update(3);
    off.finish();
    expect(quiet.written).toEqual([]);
  });
});
