/**
 * Every webhook topic Laurel subscribes to (shopify.app.toml), in Shopify's `orders/paid` form:
 * exactly the strings stored in webhook_inbox.topic and carried by process-inbox jobs. Each has its
 * route at /webhooks/<topic> (app/routes/webhooks.<topic with / as .>.tsx).
 */
export const WEBHOOK_TOPICS = [
  'orders/paid',
  'orders/cancelled',
  'refunds/create',
  'customers/create',
  'customers/update',
  'app/uninstalled',
  'customers/data_request',
  'customers/redact',
  'shop/redact',
] as const;
export type WebhookTopic = (typeof WEBHOOK_TOPICS)[number];
