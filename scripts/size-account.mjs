// The customer-account extension's bundles, sized by scripts/size-extension.mjs (built as Shopify
// CLI 3.94 does; fails over 20 KB gzipped). Kept as the name `npm run size:account` and the
// extension's bundle test call.
//
//   npm run size:account
//   node scripts/size-account.mjs --outdir D   also writes D/<handle>.js
process.argv.splice(2, 0, 'extensions/laurel-account');
await import('./size-extension.mjs');
