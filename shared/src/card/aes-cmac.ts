import { AES_BLOCK_SIZE, type Aes128, aesOf, ZERO_IV } from './aes.js';
import type { Bytes } from './bytes.js';

/** AES-CMAC (RFC 4493) and the NXP truncation of it. */

export interface CmacSubkeys {
  k1: Buffer;
  k2: Buffer;
}

/** RFC 4493 §2.3: Rb for 128-bit blocks. */
const RB = 0x87;

function shiftLeftOne(block: Buffer): Buffer {
  const out = Buffer.alloc(block.length);
  for (let i = 0; i < block.length; i++) {
    out[i] = (((block[i] ?? 0) << 1) | ((block[i + 1] ?? 0) >>> 7)) & 0xff;
  }
  if (((block[0] ?? 0) & 0x80) !== 0) out[block.length - 1] = (out[block.length - 1] ?? 0) ^ RB;
  return out;
}

/** RFC 4493 §2.3 Generate_Subkey: L = AES(K, 0^128); K1 = L·x; K2 = K1·x in GF(2^128). */
export function cmacSubkeys(key: Bytes | Aes128): CmacSubkeys {
  const l = aesOf(key).encryptBlocks(ZERO_IV);
  const k1 = shiftLeftOne(l);
  return { k1, k2: shiftLeftOne(k1) };
}

/**
 * The CMAC core over input that the caller has already laid out in whole blocks: the last
 * block is XORed with K1 (the caller's input was complete) or K2 (the caller padded it).
 * RFC 4493 does the padding itself; AN10922 key diversification pads to 32 bytes its own
 * way and then needs exactly this step with K2, so it is exposed.
 */
export function cmacOverBlocks(key: Bytes | Aes128, blocks: Bytes, subkey: 'k1' | 'k2'): Buffer {
  if (blocks.length === 0 || blocks.length % AES_BLOCK_SIZE !== 0) {
    throw new RangeError('CMAC input must be one or more whole 16-byte blocks here');
  }
  const aes = aesOf(key);
  const k = cmacSubkeys(aes)[subkey];
  // CBC-MAC with a zero IV, through the key's one ECB context: the last block is the tag.
  const lastStart = blocks.length - AES_BLOCK_SIZE;
  let x: Buffer = Buffer.alloc(AES_BLOCK_SIZE);
  for (let at = 0; at < blocks.length; at += AES_BLOCK_SIZE) {
    for (let i = 0; i < AES_BLOCK_SIZE; i++) {
      let b = (x[i] as number) ^ (blocks[at + i] as number);
      if (at === lastStart) b ^= k[i] as number;
      x[i] = b;
    }
    x = aes.encryptBlocks(x);
  }
  return x;
}

/** AES-CMAC per RFC 4493 §2.4: a 16-byte tag over a message of any length (even empty). */
export function aesCmac(key: Bytes | Aes128, message: Bytes): Buffer {
  const complete = message.length > 0 && message.length % AES_BLOCK_SIZE === 0;
  const aes = aesOf(key);
  if (complete) return cmacOverBlocks(aes, message, 'k1');
  // Incomplete last block (or empty message): pad with 10^i to a whole block, use K2.
  const padded = Buffer.alloc((Math.floor(message.length / AES_BLOCK_SIZE) + 1) * AES_BLOCK_SIZE);
  Buffer.from(message).copy(padded);
  padded[message.length] = 0x80;
  return cmacOverBlocks(aes, padded, 'k2');
}

/**
 * NXP's 8-byte MAC: the bytes at odd indexes (1, 3, …, 15) of the 16-byte CMAC — the
 * datasheet's "even-numbered bytes" counted from 1 (NT4H2421Gx §9.1.3 and §9.3.9, AN12196
 * §3.4.4). Used for SDMMAC and for EV2 secure messaging alike.
 */
export function truncateMac(cmac: Bytes): Buffer {
  if (cmac.length !== AES_BLOCK_SIZE) throw new RangeError('a full CMAC is 16 bytes');
  const out = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) out[i] = cmac[2 * i + 1] ?? 0;
  return out;
}
