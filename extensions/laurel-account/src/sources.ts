/**
 * Where the extension's data comes from. The balance is read first from the customer's $app
 * metafields through the Customer Account API (no request to our servers, no CORS, answered by
 * Shopify next to the page); the app backend answers what metafields cannot: a member whose
 * metafields are not written yet, and the history. Backend calls carry the session token
 * (`Authorization: Bearer`), which the backend verifies with authenticate.public.customerAccount;
 * the app URL, the timeout and the failure kinds are the shared ones (extensions/shared/src/backend.ts).
 */
import type { StandardApi } from '@shopify/ui-extensions/customer-account';
import { backendGet, LoadError, requestJson } from '../../shared/src/backend';
import {
  MEMBER_METAFIELDS_QUERY,
  parseHistoryPage,
  parseSummary,
  summaryFromMetafields,
  type HistoryPage,
  type MemberSummary,
} from './member';

export type Host = Pick<StandardApi, 'sessionToken'>;

export const CUSTOMER_ACCOUNT_API = 'shopify://customer-account/api/2026-07/graphql.json';
export const HISTORY_PAGE_SIZE = 10;

async function summaryFromCustomerAccountApi(): Promise<MemberSummary | null> {
  const answer = await requestJson(CUSTOMER_ACCOUNT_API, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: MEMBER_METAFIELDS_QUERY }),
  });
  return answer.ok ? summaryFromMetafields(answer.body) : null;
}

export async function loadSummaryFromBackend(host: Host): Promise<MemberSummary> {
  const summary = parseSummary(await backendGet(host, '/api/account/summary'));
  if (!summary) throw new LoadError('invalid');
  return summary;
}

/** Metafields first; the backend when they are not written yet or cannot be read. */
export async function loadSummary(host: Host): Promise<MemberSummary> {
  const fromMetafields = await summaryFromCustomerAccountApi().catch(() => null);
  return fromMetafields ?? loadSummaryFromBackend(host);
}

export async function loadHistoryPage(host: Host, cursor: string | null): Promise<HistoryPage> {
  const query = new URLSearchParams();
  if (cursor !== null) query.set('cursor', cursor);
  query.set('limit', String(HISTORY_PAGE_SIZE));
  const page = parseHistoryPage(await backendGet(host, `/api/account/history?${query}`));
  if (!page) throw new LoadError('invalid');
  // A page that says there is more but brings nothing, or points back at itself, would make
  // "Load more" repeat forever.
  if (page.nextCursor !== null && (page.entries.length === 0 || page.nextCursor === cursor)) {
    throw new LoadError('invalid');
  }
  return page;
}
