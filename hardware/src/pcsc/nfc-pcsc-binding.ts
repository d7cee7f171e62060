import { EventEmitter } from 'node:events';

/**
 * A small typed face over nfc-pcsc 0.8.1 (untyped JavaScript). Everything crossing from
 * the library is `unknown` and narrowed here, and its event quirks are normalised:
 *
 * - Reader connect failures during card detection are emitted as `emit(err)` – the
 *   error object *is* the event name – so no listener ever sees them. We intercept
 *   such calls and surface them as `hidden-error`.
 * - `'error'` with no listener throws (EventEmitter semantics) and would crash the
 *   kiosk: we always listen on the NFC object and on every reader.
 */

/** What nfc-pcsc reports when a card enters the field (with autoProcessing off). */
export interface NfcCardEvent {
  atr: Uint8Array | undefined;
  /** 'TAG_ISO_14443_3' when ATR byte 5 is 4Fh, else 'TAG_ISO_14443_4' (Reader.js). */
  standard: 'TAG_ISO_14443_3' | 'TAG_ISO_14443_4';
}

export interface NfcReaderEvents {
  card: [NfcCardEvent];
  'card-off': [];
  error: [Error];
  /** An error nfc-pcsc emitted with `emit(err)` (connect failure on card arrival). */
  'hidden-error': [Error];
  end: [];
}

export interface NfcReaderHandle extends EventEmitter<NfcReaderEvents> {
  readonly name: string;
  /** Sends one APDU (SCardTransmit); resolves with data ‖ SW1 SW2. */
  transmit(apdu: Uint8Array, maxResponseLength: number): Promise<Uint8Array>;
  /** Releases the reader (deferred to a macrotask: see ReaderHandle.close). */
  close(): Promise<void>;
}

export interface NfcEvents {
  reader: [NfcReaderHandle];
  error: [Error];
}

export interface NfcHandle extends EventEmitter<NfcEvents> {
  close(): Promise<void>;
}

/** Creates NFC objects: the real library, or a fake in unit tests. */
export type NfcFactory = () => NfcHandle;

interface RawReader extends EventEmitter {
  name: unknown;
  autoProcessing: unknown;
  transmit: unknown;
  close: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : 'unknown nfc-pcsc error');
}

function isRawReader(value: unknown): value is RawReader {
  return (
    value instanceof EventEmitter &&
    typeof (value as unknown as Record<string, unknown>).transmit === 'function' &&
    typeof (value as unknown as Record<string, unknown>).close === 'function'
  );
}

class ReaderHandle extends EventEmitter<NfcReaderEvents> implements NfcReaderHandle {
  readonly name: string;
  readonly #transmit: (data: Buffer, max: number) => Promise<unknown>;
  readonly #close: () => void;

  constructor(raw: RawReader) {
    super();
    this.name = typeof raw.name === 'string' ? raw.name : 'unnamed reader';
    // We run every exchange ourselves (transmit), for both ISO 14443-3 and -4 cards:
    // nfc-pcsc's own processing needs an AID for -4 cards and hides timings.
    raw.autoProcessing = false;
    const transmit = raw.transmit as (data: Buffer, max: number) => unknown;
    this.#transmit = async (data, max) => transmit.call(raw, data, max);
    const close = raw.close as () => unknown;
    this.#close = () => void close.call(raw);

    const originalEmit = raw.emit.bind(raw);
    const patched = (event: unknown, ...args: unknown[]): boolean => {
      if (typeof event !== 'string' && typeof event !== 'symbol') {
        this.emit('hidden-error', asError(event));
        return true;
      }
      return originalEmit(event, ...args);
    };
    raw.emit = patched;

    raw.on('card', (card: unknown) => {
      const atrValue = isRecord(card) ? card.atr : undefined;
      const atr = atrValue instanceof Uint8Array ? new Uint8Array(atrValue) : undefined;
      const standard =
        isRecord(card) && card.standard === 'TAG_ISO_14443_3'
          ? 'TAG_ISO_14443_3'
          : 'TAG_ISO_14443_4';
      this.emit('card', { atr, standard });
    });
    raw.on('card.off', () => this.emit('card-off'));
    raw.on('error', (err: unknown) => this.emit('error', asError(err)));
    raw.on('end', () => this.emit('end'));
  }

  async transmit(apdu: Uint8Array, maxResponseLength: number): Promise<Uint8Array> {
    const response = await this.#transmit(Buffer.from(apdu), maxResponseLength);
    if (!(response instanceof Uint8Array)) throw new Error('transmit returned no bytes');
    return new Uint8Array(response);
  }

  /**
   * CardReader::Close (native) locks the reader's mutex, and the native status callback
   * holds that same mutex while it runs JavaScript – including the microtasks that run
   * when the callback returns. A close reached from a card event's promise chain would
   * deadlock the process, so the native close always runs in a later macrotask.
   */
  close(): Promise<void> {
    return deferred(this.#close);
  }
}

function deferred(fn: () => void): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(() => {
      try {
        fn();
      } catch {
        // Closing something already dead.
      }
      resolve();
    });
  });
}

class NfcWrapper extends EventEmitter<NfcEvents> implements NfcHandle {
  readonly #close: () => void;

  constructor(raw: EventEmitter, close: () => void) {
    super();
    this.#close = close;
    raw.on('reader', (reader: unknown) => {
      if (!isRawReader(reader)) {
        this.emit('error', new Error('nfc-pcsc reported a reader of unknown shape'));
        return;
      }
      this.emit('reader', new ReaderHandle(reader));
    });
    raw.on('error', (err: unknown) => this.emit('error', asError(err)));
  }

  /** Deferred like ReaderHandle.close, for the same reason. */
  close(): Promise<void> {
    return deferred(this.#close);
  }
}

/**
 * Wraps an nfc-pcsc `NFC` instance (or anything shaped like one: tests pass fakes with
 * the library's event behaviour) in the typed face.
 */
export function wrapNfcObject(raw: unknown): NfcHandle {
  if (!(raw instanceof EventEmitter) || !isRecord(raw) || typeof raw.close !== 'function') {
    throw new Error('nfc-pcsc NFC object has an unexpected shape');
  }
  const close = raw.close as () => unknown;
  return new NfcWrapper(raw, () => void close.call(raw));
}

/**
 * Loads nfc-pcsc lazily (its native half, @pokusew/pcsclite, links libpcsclite) and
 * returns a factory of typed NFC objects.
 */
export async function loadNfcPcsc(): Promise<NfcFactory> {
  const mod: unknown = await import('nfc-pcsc');
  const exportsObject = isRecord(mod) && isRecord(mod.default) ? mod.default : mod;
  const NfcClass = isRecord(exportsObject) ? exportsObject.NFC : undefined;
  if (typeof NfcClass !== 'function') throw new Error('nfc-pcsc does not export NFC');
  const Construct = NfcClass as new () => unknown;
  return () => wrapNfcObject(new Construct());
}
