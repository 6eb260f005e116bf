// /app/liability: the points liability rollforward per shop-local month — opening, issued,
// reversed, redeemed, expired, adjusted, closing — in points and at the program's redemption
// value, with breakage estimated from the shop's own history. ?from=YYYY-MM&to=YYYY-MM (default
// the last 12 months); a bad month is an error beside its field. docs/liability.md.
import { useState } from 'react';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useLoaderData, useNavigation } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  DataTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  SkeletonBodyText,
  SkeletonPage,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminErrorBoundary } from '../admin-error-boundary';
import { liabilityPage } from '../admin-liability.server';
import { ProblemsBanner } from '../admin-problems';
import { adminShop } from '../admin-request.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  const page = await liabilityPage(db, shop, new URL(request.url).searchParams, locale);
  return { ...page, currency: shop.currency, timezone: shop.timezone, locale };
};

export default function Liability() {
  const { query, report, currency, timezone, locale } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  if (navigation.state === 'loading' && navigation.location.pathname === '/app/liability') {
    return (
      <SkeletonPage title="Points liability" backAction>
        <Card>
          <SkeletonBodyText lines={14} />
        </Card>
      </SkeletonPage>
    );
  }
  return (
    <Page
      title="Points liability"
      subtitle={`Per month in ${timezone}, ${currency}`}
      backAction={{ content: 'Loyalty', url: '/app' }}
      fullWidth
    >
      <TitleBar title="Points liability" />
      <Layout>
        <Layout.Section>
          <RangeForm key={`${query.from} ${query.to}`} query={query} locale={locale} />
        </Layout.Section>
        {report && (
          <>
            <Layout.Section>
              {report.value ? (
                <Banner tone="info">
                  <p>
                    {`Money at the program's redemption value: ${report.value.perPoints} (${report.value.reward}), the best rate in the rewards catalog.`}
                  </p>
                </Banner>
              ) : (
                <Banner tone="warning" title="Points only">
                  <p>{`No money figures: ${report.noValueReason}.`}</p>
                </Banner>
              )}
            </Layout.Section>
            <Layout.Section>
              <Card padding="0">
                <DataTable
                  columnContentTypes={['text', ...report.columns.map(() => 'numeric' as const)]}
                  headings={['Month', ...report.columns.map((c) => c.title)]}
                  rows={report.rows.map((row) => [
                    row.label,
                    ...report.columns.map((c) => {
                      const cell = row.cells[c.key];
                      return cell.money ? `${cell.points} pts · ${cell.money}` : cell.points;
                    }),
                  ])}
                  hoverable
                />
              </Card>
            </Layout.Section>
            <Layout.Section>
              <InlineGrid columns={{ xs: 1, md: 2 }} gap="400">
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingSm">
                      Liability at the end of the range
                    </Text>
                    <Text as="p" variant="headingLg">
                      {report.closing
                        ? (report.closing.money ?? `${report.closing.points} points`)
                        : '—'}
                    </Text>
                    {report.closing?.money && (
                      <Text as="p" tone="subdued" variant="bodySm">
                        {`${report.closing.points} points outstanding`}
                      </Text>
                    )}
                  </BlockStack>
                </Card>
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingSm">
                      Net of breakage
                    </Text>
                    {report.breakage.status === 'estimated' ? (
                      <>
                        <Text as="p" variant="headingLg">
                          {report.breakage.net
                            ? (report.breakage.net.money ?? `${report.breakage.net.points} points`)
                            : '—'}
                        </Text>
                        <Text as="p" tone="subdued" variant="bodySm">
                          {`Breakage ${report.breakage.breakage}: of the points that left members' hands or sat dormant, ${report.breakage.redemptionRate} were redeemed (redeemed ${report.breakage.redeemed}, expired ${report.breakage.expired}, dormant ${report.breakage.dormant} — balances with no entry since ${report.dormantSince}).`}
                        </Text>
                      </>
                    ) : (
                      <Text as="p">
                        {`No estimate: ${report.breakage.reason}. The liability is shown gross.`}
                      </Text>
                    )}
                  </BlockStack>
                </Card>
              </InlineGrid>
            </Layout.Section>
          </>
        )}
      </Layout>
    </Page>
  );
}

function RangeForm({
  query,
  locale,
}: {
  query: { from: string; to: string; errors: { from?: string; to?: string } };
  locale: string;
}) {
  const [from, setFrom] = useState(query.from);
  const [to, setTo] = useState(query.to);
  const problems = [query.errors.from, query.errors.to].filter((e): e is string => !!e);
  return (
    <Card>
      <Form method="get">
        <BlockStack gap="300">
          <ProblemsBanner title="This range cannot be shown" problems={problems} />
          <InlineStack gap="400" blockAlign="end">
            <Box minWidth="160px">
              <TextField
                label="From month"
                name="from"
                value={from}
                onChange={setFrom}
                autoComplete="off"
                placeholder="YYYY-MM"
                error={query.errors.from}
              />
            </Box>
            <Box minWidth="160px">
              <TextField
                label="To month"
                name="to"
                value={to}
                onChange={setTo}
                autoComplete="off"
                placeholder="YYYY-MM"
                error={query.errors.to}
              />
            </Box>
            {locale !== 'en-US' && <input type="hidden" name="locale" value={locale} />}
            <Button submit variant="primary">
              Show
            </Button>
            <Button url="/app/liability">Last 12 months</Button>
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Points liability',
  back: { content: 'Loyalty', url: '/app' },
});
