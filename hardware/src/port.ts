import type { EventEmitter } from 'node:events';

/**
 * The CardReader port: every adapter (pcsc, hid, simulated) turns its device into these
 * events. The kiosk core depends only on this interface.
 */
export type CardTechnology =
  | 'ntag424' // ISO 14443-4 NTAG 424 DNA (SUN / EV2)
  | 'desfire' // ISO 14443-4 DESFire EV2/EV3
  | 'ntag21x' // ISO 14443-3 UID-only, cloneable
  | 'hid-fob' // 125 kHz fob / barcode through a keyboard-wedge HID reader
  | 'simulated';

/** Proof material read from a secure card, verified by the kiosk core. */
export type CardProof =
  | { kind: 'none' }
  | {
      kind: 'sun';
      /** Encrypted PICCData (hex) when the card mirrors it encrypted. */
      piccData?: string;
      /** Plain UID and counter mirrors when PICCData is not encrypted. */
      uid?: string;
      counter?: number;
      /** Truncated SDMMAC (8 bytes hex). */
      cmac: string;
      /** Encrypted file data (hex), when mirrored. */
      encFileData?: string;
      /** Bytes the MAC covers besides the session-key input (the SUN URL part), ASCII. */
      macInput?: string;
    };

export interface TapRead {
  readerName: string;
  technology: CardTechnology;
  /** UID as uppercase hex (for fobs/barcodes, the decoded identifier). */
  identifier: string;
  proof: CardProof;
  /** performance.now() at which the adapter saw the card arrive. */
  detectedAt: number;
  /** Milliseconds spent inside APDU exchanges while reading this card. */
  apduMs: number;
}

export interface ReaderInfo {
  name: string;
  adapter: 'pcsc' | 'hid' | 'simulated';
}

export interface CardReaderEvents {
  'reader-attached': [ReaderInfo];
  'reader-detached': [ReaderInfo];
  /**
   * A card entered the field and its read has begun; a `tap` or an `error` follows. The
   * kiosk uses the moments the card takes to answer to get the disk ready for the tap's
   * commit. (Adapters whose read is instant need not send it.)
   */
  'card-detected': [{ readerName: string }];
  /**
   * The card's UID is read and the rest of its read goes on; a `tap` or an `error`
   * follows. The kiosk uses the moments the card takes to finish answering to run the
   * tap's lookups for that card once, so they are warm when the tap comes. (Adapters whose
   * read is instant need not send it.)
   */
  'card-identified': [{ readerName: string; technology: CardTechnology; identifier: string }];
  tap: [TapRead];
  /** A card left the field (after or during a read). */
  'card-removed': [{ readerName: string }];
  /** Recoverable problem: shown to the kiosk user, never a crash. */
  error: [ReaderError];
}

export type ReaderErrorCode =
  | 'reader-disconnected'
  | 'reader-error'
  | 'card-removed-mid-read'
  | 'card-unreadable'
  | 'service-unavailable';

export interface ReaderError {
  code: ReaderErrorCode;
  readerName?: string;
  message: string;
}

export interface CardReader extends EventEmitter<CardReaderEvents> {
  start(): Promise<void>;
  stop(): Promise<void>;
  readers(): ReaderInfo[];
}

/**
 * A raw APDU channel to the card currently in a reader's field. Enrolment desks run card
 * personalisation over it (e.g. NTAG 424 DNA AuthenticateEV2First, ChangeKey,
 * ChangeFileSettings); the kiosk's tap flow never needs it.
 */
export interface ApduChannel {
  readonly readerName: string;
  /** Technology of the card as the adapter classified it on arrival. */
  readonly technology: CardTechnology;
  /** False once the card has left the field or the reader/service went away. */
  readonly open: boolean;
  /** Sends one command APDU; resolves with data ‖ SW1 SW2; rejects once closed. */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
}

/** Adapters that can hand out an APDU channel to the present card. */
export interface ApduChannelSource {
  /** The channel to the card in this reader (or the only reader), if a card is there. */
  channel(readerName?: string): ApduChannel | undefined;
}
