/**
 * Byte helpers shared by the card crypto: hex parsing for values that come from
 * operators and readers, and the little-endian 3-byte counter the NTAG 424 DNA uses.
 */

/** Any byte input the card functions accept; they always return a Buffer. */
export type Bytes = Uint8Array;

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Parses hex (either case, no prefix, no separators). Throws a RangeError naming `what`
 * when the text is not hex or, given `length`, has the wrong number of bytes: use this
 * for operator input and configuration, where a clear error is the right answer.
 */
export function hexToBytes(hex: string, what = 'value', length?: number): Buffer {
  if (!HEX.test(hex)) {
    // The value itself is never echoed: it may be a key.
    throw new RangeError(`${what} must be hex: pairs of digits 0-9 / A-F, nothing else`);
  }
  const bytes = Buffer.from(hex, 'hex');
  if (length !== undefined && bytes.length !== length) {
    throw new RangeError(
      `${what} must be ${length} bytes (${length * 2} hex digits); got ${bytes.length}`,
    );
  }
  return bytes;
}

/**
 * Parses hex from a card or reader: null instead of an exception, because bad card data is
 * an ordinary outcome (a clone, a torn read), not a programming error.
 */
export function tryHexToBytes(hex: string, length?: number): Buffer | null {
  if (!HEX.test(hex)) return null;
  const bytes = Buffer.from(hex, 'hex');
  return length !== undefined && bytes.length !== length ? null : bytes;
}

/** Uppercase hex, the form UIDs and card values take everywhere in the project. */
export function bytesToHex(bytes: Bytes): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .toUpperCase();
}

export function xorBytes(a: Bytes, b: Bytes): Buffer {
  if (a.length !== b.length) throw new RangeError('xor needs inputs of the same length');
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** Largest SDMReadCtr: the counter is 24 bits (NT4H2421Gx §9.3.3). */
export const MAX_SDM_READ_COUNTER = 0xffffff;

/**
 * SDMReadCtr as the card uses it inside PICCData, session vectors and the file-data IV:
 * 3 bytes, least significant first (NT4H2421Gx §9.3.3, AN12196 §3.4.2).
 */
export function counterToLsb(counter: number): Buffer {
  assertCounter(counter);
  return Buffer.from([counter & 0xff, (counter >>> 8) & 0xff, (counter >>> 16) & 0xff]);
}

export function counterFromLsb(bytes: Bytes): number {
  if (bytes.length !== 3) throw new RangeError('SDMReadCtr must be 3 bytes');
  return (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8) | ((bytes[2] ?? 0) << 16);
}

/**
 * The counter as a plain SUN URL mirrors it: 6 hex digits, most significant first
 * (AN12196 §3.3, e.g. `ctr=00003D` for 61) — the opposite byte order to PICCData.
 * Returns null when the text is not exactly 6 hex digits.
 */
export function parseUrlCounter(hex: string): number | null {
  return /^[0-9a-fA-F]{6}$/.test(hex) ? Number.parseInt(hex, 16) : null;
}

export function formatUrlCounter(counter: number): string {
  assertCounter(counter);
  return counter.toString(16).toUpperCase().padStart(6, '0');
}

function assertCounter(counter: number): void {
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_SDM_READ_COUNTER) {
    throw new RangeError(`SDMReadCtr must be an integer from 0 to ${MAX_SDM_READ_COUNTER}`);
  }
}
