// /app/reports/csv?from=&to=: the report of the range as CSV — exactly `loyalty report --shop
// <shop> --from --to --format csv` — streamed from PostgreSQL a batch of customers at a time, so a
// million-entry shop downloads without the report ever being in memory (docs/reports.md).
// Authenticated like every admin request, by the App Bridge session token in the Authorization
// header: the page fetches it with `shopify.idToken()` and saves the body as a file (a plain link
// carries no token). The shop is the one the token names; nothing in the URL can choose another.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { adminShop, refusal } from '../admin-request.server';
import { parseReportQuery } from '../admin-report.server';
import { AppError, ErrorCode } from '../errors';
import { reportCsvChunks } from '../models/admin-report.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { db, shop } = await adminShop(request);
  const parsed = parseReportQuery(new URL(request.url).searchParams, shop.timezone, new Date());
  if (!parsed.ok) {
    throw refusal(
      new AppError(ErrorCode.VALIDATION, Object.values(parsed.errors).join('; '), {
        ...parsed.errors,
      }),
    );
  }
  const { from, to } = parsed.query;
  const chunks = reportCsvChunks(db, shop.id, parsed.query);
  const encoder = new TextEncoder();
  // Pull-based: the next batch is read only when the client has taken the previous one.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="laurel-report-${from}-${to}.csv"`,
      'Cache-Control': 'no-store',
    },
  });
};
