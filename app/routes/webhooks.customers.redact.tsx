// POST /webhooks/customers/redact: compliance: a customer’s personal data is scrubbed, ledger totals kept.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) =>
  ingestWebhook(request, 'customers/redact');
export const loader = webhookLoader;
