// POST /webhooks/shop/redact: compliance: every row of the shop is deleted.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) => ingestWebhook(request, 'shop/redact');
export const loader = webhookLoader;
