/**
 * NDEF (NFC Forum NDEF 1.0) records and the two containers our cards use:
 * - Type 2 Tag TLVs in NTAG 21x user pages (NFC Forum Type 2 Tag spec §2.3),
 * - the Type 4 Tag NDEF file: NLEN (2 bytes, big endian) then the message (Type 4 Tag
 *   spec §5.1, as NTAG 424 DNA stores it in file E104h).
 * Parsing is strict: cards are untrusted input, so every length is bounds-checked.
 */

export class NdefFormatError extends Error {
  override readonly name = 'NdefFormatError';
}

export interface NdefRecord {
  /** Type Name Format (3 bits): 1 = NFC Forum well-known type. */
  tnf: number;
  type: Uint8Array;
  id: Uint8Array;
  payload: Uint8Array;
}

export const TNF_WELL_KNOWN = 0x01;
const MB = 0x80;
const ME = 0x40;
const CF = 0x20;
const SR = 0x10;
const IL = 0x08;

/** URI identifier codes (NFC Forum URI RTD 1.0, Table 3). */
export const URI_PREFIXES: readonly string[] = [
  '',
  'http://www.',
  'https://www.',
  'http://',
  'https://',
  'tel:',
  'mailto:',
  'ftp://anonymous:anonymous@',
  'ftp://ftp.',
  'ftps://',
  'sftp://',
  'smb://',
  'nfs://',
  'ftp://',
  'dav://',
  'news:',
  'telnet://',
  'imap:',
  'rtsp://',
  'urn:',
  'pop:',
  'sip:',
  'sips:',
  'tftp:',
  'btspp://',
  'btl2cap://',
  'btgoep://',
  'tcpobex://',
  'irdaobex://',
  'file://',
  'urn:epc:id:',
  'urn:epc:tag:',
  'urn:epc:pat:',
  'urn:epc:raw:',
  'urn:epc:',
  'urn:nfc:',
];

export function decodeNdefMessage(bytes: Uint8Array): NdefRecord[] {
  const records: NdefRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const header = byteAt(bytes, at);
    if (records.length === 0 && !(header & MB)) throw new NdefFormatError('first record lacks MB');
    if (header & CF) throw new NdefFormatError('chunked records are not supported');
    const typeLength = byteAt(bytes, at + 1);
    let cursor = at + 2;
    let payloadLength: number;
    if (header & SR) {
      payloadLength = byteAt(bytes, cursor);
      cursor += 1;
    } else {
      payloadLength =
        byteAt(bytes, cursor) * 0x1000000 +
        (byteAt(bytes, cursor + 1) << 16) +
        (byteAt(bytes, cursor + 2) << 8) +
        byteAt(bytes, cursor + 3);
      cursor += 4;
    }
    let idLength = 0;
    if (header & IL) {
      idLength = byteAt(bytes, cursor);
      cursor += 1;
    }
    const end = cursor + typeLength + idLength + payloadLength;
    if (end > bytes.length) throw new NdefFormatError('record runs past the end of the message');
    const type = bytes.slice(cursor, cursor + typeLength);
    const id = bytes.slice(cursor + typeLength, cursor + typeLength + idLength);
    const payload = bytes.slice(cursor + typeLength + idLength, end);
    records.push({ tnf: header & 0x07, type, id, payload });
    at = end;
    if (header & ME) {
      if (at !== bytes.length) throw new NdefFormatError('bytes after the ME record');
      return records;
    }
  }
  throw new NdefFormatError(records.length === 0 ? 'empty NDEF message' : 'no record has ME');
}

export function encodeNdefMessage(records: readonly NdefRecord[]): Uint8Array {
  if (records.length === 0) throw new NdefFormatError('an NDEF message needs a record');
  const parts: number[] = [];
  records.forEach((r, i) => {
    const short = r.payload.length < 256;
    let header = r.tnf & 0x07;
    if (i === 0) header |= MB;
    if (i === records.length - 1) header |= ME;
    if (short) header |= SR;
    if (r.id.length > 0) header |= IL;
    parts.push(header, r.type.length);
    if (short) parts.push(r.payload.length);
    else {
      const n = r.payload.length;
      parts.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    }
    if (r.id.length > 0) parts.push(r.id.length);
    parts.push(...r.type, ...r.id, ...r.payload);
  });
  return Uint8Array.from(parts);
}

/** A well-known URI record ("U"), using the longest matching abbreviation. */
export function uriRecord(uri: string): NdefRecord {
  let code = 0;
  URI_PREFIXES.forEach((prefix, i) => {
    if (prefix && uri.startsWith(prefix) && prefix.length > (URI_PREFIXES[code] ?? '').length) {
      code = i;
    }
  });
  const rest = new TextEncoder().encode(uri.slice((URI_PREFIXES[code] ?? '').length));
  const payload = new Uint8Array(rest.length + 1);
  payload[0] = code;
  payload.set(rest, 1);
  return { tnf: TNF_WELL_KNOWN, type: Uint8Array.of(0x55), id: new Uint8Array(0), payload };
}

/** The URI of a well-known URI record, or undefined for any other record. */
export function recordUri(record: NdefRecord): string | undefined {
  if (record.tnf !== TNF_WELL_KNOWN || record.type.length !== 1 || record.type[0] !== 0x55) {
    return undefined;
  }
  const code = record.payload[0];
  if (code === undefined) throw new NdefFormatError('URI record without identifier code');
  const prefix = URI_PREFIXES[code];
  if (prefix === undefined) throw new NdefFormatError(`reserved URI identifier code ${code}`);
  return prefix + UTF8.decode(record.payload.subarray(1));
}

/** One decoder for every URI (each tap reads one): fatal, so bad UTF-8 throws a TypeError. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The first URI in an NDEF message (bytes, or its records already decoded), if any. */
export function firstUri(message: Uint8Array | readonly NdefRecord[]): string | undefined {
  const records = message instanceof Uint8Array ? decodeNdefMessage(message) : message;
  for (const record of records) {
    const uri = recordUri(record);
    if (uri !== undefined) return uri;
  }
  return undefined;
}

/** Type 4 NDEF file content: NLEN (big endian) followed by the message. */
export function encodeType4NdefFile(message: Uint8Array): Uint8Array {
  if (message.length > 0xfffe) throw new NdefFormatError('NDEF message too long for NLEN');
  const out = new Uint8Array(message.length + 2);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/** NDEF TLV wrapping for Type 2 Tags: 03 L message FE (L in 1 or 3 bytes). */
export function encodeType2NdefTlv(message: Uint8Array): Uint8Array {
  const length =
    message.length < 0xff
      ? [message.length]
      : [0xff, (message.length >> 8) & 0xff, message.length & 0xff];
  return Uint8Array.from([0x03, ...length, ...message, 0xfe]);
}

/**
 * Finds the NDEF message TLV in Type 2 Tag user memory (skipping NULL, Lock Control,
 * Memory Control and proprietary TLVs). undefined when there is none.
 */
export function decodeType2NdefTlv(memory: Uint8Array): Uint8Array | undefined {
  let at = 0;
  while (at < memory.length) {
    const tag = byteAt(memory, at);
    if (tag === 0x00) {
      at += 1;
      continue;
    }
    if (tag === 0xfe) return undefined;
    let length = byteAt(memory, at + 1);
    let valueAt = at + 2;
    if (length === 0xff) {
      length = (byteAt(memory, at + 2) << 8) | byteAt(memory, at + 3);
      valueAt = at + 4;
    }
    if (valueAt + length > memory.length) throw new NdefFormatError('TLV runs past user memory');
    if (tag === 0x03) return memory.slice(valueAt, valueAt + length);
    at = valueAt + length;
  }
  return undefined;
}

function byteAt(bytes: Uint8Array, at: number): number {
  const b = bytes[at];
  if (b === undefined) throw new NdefFormatError('NDEF data truncated');
  return b;
}
