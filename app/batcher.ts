/**
 * Adaptive micro-batching. Items submitted while fewer than `maxInFlight` batches are running go
 * out at once (a batch of one when the worker is idle: no added latency); items submitted while
 * every slot is busy wait and leave together, up to `maxBatch` at a time, as soon as a slot frees.
 * So batches grow with the load and shrink with it, without a timer.
 *
 * An item submitted with a signal that aborts while it still waits is taken out of the queue and
 * never run (its promise rejects with the signal's reason): a caller that stopped waiting leaves
 * nothing behind. Once its batch has started, the item runs to the end whatever the signal says.
 */
export interface BatcherOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches running at once. */
  maxInFlight: number;
}

interface Waiting<K, R> {
  key: K;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  /** Detaches the abort listener once the item leaves the queue. */
  release: () => void;
}

export class Batcher<K, R> {
  private readonly waiting: Waiting<K, R>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Runs one batch; must return a result for every key it was given. */
    private readonly run: (keys: K[]) => Promise<Map<K, R>>,
    private readonly options: BatcherOptions,
  ) {
    if (!(options.maxBatch >= 1 && options.maxInFlight >= 1)) {
      throw new Error('Batcher needs maxBatch ≥ 1 and maxInFlight ≥ 1');
    }
  }

  /** The item's result, once its batch has run (or the signal's reason, if it aborts first). */
  submit(key: K, signal?: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const waiting: Waiting<K, R> = { key, resolve, reject, release: () => {} };
      if (signal) {
        const onAbort = () => {
          const at = this.waiting.indexOf(waiting);
          if (at === -1) return;
          this.waiting.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.release = () => signal.removeEventListener('abort', onAbort);
      }
      this.waiting.push(waiting);
      // Let items submitted in the same tick (BullMQ hands several jobs over at once) go together.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Items waiting for a slot (for tests and metrics). */
  get pending(): number {
    return this.waiting.length;
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      for (const w of batch) w.release();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async execute(batch: Waiting<K, R>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((w) => w.key));
      for (const w of batch) {
        if (results.has(w.key)) w.resolve(results.get(w.key)!);
        else w.reject(new Error(`batch returned no result for ${String(w.key)}`));
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
