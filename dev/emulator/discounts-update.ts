import type { Args, ResolverContext, UserErrorOut, View } from './connections';
import { discountStatus, readSegmentIds, type DiscountProblem } from './discount-fields';
import { discountNodeView, noSuchDiscount, readValue, type BasicDiscountInput } from './discounts';
import { findDiscountByCode, type BasicDiscountRecord, type DiscountBuyers } from './state';
import { decimalIn, idOfType, notImplemented } from './values';

/**
 * Changing a code discount after its create: discountCodeBasicUpdate (the fields Laurel changes)
 * and discountCodeActivate. An update changes only what its input names; a field given as null is
 * cleared (`minimumRequirement: null` removes the minimum, `endsAt: null` the end).
 */

/**
 * discountCodeBasicUpdate: title, dates, usage limit, once per customer, value, minimum subtotal,
 * buyers and combinations. Every problem is reported and nothing changes unless all are valid.
 * The items a discount applies to, and anything Laurel never updates, are refused as not
 * implemented rather than half-modelled.
 */
export function discountCodeBasicUpdate(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.id, 'DiscountCodeNode');
  const found = numeric === undefined ? undefined : ctx.store.discounts.get(numeric);
  if (!found || found.kind !== 'basic') return noSuchDiscount(['id']);
  const input = args.basicCodeDiscount as BasicDiscountInput;
  if (input.customerGets?.items) throw notImplemented('discountCodeBasicUpdate of items');
  if (input.customerSelection) throw notImplemented('discountCodeBasicUpdate of customerSelection');
  if (input.recurringCycleLimit || input.tags?.length)
    throw notImplemented('recurringCycleLimit and tags on discounts');
  if (input.minimumRequirement?.quantity) throw notImplemented('minimum quantity requirements');
  if (input.context?.markets) throw notImplemented('discount context by markets');

  const errors: UserErrorOut[] = [];
  const problem: DiscountProblem = (path, message, code) =>
    errors.push({ field: ['basicCodeDiscount', ...path], message, code, extraInfo: null });
  const next: BasicDiscountRecord = structuredClone(found);

  if (input.code !== undefined && input.code !== null) {
    const code = input.code.trim();
    const holder = findDiscountByCode(ctx.store, code);
    if (code === '') problem(['code'], "Code can't be blank", 'BLANK');
    else if (code.length > 255)
      problem(['code'], 'Code is too long (maximum is 255 characters)', 'TOO_LONG');
    else if (
      holder &&
      !(holder.id === found.id && holder.code.toLowerCase() === code.toLowerCase())
    )
      problem(['code'], 'Code must be unique. Please try a different code.', 'TAKEN');
    else next.code = code;
  }
  if (input.title !== undefined && input.title !== null) {
    const title = input.title.trim();
    if (title === '') problem(['title'], "Title can't be blank", 'BLANK');
    else if (title.length > 255)
      problem(['title'], 'Title is too long (maximum is 255 characters)', 'TOO_LONG');
    else next.title = title;
  }
  if (input.startsAt) next.startsAt = Date.parse(input.startsAt);
  if (input.endsAt !== undefined) next.endsAt = input.endsAt ? Date.parse(input.endsAt) : null;
  if (next.endsAt !== null && next.endsAt <= next.startsAt)
    problem(['endsAt'], 'Ends at needs to be after starts_at', 'END_DATE_BEFORE_START_DATE');
  if (input.usageLimit !== undefined) {
    if (input.usageLimit !== null && input.usageLimit < 1)
      problem(['usageLimit'], 'Usage limit must be greater than 0', 'GREATER_THAN');
    else next.usageLimit = input.usageLimit;
  }
  if (input.appliesOncePerCustomer !== undefined && input.appliesOncePerCustomer !== null)
    next.appliesOncePerCustomer = input.appliesOncePerCustomer;

  const gets = input.customerGets;
  if (gets?.value) {
    const value = readValue(ctx, gets.value, problem);
    if (value) next.value = value;
  }
  if (gets?.appliesOnOneTimePurchase !== undefined && gets.appliesOnOneTimePurchase !== null)
    next.appliesOnOneTimePurchase = gets.appliesOnOneTimePurchase;
  if (gets?.appliesOnSubscription !== undefined && gets.appliesOnSubscription !== null)
    next.appliesOnSubscription = gets.appliesOnSubscription;

  if (input.minimumRequirement === null) next.minimumSubtotalMinor = null;
  else if (input.minimumRequirement?.subtotal) {
    const parsed = decimalIn(
      input.minimumRequirement.subtotal.greaterThanOrEqualToSubtotal,
      ctx.store.settings.currencyCode,
    );
    if ('problem' in parsed || parsed.minor <= 0) {
      problem(
        ['minimumRequirement', 'subtotal', 'greaterThanOrEqualToSubtotal'],
        'Minimum subtotal must be greater than 0',
        'GREATER_THAN',
      );
    } else next.minimumSubtotalMinor = parsed.minor;
  }

  if (input.context) {
    const buyers = updatedBuyers(ctx, found.buyers, input.context, problem);
    if (buyers) {
      next.buyers = buyers;
      next.viaCustomerSelection = false;
    }
  }
  if (input.combinesWith) {
    if (input.combinesWith.productDiscountsWithTagsOnSameCartLine)
      throw notImplemented('productDiscountsWithTagsOnSameCartLine');
    next.combinesWith = {
      orderDiscounts: input.combinesWith.orderDiscounts ?? next.combinesWith.orderDiscounts,
      productDiscounts: input.combinesWith.productDiscounts ?? next.combinesWith.productDiscounts,
      shippingDiscounts:
        input.combinesWith.shippingDiscounts ?? next.combinesWith.shippingDiscounts,
    };
  }

  if (errors.length > 0) return { codeDiscountNode: null, userErrors: errors };
  next.updatedAt = ctx.now;
  ctx.store.discounts.set(next.id, next);
  return { codeDiscountNode: discountNodeView(ctx, next), userErrors: [] };
}

/**
 * The buyers after an update's `context`: `all` or customers replace them; `customerSegments`
 * adds to and removes from the segments the discount has (a discount for everyone or listed
 * customers becomes one for the segments added).
 */
function updatedBuyers(
  ctx: ResolverContext,
  current: DiscountBuyers,
  context: NonNullable<BasicDiscountInput['context']>,
  problem: DiscountProblem,
): DiscountBuyers | undefined {
  if (context.all) return { kind: 'all' };
  if (context.customerSegments) {
    const { add, remove } = context.customerSegments;
    const have = current.kind === 'segments' ? [...current.segmentIds] : [];
    const added = add?.length
      ? readSegmentIds(ctx, { add }, ['context', 'customerSegments'], problem)
      : [];
    if (!added) return undefined;
    const removed = new Set(
      (remove ?? []).map((id) => idOfType(id, 'Segment')).filter((id) => id !== undefined),
    );
    const segmentIds = [...have, ...added.filter((id) => !have.includes(id))].filter(
      (id) => !removed.has(id),
    );
    if (segmentIds.length === 0) {
      problem(['context', 'customerSegments'], 'Customer segments must not be empty', 'BLANK');
      return undefined;
    }
    return { kind: 'segments', segmentIds };
  }
  if (context.customers) {
    const have = current.kind === 'customers' ? [...current.customerIds] : [];
    let valid = true;
    (context.customers.add ?? []).forEach((id, index) => {
      const numeric = idOfType(id, 'Customer');
      if (numeric === undefined || !ctx.store.customers.has(numeric)) {
        valid = false;
        problem(
          ['context', 'customers', 'add', String(index)],
          `Customer ${id} does not exist`,
          'INVALID',
        );
      } else if (!have.includes(numeric)) have.push(numeric);
    });
    const removed = new Set((context.customers.remove ?? []).map((id) => idOfType(id, 'Customer')));
    const customerIds = have.filter((id) => !removed.has(id));
    if (valid && customerIds.length === 0) {
      problem(['context', 'customers'], 'Customers must not be empty', 'BLANK');
      return undefined;
    }
    return valid ? { kind: 'customers', customerIds } : undefined;
  }
  problem(['context'], "Context can't be blank", 'BLANK');
  return undefined;
}

/**
 * discountCodeActivate: a deactivated (ended) discount has its end removed and a scheduled one
 * starts now, so it is ACTIVE either way; an active one is left as it is.
 */
export function discountCodeActivate(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.id, 'DiscountCodeNode');
  const discount = numeric === undefined ? undefined : ctx.store.discounts.get(numeric);
  if (!discount) return noSuchDiscount(['id']);
  const status = discountStatus(discount, ctx.now);
  if (status === 'EXPIRED') discount.endsAt = null;
  if (discount.startsAt > ctx.now) discount.startsAt = ctx.now;
  if (status !== 'ACTIVE') discount.updatedAt = ctx.now;
  return { codeDiscountNode: discountNodeView(ctx, discount), userErrors: [] };
}
