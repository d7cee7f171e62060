import { randomBytes } from 'node:crypto';
import {
  aesEcbEncrypt,
  bytesToHex,
  cardHashOf,
  diversifyAes128Key,
  generateSun,
} from '@clubcard/shared';
import { describe, expect, it } from 'vitest';
import { authenticateTap } from './authenticate-tap.js';
import {
  CARD_KEY_NO,
  deriveIssuedCardKeys,
  heldReadKeys,
  type IssuingKeys,
  readKeyRingFromConfig,
  readKeyVersions,
  sdmFileReadKey,
  sdmMetaReadKey,
} from './card-keys.js';

const issuing: IssuingKeys = {
  issuingKeyVersion: 4,
  issuingMasterKey: randomBytes(16),
  readKeyVersion: 7,
  readMasterKey: randomBytes(16),
};
const UID = Buffer.from('04A1B2C3D4E5F6', 'hex');

describe('deriveIssuedCardKeys', () => {
  const keys = deriveIssuedCardKeys(issuing, UID);

  it('puts each key in its slot with its key-set version', () => {
    expect(keys.appMaster).toMatchObject({ keyNo: CARD_KEY_NO.appMaster, version: 4 });
    expect(keys.sdmFileRead).toMatchObject({ keyNo: 1, version: 7 });
    expect(keys.sdmMetaRead).toMatchObject({ keyNo: 2, version: 7 });
    expect(keys.spare3).toMatchObject({ keyNo: 3, version: 4 });
    expect(keys.spare4).toMatchObject({ keyNo: 4, version: 4 });
  });

  it('changes key 0 last, because changing it ends the EV2 session', () => {
    expect(keys.changeOrder.map((k) => k.keyNo)).toEqual([1, 2, 3, 4, 0]);
  });

  it('gives five distinct keys, none of them a master or the factory zero key', () => {
    const all = keys.changeOrder.map((k) => bytesToHex(k.key));
    expect(new Set(all).size).toBe(5);
    for (const forbidden of [issuing.issuingMasterKey, issuing.readMasterKey, Buffer.alloc(16)]) {
      expect(all).not.toContain(bytesToHex(forbidden));
    }
  });

  it('derives the file-read and app keys per card, the meta-read key per version', () => {
    const other = deriveIssuedCardKeys(issuing, Buffer.from('04000000000001', 'hex'));
    expect(other.appMaster.key.equals(keys.appMaster.key)).toBe(false);
    expect(other.sdmFileRead.key.equals(keys.sdmFileRead.key)).toBe(false);
    expect(other.sdmMetaRead.key).toEqual(keys.sdmMetaRead.key);
  });

  it('documents its AN10922 inputs: UID and a system identifier per purpose', () => {
    expect(keys.sdmFileRead.key).toEqual(
      diversifyAes128Key(issuing.readMasterKey, {
        uid: UID,
        systemIdentifier: 'PSC-SDM-FILE-READ',
      }),
    );
    expect(keys.sdmMetaRead.key).toEqual(
      diversifyAes128Key(issuing.readMasterKey, { systemIdentifier: 'PSC-SDM-META-READ' }),
    );
    expect(keys.appMaster.key).toEqual(
      diversifyAes128Key(issuing.issuingMasterKey, {
        uid: UID,
        systemIdentifier: 'PSC-APP-MASTER',
      }),
    );
    expect(sdmFileReadKey(issuing.readMasterKey, UID)).toEqual(keys.sdmFileRead.key);
    expect(sdmMetaReadKey(issuing.readMasterKey)).toEqual(keys.sdmMetaRead.key);
  });

  it('derives the meta-read key once per master, yet always the key of the master it is given', () => {
    const master = Buffer.from(randomBytes(16));
    const expected = (m: Buffer): Buffer =>
      diversifyAes128Key(m, { systemIdentifier: 'PSC-SDM-META-READ' });
    const first = sdmMetaReadKey(master);
    expect(first).toEqual(expected(master));
    first.fill(0); // what a caller does to its copy does not reach the next tap
    expect(sdmMetaReadKey(master)).toEqual(expected(master));
    master[0] = (master[0] ?? 0) ^ 0xff; // the same buffer holding another master
    expect(sdmMetaReadKey(master)).toEqual(expected(master));
  });

  it('holds the AES contexts of a read master, yet always those of the master it is given', () => {
    const master = Buffer.from(randomBytes(16));
    const block = randomBytes(16);
    const check = (): void => {
      const held = heldReadKeys(master);
      expect(held.master.encryptBlocks(block)).toEqual(aesEcbEncrypt(master, block));
      expect(held.metaRead.encryptBlocks(block)).toEqual(
        aesEcbEncrypt(sdmMetaReadKey(master), block),
      );
      expect(sdmFileReadKey(held.master, UID)).toEqual(sdmFileReadKey(master, UID));
    };
    check();
    expect(heldReadKeys(master)).toBe(heldReadKeys(master)); // made once, not per tap
    master[0] = (master[0] ?? 0) ^ 0xff; // the same buffer holding another master
    check();
  });

  it('makes a card that a kiosk holding only the read master verifies', () => {
    const read = generateSun({
      metaReadKey: keys.sdmMetaRead.key,
      fileReadKey: keys.sdmFileRead.key,
      uid: UID,
      counter: 1,
    });
    const result = authenticateTap(
      {
        readerName: 'test',
        technology: 'ntag424',
        identifier: bytesToHex(UID),
        proof: {
          kind: 'sun',
          piccData: bytesToHex(read.piccData ?? Buffer.alloc(0)),
          cmac: bytesToHex(read.cmac),
        },
        detectedAt: 0,
        apduMs: 0,
      },
      { allowUidOnly: false },
      {
        keyRing: { current: { version: 7, masterKey: issuing.readMasterKey } },
        cardHash: (uid) => cardHashOf('bb'.repeat(32), uid),
        highestCounter: () => null,
      },
    );
    expect(result).toMatchObject({ ok: true, auth: { method: 'sun', keyVersion: 7, counter: 1 } });
  });

  it('refuses a key version outside 0-255', () => {
    expect(() => deriveIssuedCardKeys({ ...issuing, readKeyVersion: 256 }, UID)).toThrow();
  });
});

describe('read key ring configuration', () => {
  it('parses hex keys, current first', () => {
    const ring = readKeyRingFromConfig({
      current: { version: 2, masterKeyHex: '11'.repeat(16) },
      previous: { version: 1, masterKeyHex: '22'.repeat(16) },
    });
    expect(readKeyVersions(ring).map((v) => v.version)).toEqual([2, 1]);
    expect(bytesToHex(ring.current.masterKey)).toBe('11'.repeat(16));
  });

  it('works without a previous version', () => {
    const ring = readKeyRingFromConfig({ current: { version: 0, masterKeyHex: '11'.repeat(16) } });
    expect(readKeyVersions(ring)).toHaveLength(1);
  });

  it('refuses short keys and a repeated version', () => {
    expect(() => readKeyRingFromConfig({ current: { version: 1, masterKeyHex: '11' } })).toThrow(
      /32 hex/,
    );
    expect(() =>
      readKeyRingFromConfig({
        current: { version: 1, masterKeyHex: '11'.repeat(16) },
        previous: { version: 1, masterKeyHex: '22'.repeat(16) },
      }),
    ).toThrow(/must differ/);
  });
});
