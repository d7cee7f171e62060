import { describe, expect, it } from 'vitest';
import { ApduFormatError, parseCommandApdu, respond, SW } from './apdu.js';

describe('parseCommandApdu (ISO 7816-4 short APDUs)', () => {
  it('reads case 1 (header only)', () => {
    expect(parseCommandApdu(Uint8Array.of(0x00, 0xa4, 0x04, 0x00))).toMatchObject({
      cla: 0,
      ins: 0xa4,
      p1: 4,
      p2: 0,
      le: undefined,
    });
  });

  it('reads case 2 with Le 00 meaning 256', () => {
    expect(parseCommandApdu(Uint8Array.of(0xff, 0xca, 0, 0, 0)).le).toBe(256);
    expect(parseCommandApdu(Uint8Array.of(0x00, 0xb0, 0, 2, 0x10)).le).toBe(16);
  });

  it('reads case 3 and case 4', () => {
    const c3 = parseCommandApdu(Uint8Array.of(0x00, 0xa4, 0x00, 0x0c, 2, 0xe1, 0x04));
    expect([...c3.data]).toEqual([0xe1, 0x04]);
    expect(c3.le).toBeUndefined();
    const c4 = parseCommandApdu(Uint8Array.of(0x90, 0x71, 0, 0, 2, 0, 0, 0));
    expect([...c4.data]).toEqual([0, 0]);
    expect(c4.le).toBe(256);
  });

  it('rejects short, extended and inconsistent APDUs', () => {
    expect(() => parseCommandApdu(Uint8Array.of(0x00, 0xa4, 0x04))).toThrow(ApduFormatError);
    expect(() => parseCommandApdu(Uint8Array.of(0, 0xb0, 0, 0, 0, 0x01, 0x00))).toThrow(
      ApduFormatError,
    );
    expect(() => parseCommandApdu(Uint8Array.of(0, 0xd6, 0, 0, 3, 1, 2))).toThrow(ApduFormatError);
  });

  it('builds responses as data ‖ SW1 SW2', () => {
    expect([...respond(SW.OK, Uint8Array.of(1, 2))]).toEqual([1, 2, 0x90, 0x00]);
    expect([...respond(SW.wrongLe(7))]).toEqual([0x6c, 0x07]);
  });
});
