import { randomBytes } from 'node:crypto';
import {
  AES_BLOCK_SIZE,
  type Aes128,
  aesCbcDecrypt,
  aesCbcEncrypt,
  aesEcbEncrypt,
  aesOf,
  ZERO_IV,
} from './aes.js';
import { aesCmac, truncateMac } from './aes-cmac.js';
import { type Bytes, counterFromLsb, counterToLsb, MAX_SDM_READ_COUNTER } from './bytes.js';
import { constantTimeEqual } from './ct.js';

/**
 * NTAG 424 DNA Secure Unique NFC messages (Secure Dynamic Messaging, AES mode), per
 * NT4H2421Gx §9.3 and NXP AN12196 §3. The card mirrors into its NDEF file, on every read,
 * its UID and a 24-bit read counter (in clear or as encrypted PICCData), optionally a
 * block of encrypted file data, and an 8-byte SDMMAC under a session key that depends on
 * UID and counter. Both directions live here: verification for kiosks and the CLI,
 * generation for the card emulator.
 */

export const PICC_DATA_LENGTH = 16;
export const SDM_MAC_LENGTH = 8;
export const NTAG424_UID_LENGTH = 7;

/** PICCDataTag bits (NT4H2421Gx §9.3.4, AN12196 §3.4.2.1 Table 2). */
const TAG_UID_MIRRORED = 0x80;
const TAG_COUNTER_MIRRORED = 0x40;
const TAG_RFU = 0x30;
const TAG_UID_LENGTH_MASK = 0x0f;

/** Why a SUN message was refused. Bad card data is a result, never an exception. */
export type SunFailureReason =
  /** A field has the wrong length (a torn read, garbage, or a mis-configured card). */
  | 'bad-length'
  /** PICCData did not decrypt to a well-formed PICCDataTag: wrong K_SDMMetaRead or garbage. */
  | 'bad-picc-data'
  /** The SDMMAC does not match: wrong K_SDMFileRead, altered data, or a forgery. */
  | 'bad-mac'
  /** Encrypted file data that the MAC input does not cover, so nothing vouches for it. */
  | 'unauthenticated-file-data';

export interface PiccData {
  /** PICCDataTag byte: which fields the card mirrored, and the UID length. */
  tag: number;
  /** UID, when the tag says it is mirrored. */
  uid: Buffer | null;
  /** SDMReadCtr, when the tag says it is mirrored. */
  counter: number | null;
}

export type PiccDataResult =
  | { ok: true; piccData: PiccData }
  | { ok: false; reason: 'bad-length' | 'bad-picc-data'; message: string };

/**
 * Decrypts PICCData: AES-128-CBC with a zero IV under K_SDMMetaRead (NT4H2421Gx §9.3.4,
 * AN12196 §3.4.2.1), giving PICCDataTag ‖ UID ‖ SDMReadCtr (LSB first) ‖ random padding.
 * A malformed tag is the only sign of a wrong key available before the MAC check.
 */
export function decryptPiccData(metaReadKey: Bytes | Aes128, encPiccData: Bytes): PiccDataResult {
  if (encPiccData.length !== PICC_DATA_LENGTH) {
    return {
      ok: false,
      reason: 'bad-length',
      message: `encrypted PICCData must be ${PICC_DATA_LENGTH} bytes; got ${encPiccData.length}`,
    };
  }
  const plain = aesOf(metaReadKey).cbcDecrypt(ZERO_IV, encPiccData);
  const tag = plain[0] ?? 0;
  const uidMirrored = (tag & TAG_UID_MIRRORED) !== 0;
  const counterMirrored = (tag & TAG_COUNTER_MIRRORED) !== 0;
  const uidLength = tag & TAG_UID_LENGTH_MASK;
  if (
    (tag & TAG_RFU) !== 0 ||
    (!uidMirrored && !counterMirrored) ||
    (uidMirrored && uidLength !== NTAG424_UID_LENGTH)
  ) {
    return {
      ok: false,
      reason: 'bad-picc-data',
      message:
        'PICCData did not decrypt to a valid PICCDataTag (wrong meta-read key, or not a SUN message)',
    };
  }
  let at = 1;
  let uid: Buffer | null = null;
  if (uidMirrored) {
    uid = Buffer.from(plain.subarray(at, at + NTAG424_UID_LENGTH));
    at += NTAG424_UID_LENGTH;
  }
  const counter = counterMirrored ? counterFromLsb(plain.subarray(at, at + 3)) : null;
  return { ok: true, piccData: { tag, uid, counter } };
}

/**
 * Encrypts PICCData as a card does (the emulator's side of {@link decryptPiccData}).
 * `padding` fills the rest of the block; real cards use random bytes (so the default),
 * tests pass fixed bytes to reproduce published vectors.
 */
export function encryptPiccData(
  metaReadKey: Bytes,
  fields: { uid: Bytes | null; counter: number | null },
  padding?: Bytes,
): Buffer {
  const parts: Buffer[] = [];
  let tag = 0;
  if (fields.uid !== null) {
    checkUid(fields.uid);
    tag |= TAG_UID_MIRRORED | NTAG424_UID_LENGTH;
    parts.push(Buffer.from(fields.uid));
  }
  if (fields.counter !== null) {
    tag |= TAG_COUNTER_MIRRORED;
    parts.push(counterToLsb(fields.counter));
  }
  if (tag === 0) throw new RangeError('PICCData must mirror the UID, the counter, or both');
  const body = Buffer.concat([Buffer.from([tag]), ...parts]);
  const fill = padding ?? randomBytes(PICC_DATA_LENGTH - body.length);
  if (body.length + fill.length !== PICC_DATA_LENGTH) {
    throw new RangeError(`PICCData padding must be ${PICC_DATA_LENGTH - body.length} bytes`);
  }
  return aesCbcEncrypt(metaReadKey, ZERO_IV, Buffer.concat([body, Buffer.from(fill)]));
}

export interface SdmSessionKeys {
  /** K_SesSDMFileReadENC: decrypts SDMENCFileData. */
  encKey: Buffer;
  /** K_SesSDMFileReadMAC: computes SDMMAC. */
  macKey: Buffer;
}

/**
 * SDM session keys (NT4H2421Gx §9.3.9.1, AN12196 §3.4.4.1):
 *   SV1 = C3 3C 00 01 00 80 [‖ UID] [‖ SDMReadCtr] ‖ zero padding to 16 bytes
 *   SV2 = 3C C3 00 01 00 80 [‖ UID] [‖ SDMReadCtr] ‖ zero padding
 *   K_SesSDMFileReadENC = CMAC(K_SDMFileRead, SV1), K_SesSDMFileReadMAC = CMAC(K_SDMFileRead, SV2)
 * UID and counter are included exactly when the card mirrors them; with both mirrored
 * the vector is a full 16 bytes and no padding is added.
 */
export function sdmSessionKeys(
  fileReadKey: Bytes,
  uid: Bytes | null,
  counter: number | null,
): SdmSessionKeys {
  const key = aesOf(fileReadKey);
  return {
    encKey: sdmSessionKey(key, SV1_LABEL, uid, counter),
    macKey: sdmSessionKey(key, SV2_LABEL, uid, counter),
  };
}

const SV1_LABEL = [0xc3, 0x3c, 0x00, 0x01, 0x00, 0x80] as const;
const SV2_LABEL = [0x3c, 0xc3, 0x00, 0x01, 0x00, 0x80] as const;

/** One of the two session keys: CMAC(K_SDMFileRead, SV) for the label given. */
function sdmSessionKey(
  fileReadKey: Aes128,
  label: readonly number[],
  uid: Bytes | null,
  counter: number | null,
): Buffer {
  if (uid !== null) checkUid(uid);
  // 6 + 7 + 3 bytes at most: one block, zero-padded (full with both mirrored).
  const sv = Buffer.alloc(AES_BLOCK_SIZE);
  let at = 0;
  for (const b of label) sv[at++] = b;
  if (uid !== null) at += Buffer.from(uid).copy(sv, at);
  if (counter !== null) counterToLsb(counter).copy(sv, at);
  return aesCmac(fileReadKey, sv);
}

/**
 * SDMMAC = MACt(K_SesSDMFileReadMAC; DynamicFileData[SDMMACInputOffset … SDMMACOffset))
 * (NT4H2421Gx §9.3.9.3, AN12196 §3.4.4.2). `macInput` is those file bytes — with an
 * encrypted file-data mirror, its ASCII hex and whatever URL text lies between it and
 * the MAC (e.g. `…&cmac=`); empty when the two offsets coincide.
 */
export function computeSdmMac(
  fileReadKey: Bytes | Aes128,
  uid: Bytes | null,
  counter: number | null,
  macInput: Bytes = Buffer.alloc(0),
): Buffer {
  // Only the MAC session key: the ENC one is derived when there is file data to decrypt.
  const macKey = sdmSessionKey(aesOf(fileReadKey), SV2_LABEL, uid, counter);
  return truncateMac(aesCmac(macKey, macInput));
}

/**
 * IV for SDMENCFileData: E(K_SesSDMFileReadENC; SDMReadCtr ‖ 13 zero bytes), counter LSB
 * first (NT4H2421Gx §9.3.6). The counter must be mirrored for file data to be encrypted.
 */
function fileDataIv(encKey: Buffer, counter: number): Buffer {
  return aesEcbEncrypt(encKey, Buffer.concat([counterToLsb(counter), Buffer.alloc(13)]));
}

function checkFileDataLength(data: Bytes): void {
  if (data.length === 0 || data.length % AES_BLOCK_SIZE !== 0) {
    throw new RangeError('SDM file data must be a non-empty whole number of 16-byte blocks');
  }
}

/** Encrypts file data as the card mirrors it (AES-CBC under K_SesSDMFileReadENC). */
export function encryptSdmFileData(
  fileReadKey: Bytes,
  uid: Bytes | null,
  counter: number,
  plain: Bytes,
): Buffer {
  checkFileDataLength(plain);
  const { encKey } = sdmSessionKeys(fileReadKey, uid, counter);
  return aesCbcEncrypt(encKey, fileDataIv(encKey, counter), plain);
}

/** Decrypts SDMENCFileData. Only meaningful once the SDMMAC has been verified. */
export function decryptSdmFileData(
  fileReadKey: Bytes,
  uid: Bytes | null,
  counter: number,
  encrypted: Bytes,
): Buffer {
  checkFileDataLength(encrypted);
  const { encKey } = sdmSessionKeys(fileReadKey, uid, counter);
  return aesCbcDecrypt(encKey, fileDataIv(encKey, counter), encrypted);
}

/** A SUN message as read from the card, in one of its two mirror forms. */
export type SunMessage = (
  | {
      /** Encrypted PICCData (16 bytes): UID and counter are inside. */
      piccData: Bytes;
    }
  | {
      /** Plain UID mirror (7 bytes). */
      uid: Bytes;
      /** Plain counter mirror, or null when the card does not mirror it. */
      counter: number | null;
    }
) & {
  /** Truncated SDMMAC (8 bytes). */
  cmac: Bytes;
  /** Encrypted file data (SDMENCFileData), when mirrored. */
  encFileData?: Bytes;
  /**
   * The bytes the MAC covers (see {@link computeSdmMac}); empty when omitted. With
   * `encFileData` it must contain that data's ASCII hex mirror, as on the card.
   */
  macInput?: Bytes;
};

export interface SunKeys {
  /** K_SDMMetaRead: needed for encrypted PICCData only. */
  metaReadKey?: Bytes;
  /**
   * K_SDMFileRead, or a function giving it for a UID: per-card keys are diversified from
   * the UID, which with encrypted PICCData is only known after decryption.
   */
  fileReadKey: Bytes | ((uid: Buffer | null) => Bytes);
}

export type SunVerification =
  | {
      valid: true;
      uid: Buffer | null;
      counter: number | null;
      /** PICCDataTag, for encrypted PICCData; null for the plain mirror. */
      piccDataTag: number | null;
      /** Decrypted file data, when the message carried some. */
      fileData: Buffer | null;
    }
  | {
      valid: false;
      reason: SunFailureReason;
      message: string;
      /** What the message claimed, when it could be read (never proof of anything). */
      uid: Buffer | null;
      counter: number | null;
      piccDataTag: number | null;
    };

/**
 * Verifies a SUN message: decrypts PICCData when encrypted, derives the session keys,
 * checks the SDMMAC in constant time, and only then decrypts any file data. Bad card data
 * gives `{valid: false, reason}`; only a missing key (a caller error) throws.
 */
export function verifySun(keys: SunKeys, message: SunMessage): SunVerification {
  let uid: Buffer | null;
  let counter: number | null;
  let piccDataTag: number | null = null;
  const fail = (reason: SunFailureReason, text: string): SunVerification => ({
    valid: false,
    reason,
    message: text,
    uid,
    counter,
    piccDataTag,
  });

  if ('piccData' in message) {
    if (keys.metaReadKey === undefined) {
      throw new TypeError('encrypted PICCData needs the meta-read key');
    }
    uid = null;
    counter = null;
    const picc = decryptPiccData(keys.metaReadKey, message.piccData);
    if (!picc.ok) return fail(picc.reason, picc.message);
    ({ uid, counter } = picc.piccData);
    piccDataTag = picc.piccData.tag;
  } else {
    uid = Buffer.from(message.uid);
    counter = message.counter;
    if (uid.length !== NTAG424_UID_LENGTH) {
      return fail('bad-length', `UID must be ${NTAG424_UID_LENGTH} bytes; got ${uid.length}`);
    }
    if (
      counter !== null &&
      (!Number.isInteger(counter) || counter < 0 || counter > MAX_SDM_READ_COUNTER)
    ) {
      return fail('bad-length', 'SDMReadCtr must fit in 24 bits');
    }
  }

  if (message.cmac.length !== SDM_MAC_LENGTH) {
    return fail('bad-length', `SDMMAC must be ${SDM_MAC_LENGTH} bytes; got ${message.cmac.length}`);
  }
  const enc = message.encFileData;
  if (enc !== undefined && (enc.length === 0 || enc.length % AES_BLOCK_SIZE !== 0)) {
    return fail('bad-length', 'encrypted file data must be a whole number of 16-byte blocks');
  }
  if (enc !== undefined && counter === null) {
    // NT4H2421Gx §9.3.6: file data can only be encrypted when the counter is mirrored.
    return fail('bad-picc-data', 'encrypted file data without a mirrored counter');
  }

  if (enc !== undefined && !covers(message.macInput, enc)) {
    // NT4H2421Gx §10.7.1: the ENC mirror lies inside [SDMMACInputOffset, SDMMACOffset),
    // so a genuine card always MACs it; file data outside the MAC input is unauthenticated.
    return fail(
      'unauthenticated-file-data',
      'the MAC input does not contain the encrypted file data mirror',
    );
  }

  const fileReadKey =
    typeof keys.fileReadKey === 'function' ? keys.fileReadKey(uid) : keys.fileReadKey;
  const expected = computeSdmMac(fileReadKey, uid, counter, message.macInput);
  if (!constantTimeEqual(expected, message.cmac)) {
    return fail('bad-mac', 'SDMMAC does not match');
  }
  const fileData =
    enc === undefined || counter === null
      ? null
      : decryptSdmFileData(fileReadKey, uid, counter, enc);
  return { valid: true, uid, counter, piccDataTag, fileData };
}

export interface SunGenerateInput {
  /** K_SDMFileRead of this card. */
  fileReadKey: Bytes;
  /** K_SDMMetaRead: given, the UID and counter are mirrored as encrypted PICCData. */
  metaReadKey?: Bytes;
  uid: Bytes;
  counter: number;
  /** Plain file data to mirror encrypted (a whole number of 16-byte blocks). */
  fileData?: Bytes;
  /**
   * The bytes the MAC covers. A function receives the mirrored values, because a card
   * MACs its own encrypted-file-data mirror (e.g. `<ENC hex>&cmac=`): with `fileData`,
   * the MAC input must contain that mirror or {@link verifySun} refuses the message.
   */
  macInput?: Bytes | ((mirrored: { piccData: Buffer | null; encFileData: Buffer | null }) => Bytes);
  /** PICCData padding (random by default; fixed only to reproduce vectors). */
  piccPadding?: Bytes;
}

export interface GeneratedSun {
  /** Encrypted PICCData, or null for the plain mirror. */
  piccData: Buffer | null;
  uid: Buffer;
  counter: number;
  encFileData: Buffer | null;
  macInput: Buffer;
  /** Truncated SDMMAC (8 bytes). */
  cmac: Buffer;
}

/**
 * What a card mirrors on one read (the emulator's side of {@link verifySun}). The caller
 * (the card) increments its counter before each read, as NT4H2421Gx §9.3.3 describes.
 */
export function generateSun(input: SunGenerateInput): GeneratedSun {
  checkUid(input.uid);
  const uid = Buffer.from(input.uid);
  const piccData =
    input.metaReadKey === undefined
      ? null
      : encryptPiccData(input.metaReadKey, { uid, counter: input.counter }, input.piccPadding);
  const encFileData =
    input.fileData === undefined
      ? null
      : encryptSdmFileData(input.fileReadKey, uid, input.counter, input.fileData);
  const macInput = Buffer.from(
    typeof input.macInput === 'function'
      ? input.macInput({ piccData, encFileData })
      : (input.macInput ?? Buffer.alloc(0)),
  );
  const cmac = computeSdmMac(input.fileReadKey, uid, input.counter, macInput);
  return { piccData, uid, counter: input.counter, encFileData, macInput, cmac };
}

/** Whether the MAC input contains the ASCII hex mirror of `enc` (the card writes uppercase). */
function covers(macInput: Bytes | undefined, enc: Bytes): boolean {
  if (macInput === undefined) return false;
  const text = Buffer.from(macInput).toString('latin1').toUpperCase();
  return text.includes(Buffer.from(enc).toString('hex').toUpperCase());
}

function checkUid(uid: Bytes): void {
  if (uid.length !== NTAG424_UID_LENGTH) {
    throw new RangeError(`an NTAG 424 DNA UID is ${NTAG424_UID_LENGTH} bytes; got ${uid.length}`);
  }
}
