/**
 * Command/response APDU helpers for the card emulator (ISO/IEC 7816-4 §5.1, short
 * length fields only: NTAG 21x through a PC/SC reader and NTAG 424 DNA never need
 * extended lengths, and the NTAG 424 datasheet limits frames to 256 bytes anyway).
 */

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Lc bytes), empty for cases 1 and 2. */
  data: Uint8Array;
  /** Expected response length: undefined when absent, 256 when encoded as 00. */
  le: number | undefined;
}

/** Status words used by the emulated cards (ISO 7816-4 §5.6, PC/SC part 3 §3.2.2.1). */
export const SW = {
  OK: 0x9000,
  /** PC/SC part 3: end of data reached before Le bytes (READ BINARY). */
  END_OF_DATA: 0x6282,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_INCOMPATIBLE: 0x6981,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  WRONG_P1P2: 0x6b00,
  WRONG_P1P2_IN_DATA: 0x6a86,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  /** Wrong Le; SW2 carries the exact length (ISO 7816-4 §5.6, 6Cxx). */
  wrongLe: (exact: number): number => 0x6c00 | (exact & 0xff),
} as const;

export class ApduFormatError extends Error {
  override readonly name = 'ApduFormatError';
}

/** Parses a short command APDU (cases 1–4). Throws ApduFormatError on bad lengths. */
export function parseCommandApdu(bytes: Uint8Array): CommandApdu {
  if (bytes.length < 4) throw new ApduFormatError('APDU shorter than its 4-byte header');
  const [cla = 0, ins = 0, p1 = 0, p2 = 0] = bytes;
  if (bytes.length === 4) return { cla, ins, p1, p2, data: new Uint8Array(0), le: undefined };
  const b5 = bytes[4] ?? 0;
  if (bytes.length === 5) {
    return { cla, ins, p1, p2, data: new Uint8Array(0), le: b5 === 0 ? 256 : b5 };
  }
  if (b5 === 0) throw new ApduFormatError('extended-length APDUs are not supported');
  const lc = b5;
  if (bytes.length === 5 + lc) {
    return { cla, ins, p1, p2, data: bytes.slice(5, 5 + lc), le: undefined };
  }
  if (bytes.length === 6 + lc) {
    const le = bytes[5 + lc] ?? 0;
    return { cla, ins, p1, p2, data: bytes.slice(5, 5 + lc), le: le === 0 ? 256 : le };
  }
  throw new ApduFormatError(`Lc ${lc} does not match an APDU of ${bytes.length} bytes`);
}

/** Response APDU: data followed by SW1 SW2. */
export function respond(sw: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = (sw >> 8) & 0xff;
  out[data.length + 1] = sw & 0xff;
  return out;
}
