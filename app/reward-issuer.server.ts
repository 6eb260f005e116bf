/**
 * Turns a redemption into what Shopify gives the shopper: a discount code restricted to them (amount
 * or percentage off the order, free shipping, one unit of a product free) or store credit. Pure of
 * the database: it takes an Admin client and answers what happened, so the redemption service
 * (app/redemption.server.ts) can record it. Contract: /work/briefs/redemption-contract.md, "Redeem
 * flow" step 2.
 *
 * Never twice. A create whose answer was lost (OUTCOME_UNKNOWN: a 5xx or a dropped connection after
 * sending) is reconciled, not blindly resent:
 * - Code discounts carry our code, which is random and unique per shop. Looking it up tells whether
 *   the create landed; if not, one resend is safe because Shopify refuses a second discount with the
 *   same code (TAKEN), and TAKEN on our code is again resolved by looking it up. For the same reason
 *   the caller may call issueReward again with the same code at any time.
 * - Store credit carries no reference of ours (see creditStore), so it is never resent.
 *
 * Outcomes and throws:
 * - `issued` / `credited`: Shopify holds the discount / the credit transaction.
 * - `refused`: Shopify refused (userErrors, a variant that cannot be bought, a revoked token, a
 *   document it rejected) and nothing was created. Safe to give the points back.
 * - `unknown`: something may have been created and reconciling could not tell. Keep the redemption
 *   pending; findIssuedDiscount (codes) settles it later. Never give the points back blindly.
 * - Throws AdminApiError when the failure is transient and nothing ran (still THROTTLED after the
 *   client's attempts, or a connection that never reached Shopify): the same call may be made
 *   again later unchanged. Any other exception is a bug.
 */
import { formatMoney, isKnownCurrency, MoneyError, parseMoney } from '../loyalty/money';
import type { IssuedValue } from '../loyalty/rewards';
import {
  CodeDiscountNodeByCode,
  CustomerStoreCreditTransactions,
  DiscountCodeBasicCreate,
  DiscountCodeDeactivate,
  DiscountCodeFreeShippingCreate,
  ProductVariant,
  StoreCreditAccountCredit,
  type CodeDiscountNodeByCodeResult,
  type DiscountCodeBasicInput,
  type DiscountCodeFreeShippingInput,
  type DiscountStatus,
  type StoreCreditTransactionSummary,
} from './graphql';
import { AdminApiError, type AdminClient } from './shopify/admin-client.server';

export interface IssueRequest {
  /** The redemption's code, generated before calling (so a retry can look it up). Unused for store credit. */
  code: string;
  /** Discount title merchants see in Shopify admin. */
  title: string;
  /** `gid://shopify/Customer/<n>`: the only buyer who may use the code / who is credited. */
  customerGid: string;
  value: IssuedValue;
  startsAt: Date;
  /** When the code (or the store credit) stops working; null: never. */
  endsAt: Date | null;
  /** Minimum order subtotal for the code; ignored for store credit. */
  minimumOrderMinor: number | null;
  /** The shop's currency: discount amounts, minimums and prices are in it. */
  currency: string;
  combinesWith: { orderDiscounts: boolean; productDiscounts: boolean; shippingDiscounts: boolean };
}

export type IssueOutcome =
  | { kind: 'issued'; discountId: string }
  | { kind: 'credited'; storeCreditTransactionId: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'unknown'; reason: string };

export interface IssuedDiscount {
  /** The DiscountCodeNode gid. */
  discountId: string;
  status: DiscountStatus;
  /** Orders that used the code so far (Shopify counts asynchronously: may lag a little). */
  usageCount: number;
}

/** Newest store credit transactions read per account when reconciling a credit. */
const TRANSACTIONS_PAGE = 40;

const refused = (reason: string): IssueOutcome => ({ kind: 'refused', reason });
const unknown = (reason: string): IssueOutcome => ({ kind: 'unknown', reason });

/** Creates in Shopify what `request.value` says, for `request.customerGid` only. */
export async function issueReward(
  client: AdminClient,
  request: IssueRequest,
): Promise<IssueOutcome> {
  const invalid = requestProblem(request);
  if (invalid) return refused(invalid);
  const { value } = request;
  switch (value.kind) {
    case 'store_credit':
      return creditStore(client, request, value.amountMinor);
    case 'free_shipping':
      return createCode(client, request, {
        kind: 'free_shipping',
        input: { ...commonCodeInput(request), destination: { all: true } },
      });
    case 'amount_off_order':
      return createCode(client, request, {
        kind: 'basic',
        input: {
          ...commonCodeInput(request),
          customerGets: {
            value: {
              discountAmount: {
                amount: formatMoney(value.amountMinor, request.currency),
                appliesOnEachItem: false,
              },
            },
            items: { all: true },
          },
        },
      });
    case 'percentage_off_order':
      return createCode(client, request, {
        kind: 'basic',
        input: {
          ...commonCodeInput(request),
          // Shopify takes a fraction. n / 100 for a whole n is the double nearest the decimal
          // n/100, which JSON prints exactly as that decimal (10 → 0.1, 7 → 0.07).
          customerGets: { value: { percentage: value.percentage / 100 }, items: { all: true } },
        },
      });
    case 'free_product': {
      const price = await variantPrice(client, value.variantId, request.currency);
      if ('refused' in price) return refused(price.refused);
      return createCode(client, request, {
        kind: 'basic',
        input: {
          ...commonCodeInput(request),
          // The price read now, taken off once per order: exactly one unit free. A price change
          // after issue does not follow the code (the shopper pays the difference on a rise).
          customerGets: {
            value: {
              discountAmount: {
                amount: formatMoney(price.minor, request.currency),
                appliesOnEachItem: false,
              },
            },
            items: { products: { productVariantsToAdd: [value.variantId] } },
          },
        },
      });
    }
  }
}

/**
 * The discount with `code`, or null if Shopify has none (of the kinds Laurel issues). With
 * `customerGid`, only a discount restricted to exactly that customer counts: anything else with the
 * code is not a redemption of theirs. Throws AdminApiError if the lookup fails.
 */
export async function findIssuedDiscount(
  client: AdminClient,
  code: string,
  customerGid?: string,
): Promise<IssuedDiscount | null> {
  const node = await lookUpCode(client, code);
  if (!node) return null;
  if (customerGid !== undefined && !restrictedTo(node, customerGid)) return null;
  return {
    discountId: node.id,
    status: node.codeDiscount.status,
    usageCount: node.codeDiscount.asyncUsageCount,
  };
}

/**
 * Ends the discount now, e.g. a code that expired unused or must be withdrawn. Idempotent:
 * deactivating one that already ended succeeds and changes nothing. Throws AdminApiError otherwise
 * (USER_ERRORS for an unknown id; resent by the client on 5xx, as a repeat is harmless).
 */
export async function deactivateDiscount(client: AdminClient, discountId: string): Promise<void> {
  await client.request(DiscountCodeDeactivate, { id: discountId });
}

// ---------------------------------------------------------------------------------------------

/** Why the request cannot be sent as it is (a caller bug, answered as a refusal), or null. */
function requestProblem(request: IssueRequest): string | null {
  const { value, currency } = request;
  if (!isKnownCurrency(currency)) return `currency ${currency} is not an ISO 4217 code`;
  if (!/^gid:\/\/shopify\/Customer\/\d+$/.test(request.customerGid)) {
    return `customerGid ${request.customerGid} is not a Shopify customer id`;
  }
  if (value.kind !== 'store_credit' && request.code.trim() === '') return 'the code is blank';
  if (request.endsAt !== null && request.endsAt.getTime() <= request.startsAt.getTime()) {
    return 'endsAt must be after startsAt';
  }
  const wholeMinor = (n: number | null) => n === null || (Number.isSafeInteger(n) && n > 0);
  if (!wholeMinor(request.minimumOrderMinor)) {
    return `minimumOrderMinor must be a whole number of minor units > 0; got ${request.minimumOrderMinor}`;
  }
  switch (value.kind) {
    case 'amount_off_order':
    case 'store_credit':
      if (value.currency !== currency) {
        return `the reward is in ${value.currency} but the shop's currency is ${currency}`;
      }
      if (!wholeMinor(value.amountMinor)) {
        return `amountMinor must be a whole number of minor units > 0; got ${value.amountMinor}`;
      }
      return null;
    case 'percentage_off_order':
      return Number.isInteger(value.percentage) && value.percentage >= 1 && value.percentage <= 100
        ? null
        : `percentage must be a whole number from 1 to 100; got ${value.percentage}`;
    case 'free_product':
      return /^gid:\/\/shopify\/ProductVariant\/\d+$/.test(value.variantId)
        ? null
        : `variantId ${value.variantId} is not a Shopify product variant id`;
    case 'free_shipping':
      return null;
  }
}

/** Shopify prints DateTime in whole seconds; sending the same keeps comparisons exact. */
function dateTime(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** What every code discount Laurel issues has: one buyer, one use, a window, a minimum. */
function commonCodeInput(request: IssueRequest) {
  return {
    title: request.title,
    code: request.code,
    startsAt: dateTime(request.startsAt),
    endsAt: request.endsAt === null ? null : dateTime(request.endsAt),
    // `context` (2026-07); the deprecated customerSelection is never used.
    context: { customers: { add: [request.customerGid] } },
    usageLimit: 1,
    appliesOncePerCustomer: true,
    minimumRequirement:
      request.minimumOrderMinor === null
        ? null
        : {
            subtotal: {
              greaterThanOrEqualToSubtotal: formatMoney(
                request.minimumOrderMinor,
                request.currency,
              ),
            },
          },
    combinesWith: { ...request.combinesWith },
  } satisfies DiscountCodeBasicInput & DiscountCodeFreeShippingInput;
}

/** The variant's price in minor units if it can be bought now, else why not. */
async function variantPrice(
  client: AdminClient,
  variantId: string,
  currency: string,
): Promise<{ minor: number } | { refused: string }> {
  let variant;
  try {
    ({ productVariant: variant } = await client.request(ProductVariant, { id: variantId }));
  } catch (error) {
    if (error instanceof AdminApiError && !nothingRanTransient(error)) {
      return {
        refused: `Shopify refused reading product variant ${variantId}: ${reasonOf(error)}`,
      };
    }
    throw error;
  }
  if (!variant) return { refused: `Product variant ${variantId} no longer exists in Shopify` };
  const name = `${variant.displayName} (${variantId})`;
  if (variant.product.status !== 'ACTIVE') {
    return { refused: `${name} is not for sale: its product is ${variant.product.status}` };
  }
  if (!variant.availableForSale) {
    return { refused: `${name} is not available for sale (sold out or unpublished)` };
  }
  let minor: number;
  try {
    minor = parseMoney(variant.price, currency);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    return { refused: `${name} has a price Laurel cannot read in ${currency}: ${variant.price}` };
  }
  if (minor <= 0) return { refused: `${name} already costs nothing: there is nothing to discount` };
  return { minor };
}

type CodeCreate =
  | { kind: 'basic'; input: DiscountCodeBasicInput }
  | { kind: 'free_shipping'; input: DiscountCodeFreeShippingInput };

/** Creates the code; on an uncertain answer, reconciles by code (and resends at most once). */
async function createCode(
  client: AdminClient,
  request: IssueRequest,
  create: CodeCreate,
): Promise<IssueOutcome> {
  const typename = create.kind === 'basic' ? 'DiscountCodeBasic' : 'DiscountCodeFreeShipping';
  const send = async (): Promise<string | null> => {
    if (create.kind === 'basic') {
      const result = await client.request(DiscountCodeBasicCreate, {
        basicCodeDiscount: create.input,
      });
      return result.discountCodeBasicCreate?.codeDiscountNode?.id ?? null;
    }
    const result = await client.request(DiscountCodeFreeShippingCreate, {
      freeShippingCodeDiscount: create.input,
    });
    return result.discountCodeFreeShippingCreate?.codeDiscountNode?.id ?? null;
  };

  /** Is a discount with our code ours (this kind, this customer only)? null: lookup failed. */
  const reconcile = async (): Promise<
    { found: 'ours'; id: string } | { found: 'other' } | { found: 'none' } | { failed: string }
  > => {
    try {
      const node = await lookUpCode(client, request.code);
      if (!node) return { found: 'none' };
      return node.codeDiscount.__typename === typename && restrictedTo(node, request.customerGid)
        ? { found: 'ours', id: node.id }
        : { found: 'other' };
    } catch (error) {
      if (error instanceof AdminApiError) return { failed: reasonOf(error) };
      throw error;
    }
  };
  const takenByOther = refused(
    `The code ${request.code} belongs to another discount in Shopify; nothing was created`,
  );

  let firstFailure: string;
  try {
    const id = await send();
    if (id !== null) return { kind: 'issued', discountId: id };
    firstFailure = 'Shopify answered without a discount or userErrors';
  } catch (error) {
    const verdict = classifyCreateFailure(error);
    if (verdict.kind === 'nothing-ran') throw error;
    if (verdict.kind === 'refused') return refused(verdict.reason);
    if (verdict.kind === 'taken') {
      // Our code exists: an earlier call for this redemption landed (or, vanishingly unlikely,
      // someone else chose the same random code — then ours could not have been created).
      const found = await reconcile();
      if ('failed' in found)
        return unknown(`code ${request.code} is taken; looking it up failed: ${found.failed}`);
      if (found.found === 'ours') return { kind: 'issued', discountId: found.id };
      if (found.found === 'other') return takenByOther;
      // Taken, yet not found by code: Shopify disagrees with itself; do not guess.
      return unknown(`Shopify says code ${request.code} is taken but finds no discount with it`);
    }
    firstFailure = verdict.reason;
  }

  // The first create may or may not have landed.
  const first = await reconcile();
  if ('failed' in first) {
    return unknown(`${firstFailure}; looking the code up failed: ${first.failed}`);
  }
  if (first.found === 'ours') return { kind: 'issued', discountId: first.id };
  if (first.found === 'other') return takenByOther;

  // Not there: resending is safe, as a late landing of the first makes this one TAKEN.
  let secondFailure: string;
  try {
    const id = await send();
    if (id !== null) return { kind: 'issued', discountId: id };
    secondFailure = 'Shopify answered without a discount or userErrors';
  } catch (error) {
    const verdict = classifyCreateFailure(error);
    if (verdict.kind === 'refused') return refused(verdict.reason);
    if (verdict.kind === 'nothing-ran') {
      // This attempt did not run, but the first may still land: not "nothing was created".
      return unknown(
        `${firstFailure}; no discount with the code yet, and the resend was not accepted: ${verdict.reason}`,
      );
    }
    secondFailure = verdict.reason;
  }
  const second = await reconcile();
  if ('failed' in second) {
    return unknown(`${secondFailure}; looking the code up failed: ${second.failed}`);
  }
  if (second.found === 'ours') return { kind: 'issued', discountId: second.id };
  if (second.found === 'other') return takenByOther;
  return unknown(
    `Two creates of ${request.code} ended uncertainly (${firstFailure}; ${secondFailure}) and ` +
      'Shopify has no discount with the code yet',
  );
}

type CreateVerdict =
  | { kind: 'nothing-ran'; reason: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'taken'; reason: string }
  | { kind: 'uncertain'; reason: string };

/** What a failed create means: whether it may have run, and whether trying again could help. */
function classifyCreateFailure(error: unknown, what = 'the discount'): CreateVerdict {
  if (!(error instanceof AdminApiError)) {
    // Not a failure the client understood: it may have been sent.
    return { kind: 'uncertain', reason: error instanceof Error ? error.message : String(error) };
  }
  const reason = reasonOf(error);
  switch (error.code) {
    case 'THROTTLED':
    case 'NETWORK_ERROR':
      // THROTTLED: Shopify executed nothing. NETWORK_ERROR reaches a mutation that is not
      // retry-safe only when the connection never reached Shopify (else it is OUTCOME_UNKNOWN).
      return { kind: 'nothing-ran', reason };
    case 'USER_ERRORS':
      return error.userErrors.some((e) => e.code === 'TAKEN' && e.field?.at(-1) === 'code')
        ? { kind: 'taken', reason }
        : { kind: 'refused', reason: `Shopify refused ${what}: ${reason}` };
    case 'UNAUTHORIZED':
    case 'HTTP_ERROR':
    case 'MAX_COST_EXCEEDED':
      // Refused before anything executed (revoked token, frozen or locked shop, ...).
      return { kind: 'refused', reason: `Shopify refused the request: ${reason}` };
    case 'GRAPHQL_ERRORS':
      // Errors with a path were raised while executing, possibly after a write: uncertain.
      // Without one, the document or variables were rejected before anything ran.
      return error.graphqlErrors.some((e) => e.path !== null)
        ? { kind: 'uncertain', reason }
        : { kind: 'refused', reason: `Shopify rejected the request: ${reason}` };
    case 'OUTCOME_UNKNOWN':
    case 'SERVER_ERROR':
      return { kind: 'uncertain', reason };
  }
}

function nothingRanTransient(error: AdminApiError): boolean {
  return (
    error.code === 'THROTTLED' || error.code === 'NETWORK_ERROR' || error.code === 'SERVER_ERROR'
  );
}

function reasonOf(error: AdminApiError): string {
  return `${error.code}: ${error.messages.join('; ')}`;
}

type CodeNode = NonNullable<CodeDiscountNodeByCodeResult['codeDiscountNodeByCode']>;
type OurCodeNode = CodeNode & {
  codeDiscount: Extract<
    CodeNode['codeDiscount'],
    { __typename: 'DiscountCodeBasic' | 'DiscountCodeFreeShipping' }
  >;
};

/** The basic or free-shipping discount with `code` (case-insensitive in Shopify), or null. */
async function lookUpCode(client: AdminClient, code: string): Promise<OurCodeNode | null> {
  const { codeDiscountNodeByCode: node } = await client.request(CodeDiscountNodeByCode, { code });
  if (!node) return null;
  const kind = node.codeDiscount.__typename;
  return kind === 'DiscountCodeBasic' || kind === 'DiscountCodeFreeShipping'
    ? (node as OurCodeNode)
    : null;
}

function restrictedTo(node: OurCodeNode, customerGid: string): boolean {
  const context = node.codeDiscount.context;
  return (
    context.__typename === 'DiscountCustomers' &&
    context.customers.length === 1 &&
    context.customers[0]!.id === customerGid
  );
}

// ---------------------------------------------------------------------------------------------
// Store credit

/**
 * Credits the customer. Shopify's credit takes only an amount, an expiry and `notify`: nothing we
 * send comes back on the transaction to say it is ours, and the transaction cannot carry
 * metafields. So an uncertain credit is reconciled by difference: the customer's transactions are
 * read before crediting, and after an uncertain answer exactly one new credit transaction with our
 * amount and expiry counts as ours. Anything else — none yet (it may still land) or several (a
 * concurrent credit of the same amount) — is `unknown`, never a second credit. The remaining risk:
 * another credit of the same amount and expiry to the same customer in the same moment, while ours
 * did not land, would be taken for ours.
 */
async function creditStore(
  client: AdminClient,
  request: IssueRequest,
  amountMinor: number,
): Promise<IssueOutcome> {
  const currency = request.currency;
  const before = await creditTransactions(client, request.customerGid, currency).catch(
    (error: unknown) => {
      if (error instanceof AdminApiError && !nothingRanTransient(error)) {
        return {
          refused: `Shopify refused reading the customer's store credit: ${reasonOf(error)}`,
        };
      }
      throw error;
    },
  );
  if ('refused' in before) return refused(before.refused);
  if (before.customerMissing) {
    return refused(`Customer ${request.customerGid} does not exist in Shopify`);
  }

  const expiresAt = request.endsAt === null ? null : dateTime(request.endsAt);
  let failure: string;
  try {
    const result = await client.request(StoreCreditAccountCredit, {
      id: request.customerGid,
      creditInput: {
        creditAmount: { amount: formatMoney(amountMinor, currency), currencyCode: currency },
        expiresAt,
      },
    });
    const transaction = result.storeCreditAccountCredit?.storeCreditAccountTransaction;
    if (transaction) return { kind: 'credited', storeCreditTransactionId: transaction.id };
    failure = 'Shopify answered without a transaction or userErrors';
  } catch (error) {
    const verdict = classifyCreateFailure(error, 'the store credit');
    if (verdict.kind === 'nothing-ran') throw error;
    // No code, so TAKEN cannot be about one of ours: a refusal like any other userError.
    if (verdict.kind === 'refused' || verdict.kind === 'taken') return refused(verdict.reason);
    failure = verdict.reason;
  }

  let after;
  try {
    after = await creditTransactions(client, request.customerGid, currency);
  } catch (error) {
    if (!(error instanceof AdminApiError)) throw error;
    return unknown(`${failure}; reading the store credit transactions failed: ${reasonOf(error)}`);
  }
  const expiry = expiresAt === null ? null : Date.parse(expiresAt);
  const ours = after.transactions.filter(
    (t) =>
      !before.ids.has(t.id) &&
      t.__typename === 'StoreCreditAccountCreditTransaction' &&
      amountOf(t, currency) === amountMinor &&
      (t.expiresAt ? Date.parse(t.expiresAt) : null) === expiry,
  );
  // The page must reach back to a transaction seen before, else ours may be past its end.
  const reachesBack = before.ids.size === 0 || after.transactions.some((t) => before.ids.has(t.id));
  if (ours.length === 1 && reachesBack) {
    return { kind: 'credited', storeCreditTransactionId: ours[0]!.id };
  }
  return unknown(
    `${failure}; ${ours.length} new credit transaction(s) of this amount since the credit was sent` +
      (reachesBack ? '' : ` (more than ${TRANSACTIONS_PAGE} new transactions)`) +
      ': cannot tell whether it landed, so it was not sent again',
  );
}

/** The customer's newest transactions in their `currency` accounts (one page per account). */
async function creditTransactions(
  client: AdminClient,
  customerGid: string,
  currency: string,
): Promise<{
  customerMissing: boolean;
  ids: Set<string>;
  transactions: StoreCreditTransactionSummary[];
}> {
  const { customer } = await client.request(CustomerStoreCreditTransactions, {
    id: customerGid,
    first: TRANSACTIONS_PAGE,
  });
  const accounts = (customer?.storeCreditAccounts.nodes ?? []).filter(
    (a) => a.balance.currencyCode === currency,
  );
  const transactions = accounts.flatMap((a) => a.transactions.nodes);
  return {
    customerMissing: customer === null,
    ids: new Set(transactions.map((t) => t.id)),
    transactions,
  };
}

function amountOf(transaction: StoreCreditTransactionSummary, currency: string): number | null {
  try {
    return parseMoney(transaction.amount.amount, currency);
  } catch {
    return null;
  }
}
