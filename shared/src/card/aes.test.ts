import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Aes128, aesCbcDecrypt, aesCbcEncrypt, aesEcbEncrypt } from './aes.js';
import { aesCmac } from './aes-cmac.js';

describe('Aes128 (a key held with one context)', () => {
  it('gives what a fresh context gives, call after call, with no state carried between calls', () => {
    for (let round = 0; round < 20; round++) {
      const key = randomBytes(16);
      const aes = new Aes128(key);
      for (let call = 0; call < 5; call++) {
        const data = randomBytes(16 * (1 + (call % 3)));
        const iv = randomBytes(16);
        expect(aes.encryptBlocks(data)).toEqual(aesEcbEncrypt(key, data));
        const cipher = aesCbcEncrypt(key, iv, data);
        expect(aes.cbcDecrypt(iv, cipher)).toEqual(data);
        expect(aes.cbcDecrypt(iv, cipher)).toEqual(aesCbcDecrypt(key, iv, cipher));
        expect(aesCmac(aes, data)).toEqual(aesCmac(key, data));
        expect(aesCmac(aes, data.subarray(0, 5))).toEqual(aesCmac(key, data.subarray(0, 5)));
      }
    }
  });

  it('keeps its own copy of the key, and says whether it holds given bytes', () => {
    const key = randomBytes(16);
    const aes = new Aes128(key);
    const block = randomBytes(16);
    const before = aes.encryptBlocks(block);
    expect(aes.holds(key)).toBe(true);
    key[0] = (key[0] ?? 0) ^ 1;
    expect(aes.holds(key)).toBe(false);
    expect(aes.encryptBlocks(block)).toEqual(before);
  });

  it('refuses a key that is not 16 bytes and input that is not whole blocks', () => {
    expect(() => new Aes128(randomBytes(15))).toThrow(/16 bytes/);
    const aes = new Aes128(randomBytes(16));
    expect(() => aes.encryptBlocks(randomBytes(17))).toThrow(/whole number of 16-byte blocks/);
    expect(() => aes.cbcDecrypt(randomBytes(16), randomBytes(8))).toThrow(/16-byte blocks/);
  });
});
