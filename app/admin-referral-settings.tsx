// The referrals page's settings form (app/routes/app.referrals.tsx): the program's fields, each
// fraud rule's action, and Save, which sends the form as the draft the server reads
// (app/admin-referral-settings.server.ts); every problem shows beside its field and in a banner.
import { useEffect, useState } from 'react';
import { useNavigation, useSubmit } from '@remix-run/react';
import {
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  FormLayout,
  InlineGrid,
  InlineStack,
  Select,
  Text,
  TextField,
} from '@shopify/polaris';
import type { ReferralRule, RuleAction } from '../loyalty/referrals';
import type { ReferralFieldErrors, ReferralFormValues } from './admin-referral-settings.server';
import { ProblemsBanner } from './admin-problems';

const ACTION_OPTIONS: { label: string; value: RuleAction }[] = [
  { label: 'Hold for review', value: 'hold' },
  { label: 'Reject', value: 'reject' },
];

/**
 * The settings form. `saved` is the save action's answer: its field errors, or none once saved.
 * Mounted again (a new `key`) when a new version is saved, so it starts from that version.
 */
export function ReferralSettings({
  loaded,
  saved,
}: {
  loaded: {
    values: ReferralFormValues;
    currency: string;
    versions: number;
    rules: { rule: ReferralRule; label: string }[];
  };
  saved: { ok: true } | { ok: false; errors: ReferralFieldErrors } | undefined;
}) {
  const navigation = useNavigation();
  const submit = useSubmit();
  const [values, setValues] = useState<ReferralFormValues>(loaded.values);
  const [errors, setErrors] = useState<ReferralFieldErrors>({});
  useEffect(() => {
    if (saved) setErrors(saved.ok ? {} : saved.errors);
  }, [saved]);
  const set =
    <K extends keyof ReferralFormValues>(field: K) =>
    (value: ReferralFormValues[K]) =>
      setValues((v) => ({ ...v, [field]: value }));
  const setRule = (rule: ReferralRule) => (action: string) =>
    setValues((v) => ({ ...v, rules: { ...v.rules, [rule]: action as RuleAction } }));
  const saving = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'save';
  const money = { prefix: loaded.currency, inputMode: 'decimal' as const, autoComplete: 'off' };
  const whole = { inputMode: 'numeric' as const, autoComplete: 'off' };
  return (
    <BlockStack gap="400">
      <ProblemsBanner
        title="Nothing was saved: fix these and save again"
        problems={Object.values(errors)}
      />
      <Card>
        <BlockStack gap="400">
          <Text as="h2" variant="headingMd">
            Settings
          </Text>
          <Checkbox
            label="Referrals on"
            helpText="Off: share links lead to the shop's home page with no discount, and no order is attributed."
            checked={values.enabled}
            onChange={set('enabled')}
            error={errors.enabled}
          />
          <FormLayout>
            <Text as="h3" variant="headingSm">
              The friend
            </Text>
            <FormLayout.Group condensed>
              <Select
                label="Friend discount type"
                options={[
                  { label: 'Percentage off', value: 'percentage' },
                  { label: 'Amount off', value: 'amount' },
                ]}
                value={values.discountKind}
                onChange={set('discountKind') as (v: string) => void}
              />
              <TextField
                label="Friend discount"
                value={values.discountValue}
                onChange={set('discountValue')}
                error={errors.discountValue}
                {...(values.discountKind === 'percentage' ? { suffix: '%', ...whole } : money)}
              />
              <TextField
                label="Friend's minimum order"
                value={values.friendMinimum}
                onChange={set('friendMinimum')}
                error={errors.friendMinimum}
                placeholder="None"
                helpText="The friend's cart must reach this for the code to apply"
                {...money}
              />
            </FormLayout.Group>
            <Text as="h3" variant="headingSm">
              The referrer
            </Text>
            <FormLayout.Group condensed>
              <TextField
                label="Referrer reward"
                value={values.referrerPoints}
                onChange={set('referrerPoints')}
                error={errors.referrerPoints}
                suffix="points"
                {...whole}
              />
              <TextField
                label="First order minimum"
                value={values.minimumOrder}
                onChange={set('minimumOrder')}
                error={errors.minimumOrder}
                placeholder="Any order"
                helpText="After discounts, for the referrer to be rewarded"
                {...money}
              />
              <TextField
                label="Reversal window"
                value={values.reversalWindowDays}
                onChange={set('reversalWindowDays')}
                error={errors.reversalWindowDays}
                suffix="days"
                helpText="A refund or cancellation within it takes the reward back"
                {...whole}
              />
            </FormLayout.Group>
            <Text as="h3" variant="headingSm">
              Limits
            </Text>
            <FormLayout.Group condensed>
              <TextField
                label="Referrals per referrer"
                value={values.referrerLimitCount}
                onChange={set('referrerLimitCount')}
                error={errors.referrerLimitCount}
                {...whole}
              />
              <TextField
                label="Referrer limit period"
                value={values.referrerLimitDays}
                onChange={set('referrerLimitDays')}
                error={errors.referrerLimitDays}
                suffix="days"
                {...whole}
              />
              <TextField
                label="Uses per IP address"
                value={values.ipLimitCount}
                onChange={set('ipLimitCount')}
                error={errors.ipLimitCount}
                helpText="Share-link visits or referred orders"
                {...whole}
              />
              <TextField
                label="IP limit period"
                value={values.ipLimitDays}
                onChange={set('ipLimitDays')}
                error={errors.ipLimitDays}
                suffix="days"
                {...whole}
              />
            </FormLayout.Group>
            <Text as="h3" variant="headingSm">
              Fraud rules
            </Text>
            <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
              {loaded.rules.map(({ rule, label: ruleLabel }) => (
                <Select
                  key={rule}
                  label={ruleLabel}
                  options={ACTION_OPTIONS}
                  value={values.rules[rule]}
                  onChange={setRule(rule)}
                  error={errors[`rules.${rule}`]}
                />
              ))}
            </InlineGrid>
            <TextField
              label="Code prefix"
              value={values.codePrefix}
              onChange={set('codePrefix')}
              error={errors.codePrefix}
              autoComplete="off"
              helpText="Friend codes read prefix + 8 characters (FRIEND-K7M2Q9XH). Codes already made keep their prefix."
            />
          </FormLayout>
          {errors.form && <Banner tone="critical" title={errors.form} />}
          <InlineStack align="end">
            <Button
              variant="primary"
              loading={saving}
              onClick={() =>
                submit({ intent: 'save', draft: JSON.stringify(values) }, { method: 'post' })
              }
            >
              {loaded.versions > 0 ? `Save as version ${loaded.versions + 1}` : 'Save'}
            </Button>
          </InlineStack>
        </BlockStack>
      </Card>
    </BlockStack>
  );
}
