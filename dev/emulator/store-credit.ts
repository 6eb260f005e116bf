import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type UserErrorOut,
  type View,
} from './connections';
import { customerView } from './customers';
import type { StoreCreditAccountRecord, StoreCreditTransactionRecord } from './state';
import { dateTime, decimalIn, gid, moneyV2, notImplemented, parseGid } from './values';

/** Store credit accounts, their transactions, and crediting or debiting them. */

export function storeCreditAccountView(
  ctx: ResolverContext,
  account: StoreCreditAccountRecord,
): View {
  return {
    __typename: 'StoreCreditAccount',
    id: gid('StoreCreditAccount', account.id),
    balance: moneyV2(account.balanceMinor, account.currencyCode),
    owner: () => {
      const customer = ctx.store.customers.get(account.ownerCustomerId);
      return customer ? customerView(ctx, customer) : null;
    },
    transactions: (args: PageArgs & { query?: string | null; sortKey?: string }) => {
      if (args.query) throw notImplemented('StoreCreditAccount.transactions(query:)');
      const transactions = [...ctx.store.storeCreditTransactions.values()].filter(
        (t) => t.accountId === account.id,
      );
      return connection(
        transactions,
        args,
        (t) => t.id,
        (t) => storeCreditTransactionView(ctx, t),
      );
    },
  };
}

function storeCreditTransactionView(
  ctx: ResolverContext,
  transaction: StoreCreditTransactionRecord,
): View {
  const account = ctx.store.storeCreditAccounts.get(transaction.accountId)!;
  const currency = account.currencyCode;
  const credit = transaction.kind === 'credit';
  return {
    __typename: credit
      ? 'StoreCreditAccountCreditTransaction'
      : 'StoreCreditAccountDebitTransaction',
    id: gid(
      credit ? 'StoreCreditAccountCreditTransaction' : 'StoreCreditAccountDebitTransaction',
      transaction.id,
    ),
    // Debits are reported as negative amounts (as recalled from Shopify's documented example
    // response; not verifiable offline). Laurel should read balanceAfterTransaction instead.
    amount: moneyV2(credit ? transaction.amountMinor : -transaction.amountMinor, currency),
    balanceAfterTransaction: moneyV2(transaction.balanceAfterMinor, currency),
    createdAt: dateTime(transaction.createdAt),
    event: 'ADJUSTMENT',
    origin: null,
    account: storeCreditAccountView(ctx, account),
    ...(credit
      ? { expiresAt: transaction.expiresAt === null ? null : dateTime(transaction.expiresAt) }
      : {}),
  };
}

type StoreCreditTarget =
  { account: StoreCreditAccountRecord } | { customerId: number } | { error: UserErrorOut };

function storeCreditTarget(
  ctx: ResolverContext,
  id: string,
  kind: 'credit' | 'debit',
): StoreCreditTarget {
  const { type, id: numeric } = parseGid(id);
  if (type === 'StoreCreditAccount') {
    const account = ctx.store.storeCreditAccounts.get(numeric);
    return account
      ? { account }
      : {
          error: {
            field: ['id'],
            message: 'Store credit account does not exist',
            code: 'ACCOUNT_NOT_FOUND',
          },
        };
  }
  if (type === 'Customer') {
    return ctx.store.customers.has(numeric)
      ? { customerId: numeric }
      : {
          error: {
            field: ['id'],
            message: 'Owner does not exist',
            code: kind === 'credit' ? 'OWNER_NOT_FOUND' : 'ACCOUNT_NOT_FOUND',
          },
        };
  }
  if (type === 'CompanyLocation') throw notImplemented('store credit for company locations');
  return {
    error: {
      field: ['id'],
      message: `${type} cannot hold store credit`,
      code: kind === 'credit' ? 'OWNER_NOT_FOUND' : 'ACCOUNT_NOT_FOUND',
    },
  };
}

export function changeStoreCredit(
  ctx: ResolverContext,
  args: Args,
  kind: 'credit' | 'debit',
): View {
  const input =
    kind === 'credit'
      ? (args.creditInput as {
          creditAmount: { amount: unknown; currencyCode: string };
          expiresAt?: string | null;
        })
      : (args.debitInput as { debitAmount: { amount: unknown; currencyCode: string } });
  const money = 'creditAmount' in input ? input.creditAmount : input.debitAmount;
  const amountField = [
    kind === 'credit' ? 'creditInput' : 'debitInput',
    kind === 'credit' ? 'creditAmount' : 'debitAmount',
    'amount',
  ];
  const fail = (error: UserErrorOut) => ({
    storeCreditAccountTransaction: null,
    userErrors: [error],
  });

  const target = storeCreditTarget(ctx, args.id as string, kind);
  if ('error' in target) return fail(target.error);
  const currency = money.currencyCode;
  if (kind === 'credit' && currency !== ctx.store.settings.currencyCode) {
    return fail({
      field: [...amountField.slice(0, 2), 'currencyCode'],
      message: `${currency} is not a currency this shop accepts`,
      code: 'UNSUPPORTED_CURRENCY',
    });
  }
  const parsed = decimalIn(money.amount, currency);
  if ('problem' in parsed) return fail({ field: amountField, message: parsed.problem, code: null });
  if (parsed.minor <= 0)
    return fail({
      field: amountField,
      message: 'Amount must be greater than zero',
      code: 'NEGATIVE_OR_ZERO_AMOUNT',
    });
  let expiresAt: number | null = null;
  if ('expiresAt' in input && input.expiresAt) {
    expiresAt = Date.parse(input.expiresAt);
    if (expiresAt <= ctx.now) {
      return fail({
        field: ['creditInput', 'expiresAt'],
        message: 'Expiry date must be in the future',
        code: 'EXPIRES_AT_IN_PAST',
      });
    }
  }

  let account: StoreCreditAccountRecord | undefined;
  if ('account' in target) {
    account = target.account;
    if (account.currencyCode !== currency) {
      return fail({
        field: amountField.slice(0, 2).concat('currencyCode'),
        message: `The account holds ${account.currencyCode}, not ${currency}`,
        code: 'MISMATCHING_CURRENCY',
      });
    }
  } else {
    account = [...ctx.store.storeCreditAccounts.values()].find(
      (a) => a.ownerCustomerId === target.customerId && a.currencyCode === currency,
    );
    if (!account && kind === 'debit') {
      return fail({
        field: ['id'],
        message: `The customer has no ${currency} store credit account`,
        code: 'ACCOUNT_NOT_FOUND',
      });
    }
    if (!account) {
      // Shopify opens the account on the first credit in a currency.
      account = {
        id: ctx.state.id(),
        ownerCustomerId: target.customerId,
        currencyCode: currency,
        balanceMinor: 0,
      };
      ctx.store.storeCreditAccounts.set(account.id, account);
    }
  }
  if (kind === 'debit' && account.balanceMinor < parsed.minor) {
    return fail({
      field: amountField,
      message: 'The account balance is insufficient for this debit',
      code: 'INSUFFICIENT_FUNDS',
    });
  }
  account.balanceMinor += kind === 'credit' ? parsed.minor : -parsed.minor;
  const transaction: StoreCreditTransactionRecord = {
    id: ctx.state.id(),
    accountId: account.id,
    kind,
    amountMinor: parsed.minor,
    balanceAfterMinor: account.balanceMinor,
    createdAt: ctx.now,
    expiresAt,
  };
  ctx.store.storeCreditTransactions.set(transaction.id, transaction);
  return {
    storeCreditAccountTransaction: storeCreditTransactionView(ctx, transaction),
    userErrors: [],
  };
}
