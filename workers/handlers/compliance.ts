/**
 * app/uninstalled and Shopify's mandatory privacy webhooks. Each is repeatable: a redelivery, or
 * a delivery about a shop or customer Laurel no longer has, changes nothing and is not an error.
 */
import { recordDataRequest, redactCustomerData } from '../../app/models/compliance.server';
import { dropPayload } from '../../app/models/inbox.server';
import {
  deleteShopData,
  deleteShopSessions,
  getShopByDomain,
  markShopUninstalled,
} from '../../app/models/shops.server';
import {
  parseCustomersDataRequestPayload,
  parseCustomersRedactPayload,
  parseShopRedactPayload,
} from '../../loyalty/shopify-compliance';
import { checkSameShop, type WebhookHandler } from './context';

export const appUninstalled: WebhookHandler = async (tx, { row }) => {
  const shop = await getShopByDomain(tx, row.shopDomain);
  const uninstalled = shop ? await markShopUninstalled(tx, shop.id) : undefined;
  const sessionsDeleted = await deleteShopSessions(tx, row.shopDomain);
  return { shopKnown: Boolean(shop), active: uninstalled?.active ?? null, sessionsDeleted };
};

export const customersRedact: WebhookHandler = async (tx, context) => {
  const facts = parseCustomersRedactPayload(context.row.payload);
  checkSameShop(context, facts.shopDomain);
  const shop = await getShopByDomain(tx, facts.shopDomain);
  if (!shop) return { shopKnown: false };
  const result = await redactCustomerData(tx, shop, {
    customerExternalId: facts.customer.id,
    email: facts.customer.email,
    orderIds: facts.ordersToRedact,
  });
  // The request itself names the customer (email, phone): it goes too.
  await dropPayload(tx, context.row.id);
  return { shopKnown: true, ...result };
};

export const customersDataRequest: WebhookHandler = async (tx, context) => {
  const facts = parseCustomersDataRequestPayload(context.row.payload);
  checkSameShop(context, facts.shopDomain);
  const shop = await getShopByDomain(tx, facts.shopDomain);
  if (!shop) return { shopKnown: false, dataRequestId: facts.dataRequestId };
  const result = await recordDataRequest(tx, shop, {
    customerExternalId: facts.customer.id,
    email: facts.customer.email,
    dataRequestId: facts.dataRequestId,
    orderIds: facts.ordersRequested,
  });
  // The export holds what the merchant needs; the request body (email, phone) is not kept.
  await dropPayload(tx, context.row.id);
  context.log.info(
    { dataRequestId: facts.dataRequestId, customers: result.export.customers.length },
    'customer data export stored; `loyalty data-request` prints it for the merchant',
  );
  return {
    shopKnown: true,
    dataRequestId: facts.dataRequestId,
    created: result.created,
    customers: result.export.customers.length,
    orders: result.export.orders.length,
  };
};

export const shopRedact: WebhookHandler = async (tx, context) => {
  const facts = parseShopRedactPayload(context.row.payload);
  checkSameShop(context, facts.shopDomain);
  const shop = await getShopByDomain(tx, facts.shopDomain);
  // Also deletes this delivery's own inbox row: nothing of the shop is kept.
  const deleted = shop ? await deleteShopData(tx, shop.id) : false;
  const sessionsDeleted = await deleteShopSessions(tx, facts.shopDomain);
  return { shopKnown: Boolean(shop), deleted, sessionsDeleted };
};
