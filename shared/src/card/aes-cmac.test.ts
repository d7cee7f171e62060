import { describe, expect, it } from 'vitest';
import { aesCmac, cmacOverBlocks, cmacSubkeys, truncateMac } from './aes-cmac.js';
import { h, loadNtag424Vectors } from './test-vectors.js';

const vectors = loadNtag424Vectors();
const RFC_KEY = h('2b7e151628aed2a6abf7158809cf4f3c');

describe('AES-CMAC (RFC 4493)', () => {
  it.each(vectors.cmac_rfc4493)(
    'matches the fixture vector for a $message.length-digit message',
    (v) => {
      expect(aesCmac(h(v.key), h(v.message)).toString('hex')).toBe(v.cmac.toLowerCase());
    },
  );

  it('generates the RFC 4493 §4 subkeys', () => {
    const { k1, k2 } = cmacSubkeys(RFC_KEY);
    expect(k1.toString('hex')).toBe('fbeed618357133667c85e08f7236a8de');
    expect(k2.toString('hex')).toBe('f7ddac306ae266ccf90bc11ee46d513b');
  });

  // RFC 4493 §4 examples 3 and 4: a padded multi-block message and an aligned one.
  it('takes the padded branch for a 40-byte message', () => {
    const m = h('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411');
    expect(aesCmac(RFC_KEY, m).toString('hex')).toBe('dfa66747de9ae63030ca32611497c827');
  });

  it('takes the unpadded branch for a 64-byte message', () => {
    const m = h(
      '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51' +
        '30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
    );
    expect(aesCmac(RFC_KEY, m).toString('hex')).toBe('51f0bebf7e3b9d92fc49741779363cfe');
  });

  it('agrees with the block-level core on both branches', () => {
    const padded = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(15)]);
    expect(cmacOverBlocks(RFC_KEY, padded, 'k2')).toEqual(aesCmac(RFC_KEY, Buffer.alloc(0)));
    const block = h('6bc1bee22e409f96e93d7e117393172a');
    expect(cmacOverBlocks(RFC_KEY, block, 'k1')).toEqual(aesCmac(RFC_KEY, block));
  });

  it('refuses keys that are not 16 bytes', () => {
    expect(() => aesCmac(Buffer.alloc(15), Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('NXP MAC truncation', () => {
  it('keeps the odd-indexed bytes (the datasheet\'s "even-numbered" bytes)', () => {
    const full = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
    expect([...truncateMac(full)]).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
  });

  it('refuses anything but a full 16-byte CMAC', () => {
    expect(() => truncateMac(Buffer.alloc(8))).toThrow(RangeError);
  });
});
