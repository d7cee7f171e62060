import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from './bytes.js';
import {
  computeSdmMac,
  decryptPiccData,
  decryptSdmFileData,
  encryptPiccData,
  encryptSdmFileData,
  generateSun,
  sdmSessionKeys,
  verifySun,
} from './sun.js';
import { h, loadNtag424Vectors } from './test-vectors.js';

const vectors = loadNtag424Vectors();
const ZERO = Buffer.alloc(16);

describe('SUN verification against published vectors', () => {
  it.each(vectors.sun)('$source', (v) => {
    const result = verifySun(
      { metaReadKey: h(v.k_sdm_meta_read), fileReadKey: h(v.k_sdm_file_read) },
      { piccData: h(v.picc_enc_data), cmac: h(v.sdm_mac) },
    );
    expect(result.valid).toBe(v.expect.valid);
    expect(result.piccDataTag).toBe(Number.parseInt(v.expect.picc_data_tag, 16));
    expect(result.uid && bytesToHex(result.uid)).toBe(v.expect.uid.toUpperCase());
    expect(result.counter).toBe(v.expect.read_counter);
  });

  it.each(vectors.sun)('reproduces the card side of: $source', (v) => {
    // AN12196 Table 2 gives the decrypted PICCData, whose last 5 bytes are the card's
    // random padding: C7 04DE5F1EACC040 3D0000 DA5CF60941.
    const picc = decryptPiccData(h(v.k_sdm_meta_read), h(v.picc_enc_data));
    expect(picc.ok).toBe(true);
    const generated = generateSun({
      metaReadKey: h(v.k_sdm_meta_read),
      fileReadKey: h(v.k_sdm_file_read),
      uid: h(v.expect.uid),
      counter: v.expect.read_counter,
      piccPadding: h('DA5CF60941'),
    });
    expect(bytesToHex(generated.piccData ?? Buffer.alloc(0))).toBe(v.picc_enc_data.toUpperCase());
    expect(bytesToHex(generated.cmac)).toBe(v.sdm_mac.toUpperCase());
  });

  // AN12196 §3.4.4 example with SDMENCFileData (p. 18, all-zero keys): the MAC covers the
  // ASCII mirror of the encrypted file data and the URL text up to the MAC.
  it('verifies the AN12196 example with encrypted file data and a non-empty MAC input', () => {
    const result = verifySun(
      { metaReadKey: ZERO, fileReadKey: ZERO },
      {
        piccData: h('FD91EC264309878BE6345CBE53BADF40'),
        cmac: h('ECC1E7F6C6C73BF6'),
        encFileData: h('CEE9A53E3E463EF1F459635736738962'),
        macInput: Buffer.from('CEE9A53E3E463EF1F459635736738962&cmac=', 'ascii'),
      },
    );
    expect(result).toMatchObject({ valid: true, counter: 8, piccDataTag: 0xc7 });
    expect(result.uid && bytesToHex(result.uid)).toBe('04958CAA5C5E80');
    expect(result.valid && result.fileData?.toString('ascii')).toBe('xxxxxxxxxxxxxxxx');
    expect(bytesToHex(sdmSessionKeys(ZERO, h('04958CAA5C5E80'), 8).macKey)).toBe(
      '3ED0920E5E6A0320D823D5987FEAFBB1',
    );
  });

  // AN12196 §3.4.4.1: SV2 = 3CC300010080 04C767F2066180 010000 under a non-zero key.
  it('derives the AN12196 SDM session MAC key', () => {
    const keys = sdmSessionKeys(h('5ACE7E50AB65D5D51FD5BF5A16B8205B'), h('04C767F2066180'), 1);
    expect(bytesToHex(keys.macKey)).toBe('3A3E8110E05311F7A3FCF0D969BF2B48');
  });

  // A plain-mirror SUN read from a factory-key NTAG 424 DNA (the sdm-backend demo link
  // `tagpt?uid=041E3C8A2D6B80&ctr=000006&cmac=4B00064004B0B3D3`, MAC over empty input).
  it('verifies a plain UID + counter mirror', () => {
    const result = verifySun(
      { fileReadKey: ZERO },
      { uid: h('041E3C8A2D6B80'), counter: 6, cmac: h('4B00064004B0B3D3') },
    );
    expect(result).toMatchObject({ valid: true, counter: 6, piccDataTag: null, fileData: null });
  });
});

describe('SUN round trips (generator ↔ verifier)', () => {
  const metaReadKey = randomBytes(16);
  const fileReadKey = randomBytes(16);
  const uid = h('04A1B2C3D4E5F6');

  it('verifies encrypted PICCData with file data and a MAC input built from the mirror', () => {
    const fileData = Buffer.from('member:0001;v=01', 'ascii');
    const sun = generateSun({
      metaReadKey,
      fileReadKey,
      uid,
      counter: 0x012345,
      fileData,
      macInput: ({ encFileData }) =>
        Buffer.from(`${bytesToHex(encFileData ?? Buffer.alloc(0))}&cmac=`),
    });
    expect(sun.piccData).toHaveLength(16);
    expect(sun.encFileData).toHaveLength(16);
    const result = verifySun(
      { metaReadKey, fileReadKey: (u) => (u && u.equals(uid) ? fileReadKey : ZERO) },
      {
        piccData: sun.piccData ?? Buffer.alloc(0),
        cmac: sun.cmac,
        encFileData: sun.encFileData ?? undefined,
        macInput: sun.macInput,
      },
    );
    expect(result).toMatchObject({ valid: true, counter: 0x012345 });
    expect(result.valid && result.fileData).toEqual(fileData);
  });

  it('verifies the plain mirror', () => {
    const sun = generateSun({ fileReadKey, uid, counter: 7, macInput: Buffer.from('x') });
    expect(sun.piccData).toBeNull();
    const result = verifySun(
      { fileReadKey },
      { uid, counter: 7, cmac: sun.cmac, macInput: Buffer.from('x') },
    );
    expect(result.valid).toBe(true);
  });

  it('gives a different PICCData on every read (random padding, counter)', () => {
    const a = encryptPiccData(metaReadKey, { uid, counter: 1 });
    const b = encryptPiccData(metaReadKey, { uid, counter: 1 });
    expect(a.equals(b)).toBe(false);
    const decrypted = decryptPiccData(metaReadKey, a);
    expect(decrypted).toMatchObject({ ok: true, piccData: { tag: 0xc7, counter: 1 } });
  });

  it('encrypts and decrypts file data symmetrically', () => {
    const plain = randomBytes(32);
    const enc = encryptSdmFileData(fileReadKey, uid, 9, plain);
    expect(decryptSdmFileData(fileReadKey, uid, 9, enc)).toEqual(plain);
    expect(decryptSdmFileData(fileReadKey, uid, 10, enc).equals(plain)).toBe(false);
  });
});

describe('SUN refusals', () => {
  const vector = { piccData: h('EF963FF7828658A599F3041510671E88'), cmac: h('94EED9EE65337086') };

  it('refuses every single-bit change of the MAC', () => {
    for (let bit = 0; bit < 64; bit++) {
      const cmac = Buffer.from(vector.cmac);
      cmac[bit >> 3] = (cmac[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const result = verifySun({ metaReadKey: ZERO, fileReadKey: ZERO }, { ...vector, cmac });
      expect(result).toMatchObject({ valid: false, reason: 'bad-mac' });
    }
  });

  it('refuses a wrong file-read key', () => {
    const wrong = h('00000000000000000000000000000001');
    expect(verifySun({ metaReadKey: ZERO, fileReadKey: wrong }, vector)).toMatchObject({
      valid: false,
      reason: 'bad-mac',
      counter: 61,
    });
  });

  it('refuses a wrong meta-read key (PICCData does not decrypt to a valid tag)', () => {
    const wrong = h('00000000000000000000000000000001');
    expect(verifySun({ metaReadKey: wrong, fileReadKey: ZERO }, vector)).toMatchObject({
      valid: false,
      reason: 'bad-picc-data',
      uid: null,
    });
  });

  it('refuses a plain mirror whose counter or UID was changed (a replayed MAC)', () => {
    const base = { uid: h('041E3C8A2D6B80'), counter: 6, cmac: h('4B00064004B0B3D3') };
    expect(verifySun({ fileReadKey: ZERO }, { ...base, counter: 7 }).valid).toBe(false);
    expect(verifySun({ fileReadKey: ZERO }, { ...base, uid: h('041E3C8A2D6B81') }).valid).toBe(
      false,
    );
    expect(verifySun({ fileReadKey: ZERO }, { ...base, macInput: Buffer.from('?') }).valid).toBe(
      false,
    );
  });

  it('reports bad lengths as results, never exceptions', () => {
    const keys = { metaReadKey: ZERO, fileReadKey: ZERO };
    expect(verifySun(keys, { ...vector, piccData: vector.piccData.subarray(1) })).toMatchObject({
      valid: false,
      reason: 'bad-length',
    });
    expect(verifySun(keys, { ...vector, cmac: vector.cmac.subarray(1) })).toMatchObject({
      valid: false,
      reason: 'bad-length',
      message: 'SDMMAC must be 8 bytes; got 7',
    });
    expect(verifySun(keys, { ...vector, encFileData: Buffer.alloc(15) })).toMatchObject({
      valid: false,
      reason: 'bad-length',
    });
    expect(
      verifySun({ fileReadKey: ZERO }, { uid: Buffer.alloc(6), counter: 1, cmac: vector.cmac }),
    ).toMatchObject({ valid: false, reason: 'bad-length' });
    expect(
      verifySun(
        { fileReadKey: ZERO },
        { uid: Buffer.alloc(7), counter: 2 ** 24, cmac: vector.cmac },
      ),
    ).toMatchObject({ valid: false, reason: 'bad-length' });
  });

  it('refuses encrypted file data that the MAC does not cover', () => {
    const fileReadKey = randomBytes(16);
    const uid = h('04A1B2C3D4E5F6');
    const sun = generateSun({
      fileReadKey,
      uid,
      counter: 3,
      fileData: Buffer.alloc(16, 0x41),
      macInput: ({ encFileData }) =>
        Buffer.from(`${bytesToHex(encFileData ?? Buffer.alloc(0))}&cmac=`),
    });
    const message = { uid, counter: 3, cmac: sun.cmac, macInput: sun.macInput };
    const swapped = Buffer.alloc(16, 0x42);
    expect(verifySun({ fileReadKey }, { ...message, encFileData: swapped })).toMatchObject({
      valid: false,
      reason: 'unauthenticated-file-data',
    });
    const macInput = Buffer.from(`${bytesToHex(swapped)}&cmac=`);
    expect(
      verifySun({ fileReadKey }, { ...message, encFileData: swapped, macInput }),
    ).toMatchObject({
      valid: false,
      reason: 'bad-mac',
    });
    expect(
      verifySun({ fileReadKey }, { ...message, encFileData: sun.encFileData ?? swapped }).valid,
    ).toBe(true);
  });

  it('needs the meta-read key for encrypted PICCData (a caller error, so it throws)', () => {
    expect(() => verifySun({ fileReadKey: ZERO }, vector)).toThrow(TypeError);
  });

  it('computes the MAC over an empty input when none is given', () => {
    expect(computeSdmMac(ZERO, h('04DE5F1EACC040'), 61)).toEqual(h('94EED9EE65337086'));
  });
});
