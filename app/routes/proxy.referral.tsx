// GET /apps/loyalty/referral (→ /proxy/referral): the logged-in member's referral code, share link
// and counts; a code made now is handed to the referral code sync. A resource route. Verification
// and errors: app/app-proxy.server.ts; contract: docs/storefront-api.md.
import { readOnlyProxyAction } from '../app-proxy.server';
import { memberReferralLoader } from '../referral-proxy.server';
import { enqueueReferralSync } from '../queues/web-enqueue.server';

export const loader = memberReferralLoader(() => ({ requestSync: enqueueReferralSync }));

// Anything but GET: 405 in the shared shape (Remix's own 405 would not be).
export const action = readOnlyProxyAction;
