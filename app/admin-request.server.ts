/**
 * What every admin page's loader and action start with: the request's shop (authenticated, set up),
 * refusals as the JSON Response an error boundary shows (app/refusal.ts), and ids from route
 * parameters and form fields.
 */
import { authenticateAdmin } from './admin-auth.server';
import { getDatabase } from './db.server';
import { AppError, ErrorCode, httpStatusFor, isAppError } from './errors';
import { getShopByDomain } from './models/shops.server';

/**
 * Who is acting in the admin: the staff member Shopify's session token names (`sub`, the admin
 * user id) and its session (`sid`). What manual adjustments and imports record as their author.
 */
export interface StaffMember {
  userId: string;
  sessionId: string | null;
}

/**
 * The admin request's shop, database and staff member; a 404 with a reason when the shop is not set
 * up.
 */
export async function adminShop(request: Request) {
  const { session, sessionToken } = await authenticateAdmin(request);
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, session.shop);
  if (!shop) {
    throw refusal(
      new AppError(
        ErrorCode.NOT_FOUND,
        'This shop is not set up yet: open the app home page to finish setting it up.',
      ),
    );
  }
  const staff: StaffMember = {
    userId: typeof sessionToken?.sub === 'string' ? sessionToken.sub : 'unknown',
    sessionId: typeof sessionToken?.sid === 'string' ? sessionToken.sid : null,
  };
  return { db, shop, staff, locale: adminLocale(request) };
}

/**
 * The admin user's locale: Shopify opens an embedded app with `locale=<BCP 47>`; App Bridge keeps
 * it on in-app navigation. Anything unreadable falls back to en-US (a format, never a refusal).
 */
export function adminLocale(request: Request): string {
  const requested = new URL(request.url).searchParams.get('locale');
  if (!requested || requested.length > 35) return 'en-US';
  try {
    return Intl.getCanonicalLocales(requested)[0] ?? 'en-US';
  } catch {
    return 'en-US';
  }
}

/**
 * An AppError as the Response a loader or action throws: `{"error": "<reason>", "code"}` with
 * the code's status (what app/refusal.ts shows in an error boundary). Anything else is rethrown.
 */
export function refusal(error: unknown): Response {
  if (!isAppError(error)) throw error;
  return Response.json(
    { error: error.message, code: error.code },
    { status: httpStatusFor(error.code), headers: { 'Cache-Control': 'no-store' } },
  );
}

/**
 * A route parameter or form field that must be a row id: a positive whole number up to `max`
 * (a serial's; redemptions are bigserial).
 */
export function parseId(
  text: string | null | undefined,
  what: string,
  max = 2_147_483_647,
): number {
  if (!text || !/^[1-9][0-9]{0,15}$/.test(text) || Number(text) > max) {
    throw refusal(
      new AppError(ErrorCode.VALIDATION, `${what} must be a positive whole number`, { text }),
    );
  }
  return Number(text);
}
