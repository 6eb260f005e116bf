/**
 * The Birthday and Social follow blocks, rendered by the real Liquid: a logged-in member gets the
 * birthday form (month names in the shopper's language, days 1–31, no year) and the follow buttons
 * that claim; a guest gets a sign-in link and, for social, the plain profile links; only https
 * profiles the merchant entered are shown, each opening in a new tab.
 */
import { describe, expect, it } from 'vitest';
import { createStorefrontEngine } from '../../dev/storefront/liquid-engine';
import { find, findAll, member, storefront, text, type Scenario } from './helpers';

const engine = createStorefrontEngine();
const birthday = (scenario: Scenario, settings: Record<string, unknown> = {}) =>
  engine.renderBlock('birthday', storefront(scenario), { alignment: 'left', ...settings });
const social = (scenario: Scenario, settings: Record<string, unknown> = {}) =>
  engine.renderBlock('social-follow', storefront(scenario), { alignment: 'left', ...settings });

const options = (html: string, name: string) => {
  const select = findAll(html, 'name').find((e) => e.attributes.name === name)!;
  return [...select.inner.matchAll(/<option value="(\d+)">([^<]*)<\/option>/g)].map((m) => [
    m[1],
    m[2],
  ]);
};

describe('Birthday block', () => {
  it('a member: month and day only, month names in the shopper’s language', async () => {
    const html = await birthday({ customer: member(120, 300) });
    expect(find(html, 'data-laurel-bonus')?.attributes['data-laurel-bonus']).toBe('birthday');
    expect(find(html, 'data-laurel-bonus-form')).toBeDefined();
    const months = options(html, 'month');
    expect(months).toHaveLength(12);
    expect(months[0]).toEqual(['1', 'January']);
    expect(months[11]).toEqual(['12', 'December']);
    expect(options(html, 'day').map(([v]) => v)).toEqual(
      Array.from({ length: 31 }, (_, i) => String(i + 1)),
    );
    expect(html).not.toMatch(/name="year"/);
    // The script puts the points in for %n.
    expect(find(html, 'data-laurel-bonus')?.attributes['data-awarded']).toBe(
      'Happy birthday! %n points were added.',
    );
    const fr = await birthday({ customer: member(120, 300), locale: 'fr' });
    expect(options(fr, 'month')[7]).toEqual(['8', 'août']);
    expect(fr).toContain('Enregistrer mon anniversaire');
  });

  it('a guest: no form, a sign-in link; a heading setting is escaped', async () => {
    const html = await birthday({ customer: 'guest' }, { heading: '<b>Treats</b>' });
    expect(find(html, 'data-laurel-bonus-form')).toBeUndefined();
    expect(html).toContain('Sign in or create an account to earn points.');
    expect(html).toContain('&lt;b&gt;Treats&lt;/b&gt;');
  });
});

describe('Social follow block', () => {
  const profiles = {
    instagram: 'https://instagram.com/laurel',
    tiktok: 'https://tiktok.com/@laurel',
    facebook: 'http://facebook.com/laurel',
  };

  it('a member: one claiming button per https profile, opening in a new tab', async () => {
    const html = await social({ customer: member(120, 300) }, profiles);
    const buttons = findAll(html, 'data-laurel-follow');
    expect(buttons.map((b) => [b.attributes['data-laurel-follow'], b.attributes.href])).toEqual([
      ['instagram', profiles.instagram],
      ['tiktok', profiles.tiktok],
    ]);
    expect(buttons[0]!.attributes).toMatchObject({
      target: '_blank',
      rel: 'noopener noreferrer',
    });
    expect(text(buttons[0])).toBe('Follow us on Instagram');
    expect(find(html, 'data-laurel-bonus-status')).toBeDefined();
    const fr = await social({ customer: member(120, 300), locale: 'fr' }, profiles);
    expect(text(findAll(fr, 'data-laurel-follow')[1])).toBe('Suivez-nous sur TikTok');
  });

  it('a guest: the links, no claims, a sign-in link', async () => {
    const html = await social({ customer: 'guest' }, profiles);
    expect(findAll(html, 'data-laurel-follow')).toEqual([]);
    expect(html).toContain(`href="${profiles.instagram}"`);
    expect(html).toContain('Sign in or create an account to earn points.');
  });
});
