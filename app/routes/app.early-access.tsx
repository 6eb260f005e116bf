// /app/early-access: the shop's early-access windows — what each covers, its tier stages and
// everyone's time (shop-local), who may buy now, and where its mirror stands at Shopify — a form
// to create one and Archive per row. Saving checks the product or collection at Shopify; every
// problem is shown beside its field and nothing is saved (app/admin-early-access.server.ts).
// docs/admin.md, docs/early-access.md.
import { useEffect, useState } from 'react';
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
  ButtonGroup,
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
  archiveWindowFromAdmin,
  createWindowFromForm,
  earlyAccessPage,
  readWindowDraft,
  type WindowFieldErrors,
  type WindowFormValues,
} from '../admin-early-access.server';
import { AppError, ErrorCode } from '../errors';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const view = new URL(request.url).searchParams.get('view') === 'archived' ? 'archived' : 'active';
  return earlyAccessPage(db, shop, view);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const form = await request.formData();
  const intent = form.get('intent');
  if (intent === 'archive') {
    const windowId = parseId(form.get('windowId')?.toString(), 'windowId');
    try {
      return { intent: 'archive' as const, ...(await archiveWindowFromAdmin(db, shop, windowId)) };
    } catch (error) {
      throw refusal(error);
    }
  }
  if (intent !== 'create') {
    throw refusal(new AppError(ErrorCode.VALIDATION, 'intent must be create or archive'));
  }
  let values: WindowFormValues;
  try {
    values = readWindowDraft(form.get('window'));
  } catch (error) {
    throw refusal(error);
  }
  const outcome = await createWindowFromForm(db, shop, values);
  if (outcome.ok) return { intent: 'create' as const, ...outcome };
  return data({ intent: 'create' as const, ...outcome }, { status: outcome.status });
};

// Index table cells do not wrap; these sentences would push the table wider than the page.
const WRAP = { whiteSpace: 'normal', minWidth: '10rem', maxWidth: '16rem' } as const;

const TONES = {
  before: 'info',
  early: 'attention',
  open: 'success',
  ended: undefined,
  archived: undefined,
} as const;

export default function EarlyAccess() {
  const loaded = useLoaderData<typeof loader>();
  const done = useActionData<typeof action>();
  const navigation = useNavigation();
  const busyId = navigation.formData?.get('windowId');
  const created = done?.intent === 'create' && done.ok ? done : null;
  const archived = done?.intent === 'archive' ? done : null;
  return (
    <Page
      title="Early access"
      backAction={{ content: 'Loyalty', url: '/app' }}
      secondaryActions={[{ content: 'Tiers', url: '/app/tiers' }]}
      fullWidth
    >
      <TitleBar title="Early access" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {created && (
              <Banner tone="success" title={`Saved “${created.name}” for ${created.target}.`}>
                <p>{created.sync}</p>
              </Banner>
            )}
            {archived && (
              <Banner tone="success" title={`Archived “${archived.name}”: everyone may buy.`}>
                <p>{archived.sync}</p>
              </Banner>
            )}
            {loaded.validation?.lastError && (
              <Banner tone="critical" title="Checkout does not enforce early access yet">
                <p>{`Shopify refused the checkout validation: ${loaded.validation.lastError}. The storefront and the app proxy still apply the windows; the sync tries again.`}</p>
              </Banner>
            )}
            {loaded.validation?.installed && !loaded.validation.lastError && (
              <Text as="p" tone="subdued">
                {`Checkout enforcement: the validation is installed${loaded.validation.syncedAt ? `, its clock slots written ${loaded.validation.syncedAt}` : ''}.`}
              </Text>
            )}
            <ButtonGroup variant="segmented">
              <Button url="/app/early-access" pressed={loaded.view === 'active'}>
                {`Windows (${loaded.counts.active})`}
              </Button>
              <Button url="/app/early-access?view=archived" pressed={loaded.view === 'archived'}>
                {`Archived (${loaded.counts.archived})`}
              </Button>
            </ButtonGroup>
            <Card padding="0">
              {loaded.windows.length === 0 ? (
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    {loaded.view === 'active'
                      ? 'No early-access windows: create one below to let your top tiers buy first.'
                      : 'No archived windows.'}
                  </Text>
                </Box>
              ) : (
                <IndexTable
                  resourceName={{ singular: 'window', plural: 'windows' }}
                  itemCount={loaded.windows.length}
                  selectable={false}
                  headings={[
                    { title: 'Window' },
                    { title: 'Tiers first' },
                    { title: 'Everyone from' },
                    { title: 'Status' },
                    { title: 'Now' },
                    { title: 'On Shopify' },
                    { title: 'Actions', hidden: true },
                  ]}
                >
                  {loaded.windows.map((w, index) => (
                    <IndexTable.Row id={String(w.id)} key={w.id} position={index}>
                      <IndexTable.Cell>
                        <BlockStack gap="100">
                          <Text as="span" fontWeight="semibold">
                            {w.name}
                          </Text>
                          <Text as="span" tone="subdued">
                            {w.target}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <BlockStack gap="100">
                          {w.stages.map((s) => (
                            <Text as="span" key={s}>
                              {s}
                            </Text>
                          ))}
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>{w.everyone}</IndexTable.Cell>
                      <IndexTable.Cell>
                        <Badge tone={TONES[w.status]}>{w.statusLabel}</Badge>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <div style={WRAP}>
                          <Text as="span">{w.now}</Text>
                        </div>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <div style={WRAP}>
                          <Badge tone={w.sync.tone}>{w.sync.text}</Badge>
                        </div>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        {w.status !== 'archived' && (
                          <Form method="post">
                            <input type="hidden" name="intent" value="archive" />
                            <input type="hidden" name="windowId" value={w.id} />
                            <Button
                              submit
                              size="slim"
                              loading={busyId === String(w.id)}
                              accessibilityLabel={`Archive ${w.name}`}
                            >
                              Archive
                            </Button>
                          </Form>
                        )}
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
              )}
            </Card>
            {loaded.view === 'active' && <NewWindow loaded={loaded} />}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

/** App Bridge's resource picker, when the page runs inside Shopify's admin. */
type ResourcePicker = (options: {
  type: 'product' | 'collection';
  multiple?: boolean;
  action?: 'select';
}) => Promise<{ id: string; title?: string }[] | undefined>;

function NewWindow({ loaded }: { loaded: Loaded }) {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const [values, setValues] = useState<WindowFormValues>(loaded.form as WindowFormValues);
  const [errors, setErrors] = useState<WindowFieldErrors>({});
  const [picker, setPicker] = useState<ResourcePicker | null>(null);
  const [picked, setPicked] = useState<string | null>(null);

  // Shopify's admin provides the picker; the local dev admin does not, and the id is pasted.
  useEffect(() => {
    const shopify = (window as { shopify?: { resourcePicker?: ResourcePicker } }).shopify;
    if (typeof shopify?.resourcePicker === 'function') setPicker(() => shopify.resourcePicker!);
  }, []);
  useEffect(() => {
    if (result?.intent !== 'create') return;
    if (result.ok) {
      setValues(loaded.form as WindowFormValues);
      setErrors({});
      setPicked(null);
    } else {
      setErrors(result.errors);
    }
    // Only a new answer resets the form (to the loader's suggestion for the next window).
  }, [result]);

  const set =
    <K extends keyof WindowFormValues>(field: K) =>
    (value: WindowFormValues[K]) =>
      setValues((v) => ({ ...v, [field]: value }));
  const setStage = (index: number, change: Partial<WindowFormValues['stages'][number]>) =>
    setValues((v) => ({
      ...v,
      stages: v.stages.map((s, i) => (i === index ? { ...s, ...change } : s)),
    }));
  const pick = async () => {
    const selection = await picker?.({ type: values.targetType, action: 'select' });
    const first = selection?.[0];
    if (first) {
      setValues((v) => ({ ...v, targetId: first.id }));
      setPicked(first.title ?? null);
    }
  };

  const tierOptions = [
    { label: 'Choose a tier', value: '' },
    ...loaded.tiers.map((t) => ({ label: `${t.name} and above`, value: t.key })),
  ];
  const problems = Object.values(errors);
  const saving =
    navigation.state === 'submitting' && navigation.formData?.get('intent') === 'create';
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          New early-access window
        </Text>
        {loaded.tiers.length === 0 && (
          <Banner tone="warning" title="Define tiers first">
            <p>
              A stage lets a tier and every tier above it buy early: set up tiers on the Tiers page.
            </p>
          </Banner>
        )}
        <ProblemsBanner title="The window was not saved" problems={problems} />
        <FormLayout>
          <TextField
            label="Name"
            value={values.name}
            onChange={set('name')}
            error={errors.name}
            autoComplete="off"
            helpText="Shown to shoppers with the schedule, e.g. “Black Friday preview”"
          />
          <FormLayout.Group>
            <Select
              label="Applies to"
              options={[
                { label: 'A product', value: 'product' },
                { label: 'A collection (its products when saved)', value: 'collection' },
              ]}
              value={values.targetType}
              onChange={(v) => set('targetType')(v as WindowFormValues['targetType'])}
              error={errors.targetType}
            />
            <TextField
              label="Product or collection"
              value={values.targetId}
              onChange={(v) => {
                set('targetId')(v);
                setPicked(null);
              }}
              error={errors.targetId}
              autoComplete="off"
              helpText={picked ?? 'The id, gid://shopify/Product/123, or the product’s admin URL'}
              connectedRight={
                picker ? (
                  <Button onClick={() => void pick()}>
                    {values.targetType === 'product' ? 'Choose product' : 'Choose collection'}
                  </Button>
                ) : undefined
              }
            />
          </FormLayout.Group>
          {values.stages.map((stage, i) => (
            <div role="group" aria-label={`Stage ${i + 1}`} key={i}>
              <FormLayout.Group condensed>
                <Select
                  label="Tier"
                  options={tierOptions}
                  value={stage.tier}
                  onChange={(tier) => setStage(i, { tier })}
                  error={errors[`stages[${i}].tier`]}
                />
                <TextField
                  label="Opens at"
                  type="datetime-local"
                  value={stage.opensAt}
                  onChange={(opensAt) => setStage(i, { opensAt })}
                  error={errors[`stages[${i}].opensAt`]}
                  autoComplete="off"
                  helpText={`Shop time (${loaded.timezone})`}
                  connectedRight={
                    values.stages.length > 1 ? (
                      <Button
                        onClick={() =>
                          setValues((v) => ({
                            ...v,
                            stages: v.stages.filter((_, j) => j !== i),
                          }))
                        }
                        accessibilityLabel={`Remove stage ${i + 1}`}
                      >
                        Remove
                      </Button>
                    ) : undefined
                  }
                />
              </FormLayout.Group>
            </div>
          ))}
          {errors.stages && (
            <Text as="p" tone="critical">
              {errors.stages}
            </Text>
          )}
          <InlineStack>
            <Button
              onClick={() =>
                setValues((v) => ({
                  ...v,
                  stages: [
                    ...v.stages,
                    { tier: '', opensAt: v.stages[v.stages.length - 1]?.opensAt ?? '' },
                  ],
                }))
              }
              disabled={values.stages.length >= loaded.maxStages}
            >
              Add stage
            </Button>
          </InlineStack>
          <TextField
            label="Everyone from"
            type="datetime-local"
            value={values.everyoneAt}
            onChange={set('everyoneAt')}
            error={errors.everyoneAt}
            autoComplete="off"
            helpText={`Shop time (${loaded.timezone}): the end of early access`}
          />
        </FormLayout>
        <InlineStack align="end">
          <Button
            variant="primary"
            loading={saving}
            onClick={() =>
              submit({ intent: 'create', window: JSON.stringify(values) }, { method: 'post' })
            }
          >
            Create window
          </Button>
        </InlineStack>
      </BlockStack>
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Early access',
  back: { content: 'Loyalty', url: '/app' },
});
