import {
  ACCESS_FREE,
  buildChangeFileSettings,
  buildChangeKey,
  buildSecureCommand,
  EV2_INS,
  ev2FirstCommandData,
  ev2FirstPcdAnswer,
  ev2FirstPcdFinish,
  openSecureResponse,
  wrapNativeCommand,
  type AccessRights,
  type ChangeKeyInput,
  type Ev2Session,
  type FileSettings,
} from '@clubcard/shared';
import { statusWord } from './bytes.js';
import {
  CardProtocolError,
  expectOk,
  NDEF_APPLICATION_AID,
  NDEF_FILE_ID,
  selectApplicationApdu,
  selectFileApdu,
  type Transmit,
} from './card-reads.js';
import type { SunTemplate } from './sun-url.js';

/**
 * NTAG 424 DNA commands an enrolment desk runs over an ApduChannel (PcscCardReader
 * .channel()): the APDU exchanges and status checks. The cryptography is the shared card
 * module's (@clubcard/shared: AuthenticateEV2First, EV2 secure messaging, ChangeKey and
 * ChangeFileSettings encodings); which keys go on a card is the enrolment desk's business.
 *
 * Native commands travel ISO 7816-4 wrapped, `90 INS 00 00 Lc data 00`; the card
 * answers data ‖ 91 status, 9100 OK and 91AF "additional frame" (NT4H2421Gx §8.4).
 */

/** The NDEF file is file number 02 (ISO FID E104h), NT4H2421Gx §8.2.2. */
export const NDEF_FILE_NO = 0x02;

/** A native command answered with an error status (91xx other than 00 / AF). */
export class Ntag424CommandError extends CardProtocolError {
  override readonly name: string = 'Ntag424CommandError';
}

/** NT4H2421Gx §10.2 Table 23: native status codes (SW2 after 91). */
const NATIVE_STATUS: Record<number, string> = {
  0x1c: 'illegal command',
  0x1e: 'integrity error',
  0x40: 'no such key',
  0x7e: 'length error',
  0x9d: 'permission denied',
  0x9e: 'parameter error',
  0xad: 'authentication delay',
  0xae: 'authentication error',
  0xbe: 'boundary error',
  0xca: 'command aborted',
  0xee: 'memory error',
  0xf0: 'file not found',
};

/** Sends a wrapped native command; returns data and SW2 (00 or AF), throws otherwise. */
async function native(
  transmit: Transmit,
  apdu: Uint8Array,
  what: string,
  expect: 0x00 | 0xaf = 0x00,
): Promise<Buffer> {
  const response = await transmit(apdu);
  const sw = statusWord(response);
  if (sw === undefined) throw new Ntag424CommandError(`${what}: no status word`);
  if (sw >> 8 !== 0x91 || (sw & 0xff) !== expect) {
    const text = sw >> 8 === 0x91 ? (NATIVE_STATUS[sw & 0xff] ?? 'unknown status') : 'not native';
    throw new Ntag424CommandError(
      `${what}: status ${sw.toString(16).toUpperCase().padStart(4, '0')} (${text})`,
      sw,
    );
  }
  return Buffer.from(response.subarray(0, response.length - 2));
}

export interface Ntag424Version {
  /** Hardware vendor, type, subtype, major, minor, storage size, protocol. */
  hardware: Buffer;
  software: Buffer;
  /** Production data: UID (7), batch number, week and year of production. */
  production: Buffer;
}

/** GetVersion (NT4H2421Gx §10.5.2): three frames, chained with 91AF. */
export async function getNtag424Version(transmit: Transmit): Promise<Ntag424Version> {
  const hardware = await native(transmit, wrapNativeCommand(0x60), 'GetVersion', 0xaf);
  const software = await native(
    transmit,
    wrapNativeCommand(EV2_INS.additionalFrame),
    'GetVersion (2)',
    0xaf,
  );
  const production = await native(
    transmit,
    wrapNativeCommand(EV2_INS.additionalFrame),
    'GetVersion (3)',
  );
  return { hardware, software, production };
}

/** ISO SELECT of the NDEF application (resets any authentication, NT4H2421Gx §10.9.1). */
export async function selectNdefApplication(transmit: Transmit): Promise<void> {
  await expectOk(transmit, selectApplicationApdu(NDEF_APPLICATION_AID), 'SELECT NDEF application');
}

/**
 * Writes the NDEF file with ISOUpdateBinary (NT4H2421Gx §10.9.4) where its write access
 * is met: free (Eh, the factory setting), or the key of an EV2 session still open on the
 * card (`keepSession`: the application is not selected again, which would end it, and
 * ISOUpdateBinary on a CommMode.Plain file is sent as it is). Chunks of 128 bytes keep
 * each frame within what the card accepts in one ISO-DEP frame without chaining.
 */
export async function writeNdefFile(
  transmit: Transmit,
  file: Uint8Array,
  options: { keepSession?: boolean } = {},
): Promise<void> {
  if (!options.keepSession) await selectNdefApplication(transmit);
  await expectOk(transmit, selectFileApdu(NDEF_FILE_ID), 'SELECT NDEF file');
  for (let at = 0; at < file.length; at += 128) {
    const chunk = file.subarray(at, Math.min(at + 128, file.length));
    const apdu = Uint8Array.of(0x00, 0xd6, (at >> 8) & 0x7f, at & 0xff, chunk.length, ...chunk);
    await expectOk(transmit, apdu, 'UPDATE BINARY');
  }
}

/**
 * AuthenticateEV2First (NT4H2421Gx §10.4.1, AN12196 §6.6): 90 71 with KeyNo, the card's
 * E(K, RndB) with 91AF, our E(K, RndA ‖ RndB') as 90 AF, and its E(K, TI ‖ RndA' ‖ …).
 * Rejects with Ntag424CommandError (91AE) when the card does not hold `key`.
 */
export async function authenticateEv2First(
  transmit: Transmit,
  keyNo: number,
  key: Uint8Array,
): Promise<Ev2Session> {
  const challenge = await native(
    transmit,
    wrapNativeCommand(EV2_INS.authenticateEv2First, ev2FirstCommandData(keyNo)),
    'AuthenticateEV2First',
    0xaf,
  );
  const answer = ev2FirstPcdAnswer(key, keyNo, challenge);
  if (!answer.ok) throw new Ntag424CommandError(`AuthenticateEV2First: ${answer.message}`);
  const final = await native(
    transmit,
    wrapNativeCommand(EV2_INS.additionalFrame, answer.data),
    'AuthenticateEV2First (2)',
  );
  const done = ev2FirstPcdFinish(key, answer.pending, final);
  if (!done.ok) throw new Ntag424CommandError(`AuthenticateEV2First: ${done.message}`);
  return done.session;
}

/** KeyVer of every key of a factory-fresh card (keys 0-4 are delivered all zero, KeyVer 00h). */
export const FACTORY_KEY_VERSION = 0x00;

/**
 * GetKeyVersion (NT4H2421Gx §10.6.2): the KeyVer stored with key `keyNo` by its last
 * ChangeKey. CommMode.MAC: sent plain while no session is open (the command needs no
 * authentication), MAC'd both ways within one; pass the session to get the next one.
 */
export async function getKeyVersion(
  transmit: Transmit,
  keyNo: number,
  session?: Ev2Session,
): Promise<{ keyVersion: number; session?: Ev2Session }> {
  const what = `GetKeyVersion ${keyNo}`;
  if (!session) {
    const data = await native(
      transmit,
      wrapNativeCommand(EV2_INS.getKeyVersion, Uint8Array.of(keyNo)),
      what,
    );
    if (data.length !== 1) throw new Ntag424CommandError(`${what}: ${data.length}-byte answer`);
    return { keyVersion: data[0] ?? 0 };
  }
  const command = buildSecureCommand(session, {
    ins: EV2_INS.getKeyVersion,
    header: Uint8Array.of(keyNo),
    mode: 'mac',
  });
  const body = await native(transmit, command.apdu, what);
  const opened = openSecureResponse(session, { body, mode: 'mac' });
  if (!opened.ok) throw new Ntag424CommandError(`${what}: ${opened.message}`);
  if (opened.data.length !== 1) {
    throw new Ntag424CommandError(`${what}: ${opened.data.length}-byte answer`);
  }
  return { keyVersion: opened.data[0] ?? 0, session: opened.session };
}

/** Checks the response MAC of a CommMode.Full command without response data. */
function openMacOnly(session: Ev2Session, body: Buffer, what: string): Ev2Session {
  const opened = openSecureResponse(session, { body, mode: 'full' });
  if (!opened.ok) throw new Ntag424CommandError(`${what}: ${opened.message}`);
  return opened.session;
}

/**
 * ChangeKey (NT4H2421Gx §10.6.1) in CommMode.Full. Returns the next session, or
 * undefined when the session's own key was changed: the card then ends the session and
 * answers a bare 9100 (no MAC).
 */
export async function changeKey(
  transmit: Transmit,
  session: Ev2Session,
  input: ChangeKeyInput,
): Promise<Ev2Session | undefined> {
  const command = buildChangeKey(session, input);
  const body = await native(transmit, command.apdu, `ChangeKey ${input.keyNo}`);
  if (command.endsSession) return undefined;
  return openMacOnly(session, body, `ChangeKey ${input.keyNo}`);
}

/** ChangeFileSettings (NT4H2421Gx §10.7.1) in CommMode.Full; returns the next session. */
export async function changeFileSettings(
  transmit: Transmit,
  session: Ev2Session,
  fileNo: number,
  settings: FileSettings,
): Promise<Ev2Session> {
  const command = buildChangeFileSettings(session, fileNo, settings);
  const body = await native(transmit, command.apdu, 'ChangeFileSettings');
  return openMacOnly(session, body, 'ChangeFileSettings');
}

/** Key numbers of the SUN keys (the project's: K_SDMFileRead = 1, K_SDMMetaRead = 2). */
export interface SunKeyNumbers {
  metaRead: number;
  fileRead: number;
  /** Key allowed to read the counter with GetFileCounters (default: fileRead). */
  ctrRet?: number;
}

export const DEFAULT_SUN_KEY_NUMBERS: SunKeyNumbers = { fileRead: 1, metaRead: 2 };

/**
 * NDEF file access once personalised: read free (SUN readers are anonymous), write and
 * change only with the application master key, so the URL cannot be rewritten.
 */
export const PERSONALISED_NDEF_ACCESS: AccessRights = {
  read: ACCESS_FREE,
  write: 0,
  readWrite: 0,
  change: 0,
};

/** The ChangeFileSettings content that switches SUN on for a template from buildSunTemplate. */
export function sunFileSettings(
  template: SunTemplate,
  keyNumbers: SunKeyNumbers = DEFAULT_SUN_KEY_NUMBERS,
  accessRights: AccessRights = PERSONALISED_NDEF_ACCESS,
): FileSettings {
  const o = template.offsets;
  const encrypted = o.piccDataOffset !== undefined;
  return {
    commMode: 'plain',
    accessRights,
    sdm: {
      uidMirror: true,
      readCtrMirror: true,
      readCtrLimitEnabled: false,
      encFileData: o.encOffset !== undefined,
      metaRead: encrypted ? keyNumbers.metaRead : ACCESS_FREE,
      fileRead: keyNumbers.fileRead,
      ctrRet: keyNumbers.ctrRet ?? keyNumbers.fileRead,
      ...(encrypted
        ? { piccDataOffset: o.piccDataOffset }
        : { uidOffset: o.uidOffset, readCtrOffset: o.readCtrOffset }),
      macInputOffset: o.macInputOffset,
      ...(o.encOffset !== undefined ? { encOffset: o.encOffset, encLength: o.encLength } : {}),
      macOffset: o.macOffset,
    },
  };
}

export interface PersonalisationPlan {
  /** The card's application master key before personalisation (factory: all zeros). */
  currentAppMasterKey: Uint8Array;
  /** Values of keys 1-4 before personalisation (zeros when fresh), for ChangeKey's XOR proof. */
  currentKeys?: Partial<Record<number, Uint8Array>>;
  /**
   * Keys to write, in order; key 0 must come last (changing it ends the session). Each
   * version must differ from the factory KeyVer 00h: the version is how a later run tells
   * a key already written from one still to write.
   */
  keys: ReadonlyArray<{ keyNo: number; key: Uint8Array; version: number }>;
  /** NDEF file content (NLEN ‖ message), e.g. buildSunTemplate().ndefFile. */
  ndefFile: Uint8Array;
  /** Settings for the NDEF file, e.g. sunFileSettings(template). */
  ndefFileSettings: FileSettings;
}

/** What a personalisation found on the card before it wrote anything. */
export interface PersonalisationProgress {
  /** Keys that already carried the plan's version (an earlier run changed them): left alone. */
  keysAlreadyChanged: number[];
}

/**
 * The card's keys are neither factory-fresh nor the plan's (someone else's card, or keys
 * of another key-set version). Nothing was written.
 */
export class ForeignCardKeysError extends Ntag424CommandError {
  override readonly name = 'ForeignCardKeysError';
}

/**
 * Personalises a card in the field, resuming where an earlier run was interrupted. It
 * first reads every plan key's KeyVer (GetKeyVersion, plain): the plan's version means an
 * earlier run changed that key, the factory's (00h) that it is still to change; any
 * other version refuses the card before anything is written. It then authenticates with
 * key 0 as the card holds it (the plan's key once key 0 carries the plan's version,
 * otherwise `currentAppMasterKey`; a card holding neither refuses it, again before any
 * write), and within that session writes the NDEF template (ISOUpdateBinary: free on a
 * fresh card, key 0 once SUN is on), switches SUN on (ChangeFileSettings), and changes
 * the keys still at the factory version, key 0 last. Writing the same template and
 * settings again leaves them as they were, so every step is safe to repeat and a card
 * taken away at any point ends, after one more run, as one personalised in one go. A
 * card whose key 0 already carries the plan's version (and opens with it) is complete:
 * nothing is written.
 */
export async function personaliseNtag424(
  transmit: Transmit,
  plan: PersonalisationPlan,
): Promise<PersonalisationProgress> {
  const zero = new Uint8Array(16);
  const masterIndex = plan.keys.findIndex((k) => k.keyNo === 0);
  if (masterIndex >= 0 && masterIndex !== plan.keys.length - 1) {
    throw new RangeError('key 0 must be changed last: changing it ends the session');
  }
  if (plan.keys.some((k) => k.version === FACTORY_KEY_VERSION)) {
    throw new RangeError('a key version must differ from the factory version 00h');
  }
  await selectNdefApplication(transmit);
  const pending: PersonalisationPlan['keys'][number][] = [];
  const keysAlreadyChanged: number[] = [];
  for (const k of plan.keys) {
    const { keyVersion } = await getKeyVersion(transmit, k.keyNo);
    if (keyVersion === k.version) keysAlreadyChanged.push(k.keyNo);
    else if (keyVersion === FACTORY_KEY_VERSION) pending.push(k);
    else {
      throw new ForeignCardKeysError(
        `key ${k.keyNo} carries version ${keyVersion}, neither the factory's nor the plan's`,
      );
    }
  }
  const master = plan.keys[masterIndex];
  const masterChanged = master !== undefined && keysAlreadyChanged.includes(0);
  let session: Ev2Session | undefined = await authenticateEv2First(
    transmit,
    0,
    masterChanged ? master.key : plan.currentAppMasterKey,
  );
  // Key 0 is changed last: opened by the plan's key 0, the card is complete (template,
  // settings and every key written). Nothing more is written to it.
  if (masterChanged) return { keysAlreadyChanged };
  await writeNdefFile(transmit, plan.ndefFile, { keepSession: true });
  session = await changeFileSettings(transmit, session, NDEF_FILE_NO, plan.ndefFileSettings);
  for (const k of pending) {
    if (!session) throw new Error('session ended before all keys were changed');
    session = await changeKey(transmit, session, {
      keyNo: k.keyNo,
      newKey: k.key,
      keyVersion: k.version,
      ...(k.keyNo === 0 ? {} : { oldKey: plan.currentKeys?.[k.keyNo] ?? zero }),
    });
  }
  return { keysAlreadyChanged };
}
