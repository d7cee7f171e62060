import { describe, expect, it } from 'vitest';
import { classifyVpcdPayload, encodeVpcdFrame, VpcdFrameDecoder } from './vpcd-protocol.js';

describe('vpcd framing', () => {
  it('prefixes a payload with its big-endian 16-bit length', () => {
    expect([...encodeVpcdFrame(Uint8Array.of(0x90, 0x00))]).toEqual([0x00, 0x02, 0x90, 0x00]);
    const long = encodeVpcdFrame(new Uint8Array(0x1234));
    expect([long[0], long[1]]).toEqual([0x12, 0x34]);
    expect(long.length).toBe(0x1236);
  });

  it('refuses payloads a 2-byte length cannot describe', () => {
    expect(() => encodeVpcdFrame(new Uint8Array(0x10000))).toThrow(RangeError);
  });

  it('reassembles frames split across and merged within TCP chunks', () => {
    const decoder = new VpcdFrameDecoder();
    const stream = Uint8Array.of(0, 1, 0x04, 0, 5, 0xff, 0xca, 0, 0, 0, 0, 1, 0x00);
    const frames: number[][] = [];
    for (const chunk of [stream.slice(0, 1), stream.slice(1, 7), stream.slice(7)]) {
      frames.push(...decoder.push(chunk).map((f) => [...f]));
    }
    expect(frames).toEqual([[0x04], [0xff, 0xca, 0, 0, 0], [0x00]]);
    expect(decoder.pending).toBe(0);
  });

  it('keeps an incomplete frame until the rest arrives', () => {
    const decoder = new VpcdFrameDecoder();
    expect(decoder.push(Uint8Array.of(0, 3, 1))).toEqual([]);
    expect(decoder.pending).toBe(3);
    expect(decoder.push(Uint8Array.of(2, 3)).map((f) => [...f])).toEqual([[1, 2, 3]]);
  });

  it('classifies control bytes and APDUs', () => {
    expect(classifyVpcdPayload(Uint8Array.of(0))).toEqual({ kind: 'power-off' });
    expect(classifyVpcdPayload(Uint8Array.of(1))).toEqual({ kind: 'power-on' });
    expect(classifyVpcdPayload(Uint8Array.of(2))).toEqual({ kind: 'reset' });
    expect(classifyVpcdPayload(Uint8Array.of(4))).toEqual({ kind: 'get-atr' });
    expect(classifyVpcdPayload(Uint8Array.of(9))).toEqual({ kind: 'unknown-control', code: 9 });
    expect(classifyVpcdPayload(Uint8Array.of(0x00, 0xa4)).kind).toBe('apdu');
  });
});
