// /app/rewards/new and /app/rewards/$id: the reward form, one for every reward type. Saving a new
// reward creates version 1; saving an existing one creates the next version (codes already issued
// keep the version they were issued under). The catalog (app/models/rewards.server.ts) validates;
// its issues are shown beside their fields (app/admin-rewards.server.ts maps them).
import { useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data, redirect } from '@remix-run/server-runtime';
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  FormLayout,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminShop, parseId, refusal } from '../admin-request.server';
import {
  DEFAULT_COMBINATIONS,
  FIELD_LABELS,
  FIELDS_BY_TYPE,
  newRewardForm,
  REWARD_TYPE_LABELS,
  rewardFormValues,
  saveRewardForm,
  type FieldErrors,
  type RewardField,
  type RewardFormValues,
} from '../admin-rewards.server';
import { AppError, ErrorCode } from '../errors';
import { getReward } from '../models/rewards.server';
import { currencyDigits } from '../../loyalty/money';
import { REWARD_TYPES, type RewardType } from '../../loyalty/rewards';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';

// Under the heading "The code combines with".
const CHECKBOX_LABELS = {
  combinesOrder: 'Order discounts',
  combinesProduct: 'Product discounts',
  combinesShipping: 'Shipping discounts',
};

/** `new`, or the reward's id; anything else is a 400. */
function rewardIdOf(param: string | undefined): number | null {
  return param === 'new' ? null : parseId(param, 'reward id');
}

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const rewardId = rewardIdOf(params.id);
  const common = {
    currency: shop.currency,
    fieldsByType: FIELDS_BY_TYPE,
    combineDefaults: DEFAULT_COMBINATIONS,
    labels: { ...FIELD_LABELS, ...CHECKBOX_LABELS },
    typeOptions: REWARD_TYPES.map((type) => ({ label: REWARD_TYPE_LABELS[type], value: type })),
  };
  if (rewardId === null) {
    return { ...common, reward: null, values: newRewardForm() };
  }
  const reward = await getReward(db, shop.id, rewardId);
  if (!reward) {
    throw refusal(new AppError(ErrorCode.NOT_FOUND, `This shop has no reward ${rewardId}.`));
  }
  return {
    ...common,
    reward: { id: reward.id, version: reward.version, archived: reward.archivedAt !== null },
    values: rewardFormValues(reward.definition, shop.currency),
  };
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const rewardId = rewardIdOf(params.id);
  const form = Object.fromEntries(await request.formData());
  const outcome = await saveRewardForm(db, shop, rewardId, form);
  if (outcome.saved) return redirect(`/app/rewards?saved=${outcome.reward.id}`);
  return data({ values: outcome.values, errors: outcome.errors }, { status: 400 });
};

export default function RewardPage() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const [values, setValues] = useState<RewardFormValues>(loaded.values);
  const errors: FieldErrors = result?.errors ?? {};
  const shown = new Set<RewardField>(loaded.fieldsByType[values.type]);
  const { reward, currency, labels } = loaded;

  const set =
    <K extends RewardField>(field: K) =>
    (value: RewardFormValues[K]) =>
      setValues((v) => ({ ...v, [field]: value }));
  const text = (field: RewardField, props: Partial<Parameters<typeof TextField>[0]> = {}) =>
    shown.has(field) ? (
      <TextField
        name={field}
        label={labels[field]}
        value={values[field] as string}
        onChange={set(field) as (v: string) => void}
        error={errors[field]}
        autoComplete="off"
        {...props}
      />
    ) : null;
  const check = (field: RewardField, helpText?: string) =>
    shown.has(field) ? (
      <Checkbox
        name={field}
        label={labels[field]}
        checked={values[field] as boolean}
        onChange={set(field) as (v: boolean) => void}
        error={errors[field]}
        helpText={helpText}
      />
    ) : null;

  const onType = (type: string) =>
    setValues((v) => {
      const next = { ...v, type: type as RewardType };
      // A new reward starts from the type's usual combinations; an edit keeps what was chosen.
      if (!reward) {
        const combines = loaded.combineDefaults[type as RewardType];
        next.combinesOrder = combines.orderDiscounts;
        next.combinesProduct = combines.productDiscounts;
        next.combinesShipping = combines.shippingDiscounts;
      }
      return next;
    });

  const problems = Object.values(errors).filter(Boolean);
  const money = `in ${currency}, e.g. ${currencyDigits(currency) === 0 ? '500' : '5.00'}`;
  const title = reward ? `Edit reward` : 'Add reward';
  return (
    <Page
      title={title}
      backAction={{ content: 'Rewards', url: '/app/rewards' }}
      titleMetadata={
        reward ? (
          <InlineStack gap="200">
            <Badge>{`Version ${reward.version}`}</Badge>
            {reward.archived && <Badge tone="attention">Archived</Badge>}
          </InlineStack>
        ) : undefined
      }
    >
      <TitleBar title={title} />
      <Form method="post">
        <Layout>
          <Layout.Section>
            <BlockStack gap="400">
              <ProblemsBanner title="The reward was not saved" problems={problems} />
              {reward && (
                <Banner tone="info">
                  {`Saving creates version ${reward.version + 1}; codes already issued keep their terms.`}
                </Banner>
              )}
              <Card>
                <FormLayout>
                  <Select
                    name="type"
                    label={labels.type}
                    options={loaded.typeOptions}
                    value={values.type}
                    onChange={onType}
                    error={errors.type}
                  />
                  {text('title', {
                    helpText:
                      'What shoppers see, e.g. “$5 off your next order” (up to 80 characters)',
                  })}
                  {text('pointsCost', { inputMode: 'numeric', suffix: 'points' })}
                  {text('amount', { inputMode: 'decimal', prefix: currency, helpText: money })}
                  {text('percentage', { inputMode: 'numeric', suffix: '%' })}
                  {text('variantId', {
                    // Inside Shopify this would be App Bridge's resource picker; it needs Shopify's
                    // admin, which a local or offline run does not have, so the id is typed.
                    helpText:
                      'gid://shopify/ProductVariant/123 or just 123 (the variant id from the product page)',
                  })}
                </FormLayout>
              </Card>
              {shown.has('sliderPointsPerUnit') && (
                <Card>
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingSm">
                      Points slider
                    </Text>
                    <FormLayout>
                      <FormLayout.Group>
                        {text('sliderPointsPerUnit', {
                          inputMode: 'numeric',
                          helpText: `Points for 1 ${currency}`,
                        })}
                        {text('sliderStepPoints', { inputMode: 'numeric', suffix: 'points' })}
                      </FormLayout.Group>
                      <FormLayout.Group>
                        {text('sliderMinPoints', { inputMode: 'numeric', suffix: 'points' })}
                        {text('sliderMaxPoints', { inputMode: 'numeric', suffix: 'points' })}
                      </FormLayout.Group>
                    </FormLayout>
                    <SliderPreview values={values} currency={currency} />
                  </BlockStack>
                </Card>
              )}
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingSm">
                    Conditions
                  </Text>
                  <FormLayout>
                    {text('minimumOrder', {
                      inputMode: 'decimal',
                      prefix: currency,
                      helpText: `Optional: the order subtotal the code needs, ${money}`,
                    })}
                    {text('limitPerCustomer', {
                      inputMode: 'numeric',
                      helpText: 'Optional: redemptions per customer, ever',
                    })}
                    <FormLayout.Group>
                      {text('periodCount', {
                        inputMode: 'numeric',
                        helpText: 'Optional: at most this many…',
                      })}
                      {text('periodDays', {
                        inputMode: 'numeric',
                        helpText: '…in any window of this many days',
                      })}
                    </FormLayout.Group>
                    {text('tiers', {
                      helpText:
                        'Optional, comma separated tier keys or names (see Tiers): only members of these tiers may redeem.',
                    })}
                    {text('expiryDays', {
                      inputMode: 'numeric',
                      suffix: 'days',
                      helpText:
                        values.type === 'store_credit'
                          ? 'Optional: empty means the store credit never expires'
                          : 'The code stops working this many days after it is issued (1–365)',
                    })}
                    {check(
                      'refundPointsOnExpiry',
                      'When a code expires unused, the member gets the points back',
                    )}
                  </FormLayout>
                </BlockStack>
              </Card>
              {shown.has('combinesOrder') && (
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingSm">
                      The code combines with
                    </Text>
                    {check('combinesOrder')}
                    {check('combinesProduct')}
                    {check('combinesShipping')}
                  </BlockStack>
                </Card>
              )}
              <InlineStack align="end" gap="200">
                <Button url="/app/rewards">Cancel</Button>
                <Button submit variant="primary" loading={navigation.state === 'submitting'}>
                  {reward ? `Save as version ${reward.version + 1}` : 'Create reward'}
                </Button>
              </InlineStack>
            </BlockStack>
          </Layout.Section>
        </Layout>
      </Form>
    </Page>
  );
}

/** `$5.00`, `¥500`: for the live preview (the server's displayMoney, in the browser). */
function showMoney(minor: number, currency: string): string {
  const digits = currencyDigits(currency);
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}

/** "500 points = $5.00" for the slider's ends and step, as the merchant types. */
function SliderPreview({ values, currency }: { values: RewardFormValues; currency: string }) {
  const whole = (s: string) => (/^[0-9]+$/.test(s) && Number(s) > 0 ? Number(s) : null);
  const perUnit = whole(values.sliderPointsPerUnit);
  if (perUnit === null) {
    return (
      <Text as="p" tone="subdued">
        Enter the points per {currency} to see what the slider is worth.
      </Text>
    );
  }
  const scale = 10 ** currencyDigits(currency);
  const worth = (points: number) => {
    const minor = (points * scale) / perUnit;
    return Number.isInteger(minor)
      ? `${points.toLocaleString('en-US')} points = ${showMoney(minor, currency)}`
      : `${points.toLocaleString('en-US')} points is not a whole amount of ${currency}`;
  };
  const min = whole(values.sliderMinPoints);
  const max = whole(values.sliderMaxPoints);
  const step = whole(values.sliderStepPoints);
  const lines = [
    min !== null && `Minimum: ${worth(min)}`,
    max !== null && `Maximum: ${worth(max)}`,
    step !== null && `Each step: ${worth(step)}`,
  ].filter((x): x is string => typeof x === 'string');
  if (lines.length === 0) lines.push(worth(perUnit));
  return (
    <BlockStack gap="100">
      {lines.map((line) => (
        <Text as="p" key={line}>
          {line}
        </Text>
      ))}
    </BlockStack>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Reward',
  back: { content: 'Rewards', url: '/app/rewards' },
});
