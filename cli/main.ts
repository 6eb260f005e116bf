// Placeholder entry replaced by the CLI implementation.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('loyalty: not built yet\n');
  return 1;
}
