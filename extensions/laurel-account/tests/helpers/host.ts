/**
 * The Shopify host for the extension tests, on top of @shopify/ui-extensions-tester: a document
 * (./dom.ts), shopify.i18n reading this extension's real locale files the way Shopify does
 * (dotted keys, {{name}} replacements, plural forms picked by `count`), the app URL the CLI would
 * inline, and a network that answers per URL and records every request. Nothing of the extension
 * itself is replaced.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getExtension } from '@shopify/ui-extensions-tester';
import { render } from 'preact';
import { afterEach, beforeEach, vi } from 'vitest';
import { installDom, type MiniElement } from './dom';

export const EXTENSION_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const APP_URL = 'https://laurel.test';
export const CUSTOMER_ACCOUNT_API = 'shopify://customer-account/api/2026-07/graphql.json';
export const SESSION_TOKEN = 'header.payload-of-customer-42.signature';

/** The storefront contract's customer account endpoints on the app at `appUrl`. */
export function accountApi(appUrl = APP_URL) {
  return { summary: `${appUrl}/api/account/summary`, history: `${appUrl}/api/account/history` };
}

type Messages = { [key: string]: string | Messages };

function readLocale(file: string): Messages {
  return JSON.parse(readFileSync(`${EXTENSION_DIR}locales/${file}`, 'utf8')) as Messages;
}

export const LOCALES: Record<string, Messages> = {
  en: readLocale('en.default.json'),
  fr: readLocale('fr.json'),
};

/**
 * shopify.i18n.translate as Shopify documents it. A missing key or replacement throws, so a
 * component asking for a string the locale files do not have fails its test.
 */
export function translator(locale: () => string) {
  return (key: string, replacements: Record<string, unknown> = {}): string => {
    const language = locale();
    const messages = LOCALES[language];
    if (!messages) throw new Error(`no locale file for ${language}`);
    let entry: string | Messages | undefined = messages;
    for (const part of key.split('.')) {
      entry = typeof entry === 'object' ? entry[part] : undefined;
    }
    if (typeof entry === 'object') {
      const count = replacements.count;
      if (typeof count !== 'number') throw new Error(`${key} needs a count`);
      const forms: Messages = entry;
      entry = forms[new Intl.PluralRules(language).select(count)] ?? forms.other;
    }
    if (typeof entry !== 'string') throw new Error(`missing translation ${language}:${key}`);
    return entry.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
      if (!(name in replacements)) throw new Error(`${key} needs {{${name}}}`);
      return String(replacements[name]);
    });
  };
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
}

type Answer = Response | Promise<Response>;
type Handler = (request: RecordedRequest, signal: AbortSignal | undefined) => Answer;

/** Answers by URL (no query string); an unrouted URL fails the test. */
export class FakeNetwork {
  readonly requests: RecordedRequest[] = [];
  readonly routes = new Map<string, Handler>();

  on(url: string, handler: Handler): this {
    this.routes.set(url, handler);
    return this;
  }

  to(url: string): RecordedRequest[] {
    return this.requests.filter((request) => request.url.split('?')[0] === url);
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const request: RecordedRequest = {
      url,
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? init.body : undefined,
    };
    this.requests.push(request);
    const handler = this.routes.get(url.split('?')[0] ?? url);
    if (!handler) throw new Error(`unexpected request to ${url}`);
    return handler(request, init.signal ?? undefined);
  };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

export function contractError(status: number, code: string, message = code): Response {
  return json({ error: { code, message } }, status);
}

/** A request that stays pending until the extension aborts it. */
export function never(_: RecordedRequest, signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
}

/** The Customer Account API answer for the member's $app metafields (null: not written). */
export function metafieldsAnswer(values: {
  pointsBalance?: string | null;
  lifetimePoints?: string | null;
  tier?: string | null;
  referralCode?: string | null;
}): Response {
  const field = (value: string | null | undefined) =>
    value === null || value === undefined ? null : { value };
  return json({
    data: {
      customer: {
        pointsBalance: field(values.pointsBalance),
        lifetimePoints: field(values.lifetimePoints),
        tier: field(values.tier),
        referralCode: field(values.referralCode),
      },
    },
  });
}

export const NO_METAFIELDS = () => metafieldsAnswer({});

type Target = 'customer-account.profile.block.render' | 'customer-account.page.render';

/**
 * The tester's harness for `target`, with the pieces above installed: call in beforeEach, and the
 * returned teardown in afterEach.
 */
export function setUpHost(target: Target) {
  const restoreDom = installDom();
  const extension = getExtension(target, { configSearchDir: EXTENSION_DIR });
  extension.setUp();
  const network = new FakeNetwork();
  extension.fetch = network.fetch as typeof fetch;
  const locale = () => extension.shopify.localization.extensionLanguage.value.isoCode;
  extension.shopify.i18n.translate = translator(locale) as typeof extension.shopify.i18n.translate;
  extension.shopify.i18n.formatNumber = (value, options = {}) => {
    const { inExtensionLocale: _, ...format } = options;
    return new Intl.NumberFormat(locale(), format).format(value);
  };
  extension.shopify.i18n.formatDate = (date, options = {}) => {
    const { inExtensionLocale: _, ...format } = options;
    return new Intl.DateTimeFormat(locale(), { ...format, timeZone: 'UTC' }).format(date);
  };
  extension.shopify.sessionToken.get = async () => SESSION_TOKEN;
  vi.stubEnv('APP_URL', APP_URL);
  vi.stubEnv('SHOPIFY_APP_URL', '');

  const teardown = () => {
    // Unmount through Preact so its effects clean up (the tester's own fallback only empties the
    // body), then let the tester remove its globals.
    render(null, document.body as unknown as Element);
    extension.tearDown();
    vi.unstubAllEnvs();
    restoreDom();
  };
  return { extension, network, teardown };
}

export type Host = Omit<ReturnType<typeof setUpHost>, 'teardown'>;

/**
 * A fresh host for `target` in each test of the calling file (or describe block), torn down after
 * it; the returned object reads the current test's. Hooks the caller adds later run after set-up.
 */
export function hostPerTest(target: Target): Host {
  let current: ReturnType<typeof setUpHost> | undefined;
  beforeEach(() => {
    current = setUpHost(target);
  });
  afterEach(() => {
    current?.teardown();
    current = undefined;
  });
  const now = () => {
    if (!current) throw new Error('the host exists only inside a test');
    return current;
  };
  return {
    get extension() {
      return now().extension;
    },
    get network() {
      return now().network;
    },
  };
}

export function body(): MiniElement {
  return document.body as unknown as MiniElement;
}

/** Visible text of the rendered extension, whitespace collapsed. */
export function text(element: MiniElement | null = body()): string {
  return (element?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** Retries `check` until it stops throwing (Preact renders and effects run asynchronously). */
export async function waitFor<T>(check: () => T, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

export function click(element: MiniElement | null): void {
  if (!element) throw new Error('nothing to click');
  element.dispatchEvent(new Event('click'));
}
