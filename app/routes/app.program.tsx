// /app/program: the earn program editor — bands with a live preview computed in the browser by
// the same earn maths as the ledger, earn base, POS and test orders, signup bonus — the what-if
// simulator (the draft replayed over the shop's own orders, side by side with the program as it
// was), Save (a new version, now or at a future shop-local time) and every version with what
// changed. The rules validate; their issues sit beside their fields (app/admin-program-form.ts).
// docs/program-editor.md.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import { useActionData, useLoaderData, useNavigation, useSubmit } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  ChoiceList,
  DataTable,
  FormLayout,
  InlineStack,
  Layout,
  List,
  Page,
  Select,
  Spinner,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminShop, refusal } from '../admin-request.server';
import {
  enqueueProgramSync,
  programPage,
  readProgramDraft,
  saveProgramForm,
  simulateProgramForm,
  type SimulationView,
} from '../admin-program.server';
import {
  compileDraft,
  EARN_ON_LABELS,
  earnPreview,
  type BandRowValues,
  type ProgramFieldErrors,
  type ProgramFormValues,
} from '../admin-program-form';
import { AppError, ErrorCode } from '../errors';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  return programPage(db, shop, locale);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop, locale } = await adminShop(request);
  const form = await request.formData();
  const intent = form.get('intent');
  if (intent !== 'simulate' && intent !== 'save') {
    throw refusal(new AppError(ErrorCode.VALIDATION, 'intent must be simulate or save'));
  }
  let values: ProgramFormValues;
  try {
    values = readProgramDraft(form.get('draft'));
  } catch (error) {
    throw refusal(error);
  }
  if (intent === 'simulate') {
    const outcome = await simulateProgramForm(db, shop, values, form.get('months'), locale);
    return data({ intent: 'simulate' as const, ...outcome }, { status: outcome.ok ? 200 : 400 });
  }
  const outcome = await saveProgramForm(db, shop, values, enqueueProgramSync, locale);
  return data({ intent: 'save' as const, ...outcome }, { status: outcome.ok ? 200 : 400 });
};

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

const EMPTY_BAND: BandRowValues = { over: '', upTo: '', pointsPerUnit: '1' };

export default function Program() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const saved = result?.intent === 'save' && result.ok ? result : null;
  return (
    <Page
      title="Program"
      backAction={{ content: 'Loyalty', url: '/app' }}
      titleMetadata={
        loaded.inForce ? (
          <Badge tone="success">{`Version ${loaded.inForce} in force`}</Badge>
        ) : undefined
      }
      fullWidth
    >
      <TitleBar title="Program" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {saved && (
              <Banner
                tone="success"
                title={
                  saved.version === null
                    ? 'Saved: the program is unchanged, no new version.'
                    : saved.scheduled
                      ? `Version ${saved.version} is scheduled from ${saved.effectiveFrom}.`
                      : `Version ${saved.version} is in force from ${saved.effectiveFrom}.`
                }
              >
                <p>{`Changed: ${saved.changes.join('; ')}.`}</p>
                {saved.sync && <p>{saved.sync}</p>}
              </Banner>
            )}
            {!loaded.hasProgram && (
              <Banner tone="info" title="No program yet">
                <p>
                  Customers earn nothing until a program is published. The editor starts from 1
                  point per whole unit from 50 to 100 and 2 above; change it and publish.
                </p>
              </Banner>
            )}
            <Editor
              // A new version starts the editor again from it.
              key={loaded.latestVersion}
              loaded={loaded}
            />
            <History loaded={loaded} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function History({ loaded }: { loaded: Loaded }) {
  if (loaded.history.length === 0) {
    return (
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            Versions
          </Text>
          <Text as="p" tone="subdued">
            No version yet: the first one appears here once published.
          </Text>
        </BlockStack>
      </Card>
    );
  }
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Versions
        </Text>
        <DataTable
          columnContentTypes={['text', 'text', 'text', 'text']}
          headings={['Version', `Effective from (${loaded.timezone})`, 'Status', 'What changed']}
          rows={loaded.history.map((v) => [
            String(v.version),
            v.effectiveFrom,
            v.status,
            v.changes.length === 0 ? 'nothing (same rules)' : v.changes.join('; '),
          ])}
          verticalAlign="top"
        />
      </BlockStack>
    </Card>
  );
}

function Editor({ loaded }: { loaded: Loaded }) {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const [values, setValues] = useState<ProgramFormValues>(loaded.values);
  const [errors, setErrors] = useState<ProgramFieldErrors>({});
  const [months, setMonths] = useState(String(loaded.months.default));
  const [amount, setAmount] = useState('120.00');
  const [simulated, setSimulated] = useState<{ draft: string; view: SimulationView } | null>(null);
  const draft = JSON.stringify(values);
  // The draft a simulation was asked for: its result is stale once the draft differs.
  const simulatedDraft = useRef<string | null>(null);

  useEffect(() => {
    if (!result) return;
    if (!result.ok) {
      setErrors(result.errors);
      if (result.intent === 'simulate') setSimulated(null);
    } else if (result.intent === 'simulate') {
      setErrors({});
      setSimulated({ draft: simulatedDraft.current ?? '', view: result.simulation });
    }
  }, [result]);

  const busy = navigation.state === 'submitting' ? navigation.formData?.get('intent') : null;
  const send = (intent: 'simulate' | 'save') => {
    if (intent === 'simulate') simulatedDraft.current = draft;
    submit({ intent, draft, months }, { method: 'post' });
  };

  const compiled = useMemo(() => compileDraft(values, loaded.currency), [values, loaded.currency]);
  const preview = compiled ? earnPreview(compiled, amount) : null;

  const set =
    <K extends keyof ProgramFormValues>(field: K) =>
    (value: ProgramFormValues[K]) =>
      setValues((v) => ({ ...v, [field]: value }));
  const setBand = (index: number, change: Partial<BandRowValues>) =>
    setValues((v) => ({
      ...v,
      bands: v.bands.map((row, i) => (i === index ? { ...row, ...change } : row)),
    }));
  // Adding or removing rows moves the fields the errors were said of: they go until the next check.
  const setBands = (bands: BandRowValues[]) => {
    setErrors({});
    setValues((v) => ({ ...v, bands }));
  };

  const problems = Object.values(errors);
  const simulation = simulated?.view ?? null;
  const stale = simulated !== null && simulated.draft !== draft;
  return (
    <BlockStack gap="400">
      <ProblemsBanner title="Nothing was saved: fix these and try again" problems={problems} />
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Earning
          </Text>
          <FormLayout>
            <FormLayout.Group>
              <TextField
                label="Program name"
                value={values.name}
                onChange={set('name')}
                error={errors.name}
                autoComplete="off"
              />
              <TextField
                label="Earn unit"
                value={values.unit}
                onChange={set('unit')}
                error={errors.unit}
                prefix={loaded.currency}
                inputMode="decimal"
                autoComplete="off"
                helpText="Points are earned per whole unit of spend inside a band"
              />
              <Select
                label="Earn on"
                options={Object.entries(EARN_ON_LABELS).map(([value, label]) => ({
                  value,
                  label,
                }))}
                value={values.earnOn}
                onChange={(v) => set('earnOn')(v as ProgramFormValues['earnOn'])}
                error={errors.earnOn}
              />
            </FormLayout.Group>
          </FormLayout>
          {errors.bands && <Banner tone="critical" title={errors.bands} />}
          {values.bands.map((band, i) => {
            const at = `bands[${i}]`;
            const last = i === values.bands.length - 1;
            return (
              <div
                key={i}
                role="group"
                aria-label={`Band ${i + 1}`}
                // Columns line up from band to band whatever the errors under a field.
                style={{
                  display: 'grid',
                  gridTemplateColumns: '4.5rem 1fr 1fr 1fr auto',
                  gap: '0.75rem',
                  alignItems: 'start',
                }}
              >
                <div style={{ paddingTop: '1.75rem' }}>
                  <Text as="h3" variant="headingSm">
                    {`Band ${i + 1}`}
                  </Text>
                </div>
                <TextField
                  label="Over"
                  value={band.over}
                  onChange={(over) => setBand(i, { over })}
                  error={errors[`${at}.over`]}
                  prefix={loaded.currency}
                  inputMode="decimal"
                  autoComplete="off"
                />
                <TextField
                  label="Up to"
                  value={band.upTo}
                  onChange={(upTo) => setBand(i, { upTo })}
                  error={errors[`${at}.upTo`]}
                  prefix={loaded.currency}
                  inputMode="decimal"
                  autoComplete="off"
                  placeholder={last ? 'No ceiling' : ''}
                />
                <TextField
                  label="Points per unit"
                  value={band.pointsPerUnit}
                  onChange={(pointsPerUnit) => setBand(i, { pointsPerUnit })}
                  error={errors[`${at}.pointsPerUnit`]}
                  inputMode="numeric"
                  autoComplete="off"
                />
                <div style={{ paddingTop: '1.5rem' }}>
                  <Button
                    tone="critical"
                    disabled={values.bands.length === 1}
                    onClick={() => setBands(values.bands.filter((_, j) => j !== i))}
                    accessibilityLabel={`Remove band ${i + 1}`}
                  >
                    Remove
                  </Button>
                </div>
              </div>
            );
          })}
          <InlineStack>
            <Button
              onClick={() => {
                const lastBand = values.bands.at(-1);
                setBands([...values.bands, { ...EMPTY_BAND, over: lastBand?.upTo ?? '' }]);
              }}
              disabled={values.bands.length >= 20}
            >
              Add band
            </Button>
          </InlineStack>
          <FormLayout>
            <FormLayout.Group>
              <TextField
                label="Signup bonus"
                value={values.signupBonus}
                onChange={set('signupBonus')}
                error={errors.signupBonus}
                suffix="points"
                inputMode="numeric"
                autoComplete="off"
                helpText="Given once when a customer joins"
              />
              <BlockStack gap="200">
                <Checkbox
                  label="POS orders earn points"
                  checked={values.posOrdersEarn}
                  onChange={set('posOrdersEarn')}
                  error={errors.posOrders}
                  helpText="Orders taken at Shopify POS; an order is judged by the version in force when it was placed"
                />
                <Checkbox
                  label="Test orders earn points"
                  checked={values.testOrdersEarn}
                  onChange={set('testOrdersEarn')}
                  helpText="A shop setting (not versioned): applies to orders settled from now on"
                />
              </BlockStack>
            </FormLayout.Group>
          </FormLayout>
        </BlockStack>
      </Card>

      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Live preview
          </Text>
          <FormLayout>
            <FormLayout.Group condensed>
              <TextField
                label={`Order amount (${EARN_ON_LABELS[values.earnOn].toLowerCase()})`}
                value={amount}
                onChange={setAmount}
                prefix={loaded.currency}
                inputMode="decimal"
                autoComplete="off"
                error={preview && 'error' in preview ? preview.error : undefined}
              />
            </FormLayout.Group>
          </FormLayout>
          <div aria-live="polite" data-testid="earn-preview">
            {!compiled ? (
              <Text as="p" tone="subdued">
                The draft has problems: fix them to see what an order earns.
              </Text>
            ) : preview && 'sentence' in preview ? (
              <BlockStack gap="100">
                <Text as="p" variant="headingSm">
                  {preview.sentence}
                </Text>
                {preview.bands.length > 0 && (
                  <List>
                    {preview.bands.map((line) => (
                      <List.Item key={line}>{line}</List.Item>
                    ))}
                  </List>
                )}
              </BlockStack>
            ) : null}
          </div>
        </BlockStack>
      </Card>

      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            What if: simulate the draft on your own orders
          </Text>
          <Text as="p" tone="subdued">
            Replays your stored orders and refunds of the last months (this one and the ones before,
            in your time zone) under the draft and under your program as it was, and compares the
            points issued (net of refunds), members affected and the cost. Nothing is saved.
          </Text>
          <InlineStack gap="300" blockAlign="end">
            <div style={{ width: '10rem' }}>
              <TextField
                label="Months"
                type="number"
                min={loaded.months.min}
                max={loaded.months.max}
                value={months}
                onChange={setMonths}
                error={errors.months}
                autoComplete="off"
              />
            </div>
            <Button onClick={() => send('simulate')} loading={busy === 'simulate'}>
              Simulate
            </Button>
          </InlineStack>
          {busy === 'simulate' && (
            <InlineStack gap="200" blockAlign="center">
              <Spinner size="small" accessibilityLabel="Simulating" />
              <Text as="span" tone="subdued">
                Replaying your orders…
              </Text>
            </InlineStack>
          )}
          {simulation && <SimulationTable simulation={simulation} stale={stale} />}
        </BlockStack>
      </Card>

      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Publish
          </Text>
          <ChoiceList
            title="Effective"
            choices={[
              { label: 'Now', value: 'now' },
              { label: `From a date and time (${loaded.timezone})`, value: 'scheduled' },
            ]}
            selected={[values.effective]}
            onChange={([choice]) => set('effective')(choice === 'scheduled' ? 'scheduled' : 'now')}
          />
          {values.effective === 'scheduled' && (
            <div style={{ maxWidth: '18rem' }}>
              <TextField
                label="Effective from"
                type="datetime-local"
                value={values.effectiveAt}
                onChange={set('effectiveAt')}
                error={errors.effectiveAt}
                autoComplete="off"
                helpText={`Shop time zone: ${loaded.timezone}`}
              />
            </div>
          )}
          {values.effective === 'now' && errors.effectiveAt && (
            <Text as="p" tone="critical">
              {errors.effectiveAt}
            </Text>
          )}
          <InlineStack align="end">
            <Button variant="primary" onClick={() => send('save')} loading={busy === 'save'}>
              {`Publish as version ${loaded.latestVersion + 1}`}
            </Button>
          </InlineStack>
        </BlockStack>
      </Card>
    </BlockStack>
  );
}

function SimulationTable({ simulation, stale }: { simulation: SimulationView; stale: boolean }) {
  const withCost = simulation.rows.some((r) => r.current.cost !== null);
  const cells = (r: SimulationView['rows'][number]) => [
    r.month,
    r.orders,
    r.current.net,
    r.draft.net,
    r.difference,
    ...(withCost ? [r.current.cost ?? '—', r.draft.cost ?? '—'] : []),
    r.membersAffected,
  ];
  return (
    <div data-testid="simulation">
      <BlockStack gap="300">
        {stale && (
          <Banner tone="warning" title="The draft changed since this simulation: simulate again." />
        )}
        <Text as="p" variant="headingSm">
          {simulation.summary}
        </Text>
        <DataTable
          columnContentTypes={[
            'text',
            'numeric',
            'numeric',
            'numeric',
            'numeric',
            ...(withCost ? (['numeric', 'numeric'] as const) : []),
            'numeric',
          ]}
          headings={[
            'Month',
            'Orders',
            'Points, your program',
            'Points, draft',
            'Difference',
            ...(withCost ? ['Cost, your program', 'Cost, draft'] : []),
            'Members affected',
          ]}
          rows={simulation.rows.map(cells)}
          totals={['', ...cells(simulation.totals).slice(1)]}
          showTotalsInFooter
        />
        <Text as="p" tone="subdued">
          {`${simulation.valueNote} Points are net of refunds and cancellations. Each order keeps the tier multiplier its award recorded. Computed from ${simulation.net.orders.toLocaleString('en-US')} stored orders in ${(simulation.elapsedMs / 1000).toFixed(1)} s.`}
        </Text>
      </BlockStack>
    </div>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Program',
  back: { content: 'Loyalty', url: '/app' },
});
