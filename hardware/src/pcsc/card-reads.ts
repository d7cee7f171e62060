import { fromHex, statusWord, toHex } from './bytes.js';
import { decodeNdefMessage, decodeType2NdefTlv, firstUri, NdefFormatError } from './ndef.js';
import { parseSunUrl, type SunProof, type SunUrlLayout } from './sun-url.js';

/** Sends one APDU to the card in the field and returns data ‖ SW1 SW2. */
export type Transmit = (apdu: Uint8Array) => Promise<Uint8Array>;

/** The card answered, but not as the protocol says it should. */
export class CardProtocolError extends Error {
  override readonly name: string = 'CardProtocolError';
  constructor(
    message: string,
    readonly sw?: number,
  ) {
    super(message);
  }
}

/**
 * A response without even a status word. Through vpcd (and some readers) a card leaving
 * the field mid-APDU looks like this – an empty response, not a transmit error – so the
 * adapter treats it as possibly-removed and waits for pcscd's verdict.
 */
export class TruncatedResponseError extends CardProtocolError {
  override readonly name: string = 'TruncatedResponseError';
}

/** NFC Forum Type 4 NDEF Tag Application (Type 4 Tag spec §5.1.2; NTAG 424 DF name). */
export const NDEF_APPLICATION_AID = fromHex('D2760000850101');
export const CC_FILE_ID = 0xe103;
export const NDEF_FILE_ID = 0xe104;

/** Sends an APDU and checks SW 9000; returns the data part. */
export async function expectOk(
  transmit: Transmit,
  apdu: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  const response = await transmit(apdu);
  const sw = statusWord(response);
  if (sw === undefined) {
    throw new TruncatedResponseError(`${what}: response shorter than a status word`);
  }
  if (sw !== 0x9000) {
    throw new CardProtocolError(
      `${what}: status ${sw.toString(16).toUpperCase().padStart(4, '0')}`,
      sw,
    );
  }
  return response.subarray(0, response.length - 2);
}

/**
 * UID through the reader: PC/SC part 3 §3.2.2.1.3 GET DATA `FF CA 00 00 00`. A real
 * reader answers from its anticollision data; ISO 14443 UIDs are 4, 7 or 10 bytes.
 */
export async function readUid(transmit: Transmit): Promise<string> {
  const uid = await expectOk(
    transmit,
    Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00),
    'GET DATA (UID)',
  );
  if (![4, 7, 10].includes(uid.length)) {
    throw new CardProtocolError(`GET DATA returned a ${uid.length}-byte UID`);
  }
  return toHex(uid);
}

export interface Type2Header {
  /** Capability Container (page 3): E1h magic, version, size/8, access. */
  capabilityContainer: Uint8Array;
}

/**
 * Reads pages 0–3 of an NFC Forum Type 2 tag (NTAG 21x) with READ BINARY `FF B0 00 00
 * 10` (PC/SC part 3 §3.2.2.1.8): the serial number must agree with the UID the reader
 * reported and page 3 must hold a Capability Container. This rejects a non-tag answering
 * GET DATA, not a clone: a UID-only card proves nothing, whatever the pages say.
 */
export async function readType2Header(transmit: Transmit, uidHex: string): Promise<Type2Header> {
  const pages = await expectOk(
    transmit,
    Uint8Array.of(0xff, 0xb0, 0x00, 0x00, 0x10),
    'READ BINARY pages 0-3',
  );
  if (pages.length !== 16)
    throw new CardProtocolError(`READ BINARY returned ${pages.length} bytes, not 16`);
  const uid = fromHex(uidHex);
  if (uid.length === 7) {
    // Page 0 = UID0..2 ‖ BCC0, page 1 = UID3..6 (NTAG213/215/216 datasheet §8.5.1).
    const serial = toHex(Uint8Array.of(...pages.subarray(0, 3), ...pages.subarray(4, 8)));
    if (serial !== uidHex)
      throw new CardProtocolError('page 0-1 serial number disagrees with the UID');
  }
  const cc = pages.slice(12, 16);
  if (cc[0] !== 0xe1) throw new CardProtocolError('page 3 holds no NDEF Capability Container');
  return { capabilityContainer: cc };
}

/**
 * Reads the NDEF message of a Type 2 tag's user memory (from page 4, 16 bytes per READ
 * BINARY) up to its size in the Capability Container. Not needed for a tap (a UID-only
 * card proves nothing); offered for tools.
 */
export async function readType2Ndef(
  transmit: Transmit,
  cc: Uint8Array,
): Promise<Uint8Array | undefined> {
  const size = (cc[2] ?? 0) * 8;
  const memory = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 16) {
    const page = 4 + offset / 4;
    const chunk = await expectOk(
      transmit,
      Uint8Array.of(0xff, 0xb0, page >> 8, page & 0xff, 0x10),
      'READ BINARY',
    );
    memory.set(chunk.subarray(0, Math.min(16, size - offset)), offset);
    try {
      const found = decodeType2NdefTlv(memory.subarray(0, offset + chunk.length));
      if (found !== undefined) return found;
    } catch (err) {
      if (!(err instanceof NdefFormatError)) throw err; // not all read yet
    }
  }
  return decodeType2NdefTlv(memory);
}

export interface Type4NdefReadOptions {
  /** Largest Le per READ BINARY (NTAG 424 CC: MLe = 0100h; 255 suits common readers). */
  maxLe?: number;
}

/** ISO 7816-4 §11.1.1 SELECT by DF name (P1 04), first or only occurrence, FCI optional. */
export function selectApplicationApdu(aid: Uint8Array): Uint8Array {
  return Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00);
}

/** ISO 7816-4 §11.1.1 SELECT EF by file identifier (P1 00), no response data (P2 0C). */
export function selectFileApdu(fileId: number): Uint8Array {
  return Uint8Array.of(0x00, 0xa4, 0x00, 0x0c, 0x02, fileId >> 8, fileId & 0xff);
}

/** ISO 7816-4 §11.3.3 READ BINARY with a 15-bit offset in P1‖P2. */
export function readBinaryApdu(offset: number, length: number): Uint8Array {
  return Uint8Array.of(0x00, 0xb0, (offset >> 8) & 0x7f, offset & 0xff, length & 0xff);
}

/** ISO 7816-4 warning: end of file reached before Le bytes were read (data returned). */
const SW_END_OF_FILE = 0x6282;

/**
 * The NDEF detection and read procedure of the NFC Forum Type 4 Tag spec (§5.4), as
 * NTAG 424 DNA implements it (datasheet §10.9, ISO commands): SELECT the NDEF
 * application, SELECT file E104h, then READ BINARY from offset 0 for the 2-byte NLEN and
 * as much of the message as one response holds (a SUN URL fits in one), and the rest, if
 * any, from where that ended. The CC file is not read: NTAG 424 DNA's NDEF file is
 * always E104h (256 bytes). Reading NLEN on its own first, as the spec's procedure does,
 * would cost one more APDU for nothing a SUN message needs: each is a round trip to the
 * card (milliseconds on a real reader). Each READ BINARY that touches the SUN mirror
 * makes the card compute fresh mirrors, so the message must be read within one session
 * (which this does). A card that refuses the long first read (a Type 4 tag with an NDEF
 * file shorter than it) is read the spec's way: NLEN first, then the rest.
 */
export async function readType4NdefMessage(
  transmit: Transmit,
  options: Type4NdefReadOptions = {},
): Promise<Uint8Array> {
  const maxLe = Math.min(Math.max(options.maxLe ?? 0xff, 1), 0xff);
  await expectOk(transmit, selectApplicationApdu(NDEF_APPLICATION_AID), 'SELECT NDEF application');
  await expectOk(transmit, selectFileApdu(NDEF_FILE_ID), 'SELECT NDEF file');
  let head: Uint8Array | null = null;
  if (maxLe > 2) {
    const response = await transmit(readBinaryApdu(0, maxLe));
    const sw = statusWord(response);
    if (sw === undefined) {
      throw new TruncatedResponseError('READ BINARY NLEN: response shorter than a status word');
    }
    if (sw === 0x9000 || sw === SW_END_OF_FILE) head = response.subarray(0, response.length - 2);
  }
  // Refused (or an Le of 2 at most): NLEN on its own.
  head ??= await expectOk(transmit, readBinaryApdu(0, 2), 'READ BINARY NLEN');
  if (head.length < 2 || head.length > maxLe) {
    throw new CardProtocolError(`NLEN read returned ${head.length} bytes`);
  }
  const nlen = ((head[0] ?? 0) << 8) | (head[1] ?? 0);
  if (nlen > 0x7ffd) throw new CardProtocolError('NLEN larger than an NDEF file can be');
  const message = new Uint8Array(nlen);
  let got = Math.min(nlen, head.length - 2);
  message.set(head.subarray(2, 2 + got));
  while (got < nlen) {
    const want = Math.min(maxLe, nlen - got);
    const chunk = await expectOk(transmit, readBinaryApdu(2 + got, want), 'READ BINARY');
    if (chunk.length !== want) {
      throw new CardProtocolError(`READ BINARY returned ${chunk.length} bytes, asked for ${want}`);
    }
    message.set(chunk, got);
    got += want;
  }
  return message;
}

export type Type4Result =
  | { kind: 'sun'; proof: SunProof; uri: string }
  /** A readable NDEF file without a SUN message: e.g. a blank, unpersonalised card. */
  | { kind: 'no-sun'; uri: string | undefined };

/** Reads the NDEF file and extracts the SUN message from its first URI record. */
export async function readType4Sun(
  transmit: Transmit,
  layout?: SunUrlLayout,
  options?: Type4NdefReadOptions,
): Promise<Type4Result> {
  const message = await readType4NdefMessage(transmit, options);
  if (message.length === 0) return { kind: 'no-sun', uri: undefined };
  let uri: string | undefined;
  try {
    // Decoded once: every record must parse, and the first URI is read from them.
    uri = firstUri(decodeNdefMessage(message));
  } catch (err) {
    if (err instanceof NdefFormatError || err instanceof TypeError) {
      throw new CardProtocolError(`NDEF message unreadable: ${err.message}`);
    }
    throw err;
  }
  if (uri === undefined) return { kind: 'no-sun', uri };
  const proof = parseSunUrl(uri, layout);
  return proof ? { kind: 'sun', proof, uri } : { kind: 'no-sun', uri };
}
