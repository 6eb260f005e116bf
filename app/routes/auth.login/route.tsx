// /auth/login: the non-embedded entry point — type a shop domain, get sent to Shopify to install
// or open Laurel there.
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Form, useActionData, useLoaderData } from '@remix-run/react';
import {
  AppProvider as PolarisAppProvider,
  Button,
  Card,
  FormLayout,
  Page,
  Text,
  TextField,
} from '@shopify/polaris';
import polarisStyles from '@shopify/polaris/build/esm/styles.css?url';
import { LoginErrorType, type LoginError } from '@shopify/shopify-app-remix/server';
import englishI18n from '@shopify/polaris/locales/en.json';
import { useState } from 'react';
import { login } from '../../shopify.server';

export const links = () => [{ rel: 'stylesheet', href: polarisStyles }];

function errorFor(result: LoginError): string | undefined {
  if (result.shop === LoginErrorType.MissingShop) return 'Enter your shop domain to log in.';
  if (result.shop === LoginErrorType.InvalidShop) {
    return 'That is not a shop domain: use your-shop.myshopify.com.';
  }
  return undefined;
}

export const loader = async ({ request }: LoaderFunctionArgs) => {
  return { error: errorFor(await login(request)) };
};

export const action = async ({ request }: ActionFunctionArgs) => {
  return { error: errorFor(await login(request)) };
};

export default function Login() {
  const loaded = useLoaderData<typeof loader>();
  const acted = useActionData<typeof action>();
  const [shop, setShop] = useState('');
  const error = acted?.error ?? loaded.error;
  return (
    <PolarisAppProvider i18n={englishI18n}>
      <Page narrowWidth>
        <Card>
          <Form method="post">
            <FormLayout>
              <Text variant="headingMd" as="h2">
                Log in to Laurel
              </Text>
              <TextField
                type="text"
                name="shop"
                label="Shop domain"
                helpText="example.myshopify.com"
                value={shop}
                onChange={setShop}
                autoComplete="on"
                error={error}
              />
              <Button submit>Log in</Button>
            </FormLayout>
          </Form>
        </Card>
      </Page>
    </PolarisAppProvider>
  );
}
