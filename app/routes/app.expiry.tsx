// /app/expiry: when points expire (never, per lot, or after inactivity), the reminders before
// they do and their channels, effective now or at a later local time; the version history; and
// the points due to expire in each of the next 12 months. Problems are shown beside their fields
// and nothing is saved (app/admin-expiry.server.ts). docs/expiry.md.
import { useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import { useActionData, useLoaderData, useNavigation, useSubmit } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  DataTable,
  FormLayout,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminShop } from '../admin-request.server';
import {
  expiryPage,
  readExpiryForm,
  saveExpiryForm,
  type ExpiryFormValues,
} from '../admin-expiry.server';
import { adminErrorBoundary } from '../admin-error-boundary';
import type { EmailChannelStatus } from '../notify/email.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  return expiryPage(db, shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const outcome = await saveExpiryForm(
    db,
    shop,
    readExpiryForm(await request.formData()),
    new Date(),
  );
  return data(outcome, { status: outcome.ok ? 200 : 400 });
};

const MODES = [
  { label: 'Never', value: 'never' },
  { label: 'Each lot, N months after it is earned', value: 'lot' },
  { label: 'The whole balance, after N months without activity', value: 'inactivity' },
];

export default function Expiry() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const saved = result?.ok ? result : null;
  return (
    <Page
      title="Expiry"
      backAction={{ content: 'Loyalty', url: '/app' }}
      titleMetadata={
        loaded.current ? (
          <Badge tone="success">{`Version ${loaded.current.version} in force`}</Badge>
        ) : undefined
      }
    >
      <TitleBar title="Expiry" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {saved && (
              <Banner tone="success" title={`Version ${saved.version} saved.`}>
                <p>
                  {`Effective ${new Date(saved.effectiveFrom).toLocaleString('en-US', { timeZone: loaded.timezone, dateStyle: 'medium', timeStyle: 'short' })} (shop time).`}
                </p>
              </Banner>
            )}
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  In force
                </Text>
                <Text as="p">{loaded.current ? loaded.current.policy : 'Points never expire'}</Text>
                {loaded.current && <Text as="p">{`Reminders: ${loaded.current.reminders}`}</Text>}
              </BlockStack>
            </Card>
            <SettingsForm
              key={loaded.versions[0]?.version ?? 0}
              initial={result && !result.ok ? result.values : loaded.values}
              errors={result && !result.ok ? result.errors : {}}
              timezone={loaded.timezone}
              emailChannel={loaded.emailChannel}
            />
            <Card>
              <BlockStack gap="300">
                <Text as="h2" variant="headingMd">
                  Points due to expire
                </Text>
                <Text as="p" tone="subdued">
                  By the month of their last usable day, if members spend nothing before.
                </Text>
                <DataTable
                  columnContentTypes={['text', 'numeric', 'numeric']}
                  headings={['Month', 'Points', 'Members']}
                  rows={loaded.forecast.map((m) => [
                    m.label,
                    m.points.toLocaleString('en-US'),
                    m.members.toLocaleString('en-US'),
                  ])}
                />
              </BlockStack>
            </Card>
            {loaded.versions.length > 0 && (
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Versions
                  </Text>
                  <DataTable
                    columnContentTypes={['text', 'text', 'text', 'text']}
                    headings={['Version', 'Effective from', 'Expiry', 'Reminders']}
                    rows={loaded.versions.map((v) => [
                      v.inForce
                        ? `${v.version} (in force)`
                        : v.scheduled
                          ? `${v.version} (scheduled)`
                          : String(v.version),
                      v.effectiveFrom,
                      v.policy,
                      v.reminders,
                    ])}
                  />
                </BlockStack>
              </Card>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function SettingsForm({
  initial,
  errors,
  timezone,
  emailChannel,
}: {
  initial: ExpiryFormValues;
  errors: Record<string, string>;
  emailChannel: EmailChannelStatus;
  timezone: string;
}) {
  const [values, setValues] = useState(initial);
  const submit = useSubmit();
  const navigation = useNavigation();
  const set = <K extends keyof ExpiryFormValues>(key: K, value: ExpiryFormValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));
  const save = () => {
    const form = new FormData();
    form.set('mode', values.mode);
    form.set('months', values.months);
    form.set('reminderDays', values.reminderDays);
    if (values.email) form.set('email', 'on');
    if (values.shopify) form.set('shopify', 'on');
    form.set('effective', values.effective);
    form.set('effectiveAt', values.effectiveAt);
    submit(form, { method: 'post' });
  };
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Settings
        </Text>
        <FormLayout>
          <Select
            label="Points expire"
            options={MODES}
            value={values.mode}
            onChange={(v) => set('mode', v)}
            error={errors.mode}
          />
          {values.mode !== 'never' && (
            <TextField
              label="Months"
              type="number"
              autoComplete="off"
              value={values.months}
              onChange={(v) => set('months', v)}
              helpText="1 to 120. Points stay usable through the same day N months later, until midnight shop time."
              error={errors.months}
            />
          )}
          <TextField
            label="Reminder days before expiry"
            autoComplete="off"
            value={values.reminderDays}
            onChange={(v) => set('reminderDays', v)}
            helpText="Up to 5, comma separated, e.g. 30, 7. Leave empty for no reminders."
            error={errors.reminderDays}
          />
          <BlockStack gap="100">
            <Checkbox
              label="Email the member"
              checked={values.email}
              onChange={(v) => set('email', v)}
              helpText={
                emailChannel.available
                  ? `Sent from ${emailChannel.from}.`
                  : `${emailChannel.reason} Reminders for this channel wait until it is set.`
              }
            />
            <Checkbox
              label="Set a customer metafield and tag in Shopify (for Flow and email tools)"
              checked={values.shopify}
              onChange={(v) => set('shopify', v)}
              error={errors.channels}
            />
          </BlockStack>
          <Select
            label="Takes effect"
            options={[
              { label: 'Now', value: 'now' },
              { label: 'At a later time', value: 'later' },
            ]}
            value={values.effective}
            onChange={(v) => set('effective', v)}
          />
          {values.effective === 'later' && (
            <TextField
              label={`Effective at (${timezone})`}
              type="datetime-local"
              autoComplete="off"
              value={values.effectiveAt}
              onChange={(v) => set('effectiveAt', v)}
              error={errors.effectiveAt}
            />
          )}
        </FormLayout>
        <InlineStack>
          <Button variant="primary" onClick={save} loading={navigation.state === 'submitting'}>
            Save
          </Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Expiry',
  back: { content: 'Loyalty', url: '/app' },
});
