// The customer-account extension's bundles, built the way Shopify CLI 3.94 builds a UI extension
// for `shopify app deploy` (its bundle step for api_version ≥ 2025-10: one esbuild bundle per
// [[extensions]] entry whose entry imports each target's module and registers it with
// shopify.extend(); minified, target es6, automatic JSX, process.env.* inlined, Preact and
// @shopify/ui-extensions bundled in). Prints each bundle's raw and gzipped size and what it is made
// of, and exits 1 when one is over our budget (20 KB gzipped; Shopify refuses 64 KB).
//
//   npm run size:account                     sizes only
//   node scripts/size-account.mjs --outdir D also writes D/<handle>.js (the bundle test runs them)
//
// APP_URL is inlined as the CLI would at deploy; unset, the application_url of shopify.app.toml.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { parse } from 'smol-toml';

const EXTENSION_DIR = 'extensions/laurel-account';
const BUDGET_GZIP_BYTES = 20 * 1024;
const SHOPIFY_LIMIT_BYTES = 64 * 1024;

const { values: options } = parseArgs({ options: { outdir: { type: 'string' } } });

const config = parse(readFileSync(join(EXTENSION_DIR, 'shopify.extension.toml'), 'utf8'));
const app = parse(readFileSync('shopify.app.toml', 'utf8'));
const appUrl = process.env.APP_URL || app.application_url;

/** The entry Shopify CLI writes for an api_version of 2025-10 or later. */
function cliEntry(extension) {
  return extension.targeting
    .map(
      ({ target, module }, index) =>
        `import Target_${index} from '${module}';` +
        `shopify.extend('${target}', (...args) => Target_${index}(...args));`,
    )
    .join('\n');
}

/** Which package (or our own source) each byte of the minified output came from. */
function composition(metafile, outfile) {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1];
  const parts = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const part = match ? match[1] : 'laurel-account';
    parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
  }
  return [...parts].sort((a, b) => b[1] - a[1]);
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

if (options.outdir) mkdirSync(options.outdir, { recursive: true });

console.log(
  `Customer-account extension (${EXTENSION_DIR}), built as Shopify CLI does; APP_URL=${appUrl}`,
);
let over = false;
for (const extension of config.extensions) {
  const outfile = join(options.outdir ?? join(EXTENSION_DIR, 'dist'), `${extension.handle}.js`);
  const result = await build({
    stdin: { contents: cliEntry(extension), resolveDir: EXTENSION_DIR, loader: 'tsx' },
    outfile,
    write: Boolean(options.outdir),
    metafile: true,
    bundle: true,
    minify: true,
    target: 'es6',
    jsx: 'automatic',
    define: {
      'process.env.NODE_ENV': JSON.stringify('production'),
      'process.env.APP_URL': JSON.stringify(appUrl),
    },
    loader: { '.esnext': 'ts', '.js': 'jsx' },
    resolveExtensions: ['.tsx', '.ts', '.js', '.json', '.esnext', '.mjs', '.ejs'],
    legalComments: 'none',
    logLevel: 'error',
  });
  const code = result.outputFiles
    ? result.outputFiles[0].contents
    : readFileSync(outfile, { encoding: null });
  const gzip = gzipSync(code).length;
  const verdict =
    gzip > BUDGET_GZIP_BYTES
      ? `OVER BUDGET (${kb(BUDGET_GZIP_BYTES)})`
      : `within ${kb(BUDGET_GZIP_BYTES)} (Shopify's limit ${kb(SHOPIFY_LIMIT_BYTES)})`;
  over ||= gzip > BUDGET_GZIP_BYTES;
  const targets = extension.targeting.map(({ target }) => target).join(', ');
  console.log(
    `\n${extension.handle}.js  ${targets}\n` +
      `  ${code.length} B raw (${kb(code.length)}), ${gzip} B gzipped (${kb(gzip)}): ${verdict}`,
  );
  const parts = composition(result.metafile, `${extension.handle}.js`)
    .map(([part, bytes]) => `${part} ${kb(bytes)}`)
    .join(', ');
  console.log(`  minified: ${parts}`);
}

if (over) {
  console.error(`\nA customer-account bundle is over ${kb(BUDGET_GZIP_BYTES)} gzipped.`);
  process.exit(1);
}
