// POST /webhooks/customers/create: a new customer is enrolled; guest orders with the same email can earn.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) =>
  ingestWebhook(request, 'customers/create');
export const loader = webhookLoader;
