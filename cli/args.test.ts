import { describe, expect, it } from 'vitest';
import { hasFlag, parseFlags, UsageError } from './args';

const spec = { input: 'string', format: 'string', help: 'boolean' } as const;

describe('parseFlags', () => {
  it('reads `--name value`, `--name=value`, booleans and -h', () => {
    expect(parseFlags(['--input', 'a.csv', '--format=csv', '--help'], spec)).toEqual({
      input: 'a.csv',
      format: 'csv',
      help: true,
    });
    expect(parseFlags(['-h'], spec)).toEqual({ help: true });
    expect(parseFlags(['--input=x=y.csv'], spec)).toEqual({ input: 'x=y.csv' });
  });

  it.each([
    [['--colour', 'red'], "unknown option '--colour'"],
    [['stray'], "unexpected argument 'stray'"],
    [['--input'], "option '--input' needs a value"],
    [['--input', '--format', 'csv'], "option '--input' needs a value"],
    [['--input='], "option '--input' needs a value"],
    [['--input', 'a', '--input', 'b'], "option '--input' is given more than once"],
    [['--help=yes'], "option '--help' takes no value"],
    [['--'], "unexpected argument '--'"],
    [['--constructor', 'x'], "unknown option '--constructor'"],
  ])('%j → %s', (argv, message) => {
    expect(() => parseFlags(argv, spec)).toThrow(UsageError);
    expect(() => parseFlags(argv, spec)).toThrow(message);
  });
});

describe('hasFlag', () => {
  it('spots a flag with or without a value, not a prefix of another', () => {
    expect(hasFlag(['--shop', 'x'], 'shop')).toBe(true);
    expect(hasFlag(['--shop=x'], 'shop')).toBe(true);
    expect(hasFlag(['--shopping', 'x'], 'shop')).toBe(false);
    expect(hasFlag(['--input', 'shop'], 'shop')).toBe(false);
  });
});
