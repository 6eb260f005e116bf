/**
 * The checkout host for the extension tests: the shared Laurel extension host
 * (extensions/shared/tests/helpers/host.ts: document, i18n over this extension's locale files,
 * the app URL, a recording network), plus the checkout values the extension reads as real Preact
 * signals — Shopify's host creates them with the Signal class the extension hands it
 * (`shopify.setSignals`), so setting `.value` re-renders exactly as a change in checkout does. The
 * tester's own mocks are static, and have no `buyerIdentity`.
 */
import { signal, type Signal } from '@preact/signals';
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
import { vi } from 'vitest';
import * as shared from '../../../shared/tests/helpers/host';

// Everything the shared host has; below, what is this extension's own.
export * from '../../../shared/tests/helpers/host';

export const { dir: EXTENSION_DIR, locales: LOCALES } = shared.extensionOf(import.meta.url);
export const TARGET = 'purchase.checkout.reductions.render-after';
export const REWARDS_URL = `${shared.APP_URL}/api/checkout/rewards`;
export const SESSION_TOKEN = 'header.payload-of-checkout.signature';
export const CUSTOMER_ID = 'gid://shopify/Customer/7001';

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
  const { extension, network, teardown } = shared.setUpExtension(TARGET, {
    extensionDir: EXTENSION_DIR,
    locales: LOCALES,
    sessionToken: SESSION_TOKEN,
  });
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
  // The shared host's i18n reads the language from here on every call.
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
  const applyDiscountCodeChange = vi.fn(shopify.applyDiscountCodeChange);
  shopify.applyDiscountCodeChange = applyDiscountCodeChange;
  return { extension, network, checkout, applyDiscountCodeChange, teardown };
}

export type Host = Omit<ReturnType<typeof setUpHost>, 'teardown'>;

/** A fresh host in each test of the calling file; the returned object reads the current test's. */
export function hostPerTest(): Host {
  return shared.perTest(setUpHost);
}

/** Signs the buyer in as CUSTOMER_ID. */
export function signIn(host: Host): void {
  host.checkout.customer.value = { id: CUSTOMER_ID } as Customer;
}
