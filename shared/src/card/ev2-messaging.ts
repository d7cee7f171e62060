import { AES_BLOCK_SIZE, aesCbcDecrypt, aesCbcEncrypt, aesEcbEncrypt } from './aes.js';
import { aesCmac, truncateMac } from './aes-cmac.js';
import type { Bytes } from './bytes.js';
import { constantTimeEqual } from './ct.js';
import type { Ev2Session } from './ev2.js';

/**
 * EV2 secure messaging (NT4H2421Gx §9.1.9 CommMode.MAC and §9.1.10 CommMode.Full,
 * AN12196 §4), for both ends of an authenticated session: the PCD builds commands and
 * opens responses; the PICC (card emulator) opens commands and builds responses.
 *
 * A command/response pair is sent while both sides hold CmdCtr = n. The command's MAC and
 * IV use n; the PICC then counts the command, so the response's MAC and IV use n + 1, and
 * both sides carry on with n + 1. The functions that finish a pair (`openSecureResponse`
 * on the PCD, `buildSecureResponse` on the PICC) return that next session.
 */

export type SecureCommMode = 'mac' | 'full';

export const EV2_MAC_LENGTH = 8;
/** CmdCtr is 16 bits; at its end the session must be re-authenticated (NT4H2421Gx §9.1.2). */
export const MAX_CMD_CTR = 0xffff;

export type SecureMessagingFailureReason =
  | 'bad-length'
  /** The MAC does not match: tampering, a wrong session, or a counter out of step. */
  | 'bad-mac'
  /** Decrypted data does not end in ISO 9797-1 method 2 padding. */
  | 'bad-padding'
  | 'counter-exhausted';

export type SecureMessagingFailure = {
  ok: false;
  reason: SecureMessagingFailureReason;
  message: string;
};

function ctrLsb(ctr: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(ctr);
  return b;
}

function checkCounter(session: Ev2Session): void {
  if (session.cmdCtr >= MAX_CMD_CTR) {
    throw new RangeError('the EV2 command counter is exhausted: authenticate again');
  }
}

/**
 * ISO/IEC 9797-1 padding method 2: 0x80 then zeros to a whole block, ALWAYS added — a full
 * block of padding when the data is already aligned (NT4H2421Gx §9.1.4).
 */
export function padIso9797M2(data: Bytes): Buffer {
  const out = Buffer.alloc((Math.floor(data.length / AES_BLOCK_SIZE) + 1) * AES_BLOCK_SIZE);
  Buffer.from(data).copy(out);
  out[data.length] = 0x80;
  return out;
}

/** Removes method-2 padding; null when the last block does not end in 80 00…. */
export function unpadIso9797M2(data: Bytes): Buffer | null {
  let i = data.length - 1;
  const floor = Math.max(0, data.length - AES_BLOCK_SIZE);
  while (i >= floor && data[i] === 0x00) i--;
  if (i < floor || data[i] !== 0x80) return null;
  return Buffer.from(data.subarray(0, i));
}

/**
 * IV for command data in CommMode.Full: E(SesAuthENCKey; A5 5A ‖ TI ‖ CmdCtr ‖ 8 zero
 * bytes), CmdCtr LSB first (NT4H2421Gx §9.1.10, AN12196 Table 26 step 12).
 */
export function commandIv(session: Ev2Session): Buffer {
  return ivFor(session, 0xa5, 0x5a, session.cmdCtr);
}

/**
 * IV for response data: E(SesAuthENCKey; 5A A5 ‖ TI ‖ CmdCtr ‖ zeros) with the counter
 * already advanced past the command this answers (NT4H2421Gx §9.1.10).
 */
export function responseIv(session: Ev2Session): Buffer {
  return ivFor(session, 0x5a, 0xa5, session.cmdCtr + 1);
}

function ivFor(session: Ev2Session, l0: number, l1: number, ctr: number): Buffer {
  const input = Buffer.concat([Buffer.from([l0, l1]), session.ti, ctrLsb(ctr), Buffer.alloc(8)]);
  return aesEcbEncrypt(session.sesAuthEncKey, input);
}

/** MACt over Cmd ‖ CmdCtr ‖ TI ‖ CmdHeader ‖ (encrypted) data (NT4H2421Gx §9.1.9). */
export function commandMac(session: Ev2Session, ins: number, payload: Bytes): Buffer {
  const input = Buffer.concat([Buffer.from([ins]), ctrLsb(session.cmdCtr), session.ti, payload]);
  return truncateMac(aesCmac(session.sesAuthMacKey, input));
}

/** MACt over RC ‖ CmdCtr+1 ‖ TI ‖ (encrypted) response data (NT4H2421Gx §9.1.9). */
export function responseMac(session: Ev2Session, rc: number, payload: Bytes): Buffer {
  const input = Buffer.concat([Buffer.from([rc]), ctrLsb(session.cmdCtr + 1), session.ti, payload]);
  return truncateMac(aesCmac(session.sesAuthMacKey, input));
}

export interface SecureCommandInput {
  /** Native instruction code, e.g. 0xC4 ChangeKey. */
  ins: number;
  /** Command header, sent in clear but covered by the MAC (e.g. KeyNo, FileNo). */
  header?: Bytes;
  /** Command data: encrypted in CommMode.Full. */
  data?: Bytes;
  mode: SecureCommMode;
}

export interface SecureCommand {
  ins: number;
  /** The native command's data field: CmdHeader ‖ [E(]CmdData[)] ‖ MACt. */
  body: Buffer;
  /** The ISO 7816-4 wrapped APDU: 90 INS 00 00 Lc body 00. */
  apdu: Buffer;
}

/** PCD side: protects a command for the current CmdCtr. */
export function buildSecureCommand(session: Ev2Session, input: SecureCommandInput): SecureCommand {
  checkCounter(session);
  const header = Buffer.from(input.header ?? []);
  const data = Buffer.from(input.data ?? []);
  // Full mode with no data encrypts nothing (AN12196 Table 28, GetCardUID).
  const sent =
    input.mode === 'full' && data.length > 0
      ? aesCbcEncrypt(session.sesAuthEncKey, commandIv(session), padIso9797M2(data))
      : data;
  const payload = Buffer.concat([header, sent]);
  const body = Buffer.concat([payload, commandMac(session, input.ins, payload)]);
  return { ins: input.ins, body, apdu: wrapNativeCommand(input.ins, body) };
}

/**
 * PCD side: checks a response's MAC (and decrypts it in CommMode.Full). `body` is the
 * response data without the status word; `rc` is the status (SW2 of 91xx, 0x00 for OK).
 */
export function openSecureResponse(
  session: Ev2Session,
  response: { body: Bytes; rc?: number; mode: SecureCommMode },
): { ok: true; data: Buffer; session: Ev2Session } | SecureMessagingFailure {
  if (session.cmdCtr >= MAX_CMD_CTR) return exhausted();
  const body = Buffer.from(response.body);
  if (body.length < EV2_MAC_LENGTH) return fail('bad-length', 'response shorter than its MAC');
  const payload = body.subarray(0, body.length - EV2_MAC_LENGTH);
  const mac = body.subarray(body.length - EV2_MAC_LENGTH);
  if (!constantTimeEqual(responseMac(session, response.rc ?? 0x00, payload), mac)) {
    return fail('bad-mac', 'response MAC does not match');
  }
  const opened = openPayload(session.sesAuthEncKey, responseIv(session), payload, response.mode);
  if (!opened.ok) return opened;
  return { ok: true, data: opened.data, session: { ...session, cmdCtr: session.cmdCtr + 1 } };
}

/**
 * PICC side: checks a command's MAC for the current CmdCtr and decrypts its data.
 * `headerLength` is fixed per command (1 for ChangeKey and ChangeFileSettings). A
 * failure is what a card answers with 911E (INTEGRITY_ERROR) and ends the session.
 */
export function openSecureCommand(
  session: Ev2Session,
  command: { ins: number; body: Bytes; headerLength: number; mode: SecureCommMode },
): { ok: true; header: Buffer; data: Buffer } | SecureMessagingFailure {
  if (session.cmdCtr >= MAX_CMD_CTR) return exhausted();
  const body = Buffer.from(command.body);
  if (body.length < command.headerLength + EV2_MAC_LENGTH) {
    return fail('bad-length', 'command shorter than its header and MAC');
  }
  const payload = body.subarray(0, body.length - EV2_MAC_LENGTH);
  const mac = body.subarray(body.length - EV2_MAC_LENGTH);
  if (!constantTimeEqual(commandMac(session, command.ins, payload), mac)) {
    return fail('bad-mac', 'command MAC does not match');
  }
  const header = Buffer.from(payload.subarray(0, command.headerLength));
  const opened = openPayload(
    session.sesAuthEncKey,
    commandIv(session),
    payload.subarray(command.headerLength),
    command.mode,
  );
  if (!opened.ok) return opened;
  return { ok: true, header, data: opened.data };
}

/**
 * PICC side: protects a response (status OK unless `rc` says otherwise) and returns the
 * session with CmdCtr advanced past this command/response pair.
 */
export function buildSecureResponse(
  session: Ev2Session,
  response: { data?: Bytes; rc?: number; mode: SecureCommMode },
): { body: Buffer; session: Ev2Session } {
  checkCounter(session);
  const data = Buffer.from(response.data ?? []);
  const sent =
    response.mode === 'full' && data.length > 0
      ? aesCbcEncrypt(session.sesAuthEncKey, responseIv(session), padIso9797M2(data))
      : data;
  const body = Buffer.concat([sent, responseMac(session, response.rc ?? 0x00, sent)]);
  return { body, session: { ...session, cmdCtr: session.cmdCtr + 1 } };
}

function openPayload(
  encKey: Buffer,
  iv: Buffer,
  payload: Buffer,
  mode: SecureCommMode,
): { ok: true; data: Buffer } | SecureMessagingFailure {
  if (mode === 'mac' || payload.length === 0) return { ok: true, data: Buffer.from(payload) };
  if (payload.length % AES_BLOCK_SIZE !== 0) {
    return fail('bad-length', 'encrypted data is not a whole number of 16-byte blocks');
  }
  const data = unpadIso9797M2(aesCbcDecrypt(encKey, iv, payload));
  return data === null ? fail('bad-padding', 'decrypted data is not padded') : { ok: true, data };
}

function fail(reason: SecureMessagingFailureReason, message: string): SecureMessagingFailure {
  return { ok: false, reason, message };
}

function exhausted(): SecureMessagingFailure {
  return fail('counter-exhausted', 'the EV2 command counter is exhausted: authenticate again');
}

/**
 * Wraps a native command in ISO 7816-4 framing: 90 INS 00 00 [Lc data] 00
 * (NT4H2421Gx §8.4, "ISO/IEC 7816-4 APDU wrapping of native commands").
 */
export function wrapNativeCommand(ins: number, data: Bytes = Buffer.alloc(0)): Buffer {
  if (data.length > 255) throw new RangeError('native command data must fit a short APDU');
  const lc = data.length === 0 ? [] : [data.length];
  return Buffer.concat([
    Buffer.from([0x90, ins, 0x00, 0x00, ...lc]),
    Buffer.from(data),
    Buffer.from([0x00]),
  ]);
}

/**
 * Reads a wrapped native command (the PICC side of {@link wrapNativeCommand}), with or
 * without its Le byte; null when the APDU is not a well-formed native wrapping.
 */
export function unwrapNativeCommand(apdu: Bytes): { ins: number; data: Buffer } | null {
  const a = Buffer.from(apdu);
  if (a.length < 4 || a[0] !== 0x90 || a[2] !== 0x00 || a[3] !== 0x00) return null;
  const ins = a[1] ?? 0;
  // Case 1 (no Lc, no Le) or case 2 (Le only).
  if (a.length === 4 || (a.length === 5 && a[4] === 0x00)) return { ins, data: Buffer.alloc(0) };
  const lc = a[4] ?? 0;
  const withoutLe = 5 + lc;
  if (
    lc === 0 ||
    (a.length !== withoutLe && !(a.length === withoutLe + 1 && a[withoutLe] === 0x00))
  ) {
    return null;
  }
  return { ins, data: Buffer.from(a.subarray(5, withoutLe)) };
}
