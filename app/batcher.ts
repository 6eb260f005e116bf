/**
 * Adaptive micro-batching. Items submitted while fewer than `maxInFlight` batches are running go
 * out at once (a batch of one when the worker is idle: no added latency); items submitted while
 * every slot is busy wait and leave together, up to `maxBatch` at a time, as soon as a slot frees.
 * So batches grow with the load and shrink with it, without a timer.
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

  /** The item's result, once its batch has run. */
  submit(key: K): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
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
