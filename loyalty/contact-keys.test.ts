import { describe, expect, it } from 'vitest';
import { addressKey, ipKey, matchableEmail, phoneKey } from './contact-keys';

describe('matching contact details', () => {
  it('reads Gmail addresses as Gmail delivers them: no dots, no +tags, googlemail the same', () => {
    expect(matchableEmail('Ada.Lovelace+shop@Gmail.com')).toBe('adalovelace@gmail.com');
    expect(matchableEmail(' a.d.a.lovelace@googlemail.com ')).toBe('adalovelace@gmail.com');
    expect(matchableEmail('adalovelace@gmail.com.')).toBe('adalovelace@gmail.com');
  });

  it('drops +tags but keeps dots at providers where only tags are ignored', () => {
    expect(matchableEmail('Ada.Lovelace+promo@outlook.com')).toBe('ada.lovelace@outlook.com');
    expect(matchableEmail('ada+x@icloud.com')).toBe('ada@icloud.com');
    expect(matchableEmail('ada.lovelace@hotmail.com')).not.toBe(
      matchableEmail('adalovelace@hotmail.com'),
    );
  });

  it('leaves other domains whole but for case', () => {
    expect(matchableEmail('Ada.Lovelace+shop@Example.org')).toBe('ada.lovelace+shop@example.org');
    expect(matchableEmail('ada+one@example.org')).not.toBe(matchableEmail('ada+two@example.org'));
  });

  it('is null for text that is no address', () => {
    expect(matchableEmail('ada')).toBeNull();
    expect(matchableEmail('@gmail.com')).toBeNull();
    expect(matchableEmail('ada@')).toBeNull();
    expect(matchableEmail('+tag@gmail.com')).toBeNull();
  });

  it('compares addresses by street lines, postcode and country, folded', () => {
    const home = {
      address1: '12 Rue de la Paix',
      address2: 'Bâtiment B',
      city: 'Paris',
      zip: '75002',
      countryCode: 'FR',
    };
    expect(addressKey(home)).toBe('FR|75002|12 rue de la paix batiment b');
    expect(
      addressKey({
        ...home,
        address1: '12, RUE DE LA PAIX',
        address2: 'batiment  b',
        city: 'PARIS 2E',
        countryCode: 'fr',
      }),
    ).toBe(addressKey(home));
    expect(addressKey({ ...home, zip: 'k1a 0b1' })).toBe('FR|K1A0B1|12 rue de la paix batiment b');
    expect(addressKey({ ...home, zip: '75003' })).not.toBe(addressKey(home));
    expect(addressKey({ ...home, address2: null })).not.toBe(addressKey(home));
  });

  it('has no address key without a street or a postcode', () => {
    const partial = {
      address1: null,
      address2: null,
      city: 'Paris',
      zip: '75002',
      countryCode: 'FR',
    };
    expect(addressKey(partial)).toBeNull();
    expect(addressKey({ ...partial, address1: '  ,  ' })).toBeNull();
    expect(addressKey({ ...partial, address1: '1 Main St', zip: null })).toBeNull();
    expect(addressKey({ ...partial, address1: '1 Main St', countryCode: null })).toBe(
      '|75002|1 main st',
    );
  });

  it('compares phones by their last ten digits', () => {
    expect(phoneKey('+1 (613) 555-0100')).toBe('6135550100');
    expect(phoneKey('613.555.0100')).toBe('6135550100');
    expect(phoneKey('+44 20 7946 0958')).toBe(phoneKey('020 7946 0958'));
    expect(phoneKey('555-01')).toBeNull();
    expect(phoneKey('ext. 12')).toBeNull();
  });
});

describe('ipKey', () => {
  it('reads one address one way, whoever wrote it', () => {
    expect(ipKey(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(ipKey('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(ipKey('2001:DB8::1')).toBe('2001:db8::1');
    expect(ipKey('not an ip')).toBeNull();
    expect(ipKey('')).toBeNull();
    expect(ipKey(null)).toBeNull();
  });
});
