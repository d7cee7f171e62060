import { hexToBytes, verifySun, type SunMessage } from '@clubcard/shared';
import {
  buildSunTemplate,
  personaliseNtag424,
  PcscCardReader,
  sunFileSettings,
  tap,
  VirtualNtag424,
  type SunProof,
  type TapRead,
} from '@clubcard/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { nextEvent, record } from './helpers.js';

const READER = 'Virtual PCD 00 00';
const UID = '04DE5F1EACC040';
const key = (n: number, fill = 0x20): Uint8Array => new Uint8Array(16).fill(fill + n);
const KEYS = [0, 1, 2, 3, 4].map((n) => key(n));
/** The project's key numbers: K_SDMFileRead = 1, K_SDMMetaRead = 2. */
const READ_KEYS = { metaReadKey: key(2), fileReadKey: key(1) };

/** The kiosk's side: the TapRead proof as a SunMessage for verifySun. */
function sunMessage(proof: SunProof): SunMessage {
  return {
    piccData: hexToBytes(proof.piccData ?? ''),
    cmac: hexToBytes(proof.cmac),
    macInput: Buffer.from(proof.macInput ?? '', 'latin1'),
    ...(proof.encFileData ? { encFileData: hexToBytes(proof.encFileData) } : {}),
  };
}

function sunOf(read: TapRead): SunProof {
  if (read.proof.kind !== 'sun') throw new Error('expected a SUN proof');
  return read.proof;
}

describe('NTAG 424 DNA through pcscd + vpcd + nfc-pcsc', () => {
  let pcscd: PcscdHandle;
  let reader: PcscCardReader;

  beforeAll(async () => {
    pcscd = await ensurePcscd();
    reader = new PcscCardReader();
    const attached = nextEvent(reader, 'reader-attached', 10_000, (r) => r.name === READER);
    await reader.start();
    await attached;
  });

  afterAll(async () => {
    await reader?.stop();
    await pcscd?.stop();
  });

  /** Taps the card and resolves with the TapRead (after the card has left again). */
  async function tapAndRead(card: VirtualNtag424): Promise<TapRead> {
    const tapped = nextEvent(reader, 'tap');
    const removed = nextEvent(reader, 'card-removed');
    await tap(card, { until: tapped });
    const [read] = await tapped;
    await removed;
    return read;
  }

  it('yields a SUN proof that verifies, with the counter rising per tap', async () => {
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS });
    const log = record(reader);
    const first = await tapAndRead(card);
    expect(first).toMatchObject({ readerName: READER, technology: 'ntag424', identifier: UID });
    const v1 = verifySun(READ_KEYS, sunMessage(sunOf(first)));
    expect(v1).toMatchObject({ valid: true, counter: 1 });
    expect(v1.uid?.toString('hex').toUpperCase()).toBe(UID);
    const second = await tapAndRead(card);
    expect(verifySun(READ_KEYS, sunMessage(sunOf(second)))).toMatchObject({
      valid: true,
      counter: 2,
    });
    expect(first.apduMs).toBeGreaterThan(0);
    expect(log.errors).toEqual([]);
  });

  it('carries encrypted file data inside the MAC', async () => {
    const card = VirtualNtag424.personalised({
      uid: UID,
      keys: KEYS,
      encFileData: new TextEncoder().encode('0123456789ABCDEF'),
    });
    const v = verifySun(READ_KEYS, sunMessage(sunOf(await tapAndRead(card))));
    expect(v.valid && v.fileData?.toString()).toBe('0123456789ABCDEF');
  });

  it('a clone claiming the UID without the keys fails verification', async () => {
    const clone = VirtualNtag424.personalised({
      uid: UID,
      keys: [key(0, 0x70), key(1, 0x70), key(2, 0x70)],
    });
    const read = await tapAndRead(clone);
    expect(read.identifier).toBe(UID);
    expect(verifySun(READ_KEYS, sunMessage(sunOf(read))).valid).toBe(false);
  });

  it('a replayed SUN message verifies but repeats its counter (the kiosk must refuse it)', async () => {
    const card = VirtualNtag424.personalised({ uid: UID, keys: KEYS, readCounter: 41 });
    const original = await tapAndRead(card);
    card.replaySun();
    const replay = await tapAndRead(card);
    expect(sunOf(replay)).toEqual(sunOf(original));
    const a = verifySun(READ_KEYS, sunMessage(sunOf(original)));
    const b = verifySun(READ_KEYS, sunMessage(sunOf(replay)));
    expect([a.counter, b.counter]).toEqual([42, 42]);
  });

  it('personalises a blank card over the transmit channel, which then taps as genuine', async () => {
    const blank = VirtualNtag424.blank('04AABBCCDDEEFF');
    const tapped = nextEvent(reader, 'tap');
    await blank.present();
    try {
      const [read] = await tapped;
      expect(read).toMatchObject({ technology: 'ntag424', proof: { kind: 'none' } });
      const channel = reader.channel(read.readerName);
      if (!channel) throw new Error('no channel to the card in the field');
      expect(channel.open).toBe(true);
      const template = buildSunTemplate();
      await personaliseNtag424((apdu) => channel.transmit(apdu), {
        currentAppMasterKey: new Uint8Array(16),
        keys: [1, 2, 3, 4, 0].map((keyNo) => ({ keyNo, key: key(keyNo), version: 1 })),
        ndefFile: template.ndefFile,
        ndefFileSettings: sunFileSettings(template),
      });
    } finally {
      const removed = nextEvent(reader, 'card-removed');
      await blank.remove();
      await removed;
    }
    expect(Buffer.from(blank.key(0)).equals(Buffer.from(key(0)))).toBe(true);
    const after = await tapAndRead(blank);
    expect(verifySun(READ_KEYS, sunMessage(sunOf(after)))).toMatchObject({
      valid: true,
      counter: 1,
    });
    expect(reader.channel(READER)).toBeUndefined();
  });
});
