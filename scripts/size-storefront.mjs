// npm run size:storefront [-- <assets dir>]: every file the theme app extension ships from assets/,
// raw and gzipped (zlib level 9, what a CDN sends at best), with totals; exits 1 when all the
// JavaScript together is over 8 KB gzipped or all the CSS over 10 KB (docs/storefront.md, Budgets).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGETS = { js: 8 * 1024, css: 10 * 1024 };

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

console.log(`Storefront assets: ${path.relative(process.cwd(), dir) || '.'}`);
console.log(`${''.padEnd(width)}${'raw B'.padStart(9)}${'gzip B'.padStart(9)}`);
for (const file of files) console.log(row(file.name, file.raw, file.gzip));
console.log(row('all files', ...Object.values(totals(''))));

let over = false;
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
if (over) {
  console.error('Storefront assets are over budget.');
  process.exit(1);
}
