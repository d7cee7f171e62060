import {
  ACCESS_FREE,
  ACCESS_NEVER,
  buildSecureResponse,
  computeSdmMac,
  decodeFileSettings,
  encryptPiccData,
  encryptSdmFileData,
  EV2_INS,
  ev2FirstPiccChallenge,
  ev2FirstPiccFinish,
  formatUrlCounter,
  MAX_SDM_READ_COUNTER,
  openSecureCommand,
  parseChangeKey,
  unwrapNativeCommand,
  type Ev2Session,
  type FileSettings,
  type SdmSettings,
} from '@clubcard/shared';
import { fromHex, toHex } from '../pcsc/bytes.js';
import {
  NDEF_FILE_NO,
  sunFileSettings,
  DEFAULT_SUN_KEY_NUMBERS,
  type SunKeyNumbers,
} from '../pcsc/ntag424-commands.js';
import {
  buildSunTemplate,
  DEFAULT_SUN_URL_LAYOUT,
  type SunTemplateOptions,
  type SunUrlLayout,
} from '../pcsc/sun-url.js';
import { ApduFormatError, parseCommandApdu, respond, SW, type CommandApdu } from './apdu.js';
import { VirtualCard } from './virtual-card.js';

/**
 * ATR a PC/SC reader builds for an ISO 14443-4 Type A card without historical bytes
 * (PC/SC part 3 §3.1.3.2.3.2): 3B 81 80 01 80 80. nfc-pcsc treats it as ISO 14443-4.
 */
export const NTAG424_ATR = fromHex('3B8180018080');

/** DF name of the NDEF application (NFC Forum Type 4 Tag; NT4H2421Gx §8.2.2). */
const NDEF_AID = fromHex('D2760000850101');
/** ISO file identifiers: the application DF and its three files (NT4H2421Gx Table 5). */
const DF_FID = 0xe110;
const FILE_IDS: Record<number, number> = { 0xe103: 1, 0xe104: 2, 0xe105: 3 };

/** GetVersion frames of an NTAG 424 DNA (NT4H2421Gx §10.5.2, Table 47–49). */
const VERSION_HW = fromHex('04040230001105');
const VERSION_SW = fromHex('04040201021105');

/** Native status codes, sent as SW1 = 91 (NT4H2421Gx §10.2 Table 23). */
const ST = {
  OK: 0x00,
  ILLEGAL_COMMAND: 0x1c,
  INTEGRITY_ERROR: 0x1e,
  NO_SUCH_KEY: 0x40,
  LENGTH_ERROR: 0x7e,
  PERMISSION_DENIED: 0x9d,
  PARAMETER_ERROR: 0x9e,
  AUTHENTICATION_ERROR: 0xae,
  ADDITIONAL_FRAME: 0xaf,
  COMMAND_ABORTED: 0xca,
  FILE_NOT_FOUND: 0xf0,
} as const;

function nativeResponse(status: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return respond(0x9100 | status, data);
}

type KeyInput = string | Uint8Array;

interface EmulatedFile {
  readonly fileNo: number;
  readonly data: Uint8Array;
  settings: FileSettings;
}

export interface VirtualNtag424Options {
  /** 7-byte UID, hex. */
  uid: string;
  /** Application keys 0–4 (AES-128); missing ones are the factory all-zero key. */
  keys?: readonly KeyInput[];
  /** KeyVer of keys 0–4 (0-255); missing ones are the factory version 00h. */
  keyVersions?: readonly number[];
  /** NDEF file content (NLEN ‖ message); default the factory content (all zero). */
  ndefFile?: Uint8Array;
  /** Settings of the NDEF file; default the factory plain file with SUN off. */
  ndefFileSettings?: FileSettings;
  /** SDMReadCtr to start from (default 0). */
  readCounter?: number;
}

export interface PersonalisedNtag424Options {
  uid: string;
  /** Keys 0–4. Give *other* keys with a victim's UID to model a clone without keys. */
  keys: readonly KeyInput[];
  /** KeyVer of keys 0–4 (default 00h, as written by no ChangeKey). */
  keyVersions?: readonly number[];
  layout?: SunUrlLayout;
  keyNumbers?: SunKeyNumbers;
  mirror?: SunTemplateOptions['mirror'];
  encFileData?: Uint8Array;
  readCounter?: number;
}

/**
 * NTAG 424 DNA (NT4H2421Gx) as seen through a PC/SC reader. Modelled:
 *
 * - ISO 7816-4: SELECT of the NDEF application by DF name and of files by FID (E103h CC,
 *   E104h NDEF, E105h proprietary), READ BINARY (also with a short file id), UPDATE
 *   BINARY where write access is free.
 * - Secure Dynamic Messaging on the NDEF file (§9.3): the first read after an activation
 *   or a SELECT increments the 24-bit SDMReadCtr and mirrors encrypted PICCData (or plain
 *   UID and counter), optional encrypted file data and the SDMMAC into the bytes read;
 *   later reads reuse that image, so the NLEN read and the content read of one tap see
 *   one counter value (as phones observe: one increment per tap).
 * - Native commands, ISO wrapped (90 INS 00 00 Lc data 00): GetVersion,
 *   AuthenticateEV2First (+ AF), GetKeyVersion (plain without a session, CommMode.MAC
 *   within one), and in EV2 secure messaging (CommMode.Full) ChangeKey and
 *   ChangeFileSettings – enough for an enrolment desk to personalise a blank card, or
 *   finish one an earlier run left partly personalised.
 * - PC/SC part 3 GET DATA `FF CA 00 00 00` (the UID, answered by the reader firmware).
 *
 * Not modelled: Random ID, LRP mode, ReadData/WriteData, GetFileSettings, counter limits,
 * originality signature, the proprietary file's content.
 */
export class VirtualNtag424 extends VirtualCard {
  readonly atr = NTAG424_ATR;
  readonly uid: Uint8Array;
  readonly #keys: Uint8Array[];
  readonly #keyVersions: number[];
  readonly #files: Map<number, EmulatedFile>;
  #readCounter: number;

  // Session state, cleared on power events and removal.
  #appSelected = false;
  #selectedFile: number | undefined;
  #auth: Ev2Session | undefined;
  #chain:
    { kind: 'auth'; keyNo: number; rndB: Buffer } | { kind: 'version'; step: 1 | 2 } | undefined;
  /** The mirrored NDEF file of this activation (one counter value per read session). */
  #sdmView: Uint8Array | undefined;
  /** Replay fault: every read returns these bytes. */
  #frozen: Uint8Array | undefined;
  #lastView: Uint8Array | undefined;

  constructor(options: VirtualNtag424Options) {
    super();
    this.uid = fromHex(options.uid);
    if (this.uid.length !== 7) throw new Error('NTAG 424 DNA UIDs are 7 bytes');
    this.#keys = [0, 1, 2, 3, 4].map((i) => {
      const k = options.keys?.[i];
      const key = k === undefined ? new Uint8Array(16) : typeof k === 'string' ? fromHex(k) : k;
      if (key.length !== 16) throw new Error(`key ${i} must be 16 bytes`);
      return new Uint8Array(key);
    });
    this.#keyVersions = [0, 1, 2, 3, 4].map((i) => {
      const v = options.keyVersions?.[i] ?? 0;
      if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new Error(`key ${i}: version 0-255`);
      return v;
    });
    this.#readCounter = options.readCounter ?? 0;
    const ndef = new Uint8Array(256);
    if (options.ndefFile) {
      if (options.ndefFile.length > 256) throw new Error('the NDEF file holds 256 bytes');
      ndef.set(options.ndefFile);
    }
    // Factory file settings (NT4H2421Gx §8.2.2 Table 5).
    this.#files = new Map([
      [
        1,
        {
          fileNo: 1,
          data: defaultCc(),
          settings: plain({ read: 0xe, write: 0, readWrite: 0, change: 0 }),
        },
      ],
      [
        2,
        {
          fileNo: 2,
          data: ndef,
          settings:
            options.ndefFileSettings ?? plain({ read: 0xe, write: 0xe, readWrite: 0xe, change: 0 }),
        },
      ],
      [
        3,
        {
          fileNo: 3,
          data: new Uint8Array(128),
          settings: {
            commMode: 'full',
            accessRights: { read: 2, write: 3, readWrite: 3, change: 0 },
            sdm: null,
          },
        },
      ],
    ]);
  }

  /** A factory-fresh card: all keys zero, empty NDEF file, SUN off. */
  static blank(uid: string): VirtualNtag424 {
    return new VirtualNtag424({ uid });
  }

  /** A card as our enrolment desk leaves it: SUN URL template, SDM on, these keys. */
  static personalised(options: PersonalisedNtag424Options): VirtualNtag424 {
    const template = buildSunTemplate(options.layout ?? DEFAULT_SUN_URL_LAYOUT, {
      ...(options.mirror ? { mirror: options.mirror } : {}),
      ...(options.encFileData ? { encFileData: options.encFileData } : {}),
    });
    return new VirtualNtag424({
      uid: options.uid,
      keys: options.keys,
      ...(options.keyVersions ? { keyVersions: options.keyVersions } : {}),
      ndefFile: template.ndefFile,
      ndefFileSettings: sunFileSettings(template, options.keyNumbers ?? DEFAULT_SUN_KEY_NUMBERS),
      readCounter: options.readCounter ?? 0,
    });
  }

  /** Current SDMReadCtr. */
  get readCounter(): number {
    return this.#readCounter;
  }

  /** Current value of application key `keyNo` (tests check personalisation with it). */
  key(keyNo: number): Uint8Array {
    const k = this.#keys[keyNo];
    if (!k) throw new RangeError('NTAG 424 DNA has keys 0-4');
    return new Uint8Array(k);
  }

  keyVersion(keyNo: number): number {
    return this.#keyVersions[keyNo] ?? 0;
  }

  fileSettings(fileNo: number): FileSettings | undefined {
    const s = this.#files.get(fileNo)?.settings;
    return s ? structuredClone(s) : undefined;
  }

  /** The NDEF file as stored (the template, before mirroring). */
  storedNdefFile(): Uint8Array {
    return new Uint8Array(this.#file(2).data);
  }

  /** The NDEF file bytes the last read session returned (mirrors applied). */
  lastReadNdefFile(): Uint8Array | undefined {
    return this.#lastView && new Uint8Array(this.#lastView);
  }

  /**
   * Replay fault: from now on every read of the NDEF file returns `file` (default: what
   * the last read returned) and the counter stands still – a recorded SUN message played
   * back, as a relay or a copied URL would.
   */
  replaySun(file: Uint8Array | undefined = this.#lastView): this {
    if (!file) throw new Error('nothing read yet to replay');
    this.#frozen = new Uint8Array(file);
    return this;
  }

  stopReplay(): this {
    this.#frozen = undefined;
    return this;
  }

  protected resetSession(): void {
    this.#appSelected = false;
    this.#selectedFile = undefined;
    this.#auth = undefined;
    this.#chain = undefined;
    this.#sdmView = undefined;
  }

  protected processApdu(bytes: Uint8Array): Uint8Array {
    if (bytes[0] === 0x90) return this.#native(bytes);
    let apdu: CommandApdu;
    try {
      apdu = parseCommandApdu(bytes);
    } catch (err) {
      if (err instanceof ApduFormatError) return respond(SW.WRONG_LENGTH);
      throw err;
    }
    // Any other command breaks a native chain in progress (NT4H2421Gx §9.1.5).
    this.#chain = undefined;
    if (apdu.cla === 0xff) {
      if (apdu.ins !== 0xca) return respond(SW.INS_NOT_SUPPORTED);
      // PC/SC part 3 §3.2.2.1.3: the reader answers GET DATA with the anticollision UID.
      if (apdu.p1 === 0x00) return respond(SW.OK, this.uid);
      return respond(apdu.p1 === 0x01 ? SW.FUNCTION_NOT_SUPPORTED : SW.WRONG_P1P2);
    }
    if (apdu.cla !== 0x00) return respond(SW.CLA_NOT_SUPPORTED);
    switch (apdu.ins) {
      case 0xa4:
        return this.#isoSelect(apdu);
      case 0xb0:
        return this.#isoReadBinary(apdu);
      case 0xd6:
        return this.#isoUpdateBinary(apdu);
      default:
        return respond(SW.INS_NOT_SUPPORTED);
    }
  }

  /** ISOSelectFile (NT4H2421Gx §10.9.1). Selecting the application ends authentication. */
  #isoSelect(apdu: CommandApdu): Uint8Array {
    const { p1, data } = apdu;
    this.#sdmView = undefined;
    if (p1 === 0x04) {
      if (data.length !== NDEF_AID.length || toHex(data) !== toHex(NDEF_AID)) {
        return respond(SW.FILE_NOT_FOUND);
      }
      this.#selectApplication();
      return respond(SW.OK);
    }
    if ((p1 === 0x00 || p1 === 0x02) && data.length === 2) {
      const fid = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
      if (fid === DF_FID && p1 === 0x00) {
        this.#selectApplication();
        return respond(SW.OK);
      }
      const fileNo = FILE_IDS[fid];
      if (fileNo === undefined || !this.#appSelected) return respond(SW.FILE_NOT_FOUND);
      this.#selectedFile = fileNo;
      return respond(SW.OK);
    }
    if (p1 === 0x00 && data.length === 0) {
      // Select MF (3F00 implied): leaves the application.
      this.#appSelected = false;
      this.#selectedFile = undefined;
      this.#auth = undefined;
      return respond(SW.OK);
    }
    return respond(SW.WRONG_P1P2_IN_DATA);
  }

  #selectApplication(): void {
    this.#appSelected = true;
    this.#selectedFile = undefined;
    this.#auth = undefined;
  }

  /** The EF a READ/UPDATE BINARY addresses: P1 bit 8 set = short file id in P1. */
  #addressedFile(p1: number, p2: number): { file: EmulatedFile; offset: number } | number {
    if (!this.#appSelected) return SW.COMMAND_INCOMPATIBLE;
    let fileNo = this.#selectedFile;
    let offset = ((p1 & 0x7f) << 8) | p2;
    if (p1 & 0x80) {
      fileNo = p1 & 0x1f;
      offset = p2;
      if (!this.#files.has(fileNo)) return SW.FILE_NOT_FOUND;
      this.#selectedFile = fileNo;
    }
    const file = fileNo === undefined ? undefined : this.#files.get(fileNo);
    if (!file) return SW.COMMAND_INCOMPATIBLE;
    return { file, offset };
  }

  /** Whether an access condition is met now: free, or the session's key in plain mode. */
  #granted(condition: number, file: EmulatedFile): boolean {
    if (condition === ACCESS_FREE) return true;
    if (condition === ACCESS_NEVER) return false;
    return this.#auth?.keyNo === condition && file.settings.commMode === 'plain';
  }

  /** ISOReadBinary (NT4H2421Gx §10.9.2), with SDM mirroring on the NDEF file. */
  #isoReadBinary(apdu: CommandApdu): Uint8Array {
    const addressed = this.#addressedFile(apdu.p1, apdu.p2);
    if (typeof addressed === 'number') return respond(addressed);
    const { file, offset } = addressed;
    const rights = file.settings.accessRights;
    if (!this.#granted(rights.read, file) && !this.#granted(rights.readWrite, file)) {
      return respond(SW.SECURITY_NOT_SATISFIED);
    }
    let content = file.data;
    if (file.fileNo === NDEF_FILE_NO && (this.#frozen || (file.settings.sdm && !this.#auth))) {
      const view = this.#frozen ?? this.#sdmView ?? this.#mirror(file);
      if (!view) return respond(SW.CONDITIONS_NOT_SATISFIED);
      this.#sdmView = view;
      this.#lastView = view;
      content = view;
    }
    if (offset > content.length) return respond(SW.WRONG_P1P2);
    // Le 00 (256): as much as there is, up to 256 bytes (ISO 7816-4 §5.1).
    const wanted = apdu.le ?? 256;
    const data = content.slice(offset, Math.min(offset + wanted, content.length));
    if (data.length < wanted && apdu.le !== 256) return respond(SW.END_OF_DATA, data);
    return respond(SW.OK, data);
  }

  /**
   * The NDEF file as this read session returns it (NT4H2421Gx §9.3): counter +1, then the
   * mirrors written over the template as uppercase ASCII hex, the SDMMAC last because it
   * covers the bytes from SDMMACInputOffset up to itself, mirrors included.
   */
  #mirror(file: EmulatedFile): Uint8Array | undefined {
    const sdm = file.settings.sdm;
    if (!sdm) return undefined;
    if (this.#readCounter >= MAX_SDM_READ_COUNTER) return undefined; // counter exhausted
    this.#readCounter += 1;
    const counter = this.#readCounter;
    const view = new Uint8Array(file.data);
    const ascii = (at: number | undefined, text: string): void => {
      if (at !== undefined) view.set(new TextEncoder().encode(text), at);
    };
    const uid = sdm.uidMirror ? this.uid : null;
    const ctr = sdm.readCtrMirror ? counter : null;
    if (sdm.metaRead <= 4) {
      const key = this.#keys[sdm.metaRead] ?? new Uint8Array(16);
      ascii(sdm.piccDataOffset, toHex(encryptPiccData(key, { uid, counter: ctr })));
    } else if (sdm.metaRead === ACCESS_FREE) {
      if (uid) ascii(sdm.uidOffset, toHex(uid));
      if (ctr !== null) ascii(sdm.readCtrOffset, formatUrlCounter(ctr));
    }
    if (sdm.fileRead <= 4) {
      const key = this.#keys[sdm.fileRead] ?? new Uint8Array(16);
      if (sdm.encFileData && sdm.encOffset !== undefined && sdm.encLength !== undefined) {
        // The plain data is the first SDMENCLength/2 bytes at SDMENCOffset (§9.3.6).
        const plainData = file.data.slice(sdm.encOffset, sdm.encOffset + sdm.encLength / 2);
        ascii(sdm.encOffset, toHex(encryptSdmFileData(key, uid, counter, plainData)));
      }
      const macInput = view.slice(sdm.macInputOffset ?? 0, sdm.macOffset ?? 0);
      ascii(sdm.macOffset, toHex(computeSdmMac(key, uid, ctr, macInput)));
    }
    return view;
  }

  /** ISOUpdateBinary (NT4H2421Gx §10.9.4): only where write access is met in plain. */
  #isoUpdateBinary(apdu: CommandApdu): Uint8Array {
    const addressed = this.#addressedFile(apdu.p1, apdu.p2);
    if (typeof addressed === 'number') return respond(addressed);
    const { file, offset } = addressed;
    const rights = file.settings.accessRights;
    if (!this.#granted(rights.write, file) && !this.#granted(rights.readWrite, file)) {
      return respond(SW.SECURITY_NOT_SATISFIED);
    }
    if (offset + apdu.data.length > file.data.length) return respond(SW.WRONG_LENGTH);
    file.data.set(apdu.data, offset);
    this.#sdmView = undefined;
    return respond(SW.OK);
  }

  #native(bytes: Uint8Array): Uint8Array {
    const command = unwrapNativeCommand(bytes);
    if (!command) return nativeResponse(ST.LENGTH_ERROR);
    const chain = this.#chain;
    this.#chain = undefined;
    if (command.ins === EV2_INS.additionalFrame) {
      if (chain?.kind === 'auth') return this.#authenticateFinish(chain, command.data);
      if (chain?.kind === 'version') return this.#getVersion(chain.step);
      return nativeResponse(ST.COMMAND_ABORTED);
    }
    switch (command.ins) {
      case 0x60:
        return this.#getVersion(0);
      case EV2_INS.authenticateEv2First:
        return this.#authenticateStart(command.data);
      case EV2_INS.changeKey:
        return this.#changeKey(command.data);
      case EV2_INS.changeFileSettings:
        return this.#changeFileSettings(command.data);
      case EV2_INS.getKeyVersion:
        return this.#getKeyVersion(command.data);
      default:
        return nativeResponse(ST.ILLEGAL_COMMAND);
    }
  }

  #getVersion(step: 0 | 1 | 2): Uint8Array {
    if (step === 0) {
      this.#chain = { kind: 'version', step: 1 };
      return nativeResponse(ST.ADDITIONAL_FRAME, VERSION_HW);
    }
    if (step === 1) {
      this.#chain = { kind: 'version', step: 2 };
      return nativeResponse(ST.ADDITIONAL_FRAME, VERSION_SW);
    }
    // UID ‖ BatchNo (4) ‖ BatchNo/FabKey ‖ CWProd ‖ YearProd.
    return nativeResponse(
      ST.OK,
      Uint8Array.of(...this.uid, 0xcd, 0x65, 0x94, 0x51, 0x10, 0x39, 0x26),
    );
  }

  /** AuthenticateEV2First part 1 (NT4H2421Gx §10.4.1): KeyNo ‖ LenCap ‖ PCDcap2. */
  #authenticateStart(data: Uint8Array): Uint8Array {
    this.#auth = undefined; // a new authentication attempt ends the current one
    if (!this.#appSelected) return nativeResponse(ST.PERMISSION_DENIED);
    const keyNo = data[0];
    const lenCap = data[1];
    if (keyNo === undefined || lenCap === undefined || data.length !== 2 + lenCap || lenCap > 6) {
      return nativeResponse(ST.LENGTH_ERROR);
    }
    const key = this.#keys[keyNo];
    if (!key) return nativeResponse(ST.NO_SUCH_KEY);
    const challenge = ev2FirstPiccChallenge(key);
    this.#chain = { kind: 'auth', keyNo, rndB: challenge.rndB };
    return nativeResponse(ST.ADDITIONAL_FRAME, challenge.data);
  }

  #authenticateFinish(chain: { keyNo: number; rndB: Buffer }, data: Uint8Array): Uint8Array {
    const key = this.#keys[chain.keyNo];
    if (!key) return nativeResponse(ST.NO_SUCH_KEY);
    const result = ev2FirstPiccFinish(key, chain.keyNo, chain.rndB, data);
    if (!result.ok) {
      return nativeResponse(
        result.reason === 'bad-length' ? ST.LENGTH_ERROR : ST.AUTHENTICATION_ERROR,
      );
    }
    this.#auth = result.session;
    return nativeResponse(ST.OK, result.data);
  }

  /**
   * ChangeKey (NT4H2421Gx §10.6.1): needs a session with the application master key
   * (key 0). Changing key 0 itself ends the session and is answered without a MAC.
   */
  #changeKey(body: Uint8Array): Uint8Array {
    const session = this.#auth;
    if (!session) return nativeResponse(ST.PERMISSION_DENIED);
    if (session.keyNo !== 0) return nativeResponse(ST.PERMISSION_DENIED);
    const opened = this.#openSecure(session, EV2_INS.changeKey, body, 'full');
    if (opened instanceof Uint8Array) return opened;
    const keyNo = (opened.header[0] ?? 0xff) & 0x3f;
    const current = this.#keys[keyNo];
    if (!current) return this.#integrityError(ST.NO_SUCH_KEY);
    const parsed = parseChangeKey(session, keyNo, opened.data, current);
    if (!parsed.ok)
      return this.#integrityError(
        parsed.reason === 'bad-crc' ? ST.INTEGRITY_ERROR : ST.LENGTH_ERROR,
      );
    this.#keys[keyNo] = new Uint8Array(parsed.newKey);
    this.#keyVersions[keyNo] = parsed.keyVersion;
    if (parsed.endsSession) {
      this.#auth = undefined;
      return nativeResponse(ST.OK);
    }
    return this.#secureOk(session);
  }

  /**
   * GetKeyVersion (NT4H2421Gx §10.6.2): KeyNo → the KeyVer its last ChangeKey stored. Free
   * (no access condition), CommMode.MAC: in plain while not authenticated; within a
   * session the command must carry its MAC (KeyNo is the header) and the answer carries
   * one, a failure ending the session as for any secure command.
   */
  #getKeyVersion(body: Uint8Array): Uint8Array {
    if (!this.#appSelected) return nativeResponse(ST.PERMISSION_DENIED);
    const session = this.#auth;
    if (!session) {
      if (body.length !== 1) return nativeResponse(ST.LENGTH_ERROR);
      const version = this.#keyVersions[body[0] ?? 0xff];
      if (version === undefined) return nativeResponse(ST.NO_SUCH_KEY);
      return nativeResponse(ST.OK, Uint8Array.of(version));
    }
    const opened = this.#openSecure(session, EV2_INS.getKeyVersion, body, 'mac');
    if (opened instanceof Uint8Array) return opened;
    if (opened.data.length !== 0) return this.#integrityError(ST.LENGTH_ERROR);
    const version = this.#keyVersions[opened.header[0] ?? 0xff];
    if (version === undefined) return this.#integrityError(ST.NO_SUCH_KEY);
    const response = buildSecureResponse(session, { data: Uint8Array.of(version), mode: 'mac' });
    this.#auth = response.session;
    return nativeResponse(ST.OK, response.body);
  }

  /** ChangeFileSettings (NT4H2421Gx §10.7.1): needs the file's Change access key. */
  #changeFileSettings(body: Uint8Array): Uint8Array {
    const session = this.#auth;
    if (!session) return nativeResponse(ST.PERMISSION_DENIED);
    const fileNo = body[0];
    const file = fileNo === undefined ? undefined : this.#files.get(fileNo);
    if (!file) return nativeResponse(ST.FILE_NOT_FOUND);
    if (
      file.settings.accessRights.change !== ACCESS_FREE &&
      file.settings.accessRights.change !== session.keyNo
    ) {
      return nativeResponse(ST.PERMISSION_DENIED);
    }
    const opened = this.#openSecure(session, EV2_INS.changeFileSettings, body, 'full');
    if (opened instanceof Uint8Array) return opened;
    const decoded = decodeFileSettings(opened.data);
    if (!decoded.ok)
      return this.#integrityError(
        decoded.reason === 'bad-length' ? ST.LENGTH_ERROR : ST.PARAMETER_ERROR,
      );
    const sdm = decoded.settings.sdm;
    if (sdm && (file.fileNo !== NDEF_FILE_NO || !sdmSettingsFit(sdm, file.data.length))) {
      return this.#integrityError(ST.PARAMETER_ERROR);
    }
    // Enabling SDM resets SDMReadCtr to 0 (NXP, NTAG 424 DNA support answer; §9.3.3).
    if (sdm && !file.settings.sdm) this.#readCounter = 0;
    file.settings = decoded.settings;
    this.#sdmView = undefined;
    return this.#secureOk(session);
  }

  /**
   * Opens a secure command with a one-byte header (KeyNo, FileNo): its header and data,
   * or the error answer (length or integrity error, which ends the session).
   */
  #openSecure(
    session: Ev2Session,
    ins: number,
    body: Uint8Array,
    mode: 'mac' | 'full',
  ): { header: Buffer; data: Buffer } | Uint8Array {
    const opened = openSecureCommand(session, { ins, body, headerLength: 1, mode });
    if (opened.ok) return opened;
    return this.#integrityError(
      opened.reason === 'bad-length' ? ST.LENGTH_ERROR : ST.INTEGRITY_ERROR,
    );
  }

  /** 9100 with the response MAC (CommMode.Full, no data); advances CmdCtr. */
  #secureOk(session: Ev2Session): Uint8Array {
    const response = buildSecureResponse(session, { mode: 'full' });
    this.#auth = response.session;
    return nativeResponse(ST.OK, response.body);
  }

  /** An error in a secure command ends the session (NT4H2421Gx §9.1.9). */
  #integrityError(status: number): Uint8Array {
    this.#auth = undefined;
    return nativeResponse(status);
  }

  #file(fileNo: number): EmulatedFile {
    const f = this.#files.get(fileNo);
    if (!f) throw new Error(`no file ${fileNo}`);
    return f;
  }
}

function plain(accessRights: FileSettings['accessRights']): FileSettings {
  return { commMode: 'plain', accessRights, sdm: null };
}

/** Capability Container as shipped (NT4H2421Gx §8.2.2; NFC Forum Type 4 Tag §5.1). */
function defaultCc(): Uint8Array {
  const cc = new Uint8Array(32);
  // CCLEN 0017, mapping 2.0, MLe 0100, MLc 00FF, NDEF file TLV (E104, 256 bytes, free
  // read/write), proprietary file TLV (E105, 128 bytes, keyed access).
  cc.set(fromHex('001720010000FF0406E104010000000506E10500808283'), 0);
  return cc;
}

/**
 * The checks ChangeFileSettings makes on SDM offsets (NT4H2421Gx §10.7.1): mirrors inside
 * the file, the MAC input before the MAC, encrypted data inside the MAC input, and file
 * data encryption only with UID and counter mirrored.
 */
function sdmSettingsFit(sdm: SdmSettings, size: number): boolean {
  const inside = (at: number | undefined, length: number): boolean =>
    at === undefined || (at >= 0 && at + length <= size);
  if (!inside(sdm.piccDataOffset, 32) || !inside(sdm.uidOffset, 14)) return false;
  if (!inside(sdm.readCtrOffset, 6) || !inside(sdm.macOffset, 16)) return false;
  if (sdm.fileRead === ACCESS_NEVER) return !sdm.encFileData;
  const macIn = sdm.macInputOffset ?? 0;
  const mac = sdm.macOffset ?? 0;
  if (macIn > mac) return false;
  if (sdm.encFileData) {
    const encAt = sdm.encOffset ?? -1;
    const encLength = sdm.encLength ?? 0;
    if (!sdm.uidMirror || !sdm.readCtrMirror) return false;
    if (encLength === 0 || encLength % 32 !== 0 || !inside(encAt, encLength)) return false;
    if (encAt < macIn || encAt + encLength > mac) return false;
  }
  return true;
}
