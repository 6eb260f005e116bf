/**
 * Order settlement: from what is known about one order — the order itself, its refunds in the order
 * they were recorded, the award and reversals already in the ledger, the program in force — the
 * ledger entries still to post. Pure: the workers load the state under the order's lock, call
 * {@link planOrderSettlement}, and post exactly what it returns.
 *
 * Because the plan is computed from the whole state every time, the order in which Shopify delivers
 * orders/paid, refunds/create and orders/cancelled does not matter: a refund recorded before its
 * award waits in the state and is reversed when the award is posted; a repeat of any delivery plans
 * nothing new. Reversals use the award's recorded points and amount (loyalty/reversal.ts), never
 * today's program. Rules: docs/earning-rules.md.
 */
import {
  campaignsInForce,
  earnWithCampaigns,
  type AppliedCampaign,
  type CampaignRule,
  type OrderLine,
} from './campaigns';
import type { EarnResult } from './earn';
import type { CompiledProgram, EarnOn } from './program';
import { explainReversal, type ReversalExplanation } from './reversal';
import { tierMultiplier } from './tiers';

export interface SettlementOrder {
  /** Shopify order id (decimal string). */
  orderId: string;
  /** `#1001`; recorded on the award for explanation. */
  name: string | null;
  /** Laurel customer id; null for a guest order (nothing earns until it is claimed). */
  customerId: number | null;
  /** orders/paid has been seen. */
  paid: boolean;
  test: boolean;
  sourceName: string | null;
  /** Business time of the order: the award's occurredAt. */
  processedAt: Date;
  cancelledAt: Date | null;
  /** Shop currency of the amounts below. */
  currency: string;
  /** Subtotal after discounts, before shipping and tax (minor units). */
  earnAmountMinor: number;
  /** What the shopper paid, shipping and tax included (minor units). */
  totalMinor: number;
  /**
   * The order's lines (product, amount after discounts): what a campaign limited to some products
   * counts. Null when unknown (orders recorded before lines were kept, imports): such an order
   * earns no scoped campaign.
   */
  lines?: readonly OrderLine[] | null;
}

/** The award already in the ledger, as its entry recorded it. */
export interface SettlementAward {
  id: number;
  customerId: number;
  points: number;
  /** inputs.amountMinor of the award entry. */
  amountMinor: number;
  programVersion: number | null;
}

export interface SettlementRefund {
  refundId: string;
  /** Refunded merchandise of this refund (minor units). */
  merchandiseMinor: number;
  /** Business time of the refund: its reversal's occurredAt. */
  processedAt: Date;
}

export interface SettlementInput {
  /** Null when only refunds of the order are known so far. */
  order: SettlementOrder | null;
  /** The shop lets test orders earn. */
  testOrdersEarn: boolean;
  /** The program version in force at the order's processedAt (only read when no award exists). */
  program: { version: number; program: CompiledProgram } | null;
  award: SettlementAward | null;
  /** Keys of the reversal entries already posted against the award. */
  postedReversalKeys: ReadonlySet<string>;
  /** Points already taken back from the award by those entries (≥ 0). */
  alreadyReversed: number;
  /** Every refund recorded for the order, in the order recorded. */
  refunds: readonly SettlementRefund[];
  /**
   * The tier the order's customer holds when the award is posted (only read when no award exists):
   * its multiplier applies to the award and is recorded on it, so reversals never need it again.
   */
  tier?: SettlementTier | null;
  /**
   * The shop's campaigns (only read when no award exists): those in force at the order's
   * processedAt apply to the award and are recorded on it (loyalty/campaigns.ts).
   */
  campaigns?: readonly CampaignRule[];
}

/** A member's tier as the award needs it (loyalty/tiers.ts CompiledTier + its program version). */
export interface SettlementTier {
  key: string;
  name: string;
  /** Tier program version. */
  version: number;
  /** 10000 = ×1 (no multiplier recorded). */
  multiplierBps: number;
}

export type SettlementSource = 'order' | 'refund' | 'cancellation';

/** A ledger entry to post; reversals are posted against the award (its id once posted). */
export interface EntryDraft {
  idempotencyKey: string;
  source: SettlementSource;
  points: number;
  occurredAt: Date;
  programVersion: number | null;
  inputs: Record<string, unknown>;
  subjectId: string;
}

export type NoAwardReason =
  'no-order' | 'not-paid' | 'guest' | 'test-order' | 'no-program' | 'pos-order' | 'zero-points';

export interface SettlementPlan {
  /** The award to post first, or null (it exists already, or the order earns nothing). */
  award: EntryDraft | null;
  /** The customer the entries belong to (the award's), when there is an award. */
  customerId: number | null;
  /** Reversal entries to post after the award, in this order. */
  reversals: EntryDraft[];
  /** Why the order has no award, when it has none. */
  noAwardReason: NoAwardReason | null;
}

export class SettlementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettlementError';
  }
}

export const awardKey = (orderId: string) => `order:${orderId}:earn`;
export const refundReversalKey = (refundId: string) => `refund:${refundId}:reverse`;
export const cancellationKey = (orderId: string) => `order:${orderId}:cancel`;

/** What an award entry records: enough to explain it, and to reverse it without the program. */
export interface AwardInputs extends EarnResult {
  rule: 'earn-bands';
  orderId: string;
  orderName: string | null;
  earnOn: EarnOn;
  sourceName: string | null;
  /** The tier whose multiplier the award carries (absent when none applied): for explanations. */
  tier?: { key: string; name: string };
  /**
   * The campaigns that changed the award, as they were (absent when none did): explanations and
   * reversals never read the campaign again. `points` = floor(base × multipliers) + bonusPoints.
   */
  campaigns?: AppliedCampaign[];
  /** Σ the bonus campaigns' points (included in `points`). */
  bonusPoints?: number;
  /** A `best` campaign beat the member's tier, whose multiplier therefore did not apply. */
  tierSkipped?: { key: string; name: string; factorBps: number };
}

function noAwardReason(input: SettlementInput): NoAwardReason | null {
  const { order } = input;
  if (!order) return 'no-order';
  if (!order.paid) return 'not-paid';
  if (order.customerId === null) return 'guest';
  if (order.test && !input.testOrdersEarn) return 'test-order';
  if (!input.program) return 'no-program';
  // The version in force when the order was placed decides, like every other earn rule.
  if (order.sourceName === 'pos' && input.program.program.posOrders === 'exclude')
    return 'pos-order';
  return null;
}

function planAward(
  order: SettlementOrder,
  program: { version: number; program: CompiledProgram },
  tier: SettlementTier | null,
  campaigns: readonly CampaignRule[],
): EntryDraft | null {
  const compiled = program.program;
  if (compiled.currency !== order.currency) {
    throw new SettlementError(
      `order ${order.orderId} is in ${order.currency} but program version ${program.version} is in ${compiled.currency}`,
    );
  }
  const amountMinor = compiled.earnOn === 'total' ? order.totalMinor : order.earnAmountMinor;
  const multiplier = tier ? tierMultiplier(tier, tier.version) : null;
  const result = earnWithCampaigns({
    program: compiled,
    amountMinor,
    lines: order.lines ?? null,
    tier: multiplier,
    campaigns: campaignsInForce(campaigns, order.processedAt.getTime()),
  });
  if (result.points === 0) return null;
  const earn: EarnResult = result.earn;
  const tierApplied = multiplier && tier && !result.tierSkipped;
  const inputs: AwardInputs = {
    rule: 'earn-bands',
    orderId: order.orderId,
    orderName: order.name,
    earnOn: compiled.earnOn,
    sourceName: order.sourceName,
    ...earn,
    points: result.points,
    ...(tierApplied ? { tier: { key: tier.key, name: tier.name } } : {}),
    ...(result.campaigns.length > 0 ? { campaigns: result.campaigns } : {}),
    ...(result.bonusPoints > 0 ? { bonusPoints: result.bonusPoints } : {}),
    ...(multiplier && tier && result.tierSkipped
      ? { tierSkipped: { key: tier.key, name: tier.name, factorBps: multiplier.factorBps } }
      : {}),
  };
  return {
    idempotencyKey: awardKey(order.orderId),
    source: 'order',
    points: result.points,
    occurredAt: order.processedAt,
    programVersion: program.version,
    inputs: inputs as unknown as Record<string, unknown>,
    subjectId: order.orderId,
  };
}

/**
 * The entries still to post for one order. With no award yet, plans it (when the order is paid,
 * has a customer, is not an excluded test order, is not a POS order under a program that excludes
 * them, and earns more than 0 points); then every recorded
 * refund without a reversal, in the order recorded, each moving the cumulative reversal to
 * floor(P × refunded so far / A); then, for a cancelled order, the remainder. Reversal entries are
 * posted even when they reverse 0 points, so every refund of an awarded order is accounted for.
 */
export function planOrderSettlement(input: SettlementInput): SettlementPlan {
  let award: EntryDraft | null = null;
  let basis: { points: number; amountMinor: number; programVersion: number | null } | null = null;
  let customerId: number | null = null;
  let reason: NoAwardReason | null = null;

  if (input.award) {
    basis = input.award;
    customerId = input.award.customerId;
  } else {
    reason = noAwardReason(input);
    if (reason === null) {
      award = planAward(input.order!, input.program!, input.tier ?? null, input.campaigns ?? []);
      if (award) {
        basis = {
          points: award.points,
          amountMinor: (award.inputs as unknown as AwardInputs).amountMinor,
          programVersion: award.programVersion,
        };
        customerId = input.order!.customerId;
      } else {
        reason = 'zero-points';
      }
    }
  }
  if (!basis) return { award: null, customerId: null, reversals: [], noAwardReason: reason };

  const reversals: EntryDraft[] = [];
  let already = input.award ? input.alreadyReversed : 0;
  let refunded = 0;
  const reverse = (
    key: string,
    source: 'refund' | 'cancellation',
    cancelled: boolean,
    occurredAt: Date,
    subjectId: string,
    extra: Record<string, unknown>,
  ) => {
    const explanation: ReversalExplanation = explainReversal({
      award: { points: basis.points, amountMinor: basis.amountMinor },
      refundedMinorTotal: refunded,
      cancelled,
      alreadyReversed: already,
    });
    reversals.push({
      idempotencyKey: key,
      source,
      points: -explanation.delta,
      occurredAt,
      programVersion: basis.programVersion,
      inputs: { ...explanation, ...extra },
      subjectId,
    });
    already += explanation.delta;
  };

  for (const refund of input.refunds) {
    refunded += refund.merchandiseMinor;
    if (!Number.isSafeInteger(refunded)) {
      throw new SettlementError(
        `refunded merchandise of order ${input.order?.orderId ?? '?'} is too large`,
      );
    }
    const key = refundReversalKey(refund.refundId);
    if (input.postedReversalKeys.has(key)) continue;
    reverse(key, 'refund', false, refund.processedAt, refund.refundId, {
      refundId: refund.refundId,
      refundMerchandiseMinor: refund.merchandiseMinor,
    });
  }
  const order = input.order;
  if (order?.cancelledAt && !input.postedReversalKeys.has(cancellationKey(order.orderId))) {
    reverse(
      cancellationKey(order.orderId),
      'cancellation',
      true,
      order.cancelledAt,
      order.orderId,
      {
        orderId: order.orderId,
      },
    );
  }
  return { award, customerId, reversals, noAwardReason: null };
}
