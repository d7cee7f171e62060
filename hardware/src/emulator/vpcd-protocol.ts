/**
 * The vpcd wire protocol (vsmartcard project, `vpcd` pcscd driver): the virtual card is
 * a TCP client of the driver, and every message in both directions is a 2-byte
 * big-endian length followed by that many payload bytes. A 1-byte payload from vpcd is a
 * control code; 2 bytes or more is a command APDU. See docs/hardware-testing.md.
 */

export const VPCD_DEFAULT_HOST = '127.0.0.1';
/** vpcd slot 0 (`Virtual PCD 00 00`); slot 1 listens on 35964. */
export const VPCD_DEFAULT_PORT = 35963;

export const VPCD_POWER_OFF = 0x00;
export const VPCD_POWER_ON = 0x01;
export const VPCD_RESET = 0x02;
export const VPCD_GET_ATR = 0x04;

/** The largest payload a 16-bit length prefix can describe. */
export const VPCD_MAX_PAYLOAD = 0xffff;

export type VpcdMessage =
  | { kind: 'power-off' }
  | { kind: 'power-on' }
  | { kind: 'reset' }
  | { kind: 'get-atr' }
  | { kind: 'apdu'; apdu: Uint8Array }
  /** A 1-byte control code this emulator does not know (vpcd has no others today). */
  | { kind: 'unknown-control'; code: number };

export function classifyVpcdPayload(payload: Uint8Array): VpcdMessage {
  if (payload.length === 1) {
    const code = payload[0] ?? -1;
    switch (code) {
      case VPCD_POWER_OFF:
        return { kind: 'power-off' };
      case VPCD_POWER_ON:
        return { kind: 'power-on' };
      case VPCD_RESET:
        return { kind: 'reset' };
      case VPCD_GET_ATR:
        return { kind: 'get-atr' };
      default:
        return { kind: 'unknown-control', code };
    }
  }
  return { kind: 'apdu', apdu: payload };
}

/** Prefixes a payload with its 2-byte big-endian length. */
export function encodeVpcdFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > VPCD_MAX_PAYLOAD) throw new RangeError('vpcd payload longer than 65535');
  const frame = new Uint8Array(payload.length + 2);
  frame[0] = payload.length >> 8;
  frame[1] = payload.length & 0xff;
  frame.set(payload, 2);
  return frame;
}

/**
 * Reassembles length-prefixed frames from a TCP byte stream: TCP may split one frame
 * over several chunks or put several frames in one chunk.
 */
export class VpcdFrameDecoder {
  #buffer: Uint8Array = new Uint8Array(0);

  /** Adds received bytes; returns every frame payload now complete, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer, 0);
    joined.set(chunk, this.#buffer.length);
    const frames: Uint8Array[] = [];
    let at = 0;
    while (joined.length - at >= 2) {
      const length = ((joined[at] ?? 0) << 8) | (joined[at + 1] ?? 0);
      if (joined.length - at - 2 < length) break;
      frames.push(joined.slice(at + 2, at + 2 + length));
      at += 2 + length;
    }
    this.#buffer = joined.slice(at);
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.#buffer.length;
  }
}
