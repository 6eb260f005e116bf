/**
 * Progress of a long command (`loyalty import`, the demo's webhook replay): a one-line bar redrawn
 * in place on a terminal, `Importing [###.......] 30% 3,000/10,000 rows`, or, when the output is
 * not a terminal (CI logs), a plain line every few seconds and one at the end.
 */

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  total: number;
  /** What is happening: `Importing`, `Replaying`. */
  label: string;
  /** What is counted: `rows`, `webhooks`. */
  unit: string;
  /** Default process.stderr. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Default: `bar` when the stream is a terminal, `lines` otherwise. */
  mode?: ProgressMode;
  /** Least time between two redraws of the bar (default 100 ms). */
  redrawMs?: number;
  /** Time between two plain lines (default 5 s). */
  lineIntervalMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

const BAR_WIDTH = 30;

export class ProgressBar {
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly mode: ProgressMode;
  private readonly now: () => number;
  private lastDrawn = 0;
  private lastLine: number;
  private lastLineDone = -1;
  private done = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.mode ?? (this.stream.isTTY === true ? 'bar' : 'lines');
    this.now = options.now ?? Date.now;
    this.lastLine = this.now();
  }

  update(done: number): void {
    this.done = done;
    if (this.mode === 'off') return;
    const { total } = this.options;
    const now = this.now();
    if (this.mode === 'bar') {
      if (done < total && now - this.lastDrawn < (this.options.redrawMs ?? 100)) return;
      this.lastDrawn = now;
      const ratio = total === 0 ? 1 : done / total;
      const filled = Math.round(ratio * BAR_WIDTH);
      this.stream.write(
        `\r${this.options.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.floor(ratio * 100)}% ${this.counts(done)}`,
      );
      return;
    }
    if (done < total && now - this.lastLine < (this.options.lineIntervalMs ?? 5_000)) return;
    if (done === this.lastLineDone) return;
    this.line(done, now);
  }

  /** Ends the bar's line; in `lines` mode prints the final count if it was not printed yet. */
  finish(): void {
    if (this.mode === 'bar') this.stream.write('\n');
    if (this.mode === 'lines' && this.done !== this.lastLineDone) this.line(this.done, this.now());
  }

  private counts(done: number): string {
    return `${done.toLocaleString('en-US')}/${this.options.total.toLocaleString('en-US')} ${this.options.unit}`;
  }

  private line(done: number, now: number): void {
    const { total } = this.options;
    const percent = Math.floor((total === 0 ? 1 : done / total) * 100);
    this.stream.write(`${this.options.label}: ${this.counts(done)} (${percent}%)\n`);
    this.lastLine = now;
    this.lastLineDone = done;
  }
}
