/** @jsxImportSource preact */
// customer-account.profile.block.render: the member's points on their Profile page, and the way
// to the full history (the laurel-account-page extension in this folder's toml).
import '@shopify/ui-extensions/preact';
import { render } from 'preact';
import { Loading, LoadFailed, SummaryView, t, useSummary } from './ui';

export const HISTORY_PAGE_HREF = 'extension:laurel-account-page/';

export default async () => {
  render(<ProfileBlock />, document.body);
};

function ProfileBlock() {
  const [summary, retry] = useSummary();
  return (
    <s-section heading={t('block.heading')}>
      {summary.status === 'loading' && <Loading label={t('summary.loading')} />}
      {summary.status === 'error' && <LoadFailed message={t('summary.error')} onRetry={retry} />}
      {summary.status === 'ready' && (
        <s-stack direction="block" gap="base">
          <SummaryView summary={summary.value} />
          {summary.value.enrolled && <s-link href={HISTORY_PAGE_HREF}>{t('block.history')}</s-link>}
        </s-stack>
      )}
    </s-section>
  );
}
