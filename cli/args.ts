/**
 * Command-line flag parsing with messages a merchant can act on. Deliberately small: `--name value`,
 * `--name=value`, boolean flags, `-h` for `--help`; anything else is a UsageError (exit code 2).
 */

/** Bad command-line usage; the CLI prints the message plus the command's usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagKind = 'string' | 'boolean';
export type FlagSpec = Record<string, FlagKind>;
export type ParsedFlags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends 'string' ? string : boolean;
};

/**
 * Parses `argv` (the words after the command) against `spec`, e.g. `{input: 'string', help: 'boolean'}`.
 * Rejects unknown flags, positional words, repeated flags and string flags without a value.
 */
export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): ParsedFlags<S> {
  const values: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-h') {
      if (spec.help === 'boolean') {
        values.help = true;
        continue;
      }
      throw new UsageError(`unknown option '-h'`);
    }
    if (!word.startsWith('--') || word === '--') {
      throw new UsageError(`unexpected argument '${word}'`);
    }
    const eq = word.indexOf('=');
    const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) throw new UsageError(`unknown option '--${name}'`);
    if (Object.hasOwn(values, name))
      throw new UsageError(`option '--${name}' is given more than once`);
    if (kind === 'boolean') {
      if (eq !== -1) throw new UsageError(`option '--${name}' takes no value`);
      values[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = word.slice(eq + 1);
    } else {
      value = argv[i + 1];
      if (value !== undefined && value.startsWith('--')) value = undefined;
      else i++;
    }
    if (value === undefined || value === '')
      throw new UsageError(`option '--${name}' needs a value`);
    values[name] = value;
  }
  return values as ParsedFlags<S>;
}

/** True when argv mentions `--name` (with or without `=value`): used to route before full parsing. */
export function hasFlag(argv: readonly string[], name: string): boolean {
  return argv.some((word) => word === `--${name}` || word.startsWith(`--${name}=`));
}
