import type { WebhookTopic } from '../../app/queues/jobs';
import { appUninstalled, customersDataRequest, customersRedact, shopRedact } from './compliance';
import type { WebhookHandler } from './context';
import { customersCreate, customersUpdate } from './customers';
import { ORDER_TOPICS } from './orders';

/**
 * The handler of every subscribed topic that is processed one delivery per transaction. The order
 * topics (ORDER_TOPICS) are handled in batches by handleOrderRows; the type makes a topic handled
 * by neither a compile error.
 */
export const webhookHandlers: Record<
  Exclude<WebhookTopic, 'orders/paid' | 'orders/cancelled' | 'refunds/create'>,
  WebhookHandler
> = {
  'customers/create': customersCreate,
  'customers/update': customersUpdate,
  'app/uninstalled': appUninstalled,
  'customers/data_request': customersDataRequest,
  'customers/redact': customersRedact,
  'shop/redact': shopRedact,
};

export function isOrderTopic(topic: string): boolean {
  return ORDER_TOPICS.has(topic as WebhookTopic);
}

export type { HandlerContext, WebhookHandler } from './context';
export { handleOrderRows, ORDER_TOPICS, type RowOutcome } from './orders';
