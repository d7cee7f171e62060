import { createCipheriv, createDecipheriv } from 'node:crypto';
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
