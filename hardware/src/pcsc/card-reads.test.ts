import { describe, expect, it } from 'vitest';
import { VirtualNtag424 } from '../emulator/virtual-ntag424.js';
import { toHex } from './bytes.js';
import {
  CardProtocolError,
  readType4NdefMessage,
  readType4Sun,
  TruncatedResponseError,
  type Transmit,
} from './card-reads.js';
import { encodeNdefMessage, encodeType4NdefFile, uriRecord } from './ndef.js';

const KEYS = [1, 2, 3, 4, 5].map((b) => new Uint8Array(16).fill(b));

/** The card's transmit, with every command the reader sent recorded as hex. */
function through(card: VirtualNtag424): { transmit: Transmit; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    transmit: (apdu) => {
      sent.push(toHex(apdu));
      return card.transceive(apdu);
    },
  };
}

/** A card holding this NDEF message, SUN off. */
function cardWith(message: Uint8Array): VirtualNtag424 {
  const ndefFile = new Uint8Array(256);
  ndefFile.set(encodeType4NdefFile(message));
  return new VirtualNtag424({ uid: '04010203040506', ndefFile });
}

describe('readType4NdefMessage', () => {
  it('reads NLEN and a SUN message in one READ BINARY after the two SELECTs', async () => {
    const card = VirtualNtag424.personalised({ uid: '04010203040506', keys: KEYS });
    const { transmit, sent } = through(card);
    const result = await readType4Sun(transmit);
    expect(result.kind).toBe('sun');
    expect(sent.map((a) => a.slice(0, 4))).toEqual(['00A4', '00A4', '00B0']);
    expect(sent[2]).toBe('00B00000FF');
    // One read session, one mirror: the counter moved once.
    expect(card.readCounter).toBe(1);
    // The message read is the file's NLEN bytes after NLEN, nothing more.
    const stored = card.storedNdefFile();
    const nlen = ((stored[0] ?? 0) << 8) | (stored[1] ?? 0);
    const message = await readType4NdefMessage(through(card).transmit);
    expect(message.length).toBe(nlen);
  });

  it('reads a message longer than one response in further reads from where the first ended', async () => {
    const message = encodeNdefMessage([uriRecord(`https://example.org/${'a'.repeat(150)}`)]);
    const { transmit, sent } = through(cardWith(message));
    const read = await readType4NdefMessage(transmit, { maxLe: 64 });
    expect(toHex(read)).toBe(toHex(message));
    // 64 bytes from 0 (NLEN + 62), then the rest 64 at a time from offset 64 on.
    const expected = ['00B0000040'];
    for (let offset = 64; offset < message.length + 2; offset += 64) {
      const n = Math.min(64, message.length + 2 - offset);
      expected.push(`00B0${toHex(Uint8Array.of(offset >> 8, offset & 0xff, n))}`);
    }
    expect(expected.length).toBeGreaterThan(2);
    expect(sent.slice(2)).toEqual(expected);
  });

  it('reads an empty NDEF file (NLEN 0) in one READ BINARY', async () => {
    const card = VirtualNtag424.blank('04010203040506');
    const { transmit, sent } = through(card);
    expect((await readType4NdefMessage(transmit)).length).toBe(0);
    expect(sent).toHaveLength(3);
  });

  it('falls back to NLEN first when the card refuses the long read', async () => {
    const message = encodeNdefMessage([uriRecord('https://example.org/x')]);
    const card = cardWith(message);
    // As a Type 4 tag with an NDEF file shorter than 255 bytes might: wrong length.
    card.injectFault({
      kind: 'status',
      sw: 0x6700,
      match: (a) => a[1] === 0xb0 && a[4] === 0xff,
    });
    const { transmit, sent } = through(card);
    expect(toHex(await readType4NdefMessage(transmit))).toBe(toHex(message));
    expect(sent.slice(2)).toEqual([
      '00B00000FF',
      '00B0000002',
      '00B00002' + message.length.toString(16).toUpperCase().padStart(2, '0'),
    ]);
  });

  it('takes the data of an end-of-file warning (6282) as the head', async () => {
    const message = encodeNdefMessage([uriRecord('https://example.org/y')]);
    const file = encodeType4NdefFile(message);
    const transmit: Transmit = async (apdu) => {
      if (apdu[1] === 0xa4) return Uint8Array.of(0x90, 0x00);
      return Uint8Array.of(...file, 0x62, 0x82);
    };
    expect(toHex(await readType4NdefMessage(transmit))).toBe(toHex(message));
  });

  it('refuses a head shorter than NLEN, a response without a status word, and a refused fallback', async () => {
    const ok = Uint8Array.of(0x90, 0x00);
    const answers = (head: Uint8Array): Transmit => {
      return async (apdu) => (apdu[1] === 0xa4 ? ok : head);
    };
    await expect(readType4NdefMessage(answers(Uint8Array.of(0x00, 0x90, 0x00)))).rejects.toThrow(
      CardProtocolError,
    );
    await expect(readType4NdefMessage(answers(Uint8Array.of(0x90)))).rejects.toThrow(
      TruncatedResponseError,
    );
    await expect(readType4NdefMessage(answers(Uint8Array.of(0x6a, 0x82)))).rejects.toThrow(
      /READ BINARY NLEN: status 6A82/,
    );
  });

  it('refuses a message the first read says is longer than the card then gives', async () => {
    const message = encodeNdefMessage([uriRecord(`https://example.org/${'b'.repeat(100)}`)]);
    const card = cardWith(message);
    card.injectFault({ kind: 'wrong-length', delta: -3, match: (a) => a[3] !== 0x00 });
    await expect(readType4NdefMessage(through(card).transmit, { maxLe: 32 })).rejects.toThrow(
      /READ BINARY returned/,
    );
  });
});
