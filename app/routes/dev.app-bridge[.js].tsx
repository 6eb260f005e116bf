// /dev/app-bridge.js (development only): the App Bridge stand-in, app/dev-app-bridge.server.ts.
import { requireDevAccess } from '../dev-access.server';
import { DEV_APP_BRIDGE_SCRIPT } from '../dev-app-bridge.server';

export const loader = () => {
  requireDevAccess();
  return new Response(DEV_APP_BRIDGE_SCRIPT, {
    headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' },
  });
};
