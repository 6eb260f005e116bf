// A UI extension's bundles, built the way Shopify CLI 3.94 builds a UI extension for
// `shopify app deploy` (its bundle step for api_version ≥ 2025-10: one esbuild bundle per
// [[extensions]] entry whose entry imports each target's module and registers it with
// shopify.extend(); minified, target es6, automatic JSX, process.env.* inlined, Preact and
// @shopify/ui-extensions bundled in). Prints each bundle's raw and gzipped size and what it is made
// of; exits 1 when one is over the failing budget (Shopify itself refuses 64 KB).
//
//   node scripts/size-extension.mjs extensions/laurel-checkout --goal 20 --fail-over 64
//   node scripts/size-extension.mjs extensions/laurel-account                 (goal = fail = 20 KB)
//   … --outdir D   also writes D/<handle>.js (the bundle tests run them)
//
// APP_URL is inlined as the CLI would at deploy; unset, the application_url of shopify.app.toml.
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { parse } from 'smol-toml';

const SHOPIFY_LIMIT_BYTES = 64 * 1024;

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    outdir: { type: 'string' },
    goal: { type: 'string' },
    'fail-over': { type: 'string' },
  },
});

const extensionDir = positionals[0];
if (!extensionDir || positionals.length > 1) {
  console.error(
    'usage: node scripts/size-extension.mjs <extension dir> [--goal KB] [--fail-over KB] [--outdir D]',
  );
  process.exit(2);
}
const kilobytes = (text, fallback) => {
  const value = text === undefined ? fallback : Number(text);
  if (!(value > 0)) {
    console.error(`a budget must be a positive number of KB (got ${text})`);
    process.exit(2);
  }
  return Math.round(value * 1024);
};
const GOAL_BYTES = kilobytes(options.goal, 20);
const FAIL_BYTES = kilobytes(options['fail-over'], GOAL_BYTES / 1024);
const name = basename(extensionDir);

const config = parse(readFileSync(join(extensionDir, 'shopify.extension.toml'), 'utf8'));
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

/**
 * Which package (or our own source: the extension's folder, or extensions/shared that both UI
 * extensions import) each byte of the minified output came from.
 */
function composition(metafile, outfile) {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1];
  const parts = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const ours = /(?:^|\/)extensions\/([^/]+)\//.exec(path);
    const part = match ? match[1] : (ours?.[1] ?? name);
    parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
  }
  return [...parts].sort((a, b) => b[1] - a[1]);
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

function verdict(gzip) {
  if (gzip > FAIL_BYTES) return `OVER BUDGET (${kb(FAIL_BYTES)})`;
  if (gzip > GOAL_BYTES) return `over the ${kb(GOAL_BYTES)} goal, within ${kb(FAIL_BYTES)}`;
  return `within ${kb(GOAL_BYTES)} (Shopify's limit ${kb(SHOPIFY_LIMIT_BYTES)})`;
}

if (options.outdir) mkdirSync(options.outdir, { recursive: true });

console.log(`${name} (${extensionDir}), built as Shopify CLI does; APP_URL=${appUrl}`);
let over = false;
for (const extension of config.extensions) {
  const outfile = join(options.outdir ?? join(extensionDir, 'dist'), `${extension.handle}.js`);
  const result = await build({
    stdin: { contents: cliEntry(extension), resolveDir: extensionDir, loader: 'tsx' },
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
  over ||= gzip > FAIL_BYTES;
  const targets = extension.targeting.map(({ target }) => target).join(', ');
  console.log(
    `\n${extension.handle}.js  ${targets}\n` +
      `  ${code.length} B raw (${kb(code.length)}), ${gzip} B gzipped (${kb(gzip)}): ${verdict(gzip)}`,
  );
  const parts = composition(result.metafile, `${extension.handle}.js`)
    .map(([part, bytes]) => `${part} ${kb(bytes)}`)
    .join(', ');
  console.log(`  minified: ${parts}`);
}

if (over) {
  console.error(`\nA ${name} bundle is over ${kb(FAIL_BYTES)} gzipped.`);
  process.exit(1);
}
