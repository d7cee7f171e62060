import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import {
  decodeNdefMessage,
  decodeType2NdefTlv,
  encodeNdefMessage,
  encodeType2NdefTlv,
  encodeType4NdefFile,
  firstUri,
  NdefFormatError,
  recordUri,
  uriRecord,
} from './ndef.js';

describe('NDEF', () => {
  it('encodes a URI record with the https:// abbreviation (URI RTD code 04)', () => {
    const message = encodeNdefMessage([uriRecord('https://example.org/a')]);
    // D1 = MB|ME|SR|TNF well-known; type length 1; payload 14; 'U'; code 04.
    expect(toHex(message)).toBe('D1010E5504' + toHex(new TextEncoder().encode('example.org/a')));
    expect(firstUri(message)).toBe('https://example.org/a');
    // The same from the records already decoded.
    expect(firstUri(decodeNdefMessage(message))).toBe('https://example.org/a');
    expect(firstUri([])).toBeUndefined();
  });

  it('refuses a URI that is not UTF-8, and reads the next one as before', () => {
    const bad = { tnf: 1, type: Uint8Array.of(0x55), id: new Uint8Array(0) };
    expect(() => recordUri({ ...bad, payload: Uint8Array.of(0x04, 0x61, 0xff, 0xfe) })).toThrow(
      TypeError,
    );
    // A cut-off multi-byte sequence is refused too, and leaves nothing behind.
    expect(() => recordUri({ ...bad, payload: Uint8Array.of(0x04, 0xe2, 0x82) })).toThrow(
      TypeError,
    );
    expect(recordUri({ ...bad, payload: Uint8Array.of(0x04, 0x61, 0x2f, 0x62) })).toBe(
      'https://a/b',
    );
  });

  it('prefers the longest prefix and keeps unknown schemes verbatim', () => {
    expect(uriRecord('https://www.example.org').payload[0]).toBe(0x02);
    expect(uriRecord('tel:+441234').payload[0]).toBe(0x05);
    expect(recordUri(uriRecord('x-custom:thing'))).toBe('x-custom:thing');
  });

  it('round-trips several records, long payloads and IDs', () => {
    const long = new Uint8Array(300).fill(0x41);
    const records = [
      {
        tnf: 1,
        type: Uint8Array.of(0x54),
        id: Uint8Array.of(7),
        payload: Uint8Array.of(2, 0x65, 0x6e, 0x68, 0x69),
      },
      {
        tnf: 2,
        type: new TextEncoder().encode('text/plain'),
        id: new Uint8Array(0),
        payload: long,
      },
    ];
    const decoded = decodeNdefMessage(encodeNdefMessage(records));
    expect(decoded).toHaveLength(2);
    expect([...(decoded[0]?.id ?? [])]).toEqual([7]);
    expect(decoded[1]?.payload.length).toBe(300);
  });

  it('rejects truncated, chunked and unterminated messages', () => {
    const good = encodeNdefMessage([uriRecord('https://e.org')]);
    expect(() => decodeNdefMessage(good.slice(0, good.length - 1))).toThrow(NdefFormatError);
    expect(() => decodeNdefMessage(Uint8Array.of(0xb1, 1, 0, 0x55))).toThrow(/chunked/);
    expect(() => decodeNdefMessage(Uint8Array.of(0x91, 1, 0, 0x55))).toThrow(/ME/);
    expect(() => decodeNdefMessage(Uint8Array.of(0x51, 1, 0, 0x55))).toThrow(/MB/);
    expect(() => decodeNdefMessage(new Uint8Array(0))).toThrow(NdefFormatError);
    expect(() =>
      recordUri({
        tnf: 1,
        type: Uint8Array.of(0x55),
        id: new Uint8Array(0),
        payload: Uint8Array.of(0x99),
      }),
    ).toThrow(/reserved/);
  });

  it('wraps Type 2 TLVs and finds the NDEF TLV after NULL and lock TLVs', () => {
    const message = encodeNdefMessage([uriRecord('https://e.org')]);
    const tlv = encodeType2NdefTlv(message);
    expect(tlv[0]).toBe(0x03);
    expect(tlv[tlv.length - 1]).toBe(0xfe);
    const memory = Uint8Array.of(0x00, 0x01, 0x03, 0xa0, 0x0c, 0x44, ...tlv, 0, 0);
    expect(toHex(decodeType2NdefTlv(memory) ?? new Uint8Array())).toBe(toHex(message));
    expect(decodeType2NdefTlv(Uint8Array.of(0xfe, 0, 0))).toBeUndefined();
    expect(() => decodeType2NdefTlv(Uint8Array.of(0x03, 0x20, 1))).toThrow(NdefFormatError);
    const big = encodeType2NdefTlv(new Uint8Array(300));
    expect(toHex(big.slice(0, 4))).toBe('03FF012C');
  });

  it('prefixes Type 4 NDEF files with NLEN', () => {
    expect(toHex(encodeType4NdefFile(fromHex('D10100')))).toBe('0003D10100');
  });
});
