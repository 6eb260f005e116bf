// /dev/session-token (development only): a fresh session token for the demo shop, what App
// Bridge's shopify.idToken() returns inside Shopify's admin. Used by /dev/app-bridge.js.
import { mintSessionToken, requireDevAccess } from '../dev-access.server';

export const loader = () => {
  const access = requireDevAccess();
  const { token, exp } = mintSessionToken(access);
  return Response.json({ token, exp }, { headers: { 'Cache-Control': 'no-store' } });
};
