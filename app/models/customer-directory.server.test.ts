import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { orders, referralCodes } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { seedTierProgram, setMemberTier } from '../../tests/helpers/tiers';
import { AppError, ErrorCode } from '../errors';
import {
  decodeCursor,
  encodeCursor,
  ledgerPage,
  memberProfile,
  searchDirectory,
  searchTerm,
  type DirectoryQuery,
} from './customer-directory.server';
import { ensureCustomer, redactCustomer, type Customer } from './customers.server';
import { post } from './ledger.server';
import { ensureShop, type Shop } from './shops.server';

/** [external id, email, first, last, balance] — balances with ties, names with case and gaps. */
const PEOPLE: [string, string | null, string | null, string | null, number][] = [
  ['7001', 'ada@example.com', 'Ada', 'Lovelace', 500],
  ['17001', 'grace.hopper@example.com', 'Grace', 'Hopper', 1_200],
  ['7002', 'ALAN@Example.com', 'alan', 'turing', 500],
  ['7003', 'katherine@example.org', 'Katherine', 'Johnson', 0],
  ['7004', null, 'Mary', 'Jackson', 80],
  ['7005', 'pct_100%@example.com', null, null, 30],
  ['7006', 'dorothy@example.org', 'Dorothy', 'Vaughan', 500],
  ['7007', 'annie@example.com', 'Annie', 'Easley', 2_000],
];

describe.each(['postgres', 'pglite'] as const)('customer directory on %s', (kind) => {
  let handle: TestDatabase;
  let db: Executor;
  let shop: Shop;
  let other: Shop;
  const byExternal = new Map<string, Customer>();

  beforeAll(async () => {
    handle = await createTestDatabase(kind);
    db = handle.db;
    shop = await ensureShop(db, { domain: `dir-${kind}.myshopify.com`, currency: 'USD' });
    other = await ensureShop(db, { domain: `dir-other-${kind}.myshopify.com`, currency: 'USD' });
    for (const [externalId, email, firstName, lastName, balance] of PEOPLE) {
      const c = await ensureCustomer(db, shop.id, { externalId, email, firstName, lastName });
      byExternal.set(externalId, c);
      if (balance > 0) {
        await post(db, shop.id, {
          customerId: c.id,
          idempotencyKey: `seed:${c.id}`,
          source: 'bonus',
          points: balance,
          occurredAt: new Date('2026-01-01T00:00:00Z'),
          inputs: {},
        });
      }
    }
    // Another shop's Ada, with the same Shopify id and email: never listed here.
    await ensureCustomer(db, other.id, {
      externalId: '7001',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Other',
    });
    // A redacted member: found by id, never by the name they had.
    const redacted = await ensureCustomer(db, shop.id, {
      externalId: '7099',
      email: 'forgotten@example.com',
      firstName: 'Forgotten',
      lastName: 'Person',
    });
    await redactCustomer(db, shop.id, redacted.id);
    byExternal.set('7099', redacted);
  });
  afterAll(async () => {
    await handle?.close();
  });

  // Every query twice: searches planned both ways (matches sorted on their own, or read in the
  // sort's index order) must agree.
  const ids = async (query: DirectoryQuery) => {
    const planned = (await searchDirectory(db, shop.id, query)).members.map((m) => m.externalId);
    const walked = (
      await searchDirectory(db, shop.id, { ...query, sortMatchesUpTo: 0 })
    ).members.map((m) => m.externalId);
    expect(walked).toEqual(planned);
    return planned;
  };

  it('matches a Shopify id exactly, bare or as a gid', async () => {
    expect(await ids({ search: '7001' })).toEqual(['7001']);
    expect(await ids({ search: ' gid://shopify/Customer/17001 ' })).toEqual(['17001']);
    expect(await ids({ search: '700' })).toEqual([]);
    expect(await ids({ search: '7099' })).toEqual(['7099']);
    expect(searchTerm('gid://shopify/Customer/0')).toEqual({
      kind: 'text',
      text: 'gid://shopify/customer/0',
    });
  });

  it('matches the start of an email, its domain, the full name or the last name, ignoring case', async () => {
    expect(await ids({ search: 'EXAMPLE.ORG', sort: 'name' })).toEqual(['7006', '7003']);
    expect(await ids({ search: '@example.o', sort: 'name' })).toEqual(['7006', '7003']);
    expect(await ids({ search: 'grace.h' })).toEqual(['17001']);
    expect(await ids({ search: 'hopper' })).toEqual(['17001']);
    expect(await ids({ search: 'Kath' })).toEqual(['7003']);
    expect(await ids({ search: 'ALAN TUR' })).toEqual(['7002']);
    expect(await ids({ search: 'mary jackson' })).toEqual(['7004']);
    // Prefixes, not substrings (docs/customers.md).
    expect(await ids({ search: 'ack' })).toEqual([]);
    expect(await ids({ search: 'opper' })).toEqual([]);
    // LIKE's wildcards are taken literally.
    expect(await ids({ search: 'pct_1' })).toEqual(['7005']);
    expect(await ids({ search: 'pct_100%@' })).toEqual(['7005']);
    expect(await ids({ search: '%' })).toEqual([]);
    expect(await ids({ search: 'pct%' })).toEqual([]);
    expect(await ids({ search: 'p_t' })).toEqual([]);
    expect(await ids({ search: 'forgotten' })).toEqual([]);
    expect((await searchDirectory(db, shop.id, { search: 'example.com' })).total).toBe(5);
  });

  it('sorts by balance, highest first, ties by the newest customer id', async () => {
    const page = await searchDirectory(db, shop.id, {});
    expect(page.total).toBe(9);
    expect(page.members.map((m) => [m.externalId, m.balance])).toEqual([
      ['7007', 2_000],
      ['17001', 1_200],
      ['7006', 500],
      ['7002', 500],
      ['7001', 500],
      ['7004', 80],
      ['7005', 30],
      ['7099', 0],
      ['7003', 0],
    ]);
    expect(await ids({ direction: 'asc' })).toEqual([
      '7003',
      '7099',
      '7005',
      '7004',
      '7001',
      '7002',
      '7006',
      '17001',
      '7007',
    ]);
  });

  it('sorts by name and by email, with no name or email first', async () => {
    // Names: ''(7005), ''(7099), ada, alan, annie, dorothy, grace, katherine, mary.
    expect(await ids({ sort: 'name' })).toEqual([
      '7005',
      '7099',
      '7001',
      '7002',
      '7007',
      '7006',
      '17001',
      '7003',
      '7004',
    ]);
    expect((await ids({ sort: 'name', direction: 'desc' }))[0]).toBe('7004');
    // Emails are stored lower-cased, so ALAN@Example.com sorts as alan@.
    expect(await ids({ sort: 'email' })).toEqual([
      '7004',
      '7099',
      '7001',
      '7002',
      '7007',
      '7006',
      '17001',
      '7003',
      '7005',
    ]);
  });

  it('pages forwards and backwards by cursor, every member exactly once', async () => {
    for (const [sort, search, upTo] of [
      ['balance', undefined, undefined],
      ['name', undefined, undefined],
      ['email', undefined, undefined],
      ['since', undefined, undefined],
      ['lifetime', undefined, undefined],
      ['balance', 'a', undefined],
      ['balance', 'a', 0],
      ['name', 'a', 0],
    ] as const) {
      const all = await ids({ sort, search, limit: 100 });
      const seen: string[] = [];
      const pages: string[][] = [];
      const query = { sort, search, limit: 2, sortMatchesUpTo: upTo };
      let page = await searchDirectory(db, shop.id, query);
      expect(page.previous).toBeNull();
      for (;;) {
        pages.push(page.members.map((m) => m.externalId));
        seen.push(...pages.at(-1)!);
        if (!page.next) break;
        // Through the text a link carries.
        const cursor = decodeCursor(encodeCursor(page.next), sort);
        page = await searchDirectory(db, shop.id, { ...query, cursor });
      }
      expect(seen).toEqual(all);
      expect(pages).toHaveLength(Math.ceil(all.length / 2));
      // And back from the last page to the first.
      for (let i = pages.length - 2; i >= 0; i--) {
        page = await searchDirectory(db, shop.id, { ...query, cursor: page.previous! });
        expect(page.members.map((m) => m.externalId)).toEqual(pages[i]);
      }
      expect(page.previous).toBeNull();
      expect(page.next).not.toBeNull();
    }
  });

  it('sorts members without entries as 0 among balance rows at 0 and below', async () => {
    const zeroShop = await ensureShop(db, { domain: `dir-zero-${kind}.myshopify.com` });
    const made: [string, number | null][] = [
      ['a', null],
      ['b', 40],
      ['c', 0],
      ['d', null],
      ['e', -20],
      ['f', null],
      ['g', 0],
      ['h', 5],
    ];
    for (const [externalId, balance] of made) {
      const c = await ensureCustomer(db, zeroShop.id, { externalId });
      if (balance === null) continue;
      // A balance row at 0 too: points in, then out.
      for (const [n, points] of (balance === 0 ? [10, -10] : [balance]).entries()) {
        await post(db, zeroShop.id, {
          customerId: c.id,
          idempotencyKey: `z:${externalId}:${n}`,
          source: 'adjustment',
          points,
          occurredAt: new Date('2026-01-01T00:00:00Z'),
          inputs: {},
        });
      }
    }
    const walk = async (direction: 'asc' | 'desc', limit: number) => {
      const seen: string[] = [];
      let page = await searchDirectory(db, zeroShop.id, { direction, limit });
      seen.push(...page.members.map((m) => `${m.externalId}${m.balance}`));
      while (page.next) {
        page = await searchDirectory(db, zeroShop.id, { direction, limit, cursor: page.next });
        seen.push(...page.members.map((m) => `${m.externalId}${m.balance}`));
      }
      return seen;
    };
    // Ties at 0 by customer id (creation order here), whether the member has a balance row or not.
    const desc = ['b40', 'h5', 'g0', 'f0', 'd0', 'c0', 'a0', 'e-20'];
    for (const limit of [1, 2, 3, 8]) {
      expect(await walk('desc', limit)).toEqual(desc);
      expect(await walk('asc', limit)).toEqual([...desc].reverse());
    }
  });

  it('shows a redacted member with no personal data', async () => {
    const [member] = (await searchDirectory(db, shop.id, { search: '7099' })).members;
    expect(member).toMatchObject({
      redacted: true,
      email: null,
      firstName: null,
      lastName: null,
      externalId: '7099',
    });
    expect(await memberProfile(db, shop.id, member!.id)).toMatchObject({
      redacted: true,
      email: null,
      firstName: null,
      lastName: null,
    });
  });

  it('reads the tier customer_tiers holds', async () => {
    const tierShop = await ensureShop(db, { domain: `dir-tier-${kind}.myshopify.com` });
    const member = await ensureCustomer(db, tierShop.id, { externalId: '1' });
    const none = await ensureCustomer(db, tierShop.id, { externalId: '2' });
    await seedTierProgram(db, tierShop.id);
    await setMemberTier(db, tierShop.id, member.id, 'gold');
    const page = await searchDirectory(db, tierShop.id, { sort: 'since', direction: 'asc' });
    expect(page.members.map((m) => m.tierKey)).toEqual(['gold', null]);
    expect(await memberProfile(db, tierShop.id, member.id)).toMatchObject({
      tier: { key: 'gold', since: expect.any(Date) },
    });
    expect((await memberProfile(db, tierShop.id, none.id))!.tier).toBeNull();
  });

  it('never reaches another shop’s customer', async () => {
    const otherAda = (await searchDirectory(db, other.id, { search: 'ada' })).members;
    expect(otherAda.map((m) => m.lastName)).toEqual(['Other']);
    expect(await memberProfile(db, shop.id, otherAda[0]!.id)).toBeUndefined();
    expect(await memberProfile(db, other.id, byExternal.get('7001')!.id)).toBeUndefined();
    expect((await ledgerPage(db, other.id, byExternal.get('7007')!.id)).entries).toEqual([]);
  });

  it('refuses a cursor it did not write, or one of another sort', () => {
    const cursor = encodeCursor({ value: 'ada', id: 3, direction: 'after' });
    expect(decodeCursor(cursor, 'name')).toEqual({ value: 'ada', id: 3, direction: 'after' });
    const refused = (text: string, sort: 'name' | 'balance') => {
      try {
        decodeCursor(text, sort);
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe(ErrorCode.BAD_CURSOR);
        return (error as AppError).message;
      }
      throw new Error('accepted');
    };
    expect(refused(cursor, 'balance')).toMatch(/does not belong to the balance sort/);
    expect(refused('a.3.!!!', 'name')).toMatch(/not one this page made/);
    expect(refused('x.3.ImFkYSI', 'name')).toMatch(/not one this page made/);
    expect(refused(`a.3.${Buffer.from('{').toString('base64url')}`, 'name')).toMatch(
      /not one this page made/,
    );
  });

  it('lists a member’s ledger newest first by id, a page at a time, naming orders', async () => {
    const member = await ensureCustomer(db, shop.id, { externalId: '7200' });
    await db.insert(orders).values({
      shopId: shop.id,
      shopifyOrderId: '9001',
      name: '#1001',
      customerId: member.id,
      currency: 'USD',
      earnAmountMinor: 12_000,
      totalMinor: 12_000,
      processedAt: new Date('2026-02-01T00:00:00Z'),
      paidAt: new Date('2026-02-01T00:00:00Z'),
    });
    const award = await post(db, shop.id, {
      customerId: member.id,
      idempotencyKey: 'order:9001:earn',
      source: 'order',
      points: 90,
      occurredAt: new Date('2026-02-01T00:00:00Z'),
      programVersion: 3,
      inputs: { rule: 'earn-bands', orderId: '9001', orderName: '#1001-old', amountMinor: 12_000 },
      subjectId: '9001',
    });
    await post(db, shop.id, {
      customerId: member.id,
      idempotencyKey: 'refund:1:reverse',
      source: 'refund',
      points: -22,
      occurredAt: new Date('2026-02-02T00:00:00Z'),
      programVersion: 3,
      inputs: {},
      reversesEntryId: award.entry.id,
      subjectId: '1',
    });
    // Posted last but about an earlier day (an import): newest by posting order still.
    for (let i = 0; i < 3; i++) {
      await post(db, shop.id, {
        customerId: member.id,
        idempotencyKey: `bonus:${i}`,
        source: 'bonus',
        points: 5,
        occurredAt: new Date('2025-01-01T00:00:00Z'),
        inputs: {},
      });
    }
    const first = await ledgerPage(db, shop.id, member.id, { limit: 2 });
    expect(first.entries.map((e) => e.source)).toEqual(['bonus', 'bonus']);
    const second = await ledgerPage(db, shop.id, member.id, {
      limit: 2,
      beforeId: first.nextBeforeId,
    });
    expect(second.entries.map((e) => [e.source, e.orderName, e.programVersion])).toEqual([
      ['bonus', null, null],
      ['refund', '#1001', 3],
    ]);
    const third = await ledgerPage(db, shop.id, member.id, {
      limit: 2,
      beforeId: second.nextBeforeId,
    });
    expect(third.entries.map((e) => [e.source, e.orderName, e.points])).toEqual([
      ['order', '#1001', 90],
    ]);
    expect(third.entries[0]!.inputs).toMatchObject({ orderId: '9001' });
    expect(third.nextBeforeId).toBeNull();
    expect(await memberProfile(db, shop.id, member.id)).toMatchObject({
      entries: 5,
      balance: 83,
      lifetimeEarned: 83,
    });
  });

  it('reads the member’s referral code and whether Shopify holds it', async () => {
    const member = await ensureCustomer(db, shop.id, { externalId: '7300' });
    expect((await memberProfile(db, shop.id, member.id))!.referralCode).toBeNull();
    await db.insert(referralCodes).values({
      shopId: shop.id,
      customerId: member.id,
      code: 'ABCD2345',
      friendCode: 'FRIEND-ABCD2345',
      status: 'pending',
    });
    expect((await memberProfile(db, shop.id, member.id))!.referralCode).toEqual({
      code: 'FRIEND-ABCD2345',
      status: 'pending',
    });
  });
});
