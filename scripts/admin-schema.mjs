// Verifies (or refreshes) vendor/shopify/admin_2026-07.json.gz against the copy inside the npm
// package @shopify/dev-mcp. Usage: node scripts/admin-schema.mjs --verify | --update VERSION
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILE = 'dist/data/admin_2026-07.json.gz';
const TARGET = new URL('../vendor/shopify/admin_2026-07.json.gz', import.meta.url);
const [mode, version = '1.16.0'] = process.argv.slice(2);
if (mode !== '--verify' && mode !== '--update') {
  console.error('usage: node scripts/admin-schema.mjs --verify | --update VERSION');
  process.exit(2);
}
const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'dev-mcp-'));
try {
  const tgz = execFileSync('npm', ['pack', `@shopify/dev-mcp@${version}`, '--silent'], { cwd: dir })
    .toString()
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', tgz, `package/${FILE}`], { cwd: dir });
  const fresh = join(dir, 'package', FILE);
  if (mode === '--update') {
    copyFileSync(fresh, TARGET);
    console.log(`updated from @shopify/dev-mcp@${version}: sha256 ${sha(fresh)}`);
  } else {
    const same = sha(fresh) === sha(TARGET);
    console.log(
      same ? 'vendor copy matches the npm package' : 'vendor copy DIFFERS from the npm package',
    );
    process.exitCode = same ? 0 : 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
