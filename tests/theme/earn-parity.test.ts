/**
 * "Earn N points" is computed three times: by loyalty/earn.ts on the server, in Liquid by the product
 * block (snippets/laurel-earn.liquid) and by assets/laurel.js on variant change. All three must agree
 * for any program and price, in currencies with 0, 2, 3 and 4 minor digits.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createStorefrontEngine, DEFAULT_EXTENSION_DIR } from '../../dev/storefront/liquid-engine';
import { earnPoints } from '../../loyalty/earn';
import { parseProgram } from '../../loyalty/program';
import {
  liquidPriceToMinor,
  programSummary,
  type ProgramSummary,
} from '../../loyalty/program-summary';
import { programDefinitions, REFERENCE_EARN_EXAMPLES } from '../helpers/earn-programs';
import { find, isHidden, product, referenceSummary, storefront, text, variant } from './helpers';

interface LaurelApi {
  earn(program: ProgramSummary, minor: number): number;
  toMinor(price: number, digits: number): number | undefined;
}

/**
 * The shipped script, run as a browser would run it on a page without Laurel blocks: a window
 * whose document has none of our hooks. It publishes its maths on window.Laurel.
 */
function loadScript(): LaurelApi {
  const source = readFileSync(path.join(DEFAULT_EXTENSION_DIR, 'assets', 'laurel.js'), 'utf8');
  const document = {
    readyState: 'complete',
    addEventListener: () => undefined,
    querySelector: () => null,
    querySelectorAll: () => [],
  };
  const window = vm.createContext({ document, location: { search: '' } }) as Record<
    string,
    unknown
  >;
  window.window = window;
  vm.runInContext(source, window, { filename: 'laurel.js' });
  return window.Laurel as LaurelApi;
}

const programs = programDefinitions({ scaleByDigits: true });

/** Liquid money values: mostly whole prices of the currency, some odd, some near a band edge. */
const prices = fc.oneof(
  fc.integer({ min: 0, max: 20_000_000 }),
  fc.integer({ min: 0, max: 200_000 }).map((units) => units * 100),
  fc.integer({ min: 0, max: 100_000 }),
);

describe('earn parity: Liquid and laurel.js against loyalty/earn.ts', () => {
  const engine = createStorefrontEngine();
  const laurel = loadScript();

  it('agree on the reference examples', async () => {
    for (const [price, points] of REFERENCE_EARN_EXAMPLES) {
      const html = await engine.renderBlock(
        'product-points',
        storefront({ program: referenceSummary, product: product([variant(1, price)]) }),
      );
      expect(find(html, 'data-laurel-product-points')?.attributes['data-points']).toBe(
        String(points),
      );
      expect(laurel.earn(referenceSummary, laurel.toMinor(price, 2)!)).toBe(points);
    }
  });

  it('agree for any program and price (JPY, KWD, BHD, CLF included)', async () => {
    await fc.assert(
      fc.asyncProperty(programs, prices, async (definition, price) => {
        const compiled = parseProgram(definition);
        const summary = programSummary(compiled, 3);
        const minor = liquidPriceToMinor(price, compiled.digits);
        const expected = minor === undefined ? undefined : earnPoints(compiled, minor);

        const jsMinor = laurel.toMinor(price, summary.digits);
        expect(jsMinor).toBe(minor);
        if (jsMinor !== undefined) expect(laurel.earn(summary, jsMinor)).toBe(expected);

        const html = await engine.renderBlock(
          'product-points',
          storefront({ program: summary, product: product([variant(9, price)]), locale: 'en' }),
        );
        const root = find(html, 'data-laurel-product-points');
        expect(root, html).toBeDefined();
        if (expected === undefined) {
          // a price Liquid cannot express in minor units (a fraction of a yen): no figure at all
          expect(root!.attributes['data-points']).toBeUndefined();
          expect(isHidden(root)).toBe(true);
        } else {
          expect(root!.attributes['data-points']).toBe(String(expected));
          if (expected > 0) {
            expect(text(find(html, 'data-laurel-earn'))).toBe(
              `Earn ${expected.toLocaleString('en-US')} ${expected === 1 ? 'point' : 'points'} with this item`,
            );
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
