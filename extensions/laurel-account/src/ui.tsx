/** @jsxImportSource preact */
// Pieces both targets render. Every string comes from locales/ through shopify.i18n.
import type { Api } from '@shopify/ui-extensions/customer-account.page.render';
import { useEffect, useState } from 'preact/hooks';
import type { MemberSummary } from './member';
import { loadSummary } from './sources';

declare const shopify: Api;

export function t(key: string, replacements?: Record<string, string | number>): string {
  return shopify.i18n.translate(key, replacements);
}

/** "{{points}} points", pluralised on the number (`count`), shown in the customer's locale. */
export function pointsText(key: string, points: number, signed = false): string {
  const formatted = shopify.i18n.formatNumber(points, signed ? { signDisplay: 'exceptZero' } : {});
  return t(key, { count: Math.abs(points), points: formatted });
}

export type Load<T> = { status: 'loading' } | { status: 'ready'; value: T } | { status: 'error' };

/** The member's summary, loaded once on mount; `retry` loads it again after an error. */
export function useSummary(): [Load<MemberSummary>, () => void] {
  const [state, setState] = useState<Load<MemberSummary>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setState({ status: 'loading' });
    loadSummary(shopify).then(
      (value) => current && setState({ status: 'ready', value }),
      () => current && setState({ status: 'error' }),
    );
    return () => {
      current = false;
    };
  }, [attempt]);
  return [state, () => setAttempt((n) => n + 1)];
}

export function Loading({ label }: { label: string }) {
  return (
    <s-stack direction="inline" gap="small-200" alignItems="center">
      <s-spinner accessibilityLabel={label} size="small" />
      <s-text color="subdued">{label}</s-text>
    </s-stack>
  );
}

export function LoadFailed({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <s-banner tone="warning" heading={message}>
      <s-stack direction="block" gap="small-200">
        <s-text>{t('error.later')}</s-text>
        <s-button variant="secondary" onClick={onRetry}>
          {t('error.retry')}
        </s-button>
      </s-stack>
    </s-banner>
  );
}

/** Balance, lifetime points, tier and referral code; a non-member is told how to join instead. */
export function SummaryView({ summary }: { summary: MemberSummary }) {
  if (!summary.enrolled) {
    return <s-paragraph>{t('summary.notEnrolled')}</s-paragraph>;
  }
  return (
    <s-stack direction="block" gap="small-200">
      <s-stack direction="block" gap="small-500">
        <s-text color="subdued">{t('summary.balanceLabel')}</s-text>
        <s-heading id="laurel-balance">{pointsText('summary.points', summary.balance)}</s-heading>
      </s-stack>
      <s-text id="laurel-lifetime">{pointsText('summary.lifetime', summary.lifetimeEarned)}</s-text>
      {summary.tier !== null && (
        <s-stack direction="inline" gap="small-200" alignItems="center">
          <s-text>{t('summary.tierLabel')}</s-text>
          <s-badge id="laurel-tier">{summary.tier}</s-badge>
        </s-stack>
      )}
      {summary.referralCode !== null && (
        <s-text id="laurel-referral">
          {t('summary.referralCode', { code: summary.referralCode })}
        </s-text>
      )}
    </s-stack>
  );
}
