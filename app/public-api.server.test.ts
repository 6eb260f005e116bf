import { describe, expect, it } from 'vitest';
import { errorBody, pickLocale, prefersHtml, singleParam } from './public-api.server';
import { AppError, ErrorCode } from './errors';

describe('prefersHtml', () => {
  it('is true for a browser navigating to the page', () => {
    // Chrome's and Firefox's Accept for a top-level navigation.
    expect(
      prefersHtml(
        'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
      ),
    ).toBe(true);
    expect(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(
      true,
    );
  });

  it('is false for the storefront script, fetch defaults, no header, or a tie', () => {
    expect(prefersHtml('application/json')).toBe(false);
    expect(prefersHtml('*/*')).toBe(false);
    expect(prefersHtml(null)).toBe(false);
    expect(prefersHtml('')).toBe(false);
    expect(prefersHtml('text/html, application/json')).toBe(false);
    expect(prefersHtml('application/json;q=0.5, text/*')).toBe(true);
    expect(prefersHtml('text/html;q=0, */*')).toBe(false);
  });

  it('ignores ranges with a malformed q', () => {
    expect(prefersHtml('text/html;q=2, application/json;q=0.1')).toBe(false);
    expect(prefersHtml('text/html;q=abc')).toBe(false);
  });
});

describe('pickLocale', () => {
  it('takes the requested locale when the storefront speaks it', () => {
    expect(pickLocale('fr', 'en-US,en;q=0.9')).toBe('fr');
    expect(pickLocale('fr-CA', null)).toBe('fr');
    expect(pickLocale('FR', null)).toBe('fr');
  });

  it('falls back to Accept-Language by preference, then English', () => {
    expect(pickLocale(undefined, 'de-DE,fr;q=0.8,en;q=0.5')).toBe('fr');
    expect(pickLocale('de', 'en;q=0.4, fr-BE;q=0.9')).toBe('fr');
    expect(pickLocale(undefined, 'fr;q=0, en')).toBe('en');
    expect(pickLocale(undefined, 'de, *')).toBe('en');
    expect(pickLocale(undefined, null)).toBe('en');
    expect(pickLocale('', '')).toBe('en');
  });
});

describe('singleParam', () => {
  it('returns the one value, undefined when absent, and refuses a repeat', () => {
    const search = new URLSearchParams('limit=5&cursor=a&cursor=b');
    expect(singleParam(search, 'limit')).toBe('5');
    expect(singleParam(search, 'locale')).toBeUndefined();
    expect(() => singleParam(search, 'cursor')).toThrow(
      new AppError(ErrorCode.VALIDATION, 'the cursor parameter appears more than once'),
    );
  });
});

describe('errorBody', () => {
  it('is the one error shape', () => {
    expect(errorBody(ErrorCode.BAD_CURSOR, 'nope')).toEqual({
      error: { code: 'BAD_CURSOR', message: 'nope' },
    });
  });
});
