/**
 * The Shopify app: embedded admin auth by token exchange (Shopify-managed installation), sessions in
 * Laurel's database, webhook HMAC checks, app proxy signatures. Configured once from the
 * environment (SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SHOPIFY_APP_URL, SCOPES); importing this module
 * with a bad environment throws EnvError listing every problem.
 */
import '@shopify/shopify-app-remix/adapters/node';
import {
  ApiVersion,
  AppDistribution,
  LogSeverity,
  shopifyApp,
} from '@shopify/shopify-app-remix/server';
import { getDatabase } from './db.server';
import { parseShopifyEnv } from './env.server';
import { logger, neverLog } from './logger.server';
import { ProcessSessionStorage } from './session-storage.server';
import { setUpShop } from './shop-setup.server';

const config = parseShopifyEnv();
neverLog(config.SHOPIFY_API_SECRET);

export const apiVersion = ApiVersion.July26;
/** The app's client id: App Bridge needs it in the browser. */
export const apiKey = config.SHOPIFY_API_KEY;

export const sessionStorage = new ProcessSessionStorage({
  database: async () => (await getDatabase()).db,
  cacheTtlMs: config.SESSION_CACHE_TTL_MS,
});

const shopifyLogLevel =
  config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace'
    ? LogSeverity.Debug
    : LogSeverity.Warning;

const shopify = shopifyApp({
  apiKey: config.SHOPIFY_API_KEY,
  apiSecretKey: config.SHOPIFY_API_SECRET,
  appUrl: config.SHOPIFY_APP_URL,
  scopes: config.SCOPES.split(',')
    .map((scope) => scope.trim())
    .filter(Boolean),
  apiVersion,
  authPathPrefix: '/auth',
  sessionStorage,
  distribution: AppDistribution.AppStore,
  future: { unstable_newEmbeddedAuthStrategy: true },
  // The library's messages go through pino like everything else (its own default is console).
  // Its info and debug lines print request parameters, session tokens and redirect URLs as plain
  // text: they are on only when asked for, and the logger's redaction (app/log-redaction.server.ts)
  // strips every token, signature and the secret from them whatever they say. HTTP request logging
  // (request bodies with the client secret) stays off.
  logger: {
    level: shopifyLogLevel,
    httpRequests: false,
    log: (severity, message) => {
      const log = logger().child({ component: 'shopify-app' });
      if (severity === LogSeverity.Error) log.error(message);
      else if (severity === LogSeverity.Warning) log.warn(message);
      else if (severity === LogSeverity.Info) log.info(message);
      else log.debug(message);
    },
  },
  hooks: {
    afterAuth: async ({ session }) => {
      if (!session.accessToken) return;
      try {
        const { db } = await getDatabase();
        await setUpShop({ db, shop: session.shop, accessToken: session.accessToken });
      } catch (error) {
        // The library stored the session before calling us and runs this hook only when there is
        // none, so forget it: the next admin request exchanges a token and sets the shop up again.
        logger().error(
          { shop: session.shop, err: error instanceof Error ? error.message : String(error) },
          'shop set-up after authentication failed',
        );
        await sessionStorage.deleteSession(session.id).catch(() => {});
        throw error;
      }
    },
  },
});

export default shopify;
export const authenticate = shopify.authenticate;
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
export const registerWebhooks = shopify.registerWebhooks;
