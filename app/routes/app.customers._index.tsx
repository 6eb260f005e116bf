// /app/customers: the shop's members, found by one search box (the start of an email, domain, name
// or last name; or a Shopify customer id),
// sorted by balance, lifetime points, name, email or member since, 50 to a page (keyset cursors:
// ?cursor=). Each row opens the member (/app/customers/<id>). docs/customers.md.
import { useState } from 'react';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useLoaderData, useLocation, useNavigation } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  IndexTable,
  InlineStack,
  Layout,
  Link,
  Page,
  Select,
  SkeletonBodyText,
  Text,
  TextField,
} from '@shopify/polaris';
import { loadDirectory, parseDirectoryParams } from '../admin-customers.server';
import { adminErrorBoundary } from '../admin-error-boundary';
import { adminShop } from '../admin-request.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  const params = parseDirectoryParams(new URL(request.url).searchParams);
  return loadDirectory(db, shop, locale, params);
};

export default function Customers() {
  const { params, rows, total, totalText, next, previous, sorts } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const location = useLocation();
  const [search, setSearch] = useState(params.search);
  const [sort, setSort] = useState(`${params.sort}:${params.direction}`);
  // A search, sort or page of this list loading: the table shows a skeleton until it arrives.
  const loading =
    navigation.state === 'loading' && navigation.location.pathname === location.pathname;

  const pageUrl = (cursor: string | null) => {
    const query = new URLSearchParams();
    if (params.search) query.set('q', params.search);
    query.set('sort', params.sort);
    query.set('dir', params.direction);
    if (cursor) query.set('cursor', cursor);
    return `/app/customers?${query.toString()}`;
  };
  const [sortKey, dir] = sort.split(':');
  const sortOptions = sorts.flatMap((s) =>
    s.value === 'name' || s.value === 'email'
      ? [
          { label: `${s.label} A–Z`, value: `${s.value}:asc` },
          { label: `${s.label} Z–A`, value: `${s.value}:desc` },
        ]
      : [
          { label: `${s.label}, highest first`, value: `${s.value}:desc` },
          { label: `${s.label}, lowest first`, value: `${s.value}:asc` },
        ],
  );
  const noMembers = total === 0 && params.search === '';

  return (
    <Page title="Customers" backAction={{ content: 'Loyalty', url: '/app' }} fullWidth>
      <TitleBar title="Customers" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <Form method="get" role="search">
                <input type="hidden" name="sort" value={sortKey} />
                <input type="hidden" name="dir" value={dir} />
                <InlineStack gap="300" blockAlign="end" wrap>
                  <Box minWidth="320px">
                    <TextField
                      name="q"
                      label="Search customers"
                      value={search}
                      onChange={setSearch}
                      autoComplete="off"
                      placeholder="Email, name, or Shopify customer id"
                      helpText="Text matches the start of an email, an email domain, a name or a last name (ignoring case); a number or gid://shopify/Customer/… matches that Shopify id exactly."
                      clearButton
                      onClearButtonClick={() => setSearch('')}
                    />
                  </Box>
                  <Select label="Sort by" options={sortOptions} value={sort} onChange={setSort} />
                  <Button submit variant="primary">
                    Search
                  </Button>
                  {params.search !== '' && <Button url="/app/customers">Clear</Button>}
                </InlineStack>
              </Form>
            </Card>
            <Card padding="0">
              {loading ? (
                <Box padding="400">
                  <BlockStack gap="300">
                    <Text as="p" tone="subdued">
                      Loading customers…
                    </Text>
                    <SkeletonBodyText lines={8} />
                  </BlockStack>
                </Box>
              ) : noMembers ? (
                <Box padding="400">
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">
                      No members yet
                    </Text>
                    <Text as="p">
                      Customers appear here once they create an account or place an order, or when
                      you import your order history.
                    </Text>
                    <InlineStack>
                      <Button url="/app/import">Import history</Button>
                    </InlineStack>
                  </BlockStack>
                </Box>
              ) : rows.length === 0 ? (
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    {`No customers match “${params.search}”. Try the start of an email or name, or a Shopify customer id.`}
                  </Text>
                </Box>
              ) : (
                <IndexTable
                  resourceName={{ singular: 'customer', plural: 'customers' }}
                  itemCount={rows.length}
                  selectable={false}
                  headings={[
                    { title: 'Name' },
                    { title: 'Email' },
                    { title: 'Shopify ID' },
                    { title: 'Balance', alignment: 'end' },
                    { title: 'Lifetime earned', alignment: 'end' },
                    { title: 'Tier' },
                    { title: 'Member since' },
                  ]}
                >
                  {rows.map((row, index) => (
                    <IndexTable.Row id={String(row.id)} key={row.id} position={index}>
                      <IndexTable.Cell>
                        <Link url={`/app/customers/${row.id}`} removeUnderline>
                          {row.name}
                        </Link>
                        {row.redacted && (
                          <Box as="span" paddingInlineStart="200">
                            <Badge>Redacted</Badge>
                          </Box>
                        )}
                      </IndexTable.Cell>
                      <IndexTable.Cell>{row.email}</IndexTable.Cell>
                      <IndexTable.Cell>{row.shopifyId}</IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" alignment="end" numeric>
                          {row.balance}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" alignment="end" numeric>
                          {row.lifetimeEarned}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>{row.tier}</IndexTable.Cell>
                      <IndexTable.Cell>{row.memberSince}</IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
            </Card>
            <InlineStack align="space-between" blockAlign="center">
              <Text as="p" tone="subdued">
                {params.search === ''
                  ? `${totalText} ${total === 1 ? 'member' : 'members'}`
                  : `${totalText} ${total === 1 ? 'match' : 'matches'}`}
              </Text>
              <InlineStack gap="200">
                <Button url={previous ? pageUrl(previous) : undefined} disabled={!previous}>
                  Previous
                </Button>
                <Button url={next ? pageUrl(next) : undefined} disabled={!next}>
                  Next
                </Button>
              </InlineStack>
            </InlineStack>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Customers',
  back: { content: 'Customers', url: '/app/customers' },
});
