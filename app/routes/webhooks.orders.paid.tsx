// POST /webhooks/orders/paid: a paid order earns points.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) => ingestWebhook(request, 'orders/paid');
export const loader = webhookLoader;
