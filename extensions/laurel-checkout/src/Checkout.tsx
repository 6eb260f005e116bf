/** @jsxImportSource preact */
// purchase.checkout.reductions.render-after: under the discount-code field, "This order earns N
// points" (computed here from the program summary app metafield, no request) and, for a signed-in
// customer, their issued reward codes with an Apply button (the one request, to the app backend).
// What the buyer sees in each state: docs/checkout.md.
import '@shopify/ui-extensions/preact';
import type { Api } from '@shopify/ui-extensions/purchase.checkout.reductions.render-after';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { amountToMinor, earnFromSummary, parseProgramSummary, type ProgramSummary } from './earn';
import { loadRewardCodes, LoadError, type RewardCode, type RewardValue } from './rewards';

declare const shopify: Api;

export default async () => {
  render(<LaurelCheckout />, document.body);
};

function t(key: string, replacements?: Record<string, string | number>): string {
  return shopify.i18n.translate(key, replacements);
}

/** "{{points}} points", pluralised on the number, in the buyer's locale. */
function pointsText(key: string, points: number): string {
  return t(key, { count: points, points: shopify.i18n.formatNumber(points) });
}

// Every read below is of a host signal's `.value`, so Preact re-renders when checkout changes it
// (the cart, the discount codes, the metafields, the customer signing in).

function appMetafield(type: 'shop' | 'customer', key: string): string | undefined {
  const entry = shopify.appMetafields.value.find(
    ({ target, metafield }) =>
      target.type === type && metafield.namespace === '$app' && metafield.key === key,
  );
  return entry?.metafield.value;
}

function programSummary(): ProgramSummary | null {
  const value = appMetafield('shop', 'program');
  return value === undefined ? null : parseProgramSummary(value);
}

/**
 * What this order earns under the summary, or null when that cannot be said exactly: no summary,
 * checkout in another currency than the program's (a presentment currency: the server earns on
 * the shop currency, which checkout does not show), an amount that is not whole minor units.
 *
 * `subtotal_after_discounts`: checkout's subtotal is before order-level discounts, so the cart's
 * discount allocations are taken off. If one of them is a shipping discount the figure comes out
 * lower than the award, never higher. `total`: checkout's total so far, which grows when shipping
 * and taxes are known — again never above the award.
 */
function orderPoints(summary: ProgramSummary): number | null {
  const { cost, discountAllocations } = shopify;
  const money = summary.earnOn === 'total' ? cost.totalAmount.value : cost.subtotalAmount.value;
  if (money.currencyCode !== summary.currency) return null;
  let minor = amountToMinor(money.amount, summary.digits);
  if (minor === null) return null;
  if (summary.earnOn === 'subtotal_after_discounts') {
    for (const { discountedAmount } of discountAllocations.value) {
      if (discountedAmount.currencyCode !== summary.currency) return null;
      const off = amountToMinor(discountedAmount.amount, summary.digits);
      if (off === null) return null;
      minor = Math.max(0, minor - off);
    }
  }
  return earnFromSummary(summary, minor);
}

function LaurelCheckout() {
  // Undefined for a guest, and when the app has no access to protected customer data.
  const customer = shopify.buyerIdentity?.customer.value;
  const summary = programSummary();
  const points = summary ? orderPoints(summary) : null;
  const earnLine =
    points !== null && points > 0 ? (
      <s-text id="laurel-earn">
        {pointsText(customer ? 'earn.signedIn' : 'earn.signIn', points)}
      </s-text>
    ) : null;
  if (!customer) return earnLine;
  return (
    <s-stack direction="block" gap="base">
      {earnLine}
      <Rewards key={customer.id} />
    </s-stack>
  );
}

type Codes =
  | { status: 'loading' }
  | { status: 'ready'; codes: RewardCode[] }
  | { status: 'error'; failure: string };

/** What one Apply did: pending, done, or Shopify's refusal in its own words. */
type Outcome = { code: string } & (
  { status: 'applying' } | { status: 'applied' } | { status: 'refused'; message: string }
);

function Rewards() {
  const [codes, setCodes] = useState<Codes>({ status: 'loading' });
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    let current = true;
    loadRewardCodes(shopify).then(
      (loaded) => current && setCodes({ status: 'ready', codes: loaded }),
      (error: unknown) =>
        current &&
        setCodes({
          status: 'error',
          failure: error instanceof LoadError ? (error.code ?? error.failure) : 'network',
        }),
    );
    return () => {
      current = false;
    };
  }, []);

  const balance = memberBalance();
  const balanceLine =
    balance === null ? null : (
      <s-text id="laurel-balance" color="subdued">
        {pointsText('rewards.balance', balance)}
      </s-text>
    );

  // Nothing while loading: the list appears once, without a spinner moving the summary about.
  if (codes.status === 'loading') return balanceLine;
  if (codes.status === 'error') {
    // Signed in at checkout but not in the token (the app cannot read customers): nothing to say.
    if (codes.failure === 'NOT_LOGGED_IN') return balanceLine;
    return (
      <s-stack direction="block" gap="small-200">
        {balanceLine}
        <s-text id="laurel-rewards-error" color="subdued">
          {t('rewards.unavailable')}
        </s-text>
      </s-stack>
    );
  }
  if (codes.codes.length === 0) return balanceLine;

  const applied = new Set(shopify.discountCodes.value.map(({ code }) => code.toUpperCase()));
  const canApply = shopify.instructions.value.discounts.canUpdateDiscountCodes;

  const apply = async (code: string) => {
    setOutcome({ code, status: 'applying' });
    try {
      const result = await shopify.applyDiscountCodeChange({ type: 'addDiscountCode', code });
      setOutcome(
        result.type === 'success'
          ? { code, status: 'applied' }
          : { code, status: 'refused', message: result.message || t('rewards.refused') },
      );
    } catch {
      setOutcome({ code, status: 'refused', message: t('rewards.refused') });
    }
  };

  return (
    <s-stack direction="block" gap="small-200" id="laurel-rewards">
      <s-heading>{t('rewards.heading')}</s-heading>
      {balanceLine}
      {!canApply && <s-text color="subdued">{t('rewards.cannotApply')}</s-text>}
      {outcome?.status === 'refused' && (
        <s-banner tone="critical" id="laurel-apply-error">
          <s-text>
            {t('rewards.refusedWith', { code: outcome.code, message: outcome.message })}
          </s-text>
        </s-banner>
      )}
      <s-stack direction="block" gap="small-200" accessibilityRole="unordered-list">
        {codes.codes.map((reward) => {
          const isApplied =
            applied.has(reward.code.toUpperCase()) ||
            (outcome?.status === 'applied' && outcome.code === reward.code);
          return (
            <CodeRow
              key={reward.id}
              reward={reward}
              applied={isApplied}
              canApply={canApply}
              applying={outcome?.status === 'applying' && outcome.code === reward.code}
              busy={outcome?.status === 'applying'}
              onApply={() => void apply(reward.code)}
            />
          );
        })}
      </s-stack>
    </s-stack>
  );
}

interface CodeRowProps {
  reward: RewardCode;
  applied: boolean;
  canApply: boolean;
  applying: boolean;
  /** Another code is being applied: one change at a time. */
  busy: boolean;
  onApply: () => void;
}

function CodeRow({ reward, applied, canApply, applying, busy, onApply }: CodeRowProps) {
  const value = valueText(reward.value);
  const details = [reward.code, value];
  if (reward.expiresAt !== null) {
    const date = shopify.i18n.formatDate(new Date(reward.expiresAt), { dateStyle: 'medium' });
    details.push(t('rewards.expires', { date }));
  }
  return (
    <s-stack
      direction="inline"
      gap="base"
      justifyContent="space-between"
      alignItems="center"
      accessibilityRole="list-item"
      id={`laurel-code-${reward.id}`}
    >
      <s-stack direction="block" gap="small-500">
        <s-text type="strong">{reward.title}</s-text>
        <s-text color="subdued">{details.filter(Boolean).join(' · ')}</s-text>
      </s-stack>
      {applied ? (
        <s-badge>{t('rewards.applied')}</s-badge>
      ) : (
        canApply && (
          <s-button
            variant="secondary"
            loading={applying}
            disabled={busy && !applying}
            accessibilityLabel={t('rewards.applyLabel', { title: reward.title })}
            onClick={onApply}
          >
            {t('rewards.apply')}
          </s-button>
        )
      )}
    </s-stack>
  );
}

function valueText(value: RewardValue): string | null {
  switch (value.kind) {
    case 'amount_off_order': {
      // The currency's minor digits (JPY 0, KWD 3): the amount is in its minor units.
      const digits =
        new Intl.NumberFormat('en', {
          style: 'currency',
          currency: value.currency,
        }).resolvedOptions().maximumFractionDigits ?? 2;
      const amount = shopify.i18n.formatCurrency(value.amountMinor / 10 ** digits, {
        currency: value.currency,
      });
      return t('value.amountOff', { amount });
    }
    case 'percentage_off_order':
      return t('value.percentageOff', { percentage: value.percentage });
    case 'free_shipping':
      return t('value.freeShipping');
    case 'free_product':
      return t('value.freeProduct');
    default:
      return null;
  }
}

/** The customer's `$app` points_balance metafield, or null when it is not written (yet). */
function memberBalance(): number | null {
  const value = appMetafield('customer', 'points_balance');
  return value !== undefined && /^-?\d{1,15}$/.test(value) ? Number(value) : null;
}
