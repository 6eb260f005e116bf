// /app/import: history import. The merchant uploads a Shopify orders export or a transactions CSV;
// the whole file is checked first (every bad row named by its line, nothing saved), then it is
// imported by a background job (workers/handlers/history-import.ts) whose progress lives in the
// database — the bar survives reloads and shows to every staff member — and the past imports list
// their counts and skipped rows with reasons. One import at a time. docs/import.md.
import { useCallback, useEffect, useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import {
  useActionData,
  useLoaderData,
  useNavigation,
  useRevalidator,
  useSubmit,
} from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Collapsible,
  DropZone,
  InlineStack,
  Layout,
  List,
  Page,
  ProgressBar,
  Text,
} from '@shopify/polaris';
import { adminShop } from '../admin-request.server';
import {
  importPage,
  skippedParam,
  uploadHistoryFile,
  type ImportView,
} from '../admin-import.server';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';
import { enqueueHistoryImport } from '../queues/web-enqueue.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  const skippedOf = skippedParam(new URL(request.url).searchParams.get('skipped'));
  return importPage(db, shop, locale, skippedOf);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop, staff } = await adminShop(request);
  // The server bounds the body (server/main.ts); a declared size over the limit is answered there.
  const form = await request.formData();
  const outcome = await uploadHistoryFile(db, shop, staff, form.get('file'), (id) =>
    enqueueHistoryImport(id),
  );
  return data(outcome, { status: outcome.ok ? 200 : outcome.status });
};

/** How often the page reloads its data while an import is queued or running. */
const POLL_MS = 1_500;

const STATUS: Record<
  ImportView['status'],
  { label: string; tone: 'info' | 'attention' | 'success' | 'critical' }
> = {
  queued: { label: 'Queued', tone: 'info' },
  running: { label: 'Running', tone: 'attention' },
  done: { label: 'Done', tone: 'success' },
  failed: { label: 'Failed', tone: 'critical' },
};

const PLAIN_EXAMPLE = `transaction_id,customer_id,date,amount
T1001,7010250023,2026-01-03,120.00
T1002,7010250024,2026-01-05T14:30:00-05:00,49.99`;

const SHOPIFY_EXAMPLE = `Name,Email,Financial Status,Paid at,Currency,Subtotal,…,Cancelled at,Refunded Amount,…,Id
#1001,alice@example.com,paid,2026-01-05 10:15:42 -0500,USD,120.00,…,,0.00,…,5001000001`;

function Example({ title, text }: { title: string; text: string }) {
  return (
    <BlockStack gap="100">
      <Text as="h3" variant="headingSm">
        {title}
      </Text>
      <Box background="bg-surface-secondary" padding="200" borderRadius="200">
        <pre style={{ margin: 0, whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12 }}>
          {text}
        </pre>
      </Box>
    </BlockStack>
  );
}

function Counts({ view }: { view: ImportView }) {
  const c = view.counts;
  const parts = [
    `${c.posted.toLocaleString('en-US')} ledger entries posted`,
    `${c.alreadyPresent.toLocaleString('en-US')} already there`,
    `${view.skippedCount.toLocaleString('en-US')} skipped`,
  ];
  if (view.kind === 'shopify') {
    parts.push(
      `${c.ordersRecorded.toLocaleString('en-US')} orders recorded`,
      `${c.ordersAttached.toLocaleString('en-US')} matched to accounts`,
      `${c.guestOrders.toLocaleString('en-US')} waiting as guest orders`,
    );
  }
  return (
    <Text as="p" tone="subdued">
      {parts.join(' · ')}
    </Text>
  );
}

function SkippedRows({ view }: { view: ImportView }) {
  const [open, setOpen] = useState(false);
  if (view.skippedCount === 0) return null;
  const id = `skipped-${view.id}`;
  return (
    <BlockStack gap="200">
      <InlineStack>
        <Button
          variant="plain"
          disclosure={open ? 'up' : 'down'}
          onClick={() => setOpen((o) => !o)}
          ariaExpanded={open}
          ariaControls={id}
        >
          {`${open ? 'Hide' : 'Show'} skipped rows (${view.skippedCount.toLocaleString('en-US')})`}
        </Button>
      </InlineStack>
      <Collapsible id={id} open={open}>
        <BlockStack gap="200">
          <SkippedList rows={view.skipped} />
          {view.skippedCount > view.skipped.length && (
            <InlineStack>
              <Button variant="plain" url={`/app/import?skipped=${view.id}`}>
                {`Show all ${Math.min(view.skippedCount, 1_000).toLocaleString('en-US')}${view.skippedCount > 1_000 ? ' kept' : ''}`}
              </Button>
            </InlineStack>
          )}
        </BlockStack>
      </Collapsible>
    </BlockStack>
  );
}

function SkippedList({ rows }: { rows: ImportView['skipped'] }) {
  return (
    <List type="bullet">
      {rows.map((row) => (
        <List.Item key={`${row.line}:${row.reason}`}>{`Line ${row.line}: ${row.reason}`}</List.Item>
      ))}
    </List>
  );
}

function ActiveImport({ view }: { view: ImportView }) {
  const waiting = view.status === 'queued';
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            {`Importing ${view.fileName}`}
          </Text>
          <Badge tone={STATUS[view.status].tone}>{STATUS[view.status].label}</Badge>
        </InlineStack>
        <ProgressBar progress={view.percent} tone="highlight" ariaLabelledBy="import-progress" />
        <Text as="p" id="import-progress">
          {`${view.progress} (${view.percent}%) · ${view.format}, ${view.size} · started by ${view.startedBy}, ${view.created}`}
        </Text>
        {waiting && !view.error && (
          <Text as="p" tone="subdued">
            Waiting for the import worker to pick it up.
          </Text>
        )}
        {view.error && (
          <Banner tone="warning" title="The import stopped and will go on">
            <p>{view.error}</p>
          </Banner>
        )}
        <Counts view={view} />
        <SkippedRows view={view} />
      </BlockStack>
    </Card>
  );
}

function PastImport({ view }: { view: ImportView }) {
  return (
    <BlockStack gap="200">
      <InlineStack align="space-between" blockAlign="center" gap="200">
        <InlineStack gap="200" blockAlign="center">
          <Text as="h3" variant="headingSm">
            {view.fileName}
          </Text>
          <Badge tone={STATUS[view.status].tone}>{STATUS[view.status].label}</Badge>
        </InlineStack>
        <Text as="span" tone="subdued">
          {`${view.format}, ${view.size}`}
        </Text>
      </InlineStack>
      <Text as="p" tone="subdued">
        {`${view.startedBy} · uploaded ${view.created}${view.finished ? ` · finished ${view.finished}` : ''} · ${view.progress}`}
      </Text>
      {view.error && <Banner tone="critical" title={view.error} />}
      <Counts view={view} />
      <SkippedRows view={view} />
    </BlockStack>
  );
}

export default function HistoryImport() {
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const revalidator = useRevalidator();
  const [file, setFile] = useState<File | null>(null);
  const [clientProblem, setClientProblem] = useState<string | null>(null);
  const uploading = navigation.state === 'submitting';
  const active = page.active;

  // The progress is in the database: reload it while the import is queued or running.
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (revalidator.state === 'idle') revalidator.revalidate();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [active, revalidator]);

  useEffect(() => {
    if (result?.ok) setFile(null);
  }, [result]);

  const onDrop = useCallback(
    (_all: File[], accepted: File[], rejected: File[]) => {
      const chosen = accepted[0] ?? rejected[0] ?? null;
      setFile(null);
      if (!chosen) return;
      if (chosen.size > page.maxBytes) {
        setClientProblem(
          `${chosen.name} is ${(chosen.size / 1024 / 1024).toFixed(1)} MB: the limit is 20 MB. Split it into smaller files.`,
        );
        return;
      }
      setClientProblem(null);
      setFile(chosen);
    },
    [page.maxBytes],
  );

  const upload = () => {
    if (!file) return;
    const form = new FormData();
    form.set('file', file, file.name);
    submit(form, { method: 'post', encType: 'multipart/form-data' });
  };

  const refusal = result && !result.ok ? result : null;
  const canUpload = page.hasProgram && !active;
  return (
    <Page title="Import history" backAction={{ content: 'Loyalty', url: '/app' }}>
      <TitleBar title="Import history" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {refusal &&
              (refusal.problems.length > 0 ? (
                <ProblemsBanner title={refusal.title} problems={refusal.problems} />
              ) : (
                <Banner tone="critical" title={refusal.title} />
              ))}
            {result?.ok && !uploading && (
              <Banner
                tone="success"
                title={`The file passed every check: ${result.rows.toLocaleString('en-US')} rows (${result.format}) queued for import.`}
              >
                {!result.enqueued && (
                  <p>The worker could not be reached just now; it picks the import up shortly.</p>
                )}
              </Banner>
            )}
            {active && <ActiveImport view={active} />}
            {page.detail && (
              <Card>
                <BlockStack gap="300">
                  <InlineStack align="space-between" blockAlign="center">
                    <Text as="h2" variant="headingMd">
                      {`Skipped rows of ${page.detail.fileName}`}
                    </Text>
                    <Button url="/app/import">Close</Button>
                  </InlineStack>
                  <Text as="p" tone="subdued">
                    {page.detail.skippedCount > page.detail.skipped.length
                      ? `The first ${page.detail.skipped.length.toLocaleString('en-US')} of ${page.detail.skippedCount.toLocaleString('en-US')} (the first 1,000 are kept).`
                      : `All ${page.detail.skippedCount.toLocaleString('en-US')}.`}
                  </Text>
                  <SkippedList rows={page.detail.skipped} />
                </BlockStack>
              </Card>
            )}
            <Card>
              <BlockStack gap="400">
                <Text as="h2" variant="headingMd">
                  Upload a file
                </Text>
                <Text as="p">
                  Bring in purchases made before Laurel: members earn their points under the program
                  in force on each purchase's date, and their tiers move as they would have. The
                  whole file is checked first: if any row is wrong, nothing is imported and every
                  problem is listed by line. Importing a file again — or an order also paid by
                  webhook — never awards twice.
                </Text>
                {!page.hasProgram && (
                  <Banner
                    tone="warning"
                    title="Publish an earning program before importing history."
                  />
                )}
                {active && (
                  <Text as="p" tone="subdued">
                    One import at a time: you can upload the next file once this one has finished.
                  </Text>
                )}
                {clientProblem && <Banner tone="critical" title={clientProblem} />}
                <DropZone
                  label="CSV file (up to 20 MB)"
                  accept=".csv,text/csv"
                  type="file"
                  allowMultiple={false}
                  disabled={!canUpload || uploading}
                  onDrop={onDrop}
                >
                  {file ? (
                    <Box padding="400">
                      <BlockStack gap="100" inlineAlign="center">
                        <Text as="p" fontWeight="semibold">
                          {file.name}
                        </Text>
                        <Text as="p" tone="subdued">
                          {`${(file.size / 1024).toFixed(1)} KB`}
                        </Text>
                      </BlockStack>
                    </Box>
                  ) : (
                    <DropZone.FileUpload actionTitle="Choose a file" actionHint="or drop a .csv" />
                  )}
                </DropZone>
                <InlineStack gap="200">
                  <Button
                    variant="primary"
                    onClick={upload}
                    disabled={!file || !canUpload}
                    loading={uploading}
                  >
                    Check and import
                  </Button>
                </InlineStack>
                <Text as="h2" variant="headingMd">
                  Accepted formats (recognised by their header)
                </Text>
                <Example
                  title="Shopify orders export (Orders → Export, CSV for Excel, numbers, or other spreadsheet programs)"
                  text={SHOPIFY_EXAMPLE}
                />
                <Text as="p" tone="subdued">
                  Each order is recorded and settled as the orders/paid webhook would, under the
                  same key, and goes to the verified account with its email; without one it waits as
                  a guest order. The Id column is required.
                </Text>
                <Example
                  title="Transactions CSV: customer_id (the Shopify customer id), date, amount, and optionally transaction_id"
                  text={PLAIN_EXAMPLE}
                />
              </BlockStack>
            </Card>
            <Card>
              <BlockStack gap="400">
                <Text as="h2" variant="headingMd">
                  Past imports
                </Text>
                {page.imports.length === 0 ? (
                  <Text as="p" tone="subdued">
                    No imports yet. Each file you import is listed here with what it posted and
                    every row it skipped, with the reason.
                  </Text>
                ) : (
                  page.imports.map((view) => <PastImport key={view.id} view={view} />)
                )}
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Import history',
  back: { content: 'Import history', url: '/app/import' },
});
