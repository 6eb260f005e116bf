/** @jsxImportSource preact */
// customer-account.page.render: the member's points and their history, newest first, paged by the
// backend's opaque cursor ("Load more"). Each entry's explanation is written by the backend
// ("Order #1001, $120.00 → 90 points") so the page never redoes the earn maths.
import '@shopify/ui-extensions/preact';
import type { Api } from '@shopify/ui-extensions/customer-account.page.render';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { appendPage, type HistoryEntry } from './member';
import { loadHistoryPage } from './sources';
import { Loading, LoadFailed, pointsText, SummaryView, t, useSummary } from './ui';

declare const shopify: Api;

export default async () => {
  render(<HistoryPage />, document.body);
};

type History =
  | { status: 'loading' }
  | { status: 'error' }
  | {
      status: 'ready';
      entries: HistoryEntry[];
      nextCursor: string | null;
      /** The state of the "Load more" request, apart from the entries already shown. */
      more: 'idle' | 'loading' | 'error';
    };

function HistoryPage() {
  const [summary, retrySummary] = useSummary();
  const [history, setHistory] = useState<History>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    setHistory({ status: 'loading' });
    loadHistoryPage(shopify, null).then(
      (page) => current && setHistory({ status: 'ready', ...page, more: 'idle' }),
      () => current && setHistory({ status: 'error' }),
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  const loadMore = () => {
    if (history.status !== 'ready' || history.nextCursor === null || history.more === 'loading') {
      return;
    }
    const shown = history;
    setHistory({ ...shown, more: 'loading' });
    loadHistoryPage(shopify, shown.nextCursor).then(
      (page) =>
        setHistory({
          status: 'ready',
          entries: appendPage(shown.entries, page.entries),
          nextCursor: page.nextCursor,
          more: 'idle',
        }),
      () => setHistory({ ...shown, more: 'error' }),
    );
  };

  return (
    <s-page heading={t('page.heading')}>
      <s-stack direction="block" gap="base">
        <s-section heading={t('page.summaryHeading')}>
          {summary.status === 'loading' && <Loading label={t('summary.loading')} />}
          {summary.status === 'error' && (
            <LoadFailed message={t('summary.error')} onRetry={retrySummary} />
          )}
          {summary.status === 'ready' && <SummaryView summary={summary.value} />}
        </s-section>
        <s-section heading={t('history.heading')}>
          {history.status === 'loading' && <Loading label={t('history.loading')} />}
          {history.status === 'error' && (
            <LoadFailed message={t('history.error')} onRetry={() => setAttempt((n) => n + 1)} />
          )}
          {history.status === 'ready' && (
            <HistoryList
              entries={history.entries}
              hasMore={history.nextCursor !== null}
              more={history.more}
              onMore={loadMore}
            />
          )}
        </s-section>
      </s-stack>
    </s-page>
  );
}

interface HistoryListProps {
  entries: HistoryEntry[];
  hasMore: boolean;
  more: 'idle' | 'loading' | 'error';
  onMore: () => void;
}

function HistoryList({ entries, hasMore, more, onMore }: HistoryListProps) {
  if (entries.length === 0) return <s-paragraph>{t('history.empty')}</s-paragraph>;
  return (
    <s-stack direction="block" gap="base">
      <s-stack direction="block" gap="small-200" accessibilityRole="unordered-list">
        {entries.map((entry, index) => (
          <s-stack key={entry.id} direction="block" gap="small-200" accessibilityRole="list-item">
            {index > 0 && <s-divider />}
            <EntryRow entry={entry} />
          </s-stack>
        ))}
      </s-stack>
      {more === 'error' && (
        <s-banner tone="warning" heading={t('history.moreError')}>
          <s-text>{t('error.later')}</s-text>
        </s-banner>
      )}
      {hasMore && (
        <s-button variant="secondary" loading={more === 'loading'} onClick={onMore}>
          {more === 'error' ? t('error.retry') : t('history.loadMore')}
        </s-button>
      )}
    </s-stack>
  );
}

function EntryRow({ entry }: { entry: HistoryEntry }) {
  return (
    <s-stack direction="inline" gap="base" justifyContent="space-between" alignItems="start">
      <s-stack direction="block" gap="small-500">
        <s-text>{entry.explanation}</s-text>
        <s-text color="subdued">
          {shopify.i18n.formatDate(new Date(entry.occurredAt), { dateStyle: 'medium' })}
        </s-text>
      </s-stack>
      <s-text type="strong" tone={entry.points < 0 ? 'critical' : 'auto'}>
        {pointsText('history.points', entry.points, true)}
      </s-text>
    </s-stack>
  );
}
