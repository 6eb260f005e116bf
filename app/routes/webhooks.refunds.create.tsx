// POST /webhooks/refunds/create: a refund reverses points in proportion to the refunded merchandise.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) => ingestWebhook(request, 'refunds/create');
export const loader = webhookLoader;
