// /app: the dashboard — members, points issued, reversed, redeemed, expired and outstanding this
// period against the one before, redemption and repeat-purchase rates, revenue from members, points
// per month, and the latest ledger entries. ?period=last7|last30|last90|month|year (default
// last30), in the shop's timezone. docs/dashboard.md.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useLoaderData, useNavigation, useSubmit } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Card,
  EmptyState,
  InlineGrid,
  InlineStack,
  Layout,
  Link,
  Page,
  Select,
  SkeletonBodyText,
  SkeletonDisplayText,
  SkeletonPage,
  Text,
} from '@shopify/polaris';
import { BarChart } from '../admin-chart';
import {
  DEFAULT_PERIOD,
  PERIODS,
  dashboardFigures,
  dashboardView,
  isPeriodKey,
  type Comparison,
} from '../admin-dashboard.server';
import { adminErrorBoundary } from '../admin-error-boundary';
import { formatDay, formatInteger, formatMonth } from '../admin-format';
import { adminShop } from '../admin-request.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  let context: Awaited<ReturnType<typeof adminShop>>;
  try {
    context = await adminShop(request);
  } catch (error) {
    // The home page is where a shop that is not set up yet lands: say so rather than refuse.
    if (error instanceof Response && error.status === 404) return { setUp: false as const };
    throw error;
  }
  const { db, shop, locale } = context;
  const requested = new URL(request.url).searchParams.get('period');
  const period = isPeriodKey(requested) ? requested : DEFAULT_PERIOD;
  const figures = await dashboardFigures(db, shop, period);
  return {
    setUp: true as const,
    shop: { domain: shop.domain, currency: shop.currency, timezone: shop.timezone },
    locale,
    periodOptions: Object.entries(PERIODS).map(([value, label]) => ({ value, label })),
    ...dashboardView(figures, shop, locale),
  };
};

type Loaded = Extract<ReturnType<typeof useLoaderData<typeof loader>>, { setUp: true }>;

export default function Dashboard() {
  const data = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  if (navigation.state === 'loading' && navigation.location.pathname === '/app') {
    return <DashboardSkeleton />;
  }
  if (!data.setUp) {
    return (
      <Page title="Loyalty">
        <TitleBar title="Laurel loyalty" />
        <Banner tone="critical" title="This shop is not set up yet">
          <p>Reload the page to try again.</p>
        </Banner>
      </Page>
    );
  }
  return <DashboardPage data={data} />;
}

function DashboardPage({ data }: { data: Loaded }) {
  const submit = useSubmit();
  const { period, locale } = data;
  const range = (r: { from: string; to: string }) =>
    `${formatDay(r.from, locale)} – ${formatDay(r.to, locale)}`;
  return (
    <Page
      title="Loyalty"
      subtitle={`${data.shop.domain} · ${data.shop.currency} · ${data.shop.timezone}${data.program ? ` · program ${data.program.name} (version ${data.program.version})` : ''}`}
      secondaryActions={[{ content: 'Points liability', url: '/app/liability' }]}
    >
      <TitleBar title="Laurel loyalty" />
      <Layout>
        {!data.program && (
          <Layout.Section>
            <Banner
              tone="warning"
              title="No earn program is published"
              action={{ content: 'Set up the program', url: '/app/program' }}
            >
              <p>Customers earn no points on their orders until a program is published.</p>
            </Banner>
          </Layout.Section>
        )}
        <Layout.Section>
          <Card>
            <Form method="get" onChange={(event) => submit(event.currentTarget)}>
              <InlineStack gap="400" align="space-between" blockAlign="end">
                <Box minWidth="220px">
                  <Select
                    label="Period"
                    name="period"
                    options={data.periodOptions}
                    value={period.key}
                  />
                </Box>
                {data.locale !== 'en-US' && (
                  <input type="hidden" name="locale" value={data.locale} />
                )}
                <BlockStack gap="100">
                  <Text as="p" variant="bodySm">
                    {`This period: ${range(period.current)}`}
                  </Text>
                  <Text as="p" variant="bodySm" tone="subdued">
                    {`Previous: ${range(period.previous)}`}
                  </Text>
                </BlockStack>
                <noscript>
                  <button type="submit">Show</button>
                </noscript>
              </InlineStack>
            </Form>
          </Card>
        </Layout.Section>
        {!data.hasMembers ? (
          <Layout.Section>
            <Card>
              <EmptyState
                heading="No members yet"
                action={
                  data.program
                    ? { content: 'See the program', url: '/app/program' }
                    : { content: 'Set up the program', url: '/app/program' }
                }
                secondaryAction={{ content: 'Import order history', url: '/app/import' }}
                image=""
              >
                <p>
                  Customers become members when they create an account or place an order. Their
                  points, redemptions and this page&apos;s figures appear as soon as the first one
                  does.
                </p>
              </EmptyState>
            </Card>
          </Layout.Section>
        ) : (
          <>
            <Layout.Section>
              <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="400">
                <Figure title="Members" value={data.members} note="enrolled, all time" />
                {data.comparisons.map((c) => (
                  <ComparisonCard key={c.label} comparison={c} />
                ))}
              </InlineGrid>
            </Layout.Section>
            <Layout.Section>
              <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingSm">
                      Redemption rate
                    </Text>
                    <Text as="p" variant="headingLg">
                      {data.redemptionRate.current}
                    </Text>
                    <Text as="p" tone="subdued" variant="bodySm">
                      {`Points redeemed ÷ points issued this period (previous: ${data.redemptionRate.previous}). Lifetime: ${data.redemptionRate.lifetime} (${data.redemptionRate.lifetimeRedeemed} of ${data.redemptionRate.lifetimeIssued}).`}
                    </Text>
                  </BlockStack>
                </Card>
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingSm">
                      Repeat-purchase rate
                    </Text>
                    <InlineStack gap="600">
                      <BlockStack>
                        <Text as="p" variant="headingLg">
                          {data.repeat.members.rate}
                        </Text>
                        <Text as="p" variant="bodySm">
                          {`Members (${data.repeat.members.repeaters} of ${data.repeat.members.buyers})`}
                        </Text>
                      </BlockStack>
                      <BlockStack>
                        <Text as="p" variant="headingLg">
                          {data.repeat.guests.rate}
                        </Text>
                        <Text as="p" variant="bodySm">
                          {`Guests (${data.repeat.guests.repeaters} of ${data.repeat.guests.buyers})`}
                        </Text>
                      </BlockStack>
                    </InlineStack>
                    <Text as="p" tone="subdued" variant="bodySm">
                      Of the buyers with a paid order this period, those with two or more paid
                      orders up to its end.
                    </Text>
                  </BlockStack>
                </Card>
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingSm">
                      Revenue from members
                    </Text>
                    <Text as="p" variant="headingLg">
                      {data.revenue.net}
                    </Text>
                    <Text as="p" tone="subdued" variant="bodySm">
                      {`${data.revenue.orders} paid orders, ${data.revenue.gross}, less ${data.revenue.refunded} refunded. Previous period: ${data.revenue.previous}.`}
                    </Text>
                  </BlockStack>
                </Card>
              </InlineGrid>
            </Layout.Section>
            <Layout.Section>
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Points issued and redeemed per month
                  </Text>
                  <BarChart
                    title="Points issued and redeemed per month"
                    summary={`The last 12 months in ${data.shop.timezone}: points issued and points redeemed in each.`}
                    series={[
                      { name: 'Issued', color: '#2c6ecb' },
                      { name: 'Redeemed', color: '#e3a008' },
                    ]}
                    groups={data.chart.map((m) => ({
                      label: formatMonth(m.month, locale),
                      values: [m.issued, m.redeemed],
                    }))}
                    format={(v) => formatInteger(v, locale)}
                  />
                </BlockStack>
              </Card>
            </Layout.Section>
            <Layout.Section>
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Recent activity
                  </Text>
                  {data.recent.length === 0 ? (
                    <Text as="p" tone="subdued">
                      No points have moved yet.
                    </Text>
                  ) : (
                    <BlockStack gap="200" as="ul">
                      {data.recent.map((entry) => (
                        <Box as="li" key={entry.id}>
                          <InlineStack gap="200" align="space-between" wrap={false}>
                            <BlockStack>
                              <Text as="span">{entry.explanation}</Text>
                              <Text as="span" tone="subdued" variant="bodySm">
                                <Link url={`/app/customers/${entry.customerId}`}>
                                  {entry.customer}
                                </Link>
                                {` · ${entry.when}`}
                              </Text>
                            </BlockStack>
                            <Badge
                              tone={
                                entry.points > 0
                                  ? 'success'
                                  : entry.points < 0
                                    ? 'attention'
                                    : undefined
                              }
                            >
                              {`${entry.points > 0 ? '+' : entry.points < 0 ? '\u2212' : ''}${formatInteger(Math.abs(entry.points), locale)}`}
                            </Badge>
                          </InlineStack>
                        </Box>
                      ))}
                    </BlockStack>
                  )}
                </BlockStack>
              </Card>
            </Layout.Section>
          </>
        )}
      </Layout>
    </Page>
  );
}

function Figure({ title, value, note }: { title: string; value: string; note?: string }) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">
          {title}
        </Text>
        <Text as="p" variant="headingLg">
          {value}
        </Text>
        {note && (
          <Text as="p" tone="subdued" variant="bodySm">
            {note}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

function ComparisonCard({ comparison: c }: { comparison: Comparison }) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">
          {c.label}
        </Text>
        <InlineStack gap="200" blockAlign="center">
          <Text as="p" variant="headingLg">
            {c.current}
          </Text>
          {c.change && <Badge tone={c.trend === 'up' ? 'info' : undefined}>{c.change}</Badge>}
        </InlineStack>
        <Text as="p" tone="subdued" variant="bodySm">
          {`Previous period: ${c.previous}`}
        </Text>
      </BlockStack>
    </Card>
  );
}

function DashboardSkeleton() {
  return (
    <SkeletonPage title="Loyalty" primaryAction>
      <Layout>
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="400">
            {Array.from({ length: 8 }, (_, i) => (
              <Card key={i}>
                <BlockStack gap="200">
                  <SkeletonDisplayText size="small" />
                  <SkeletonBodyText lines={1} />
                </BlockStack>
              </Card>
            ))}
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <SkeletonBodyText lines={8} />
          </Card>
        </Layout.Section>
      </Layout>
    </SkeletonPage>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Loyalty',
  back: { content: 'Loyalty', url: '/app' },
});
