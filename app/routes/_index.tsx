// /: Shopify opens the app URL with ?shop=…; send it to the embedded admin. Anyone else gets a
// pointer to the login page.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { redirect } from '@remix-run/server-runtime';
import { Link } from '@remix-run/react';

export const loader = ({ request }: LoaderFunctionArgs) => {
  const url = new URL(request.url);
  if (url.searchParams.get('shop')) throw redirect(`/app?${url.searchParams.toString()}`);
  return null;
};

export default function Landing() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: '36rem', margin: '4rem auto' }}>
      <h1>Laurel</h1>
      <p>Open-source loyalty points for Shopify stores.</p>
      <p>
        <Link to="/auth/login">Log in with your shop domain</Link>
      </p>
    </main>
  );
}
