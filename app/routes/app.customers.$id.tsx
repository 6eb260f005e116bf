// /app/customers/<id>: one member — balance, lifetime points, tier, referral code — and their full
// ledger, newest first, 50 to a page (?before=<entry id>), every entry explained in words; and the
// manual adjustment form (points and a required reason, recorded with the staff member and time).
// Another shop's customer id is a 404 with the reason. docs/customers.md.
import { useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import { Form, useActionData, useLoaderData, useLocation, useNavigation } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  SkeletonBodyText,
  Text,
  TextField,
} from '@shopify/polaris';
import { adjustFromForm, loadCustomerDetail } from '../admin-customers.server';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';
import { adminShop, parseId } from '../admin-request.server';
import { MAX_REASON_LENGTH } from '../../loyalty/adjustment';

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  const customerId = parseId(params.id, 'customer id');
  const before = new URL(request.url).searchParams.get('before');
  return loadCustomerDetail(db, shop, locale, customerId, before);
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { db, shop, staff, locale } = await adminShop(request);
  const customerId = parseId(params.id, 'customer id');
  const form = Object.fromEntries(await request.formData());
  const outcome = await adjustFromForm(db, shop, staff, customerId, form, undefined, locale);
  if (outcome.ok) return { message: outcome.message, errors: null, values: null };
  return data(
    { message: null, errors: outcome.errors, values: outcome.values },
    { status: outcome.status },
  );
};

function Figure({ label, value, note }: { label: string; value: string; note?: string | null }) {
  return (
    <BlockStack gap="100">
      <Text as="h3" variant="headingSm" tone="subdued">
        {label}
      </Text>
      <Text as="p" variant="headingLg">
        {value}
      </Text>
      {note && (
        <Text as="p" variant="bodySm" tone="subdued">
          {note}
        </Text>
      )}
    </BlockStack>
  );
}

export default function CustomerPage() {
  const { customer, ledger, nextBefore, firstPage, formKey } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const location = useLocation();
  const errors = result?.errors ?? {};
  const submitting = navigation.state === 'submitting';
  // Another page of this ledger loading: the table shows a skeleton until it arrives.
  const loading =
    navigation.state === 'loading' &&
    navigation.formMethod === undefined &&
    navigation.location.pathname === location.pathname;
  const problems = Object.values(errors).filter((e): e is string => Boolean(e));
  const title = customer.name;

  return (
    <Page
      title={title}
      subtitle={customer.email ?? undefined}
      backAction={{ content: 'Customers', url: '/app/customers' }}
      titleMetadata={customer.redacted ? <Badge>Redacted</Badge> : undefined}
      fullWidth
    >
      <TitleBar title={title} />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {result?.message && <Banner tone="success" title={result.message} />}
            <Card>
              <InlineGrid columns={{ xs: 2, md: 4 }} gap="400">
                <Figure
                  label="Balance"
                  value={customer.balance}
                  note={customer.balanceValue && `Worth ${customer.balanceValue}`}
                />
                <Figure label="Lifetime earned" value={customer.lifetimeEarned} />
                <Figure
                  label="Tier"
                  value={customer.tier ?? 'None'}
                  note={customer.tierSince && `Since ${customer.tierSince}`}
                />
                <Figure
                  label="Referral code"
                  value={customer.referralCode?.code ?? 'None'}
                  note={
                    customer.referralCode && customer.referralCode.status !== 'active'
                      ? `Not at Shopify yet (${customer.referralCode.status})`
                      : null
                  }
                />
              </InlineGrid>
              <Box paddingBlockStart="300">
                <Text as="p" tone="subdued">
                  {`Shopify customer ID ${customer.shopifyId} · Member since ${customer.memberSince} · ${customer.entries} ledger entries`}
                </Text>
              </Box>
            </Card>
            <Card padding="0">
              <Box padding="400" paddingBlockEnd="200">
                <Text as="h2" variant="headingMd">
                  Ledger
                </Text>
              </Box>
              {loading ? (
                <Box padding="400">
                  <SkeletonBodyText lines={6} />
                </Box>
              ) : ledger.length === 0 ? (
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    {firstPage
                      ? 'No points yet: this member has no ledger entries.'
                      : 'No older entries.'}
                  </Text>
                </Box>
              ) : (
                <IndexTable
                  resourceName={{ singular: 'entry', plural: 'entries' }}
                  itemCount={ledger.length}
                  selectable={false}
                  headings={[
                    { title: 'Date' },
                    { title: 'Source' },
                    { title: 'What happened' },
                    { title: 'Points', alignment: 'end' },
                  ]}
                >
                  {ledger.map((entry, index) => (
                    <IndexTable.Row id={String(entry.id)} key={entry.id} position={index}>
                      <IndexTable.Cell>{entry.date}</IndexTable.Cell>
                      <IndexTable.Cell>{entry.source}</IndexTable.Cell>
                      <IndexTable.Cell>
                        {/* Index table cells do not wrap; an explanation may be long. */}
                        <div style={{ whiteSpace: 'normal', minWidth: '16rem' }}>
                          <Text as="span" breakWord>
                            {entry.explanation}
                          </Text>
                        </div>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text
                          as="span"
                          alignment="end"
                          numeric
                          tone={entry.credit ? 'success' : undefined}
                        >
                          {entry.points}
                        </Text>
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
              <Box padding="400">
                <InlineStack align="end" gap="200">
                  {!firstPage && <Button url={`/app/customers/${customer.id}`}>Newest</Button>}
                  <Button
                    url={
                      nextBefore === null
                        ? undefined
                        : `/app/customers/${customer.id}?before=${nextBefore}`
                    }
                    disabled={nextBefore === null}
                  >
                    Older
                  </Button>
                </InlineStack>
              </Box>
            </Card>
          </BlockStack>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          {/* Keyed by the form key: after a post the page reloads with a new key and empty fields. */}
          <AdjustmentForm
            key={formKey}
            formKey={formKey}
            errors={errors}
            problems={problems}
            values={result?.values ?? null}
            submitting={submitting}
          />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function AdjustmentForm(props: {
  formKey: string;
  errors: Partial<Record<'points' | 'reason' | 'key', string>>;
  problems: string[];
  values: { points: string; reason: string } | null;
  submitting: boolean;
}) {
  const [points, setPoints] = useState(props.values?.points ?? '');
  const [reason, setReason] = useState(props.values?.reason ?? '');
  return (
    <Card>
      <Form method="post">
        <input type="hidden" name="key" value={props.formKey} />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Adjust points
          </Text>
          <ProblemsBanner title="Nothing was posted" problems={props.problems} />
          <FormLayout>
            <TextField
              name="points"
              label="Points"
              value={points}
              onChange={setPoints}
              error={props.errors.points}
              autoComplete="off"
              inputMode="numeric"
              helpText="Positive adds, negative removes (e.g. 50 or -50); the balance cannot go below 0."
            />
            <TextField
              name="reason"
              label="Reason"
              value={reason}
              onChange={setReason}
              error={props.errors.reason ?? props.errors.key}
              autoComplete="off"
              multiline={2}
              maxLength={MAX_REASON_LENGTH}
              showCharacterCount
              helpText="Required. The customer sees it in their points history; your staff account and the time are recorded with it."
            />
          </FormLayout>
          <InlineStack align="end">
            <Button submit variant="primary" loading={props.submitting}>
              Post adjustment
            </Button>
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Customer',
  back: { content: 'Customers', url: '/app/customers' },
});
