import type { WebhookTopic } from '../jobs';
import { appUninstalled, customersDataRequest, customersRedact, shopRedact } from './compliance';
import type { WebhookHandler } from './context';
import { customersCreate, customersUpdate } from './customers';
import { ordersCancelled, ordersPaid, refundsCreate } from './orders';

/** The handler of every subscribed topic; the type makes a missing one a compile error. */
export const webhookHandlers: Record<WebhookTopic, WebhookHandler> = {
  'orders/paid': ordersPaid,
  'orders/cancelled': ordersCancelled,
  'refunds/create': refundsCreate,
  'customers/create': customersCreate,
  'customers/update': customersUpdate,
  'app/uninstalled': appUninstalled,
  'customers/data_request': customersDataRequest,
  'customers/redact': customersRedact,
  'shop/redact': shopRedact,
};

export type { HandlerContext, WebhookHandler } from './context';
