import { describe, expect, it } from 'vitest';
import { parseDemoArgs, USAGE } from './args';

describe('parseDemoArgs', () => {
  it('defaults: port 3000, 200 customers, serve', () => {
    expect(parseDemoArgs([])).toEqual({
      ok: true,
      options: { port: 3000, customers: 200, serve: true, help: false },
    });
  });

  it('reads every flag', () => {
    expect(parseDemoArgs(['--port', '0', '--customers', '40', '--no-serve'])).toEqual({
      ok: true,
      options: { port: 0, customers: 40, serve: false, help: false },
    });
    expect(parseDemoArgs(['--orders', 'samples/transactions.csv', '--port=8080'])).toEqual({
      ok: true,
      options: {
        orders: 'samples/transactions.csv',
        port: 8080,
        customers: 200,
        serve: true,
        help: false,
      },
    });
    expect(parseDemoArgs(['-h'])).toMatchObject({ ok: true, options: { help: true } });
    expect(parseDemoArgs(['--help'])).toMatchObject({ ok: true, options: { help: true } });
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port'], /--port/],
    [['--port', 'abc'], /--port must be a whole number from 0 to 65535 \(got 'abc'\)/],
    [['--port', '70000'], /--port must be from 0 to 65535 \(got 70000\)/],
    [['--port', '-1'], /--port/],
    [['--customers', '0'], /--customers must be from 1 to 2000 \(got 0\)/],
    [['--customers', '2.5'], /--customers must be a whole number/],
    [['--customers', '3000'], /--customers must be from 1 to 2000/],
    [['--orders', ''], /--orders needs a file path/],
    [['--orders', 'f.csv', '--customers', '10'], /cannot be combined with --orders/],
    [['extra'], /extra/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseDemoArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });

  it('documents every flag in the usage', () => {
    for (const flag of ['--orders FILE', '--customers N', '--port N', '--no-serve', '--help']) {
      expect(USAGE).toContain(flag);
    }
  });
});
