// /app/rewards: the rewards catalog — what shoppers can spend points on, archived ones in their own
// tab; archive and unarchive per row. Editing is /app/rewards/$id (docs/admin.md).
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  ButtonGroup,
  Card,
  IndexTable,
  Layout,
  Link,
  Page,
  Text,
} from '@shopify/polaris';
import { adminShop, parseId, refusal } from '../admin-request.server';
import { rewardRow } from '../admin-rewards.server';
import { AppError, ErrorCode } from '../errors';
import { listRewards, setRewardArchived } from '../models/rewards.server';
import { adminErrorBoundary } from '../admin-error-boundary';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const url = new URL(request.url);
  const view = url.searchParams.get('view') === 'archived' ? 'archived' : 'active';
  const rows = (await listRewards(db, shop.id, { includeArchived: true })).map((r) =>
    rewardRow(r, shop.currency),
  );
  const savedId = url.searchParams.get('saved');
  const saved = rows.find((r) => String(r.id) === savedId);
  return {
    view,
    rows: rows.filter((r) => r.archived === (view === 'archived')),
    counts: {
      active: rows.filter((r) => !r.archived).length,
      archived: rows.filter((r) => r.archived).length,
    },
    saved: saved ? { title: saved.title, version: saved.version } : null,
  };
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const form = await request.formData();
  const intent = form.get('intent');
  if (intent !== 'archive' && intent !== 'unarchive') {
    throw refusal(new AppError(ErrorCode.VALIDATION, 'intent must be archive or unarchive'));
  }
  const rewardId = parseId(form.get('rewardId')?.toString(), 'rewardId');
  try {
    const reward = await setRewardArchived(db, shop.id, rewardId, intent === 'archive');
    return { intent, rewardId, title: reward.definition.title };
  } catch (error) {
    throw refusal(error);
  }
};

export default function Rewards() {
  const { view, rows, counts, saved } = useLoaderData<typeof loader>();
  const done = useActionData<typeof action>();
  const navigation = useNavigation();
  const busyId = navigation.formData?.get('rewardId');
  return (
    <Page
      title="Rewards"
      backAction={{ content: 'Loyalty', url: '/app' }}
      primaryAction={{ content: 'Add reward', url: '/app/rewards/new' }}
      secondaryActions={[{ content: 'Redemptions', url: '/app/redemptions' }]}
      fullWidth
    >
      <TitleBar title="Rewards" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {saved && !done && (
              <Banner tone="success" title={`Saved “${saved.title}” (version ${saved.version})`} />
            )}
            {done && (
              <Banner
                tone="success"
                title={
                  done.intent === 'archive'
                    ? `Archived “${done.title}”: shoppers no longer see it; codes already issued still work.`
                    : `“${done.title}” is back in the catalog.`
                }
              />
            )}
            <ButtonGroup variant="segmented">
              <Button url="/app/rewards" pressed={view === 'active'}>
                {`Active (${counts.active})`}
              </Button>
              <Button url="/app/rewards?view=archived" pressed={view === 'archived'}>
                {`Archived (${counts.archived})`}
              </Button>
            </ButtonGroup>
            <Card padding="0">
              {rows.length === 0 ? (
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    {view === 'active'
                      ? 'No rewards yet: add one so members can spend their points.'
                      : 'No archived rewards.'}
                  </Text>
                </Box>
              ) : (
                <IndexTable
                  resourceName={{ singular: 'reward', plural: 'rewards' }}
                  itemCount={rows.length}
                  selectable={false}
                  headings={[
                    { title: 'Title' },
                    { title: 'Type' },
                    { title: 'Cost' },
                    { title: 'Value' },
                    { title: 'Limits' },
                    { title: 'Code expiry' },
                    { title: 'Status' },
                    { title: 'Version' },
                    { title: 'Actions', hidden: true },
                  ]}
                >
                  {rows.map((row, index) => (
                    <IndexTable.Row id={String(row.id)} key={row.id} position={index}>
                      <IndexTable.Cell>
                        <Link url={`/app/rewards/${row.id}`} removeUnderline>
                          <Text as="span" fontWeight="semibold">
                            {row.title}
                          </Text>
                        </Link>
                      </IndexTable.Cell>
                      <IndexTable.Cell>{row.type}</IndexTable.Cell>
                      <IndexTable.Cell>{row.cost}</IndexTable.Cell>
                      <IndexTable.Cell>{row.value}</IndexTable.Cell>
                      <IndexTable.Cell>{row.limits}</IndexTable.Cell>
                      <IndexTable.Cell>{row.expiry}</IndexTable.Cell>
                      <IndexTable.Cell>
                        {row.archived ? (
                          <Badge>Archived</Badge>
                        ) : (
                          <Badge tone="success">Active</Badge>
                        )}
                      </IndexTable.Cell>
                      <IndexTable.Cell>{row.version}</IndexTable.Cell>
                      <IndexTable.Cell>
                        <Form method="post">
                          <input type="hidden" name="rewardId" value={row.id} />
                          <input
                            type="hidden"
                            name="intent"
                            value={row.archived ? 'unarchive' : 'archive'}
                          />
                          <Button
                            submit
                            size="slim"
                            loading={busyId === String(row.id)}
                            accessibilityLabel={`${row.archived ? 'Unarchive' : 'Archive'} ${row.title}`}
                          >
                            {row.archived ? 'Unarchive' : 'Archive'}
                          </Button>
                        </Form>
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Rewards',
  back: { content: 'Rewards', url: '/app/rewards' },
});
