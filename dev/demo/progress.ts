/**
 * The demo's progress reporter: the same one `loyalty import` draws (cli/progress.ts), set up for
 * the webhook replay. On a terminal: `Replaying [#########.....] 61% 530/860 webhooks`, redrawn in
 * place; in a log: `Replaying: 530/860 webhooks (61%)` every few seconds and when done.
 */
import { ProgressBar, type ProgressOptions } from '../../cli/progress';

export { ProgressBar, type ProgressMode, type ProgressOptions } from '../../cli/progress';

/** A progress reporter for replaying `total` webhooks; pass `update` as the replay's onProgress. */
export function replayProgress(
  total: number,
  options: Omit<ProgressOptions, 'total' | 'label' | 'unit'> & { label?: string } = {},
): ProgressBar {
  return new ProgressBar({ label: 'Replaying', ...options, total, unit: 'webhooks' });
}
