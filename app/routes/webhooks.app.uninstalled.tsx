// POST /webhooks/app/uninstalled: the shop is marked inactive.
// Ingest only (verify, store in the inbox, enqueue); the workers do the processing.
import type { ActionFunctionArgs } from '@remix-run/server-runtime';
import { ingestWebhook, webhookLoader } from '../webhooks.server';

export const action = ({ request }: ActionFunctionArgs) =>
  ingestWebhook(request, 'app/uninstalled');
export const loader = webhookLoader;
