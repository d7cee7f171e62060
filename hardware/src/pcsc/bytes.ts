/**
 * Small byte helpers shared by the PC/SC adapter and the card emulator. Kept local to
 * the hardware package so the adapter does not depend on the card crypto module for
 * plain formatting.
 */

/** Uppercase hex without separators, the form UIDs and SUN values take in TapRead. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .toUpperCase();
}

/** Parses hex (either case, optional spaces); throws on odd length or non-hex digits. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new Error('not an even-length hex string');
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Status word (SW1 SW2, ISO 7816-4 §5.1.3) of a response APDU, or undefined if too short. */
export function statusWord(response: Uint8Array): number | undefined {
  if (response.length < 2) return undefined;
  return ((response[response.length - 2] ?? 0) << 8) | (response[response.length - 1] ?? 0);
}

/** Little-endian 24-bit value, the byte order NTAG 424 uses for offsets and counters. */
export function readUint24Le(bytes: Uint8Array, at: number): number {
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16);
}

export function uint24Le(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff);
}
