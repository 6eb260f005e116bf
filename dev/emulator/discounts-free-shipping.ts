import type { Args, ResolverContext, UserErrorOut, View } from './connections';
import {
  commonDiscountFields,
  discountNode,
  readCommonDiscountInput,
  type CommonDiscountInput,
  type DiscountProblem,
} from './discount-fields';
import type { FreeShippingDiscountRecord, ShippingDestination } from './state';
import { decimalIn, moneyV2 } from './values';

/** Free shipping code discounts: the view and discountCodeFreeShippingCreate's validation. */

export function freeShippingDiscountView(
  ctx: ResolverContext,
  discount: FreeShippingDiscountRecord,
): View {
  const currency = ctx.store.settings.currencyCode;
  const where =
    discount.destination.kind === 'all'
      ? 'all countries'
      : discount.destination.countries.join(', ') +
        (discount.destination.includeRestOfWorld ? ' and the rest of the world' : '');
  const cap =
    discount.maximumShippingPriceMinor === null
      ? ''
      : `, for rates up to ${moneyV2(discount.maximumShippingPriceMinor, currency).amount} ${currency}`;
  const summary = `Free shipping on entire order to ${where}${cap}`;
  return {
    __typename: 'DiscountCodeFreeShipping',
    ...commonDiscountFields(ctx, discount),
    summary,
    shortSummary: summary,
    discountClasses: ['SHIPPING'],
    discountClass: 'SHIPPING',
    destinationSelection:
      discount.destination.kind === 'all'
        ? { __typename: 'DiscountCountryAll', allCountries: true }
        : {
            __typename: 'DiscountCountries',
            countries: discount.destination.countries,
            includeRestOfWorld: discount.destination.includeRestOfWorld,
          },
    maximumShippingPrice:
      discount.maximumShippingPriceMinor === null
        ? null
        : moneyV2(discount.maximumShippingPriceMinor, currency),
  };
}

interface FreeShippingInput extends CommonDiscountInput {
  destination?: {
    all?: boolean | null;
    countries?: {
      add?: string[] | null;
      remove?: string[] | null;
      includeRestOfWorld?: boolean | null;
    } | null;
  } | null;
  maximumShippingPrice?: unknown;
}

export function discountCodeFreeShippingCreate(ctx: ResolverContext, args: Args): View {
  const input = args.freeShippingCodeDiscount as FreeShippingInput;
  const currency = ctx.store.settings.currencyCode;
  const errors: UserErrorOut[] = [];
  const problem: DiscountProblem = (path, message, code) =>
    errors.push({ field: ['freeShippingCodeDiscount', ...path], message, code, extraInfo: null });

  const common = readCommonDiscountInput(ctx, input, problem);
  const destination = readDestination(input.destination, problem);

  let maximumShippingPriceMinor: number | null = null;
  if (input.maximumShippingPrice !== null && input.maximumShippingPrice !== undefined) {
    const parsed = decimalIn(input.maximumShippingPrice, currency);
    if ('problem' in parsed) {
      problem(['maximumShippingPrice'], parsed.problem, 'INVALID');
    } else if (parsed.minor <= 0) {
      problem(
        ['maximumShippingPrice'],
        'Maximum shipping price must be greater than 0',
        'GREATER_THAN',
      );
    } else {
      maximumShippingPriceMinor = parsed.minor;
    }
  }

  if (errors.length > 0 || !common || !destination) {
    return { codeDiscountNode: null, userErrors: errors };
  }
  const record: FreeShippingDiscountRecord = {
    id: ctx.state.id(),
    codeId: ctx.state.id(),
    ...common,
    kind: 'free_shipping',
    destination,
    maximumShippingPriceMinor,
  };
  ctx.store.discounts.set(record.id, record);
  return {
    codeDiscountNode: discountNode(record, freeShippingDiscountView(ctx, record)),
    userErrors: [],
  };
}

/** `destination`: all countries, or listed ones; without it, nowhere would qualify. */
function readDestination(
  destination: FreeShippingInput['destination'],
  problem: DiscountProblem,
): ShippingDestination | undefined {
  if (destination?.all && destination.countries) {
    problem(
      ['destination'],
      'Only one of all countries or specific countries can be selected',
      'CONFLICT',
    );
    return undefined;
  }
  if (destination?.all) return { kind: 'all' };
  const countries = destination?.countries;
  if (!countries) {
    problem(['destination'], "Destination can't be blank", 'BLANK');
    return undefined;
  }
  if (countries.remove?.length) {
    problem(
      ['destination', 'countries', 'remove'],
      'Countries to remove cannot be given when creating a discount',
      'INVALID',
    );
    return undefined;
  }
  const list = [...new Set(countries.add ?? [])];
  const includeRestOfWorld = countries.includeRestOfWorld ?? false;
  if (list.length === 0 && !includeRestOfWorld) {
    problem(
      ['destination', 'countries', 'add'],
      'Countries must include at least one country or the rest of the world',
      'BLANK',
    );
    return undefined;
  }
  return { kind: 'countries', countries: list, includeRestOfWorld };
}
