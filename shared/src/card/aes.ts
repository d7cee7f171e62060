import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import type { Bytes } from './bytes.js';

/**
 * Raw AES-128 primitives with padding switched off: every NXP scheme here pads (or
 * refuses to pad) on its own terms, so node's PKCS#7 default must never apply.
 */

export const AES_BLOCK_SIZE = 16;
export const AES_KEY_SIZE = 16;
export const ZERO_IV: Buffer = Buffer.alloc(AES_BLOCK_SIZE);

function checkKey(key: Bytes): void {
  if (key.length !== AES_KEY_SIZE) throw new RangeError('an AES-128 key must be 16 bytes');
}

function checkBlocks(data: Bytes, what: string): void {
  if (data.length % AES_BLOCK_SIZE !== 0) {
    throw new RangeError(`${what} must be a whole number of 16-byte blocks`);
  }
}

/** AES-128 in ECB mode, no padding (one block or several, each independent). */
export function aesEcbEncrypt(key: Bytes, data: Bytes): Buffer {
  checkKey(key);
  checkBlocks(data, 'AES-ECB input');
  const cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** AES-128-CBC encryption, no padding. */
export function aesCbcEncrypt(key: Bytes, iv: Bytes, data: Bytes): Buffer {
  checkKey(key);
  checkBlocks(data, 'AES-CBC input');
  const cipher = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** AES-128-CBC decryption, no padding removed. */
export function aesCbcDecrypt(key: Bytes, iv: Bytes, data: Bytes): Buffer {
  checkKey(key);
  checkBlocks(data, 'AES-CBC input');
  const decipher = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/**
 * An AES-128 key with its OpenSSL contexts made once. Making a context (key schedule,
 * algorithm lookup) costs several times the block it then encrypts, and a SUN check needs
 * a dozen blocks: a key used on every tap (a read master key, the meta-read key) is held
 * as one of these, and a key used once (a card's file-read key, a session key) gets one
 * context for all its blocks instead of one per step. ECB with padding off keeps nothing
 * between calls when given whole blocks, so the one context serves every call.
 */
export class Aes128 {
  readonly #key: Buffer;
  readonly #enc: Cipher;
  #dec: Decipher | null = null;

  constructor(key: Bytes) {
    checkKey(key);
    this.#key = Buffer.from(key);
    this.#enc = createCipheriv('aes-128-ecb', this.#key, null).setAutoPadding(false);
  }

  /** True when this holds exactly `key` (constant time is not needed: both are ours). */
  holds(key: Bytes): boolean {
    return this.#key.equals(key);
  }

  /** ECB: each 16-byte block encrypted on its own. */
  encryptBlocks(data: Bytes): Buffer {
    checkBlocks(data, 'AES-ECB input');
    return this.#enc.update(data);
  }

  /** ECB decryption of whole blocks. */
  decryptBlocks(data: Bytes): Buffer {
    checkBlocks(data, 'AES-ECB input');
    this.#dec ??= createDecipheriv('aes-128-ecb', this.#key, null).setAutoPadding(false);
    return this.#dec.update(data);
  }

  /** CBC decryption (no padding removed), one block at a time through the ECB context. */
  cbcDecrypt(iv: Bytes, data: Bytes): Buffer {
    const plain = this.decryptBlocks(data);
    for (let i = plain.length - 1; i >= 0; i--) {
      const prev = i < AES_BLOCK_SIZE ? (iv[i] as number) : (data[i - AES_BLOCK_SIZE] as number);
      plain[i] = (plain[i] as number) ^ prev;
    }
    return plain;
  }
}

/** A held key as it is; raw key bytes get one context for the computation at hand. */
export function aesOf(key: Bytes | Aes128): Aes128 {
  return key instanceof Aes128 ? key : new Aes128(key);
}
