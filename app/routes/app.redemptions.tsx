// /app/redemptions: every redemption of the shop, newest first, filtered by status, reward and
// customer (email, name or Shopify id), 50 to a page (keyset: ?before=<id>). Read-only.
import { useState } from 'react';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useLoaderData } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  ChoiceList,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
  type BadgeProps,
} from '@shopify/polaris';
import {
  parseRedemptionQuery,
  REDEMPTIONS_PAGE,
  redemptionFilter,
  redemptionRow,
} from '../admin-redemptions.server';
import { adminShop } from '../admin-request.server';
import {
  REDEMPTION_STATUSES,
  searchRedemptionsWithCustomers,
  type RedemptionStatus,
} from '../models/redemptions.server';
import { listRewards } from '../models/rewards.server';
import { adminErrorBoundary } from '../admin-error-boundary';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const query = parseRedemptionQuery(new URL(request.url).searchParams);
  const [found, rewards] = await Promise.all([
    searchRedemptionsWithCustomers(db, shop.id, redemptionFilter(query)),
    listRewards(db, shop.id, { includeArchived: true }),
  ]);
  const page = found.slice(0, REDEMPTIONS_PAGE);
  return {
    query,
    rows: page.map((r) => redemptionRow(r, shop)),
    // Keyset paging: the next page is everything older than this page's last row.
    nextBefore: found.length > REDEMPTIONS_PAGE ? page.at(-1)!.id : null,
    rewards: rewards.map((r) => ({
      id: r.id,
      title: r.definition.title + (r.archivedAt ? ' (archived)' : ''),
    })),
    statuses: REDEMPTION_STATUSES,
  };
};

const STATUS_TONE: Record<RedemptionStatus, BadgeProps['tone']> = {
  pending: 'attention',
  issued: 'info',
  credited: 'success',
  used: 'success',
  failed: 'critical',
  expired: undefined,
  refunded: 'warning',
};

const label = (status: string) => status.charAt(0).toUpperCase() + status.slice(1);

export default function Redemptions() {
  const { query, rows, nextBefore, rewards, statuses } = useLoaderData<typeof loader>();
  const [chosen, setChosen] = useState<string[]>(query.statuses);
  const [reward, setReward] = useState(query.rewardId === null ? '' : String(query.rewardId));
  const [customer, setCustomer] = useState(query.customer);

  const pageUrl = (before: number | null) => {
    const params = new URLSearchParams();
    for (const s of query.statuses) params.append('status', s);
    if (query.rewardId !== null) params.set('reward', String(query.rewardId));
    if (query.customer) params.set('customer', query.customer);
    if (before !== null) params.set('before', String(before));
    const search = params.toString();
    return `/app/redemptions${search ? `?${search}` : ''}`;
  };

  return (
    <Page
      title="Redemptions"
      backAction={{ content: 'Loyalty', url: '/app' }}
      secondaryActions={[{ content: 'Rewards', url: '/app/rewards' }]}
      fullWidth
    >
      <TitleBar title="Redemptions" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <Form method="get">
                <InlineGrid columns={{ xs: 1, md: ['oneThird', 'twoThirds'] }} gap="400">
                  <ChoiceList
                    title="Status"
                    name="status"
                    allowMultiple
                    choices={statuses.map((s) => ({ label: label(s), value: s }))}
                    selected={chosen}
                    onChange={setChosen}
                  />
                  <BlockStack gap="300">
                    <Select
                      name="reward"
                      label="Reward"
                      options={[
                        { label: 'All rewards', value: '' },
                        ...rewards.map((r) => ({ label: r.title, value: String(r.id) })),
                      ]}
                      value={reward}
                      onChange={setReward}
                    />
                    <TextField
                      name="customer"
                      label="Customer"
                      value={customer}
                      onChange={setCustomer}
                      autoComplete="off"
                      helpText="Email, name, or Shopify customer id"
                      clearButton
                      onClearButtonClick={() => setCustomer('')}
                    />
                    <InlineStack gap="200">
                      <Button submit variant="primary">
                        Apply filters
                      </Button>
                      <Button url="/app/redemptions">Clear</Button>
                    </InlineStack>
                  </BlockStack>
                </InlineGrid>
              </Form>
            </Card>
            <Card padding="0">
              {rows.length === 0 ? (
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    {query.beforeId === null
                      ? 'No redemptions match these filters.'
                      : 'No older redemptions.'}
                  </Text>
                </Box>
              ) : (
                <IndexTable
                  resourceName={{ singular: 'redemption', plural: 'redemptions' }}
                  itemCount={rows.length}
                  selectable={false}
                  headings={[
                    { title: 'Date' },
                    { title: 'Customer' },
                    { title: 'Reward' },
                    { title: 'Points', alignment: 'end' },
                    { title: 'Code' },
                    { title: 'Status' },
                    { title: 'Order' },
                    { title: 'Expires' },
                    { title: 'Failure reason' },
                  ]}
                >
                  {rows.map((row, index) => (
                    <IndexTable.Row id={String(row.id)} key={row.id} position={index}>
                      <IndexTable.Cell>{row.date}</IndexTable.Cell>
                      <IndexTable.Cell>
                        <BlockStack>
                          <Text as="span">{row.customer}</Text>
                          <Text as="span" tone="subdued" variant="bodySm">
                            {`ID ${row.customerId}`}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <BlockStack>
                          <Text as="span">{row.reward}</Text>
                          <Text as="span" tone="subdued" variant="bodySm">
                            {row.value}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" alignment="end" numeric>
                          {row.points}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" fontWeight="medium">
                          {row.code ?? '—'}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Badge tone={STATUS_TONE[row.status]}>{label(row.status)}</Badge>
                      </IndexTable.Cell>
                      <IndexTable.Cell>{row.order ?? '—'}</IndexTable.Cell>
                      <IndexTable.Cell>{row.expires ?? '—'}</IndexTable.Cell>
                      <IndexTable.Cell>{row.failureReason ?? ''}</IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
            </Card>
            <InlineStack align="end" gap="200">
              {query.beforeId !== null && <Button url={pageUrl(null)}>Newest</Button>}
              <Button
                url={nextBefore === null ? undefined : pageUrl(nextBefore)}
                disabled={nextBefore === null}
              >
                Next
              </Button>
            </InlineStack>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Redemptions',
  back: { content: 'Redemptions', url: '/app/redemptions' },
});
