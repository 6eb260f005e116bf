// npm run size:storefront [-- <assets dir>]: every file the theme app extension ships from assets/,
// raw and gzipped (zlib level 9, what a CDN sends at best), with totals; exits 1 when all the
// JavaScript together is over 12 KB gzipped or all the CSS over 10 KB, when a rewards script is
// over 6 KB gzipped, or when any file is 10,000 bytes raw or more (theme-check refuses an app block
// script over 10,000 bytes raw and Shopify does not minify). docs/storefront.md, Budgets.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGETS = { js: 12 * 1024, css: 10 * 1024 };
/** Gzip budgets of single files: the rewards scripts (a page with the launcher loads both). */
const FILE_BUDGETS = { 'laurel-rewards.js': 6 * 1024, 'laurel-redeem.js': 6 * 1024 };
/** theme-check's AssetSizeAppBlockJavaScript threshold; every asset is held under it. */
const RAW_LIMIT = 10_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(process.argv[2] ?? path.join(here, '../extensions/laurel-theme/assets'));

const files = readdirSync(dir)
  .filter((name) => statSync(path.join(dir, name)).isFile())
  .sort()
  .map((name) => {
    const bytes = readFileSync(path.join(dir, name));
    return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });

const totals = (extension) => {
  const matching = files.filter((file) => file.name.endsWith(extension));
  return {
    raw: matching.reduce((sum, file) => sum + file.raw, 0),
    gzip: matching.reduce((sum, file) => sum + file.gzip, 0),
  };
};

const number = (n) => n.toLocaleString('en-US');
const width = Math.max(12, ...files.map((file) => file.name.length)) + 2;
const row = (label, raw, gzip, note = '') =>
  `${label.padEnd(width)}${number(raw).padStart(9)}${number(gzip).padStart(9)}${note}`;

let over = false;
let rawOver = false;
console.log(`Storefront assets: ${path.relative(process.cwd(), dir) || '.'}`);
console.log(`${''.padEnd(width)}${'raw B'.padStart(9)}${'gzip B'.padStart(9)}`);
for (const file of files) {
  const notes = [];
  const budget = FILE_BUDGETS[file.name];
  if (budget !== undefined) {
    const ok = file.gzip <= budget;
    over ||= !ok;
    notes.push(`budget ${number(budget)} B gzip: ${ok ? 'within budget' : 'OVER BUDGET'}`);
  }
  if (file.raw >= RAW_LIMIT) {
    over = rawOver = true;
    notes.push(`OVER ${number(RAW_LIMIT)} B RAW (theme-check's limit)`);
  }
  console.log(row(file.name, file.raw, file.gzip, notes.map((note) => `  ${note}`).join('')));
}
console.log(row('all files', ...Object.values(totals(''))));

for (const [kind, extension] of [
  ['js', '.js'],
  ['css', '.css'],
]) {
  const total = totals(extension);
  const budget = BUDGETS[kind];
  const ok = total.gzip <= budget;
  over ||= !ok;
  const verdict = ok ? 'within budget' : 'OVER BUDGET';
  console.log(
    row(
      `${kind.toUpperCase()} total`,
      total.raw,
      total.gzip,
      `  budget ${number(budget)} B gzip: ${verdict}`,
    ),
  );
}
console.log(`every file under ${number(RAW_LIMIT)} B raw: ${rawOver ? 'NO' : 'yes'}`);
if (over) {
  console.error('Storefront assets are over budget.');
  process.exit(1);
}
