// /app/campaigns: the shop's campaigns — upcoming, active and ended, what each gives on what and
// when (shop-local), a month calendar of their days, a form to create one or edit one that has not
// started (every problem beside its field, nothing saved), and End now
// (app/admin-campaigns.server.ts). docs/campaigns.md, docs/admin.md.
import { useEffect, useRef, useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import { Form, useActionData, useLoaderData, useNavigation, useSubmit } from '@remix-run/react';
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
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminShop, parseId, refusal } from '../admin-request.server';
import {
  campaignsPage,
  endCampaignFromAdmin,
  readCampaignDraft,
  saveCampaignFromForm,
  type CampaignFieldErrors,
  type CampaignFormValues,
} from '../admin-campaigns.server';
import { AppError, ErrorCode } from '../errors';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  return campaignsPage(db, shop, { month: new URL(request.url).searchParams.get('month') });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop, staff } = await adminShop(request);
  const form = await request.formData();
  const intent = form.get('intent');
  if (intent === 'end') {
    const campaignId = parseId(form.get('campaignId')?.toString(), 'campaignId');
    try {
      return { intent: 'end' as const, ...(await endCampaignFromAdmin(db, shop, campaignId)) };
    } catch (error) {
      throw refusal(error);
    }
  }
  if (intent !== 'create' && intent !== 'update') {
    throw refusal(new AppError(ErrorCode.VALIDATION, 'intent must be create, update or end'));
  }
  const campaignId =
    intent === 'update' ? parseId(form.get('campaignId')?.toString(), 'campaignId') : undefined;
  let values: CampaignFormValues;
  try {
    values = readCampaignDraft(form.get('campaign'));
  } catch (error) {
    throw refusal(error);
  }
  const outcome = await saveCampaignFromForm(db, shop, values, {
    ...(campaignId !== undefined ? { campaignId } : {}),
    staff: staff.userId,
  });
  const saved = intent as 'create' | 'update';
  if (outcome.ok) return { intent: saved, ...outcome };
  return data({ intent: saved, ...outcome }, { status: outcome.status });
};

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;
type Row = Loaded['active'][number];

const TONES = { upcoming: 'info', active: 'success', ended: undefined } as const;
const WRAP = { whiteSpace: 'normal', minWidth: '10rem', maxWidth: '18rem' } as const;

export default function Campaigns() {
  const loaded = useLoaderData<typeof loader>();
  const done = useActionData<typeof action>();
  const [editing, setEditing] = useState<Row | null>(null);
  const saved = done && done.intent !== 'end' && done.ok ? done : null;
  const ended = done?.intent === 'end' ? done : null;
  useEffect(() => {
    if (saved) setEditing(null);
  }, [saved]);
  return (
    <Page title="Campaigns" backAction={{ content: 'Loyalty', url: '/app' }} fullWidth>
      <TitleBar title="Campaigns" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {saved && (
              <Banner tone="success" title={`Saved “${saved.name}”.`}>
                <p>The storefront blocks show it while it runs, within a minute of saving.</p>
              </Banner>
            )}
            {ended && <Banner tone="success" title={`Ended “${ended.name}”.`} />}
            <Text as="p" tone="subdued">
              {`Times are the shop’s (${loaded.timezone}). An order earns a campaign when it is placed at or after the start and before the end.`}
            </Text>
            <CampaignTable title="Active" rows={loaded.active} onEdit={setEditing} />
            <CampaignTable title="Upcoming" rows={loaded.upcoming} onEdit={setEditing} />
            <CampaignTable title="Ended" rows={loaded.ended} onEdit={setEditing} />
            <Calendar calendar={loaded.calendar} />
            <CampaignForm
              key={editing?.id ?? 'new'}
              loaded={loaded}
              editing={editing}
              onCancel={() => setEditing(null)}
            />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function CampaignTable({
  title,
  rows,
  onEdit,
}: {
  title: string;
  rows: Row[];
  onEdit: (row: Row) => void;
}) {
  const navigation = useNavigation();
  const busyId = navigation.formData?.get('campaignId');
  return (
    <Card padding="0">
      <Box padding="400">
        <Text as="h2" variant="headingMd">
          {`${title} (${rows.length})`}
        </Text>
      </Box>
      {rows.length === 0 ? (
        <Box padding="400" paddingBlockStart="0">
          <Text as="p" tone="subdued">
            {`No ${title.toLowerCase()} campaigns.`}
          </Text>
        </Box>
      ) : (
        <IndexTable
          resourceName={{ singular: 'campaign', plural: 'campaigns' }}
          itemCount={rows.length}
          selectable={false}
          headings={[
            { title: 'Campaign' },
            { title: 'Gives' },
            { title: 'On' },
            { title: 'When' },
            { title: 'Status' },
            { title: 'Actions', hidden: true },
          ]}
        >
          {rows.map((c, index) => (
            <IndexTable.Row id={String(c.id)} key={c.id} position={index}>
              <IndexTable.Cell>
                <Text as="span" fontWeight="semibold">
                  {c.name}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <BlockStack gap="100">
                  <Text as="span">{c.gives}</Text>
                  <Text as="span" tone="subdued">
                    {c.stacking}
                  </Text>
                </BlockStack>
              </IndexTable.Cell>
              <IndexTable.Cell>{c.on}</IndexTable.Cell>
              <IndexTable.Cell>
                <div style={WRAP}>
                  <Text as="span">{c.window}</Text>
                </div>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Badge tone={TONES[c.status]}>{c.statusLabel}</Badge>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <InlineStack gap="200" wrap={false}>
                  {c.editable && (
                    <Button
                      size="slim"
                      onClick={() => onEdit(c)}
                      accessibilityLabel={`Edit ${c.name}`}
                    >
                      Edit
                    </Button>
                  )}
                  {c.endable && (
                    <Form method="post">
                      <input type="hidden" name="intent" value="end" />
                      <input type="hidden" name="campaignId" value={c.id} />
                      <Button
                        submit
                        size="slim"
                        tone="critical"
                        loading={busyId === String(c.id)}
                        accessibilityLabel={`End ${c.name} now`}
                      >
                        End now
                      </Button>
                    </Form>
                  )}
                </InlineStack>
              </IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
      )}
    </Card>
  );
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A plain month grid: a table with a caption, day headers, and each day's campaigns listed. */
function Calendar({ calendar }: { calendar: Loaded['calendar'] }) {
  const cell = {
    border: '1px solid var(--p-color-border)',
    verticalAlign: 'top',
    padding: '0.25rem',
    width: '14.28%',
    height: '4.5rem',
  } as const;
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Calendar
          </Text>
          <InlineStack gap="200">
            <Button
              url={`/app/campaigns?month=${calendar.previous}`}
              accessibilityLabel="Previous month"
            >
              ‹
            </Button>
            <Button url={`/app/campaigns?month=${calendar.next}`} accessibilityLabel="Next month">
              ›
            </Button>
          </InlineStack>
        </InlineStack>
        <table
          data-campaign-calendar
          style={{ borderCollapse: 'collapse', width: '100%', tableLayout: 'fixed' }}
        >
          <caption style={{ textAlign: 'left', fontWeight: 600, paddingBottom: '0.5rem' }}>
            {calendar.title}
          </caption>
          <thead>
            <tr>
              {WEEKDAYS.map((d) => (
                <th key={d} scope="col" style={{ textAlign: 'left', padding: '0.25rem' }}>
                  {d}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {calendar.weeks.map((week) => (
              <tr key={week[0]!.date}>
                {week.map((day) => (
                  <td
                    key={day.date}
                    data-date={day.date}
                    aria-label={`${day.date}${day.campaigns.length ? `: ${day.campaigns.map((c) => c.name).join(', ')}` : ''}`}
                    style={{
                      ...cell,
                      opacity: day.inMonth ? 1 : 0.45,
                      background: day.today ? 'var(--p-color-bg-surface-secondary)' : undefined,
                    }}
                  >
                    <Text as="span" fontWeight={day.today ? 'bold' : 'regular'}>
                      {String(day.day)}
                    </Text>
                    {day.campaigns.map((c) => (
                      <div
                        key={c.id}
                        style={{
                          fontSize: '0.75rem',
                          borderRadius: '0.25rem',
                          padding: '0 0.25rem',
                          marginTop: '0.125rem',
                          background:
                            c.status === 'active'
                              ? 'var(--p-color-bg-fill-success-secondary)'
                              : c.status === 'upcoming'
                                ? 'var(--p-color-bg-fill-info-secondary)'
                                : 'var(--p-color-bg-fill-secondary)',
                          overflow: 'hidden',
                          textOverflow: 'ellipsis',
                          whiteSpace: 'nowrap',
                        }}
                      >
                        {c.name}
                      </div>
                    ))}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </BlockStack>
    </Card>
  );
}

function CampaignForm({
  loaded,
  editing,
  onCancel,
}: {
  loaded: Loaded;
  editing: Row | null;
  onCancel: () => void;
}) {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const initial = (editing?.values ?? loaded.form) as CampaignFormValues;
  const [values, setValues] = useState<CampaignFormValues>(initial);
  const [errors, setErrors] = useState<CampaignFieldErrors>({});
  // Only an answer that came after this form was opened resets it (Edit remounts it).
  const seen = useRef(result);
  useEffect(() => {
    if (!result || result === seen.current || result.intent === 'end') return;
    seen.current = result;
    if (result.ok) {
      setValues(loaded.form as CampaignFormValues);
      setErrors({});
    } else {
      setErrors(result.errors);
    }
  }, [result]);
  const set =
    <K extends keyof CampaignFormValues>(field: K) =>
    (value: CampaignFormValues[K]) =>
      setValues((v) => ({ ...v, [field]: value }));
  const saving = navigation.state === 'submitting' && navigation.formData?.get('intent') !== 'end';
  const save = () =>
    submit(
      {
        intent: editing ? 'update' : 'create',
        ...(editing ? { campaignId: String(editing.id) } : {}),
        campaign: JSON.stringify(values),
      },
      { method: 'post' },
    );
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          {editing ? `Edit “${editing.name}”` : 'New campaign'}
        </Text>
        <ProblemsBanner title="The campaign was not saved" problems={Object.values(errors)} />
        <FormLayout>
          <TextField
            label="Name"
            value={values.name}
            onChange={set('name')}
            error={errors.name}
            autoComplete="off"
            helpText="Shown to shoppers and on their points history, e.g. “Double points weekend”"
          />
          <FormLayout.Group>
            <Select
              label="Kind"
              options={[
                { label: 'Points multiplier', value: 'multiplier' },
                { label: 'Fixed bonus per order', value: 'bonus' },
              ]}
              value={values.kind}
              onChange={(v) => set('kind')(v as CampaignFormValues['kind'])}
              error={errors.kind}
            />
            {values.kind === 'multiplier' ? (
              <TextField
                label="Multiplier"
                value={values.multiplier}
                onChange={set('multiplier')}
                error={errors.multiplier}
                autoComplete="off"
                helpText="More than 1, at most 10: “2” doubles the points"
              />
            ) : (
              <TextField
                label="Bonus points"
                value={values.bonusPoints}
                onChange={set('bonusPoints')}
                error={errors.bonusPoints}
                autoComplete="off"
                inputMode="numeric"
              />
            )}
          </FormLayout.Group>
          {values.kind === 'bonus' && (
            <TextField
              label="Minimum order"
              value={values.minimumAmount}
              onChange={set('minimumAmount')}
              error={errors.minimumAmount}
              autoComplete="off"
              prefix={loaded.currency}
              helpText="Of the products it applies to; empty for none"
            />
          )}
          <FormLayout.Group>
            <Select
              label="Applies to"
              options={[
                { label: 'All products', value: 'all' },
                { label: 'Some products', value: 'products' },
                { label: 'Some collections', value: 'collections' },
              ]}
              value={values.scope}
              onChange={(v) => set('scope')(v as CampaignFormValues['scope'])}
              error={errors.scope}
            />
            {values.kind === 'multiplier' && (
              <Select
                label="With tier multipliers"
                options={[
                  { label: 'Multiply (Gold ×1.5 with ×2 = ×3)', value: 'multiply' },
                  { label: 'Take the better one', value: 'best' },
                ]}
                value={values.stacking}
                onChange={(v) => set('stacking')(v as CampaignFormValues['stacking'])}
                error={errors.stacking}
              />
            )}
          </FormLayout.Group>
          {values.scope !== 'all' && (
            <TextField
              label="Products or collections"
              value={values.targetIds}
              onChange={set('targetIds')}
              error={errors.targetIds}
              autoComplete="off"
              multiline={3}
              helpText="Ids or admin URLs, one per line; a collection counts the products it holds when saved"
            />
          )}
          <FormLayout.Group>
            <TextField
              label="Starts"
              type="datetime-local"
              value={values.startsAt}
              onChange={set('startsAt')}
              error={errors.startsAt}
              autoComplete="off"
            />
            <TextField
              label="Ends"
              type="datetime-local"
              value={values.endsAt}
              onChange={set('endsAt')}
              error={errors.endsAt}
              autoComplete="off"
              helpText="Orders placed at this time no longer earn it"
            />
          </FormLayout.Group>
        </FormLayout>
        <InlineStack gap="200">
          <Button variant="primary" onClick={save} loading={saving}>
            {editing ? 'Save changes' : 'Create campaign'}
          </Button>
          {editing && <Button onClick={onCancel}>Cancel</Button>}
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Campaigns',
  back: { content: 'Loyalty', url: '/app' },
});
