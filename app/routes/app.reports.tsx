// /app/reports: points each customer earned from purchases per month of a date range (default the
// last three full months in the shop's timezone) with customer and month totals, sortable, 50
// customers a page, and the same report as a CSV download (docs/reports.md). Read-only.
import { useState } from 'react';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useLoaderData, useNavigate, useNavigation } from '@remix-run/react';
import { TitleBar, useAppBridge } from '@shopify/app-bridge-react';
import {
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  DataTable,
  InlineStack,
  Layout,
  Link,
  Page,
  Pagination,
  Spinner,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminErrorBoundary } from '../admin-error-boundary';
import { adminShop } from '../admin-request.server';
import { parseReportQuery, reportView, type ReportForm } from '../admin-report.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  const parsed = parseReportQuery(new URL(request.url).searchParams, shop.timezone, new Date());
  if (!parsed.ok) {
    return { form: parsed.form, errors: parsed.errors, report: null, timezone: shop.timezone };
  }
  return {
    form: parsed.form,
    errors: {},
    report: await reportView(db, shop, parsed.query, locale),
    timezone: shop.timezone,
  };
};

type Direction = 'ascending' | 'descending';

function search(form: ReportForm, change: Partial<ReportForm>): string {
  const next = { ...form, ...change };
  const params = new URLSearchParams({ from: next.from, to: next.to, sort: next.sort });
  if (next.dir) params.set('dir', next.dir);
  if (next.page !== '1') params.set('page', next.page);
  return `?${params.toString()}`;
}

/** Saves a fetched body as a file: the download carries the App Bridge session token, a link cannot. */
function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export default function Reports() {
  const { form, errors, report, timezone } = useLoaderData<typeof loader>();
  const navigate = useNavigate();
  const navigation = useNavigation();
  const shopify = useAppBridge();
  const [from, setFrom] = useState(form.from);
  const [to, setTo] = useState(form.to);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const loading = navigation.state !== 'idle';
  const fieldErrors = errors as { from?: string; to?: string };

  const exportCsv = async () => {
    if (!report) return;
    setExporting(true);
    setExportError(null);
    try {
      const token = await shopify.idToken();
      const params = new URLSearchParams({ from: report.from, to: report.to });
      const response = await fetch(`/app/reports/csv?${params.toString()}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { error?: string } | null;
        throw new Error(body?.error ?? `the server answered ${response.status}`);
      }
      saveBlob(await response.blob(), `laurel-report-${report.from}-${report.to}.csv`);
    } catch (error) {
      setExportError(`The CSV could not be downloaded: ${(error as Error).message}`);
    } finally {
      setExporting(false);
    }
  };

  const columns = report
    ? ['customer', ...report.months.map((m) => `month:${m.key}`), 'total']
    : [];
  const sortIndex = report ? columns.indexOf(report.sort) : 0;
  const onSort = (index: number, direction: Direction) => {
    const sort = columns[index]!;
    // A column clicked for the first time: customers A→Z, figures largest first.
    const dir =
      index === sortIndex
        ? direction === 'ascending'
          ? 'asc'
          : 'desc'
        : sort === 'customer'
          ? 'asc'
          : 'desc';
    navigate(search(form, { sort, dir, page: '1' }));
  };

  return (
    <Page
      title="Reports"
      subtitle={`Points earned from purchases, net of refunds and cancellations, per calendar month (${timezone})`}
      backAction={{ content: 'Loyalty', url: '/app' }}
      secondaryActions={[{ content: 'Liability', url: '/app/liability' }]}
      fullWidth
    >
      <TitleBar title="Reports" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <Form method="get" key={`${form.from}:${form.to}`}>
                <input type="hidden" name="sort" value={form.sort} />
                {form.dir && <input type="hidden" name="dir" value={form.dir} />}
                <InlineStack gap="400" blockAlign="end" wrap>
                  <Box minWidth="12rem">
                    <TextField
                      label="From"
                      name="from"
                      type="date"
                      value={from}
                      onChange={setFrom}
                      error={fieldErrors.from}
                      autoComplete="off"
                    />
                  </Box>
                  <Box minWidth="12rem">
                    <TextField
                      label="To"
                      name="to"
                      type="date"
                      value={to}
                      onChange={setTo}
                      error={fieldErrors.to}
                      autoComplete="off"
                    />
                  </Box>
                  <Button submit variant="primary" loading={loading}>
                    Show report
                  </Button>
                  <Button url="/app/reports">Last three months</Button>
                  <Button
                    onClick={exportCsv}
                    loading={exporting}
                    disabled={!report || report.customers === 0}
                  >
                    Export CSV
                  </Button>
                </InlineStack>
              </Form>
            </Card>
            {exportError && (
              <Banner tone="critical" onDismiss={() => setExportError(null)}>
                {exportError}
              </Banner>
            )}
            {!report ? (
              <Banner tone="critical" title="The report needs a valid date range">
                {Object.values(fieldErrors).join('. ')}
              </Banner>
            ) : (
              <Card padding="0">
                <Box padding="400">
                  <InlineStack align="space-between" blockAlign="center">
                    <Text as="h2" variant="headingMd">
                      {`${report.customersText} ${report.customers === 1 ? 'customer' : 'customers'} earned points from ${report.from} to ${report.to}`}
                    </Text>
                    {loading && <Spinner size="small" accessibilityLabel="Loading the report" />}
                  </InlineStack>
                </Box>
                {report.customers === 0 ? (
                  <Box padding="400">
                    <Text as="p" tone="subdued">
                      No purchase earned points in this range. Try a longer range, or check that
                      orders are reaching the app.
                    </Text>
                  </Box>
                ) : (
                  <div style={{ opacity: loading ? 0.5 : 1 }} aria-busy={loading}>
                    <DataTable
                      columnContentTypes={[
                        'text',
                        ...report.months.map(() => 'numeric' as const),
                        'numeric',
                      ]}
                      headings={['Customer', ...report.months.map((m) => m.label), 'Total']}
                      rows={report.rows.map((row) => [
                        <BlockStack key={row.customerId}>
                          <Link url={`/app/customers/${row.customerId}`} removeUnderline>
                            {row.name}
                          </Link>
                          <Text as="span" tone="subdued" variant="bodySm">
                            {row.detail}
                          </Text>
                        </BlockStack>,
                        ...row.monthly,
                        row.total,
                      ])}
                      totals={['', ...report.totals.monthly, report.totals.total]}
                      totalsName={{ singular: 'Total', plural: 'Total' }}
                      showTotalsInFooter
                      sortable={columns.map(() => true)}
                      initialSortColumnIndex={sortIndex}
                      defaultSortDirection={report.direction === 'asc' ? 'ascending' : 'descending'}
                      onSort={onSort}
                      stickyHeader
                      hasZebraStripingOnData
                    />
                  </div>
                )}
                <Box padding="400">
                  <InlineStack align="space-between" blockAlign="center">
                    <Text as="span" tone="subdued">
                      {`Page ${report.page} of ${report.pageCount}`}
                    </Text>
                    <Pagination
                      hasPrevious={report.page > 1}
                      onPrevious={() => navigate(search(form, { page: String(report.page - 1) }))}
                      hasNext={report.page < report.pageCount}
                      onNext={() => navigate(search(form, { page: String(report.page + 1) }))}
                    />
                  </InlineStack>
                </Box>
              </Card>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Reports',
  back: { content: 'Loyalty', url: '/app' },
});
