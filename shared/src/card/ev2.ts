import { randomBytes } from 'node:crypto';
import { AES_KEY_SIZE, aesCbcDecrypt, aesCbcEncrypt, ZERO_IV } from './aes.js';
import { aesCmac } from './aes-cmac.js';
import type { Bytes } from './bytes.js';
import { constantTimeEqual } from './ct.js';

/**
 * AuthenticateEV2First (NT4H2421Gx §9.1.5 and §10.4.1, AN12196 §6.6 Table 10), both sides:
 * the PCD (kiosk or enrolment desk) and the PICC (the card emulator). Three steps:
 *
 *   PCD → PICC  71 KeyNo LenCap [PCDcap2]
 *   PICC → PCD  E(Kx, RndB)                                   AES-CBC, IV zero, 91AF
 *   PCD → PICC  E(Kx, RndA ‖ RndB')                           RndB' = RndB rotated left 1 byte
 *   PICC → PCD  E(Kx, TI ‖ RndA' ‖ PDcap2 ‖ PCDcap2)          RndA' = RndA rotated left 1 byte
 *
 * No padding anywhere in the exchange (the one exception to ISO 9797-1 M2 in EV2, see
 * NT4H2421Gx §9.1.4). The result is an {@link Ev2Session} with a zero command counter.
 */

export const EV2_RND_LENGTH = 16;
export const EV2_TI_LENGTH = 4;
export const EV2_CAP_LENGTH = 6;

/** Native instruction codes used by the EV2 helpers (NT4H2421Gx §10, Table 22). */
export const EV2_INS = {
  authenticateEv2First: 0x71,
  additionalFrame: 0xaf,
  changeKey: 0xc4,
  changeFileSettings: 0x5f,
  getCardUid: 0x51,
  getFileSettings: 0xf5,
  getKeyVersion: 0x64,
} as const;

/** An authenticated EV2 session: what both sides hold after AuthenticateEV2First. */
export interface Ev2Session {
  /** Key number the session was authenticated with. */
  readonly keyNo: number;
  /** Transaction identifier chosen by the PICC (4 bytes). */
  readonly ti: Buffer;
  readonly sesAuthEncKey: Buffer;
  readonly sesAuthMacKey: Buffer;
  /**
   * CmdCtr: 0 after authentication, +1 for every command/response pair (NT4H2421Gx
   * §9.1.2). Functions here never mutate it; they return the next session.
   */
  readonly cmdCtr: number;
}

export type Ev2Failure = { ok: false; reason: Ev2FailureReason; message: string };
export type Ev2FailureReason =
  /** A message of the wrong length (garbage, a torn exchange). */
  | 'bad-length'
  /** The other side did not prove it holds the key: wrong key, or an impostor. */
  | 'authentication-failed';

/** Left rotation by one byte: RndA' / RndB' (NT4H2421Gx §9.1.5). */
export function rotateLeft1(bytes: Bytes): Buffer {
  const b = Buffer.from(bytes);
  return Buffer.concat([b.subarray(1), b.subarray(0, 1)]);
}

export interface Ev2SessionKeys {
  sesAuthEncKey: Buffer;
  sesAuthMacKey: Buffer;
}

/**
 * Session keys (NT4H2421Gx §9.1.7, AN12196 §6.6 steps 17-20). Bytes are numbered as the
 * datasheet does, RndA[15] being the first (most significant) byte:
 *
 *   SV1 = A5 5A 00 01 00 80 ‖ RndA[15..14] ‖ (RndA[13..8] ⊕ RndB[15..10]) ‖ RndB[9..0] ‖ RndA[7..0]
 *   SV2 = 5A A5 00 01 00 80 ‖ (the same 26 bytes)
 *   SesAuthENCKey = CMAC(Kx, SV1), SesAuthMACKey = CMAC(Kx, SV2)
 */
export function ev2SessionKeys(key: Bytes, rndA: Bytes, rndB: Bytes): Ev2SessionKeys {
  if (rndA.length !== EV2_RND_LENGTH || rndB.length !== EV2_RND_LENGTH) {
    throw new RangeError('RndA and RndB must be 16 bytes');
  }
  const a = Buffer.from(rndA);
  const b = Buffer.from(rndB);
  const mixed = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) mixed[i] = (a[2 + i] ?? 0) ^ (b[i] ?? 0);
  const context = Buffer.concat([a.subarray(0, 2), mixed, b.subarray(6, 16), a.subarray(8, 16)]);
  return {
    sesAuthEncKey: aesCmac(key, Buffer.concat([Buffer.from('a55a00010080', 'hex'), context])),
    sesAuthMacKey: aesCmac(key, Buffer.concat([Buffer.from('5aa500010080', 'hex'), context])),
  };
}

/**
 * Data of the first AuthenticateEV2First command: KeyNo ‖ LenCap ‖ PCDcap2. NTAG 424 DNA
 * accepts LenCap 0 (no capabilities sent), which AN12196 §6.6 uses.
 */
export function ev2FirstCommandData(keyNo: number, pcdCap2: Bytes = Buffer.alloc(0)): Buffer {
  checkKeyNo(keyNo);
  if (pcdCap2.length > EV2_CAP_LENGTH) throw new RangeError('PCDcap2 is at most 6 bytes');
  return Buffer.concat([Buffer.from([keyNo, pcdCap2.length]), Buffer.from(pcdCap2)]);
}

/** PCD state between the card's challenge and its final answer. */
export interface Ev2PcdPending {
  keyNo: number;
  rndA: Buffer;
  rndB: Buffer;
}

/**
 * PCD step 2: decrypts the card's E(Kx, RndB) and answers E(Kx, RndA ‖ RndB').
 * `rndA` is random unless given (tests reproduce AN12196 with it).
 */
export function ev2FirstPcdAnswer(
  key: Bytes,
  keyNo: number,
  encRndB: Bytes,
  options: { rndA?: Bytes } = {},
): { ok: true; pending: Ev2PcdPending; data: Buffer } | Ev2Failure {
  checkKey(key);
  checkKeyNo(keyNo);
  if (encRndB.length !== EV2_RND_LENGTH) {
    return badLength(`the card's challenge must be ${EV2_RND_LENGTH} bytes; got ${encRndB.length}`);
  }
  const rndA = Buffer.from(options.rndA ?? randomBytes(EV2_RND_LENGTH));
  if (rndA.length !== EV2_RND_LENGTH) throw new RangeError('RndA must be 16 bytes');
  const rndB = aesCbcDecrypt(key, ZERO_IV, encRndB);
  const data = aesCbcEncrypt(key, ZERO_IV, Buffer.concat([rndA, rotateLeft1(rndB)]));
  return { ok: true, pending: { keyNo, rndA, rndB }, data };
}

/**
 * PCD step 3: checks the card's E(Kx, TI ‖ RndA' ‖ PDcap2 ‖ PCDcap2) — the card proves it
 * holds Kx by returning our RndA rotated — and opens the session.
 */
export function ev2FirstPcdFinish(
  key: Bytes,
  pending: Ev2PcdPending,
  cardResponse: Bytes,
): { ok: true; session: Ev2Session; pdCap2: Buffer; pcdCap2: Buffer } | Ev2Failure {
  checkKey(key);
  if (cardResponse.length !== 2 * EV2_RND_LENGTH) {
    return badLength(`the card's final answer must be 32 bytes; got ${cardResponse.length}`);
  }
  const plain = aesCbcDecrypt(key, ZERO_IV, cardResponse);
  const ti = Buffer.from(plain.subarray(0, EV2_TI_LENGTH));
  const rndARotated = plain.subarray(EV2_TI_LENGTH, EV2_TI_LENGTH + EV2_RND_LENGTH);
  if (!constantTimeEqual(rndARotated, rotateLeft1(pending.rndA))) {
    return {
      ok: false,
      reason: 'authentication-failed',
      message: 'the card did not return RndA: it does not hold this key',
    };
  }
  const capsAt = EV2_TI_LENGTH + EV2_RND_LENGTH;
  return {
    ok: true,
    session: {
      keyNo: pending.keyNo,
      ti,
      ...ev2SessionKeys(key, pending.rndA, pending.rndB),
      cmdCtr: 0,
    },
    pdCap2: Buffer.from(plain.subarray(capsAt, capsAt + EV2_CAP_LENGTH)),
    pcdCap2: Buffer.from(plain.subarray(capsAt + EV2_CAP_LENGTH, capsAt + 2 * EV2_CAP_LENGTH)),
  };
}

/** PICC step 1: a fresh RndB, encrypted under the addressed key. */
export function ev2FirstPiccChallenge(
  key: Bytes,
  options: { rndB?: Bytes } = {},
): { rndB: Buffer; data: Buffer } {
  checkKey(key);
  const rndB = Buffer.from(options.rndB ?? randomBytes(EV2_RND_LENGTH));
  if (rndB.length !== EV2_RND_LENGTH) throw new RangeError('RndB must be 16 bytes');
  return { rndB, data: aesCbcEncrypt(key, ZERO_IV, rndB) };
}

export interface Ev2PiccFinishOptions {
  /** Transaction identifier; random unless given. */
  ti?: Bytes;
  /** PICC capabilities (6 bytes; NTAG 424 DNA answers zeros, AN12196 §6.6). */
  pdCap2?: Bytes;
  /** PCD capabilities echoed back (6 bytes, zero-filled). */
  pcdCap2?: Bytes;
}

/**
 * PICC step 2: checks that the PCD returned RndB' (so it holds Kx), then answers
 * E(Kx, TI ‖ RndA' ‖ PDcap2 ‖ PCDcap2) and opens the session. A failure here is what a
 * card answers with 91AE (AUTHENTICATION_ERROR).
 */
export function ev2FirstPiccFinish(
  key: Bytes,
  keyNo: number,
  rndB: Bytes,
  pcdData: Bytes,
  options: Ev2PiccFinishOptions = {},
): { ok: true; session: Ev2Session; rndA: Buffer; data: Buffer } | Ev2Failure {
  checkKey(key);
  checkKeyNo(keyNo);
  if (pcdData.length !== 2 * EV2_RND_LENGTH) {
    return badLength(`the reader's answer must be 32 bytes; got ${pcdData.length}`);
  }
  const plain = aesCbcDecrypt(key, ZERO_IV, pcdData);
  const rndA = Buffer.from(plain.subarray(0, EV2_RND_LENGTH));
  if (!constantTimeEqual(plain.subarray(EV2_RND_LENGTH), rotateLeft1(rndB))) {
    return {
      ok: false,
      reason: 'authentication-failed',
      message: 'the reader did not return RndB: it does not hold this key',
    };
  }
  const ti = Buffer.from(options.ti ?? randomBytes(EV2_TI_LENGTH));
  if (ti.length !== EV2_TI_LENGTH) throw new RangeError('TI must be 4 bytes');
  const caps = (c: Bytes | undefined): Buffer => {
    const out = Buffer.alloc(EV2_CAP_LENGTH);
    if (c !== undefined) {
      if (c.length > EV2_CAP_LENGTH) throw new RangeError('capabilities are at most 6 bytes');
      Buffer.from(c).copy(out);
    }
    return out;
  };
  const data = aesCbcEncrypt(
    key,
    ZERO_IV,
    Buffer.concat([ti, rotateLeft1(rndA), caps(options.pdCap2), caps(options.pcdCap2)]),
  );
  return {
    ok: true,
    session: { keyNo, ti, ...ev2SessionKeys(key, rndA, rndB), cmdCtr: 0 },
    rndA,
    data,
  };
}

function badLength(message: string): Ev2Failure {
  return { ok: false, reason: 'bad-length', message };
}

function checkKey(key: Bytes): void {
  if (key.length !== AES_KEY_SIZE) throw new RangeError('an AES-128 key must be 16 bytes');
}

/** NTAG 424 DNA has application keys 0-4; DESFire up to 13 (NT4H2421Gx §8.2.3.1). */
export function checkKeyNo(keyNo: number): void {
  if (!Number.isInteger(keyNo) || keyNo < 0 || keyNo > 0x0d) {
    throw new RangeError('key number must be an integer from 0 to 13');
  }
}
