/**
 * What every admin page's loader and action start with: the request's shop (authenticated, set up),
 * refusals as the JSON Response an error boundary shows (app/refusal.ts), and ids from route
 * parameters and form fields.
 */
import { authenticateAdmin } from './admin-auth.server';
import { getDatabase } from './db.server';
import { AppError, ErrorCode, httpStatusFor, isAppError } from './errors';
import { getShopByDomain } from './models/shops.server';

/** The admin request's shop and database; a 404 with a reason when the shop is not set up. */
export async function adminShop(request: Request) {
  const { session } = await authenticateAdmin(request);
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
  return { db, shop };
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
