/**
 * The checkout host for the extension tests, on top of @shopify/ui-extensions-tester: the
 * customer-account extension's document and network (../../../laurel-account/tests/helpers), this
 * extension's real locale files through shopify.i18n, and the checkout values the extension reads
 * as real Preact signals — Shopify's host creates them with the Signal class the extension hands it
 * (`shopify.setSignals`), so setting `.value` re-renders exactly as a change in checkout does. The
 * tester's own mocks are static, and have no `buyerIdentity`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signal, type Signal } from '@preact/signals';
import { getExtension } from '@shopify/ui-extensions-tester';
import { parseProgram, referenceProgram } from '../../../../loyalty/program';
import { programSummary, type ProgramSummary } from '../../../../loyalty/program-summary';
import type {
  AppMetafieldEntry,
  CartDiscountAllocation,
  CartDiscountCode,
  CartInstructions,
  Customer,
  Language,
  Money,
  SubscribableSignalLike,
} from '@shopify/ui-extensions/checkout';
import { render } from 'preact';
import { afterEach, beforeEach, vi } from 'vitest';
import { installDom } from '../../../laurel-account/tests/helpers/dom';
import { FakeNetwork } from '../../../laurel-account/tests/helpers/host';

export {
  body,
  click,
  contractError,
  json,
  never,
  text,
  waitFor,
} from '../../../laurel-account/tests/helpers/host';

export const EXTENSION_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const TARGET = 'purchase.checkout.reductions.render-after';
export const APP_URL = 'https://laurel.test';
export const REWARDS_URL = `${APP_URL}/api/checkout/rewards`;
export const SESSION_TOKEN = 'header.payload-of-checkout.signature';
export const CUSTOMER_ID = 'gid://shopify/Customer/7001';

type Messages = { [key: string]: string | Messages };

const readLocale = (file: string): Messages =>
  JSON.parse(readFileSync(`${EXTENSION_DIR}locales/${file}`, 'utf8')) as Messages;

export const LOCALES: Record<string, Messages> = {
  en: readLocale('en.default.json'),
  fr: readLocale('fr.json'),
};

/** shopify.i18n.translate as Shopify documents it; a missing key or replacement throws. */
function translate(language: string, key: string, replacements: Record<string, unknown> = {}) {
  let entry: string | Messages | undefined = LOCALES[language];
  if (!entry) throw new Error(`no locale file for ${language}`);
  for (const part of key.split('.')) entry = typeof entry === 'object' ? entry[part] : undefined;
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
}

/** The reference program's summary (loyalty/program.ts): $50–$100 at 1/$, above $100 at 2/$. */
export const REFERENCE_SUMMARY: ProgramSummary = programSummary(parseProgram(referenceProgram), 3);

export function programEntry(summary: unknown = REFERENCE_SUMMARY): AppMetafieldEntry {
  return {
    target: { type: 'shop', id: 'gid://shopify/Shop/1' },
    metafield: {
      namespace: '$app',
      key: 'program',
      value: typeof summary === 'string' ? summary : JSON.stringify(summary),
      valueType: 'json_string',
      type: 'json',
    },
  };
}

export function balanceEntry(value: string): AppMetafieldEntry {
  return {
    target: { type: 'customer', id: CUSTOMER_ID },
    metafield: {
      namespace: '$app',
      key: 'points_balance',
      value,
      valueType: 'integer',
      type: 'number_integer',
    },
  };
}

export const usd = (amount: number, currencyCode = 'USD'): Money =>
  ({ amount, currencyCode }) as Money;

/** A Preact signal with the rest of checkout's SubscribableSignalLike (`current`, `destroy`). */
export type HostSignal<T> = Signal<T> & SubscribableSignalLike<T>;

function hostSignal<T>(value: T): HostSignal<T> {
  const host = signal(value);
  Object.defineProperty(host, 'current', { get: () => host.value });
  return Object.assign(host, { destroy: async () => undefined }) as HostSignal<T>;
}

/** The checkout values the extension reads, as signals a test sets. */
export interface Checkout {
  appMetafields: HostSignal<AppMetafieldEntry[]>;
  subtotal: HostSignal<Money>;
  total: HostSignal<Money>;
  discountCodes: HostSignal<CartDiscountCode[]>;
  discountAllocations: HostSignal<CartDiscountAllocation[]>;
  instructions: HostSignal<CartInstructions>;
  customer: HostSignal<Customer | undefined>;
  language: HostSignal<Language>;
}

function setUpHost() {
  const restoreDom = installDom();
  const extension = getExtension(TARGET, { configSearchDir: EXTENSION_DIR });
  extension.setUp();
  const network = new FakeNetwork();
  extension.fetch = network.fetch as typeof fetch;
  const { shopify } = extension;

  const checkout: Checkout = {
    appMetafields: hostSignal([programEntry()]),
    subtotal: hostSignal(usd(120)),
    total: hostSignal(usd(120)),
    discountCodes: hostSignal([]),
    discountAllocations: hostSignal([]),
    instructions: hostSignal(shopify.instructions.value),
    customer: hostSignal(undefined),
    language: hostSignal({ isoCode: 'en' }),
  };
  shopify.appMetafields = checkout.appMetafields;
  shopify.cost.subtotalAmount = checkout.subtotal;
  shopify.cost.totalAmount = checkout.total;
  shopify.discountCodes = checkout.discountCodes;
  shopify.discountAllocations = checkout.discountAllocations;
  shopify.instructions = checkout.instructions;
  shopify.localization.extensionLanguage = checkout.language as HostSignal<Language>;
  // The tester's proxy refuses to set a property its mock lacks; defining one is not trapped.
  Object.defineProperty(shopify, 'buyerIdentity', {
    value: {
      customer: checkout.customer,
      email: hostSignal(undefined),
      phone: hostSignal(undefined),
      purchasingCompany: hostSignal(undefined),
    },
    configurable: true,
    enumerable: true,
    writable: true,
  });

  const language = () => checkout.language.value.isoCode;
  shopify.i18n.translate = ((key: string, replacements?: Record<string, unknown>) =>
    translate(language(), key, replacements)) as typeof shopify.i18n.translate;
  shopify.i18n.formatNumber = (value, options = {}) => {
    const { inExtensionLocale: _, ...format } = options;
    return new Intl.NumberFormat(language(), format).format(value);
  };
  shopify.i18n.formatCurrency = (value, options = {}) => {
    const { inExtensionLocale: _, ...format } = options;
    return new Intl.NumberFormat(language(), { style: 'currency', ...format }).format(value);
  };
  shopify.i18n.formatDate = (date, options = {}) => {
    const { inExtensionLocale: _, ...format } = options;
    return new Intl.DateTimeFormat(language(), { ...format, timeZone: 'UTC' }).format(date);
  };
  shopify.sessionToken.get = async () => SESSION_TOKEN;
  const applyDiscountCodeChange = vi.fn(shopify.applyDiscountCodeChange);
  shopify.applyDiscountCodeChange = applyDiscountCodeChange;
  vi.stubEnv('APP_URL', APP_URL);
  vi.stubEnv('SHOPIFY_APP_URL', '');

  const teardown = () => {
    render(null, document.body as unknown as Element);
    extension.tearDown();
    vi.unstubAllEnvs();
    restoreDom();
  };
  return { extension, network, checkout, applyDiscountCodeChange, teardown };
}

export type Host = Omit<ReturnType<typeof setUpHost>, 'teardown'>;

/** A fresh host in each test of the calling file; the returned object reads the current test's. */
export function hostPerTest(): Host {
  let current: ReturnType<typeof setUpHost> | undefined;
  beforeEach(() => {
    current = setUpHost();
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
    get checkout() {
      return now().checkout;
    },
    get applyDiscountCodeChange() {
      return now().applyDiscountCodeChange;
    },
  };
}

/** Signs the buyer in as CUSTOMER_ID. */
export function signIn(host: Host): void {
  host.checkout.customer.value = { id: CUSTOMER_ID } as Customer;
}
