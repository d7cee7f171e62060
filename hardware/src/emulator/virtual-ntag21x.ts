import { fromHex } from '../pcsc/bytes.js';
import { encodeNdefMessage, encodeType2NdefTlv, uriRecord } from '../pcsc/ndef.js';
import { ApduFormatError, parseCommandApdu, respond, SW } from './apdu.js';
import { VirtualCard } from './virtual-card.js';

/**
 * ATR a PC/SC reader builds for an ISO 14443-3 Type A card (PC/SC part 3 §3.1.3.2.3):
 * RID A0 00 00 03 06, standard 03 (ISO 14443 A part 3), card name 00 03 (Mifare
 * Ultralight family, which NTAG 21x reports as). Byte 5 = 4F is what makes nfc-pcsc
 * treat the card as ISO 14443-3.
 */
export const NTAG21X_ATR = fromHex('3B8F8001804F0CA0000003060300030000000068');

/** Page counts and Capability Container size byte (NTAG213/215/216 datasheet §8.5). */
const VARIANTS = {
  ntag213: { pages: 45, ccSize: 0x12, configPage: 0x29 },
  ntag215: { pages: 135, ccSize: 0x3e, configPage: 0x83 },
  ntag216: { pages: 231, ccSize: 0x6d, configPage: 0xe3 },
} as const;

export type Ntag21xVariant = keyof typeof VARIANTS;

export interface VirtualNtag21xOptions {
  /** 7-byte UID as hex (NTAG 21x UIDs are 7 bytes, first byte 04 for NXP). */
  uid: string;
  variant?: Ntag21xVariant;
  /** A URI stored as the NDEF message (omit for an empty, initialised tag). */
  ndefUri?: string;
}

/**
 * NTAG 213/215/216 as a PC/SC reader presents it. The chip itself only speaks NFC
 * Forum Type 2 commands; the reader firmware answers the PC/SC part 3 pseudo-APDUs:
 * GET DATA `FF CA 00 00 Le` (UID, §3.2.2.1.3) and READ BINARY `FF B0 P1 P2 Le`
 * (page address in P1‖P2, §3.2.2.1.8). Through vpcd those reach us, so we answer them
 * as the reader would. The UID carries no secret: anyone can clone it.
 */
export class VirtualNtag21x extends VirtualCard {
  readonly atr = NTAG21X_ATR;
  readonly uid: Uint8Array;
  readonly #memory: Uint8Array;

  constructor(options: VirtualNtag21xOptions) {
    super();
    this.uid = fromHex(options.uid);
    if (this.uid.length !== 7) throw new Error('NTAG 21x UIDs are 7 bytes');
    const variant = VARIANTS[options.variant ?? 'ntag213'];
    this.#memory = new Uint8Array(variant.pages * 4);
    const u = this.uid;
    const b = (i: number): number => u[i] ?? 0;
    // Pages 0–2: serial number with check bytes BCC0 = CT(88h) ⊕ UID0..2 and
    // BCC1 = UID3..6 (ISO 14443-3 cascade level 1/2; NTAG213 datasheet §8.5.1).
    this.#memory.set([b(0), b(1), b(2), 0x88 ^ b(0) ^ b(1) ^ b(2)], 0);
    this.#memory.set([b(3), b(4), b(5), b(6)], 4);
    this.#memory.set([b(3) ^ b(4) ^ b(5) ^ b(6), 0x48, 0x00, 0x00], 8);
    // Page 3: Capability Container, NDEF mapping 1.0, read/write access open.
    this.#memory.set([0xe1, 0x10, variant.ccSize, 0x00], 12);
    const tlv = options.ndefUri
      ? encodeType2NdefTlv(encodeNdefMessage([uriRecord(options.ndefUri)]))
      : Uint8Array.of(0x03, 0x00, 0xfe);
    if (tlv.length > variant.ccSize * 8) throw new Error('NDEF message does not fit the tag');
    this.#memory.set(tlv, 16);
    // CFG0/CFG1: no mirror, AUTH0 = FFh (no password protection).
    this.#memory.set([0x04, 0x00, 0x00, 0xff], variant.configPage * 4);
  }

  protected resetSession(): void {
    // Type 2 tags have no session state beyond the reader's.
  }

  protected processApdu(bytes: Uint8Array): Uint8Array {
    let apdu;
    try {
      apdu = parseCommandApdu(bytes);
    } catch (err) {
      if (err instanceof ApduFormatError) return respond(SW.WRONG_LENGTH);
      throw err;
    }
    if (apdu.cla !== 0xff) return respond(SW.CLA_NOT_SUPPORTED);
    switch (apdu.ins) {
      case 0xca:
        return this.#getData(apdu.p1, apdu.le);
      case 0xb0:
        return this.#readBinary((apdu.p1 << 8) | apdu.p2, apdu.le);
      default:
        return respond(SW.INS_NOT_SUPPORTED);
    }
  }

  /** PC/SC part 3 §3.2.2.1.3 GET DATA: P1 00 = UID; 01 = ATS historical bytes (none here). */
  #getData(p1: number, le: number | undefined): Uint8Array {
    if (p1 === 0x01) return respond(SW.FUNCTION_NOT_SUPPORTED);
    if (p1 !== 0x00) return respond(SW.WRONG_P1P2);
    if (le !== undefined && le !== 256 && le < this.uid.length) {
      return respond(SW.wrongLe(this.uid.length));
    }
    return respond(SW.OK, this.uid);
  }

  /**
   * READ BINARY over pages. Le 00 reads 16 bytes, the 4 pages one NTAG READ returns.
   * Past the last page: 6A82; running off the end: the bytes there are, with 6282
   * (PC/SC part 3 §3.2.2.1.8 status words).
   */
  #readBinary(page: number, le: number | undefined): Uint8Array {
    const pages = this.#memory.length / 4;
    if (page >= pages) return respond(SW.FILE_NOT_FOUND);
    const wanted = le === undefined || le === 256 ? 16 : le;
    const from = page * 4;
    const data = this.#readable(from, Math.min(wanted, this.#memory.length - from));
    return respond(data.length < wanted ? SW.END_OF_DATA : SW.OK, data);
  }

  /** Memory as READ returns it: PWD and PACK pages always read as zeros (§8.8.1). */
  #readable(from: number, length: number): Uint8Array {
    const out = this.#memory.slice(from, from + length);
    const pwdAt = this.#memory.length - 8; // PWD and PACK are the last two pages
    for (let i = 0; i < out.length; i++) if (from + i >= pwdAt) out[i] = 0;
    return out;
  }
}
