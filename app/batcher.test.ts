import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Batcher', () => {
  it('runs a lone item at once, and groups items that arrive while every slot is busy', async () => {
    const batches: number[][] = [];
    const gates: Array<() => void> = [];
    const batcher = new Batcher<number, string>(
      async (keys) => {
        batches.push(keys);
        await new Promise<void>((resolve) => gates.push(resolve));
        return new Map(keys.map((k) => [k, `r${k}`]));
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    const first = batcher.submit(1);
    await tick();
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((k) => batcher.submit(k));
    await tick();
    expect(batcher.pending).toBe(4);
    gates.shift()!();
    expect(await first).toBe('r1');
    await tick();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates.shift()!();
    await tick();
    await tick();
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
    gates.shift()!();
    expect(await Promise.all(rest)).toEqual(['r2', 'r3', 'r4', 'r5']);
  });

  it('rejects every item of a batch that fails, and one the batch forgot', async () => {
    const failing = new Batcher<number, number>(
      async () => {
        throw new Error('database down');
      },
      { maxBatch: 10, maxInFlight: 2 },
    );
    await expect(Promise.all([failing.submit(1), failing.submit(2)])).rejects.toThrow(
      'database down',
    );
    const forgetful = new Batcher<number, number>(async () => new Map([[1, 1]]), {
      maxBatch: 10,
      maxInFlight: 1,
    });
    const [one, two] = await Promise.allSettled([forgetful.submit(1), forgetful.submit(2)]);
    expect(one).toEqual({ status: 'fulfilled', value: 1 });
    expect(two).toMatchObject({ status: 'rejected', reason: { message: /no result for 2/ } });
  });

  it('drops an item whose signal aborts while it waits; one already running runs to the end', async () => {
    const batches: number[][] = [];
    const gates: Array<() => void> = [];
    const batcher = new Batcher<number, string>(
      async (keys) => {
        batches.push(keys);
        await new Promise<void>((resolve) => gates.push(resolve));
        return new Map(keys.map((k) => [k, `r${k}`]));
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const running = new AbortController();
    const first = batcher.submit(1, running.signal);
    await tick();
    const waiting = new AbortController();
    const second = batcher.submit(2, waiting.signal);
    const third = batcher.submit(3);
    await tick();
    expect(batcher.pending).toBe(2);

    running.abort(new Error('gave up on 1'));
    waiting.abort(new Error('gave up on 2'));
    await expect(second).rejects.toThrow('gave up on 2');
    expect(batcher.pending).toBe(1);
    gates.shift()!();
    expect(await first).toBe('r1');
    await tick();
    gates.shift()!();
    expect(await third).toBe('r3');
    expect(batches).toEqual([[1], [3]]);
    // Already aborted: never queued.
    await expect(batcher.submit(4, AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
    expect(batcher.pending).toBe(0);
  });

  it('refuses nonsense options', () => {
    expect(() => new Batcher(async () => new Map(), { maxBatch: 0, maxInFlight: 1 })).toThrow();
  });
});
