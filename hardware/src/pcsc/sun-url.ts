import type { CardProof } from '../port.js';
import { encodeNdefMessage, encodeType4NdefFile, uriRecord } from './ndef.js';

/**
 * Our SUN URL layout (Secure Unique NFC message, NTAG 424 DNA datasheet NT4H2421Gx §9.3,
 * AN12196 §3). The card rewrites parts of its NDEF file on every read ("mirroring"):
 *
 *   https://card.example.council/t?picc_data=<32 hex>&enc=<32·n hex>&cmac=<16 hex>
 *                                  ^ PICCDataOffset  ^ SDMENCOffset   ^ SDMMACOffset
 *
 * - picc_data: PICCData (tag ‖ UID ‖ SDMReadCtr ‖ padding) encrypted under K_SDMMetaRead.
 * - enc (optional): SDMENCFileData, file bytes encrypted under a session key from
 *   K_SDMFileRead.
 * - cmac: SDMMAC, the odd bytes of an AES-CMAC under K_SesSDMFileReadMAC over the file
 *   bytes from SDMMACInputOffset up to (not including) SDMMACOffset (§9.3.9.3).
 *
 * What the MAC covers is whatever the card was personalised with. We put
 * SDMMACInputOffset at the start of the picc_data value, so `macInput` is the ASCII
 * `<picc hex>&enc=<enc hex>&cmac=` (or `<picc hex>&cmac=`): the MAC then also binds the
 * encrypted file data and the URL text between the mirrors. `macInputFrom: 'none'`
 * describes cards personalised with SDMMACInputOffset = SDMMACOffset (empty input, as
 * in AN12196's first SUN example). The plain mirror form (`uid=`, `ctr=`, SDMMetaRead =
 * Eh) is parsed too; its MAC input then starts at the uid value.
 */
export interface SunUrlLayout {
  /** Everything before `?`, e.g. `https://card.example.council/t`. */
  baseUrl: string;
  piccDataParam: string;
  encParam: string;
  cmacParam: string;
  uidParam: string;
  counterParam: string;
  /** Where SDMMACInputOffset points: the first mirrored value, or the MAC itself. */
  macInputFrom: 'first-mirror' | 'none';
}

export const DEFAULT_SUN_URL_LAYOUT: SunUrlLayout = {
  baseUrl: 'https://card.example.council/t',
  piccDataParam: 'picc_data',
  encParam: 'enc',
  cmacParam: 'cmac',
  uidParam: 'uid',
  counterParam: 'ctr',
  macInputFrom: 'first-mirror',
};

export type SunProof = Extract<CardProof, { kind: 'sun' }>;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The two query patterns of a layout: PICCData encrypted, or UID and counter in clear. */
interface SunPatterns {
  encrypted: RegExp;
  plain: RegExp;
}

/**
 * The last layout's patterns, made once, not on every tap: a pattern built anew is
 * compiled anew whenever the runtime has dropped it from its cache. A kiosk reads one
 * layout; another (or the same object changed in place) gets its own, by the parameter
 * names. Neither pattern is global or sticky: exec keeps no state between calls.
 */
let lastPatterns: { key: string; patterns: SunPatterns } | null = null;

function sunPatterns(layout: SunUrlLayout): SunPatterns {
  const key = [
    layout.piccDataParam,
    layout.encParam,
    layout.cmacParam,
    layout.uidParam,
    layout.counterParam,
  ].join('\0');
  if (lastPatterns?.key === key) return lastPatterns.patterns;
  const enc = `(?:&${escape(layout.encParam)}=((?:[0-9A-Fa-f]{32})+))?`;
  const cmac = `&${escape(layout.cmacParam)}=([0-9A-Fa-f]{16})$`;
  const patterns: SunPatterns = {
    encrypted: new RegExp(`(?:^|&)${escape(layout.piccDataParam)}=([0-9A-Fa-f]{32})${enc}${cmac}`),
    plain: new RegExp(
      `(?:^|&)${escape(layout.uidParam)}=([0-9A-Fa-f]{14})` +
        `(?:&${escape(layout.counterParam)}=([0-9A-Fa-f]{6}))?${enc}${cmac}`,
    ),
  };
  lastPatterns = { key, patterns };
  return patterns;
}

/**
 * Reads the SUN parameters out of a URL read from the card. Returns undefined when the
 * URL carries no SUN message (a blank card, or a card of another scheme).
 */
export function parseSunUrl(
  url: string,
  layout: SunUrlLayout = DEFAULT_SUN_URL_LAYOUT,
): SunProof | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const query = url.slice(q + 1);
  const { encrypted, plain } = sunPatterns(layout);
  const m = encrypted.exec(query);
  if (m) {
    const [whole, picc = '', encHex, mac = ''] = m;
    const valueStart = m.index + whole.indexOf('=') + 1;
    return {
      kind: 'sun',
      piccData: picc.toUpperCase(),
      cmac: mac.toUpperCase(),
      ...(encHex ? { encFileData: encHex.toUpperCase() } : {}),
      macInput: macInput(query, valueStart, layout),
    };
  }
  const p = plain.exec(query);
  if (p) {
    const [whole, uid = '', ctr, encHex, mac = ''] = p;
    const valueStart = p.index + whole.indexOf('=') + 1;
    return {
      kind: 'sun',
      uid: uid.toUpperCase(),
      // The counter mirror is ASCII hex, most significant digit first (§9.3.4).
      ...(ctr ? { counter: parseInt(ctr, 16) } : {}),
      cmac: mac.toUpperCase(),
      ...(encHex ? { encFileData: encHex.toUpperCase() } : {}),
      macInput: macInput(query, valueStart, layout),
    };
  }
  return undefined;
}

/** The URL text the MAC covers: from SDMMACInputOffset up to SDMMACOffset. */
function macInput(query: string, firstValueStart: number, layout: SunUrlLayout): string {
  if (layout.macInputFrom === 'none') return '';
  return query.slice(firstValueStart, query.length - 16);
}

/** File offsets for ChangeFileSettings' SDM part (NT4H2421Gx §10.7.1, Table 69). */
export interface SdmOffsets {
  /** Set for encrypted PICCData (SDMMetaRead = a key number). */
  piccDataOffset?: number;
  /** Set for the plain mirror (SDMMetaRead = Eh). */
  uidOffset?: number;
  readCtrOffset?: number;
  macInputOffset: number;
  encOffset?: number;
  /** Length of the mirrored (ASCII) encrypted data: 32 per 16-byte block. */
  encLength?: number;
  macOffset: number;
}

export interface SunTemplate {
  /** The whole NDEF file (NLEN ‖ message) to write into file E104h. */
  ndefFile: Uint8Array;
  offsets: SdmOffsets;
  /** The URL as stored, placeholders included. */
  url: string;
}

export interface SunTemplateOptions {
  /** 'encrypted' mirrors PICCData; 'plain' mirrors UID and counter in clear. */
  mirror?: 'encrypted' | 'plain';
  /**
   * Plain file data to mirror encrypted (16·n bytes). Stored at SDMENCOffset: the card
   * encrypts the first SDMENCLength/2 bytes there (NT4H2421Gx §9.3.6).
   */
  encFileData?: Uint8Array;
}

/**
 * Builds the NDEF file and SDM offsets for our layout: what an enrolment desk writes to
 * a blank NTAG 424 DNA before switching SUN on, and what the emulator starts from.
 */
export function buildSunTemplate(
  layout: SunUrlLayout = DEFAULT_SUN_URL_LAYOUT,
  options: SunTemplateOptions = {},
): SunTemplate {
  const mirror = options.mirror ?? 'encrypted';
  const encPlain = options.encFileData;
  if (encPlain && (encPlain.length === 0 || encPlain.length % 16 !== 0)) {
    throw new RangeError('encrypted file data must be whole 16-byte blocks');
  }
  let query: string;
  const marks: Record<string, number> = {};
  const add = (name: string, param: string, placeholder: string, first: boolean): void => {
    query += `${first ? '' : '&'}${param}=`;
    marks[name] = query.length;
    query += placeholder;
  };
  query = '';
  if (mirror === 'encrypted') add('picc', layout.piccDataParam, '0'.repeat(32), true);
  else {
    add('uid', layout.uidParam, '0'.repeat(14), true);
    add('ctr', layout.counterParam, '0'.repeat(6), false);
  }
  if (encPlain) add('enc', layout.encParam, '0'.repeat(encPlain.length * 2), false);
  add('mac', layout.cmacParam, '0'.repeat(16), false);
  const url = `${layout.baseUrl}?${query}`;
  const record = uriRecord(url);
  const file = encodeType4NdefFile(encodeNdefMessage([record]));
  // The query is stored verbatim after the URI prefix code: find where it landed.
  const queryInFile = indexOf(file, new TextEncoder().encode(query));
  if (queryInFile < 0) throw new Error('template layout error');
  const at = (name: string): number => queryInFile + (marks[name] ?? 0);
  if (encPlain) file.set(encPlain, at('enc'));
  const firstMirror = mirror === 'encrypted' ? at('picc') : at('uid');
  const offsets: SdmOffsets = {
    ...(mirror === 'encrypted'
      ? { piccDataOffset: at('picc') }
      : { uidOffset: at('uid'), readCtrOffset: at('ctr') }),
    macInputOffset: layout.macInputFrom === 'none' ? at('mac') : firstMirror,
    ...(encPlain ? { encOffset: at('enc'), encLength: encPlain.length * 2 } : {}),
    macOffset: at('mac'),
  };
  return { ndefFile: file, offsets, url };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
