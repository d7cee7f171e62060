import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from './bytes.js';
import type { Ev2Session } from './ev2.js';
import {
  buildChangeFileSettings,
  buildChangeKey,
  changeKeyPlaintext,
  crc32Nxp,
  decodeFileSettings,
  encodeFileSettings,
  type FileSettings,
  parseChangeKey,
  type SdmSettings,
} from './ev2-commands.js';
import { openSecureCommand, openSecureResponse, unwrapNativeCommand } from './ev2-messaging.js';
import { h, loadNtag424Vectors } from './test-vectors.js';

const ZERO = Buffer.alloc(16);

/** AN12196 §6.16 (Tables 25-26): the session used for the ChangeKey examples. */
function changeKeySession(cmdCtr: number): Ev2Session {
  return {
    keyNo: 0,
    ti: h('7614281A'),
    sesAuthEncKey: h('4CF3CB41A22583A61E89B158D252FC53'),
    sesAuthMacKey: h('5529860B2FC5FB6154B7F28361D30BF9'),
    cmdCtr,
  };
}

/** The AN12196 SDM configuration of the NDEF file (Table 18). */
const AN12196_SDM_SETTINGS: SdmSettings = {
  uidMirror: true,
  readCtrMirror: true,
  readCtrLimitEnabled: false,
  encFileData: false,
  metaRead: 2,
  fileRead: 1,
  ctrRet: 1,
  piccDataOffset: 0x20,
  macInputOffset: 0x43,
  macOffset: 0x43,
};
const AN12196_SDM: FileSettings = {
  commMode: 'plain',
  accessRights: { read: 0xe, write: 0, readWrite: 0, change: 0 },
  sdm: AN12196_SDM_SETTINGS,
};

describe('ChangeKey against AN12196', () => {
  it('computes CRC32NK without the final inversion (Table 25 step 7)', () => {
    expect(bytesToHex(crc32Nxp(h('F3847D627727ED3BC9C4CC050489B966')))).toBe('789DFADC');
  });

  it('changes another key: XOR with the old key, version, CRC (Table 25)', () => {
    const newKey = h('F3847D627727ED3BC9C4CC050489B966');
    expect(
      bytesToHex(changeKeyPlaintext(0, { keyNo: 2, newKey, keyVersion: 1, oldKey: ZERO })),
    ).toBe('F3847D627727ED3BC9C4CC050489B96601789DFADC');
    const command = buildChangeKey(changeKeySession(2), {
      keyNo: 2,
      newKey,
      keyVersion: 1,
      oldKey: ZERO,
    });
    expect(bytesToHex(command.apdu)).toBe(
      '90C4000029022CF362B7BF4311FF3BE1DAA295E8C68DE09050560D19B9E16C2393AE9CD1FAC75D0CE20BCD1D06E600',
    );
    expect(command.endsSession).toBe(false);
    const response = openSecureResponse(changeKeySession(2), {
      body: h('203BB55D1089D587'),
      mode: 'full',
    });
    expect(response).toMatchObject({ ok: true, session: { cmdCtr: 3 } });
  });

  it('changes the session key itself: new key and version only, session ends (Table 26)', () => {
    const command = buildChangeKey(changeKeySession(3), {
      keyNo: 0,
      newKey: h('5004BF991F408672B1EF00F08F9E8647'),
      keyVersion: 1,
    });
    expect(bytesToHex(command.apdu)).toBe(
      '90C400002900C0EB4DEEFEDDF0B513A03A95A75491818580503190D4D05053FF75668A01D6FDA6610234BDED643200',
    );
    expect(command.endsSession).toBe(true);
  });

  it('the card side reads both AN12196 ChangeKey commands back', () => {
    const cases = [
      {
        ctr: 2,
        apdu: '90C4000029022CF362B7BF4311FF3BE1DAA295E8C68DE09050560D19B9E16C2393AE9CD1FAC75D0CE20BCD1D06E600',
        key: 'F3847D627727ED3BC9C4CC050489B966',
        ends: false,
      },
      {
        ctr: 3,
        apdu: '90C400002900C0EB4DEEFEDDF0B513A03A95A75491818580503190D4D05053FF75668A01D6FDA6610234BDED643200',
        key: '5004BF991F408672B1EF00F08F9E8647',
        ends: true,
      },
    ];
    for (const c of cases) {
      const s = changeKeySession(c.ctr);
      const native = unwrapNativeCommand(h(c.apdu));
      if (!native) throw new Error('not a native command');
      const opened = openSecureCommand(s, {
        ins: native.ins,
        body: native.data,
        headerLength: 1,
        mode: 'full',
      });
      if (!opened.ok) throw new Error(opened.message);
      const keyNo = opened.header[0] ?? -1;
      expect(parseChangeKey(s, keyNo, opened.data, ZERO)).toEqual({
        ok: true,
        keyNo,
        newKey: h(c.key),
        keyVersion: 1,
        endsSession: c.ends,
      });
    }
  });
});

describe('ChangeKey, PCD ↔ PICC', () => {
  const s: Ev2Session = {
    keyNo: 0,
    ti: randomBytes(4),
    sesAuthEncKey: randomBytes(16),
    sesAuthMacKey: randomBytes(16),
    cmdCtr: 0,
  };

  it('round-trips a non-auth key change with a non-zero old key', () => {
    const oldKey = randomBytes(16);
    const newKey = randomBytes(16);
    const command = buildChangeKey(s, { keyNo: 1, newKey, keyVersion: 7, oldKey });
    const opened = openSecureCommand(s, {
      ins: command.ins,
      body: command.body,
      headerLength: 1,
      mode: 'full',
    });
    if (!opened.ok) throw new Error(opened.message);
    expect(parseChangeKey(s, 1, opened.data, oldKey)).toEqual({
      ok: true,
      keyNo: 1,
      newKey,
      keyVersion: 7,
      endsSession: false,
    });
    // A card whose key 1 is not what the reader believed finds the CRC wrong.
    expect(parseChangeKey(s, 1, opened.data, randomBytes(16))).toMatchObject({
      ok: false,
      reason: 'bad-crc',
    });
    expect(parseChangeKey(s, 1, opened.data.subarray(1), oldKey)).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
  });

  it('needs the old key to change another key', () => {
    expect(() => buildChangeKey(s, { keyNo: 2, newKey: ZERO, keyVersion: 1 })).toThrow(/oldKey/);
  });
});

describe('ChangeFileSettings with SDM', () => {
  it('encodes the AN12196 SDM settings (Table 18)', () => {
    expect(bytesToHex(encodeFileSettings(AN12196_SDM))).toBe('4000E0C1F121200000430000430000');
  });

  it('builds the AN12196 ChangeFileSettings command and checks its response (Tables 18-19)', () => {
    const v = loadNtag424Vectors().authenticate_ev2_first[0];
    if (!v) throw new Error('fixture has no EV2 vector');
    const s: Ev2Session = {
      keyNo: 0,
      ti: h(v.transaction_identifier),
      sesAuthEncKey: h(v.k_ses_auth_enc),
      sesAuthMacKey: h(v.k_ses_auth_mac),
      cmdCtr: 1,
    };
    const command = buildChangeFileSettings(s, 2, AN12196_SDM);
    expect(bytesToHex(command.apdu)).toBe(
      '905F0000190261B6D97903566E84C3AE5274467E89EAD799B7C1A0EF7A0400',
    );
    expect(openSecureResponse(s, { body: h('57BFF87B1241E93D'), mode: 'full' })).toMatchObject({
      ok: true,
      session: { cmdCtr: 2 },
    });
    expect(openSecureResponse(s, { body: h('57BFF87B1241E93E'), mode: 'full' })).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });

    const opened = openSecureCommand(s, {
      ins: command.ins,
      body: command.body,
      headerLength: 1,
      mode: 'full',
    });
    if (!opened.ok) throw new Error(opened.message);
    expect(opened.header).toEqual(h('02'));
    expect(decodeFileSettings(opened.data)).toEqual({ ok: true, settings: AN12196_SDM });
  });

  it('round-trips settings with plain mirrors, encrypted file data and a counter limit', () => {
    const settings: FileSettings = {
      commMode: 'full',
      accessRights: { read: 0xe, write: 0, readWrite: 0xf, change: 0 },
      sdm: {
        uidMirror: true,
        readCtrMirror: true,
        readCtrLimitEnabled: true,
        encFileData: true,
        metaRead: 0xe,
        fileRead: 1,
        ctrRet: 0xf,
        uidOffset: 0x20,
        readCtrOffset: 0x35,
        macInputOffset: 0x40,
        encOffset: 0x40,
        encLength: 0x20,
        macOffset: 0x66,
        readCtrLimit: 0x123456,
      },
    };
    const encoded = encodeFileSettings(settings);
    expect(encoded).toHaveLength(3 + 3 + 7 * 3);
    expect(decodeFileSettings(encoded)).toEqual({ ok: true, settings });
  });

  it('round-trips SDM off', () => {
    const settings: FileSettings = {
      commMode: 'plain',
      accessRights: { read: 0xe, write: 0xe, readWrite: 0xe, change: 0 },
      sdm: null,
    };
    expect(bytesToHex(encodeFileSettings(settings))).toBe('00E0EE');
    expect(decodeFileSettings(encodeFileSettings(settings))).toEqual({ ok: true, settings });
  });

  it('refuses incomplete settings on both sides', () => {
    const { macOffset: _omitted, ...sdm } = AN12196_SDM_SETTINGS;
    expect(() => encodeFileSettings({ ...AN12196_SDM, sdm })).toThrow(/macOffset/);
    expect(decodeFileSettings(h('4000E0C1F1212000004300'))).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    expect(decodeFileSettings(h('4000E0C0F121200000430000430000'))).toMatchObject({
      ok: false,
      reason: 'bad-value',
    });
    expect(decodeFileSettings(h('00E0EE00'))).toMatchObject({ ok: false, reason: 'bad-length' });
  });
});
