// /app/tiers: the tier program in force (thresholds in the shop currency, members per tier), its
// versions, and the editor — Preview shows who would move without saving anything; Apply (only
// for the draft previewed) publishes the next version, re-evaluates every member and syncs the
// tier perks. The rules validate; their issues are shown beside their fields
// (app/admin-tiers.server.ts maps them). docs/admin.md, docs/tiers.md.
import { useEffect, useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import { useActionData, useLoaderData, useNavigation, useSubmit } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Checkbox,
  DataTable,
  FormLayout,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminShop, refusal } from '../admin-request.server';
import {
  applyTierForm,
  previewTierForm,
  readTierDraft,
  syncAfterTierApply,
  tierPage,
  type TierFieldErrors,
  type TierFormValues,
  type TierPreviewView,
  type TierRowValues,
} from '../admin-tiers.server';
import { AppError, ErrorCode } from '../errors';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  return tierPage(db, shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const form = await request.formData();
  const intent = form.get('intent');
  if (intent !== 'preview' && intent !== 'apply') {
    throw refusal(new AppError(ErrorCode.VALIDATION, 'intent must be preview or apply'));
  }
  let values: TierFormValues;
  try {
    values = readTierDraft(form.get('draft'));
  } catch (error) {
    throw refusal(error);
  }
  const now = new Date();
  if (intent === 'preview') {
    const outcome = await previewTierForm(db, shop, values, now);
    return data({ intent: 'preview' as const, ...outcome }, { status: outcome.ok ? 200 : 400 });
  }
  const hash = form.get('previewHash');
  const outcome = await applyTierForm(
    db,
    shop,
    values,
    typeof hash === 'string' ? hash : '',
    now,
    () => syncAfterTierApply(db, shop),
  );
  if (outcome.ok) return data({ intent: 'apply' as const, ...outcome });
  return data({ intent: 'apply' as const, ...outcome }, { status: outcome.stale ? 409 : 400 });
};

/** "Gold Plus" → "gold-plus": the key a new tier gets from its name until the key is edited. */
function keyFromName(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
}

const EMPTY_ROW: TierRowValues = {
  key: '',
  name: '',
  threshold: '',
  multiplier: '1',
  entryPoints: '',
  freeShipping: false,
};

export default function Tiers() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [editing, setEditing] = useState(loaded.values !== null);
  const applied = result?.intent === 'apply' && result.ok ? result : null;
  const { program } = loaded;
  return (
    <Page
      title="Tiers"
      backAction={{ content: 'Loyalty', url: '/app' }}
      titleMetadata={
        program ? <Badge tone="success">{`Version ${program.version} in force`}</Badge> : undefined
      }
      secondaryActions={[{ content: 'Early access', url: '/app/early-access' }]}
      fullWidth
    >
      <TitleBar title="Tiers" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {applied && (
              <Banner
                tone="success"
                title={`Version ${applied.version} is in force: ${applied.evaluated.toLocaleString('en-US')} members re-evaluated, ${applied.changed.toLocaleString('en-US')} changed tier.`}
              >
                {applied.perks && <p>{applied.perks}</p>}
              </Banner>
            )}
            {program ? (
              <CurrentProgram program={program} />
            ) : (
              !editing && (
                <Card>
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">
                      No tiers yet
                    </Text>
                    <Text as="p">
                      Tiers reward your best customers as they spend: a higher earn rate, an entry
                      reward, free shipping and early access. Start from Bronze, Silver, Gold and
                      Platinum and adjust the thresholds; nothing changes for customers until you
                      preview and apply.
                    </Text>
                    <InlineStack>
                      <Button variant="primary" onClick={() => setEditing(true)}>
                        Start from a template
                      </Button>
                    </InlineStack>
                  </BlockStack>
                </Card>
              )
            )}
            {editing && (
              <Editor
                // A new version in force starts the editor again from it.
                key={program?.version ?? 0}
                initial={loaded.values ?? loaded.template}
                loaded={loaded}
              />
            )}
            {loaded.history.length > 0 && (
              <Card>
                <BlockStack gap="300">
                  <Text as="h2" variant="headingMd">
                    Versions
                  </Text>
                  <DataTable
                    columnContentTypes={['text', 'text', 'text']}
                    headings={['Version', 'Effective from', 'Program']}
                    rows={loaded.history.map((v) => [
                      v.inForce ? `${v.version} (in force)` : String(v.version),
                      v.effectiveFrom,
                      v.summary,
                    ])}
                  />
                </BlockStack>
              </Card>
            )}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

function CurrentProgram({ program }: { program: NonNullable<Loaded['program']> }) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {`In force since ${program.effectiveFrom}`}
        </Text>
        <Text as="p">
          {`${program.metric}, ${program.window.toLowerCase()} (shop time zone). Members keep a tier for the rest of its window, then ${program.graceDays} of grace before moving down. Customer tag: ${program.tagPrefix}<key>.`}
        </Text>
        <DataTable
          columnContentTypes={['text', 'text', 'text', 'text', 'text', 'text', 'numeric']}
          headings={[
            'Tier',
            'Threshold',
            'Earn multiplier',
            'Entry reward',
            'Free shipping',
            'Tag',
            'Members',
          ]}
          rows={[
            ...program.tiers.map((t) => [
              t.name,
              t.threshold,
              t.multiplier,
              t.entryReward,
              t.freeShipping ? 'Yes' : 'No',
              t.tag,
              t.members.toLocaleString('en-US'),
            ]),
            ['No tier', '—', '—', '—', '—', '—', program.none.toLocaleString('en-US')],
          ]}
          totals={['', '', '', '', '', '', program.total.toLocaleString('en-US')]}
          showTotalsInFooter
        />
        {program.unevaluated > 0 && (
          <Text as="p" tone="subdued">
            {`${program.unevaluated.toLocaleString('en-US')} customers have not been evaluated yet (the next order, or the daily run, places them).`}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

function Editor({ initial, loaded }: { initial: TierFormValues; loaded: Loaded }) {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submit = useSubmit();
  const [values, setValues] = useState<TierFormValues>(initial);
  const [errors, setErrors] = useState<TierFieldErrors>({});
  const [previewed, setPreviewed] = useState<{
    draft: string;
    preview: TierPreviewView;
  } | null>(null);
  const draft = JSON.stringify(values);

  useEffect(() => {
    if (!result || (result.intent === 'apply' && result.ok)) return;
    if (result.ok) {
      setErrors({});
      setPreviewed({ draft: JSON.stringify(result.values), preview: result.preview });
    } else if (!result.ok) {
      setErrors(result.errors);
      setPreviewed(null);
    }
  }, [result]);

  const busy = navigation.state === 'submitting' ? navigation.formData?.get('intent') : null;
  const current = previewed?.draft === draft ? previewed.preview : null;
  const send = (intent: 'preview' | 'apply') =>
    submit(
      { intent, draft, previewHash: intent === 'apply' ? (current?.hash ?? '') : '' },
      { method: 'post' },
    );

  const setProgram =
    <K extends keyof TierFormValues>(field: K) =>
    (value: TierFormValues[K]) =>
      setValues((v) => ({ ...v, [field]: value }));
  const setRow = (index: number, change: Partial<TierRowValues>) =>
    setValues((v) => ({
      ...v,
      tiers: v.tiers.map((row, i) => (i === index ? { ...row, ...change } : row)),
    }));
  // Moving rows moves the fields the errors were said of: they are dropped until the next check.
  const reorder = (tiers: TierRowValues[]) => {
    setErrors({});
    setValues((v) => ({ ...v, tiers }));
  };
  const move = (index: number, by: -1 | 1) => {
    const tiers = [...values.tiers];
    const [row] = tiers.splice(index, 1);
    tiers.splice(index + by, 0, row!);
    reorder(tiers);
  };

  const unit =
    values.metric === 'spend'
      ? { prefix: loaded.currency }
      : { suffix: values.metric === 'points' ? 'points' : 'orders' };
  const problems = Object.entries(errors).map(([, message]) => message);
  return (
    <BlockStack gap="400">
      <ProblemsBanner title="Nothing was saved: fix these and preview again" problems={problems} />
      <Card>
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            {loaded.program ? 'Edit tiers' : 'New tier program'}
          </Text>
          <FormLayout>
            <FormLayout.Group>
              <Select
                label="Measure"
                options={loaded.metricOptions}
                value={values.metric}
                onChange={setProgram('metric') as (v: string) => void}
                error={errors.metric}
              />
              <Select
                label="Window"
                options={loaded.windowOptions}
                value={values.window}
                onChange={setProgram('window') as (v: string) => void}
                error={errors.window}
                helpText="In the shop's time zone"
              />
            </FormLayout.Group>
            <FormLayout.Group>
              <TextField
                label="Grace period"
                value={values.graceDays}
                onChange={setProgram('graceDays')}
                error={errors.graceDays}
                suffix="days"
                inputMode="numeric"
                autoComplete="off"
                helpText="Days a member keeps a tier after falling below it, before moving down"
              />
              <TextField
                label="Customer tag prefix"
                value={values.tagPrefix}
                onChange={setProgram('tagPrefix')}
                error={errors.tagPrefix}
                autoComplete="off"
                helpText={`Members are tagged ${values.tagPrefix || 'laurel-tier-'}<key> for segments, Flow and email`}
              />
            </FormLayout.Group>
          </FormLayout>
        </BlockStack>
      </Card>
      {errors.tiers && <Banner tone="critical" title={errors.tiers} />}
      {values.tiers.map((row, i) => {
        const at = `tiers[${i}]`;
        const label = row.name.trim() || `tier ${i + 1}`;
        return (
          <Card key={i}>
            <div role="group" aria-label={`Tier ${i + 1}`}>
              <BlockStack gap="300">
                <InlineStack align="space-between" blockAlign="center">
                  <Text as="h3" variant="headingSm">
                    {`${i + 1}. ${row.name.trim() || 'New tier'}`}
                  </Text>
                  <InlineStack gap="200">
                    <Button
                      size="slim"
                      disabled={i === 0}
                      onClick={() => move(i, -1)}
                      accessibilityLabel={`Move ${label} up`}
                    >
                      Move up
                    </Button>
                    <Button
                      size="slim"
                      disabled={i === values.tiers.length - 1}
                      onClick={() => move(i, 1)}
                      accessibilityLabel={`Move ${label} down`}
                    >
                      Move down
                    </Button>
                    <Button
                      size="slim"
                      tone="critical"
                      disabled={values.tiers.length === 1}
                      onClick={() => reorder(values.tiers.filter((_, j) => j !== i))}
                      accessibilityLabel={`Remove ${label}`}
                    >
                      Remove
                    </Button>
                  </InlineStack>
                </InlineStack>
                <FormLayout>
                  <FormLayout.Group>
                    <TextField
                      label="Name"
                      value={row.name}
                      onChange={(name) =>
                        setRow(i, {
                          name,
                          // The key follows the name until it is edited by hand.
                          ...(row.key === '' || row.key === keyFromName(row.name)
                            ? { key: keyFromName(name) }
                            : {}),
                        })
                      }
                      error={errors[`${at}.name`]}
                      autoComplete="off"
                    />
                    <TextField
                      label="Key"
                      value={row.key}
                      onChange={(key) => setRow(i, { key })}
                      error={errors[`${at}.key`]}
                      autoComplete="off"
                      helpText="Stable id for tags, metafields and early access; keep it when renaming"
                    />
                  </FormLayout.Group>
                  <FormLayout.Group condensed>
                    <TextField
                      label="Threshold"
                      value={row.threshold}
                      onChange={(threshold) => setRow(i, { threshold })}
                      error={errors[`${at}.threshold`]}
                      inputMode={values.metric === 'spend' ? 'decimal' : 'numeric'}
                      autoComplete="off"
                      {...unit}
                    />
                    <TextField
                      label="Earn multiplier"
                      value={row.multiplier}
                      onChange={(multiplier) => setRow(i, { multiplier })}
                      error={errors[`${at}.multiplier`]}
                      prefix="×"
                      inputMode="decimal"
                      autoComplete="off"
                    />
                    <TextField
                      label="Entry reward"
                      value={row.entryPoints}
                      onChange={(entryPoints) => setRow(i, { entryPoints })}
                      error={errors[`${at}.entryPoints`]}
                      suffix="points"
                      inputMode="numeric"
                      autoComplete="off"
                      placeholder="None"
                    />
                  </FormLayout.Group>
                  <Checkbox
                    label="Free shipping"
                    checked={row.freeShipping}
                    onChange={(freeShipping) => setRow(i, { freeShipping })}
                    error={errors[`${at}.freeShipping`]}
                  />
                </FormLayout>
              </BlockStack>
            </div>
          </Card>
        );
      })}
      <InlineStack align="space-between">
        <Button
          onClick={() => reorder([...values.tiers, { ...EMPTY_ROW }])}
          disabled={values.tiers.length >= loaded.maxTiers}
        >
          Add tier
        </Button>
        <Button variant="primary" onClick={() => send('preview')} loading={busy === 'preview'}>
          Preview
        </Button>
      </InlineStack>
      {current && (
        <Card>
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">
              Preview
            </Text>
            <Text as="p" fontWeight="semibold">
              {current.summary}
            </Text>
            <DataTable
              columnContentTypes={['text', 'numeric', 'numeric', 'numeric']}
              headings={['Tier', 'Now', 'After apply', 'Change']}
              rows={current.rows.map((r) => {
                const delta = r.after - r.before;
                return [
                  r.name,
                  r.before.toLocaleString('en-US'),
                  r.after.toLocaleString('en-US'),
                  delta === 0
                    ? '—'
                    : `${delta > 0 ? '+' : '−'}${Math.abs(delta).toLocaleString('en-US')}`,
                ];
              })}
            />
            <Text as="p" tone="subdued">
              Nothing is saved yet. Members keep a tier they are protected in until its grace period
              ends, as they will after applying.
            </Text>
            <InlineStack align="end">
              <Button variant="primary" onClick={() => send('apply')} loading={busy === 'apply'}>
                {`Apply as version ${current.nextVersion}`}
              </Button>
            </InlineStack>
          </BlockStack>
        </Card>
      )}
      {previewed && !current && (
        <Box>
          <Text as="p" tone="subdued">
            The draft changed since its preview: preview again to apply it.
          </Text>
        </Box>
      )}
    </BlockStack>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Tiers',
  back: { content: 'Loyalty', url: '/app' },
});
