// POST /webhooks/orders/cancelled: a cancelled order gives back what it earned.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) =>
  ingestWebhook(request, 'orders/cancelled');
export const loader = webhookLoader;
