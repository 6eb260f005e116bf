import { describe, expect, it } from 'vitest';
import {
  parseProgram,
  parseProgramJson,
  ProgramError,
  referenceProgram,
  type ProgramIssue,
} from './program';

function issuesOf(json: unknown): ProgramIssue[] {
  try {
    parseProgram(json);
  } catch (error) {
    expect(error).toBeInstanceOf(ProgramError);
    return (error as ProgramError).issues;
  }
  throw new Error('expected the program to be rejected');
}

const valid = {
  name: 'Spring',
  currency: 'USD',
  earn: {
    unit: '1.00',
    bands: [
      { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
      { over: '100.00', pointsPerUnit: 2 },
    ],
  },
};

describe('parseProgram', () => {
  it('compiles the reference program to minor units', () => {
    const program = parseProgram(referenceProgram);
    expect(program).toMatchObject({
      name: 'Reference',
      currency: 'USD',
      digits: 2,
      earnOn: 'subtotal_after_discounts',
      unitMinor: 100,
      signupBonus: 0,
      bands: [
        { overMinor: 5000, upToMinor: 10000, pointsPerUnit: 1 },
        { overMinor: 10000, upToMinor: null, pointsPerUnit: 2 },
      ],
    });
    expect(program.definition).toEqual(referenceProgram);
  });

  it('fills defaults into the normalised definition', () => {
    const program = parseProgram(valid);
    expect(program.definition).toEqual({
      ...valid,
      earnOn: 'subtotal_after_discounts',
      signupBonus: 0,
      redemptionRefunds: 'keep_points',
      posOrders: 'earn',
    });
    expect(
      parseProgram({
        ...valid,
        earnOn: 'total',
        signupBonus: 250,
        redemptionRefunds: 'return_points',
        posOrders: 'exclude',
      }),
    ).toMatchObject({
      earnOn: 'total',
      signupBonus: 250,
      redemptionRefunds: 'return_points',
      posOrders: 'exclude',
    });
    expect(() => parseProgram({ ...valid, posOrders: true })).toThrow(
      /posOrders: must be "earn" or "exclude"/,
    );
    expect(() => parseProgram({ ...valid, redemptionRefunds: 'sometimes' })).toThrow(
      /redemptionRefunds: must be "keep_points" or "return_points"/,
    );
  });

  it('accepts a flat rule and three-digit currencies', () => {
    const flat = parseProgram({
      name: 'Flat',
      currency: 'KWD',
      earn: { unit: '0.500', bands: [{ over: '0', pointsPerUnit: 1 }] },
    });
    expect(flat.unitMinor).toBe(500);
    expect(flat.bands).toEqual([{ overMinor: 0, upToMinor: null, pointsPerUnit: 1 }]);
  });

  it('lists every problem with its JSON path in one error', () => {
    const issues = issuesOf({
      name: '',
      currency: 'USD',
      earn: {
        unit: '1.000',
        bands: [
          { over: '100.00', upTo: '50.00', pointsPerUnit: 0 },
          { over: 'ten', pointsPerUnit: 1.5 },
        ],
      },
      bonus: 5,
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'name', message: 'must not be empty' },
        { path: 'bonus', message: 'is not a known field' },
        { path: 'earn.bands[0].pointsPerUnit', message: 'must be at least 1' },
        { path: 'earn.bands[1].pointsPerUnit', message: 'must be a whole number' },
        { path: 'earn.bands[0].upTo', message: 'must be greater than over (100.00)' },
        { path: 'earn.bands[1].over', message: "'ten' is not a plain decimal number" },
      ]),
    );
    // '1.000' is exact zero padding, so the unit itself is fine.
    expect(issues.find((i) => i.path === 'earn.unit')).toBeUndefined();
  });

  it('rejects overlapping bands', () => {
    const issues = issuesOf({
      ...valid,
      earn: {
        unit: '1.00',
        bands: [
          { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
          { over: '90.00', pointsPerUnit: 2 },
        ],
      },
    });
    expect(issues).toEqual([
      {
        path: 'earn.bands[1].over',
        message:
          'overlaps the previous band, which goes up to 100.00; bands must be sorted and not overlap',
      },
    ]);
  });

  it('rejects unsorted bands', () => {
    const issues = issuesOf({
      ...valid,
      earn: {
        unit: '1.00',
        bands: [
          { over: '100.00', upTo: '200.00', pointsPerUnit: 2 },
          { over: '0', upTo: '100.00', pointsPerUnit: 1 },
        ],
      },
    });
    expect(issues.map((i) => i.path)).toEqual(['earn.bands[1].over']);
  });

  it('only the last band may be open-ended', () => {
    const issues = issuesOf({
      ...valid,
      earn: {
        unit: '1.00',
        bands: [
          { over: '0', pointsPerUnit: 1 },
          { over: '100.00', pointsPerUnit: 2 },
        ],
      },
    });
    expect(issues).toContainEqual({
      path: 'earn.bands[0].upTo',
      message: 'is required: only the last band may be open-ended',
    });
  });

  it('checks money against the program currency', () => {
    const issues = issuesOf({
      name: 'Yen',
      currency: 'JPY',
      earn: { unit: '100', bands: [{ over: '50.5', pointsPerUnit: 1 }] },
    });
    expect(issues).toEqual([
      { path: 'earn.bands[0].over', message: "'50.5' has 1 decimal place; JPY allows 0" },
    ]);
  });

  it('rejects a zero unit, an unknown currency and bad options', () => {
    expect(issuesOf({ ...valid, earn: { ...valid.earn, unit: '0.00' } })).toEqual([
      { path: 'earn.unit', message: 'must be greater than 0' },
    ]);
    expect(issuesOf({ ...valid, currency: 'usd' })).toEqual([
      { path: 'currency', message: "'usd' is not an ISO 4217 currency code" },
    ]);
    expect(issuesOf({ ...valid, earnOn: 'shipping' })).toEqual([
      { path: 'earnOn', message: 'must be "subtotal_after_discounts" or "total"' },
    ]);
    expect(issuesOf({ ...valid, signupBonus: -5 })).toEqual([
      { path: 'signupBonus', message: 'must not be negative' },
    ]);
    expect(issuesOf({ ...valid, earn: { unit: '1.00', bands: [] } })).toEqual([
      { path: 'earn.bands', message: 'needs at least one band' },
    ]);
    expect(issuesOf({ ...valid, earn: { unit: 1, bands: valid.earn.bands } })).toEqual([
      { path: 'earn.unit', message: 'must be a decimal amount as a string, e.g. "50.00"' },
    ]);
  });

  it('rejects things that are not programs at all', () => {
    expect(issuesOf(null).length).toBeGreaterThan(0);
    expect(issuesOf([]).length).toBeGreaterThan(0);
    expect(issuesOf({}).map((i) => i.path)).toEqual(
      expect.arrayContaining(['name', 'currency', 'earn']),
    );
  });
});

describe('parseProgramJson', () => {
  it('parses JSON text', () => {
    expect(parseProgramJson(JSON.stringify(valid)).name).toBe('Spring');
  });

  it('turns a JSON syntax error into a ProgramError', () => {
    expect(() => parseProgramJson('{"name": ')).toThrow(/is not valid JSON/);
  });
});
