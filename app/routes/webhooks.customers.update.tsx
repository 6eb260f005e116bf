// POST /webhooks/customers/update: keeps the customer’s email and name current.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) =>
  ingestWebhook(request, 'customers/update');
export const loader = webhookLoader;
