/**
 * The Shopify host every Laurel UI extension's tests run in, on top of
 * @shopify/ui-extensions-tester: a document (./dom.ts), shopify.i18n reading the extension's real
 * locale files the way Shopify does (dotted keys, {{name}} replacements, plural forms picked by
 * `count`), the app URL the CLI would inline, a session token, and a network that answers per URL
 * and records every request. Nothing of the extension itself is replaced.
 *
 * Each extension's tests/helpers/host.ts adds what is its own (the customer-account endpoints,
 * checkout's signals) and calls {@link setUpExtension} and {@link perTest}.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getExtension } from '@shopify/ui-extensions-tester';
import type { I18n } from '@shopify/ui-extensions';
import { render } from 'preact';
import { afterEach, beforeEach, vi } from 'vitest';
import { installDom, type MiniElement } from './dom';

/** The app URL the tests inline, as the CLI does at `shopify app dev`/`deploy`. */
export const APP_URL = 'https://laurel.test';

export type Messages = { [key: string]: string | Messages };

/** An extension's locale files: `en` (en.default.json) and `fr`. */
export function readLocales(extensionDir: string): Record<string, Messages> {
  const read = (file: string) =>
    JSON.parse(readFileSync(join(extensionDir, 'locales', file), 'utf8')) as Messages;
  return { en: read('en.default.json'), fr: read('fr.json') };
}

/**
 * The extension whose tests/helpers/ holds the module at `helperUrl` (its import.meta.url): its
 * folder (with a trailing slash) and its locale files.
 */
export function extensionOf(helperUrl: string) {
  const dir = fileURLToPath(new URL('../../', helperUrl));
  return { dir, locales: readLocales(dir) };
}

/**
 * shopify.i18n.translate as Shopify documents it. A missing key or replacement throws, so a
 * component asking for a string the locale files do not have fails its test.
 */
export function translator(locales: Record<string, Messages>, locale: () => string) {
  return (key: string, replacements: Record<string, unknown> = {}): string => {
    const language = locale();
    const messages = locales[language];
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

/** The targets Laurel's UI extensions render. */
export type LaurelTarget =
  | 'customer-account.profile.block.render'
  | 'customer-account.page.render'
  | 'purchase.checkout.reductions.render-after';

/** What of `shopify` this host sets, the same on every target it serves. */
interface HostBasics {
  i18n: Pick<I18n, 'formatNumber' | 'formatCurrency' | 'formatDate'> & {
    translate: (key: string, replacements?: Record<string, unknown>) => string;
  };
  localization: { extensionLanguage: { value: { isoCode: string } } };
  sessionToken: { get(): Promise<string> };
}

export interface ExtensionOptions {
  /** The folder holding shopify.extension.toml and locales/. */
  extensionDir: string;
  locales: Record<string, Messages>;
  /** What shopify.sessionToken.get() answers. */
  sessionToken: string;
}

/**
 * The tester's harness for `target`, with the pieces above installed; the returned teardown
 * unmounts and restores everything. The formatters read the extension language on every call, so
 * a test (or a host that makes it a signal) can change it.
 */
export function setUpExtension<T extends LaurelTarget>(target: T, options: ExtensionOptions) {
  const restoreDom = installDom();
  const extension = getExtension(target, { configSearchDir: options.extensionDir });
  extension.setUp();
  const network = new FakeNetwork();
  extension.fetch = network.fetch as typeof fetch;
  // The three targets' APIs all have these members; TypeScript cannot see it through the generic.
  const shopify = extension.shopify as unknown as HostBasics;
  const locale = () => shopify.localization.extensionLanguage.value.isoCode;
  shopify.i18n.translate = translator(options.locales, locale);
  shopify.i18n.formatNumber = (value, format = {}) => {
    const { inExtensionLocale: _, ...rest } = format;
    return new Intl.NumberFormat(locale(), rest).format(value);
  };
  shopify.i18n.formatCurrency = (value, format = {}) => {
    const { inExtensionLocale: _, ...rest } = format;
    return new Intl.NumberFormat(locale(), { style: 'currency', ...rest }).format(value);
  };
  shopify.i18n.formatDate = (date, format = {}) => {
    const { inExtensionLocale: _, ...rest } = format;
    return new Intl.DateTimeFormat(locale(), { ...rest, timeZone: 'UTC' }).format(date);
  };
  shopify.sessionToken.get = async () => options.sessionToken;
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

/**
 * A fresh host from `setUp` in each test of the calling file (or describe block), torn down after
 * it; the returned object reads the current test's. Hooks the caller adds later run after set-up.
 */
export function perTest<H extends { teardown: () => void }>(setUp: () => H): Omit<H, 'teardown'> {
  let current: H | undefined;
  beforeEach(() => {
    current = setUp();
  });
  afterEach(() => {
    current?.teardown();
    current = undefined;
  });
  return new Proxy({} as Omit<H, 'teardown'>, {
    get: (_, name) => {
      if (!current) throw new Error('the host exists only inside a test');
      return Reflect.get(current, name);
    },
  });
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
