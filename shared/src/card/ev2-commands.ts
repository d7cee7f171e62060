import { AES_KEY_SIZE } from './aes.js';
import { type Bytes, xorBytes } from './bytes.js';
import { constantTimeEqual } from './ct.js';
import { checkKeyNo, EV2_INS, type Ev2Session } from './ev2.js';
import { buildSecureCommand, type SecureCommand } from './ev2-messaging.js';

/**
 * The personalisation commands an enrolment desk sends under an EV2 session, and the
 * card emulator's reading of them: ChangeKey (NT4H2421Gx §10.6.1, AN12196 §6.16) and
 * ChangeFileSettings with Secure Dynamic Messaging (NT4H2421Gx §10.7.1, AN12196 §6.9).
 * Both are CommMode.Full with a 1-byte header.
 */

/**
 * CRC32 as DESFire and NTAG 424 DNA use it for CRC32NK: the IEEE 802.3 polynomial
 * (reflected 0xEDB88320), preset 0xFFFFFFFF, but WITHOUT the final inversion, sent LSB
 * first. AN12196 Table 25 step 7 pins it: F3847D627727ED3BC9C4CC050489B966 → 789DFADC.
 */
export function crc32Nxp(data: Bytes): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32LE(crc >>> 0);
  return out;
}

export interface ChangeKeyInput {
  /** The key to change (0-4 on NTAG 424 DNA). */
  keyNo: number;
  newKey: Bytes;
  /** Key version stored with the key (0-255): the project writes its key-set version. */
  keyVersion: number;
  /** The key's current value: required unless it is the session's own key. */
  oldKey?: Bytes;
}

/**
 * ChangeKey plaintext (NT4H2421Gx §10.6.1 Table 63):
 *  - changing the key the session authenticated with: NewKey ‖ KeyVer (17 bytes);
 *  - any other key: (NewKey ⊕ OldKey) ‖ KeyVer ‖ CRC32NK(NewKey) (21 bytes). The XOR
 *    proves the caller knew the old key; the CRC lets the card check the result.
 */
export function changeKeyPlaintext(authKeyNo: number, input: ChangeKeyInput): Buffer {
  checkKeyNo(input.keyNo);
  checkAesKey(input.newKey, 'new key');
  if (!Number.isInteger(input.keyVersion) || input.keyVersion < 0 || input.keyVersion > 0xff) {
    throw new RangeError('key version must be 0-255');
  }
  const version = Buffer.from([input.keyVersion]);
  if (input.keyNo === authKeyNo) return Buffer.concat([Buffer.from(input.newKey), version]);
  if (input.oldKey === undefined) {
    throw new TypeError(`changing key ${input.keyNo} needs its current value (oldKey)`);
  }
  checkAesKey(input.oldKey, 'old key');
  return Buffer.concat([xorBytes(input.newKey, input.oldKey), version, crc32Nxp(input.newKey)]);
}

/**
 * PCD side: a ChangeKey command. When it changes the session's own key the card ends the
 * session and answers a bare 9100 with no MAC (NT4H2421Gx §10.6.1; AN12196 Table 26), so
 * `endsSession` tells the caller not to look for a response MAC and to authenticate anew.
 */
export function buildChangeKey(
  session: Ev2Session,
  input: ChangeKeyInput,
): SecureCommand & { endsSession: boolean } {
  const data = changeKeyPlaintext(session.keyNo, input);
  const command = buildSecureCommand(session, {
    ins: EV2_INS.changeKey,
    header: Buffer.from([input.keyNo]),
    data,
    mode: 'full',
  });
  return { ...command, endsSession: input.keyNo === session.keyNo };
}

export type ChangeKeyParse =
  | { ok: true; keyNo: number; newKey: Buffer; keyVersion: number; endsSession: boolean }
  | { ok: false; reason: 'bad-length' | 'bad-crc'; message: string };

/**
 * PICC side: reads ChangeKey data already opened with `openSecureCommand`. `currentKey`
 * is the card's present value of the key being changed (needed to undo the XOR). A CRC
 * failure is what the card answers with 911E (INTEGRITY_ERROR).
 */
export function parseChangeKey(
  session: Ev2Session,
  keyNo: number,
  plaintext: Bytes,
  currentKey: Bytes,
): ChangeKeyParse {
  const own = keyNo === session.keyNo;
  const expected = own ? AES_KEY_SIZE + 1 : AES_KEY_SIZE + 1 + 4;
  if (plaintext.length !== expected) {
    return {
      ok: false,
      reason: 'bad-length',
      message: `ChangeKey data for key ${keyNo} must be ${expected} bytes; got ${plaintext.length}`,
    };
  }
  const p = Buffer.from(plaintext);
  const keyVersion = p[AES_KEY_SIZE] ?? 0;
  if (own) {
    return {
      ok: true,
      keyNo,
      newKey: Buffer.from(p.subarray(0, AES_KEY_SIZE)),
      keyVersion,
      endsSession: true,
    };
  }
  checkAesKey(currentKey, 'current key');
  const newKey = xorBytes(p.subarray(0, AES_KEY_SIZE), currentKey);
  if (!constantTimeEqual(crc32Nxp(newKey), p.subarray(AES_KEY_SIZE + 1))) {
    return { ok: false, reason: 'bad-crc', message: 'CRC32 of the new key does not match' };
  }
  return { ok: true, keyNo, newKey, keyVersion, endsSession: false };
}

/** File access condition: key number 0-4, 0xE free access, 0xF no access. */
export type AccessCondition = number;

/** The four access conditions of a file (NT4H2421Gx §8.2.3.3). */
export interface AccessRights {
  read: AccessCondition;
  write: AccessCondition;
  readWrite: AccessCondition;
  change: AccessCondition;
}

export const ACCESS_FREE = 0xe;
export const ACCESS_NEVER = 0xf;

/** Secure Dynamic Messaging settings of a file (NT4H2421Gx §10.7.1 Table 69). */
export interface SdmSettings {
  /** SDMOptions bit 7: mirror the UID. */
  uidMirror: boolean;
  /** SDMOptions bit 6: mirror SDMReadCtr. */
  readCtrMirror: boolean;
  /** SDMOptions bit 5: a read-counter limit applies. */
  readCtrLimitEnabled: boolean;
  /** SDMOptions bit 4: mirror encrypted file data. */
  encFileData: boolean;
  /** Key for PICCData: 0-4 encrypted under that key, 0xE plain mirror, 0xF none. */
  metaRead: AccessCondition;
  /** Key for SDMMAC and file-data encryption (K_SDMFileRead), 0xF none. */
  fileRead: AccessCondition;
  /** Key allowed to retrieve SDMReadCtr with GetFileCounters, 0xE free, 0xF never. */
  ctrRet: AccessCondition;
  /** Offsets in the file (3 bytes each on the wire), present per Table 69's conditions. */
  uidOffset?: number;
  readCtrOffset?: number;
  piccDataOffset?: number;
  macInputOffset?: number;
  encOffset?: number;
  encLength?: number;
  macOffset?: number;
  readCtrLimit?: number;
}

export type FileCommMode = 'plain' | 'mac' | 'full';

export interface FileSettings {
  commMode: FileCommMode;
  accessRights: AccessRights;
  /** null: SDM off. */
  sdm: SdmSettings | null;
}

const COMM_MODE_BITS: Record<FileCommMode, number> = { plain: 0b00, mac: 0b01, full: 0b11 };
const FILE_OPTION_SDM = 0x40;
/** SDMOptions bit 0: ASCII encoding of mirrors — the only encoding defined (Table 69). */
const SDM_OPTION_ASCII = 0x01;

/**
 * The optional SDM fields in wire order, each with the condition under which it is
 * present (NT4H2421Gx §10.7.1 Table 69).
 */
const SDM_FIELDS: ReadonlyArray<{
  name: keyof SdmSettings &
    (
      | 'uidOffset'
      | 'readCtrOffset'
      | 'piccDataOffset'
      | 'macInputOffset'
      | 'encOffset'
      | 'encLength'
      | 'macOffset'
      | 'readCtrLimit'
    );
  present: (s: SdmSettings) => boolean;
}> = [
  { name: 'uidOffset', present: (s) => s.uidMirror && s.metaRead === ACCESS_FREE },
  { name: 'readCtrOffset', present: (s) => s.readCtrMirror && s.metaRead === ACCESS_FREE },
  { name: 'piccDataOffset', present: (s) => s.metaRead <= 4 },
  { name: 'macInputOffset', present: (s) => s.fileRead !== ACCESS_NEVER },
  { name: 'encOffset', present: (s) => s.fileRead !== ACCESS_NEVER && s.encFileData },
  { name: 'encLength', present: (s) => s.fileRead !== ACCESS_NEVER && s.encFileData },
  { name: 'macOffset', present: (s) => s.fileRead !== ACCESS_NEVER },
  { name: 'readCtrLimit', present: (s) => s.readCtrLimitEnabled },
];

/**
 * AccessRights on the wire: 2 bytes, LSB first, of Read[15:12] Write[11:8] RW[7:4]
 * Change[3:0] — so byte 0 is RW‖Change and byte 1 is Read‖Write (AN12196 Table 18: 00E0
 * is read free, everything else key 0).
 */
function encodeAccessRights(a: AccessRights): Buffer {
  for (const v of [a.read, a.write, a.readWrite, a.change]) checkNibble(v);
  return Buffer.from([(a.readWrite << 4) | a.change, (a.read << 4) | a.write]);
}

/** ChangeFileSettings data (after the FileNo header), NT4H2421Gx §10.7.1 Table 69. */
export function encodeFileSettings(settings: FileSettings): Buffer {
  const parts: Buffer[] = [];
  const fileOption = COMM_MODE_BITS[settings.commMode] | (settings.sdm ? FILE_OPTION_SDM : 0);
  parts.push(Buffer.from([fileOption]), encodeAccessRights(settings.accessRights));
  const sdm = settings.sdm;
  if (sdm) {
    for (const v of [sdm.metaRead, sdm.fileRead, sdm.ctrRet]) checkNibble(v);
    const options =
      (sdm.uidMirror ? 0x80 : 0) |
      (sdm.readCtrMirror ? 0x40 : 0) |
      (sdm.readCtrLimitEnabled ? 0x20 : 0) |
      (sdm.encFileData ? 0x10 : 0) |
      SDM_OPTION_ASCII;
    // SDMAccessRights, LSB first: byte 0 = RFU(F)‖CtrRet, byte 1 = MetaRead‖FileRead.
    parts.push(Buffer.from([options, 0xf0 | sdm.ctrRet, (sdm.metaRead << 4) | sdm.fileRead]));
    for (const field of SDM_FIELDS) {
      if (!field.present(sdm)) continue;
      const value = sdm[field.name];
      if (value === undefined) {
        throw new TypeError(`these SDM settings need ${field.name} (NT4H2421Gx Table 69)`);
      }
      parts.push(uint24Le(value, field.name));
    }
  }
  return Buffer.concat(parts);
}

export type FileSettingsParse =
  | { ok: true; settings: FileSettings }
  | { ok: false; reason: 'bad-length' | 'bad-value'; message: string };

/** PICC side: reads ChangeFileSettings data (the card emulator applies the result). */
export function decodeFileSettings(data: Bytes): FileSettingsParse {
  const d = Buffer.from(data);
  if (d.length < 3) return badSettings('bad-length', 'file settings need at least 3 bytes');
  const fileOption = d[0] ?? 0;
  const modeBits = fileOption & 0b11;
  const commMode: FileCommMode = modeBits === 0b01 ? 'mac' : modeBits === 0b11 ? 'full' : 'plain';
  if ((fileOption & ~(FILE_OPTION_SDM | 0b11)) !== 0) {
    return badSettings('bad-value', 'FileOption has reserved bits set');
  }
  const accessRights: AccessRights = {
    readWrite: (d[1] ?? 0) >> 4,
    change: (d[1] ?? 0) & 0xf,
    read: (d[2] ?? 0) >> 4,
    write: (d[2] ?? 0) & 0xf,
  };
  if ((fileOption & FILE_OPTION_SDM) === 0) {
    return d.length === 3
      ? { ok: true, settings: { commMode, accessRights, sdm: null } }
      : badSettings('bad-length', 'unexpected bytes after the file settings');
  }
  if (d.length < 6) return badSettings('bad-length', 'SDM settings are missing');
  const options = d[3] ?? 0;
  if ((options & SDM_OPTION_ASCII) === 0 || (options & 0x0e) !== 0) {
    return badSettings('bad-value', 'SDMOptions must select ASCII encoding, RFU bits clear');
  }
  const sdm: SdmSettings = {
    uidMirror: (options & 0x80) !== 0,
    readCtrMirror: (options & 0x40) !== 0,
    readCtrLimitEnabled: (options & 0x20) !== 0,
    encFileData: (options & 0x10) !== 0,
    ctrRet: (d[4] ?? 0) & 0xf,
    metaRead: (d[5] ?? 0) >> 4,
    fileRead: (d[5] ?? 0) & 0xf,
  };
  let at = 6;
  for (const field of SDM_FIELDS) {
    if (!field.present(sdm)) continue;
    if (at + 3 > d.length)
      return badSettings('bad-length', `SDM settings end before ${field.name}`);
    sdm[field.name] = d.readUIntLE(at, 3);
    at += 3;
  }
  if (at !== d.length) return badSettings('bad-length', 'unexpected bytes after the SDM settings');
  return { ok: true, settings: { commMode, accessRights, sdm } };
}

/** PCD side: ChangeFileSettings for one file (FileNo 02 is the NDEF file that may use SDM). */
export function buildChangeFileSettings(
  session: Ev2Session,
  fileNo: number,
  settings: FileSettings,
): SecureCommand {
  if (!Number.isInteger(fileNo) || fileNo < 0 || fileNo > 0x1f) {
    throw new RangeError('file number must be 0-31');
  }
  return buildSecureCommand(session, {
    ins: EV2_INS.changeFileSettings,
    header: Buffer.from([fileNo]),
    data: encodeFileSettings(settings),
    mode: 'full',
  });
}

function badSettings(reason: 'bad-length' | 'bad-value', message: string): FileSettingsParse {
  return { ok: false, reason, message };
}

function checkNibble(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xf) {
    throw new RangeError('an access condition is 0-4 (key), 0xE (free) or 0xF (never)');
  }
}

function checkAesKey(key: Bytes, what: string): void {
  if (key.length !== AES_KEY_SIZE) throw new RangeError(`${what} must be 16 bytes`);
}

function uint24Le(value: number, what: string): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffff) {
    throw new RangeError(`${what} must fit in 3 bytes`);
  }
  const b = Buffer.alloc(3);
  b.writeUIntLE(value, 0, 3);
  return b;
}
