/**
 * `npm run demo`: Laurel offline, in one process — the embedded PGlite database (or DATABASE_URL),
 * Redis (the one at REDIS_URL or a throwaway redis-server), the local Admin API emulator, the built
 * Remix app behind the production web server, and the workers. It replays three months of a demo
 * store (or `--orders FILE`) as signed webhooks through the real HTTP endpoints, waits for the
 * workers, prints the points report from the ledger checked against an independent expectation,
 * then serves the admin and the storefront preview until Ctrl-C. See docs/demo.md.
 *
 * One process, because PGlite can be opened by only one (ADR 004). The Remix build bundles its own
 * copy of the app's singletons, so the database, the queue and the workers are handed to and
 * started through `build.entry.module.laurel`, after the environment the app reads is set.
 */
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import type { ServerBuild } from '@remix-run/server-runtime';
import { Session } from '@shopify/shopify-api';
import type { LaurelRuntime } from '../../app/entry.server';
import { demoStatePath } from '../../app/dev-access.server';
import { EnvError, parseEnv } from '../../app/env.server';
import { shopTotals } from '../../app/models/dashboard.server';
import { countEntries, listMembers } from '../../app/models/members.server';
import { resyncShop } from '../../app/models/metafield-sync.server';
import { listPrograms, publishProgram } from '../../app/models/programs.server';
import { earnedReport } from '../../app/models/reports.server';
import { knownWebhookIds, shopInboxFailures } from '../../app/models/shop-inbox.server';
import { ensureShop } from '../../app/models/shops.server';
import { ProcessSessionStorage } from '../../app/session-storage.server';
import { syncReferralCodes } from '../../app/referral-discount.server';
import { createAdminClient } from '../../app/shopify/admin-client.server';
import { InputFileError } from '../../cli/transactions';
import { migrate, openDatabase, type DatabaseHandle } from '../../db/client.server';
import { localTimeText } from '../../loyalty/early-access';
import { referenceProgram } from '../../loyalty/program';
import { startAppServer, type AppServer } from '../../server/app-server';
import { BUILD_MARKER, ensureAppBuilt, ROOT } from '../build';
import { startAdminEmulator } from '../emulator/server';
import { parseDemoArgs, USAGE, type DemoOptions } from './args';
import { seedEmulatorShop } from './emulator-seed';
import { expectedReport, expectedResults } from './expected';
import { acquireLock, LockedError } from './lock';
import { OrdersFileError } from './orders-file';
import { replayProgress } from './progress';
import {
  CURRENCY,
  DemoError,
  demoState,
  fmt,
  loadDeliveries,
  TIMEZONE,
  type Deliveries,
} from './source';
import { STALL_MS, waitForWorkers } from './wait';
import { awardMultipliers, demoEarlyAccess, ensureDemoTiers, tiersLine } from './tiers';
import { demoRedemption, seedRewardCatalog, topMember } from './rewards';
import { ensureDemoProgramHistory } from './program';
import { demoReferrals } from './referral-check';
import { demoAdjustment } from './adjustments';
import { bonusesLine, demoBonuses, ensureDemoBonusProgram } from './bonuses';
import { campaignBpsByOrder, demoCampaigns, DEMO_CAMPAIGN_NAME } from './campaigns';
import { demoLifecycle, ensureDemoExpiryPolicy } from './lifecycle';
import { startMailSink } from '../mail-sink';
import { createLifecycleQueue } from '../../workers/handlers/lifecycle';
import { redisOptions } from '../../app/queues/connection.server';
import { ensureDemoReferralProgram, referralCast, referralFriendDeliveries } from './referrals';
import { ensureRedis } from './redis';
import { chunksByMonth, ReplayError, replayDeliveries } from './replay';
import { checkStorefrontSync } from './storefront-sync';
import { writeDemoState } from './state';
import { formatReportSummary, reportDifferences } from './summary';

const SHOP_NAME = 'Laurel Demo Tea';
const SCOPES = 'read_customers,write_customers,read_orders,write_discounts';
const SHUTDOWN_DEADLINE_MS = 20_000;

const started = performance.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (line = '') => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

/** "1 delivery is", "3 deliveries are". */
function deliveriesCount(n: number): string {
  return n === 1 ? '1 delivery is' : `${fmt(n)} deliveries are`;
}

/** `path` relative to the working directory when it is inside it, else absolute. */
function shortPath(path: string): string {
  const absolute = resolve(path);
  const rel = relative(process.cwd(), absolute);
  return rel && !rel.startsWith('..') ? rel : absolute;
}

// ---------------------------------------------------------------------------------------------
// What was started, stopped in reverse order on exit.

const cleanups: { what: string; stop: () => Promise<unknown> | unknown }[] = [];
function stopLater(what: string, stop: () => Promise<unknown> | unknown): void {
  cleanups.push({ what, stop });
}

let stopping: Promise<never> | undefined;
function stopAll(exitCode: number, done?: string): Promise<never> {
  stopping ??= (async () => {
    setTimeout(() => {
      warn(`demo: stopping took over ${seconds(SHUTDOWN_DEADLINE_MS)}; exiting anyway.`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    let code = exitCode;
    for (const { what, stop } of cleanups.reverse()) {
      try {
        await stop();
      } catch (error) {
        warn(`demo: stopping ${what} failed: ${(error as Error).message}`);
        code = code || 1;
      }
    }
    if (done && code === 0) say(done);
    process.exit(code);
  })();
  return stopping;
}

let serving = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // npx and tsx pass a terminal's Ctrl-C on as well: the repeats are the same request.
    if (stopping) return;
    say(serving ? '\nStopping…' : `\nInterrupted (${signal}); stopping…`);
    void stopAll(0, 'Stopped.');
  });
}

// ---------------------------------------------------------------------------------------------

function parseOptions(): DemoOptions {
  const parsed = parseDemoArgs(process.argv.slice(2));
  if (!parsed.ok) {
    warn(`demo: ${parsed.error}\n\n${USAGE}`);
    process.exit(2);
  }
  if (parsed.options.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  return parsed.options;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

async function main(): Promise<void> {
  const options = parseOptions();
  let config;
  try {
    // The environment's default is production (app/env.server.ts); the demo is development.
    config = parseEnv({ NODE_ENV: 'development', ...process.env });
  } catch (error) {
    if (error instanceof EnvError) throw new DemoError(error.message, 2);
    throw error;
  }
  if (config.NODE_ENV === 'production') {
    throw new DemoError(
      'the demo is for development: it runs a local Shopify stand-in and opens dev-only routes. Unset NODE_ENV=production.',
      2,
    );
  }
  const statePath = demoStatePath({
    PGLITE_DIR: config.PGLITE_DIR,
    ...(config.DEMO_STATE_FILE && { DEMO_STATE_FILE: config.DEMO_STATE_FILE }),
  });
  const dataDir = dirname(statePath);
  const where = config.DATABASE_URL
    ? `PostgreSQL at ${new URL(config.DATABASE_URL).host}`
    : `PGlite in ${shortPath(config.PGLITE_DIR)}`;

  // One demo per data directory (PGlite cannot be shared), then the state it pins.
  try {
    const release = acquireLock(`${statePath}.lock`);
    stopLater('the data lock', release);
  } catch (error) {
    if (error instanceof LockedError) {
      throw new DemoError(
        `${error.message}: is another \`npm run demo\` running? Stop it first (or use another PGLITE_DIR).`,
      );
    }
    throw error;
  }
  const state = await demoState(statePath, options);
  const firstRun = !existsSync(statePath);

  let source: Deliveries;
  try {
    source = await loadDeliveries(options, state);
  } catch (error) {
    if (error instanceof OrdersFileError) throw new DemoError(error.message, 2);
    if (error instanceof InputFileError) throw new DemoError(error.message, 2);
    throw error;
  }
  if (firstRun) writeDemoState(statePath, state);
  say(`Laurel demo: ${state.shop} (${CURRENCY}, ${TIMEZONE}), data in ${where}`);
  say(`  ${firstRun ? 'New store' : 'Store'}: ${source.describe}.`);

  const built = await ensureAppBuilt({
    server: false,
    log: (line) => say(`  Building the app: ${line}`),
  });
  if (built.length === 0 && !existsSync(BUILD_MARKER)) throw new DemoError('build/ is missing');

  const redis = await ensureRedis(config.REDIS_URL, { log: (line) => say(`  ${line}`) }).catch(
    (error: Error) => {
      throw new DemoError(error.message);
    },
  );
  stopLater('redis-server', () => redis.stop());

  // Chosen before the build is imported: the app's URL (SHOPIFY_APP_URL) is read at import.
  const port = options.port === 0 ? await freePort() : options.port;
  const appUrl = `http://127.0.0.1:${port}`;

  const emulator = await startAdminEmulator({
    port: 0,
    accessTokens: { [state.shop]: state.accessToken },
    // The metafield definitions, as `shopify app deploy` installs them.
    appConfig: join(ROOT, 'shopify.app.toml'),
  });
  stopLater('the Admin API emulator', () => emulator.close());
  // The referred friends are customers at Shopify from the start too (their orders come later).
  const cast = referralCast(source.deliveries);
  seedEmulatorShop(
    emulator.state,
    state.shop,
    { name: SHOP_NAME, currencyCode: CURRENCY, ianaTimezone: TIMEZONE },
    [
      ...source.deliveries,
      ...(cast
        ? referralFriendDeliveries({
            shop: state.shop,
            timezone: TIMEZONE,
            history: source.deliveries,
            cast,
          })
        : []),
    ],
  );

  // Expiry reminders by email go to a local SMTP server that keeps them in memory (dev/mail-sink.ts).
  const mailSink = await startMailSink();
  stopLater('the mail sink', () => mailSink.close());

  // The environment the app reads, before its build is imported (env.server.ts parses it once).
  const queuePrefix = process.env.QUEUE_PREFIX || 'laurel-demo';
  const logFile = config.LOG_FILE ?? join(dataDir, 'demo.log');
  Object.assign(process.env, {
    NODE_ENV: config.NODE_ENV,
    SHOPIFY_API_KEY: state.apiKey,
    SHOPIFY_API_SECRET: state.apiSecret,
    SHOPIFY_APP_URL: appUrl,
    SCOPES,
    ADMIN_API_ENDPOINT: emulator.endpointTemplate,
    QUEUE_PREFIX: queuePrefix,
    REDIS_URL: redis.url,
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    LOG_FILE: logFile,
    DEMO_STATE_FILE: statePath,
    // The library's bounce page loads App Bridge from here instead of cdn.shopify.com.
    APP_BRIDGE_URL: `${appUrl}/dev/app-bridge.js`,
    HOST: '127.0.0.1',
    PORT: String(port),
    RECONCILE_EVERY_MS: process.env.RECONCILE_EVERY_MS || '5000',
    RECONCILE_AFTER_MS: process.env.RECONCILE_AFTER_MS || '15000',
    SMTP_URL: mailSink.url,
    REMINDER_FROM: 'rewards@laurel-demo.example',
  });

  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  } catch (error) {
    throw new DemoError(`cannot open the database, ${where}: ${(error as Error).message}`);
  }
  stopLater('the database', () => handle.close());
  await migrate(handle);
  const { db } = handle;

  const build = (await import(pathToFileURL(BUILD_MARKER).href)) as ServerBuild;
  const laurel = (build.entry.module as { laurel?: LaurelRuntime }).laurel;
  if (!laurel)
    throw new DemoError('the build has no `laurel` runtime export: rebuild with `npm run build`');
  laurel.useDatabase(handle);
  // What the app and its libraries print (a 404's error boundary, library warnings) goes to the
  // app log with everything else, so the terminal shows the demo's own lines.
  const consoleLog = laurel.logger().child({ component: 'console' });
  console.error = (...args: unknown[]) => consoleLog.error(format(...args));
  console.warn = (...args: unknown[]) => consoleLog.warn(format(...args));
  stopLater('the webhook queue', () => laurel.closeWebhookQueue());

  // The shop as an installation would leave it: the shop row, the reference program (effective
  // from the start of the history) and the offline session pointing at the emulator's token.
  const shop = await ensureShop(db, {
    domain: state.shop,
    name: SHOP_NAME,
    currency: CURRENCY,
    timezone: TIMEZONE,
  });
  if ((await listPrograms(db, shop.id)).length === 0) {
    await publishProgram(db, shop.id, referenceProgram, source.from);
  }
  await ensureDemoProgramHistory(db, shop.id, TIMEZONE);
  // Tiers before the replay: members move between them as their orders are processed.
  await ensureDemoTiers(db, shop.id, source.from);
  await seedRewardCatalog(db, shop.id);
  // Referrals from the history's start: the friends' orders come after the replay, with codes.
  await ensureDemoReferralProgram(db, shop.id, source.from);
  // A double-points weekend in the history (its orders earn ×2), the bonuses, and an expiry policy
  // short enough for three months of history to show lots expiring (dev/demo/lifecycle.ts).
  const campaign = await demoCampaigns(db, shop, source.from);
  await ensureDemoBonusProgram(db, shop.id, source.from);
  await ensureDemoExpiryPolicy(db, shop.id, source.from);
  await new ProcessSessionStorage({ database: async () => db, cacheTtlMs: 0 }).storeSession(
    new Session({
      id: `offline_${state.shop}`,
      shop: state.shop,
      state: 'installed',
      isOnline: false,
      scope: SCOPES,
      accessToken: state.accessToken,
    }),
  );
  // The emulator starts empty every run: whatever an earlier run wrote to it is gone.
  await resyncShop(db, shop.id);

  // The sweep every 5 s: a re-run has no new webhooks to prompt a sync of the resynced members.
  const workers = await laurel.startWorkers({ db, metafields: { sweepEveryMs: 5_000 } });
  stopLater('the workers', () => workers.close());
  await Promise.race([
    workers.ready,
    sleep(20_000).then(() => {
      throw new DemoError(`the workers could not reach Redis at ${redis.url} within 20 s`);
    }),
  ]);

  let server: AppServer;
  try {
    server = await startAppServer({
      build,
      port,
      host: '127.0.0.1',
      clientDir: join(ROOT, 'build', 'client'),
      mode: 'development',
      drainTimeoutMs: 5_000,
      onError: (error) =>
        laurel
          .logger()
          .error({ err: error instanceof Error ? error.stack : String(error) }, 'request failed'),
    });
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new DemoError(
      inUse
        ? `port ${port} is in use: pass --port N, or --port 0 for a free one`
        : `cannot listen on port ${port}: ${(error as Error).message}`,
    );
  }
  stopLater('the web server', () => server.close());

  // Replay through the real endpoints. The inbox recognises webhook ids it already holds, so a
  // re-run posts nothing twice.
  const deliveries = source.deliveries;
  const known = await knownWebhookIds(
    db,
    state.shop,
    deliveries.map((d) => d.webhookId),
  );
  const entriesBefore = await countEntries(db, shop.id);
  const replayStartedAt = new Date();
  const replayStarted = performance.now();
  const bar = replayProgress(deliveries.length);
  try {
    // A month at a time, each processed before the next: tiers move as the months go by.
    let sent = 0;
    for (const month of chunksByMonth(deliveries, TIMEZONE)) {
      if (sent > 0) await waitForWorkers(db, state.shop, { progress: false });
      const offset = sent;
      await replayDeliveries({
        baseUrl: server.url,
        shop: state.shop,
        secret: state.apiSecret,
        deliveries: month,
        onProgress: (done) => bar.update(offset + done),
      });
      sent += month.length;
    }
  } catch (error) {
    bar.finish();
    if (error instanceof ReplayError) throw new DemoError(`the replay stopped: ${error.message}`);
    throw error;
  }
  bar.finish();
  const replayMs = performance.now() - replayStarted;

  const waited = await waitForWorkers(db, state.shop);
  const members = await listMembers(db, shop.id);
  const names = new Map(
    members.map((m) => [
      m.externalId,
      [m.firstName, m.lastName].filter(Boolean).join(' ') || m.email || '',
    ]),
  );
  const admin = createAdminClient({
    shop: state.shop,
    accessToken: state.accessToken,
    endpoint: emulator.endpointTemplate,
    logger: laurel.logger(),
  });
  // Friends' first orders with members' codes, once the code sync has put those into Shopify's
  // friend discount (dev/demo/referrals.ts); their own orders earn too, so before the report.
  const referrals = await demoReferrals({
    db,
    shopId: shop.id,
    shop: state.shop,
    timezone: TIMEZONE,
    history: deliveries,
    secret: state.apiSecret,
    baseUrl: server.url,
    syncCodes: () => syncReferralCodes(db, shop, admin, new Date(), { log: laurel.logger() }),
    seed: (sent) =>
      seedEmulatorShop(
        emulator.state,
        state.shop,
        { name: SHOP_NAME, currencyCode: CURRENCY, ianaTimezone: TIMEZONE },
        sent,
      ),
    names,
    timeoutMs: STALL_MS,
  });
  // Before the figures are read, so they include it on every run alike (a re-run repeats it). The
  // members as they stand after the referrals: a referrer's reward can make them the top member,
  // and a re-run (whose members list already holds it) must pick the same one.
  const redeemer = topMember(await listMembers(db, shop.id));
  const redemption =
    redeemer &&
    (await demoRedemption({
      db,
      shopId: shop.id,
      shop: state.shop,
      currency: CURRENCY,
      secret: state.apiSecret,
      baseUrl: server.url,
      emulator,
      member: {
        externalId: redeemer.externalId,
        name: names.get(redeemer.externalId) || redeemer.externalId,
        email: redeemer.email,
        firstName: redeemer.firstName,
        lastName: redeemer.lastName,
      },
      timeoutMs: STALL_MS,
    }));
  // Before the figures are counted and printed: the admin and the storefront show it too.
  const adjusted = await demoAdjustment({ db, shop, names, adminUrl: `${appUrl}/dev/admin` });
  const bonuses = await demoBonuses(db, shop, new Date());
  const lifecycleQueue = createLifecycleQueue(
    { redisUrl: redis.url, prefix: queuePrefix },
    redisOptions(redis.url),
  );
  stopLater('the lifecycle queue', () => lifecycleQueue.close());
  const lifecycle = await demoLifecycle({
    db,
    shop,
    queue: lifecycleQueue,
    now: new Date(),
    mails: () => mailSink.messages().length,
    timeoutMs: STALL_MS,
  });
  const entriesAfter = await countEntries(db, shop.id);
  say(
    `Replayed ${fmt(deliveries.length)} webhooks in ${seconds(replayMs)}: ${fmt(known.size)} deliveries already received, ${fmt(entriesAfter - entriesBefore)} new entries.`,
  );

  let healthy = true;
  if (waited.stalled) {
    healthy = false;
    say(
      `Warning: ${deliveriesCount(waited.received)} still waiting for the workers after ${seconds(STALL_MS)} without progress; see ${shortPath(logFile)}.`,
    );
    for (const row of await shopInboxFailures(db, state.shop, 'received', 5)) {
      say(
        `  ${row.topic} ${row.webhookId}: ${row.attempts} attempts, last error: ${row.lastError}`,
      );
    }
  }
  if (waited.dead > 0) {
    healthy = false;
    say(
      `Warning: ${deliveriesCount(waited.dead)} dead-lettered (\`loyalty inbox dead\` lists them):`,
    );
    for (const row of await shopInboxFailures(db, state.shop, 'dead', 10)) {
      say(`  ${row.topic} ${row.webhookId}: ${row.lastError}`);
    }
  }

  // The report from the ledger, and the independent expectation.
  const report = await earnedReport(db, shop.id);
  // Which tier each award was posted under is the ledger's to say (dev/demo/tiers.ts).
  const multipliers = await awardMultipliers(db, shop.id);
  // The weekend doubles its orders on top of the tier multiplier (the campaign multiplies it).
  const doubled = campaignBpsByOrder([...deliveries, ...referrals.deliveries], campaign);
  const expected = expectedReport(
    expectedResults([...deliveries, ...referrals.deliveries], {
      timezone: TIMEZONE,
      awardMultiplierBps: (orderId) =>
        ((multipliers.byOrder.get(orderId) ?? 10_000) * (doubled.get(orderId) ?? 10_000)) / 10_000,
    }),
  );
  say();
  say(formatReportSummary(report, { names, timezone: TIMEZONE }));
  const totals = await shopTotals(db, shop.id);
  say(`Members: ${fmt(totals.members)} · points outstanding: ${fmt(totals.pointsOutstanding)}`);
  const differences = [...reportDifferences(report, expected), ...multipliers.problems];
  if (differences.length === 0) {
    say(
      `Check: the ledger agrees with the independent expectation (dev/demo/expected.ts): ${fmt(report.customers.length)} customers, ${report.months.length} months, ${fmt(report.totals.total)} points, ${fmt(multipliers.byOrder.size)} awards at the multiplier of the tier held (${fmt(multipliers.multiplied)} above ×1).`,
    );
  } else {
    healthy = false;
    say('Check: the ledger DISAGREES with the independent expectation (dev/demo/expected.ts):');
    for (const line of differences) say(`  ${line}`);
  }
  const storefront = await checkStorefrontSync({
    db,
    shopId: shop.id,
    emulator,
    shop: state.shop,
    since: replayStartedAt,
    ledgerChanges: entriesAfter - entriesBefore,
    timeoutMs: STALL_MS,
  });
  say(storefront.line);
  if (!storefront.ok) healthy = false;
  if (redemption) {
    say(redemption.line);
    if (!redemption.ok) healthy = false;
  }
  say(await tiersLine(db, shop.id));
  for (const line of referrals.lines) say(line);
  if (!referrals.ok) healthy = false;
  const early = await demoEarlyAccess({
    db,
    shopId: shop.id,
    shop: state.shop,
    timezone: TIMEZONE,
    admin,
    log: laurel.logger(),
    appUrl,
    baseUrl: server.url,
    secret: state.apiSecret,
    names,
  });
  for (const line of early.lines) say(line);
  if (!early.ok) healthy = false;
  say(adjusted.line);
  if (!adjusted.ok) healthy = false;
  say(
    `Campaign: ${DEMO_CAMPAIGN_NAME}, ${localTimeText(campaign.startsAt.getTime(), TIMEZONE).slice(0, 16).replace('T', ' ')} to ${localTimeText(campaign.endsAt.getTime(), TIMEZONE).slice(0, 16).replace('T', ' ')} (${TIMEZONE}): ${fmt(doubled.size)} orders earned ×2 on top of their tier.`,
  );
  say(bonusesLine(bonuses, names));
  say(lifecycle.line);
  if (!lifecycle.ok) healthy = false;
  if (!storefront.settled) {
    say(
      `Warning: the storefront sync did not settle within ${seconds(STALL_MS)}; see ${shortPath(logFile)}.`,
    );
  }

  say();
  say(`Admin (local, dev only):  ${appUrl}/dev/admin`);
  say(`  Rewards catalog:        ${appUrl}/dev/admin?path=/app/rewards`);
  say(`  Redemptions:            ${appUrl}/dev/admin?path=/app/redemptions`);
  say(`  Tiers:                  ${appUrl}/dev/admin?path=/app/tiers`);
  say(`  Early access:           ${appUrl}/dev/admin?path=/app/early-access`);
  say(`  Campaigns:              ${appUrl}/dev/admin?path=/app/campaigns`);
  say(`  Bonuses:                ${appUrl}/dev/admin?path=/app/bonuses`);
  say(`  Expiry:                 ${appUrl}/dev/admin?path=/app/expiry`);
  // From the history's first day: the friends' orders are dated in its last days.
  const referralsPath = `/app/referrals?from=${localTimeText(source.from.getTime(), TIMEZONE).slice(0, 10)}`;
  say(`  Referrals:              ${appUrl}/dev/admin?path=${encodeURIComponent(referralsPath)}`);
  say(`Storefront preview:       ${appUrl}/dev/preview`);
  // How to see each theme block there (docs/demo.md, "Storefront preview").
  const current = await listMembers(db, shop.id);
  const member = current.find((m) => m.balance > 0) ?? current[0];
  const memberUrl = member ? `${appUrl}/dev/preview?customer=${member.externalId}` : undefined;
  say(`  Logged out:             ${appUrl}/dev/preview (program sentence, sign-in/join links)`);
  if (member && memberUrl) {
    const who = names.get(member.externalId) || member.externalId;
    say(`  A member:               ${memberUrl} (${who}: ${fmt(member.balance)} points)`);
  }
  say('  Product block:          under the product on every preview page; change the size');
  say('  Launcher:               the Rewards button in the corner; Tab to it, Enter, Escape');
  say('  Redeem:                 a member redeems in the launcher or the Rewards block');
  say(
    `  In French:              ${memberUrl ? `${memberUrl}&` : `${appUrl}/dev/preview?`}locale=fr`,
  );
  say(`Health:                   ${appUrl}/healthz`);
  say(`Admin API emulator:       ${emulator.url(state.shop)}`);
  say(`App logs:                 ${shortPath(logFile)}`);
  say(`Ready in ${seconds(performance.now() - started)}.`);

  if (!options.serve) {
    await stopAll(healthy ? 0 : 1);
    return;
  }
  serving = true;
  say('Serving until Ctrl-C.');
}

main().catch((error: unknown) => {
  if (error instanceof DemoError) warn(`demo: ${error.message}`);
  else warn(`demo: ${(error as Error).stack ?? String(error)}`);
  void stopAll(error instanceof DemoError ? error.exitCode : 1);
});
