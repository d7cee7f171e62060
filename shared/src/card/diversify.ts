import { AES_BLOCK_SIZE, AES_KEY_SIZE, Aes128 } from './aes.js';
import { cmacOverBlocks } from './aes-cmac.js';
import type { Bytes } from './bytes.js';

/**
 * AES-128 key diversification per NXP AN10922 §2.2 ("AES-128 key diversification"):
 * each card gets its own key, derived from a master key and the card's identity, so one
 * card's key opens no other card.
 */

/** What identifies the card and the key's purpose. Parts left undefined are left out. */
export interface DiversificationInput {
  /** Card UID (7 bytes on NTAG 424 DNA). */
  uid?: Bytes;
  /** Application identifier (3 bytes on DESFire). */
  aid?: Bytes;
  /** System identifier: free bytes naming the system or the key's purpose. Strings are ASCII. */
  systemIdentifier?: Bytes | string;
}

/** AN10922 §2.2 step 1: the diversification input M is 1 to 31 bytes. */
export const MAX_DIVERSIFICATION_INPUT = 31;

/** Diversification constant for AES-128 (AN10922 §2.2, step 2). */
const DIV_CONSTANT_AES128 = 0x01;
/** AN10922 pads D to 32 bytes: two AES blocks, whatever the length of M. */
const PADDED_LENGTH = 2 * AES_BLOCK_SIZE;

/** M = UID ‖ AID ‖ SystemIdentifier (AN10922 §2.2 step 1), checked for length. */
export function diversificationInput(parts: DiversificationInput): Buffer {
  const sysId =
    typeof parts.systemIdentifier === 'string'
      ? asciiBytes(parts.systemIdentifier)
      : parts.systemIdentifier;
  const m = Buffer.concat(
    [parts.uid ?? [], parts.aid ?? [], sysId ?? []].map((p) => Buffer.from(p)),
  );
  if (m.length === 0) throw new RangeError('AN10922 diversification input must not be empty');
  if (m.length > MAX_DIVERSIFICATION_INPUT) {
    throw new RangeError(
      `AN10922 diversification input is ${m.length} bytes; at most ${MAX_DIVERSIFICATION_INPUT} (UID + AID + system identifier)`,
    );
  }
  return m;
}

/**
 * Diversified key = CMAC(master, 0x01 ‖ M ‖ padding) per AN10922 §2.2 steps 2-5. Note the
 * two ways it departs from plain RFC 4493 CMAC of 0x01 ‖ M: when 0x01 ‖ M is shorter than
 * 32 bytes it is padded with 0x80 00… to 32 bytes — two blocks even when it would fit in
 * one — and the last block is then masked with K2; only a full 32-byte input uses K1.
 */
export function diversifyAes128Key(masterKey: Bytes | Aes128, parts: DiversificationInput): Buffer {
  if (!(masterKey instanceof Aes128) && masterKey.length !== AES_KEY_SIZE) {
    throw new RangeError('the master key must be 16 bytes');
  }
  const m = diversificationInput(parts);
  const d = Buffer.alloc(PADDED_LENGTH);
  d[0] = DIV_CONSTANT_AES128;
  m.copy(d, 1);
  const unpaddedLength = 1 + m.length;
  if (unpaddedLength === PADDED_LENGTH) return cmacOverBlocks(masterKey, d, 'k1');
  d[unpaddedLength] = 0x80;
  return cmacOverBlocks(masterKey, d, 'k2');
}

function asciiBytes(text: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new RangeError('a text system identifier must be printable ASCII');
  }
  return Buffer.from(text, 'ascii');
}
