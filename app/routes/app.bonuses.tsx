// /app/bonuses: birthday, newsletter and social follow points (saved as a new version, every
// problem beside its field, nothing saved), the sign-up bonus as the earn program sets it, the
// versions, and the bonuses awarded this month (shop time). Data and Save:
// app/admin-bonuses.server.ts; rules: docs/bonuses.md.
import { useEffect, useState } from 'react';
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { data } from '@remix-run/server-runtime';
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TitleBar } from '@shopify/app-bridge-react';
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  InlineGrid,
  InlineStack,
  Layout,
  Link,
  Page,
  Text,
  TextField,
} from '@shopify/polaris';
import { adminShop, refusal } from '../admin-request.server';
import {
  bonusesPage,
  readBonusForm,
  saveBonusForm,
  type BonusFieldErrors,
  type BonusFormValues,
} from '../admin-bonuses.server';
import { adminErrorBoundary } from '../admin-error-boundary';
import { ProblemsBanner } from '../admin-problems';
import { AppError, ErrorCode } from '../errors';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  try {
    return await bonusesPage(db, shop);
  } catch (error) {
    throw refusal(error);
  }
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const form = await request.formData();
  let values: BonusFormValues;
  try {
    if (form.get('intent') !== 'save') {
      throw new AppError(ErrorCode.VALIDATION, 'intent must be save');
    }
    values = readBonusForm(form);
  } catch (error) {
    throw refusal(error);
  }
  const outcome = await saveBonusForm(db, shop, values);
  return data(outcome, { status: outcome.ok ? 200 : 400 });
};

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

const pointsText = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'point' : 'points'}`;

export default function Bonuses() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <Page
      title="Bonuses"
      backAction={{ content: 'Loyalty', url: '/app' }}
      titleMetadata={
        loaded.inForce !== null ? <Badge>{`version ${loaded.inForce}`}</Badge> : undefined
      }
    >
      <TitleBar title="Bonuses" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            {result?.ok && (
              <Banner tone="success" title={`Version ${result.version} saved.`}>
                <p>New bonuses follow it from now; those already awarded keep their points.</p>
              </Banner>
            )}
            <Awarded loaded={loaded} />
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Sign-up bonus
                </Text>
                <Text as="p">
                  {loaded.signupBonus > 0
                    ? `${pointsText(loaded.signupBonus)} when a customer creates an account, once.`
                    : 'Off: no points when a customer creates an account.'}
                </Text>
                <Text as="p" tone="subdued">
                  {'Part of the earn program: '}
                  <Link url="/app/program">change it in Program</Link>
                </Text>
              </BlockStack>
            </Card>
            <Settings
              key={loaded.inForce ?? 0}
              loaded={loaded}
              saved={result && !result.ok ? result : undefined}
            />
            <History loaded={loaded} />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

function Awarded({ loaded }: { loaded: Loaded }) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {`Awarded in ${loaded.month}`}
        </Text>
        <InlineGrid columns={{ xs: 2, md: 4 }} gap="300">
          {loaded.awarded.map((tile) => (
            <Box key={tile.kind} padding="300" background="bg-surface-secondary" borderRadius="200">
              <BlockStack gap="100">
                <Text as="h3" variant="headingSm">
                  {tile.label}
                </Text>
                <Text as="p" variant="headingLg">
                  {tile.entries.toLocaleString('en-US')}
                </Text>
                <Text as="p" tone="subdued" variant="bodySm">
                  {pointsText(tile.points)}
                </Text>
              </BlockStack>
            </Box>
          ))}
        </InlineGrid>
        <Text as="p" tone="subdued" variant="bodySm">
          {`Bonuses dated this month in shop time (${loaded.timezone}).`}
        </Text>
      </BlockStack>
    </Card>
  );
}

function Settings({
  loaded,
  saved,
}: {
  loaded: Loaded;
  saved: { errors: BonusFieldErrors; values: BonusFormValues } | undefined;
}) {
  const navigation = useNavigation();
  const [values, setValues] = useState<BonusFormValues>(saved?.values ?? loaded.values);
  const [errors, setErrors] = useState<BonusFieldErrors>(saved?.errors ?? {});
  useEffect(() => {
    if (saved) {
      setErrors(saved.errors);
      setValues(saved.values);
    }
  }, [saved]);
  const field = (name: string) => ({
    name,
    value: values[name] ?? '',
    onChange: (value: string) => setValues((v) => ({ ...v, [name]: value })),
    error: errors[name],
    autoComplete: 'off',
  });
  const saving = navigation.state === 'submitting';
  return (
    <Form method="post">
      <input type="hidden" name="intent" value="save" />
      <BlockStack gap="400">
        <ProblemsBanner
          title="Nothing was saved: fix these and save again"
          problems={Object.values(errors)}
        />
        <Card>
          <BlockStack gap="400">
            <Text as="h2" variant="headingMd">
              Birthday and newsletter
            </Text>
            <FormLayout>
              <FormLayout.Group>
                <TextField
                  label="Birthday points"
                  inputMode="numeric"
                  helpText="Once a year in the member's birth month. Empty or 0: off."
                  {...field('birthdayPoints')}
                />
                <TextField
                  label="Newsletter points"
                  inputMode="numeric"
                  helpText="Once, when the member subscribes to email marketing. Empty or 0: off."
                  {...field('newsletterPoints')}
                />
              </FormLayout.Group>
            </FormLayout>
          </BlockStack>
        </Card>
        <Card>
          <BlockStack gap="400">
            <BlockStack gap="100">
              <Text as="h2" variant="headingMd">
                Social follow
              </Text>
              <Text as="p" tone="subdued">
                Once per network per member. A follow cannot be verified: members are trusted, and
                claims are limited to one per 30 seconds and ten a day.
              </Text>
            </BlockStack>
            <FormLayout>
              {loaded.networks.map(({ network, name }) => (
                <FormLayout.Group key={network} condensed>
                  <TextField
                    label={`${name} profile URL`}
                    type="url"
                    placeholder="https://"
                    {...field(`social.${network}.url`)}
                  />
                  <TextField
                    label={`${name} points`}
                    inputMode="numeric"
                    {...field(`social.${network}.points`)}
                  />
                </FormLayout.Group>
              ))}
            </FormLayout>
          </BlockStack>
        </Card>
        <InlineStack align="end">
          <Button submit variant="primary" loading={saving}>
            Save
          </Button>
        </InlineStack>
      </BlockStack>
    </Form>
  );
}

function History({ loaded }: { loaded: Loaded }) {
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          History
        </Text>
        {loaded.history.length === 0 ? (
          <Text as="p" tone="subdued">
            No bonus settings saved yet: every bonus is off.
          </Text>
        ) : (
          loaded.history.map((v) => (
            <Text as="p" key={v.version}>
              {`Version ${v.version}, from ${new Date(v.effectiveFrom).toLocaleString('en-US', {
                timeZone: loaded.timezone,
                dateStyle: 'medium',
                timeStyle: 'short',
              })}: ${v.summary}`}
            </Text>
          ))
        )}
      </BlockStack>
    </Card>
  );
}

export const ErrorBoundary = adminErrorBoundary({
  title: 'Bonuses',
  back: { content: 'Loyalty', url: '/app' },
});
