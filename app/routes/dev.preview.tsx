// /dev/preview[?customer=<Shopify customer id>] (development only): the storefront as a chosen demo
// customer would see it. The theme extension blocks arrive with a later issue; until then the page
// lists the members with their balances and shows the chosen one's balance and latest entries.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import type { MetaFunction } from '@remix-run/react';
import { Form, isRouteErrorResponse, Link, useLoaderData, useRouteError } from '@remix-run/react';
import { getDatabase } from '../db.server';
import { requireDevAccess } from '../dev-access.server';
import { listMembers, recentEntries } from '../models/members.server';
import { getShopByDomain } from '../models/shops.server';

export const meta: MetaFunction = () => [{ title: 'Laurel storefront preview (development)' }];

function displayName(member: {
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  externalId: string;
}): string {
  const name = [member.firstName, member.lastName].filter(Boolean).join(' ');
  return name || member.email || `Customer ${member.externalId}`;
}

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const access = requireDevAccess();
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, access.shop);
  if (!shop) return { shop: access.shop, setUp: false as const };
  const members = (await listMembers(db, shop.id)).map((m) => ({ ...m, name: displayName(m) }));
  const wanted = new URL(request.url).searchParams.get('customer');
  const selected = wanted ? members.find((m) => m.externalId === wanted) : undefined;
  // Dates as text in the shop's timezone, computed here so server and browser render the same.
  const day = new Intl.DateTimeFormat('en-CA', {
    timeZone: shop.timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const entries = selected
    ? (await recentEntries(db, shop.id, selected.id, 20)).map((e) => ({
        key: e.idempotencyKey,
        source: e.source,
        points: e.points,
        day: day.format(e.occurredAt),
      }))
    : [];
  return {
    shop: shop.domain,
    setUp: true as const,
    timezone: shop.timezone,
    members: members.map(({ externalId, name, email, balance, lifetimeEarned }) => ({
      externalId,
      name,
      email,
      balance,
      lifetimeEarned,
    })),
    selected: selected
      ? {
          externalId: selected.externalId,
          name: selected.name,
          balance: selected.balance,
          lifetimeEarned: selected.lifetimeEarned,
          entries,
        }
      : null,
    unknownCustomer: wanted && !selected ? wanted : null,
  };
};

const integer = new Intl.NumberFormat('en-US');
const page = {
  fontFamily: 'system-ui, sans-serif',
  maxWidth: '56rem',
  margin: '2rem auto',
  padding: '0 1rem',
  lineHeight: 1.4,
} as const;
const cell = {
  padding: '0.25rem 0.75rem',
  borderBottom: '1px solid #ddd',
  textAlign: 'left',
} as const;
const number = { ...cell, textAlign: 'right' } as const;

export default function StorefrontPreview() {
  const data = useLoaderData<typeof loader>();
  if (!data.setUp) {
    return (
      <main style={page}>
        <h1>Storefront preview</h1>
        <p>{data.shop} is not set up yet: run `npm run demo`.</p>
      </main>
    );
  }
  return (
    <main style={page}>
      <h1>Storefront preview</h1>
      <p>
        <strong data-testid="shop">{data.shop}</strong> · development only. The theme extension
        blocks will render here for the chosen customer; until they exist, this is their balance and
        latest ledger entries.
      </p>
      <Form method="get" style={{ margin: '1rem 0' }}>
        <label>
          Customer{' '}
          <select name="customer" defaultValue={data.selected?.externalId ?? ''}>
            <option value="" disabled>
              Choose a customer…
            </option>
            {data.members.map((m) => (
              <option key={m.externalId} value={m.externalId}>
                {m.name} ({integer.format(m.balance)} points)
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="submit">Preview</button>
      </Form>
      {data.unknownCustomer && (
        <p role="alert">No demo customer has the id {data.unknownCustomer}.</p>
      )}
      {data.selected && (
        <section
          data-testid="selected-customer"
          data-customer-id={data.selected.externalId}
          data-balance={data.selected.balance}
          style={{ border: '1px solid #ccc', borderRadius: '0.5rem', padding: '1rem' }}
        >
          <h2 style={{ marginTop: 0 }}>{data.selected.name}</h2>
          <p>
            Balance: <strong data-testid="balance">{integer.format(data.selected.balance)}</strong>{' '}
            points · earned in total {integer.format(data.selected.lifetimeEarned)}
          </p>
          {data.selected.entries.length === 0 ? (
            <p>No ledger entries yet.</p>
          ) : (
            <table style={{ borderCollapse: 'collapse' }}>
              <thead>
                <tr>
                  <th style={cell}>Date ({data.timezone})</th>
                  <th style={cell}>What</th>
                  <th style={number}>Points</th>
                </tr>
              </thead>
              <tbody>
                {data.selected.entries.map((e) => (
                  <tr key={e.key} data-testid="entry">
                    <td style={cell}>{e.day}</td>
                    <td style={cell}>
                      {e.source} <code>{e.key}</code>
                    </td>
                    <td style={number}>{integer.format(e.points)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
      <h2>Members ({integer.format(data.members.length)})</h2>
      <table style={{ borderCollapse: 'collapse', width: '100%' }}>
        <thead>
          <tr>
            <th style={cell}>Customer</th>
            <th style={cell}>Email</th>
            <th style={number}>Balance</th>
          </tr>
        </thead>
        <tbody>
          {data.members.map((m) => (
            <tr
              key={m.externalId}
              data-testid="member"
              data-customer-id={m.externalId}
              data-balance={m.balance}
            >
              <td style={cell}>
                <Link to={`?customer=${encodeURIComponent(m.externalId)}`}>{m.name}</Link>
              </td>
              <td style={cell}>{m.email ?? ''}</td>
              <td style={number}>{integer.format(m.balance)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

/** A refusal (404 in production, 403 outside the demo) shows its reason. */
export function ErrorBoundary() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status}: ${String(error.data)}`
    : 'The preview failed; see the server log.';
  return (
    <main style={page}>
      <h1>Storefront preview</h1>
      <p role="alert">{message}</p>
    </main>
  );
}
