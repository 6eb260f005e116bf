// /app: the admin home — the shop, its program, its members and the points they hold.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { useLoaderData } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import { BlockStack, Card, InlineGrid, Layout, Page, Text } from '@shopify/polaris';
import { getDatabase } from '../db.server';
import { shopTotals } from '../models/dashboard.server';
import { listPrograms } from '../models/programs.server';
import { getShopByDomain } from '../models/shops.server';
import { authenticateAdmin } from '../admin-auth.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticateAdmin(request);
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, session.shop);
  if (!shop) return { shop: session.shop, setUp: false as const };
  const programs = await listPrograms(db, shop.id);
  const current = programs.at(-1);
  const totals = await shopTotals(db, shop.id);
  return {
    shop: shop.domain,
    setUp: true as const,
    currency: shop.currency,
    timezone: shop.timezone,
    program: current ? { version: current.version, name: current.definition.name } : null,
    ...totals,
  };
};

const integer = new Intl.NumberFormat('en-US');

export default function Index() {
  const data = useLoaderData<typeof loader>();
  return (
    <Page>
      <TitleBar title="Laurel loyalty" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  {data.shop}
                </Text>
                {data.setUp ? (
                  <Text as="p" tone="subdued">
                    {data.currency} · {data.timezone}
                  </Text>
                ) : (
                  <Text as="p" tone="critical">
                    This shop is not set up yet: reload the page to try again.
                  </Text>
                )}
              </BlockStack>
            </Card>
            {data.setUp && (
              <InlineGrid columns={3} gap="400">
                <Figure
                  title="Program"
                  variant="bodyLg"
                  value={
                    data.program
                      ? `${data.program.name} (version ${data.program.version})`
                      : 'No program published'
                  }
                />
                <Figure title="Members" value={integer.format(data.members)} />
                <Figure title="Points outstanding" value={integer.format(data.pointsOutstanding)} />
              </InlineGrid>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

/** One card of the home page: a heading and its figure. */
function Figure({
  title,
  value,
  variant = 'headingLg',
}: {
  title: string;
  value: string;
  variant?: 'headingLg' | 'bodyLg';
}) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">
          {title}
        </Text>
        <Text as="p" variant={variant}>
          {value}
        </Text>
      </BlockStack>
    </Card>
  );
}
