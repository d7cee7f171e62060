import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  counterFromLsb,
  counterToLsb,
  formatUrlCounter,
  hexToBytes,
  parseUrlCounter,
  tryHexToBytes,
} from './bytes.js';

describe('hex helpers', () => {
  it('parses either case and formats uppercase', () => {
    expect(bytesToHex(hexToBytes('04de5F1eacc040'))).toBe('04DE5F1EACC040');
  });

  it('throws a clear error for operator input, without echoing the value', () => {
    expect(() => hexToBytes('00112233445566778899AABBCCDDEEFG', 'master key')).toThrow(
      /^master key must be hex/,
    );
    expect(() => hexToBytes('abc', 'uid')).toThrow(/uid must be hex/);
    expect(() => hexToBytes('0011', 'key', 16)).toThrow(
      'key must be 16 bytes (32 hex digits); got 2',
    );
  });

  it('returns null for bad card data', () => {
    expect(tryHexToBytes('zz')).toBeNull();
    expect(tryHexToBytes('0011', 3)).toBeNull();
    expect(tryHexToBytes('001122', 3)).toEqual(Buffer.from([0, 0x11, 0x22]));
  });
});

describe('SDMReadCtr encodings', () => {
  it('is LSB first inside the card (AN12196: 3D0000 is 61)', () => {
    expect(counterToLsb(61)).toEqual(Buffer.from([0x3d, 0, 0]));
    expect(counterFromLsb(Buffer.from([0x3d, 0, 0]))).toBe(61);
    expect(counterFromLsb(counterToLsb(0xabcdef))).toBe(0xabcdef);
  });

  it('is MSB first in a plain SUN URL', () => {
    expect(parseUrlCounter('00003D')).toBe(61);
    expect(parseUrlCounter('abcdef')).toBe(0xabcdef);
    expect(formatUrlCounter(61)).toBe('00003D');
    expect(parseUrlCounter('3D')).toBeNull();
    expect(parseUrlCounter('00003G')).toBeNull();
  });

  it('refuses counters beyond 24 bits', () => {
    expect(() => counterToLsb(0x1000000)).toThrow(RangeError);
    expect(() => counterToLsb(-1)).toThrow(RangeError);
  });
});
