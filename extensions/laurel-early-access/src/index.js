// @ts-check
// The Function's entry (Shopify CLI looks for src/index.js): one export per target, named after the
// target's `export` in shopify.extension.toml, camel-cased.
export { cartValidationsGenerateRun } from './run.js';
