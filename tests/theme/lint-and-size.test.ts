/**
 * theme-check in app context, the lint:theme and size:storefront scripts: clean on our extension,
 * failing (exit 1, each offence printed) on a broken or oversized copy.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXTENSION_DIR } from '../../dev/storefront/liquid-engine';
import { formatOffence, runThemeCheck } from '../../dev/storefront/theme-check';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'laurel-theme-'));
  dirs.push(dir);
  cpSync(DEFAULT_EXTENSION_DIR, dir, { recursive: true });
  return dir;
}

function breakCopy(): string {
  const dir = tempCopy();
  const block = path.join(dir, 'blocks', 'points-balance.liquid');
  writeFileSync(
    block,
    readFileSync(block, 'utf8').replace(
      '<h2 class="laurel-heading">',
      "<h2 class=\"laurel-heading\">{{ 'laurel.balance.nope' | t }}{{ customer.email | shout }}{% include 'laurel-number' %}",
    ),
  );
  return dir;
}

async function script(file: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      // lint-theme imports the TypeScript in dev/storefront/; size-storefront is plain Node
      [
        ...(file === 'lint-theme.mjs' ? ['--import', 'tsx'] : []),
        path.join(ROOT, 'scripts', file),
        ...args,
      ],
      { cwd: ROOT },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('theme-check (theme-app-extension context)', () => {
  it('finds no offence in our extension', async () => {
    expect((await runThemeCheck()).map(formatOffence)).toEqual([]);
  });

  it('reports a missing translation, an unknown filter and a tag app blocks may not use', async () => {
    const offences = await runThemeCheck(breakCopy());
    expect(offences.map((o) => [o.file, o.check])).toEqual(
      expect.arrayContaining([
        ['blocks/points-balance.liquid', 'TranslationKeyExists'],
        ['blocks/points-balance.liquid', 'UnknownFilter'],
        ['blocks/points-balance.liquid', 'AppBlockValidTags'],
      ]),
    );
    const unknown = offences.find((o) => o.check === 'UnknownFilter')!;
    expect(formatOffence(unknown)).toMatch(
      /^blocks\/points-balance\.liquid:\d+:\d+ {2}UnknownFilter {2}Unknown filter 'shout' used\.$/,
    );
  });

  it('reports a script over the app block size threshold', async () => {
    const dir = tempCopy();
    writeFileSync(path.join(dir, 'assets', 'laurel.js'), `// ${'x'.repeat(10_001)}\n`);
    const offences = await runThemeCheck(dir);
    expect(offences.map((o) => o.check)).toContain('AssetSizeAppBlockJavaScript');
  });
});

describe('npm run lint:theme', () => {
  it('passes our extension', async () => {
    const result = await script('lint-theme.mjs');
    expect(result.stdout).toContain(
      'theme-check (theme-app-extension): 0 offence(s); block schemas: 0 problem(s)',
    );
    expect(result.code).toBe(0);
  });

  it('exits 1 and prints each offence and schema problem', async () => {
    const dir = breakCopy();
    const block = path.join(dir, 'blocks', 'launcher.liquid');
    writeFileSync(block, readFileSync(block, 'utf8').replace('"id": "label"', '"id": "offset"'));
    const result = await script('lint-theme.mjs', dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /theme-check error: blocks\/points-balance\.liquid:\d+:\d+ {2}UnknownFilter/,
    );
    expect(result.stdout).toMatch(
      /theme-check error: blocks\/points-balance\.liquid:\d+:\d+ {2}TranslationKeyExists/,
    );
    expect(result.stdout).toContain(
      "schema: blocks/launcher.liquid (setting offset)  unique-id  setting id 'offset' is used twice",
    );
  });
});

describe('npm run size:storefront', () => {
  it('prints every asset raw and gzipped with totals, within budget', async () => {
    const { code, stdout } = await script('size-storefront.mjs');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^laurel\.js +[\d,]+ +[\d,]+$/m);
    expect(stdout).toMatch(/^laurel\.css +[\d,]+ +[\d,]+$/m);
    expect(stdout).toMatch(
      /^laurel-rewards\.js +[\d,]+ +[\d,]+ {2}budget 6,144 B gzip: within budget$/m,
    );
    expect(stdout).toMatch(
      /^laurel-redeem\.js +[\d,]+ +[\d,]+ {2}budget 6,144 B gzip: within budget$/m,
    );
    expect(stdout).toMatch(/^JS total +[\d,]+ +[\d,]+ {2}budget 12,288 B gzip: within budget$/m);
    expect(stdout).toContain('every file under 10,000 B raw: yes');
    expect(stdout).toMatch(/^CSS total +[\d,]+ +[\d,]+ {2}budget 10,240 B gzip: within budget$/m);
  });

  it('exits 1 when all the JavaScript together is over 12 KB gzipped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laurel-assets-'));
    dirs.push(dir);
    // three files, each under every limit, over budget together (random text does not compress)
    for (const name of ['a.js', 'b.js', 'c.js'])
      writeFileSync(path.join(dir, name), `// ${randomBytes(5500).toString('base64')}\n`);
    writeFileSync(path.join(dir, 'a.css'), 'a{color:red}\n');
    const { code, stdout, stderr } = await script('size-storefront.mjs', dir);
    expect(stdout).toMatch(/^a\.js /m);
    expect(stdout).toMatch(/^JS total .*OVER BUDGET$/m);
    expect(stdout).toMatch(/^CSS total .*within budget$/m);
    expect(stderr).toContain('over budget');
    expect(code).toBe(1);
  });

  it('exits 1 when a rewards script is over 6 KB gzipped, or any file is 10,000 bytes raw', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laurel-assets-'));
    dirs.push(dir);
    // 8,540 bytes raw of random text: over 6 KB gzipped
    writeFileSync(
      path.join(dir, 'laurel-redeem.js'),
      `// ${randomBytes(6400).toString('base64')}\n`,
    );
    // exactly 10,000 bytes raw: compresses to nothing, but theme-check would refuse it
    writeFileSync(path.join(dir, 'laurel-rewards.js'), `// ${'x'.repeat(9_996)}\n`);
    writeFileSync(path.join(dir, 'laurel.js'), '// small\n');
    const { code, stdout } = await script('size-storefront.mjs', dir);
    expect(stdout).toMatch(/^laurel-redeem\.js +8,540 .* {2}budget 6,144 B gzip: OVER BUDGET$/m);
    expect(stdout).toMatch(
      /^laurel-rewards\.js +10,000 .* {2}budget 6,144 B gzip: within budget {2}OVER 10,000 B RAW/m,
    );
    expect(stdout).toMatch(/^laurel\.js +9 +\d+$/m);
    expect(stdout).toContain('every file under 10,000 B raw: NO');
    expect(code).toBe(1);

    // one byte less, and a rewards script that fits: within every limit
    writeFileSync(path.join(dir, 'laurel-redeem.js'), '// small\n');
    writeFileSync(path.join(dir, 'laurel-rewards.js'), `// ${'x'.repeat(9_995)}\n`);
    const fixed = await script('size-storefront.mjs', dir);
    expect(fixed.stdout).toMatch(/^laurel-rewards\.js +9,999 .*within budget$/m);
    expect(fixed.stdout).toContain('every file under 10,000 B raw: yes');
    expect(fixed.code).toBe(0);
  });

  it('exits 1 when the CSS is over 10 KB gzipped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laurel-assets-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'big.css'), `/* ${randomBytes(12000).toString('base64')} */\n`);
    const { code, stdout } = await script('size-storefront.mjs', dir);
    expect(stdout).toMatch(/^CSS total .*OVER BUDGET$/m);
    expect(code).toBe(1);
  });
});
