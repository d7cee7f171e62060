import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../pcsc/bytes.js';
import { readType2Header, readType2Ndef, readUid } from '../pcsc/card-reads.js';
import { firstUri } from '../pcsc/ndef.js';
import { CardRemovedError } from './virtual-card.js';
import { VirtualNtag21x } from './virtual-ntag21x.js';

const send = async (card: VirtualNtag21x, hex: string): Promise<string> =>
  toHex(await card.transceive(fromHex(hex)));

describe('VirtualNtag21x (PC/SC part 3 pseudo-APDUs)', () => {
  const uid = '04A1B2C3D4E5F6';

  it('answers GET DATA with the UID and wrong Le with 6Cxx', async () => {
    const card = new VirtualNtag21x({ uid });
    expect(await send(card, 'FFCA000000')).toBe(`${uid}9000`);
    expect(await send(card, 'FFCA000004')).toBe('6C07');
    expect(await send(card, 'FFCA010000')).toBe('6A81');
  });

  it('serves pages 0-3 with BCCs and the Capability Container', async () => {
    const card = new VirtualNtag21x({ uid });
    // BCC0 = 88 ⊕ 04 ⊕ A1 ⊕ B2 = 9F; BCC1 = C3 ⊕ D4 ⊕ E5 ⊕ F6 = 04.
    expect(await send(card, 'FFB0000010')).toBe('04A1B29FC3D4E5F604480000E11012009000');
  });

  it('reports reads past the end (6282) and beyond it (6A82)', async () => {
    const card = new VirtualNtag21x({ uid });
    expect((await send(card, 'FFB0002C10')).slice(-4)).toBe('6282');
    expect(await send(card, 'FFB0002D10')).toBe('6A82');
    expect(await send(card, '00B0000010')).toBe('6E00');
    expect(await send(card, 'FFB000')).toBe('6700');
  });

  it('holds an NDEF URI readable through the adapter helpers', async () => {
    const card = new VirtualNtag21x({ uid, ndefUri: 'https://example.org/card' });
    const t = (apdu: Uint8Array): Promise<Uint8Array> => card.transceive(apdu);
    expect(await readUid(t)).toBe(uid);
    const header = await readType2Header(t, uid);
    const message = await readType2Ndef(t, header.capabilityContainer);
    expect(message && firstUri(message)).toBe('https://example.org/card');
  });

  it('applies faults: status, wrong length, garbage, removal', async () => {
    const card = new VirtualNtag21x({ uid });
    card.injectFault({ kind: 'status', sw: 0x6300, match: (a) => a[1] === 0xb0 });
    expect(await send(card, 'FFB0000010')).toBe('6300');
    expect(await send(card, 'FFCA000000')).toBe(`${uid}9000`);
    card.clearFaults().injectFault({ kind: 'wrong-length', delta: -3 });
    expect(await send(card, 'FFCA000000')).toBe('04A1B2C39000');
    card.clearFaults().injectFault({ kind: 'garbage', length: 5 });
    expect((await card.transceive(fromHex('FFCA000000'))).length).toBe(5);
    card.clearFaults().injectFault({ kind: 'remove-during-apdu', atApdu: 5 });
    await expect(card.transceive(fromHex('FFCA000000'))).rejects.toBeInstanceOf(CardRemovedError);
  });

  it('requires 7-byte UIDs', () => {
    expect(() => new VirtualNtag21x({ uid: '01020304' })).toThrow();
  });
});
