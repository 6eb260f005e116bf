// /app/referrals: the referral program's numbers for a range of days (shop time), the referrals
// with their status and reasons — Approve / Reject for held ones — and the settings, saved as a
// new version (every problem beside its field, nothing saved) before the referral code sync
// brings the friend discount at Shopify up to date (app/admin-referrals.server.ts, the form:
// app/admin-referral-settings.tsx and .server.ts).
// docs/admin.md, docs/referrals.md.
import { useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import {
  Form,
  useActionData,
  useLoaderData,
  useNavigation,
  useSubmit,
  type ShouldRevalidateFunction,
} from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  List,
  Page,
  Text,
  TextField,
  type BadgeProps,
} from '@shopify/polaris';
import { authenticateAdmin } from '../admin-auth.server';
import { adminShop, refusal } from '../admin-request.server';
import {
  readReferralDraft,
  saveReferralForm,
  type ReferralFormValues,
} from '../admin-referral-settings.server';
import { referralPage, reviewFromAdmin, rowId, staffName } from '../admin-referrals.server';
import { AppError, ErrorCode } from '../errors';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ReferralSettings } from '../admin-referral-settings';
import { reviewReferral } from '../models/referrals.server';
import type { ReferralStatus } from '../../loyalty/referrals';
import { enqueueReferralSync } from '../queues/web-enqueue.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  try {
    return await referralPage(db, shop, new URL(request.url));
  } catch (error) {
    throw refusal(error);
  }
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const form = await request.formData();
  const intent = form.get('intent');
  if (intent === 'approve' || intent === 'reject') {
    let referralId: number;
    try {
      referralId = rowId(String(form.get('referralId') ?? ''), 'referralId');
    } catch (error) {
      throw refusal(error);
    }
    const staff = staffName(await authenticateAdmin(request));
    const outcome = await reviewFromAdmin(
      () => reviewReferral(db, shop, referralId, { action: intent, staff }),
      intent,
    );
    return data(
      { intent: 'review' as const, referralId, ...outcome },
      { status: outcome.ok ? 200 : outcome.status },
    );
  }
  if (intent !== 'save') {
    throw refusal(new AppError(ErrorCode.VALIDATION, 'intent must be save, approve or reject'));
  }
  let values: ReferralFormValues;
  try {
    values = readReferralDraft(form.get('draft'));
  } catch (error) {
    throw refusal(error);
  }
  const outcome = await saveReferralForm(db, shop, values, enqueueReferralSync);
  return data({ intent: 'save' as const, ...outcome }, { status: outcome.ok ? 200 : 400 });
};

// An action's 4xx does not reload the page's data by default; after a 409 (decided meanwhile) the
// list must show the referral as it now stands.
export const shouldRevalidate: ShouldRevalidateFunction = ({
  actionStatus,
  defaultShouldRevalidate,
}) => actionStatus === 409 || defaultShouldRevalidate;

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

const STATUS_TONE: Record<ReferralStatus, BadgeProps['tone']> = {
  rewarded: 'success',
  held: 'attention',
  rejected: 'critical',
  reversed: 'warning',
};

const label = (status: string) => status.charAt(0).toUpperCase() + status.slice(1);

export default function Referrals() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const saved = result?.intent === 'save' && result.ok ? result : null;
  const reviewed = result?.intent === 'review' ? result : null;
  const { program } = loaded;
  return (
    <Page
      title="Referrals"
      backAction={{ content: 'Loyalty', url: '/app' }}
      titleMetadata={
        program ? (
          <Badge tone={program.enabled ? 'success' : undefined}>
            {`${program.enabled ? 'On' : 'Off'} · version ${program.version}`}
          </Badge>
        ) : undefined
      }
      fullWidth
    >
      <TitleBar title="Referrals" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {saved && (
              <Banner
                tone="success"
                title={`Version ${saved.version} saved: referrals are ${saved.enabled ? 'on' : 'off'}.`}
              >
                <p>{saved.sync}</p>
              </Banner>
            )}
            {reviewed && (
              <Banner tone={reviewed.ok ? reviewed.tone : 'critical'} title={reviewed.message} />
            )}
            {program ? (
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    {program.enabled ? 'Referrals are on' : 'Referrals are off'}
                  </Text>
                  <Text as="p">{program.summary}</Text>
                  <ShopifyState loaded={loaded} />
                </BlockStack>
              </Card>
            ) : (
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    No referral program yet
                  </Text>
                  <Text as="p">
                    Members share a link or a code of their own; a friend gets a welcome discount on
                    their first order, and the member gets points once it is paid. Fraud rules hold
                    or reject referrals from the same person, household or address. Set it up below
                    and turn it on when ready.
                  </Text>
                </BlockStack>
              </Card>
            )}
            <Stats loaded={loaded} />
            <ReferralList loaded={loaded} />
            <ReferralSettings
              // A new version starts the form again from it.
              key={loaded.versions}
              loaded={loaded}
              saved={result?.intent === 'save' ? result : undefined}
            />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function ShopifyState({ loaded }: { loaded: Loaded }) {
  const { codes, discount, shareLink } = loaded;
  const lines: string[] = [];
  if (!discount || !discount.created) {
    lines.push('The friend discount is not at Shopify yet: the referral sync creates it.');
  } else if (discount.lastError) {
    lines.push(`Shopify refused the last friend discount update: ${discount.lastError}`);
  } else if (loaded.program && discount.syncedVersion !== loaded.program.version) {
    lines.push('The friend discount at Shopify is being updated to this version.');
  }
  lines.push(
    `Members' codes: ${codes.active.toLocaleString('en-US')} active at Shopify, ${codes.pending.toLocaleString('en-US')} waiting${codes.failed > 0 ? `, ${codes.failed.toLocaleString('en-US')} refused` : ''}.`,
  );
  return (
    <BlockStack gap="100">
      {lines.map((line) => (
        <Text as="p" tone="subdued" key={line}>
          {line}
        </Text>
      ))}
      {shareLink && (
        <Text as="p" tone="subdued">
          {'A share link: '}
          <Text as="span" fontWeight="medium">
            {shareLink}
          </Text>
        </Text>
      )}
    </BlockStack>
  );
}

function Stats({ loaded }: { loaded: Loaded }) {
  const [from, setFrom] = useState(loaded.range.from);
  const [to, setTo] = useState(loaded.range.to);
  return (
    <Card>
      <BlockStack gap="400">
        <InlineStack align="space-between" blockAlign="end" gap="400">
          <BlockStack gap="100">
            <Text as="h2" variant="headingMd">
              {`Last ${loaded.rangeDays} ${loaded.rangeDays === 1 ? 'day' : 'days'}`}
            </Text>
            <Text as="p" tone="subdued">
              {`${loaded.range.from} to ${loaded.range.to}, shop time (${loaded.timezone}); money in ${loaded.currency}`}
            </Text>
          </BlockStack>
          <Form method="get">
            {loaded.list.status && <input type="hidden" name="status" value={loaded.list.status} />}
            <InlineStack gap="200" blockAlign="end">
              <TextField
                label="From"
                name="from"
                type="date"
                value={from}
                onChange={setFrom}
                autoComplete="off"
              />
              <TextField
                label="To"
                name="to"
                type="date"
                value={to}
                onChange={setTo}
                autoComplete="off"
              />
              <Button submit>Show</Button>
            </InlineStack>
          </Form>
        </InlineStack>
        <InlineGrid columns={{ xs: 2, md: 3, lg: 6 }} gap="400">
          {loaded.stats.map((tile) => (
            <Box
              key={tile.label}
              padding="300"
              background="bg-surface-secondary"
              borderRadius="200"
            >
              <BlockStack gap="100">
                <Text as="h3" variant="headingSm">
                  {tile.label}
                </Text>
                <Text as="p" variant="headingLg">
                  {tile.value}
                </Text>
                <Text as="p" tone="subdued" variant="bodySm">
                  {tile.help}
                </Text>
              </BlockStack>
            </Box>
          ))}
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}

function ReferralList({ loaded }: { loaded: Loaded }) {
  const navigation = useNavigation();
  const submit = useSubmit();
  const { list } = loaded;
  const busy =
    navigation.state === 'submitting' && navigation.formData?.get('referralId')
      ? `${String(navigation.formData.get('intent'))}:${String(navigation.formData.get('referralId'))}`
      : null;
  const pageUrl = (change: { status?: string | null; before?: number | null }) => {
    const params = new URLSearchParams();
    params.set('from', loaded.range.from);
    params.set('to', loaded.range.to);
    const status = change.status === undefined ? list.status : change.status;
    if (status) params.set('status', status);
    if (change.before) params.set('before', String(change.before));
    return `/app/referrals?${params.toString()}`;
  };
  const review = (intent: 'approve' | 'reject', id: number) =>
    submit({ intent, referralId: String(id) }, { method: 'post' });
  return (
    <Card padding="0">
      <Box padding="400">
        <InlineStack align="space-between" blockAlign="center" gap="400">
          <Text as="h2" variant="headingMd">
            {loaded.held > 0
              ? `Referrals · ${loaded.held.toLocaleString('en-US')} held for review`
              : 'Referrals'}
          </Text>
          <InlineStack gap="200">
            {[null, ...loaded.statuses].map((s) => (
              <Button
                key={s ?? 'all'}
                url={pageUrl({ status: s, before: null })}
                pressed={list.status === s}
                size="slim"
              >
                {s === null ? 'All' : label(s)}
              </Button>
            ))}
          </InlineStack>
        </InlineStack>
      </Box>
      {list.rows.length === 0 ? (
        <Box padding="400">
          <Text as="p" tone="subdued">
            {list.before !== null
              ? 'No older referrals.'
              : list.status !== null
                ? `No ${list.status} referrals.`
                : "No referrals yet. When a friend's first order carries a member's code, it appears here with what came of it."}
          </Text>
        </Box>
      ) : (
        <IndexTable
          resourceName={{ singular: 'referral', plural: 'referrals' }}
          itemCount={list.rows.length}
          selectable={false}
          headings={[
            { title: 'Order' },
            { title: 'Referrer' },
            { title: 'Friend' },
            { title: 'Amount', alignment: 'end' },
            { title: 'Status' },
            { title: 'Reasons' },
            { title: 'Review' },
          ]}
        >
          {list.rows.map((row, index) => (
            <IndexTable.Row id={String(row.id)} key={row.id} position={index}>
              <IndexTable.Cell>
                <BlockStack>
                  <Text as="span" fontWeight="medium">
                    {row.order}
                  </Text>
                  <Text as="span" tone="subdued" variant="bodySm">
                    {row.paidAt}
                  </Text>
                  <Text as="span" tone="subdued" variant="bodySm">
                    {row.code}
                  </Text>
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <BlockStack>
                  <Text as="span">{row.referrer}</Text>
                  <Text as="span" tone="subdued" variant="bodySm">
                    {`ID ${row.referrerId}`}
                  </Text>
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <BlockStack>
                  <Text as="span">{row.friend}</Text>
                  {row.friendId && (
                    <Text as="span" tone="subdued" variant="bodySm">
                      {`ID ${row.friendId}`}
                    </Text>
                  )}
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {row.amount}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <BlockStack gap="100">
                  <Badge tone={STATUS_TONE[row.status]}>{label(row.status)}</Badge>
                  {row.reward && (
                    <Text as="span" tone="subdued" variant="bodySm">
                      {row.reward}
                    </Text>
                  )}
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>
                {row.reasons.length > 0 ? (
                  // Table cells do not wrap; reasons are sentences.
                  <div style={{ whiteSpace: 'normal', minWidth: '14rem', maxWidth: '22rem' }}>
                    <List type="bullet">
                      {row.reasons.map((reason) => (
                        <List.Item key={reason}>{reason}</List.Item>
                      ))}
                    </List>
                  </div>
                ) : (
                  '—'
                )}
              </IndexTable.Cell>
              <IndexTable.Cell>
                {row.status === 'held' ? (
                  <InlineStack gap="200" wrap={false}>
                    <Button
                      size="slim"
                      variant="primary"
                      onClick={() => review('approve', row.id)}
                      loading={busy === `approve:${row.id}`}
                      accessibilityLabel={`Approve referral ${row.order}`}
                    >
                      Approve
                    </Button>
                    <Button
                      size="slim"
                      tone="critical"
                      onClick={() => review('reject', row.id)}
                      loading={busy === `reject:${row.id}`}
                      accessibilityLabel={`Reject referral ${row.order}`}
                    >
                      Reject
                    </Button>
                  </InlineStack>
                ) : (
                  (row.reviewed ?? '—')
                )}
              </IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
      )}
      {(list.before !== null || list.nextBefore !== null) && (
        <Box padding="400">
          <InlineStack align="end" gap="200">
            {list.before !== null && <Button url={pageUrl({ before: null })}>Newest</Button>}
            <Button
              url={list.nextBefore === null ? undefined : pageUrl({ before: list.nextBefore })}
              disabled={list.nextBefore === null}
            >
              Next
            </Button>
          </InlineStack>
        </Box>
      )}
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Referrals',
  back: { content: 'Loyalty', url: '/app' },
});
