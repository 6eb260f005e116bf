// npm run lint:theme [-- <extension dir>]: Shopify's theme-check in the theme-app-extension context
// plus our validator for every block {% schema %} (theme-check does not read those in app context).
// Prints each offence and exits 1 if there is any, warnings included. Runs under tsx (it imports
// the TypeScript in dev/storefront/).
import path from 'node:path';
import { formatOffence, runThemeCheck } from '../dev/storefront/theme-check.ts';
import { formatProblem, validateExtensionSchemas } from '../dev/storefront/schema-validator.ts';
import { DEFAULT_EXTENSION_DIR } from '../dev/storefront/liquid-engine.ts';

const dir = path.resolve(process.argv[2] ?? DEFAULT_EXTENSION_DIR);
const [offences, problems] = await Promise.all([runThemeCheck(dir), validateExtensionSchemas(dir)]);

console.log(`Theme app extension: ${path.relative(process.cwd(), dir) || '.'}`);
for (const offence of offences)
  console.log(`theme-check ${offence.severity}: ${formatOffence(offence)}`);
for (const problem of problems) console.log(`schema: ${formatProblem(problem)}`);
console.log(
  `theme-check (theme-app-extension): ${offences.length} offence(s); block schemas: ${problems.length} problem(s)`,
);
if (offences.length + problems.length > 0) process.exit(1);
