import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ApduChannel,
  ApduChannelSource,
  CardProof,
  CardReader,
  CardReaderEvents,
  CardTechnology,
  ReaderErrorCode,
  ReaderInfo,
} from '../port.js';
import {
  CardProtocolError,
  readType2Header,
  readType4Sun,
  readUid,
  TruncatedResponseError,
  type Transmit,
} from './card-reads.js';
import {
  loadNfcPcsc,
  type NfcCardEvent,
  type NfcFactory,
  type NfcHandle,
  type NfcReaderHandle,
} from './nfc-pcsc-binding.js';
import { pcscServiceAvailable } from './pcsc-service.js';
import { DEFAULT_SUN_URL_LAYOUT, type SunUrlLayout } from './sun-url.js';

export interface PcscReaderOptions {
  /** Supplies NFC objects; defaults to the real nfc-pcsc, loaded on start(). */
  loadNfc?: () => Promise<NfcFactory>;
  /** Whether pcscd is reachable; defaults to probing its client socket. */
  serviceAvailable?: () => Promise<boolean>;
  /** Which readers to use (default: all). */
  readerFilter?: (name: string) => boolean;
  /** Reconnect backoff after pcscd went away: first and longest wait (250 ms, 5 s). */
  retry?: { initialMs?: number; maxMs?: number };
  /** An APDU not answered within this is a failed read (default 3000 ms). */
  transmitTimeoutMs?: number;
  /**
   * After an exchange fails, how long to wait for pcscd to report the card gone before
   * calling the card unreadable rather than pulled away. pcscd polls about every 400 ms.
   */
  removalGraceMs?: number;
  /** Where the SUN values sit in the card's URL. */
  sunLayout?: SunUrlLayout;
  /** Largest Le per READ BINARY on ISO 14443-4 cards (default 255). */
  maxLe?: number;
}

/** Thrown by a channel or read whose card has left the field. */
export class CardGoneError extends Error {
  override readonly name = 'CardGoneError';
}

class TransmitTimeoutError extends Error {
  override readonly name = 'TransmitTimeoutError';
}

/** pcsclite error codes meaning the daemon itself is gone, not just one reader. */
const SERVICE_GONE = /0x80100013|0x8010001D|0x8010001E|0x80100002/i;

/** One card's stay in the field. */
interface CardSession {
  readonly atr: Uint8Array | undefined;
  readonly technology: CardTechnology;
  readonly detectedAt: number;
  /** Set once the card left, or the reader or service went away. */
  lost: 'removed' | 'detached' | undefined;
  readonly removed: Promise<void>;
  markLost(why: 'removed' | 'detached'): void;
  /** Serialises the adapter's read and channel users: one APDU at a time per card. */
  queue: Promise<unknown>;
  /** Resolves when the arrival read has settled (tap or error emitted). */
  readDone: Promise<void>;
  /** A transmit timed out: the connection may still be busy with it. */
  stalled: boolean;
}

interface ReaderSlot {
  readonly info: ReaderInfo;
  readonly handle: NfcReaderHandle;
  session: CardSession | undefined;
  /** card-off listeners for classifying failures without a session (connect failed). */
  readonly cardOff: EventEmitter<{ off: [] }>;
}

function technologyFor(card: NfcCardEvent): CardTechnology {
  // nfc-pcsc's split (ATR byte 5 = 4Fh → ISO 14443-3, PC/SC part 3 §3.1.3.2.3 storage
  // card ATR) is ours too: -3 cards here are NTAG 21x; -4 cards are read as NTAG 424.
  return card.standard === 'TAG_ISO_14443_3' ? 'ntag21x' : 'ntag424';
}

/**
 * The PC/SC adapter: pcscd → @pokusew/pcsclite → nfc-pcsc → CardReader events.
 *
 * - ISO 14443-3 cards (NTAG 21x): UID by GET DATA, pages 0–3 by READ BINARY (PC/SC
 *   part 3), tap with technology 'ntag21x' and proof none: the UID is all there is.
 * - ISO 14443-4 cards (NTAG 424 DNA): the Type 4 NDEF read, SUN values parsed from the
 *   URL into proof {kind: 'sun'}; a blank card (no SUN) taps with proof none.
 * - A card that leaves during the read gives error 'card-removed-mid-read' and no tap.
 * - pcscd going away gives 'reader-detached' for each reader and error
 *   'service-unavailable'; the adapter then reconnects with backoff and re-attaches.
 *
 * It never logs, and its error messages never contain UIDs (personal data).
 */
export class PcscCardReader
  extends EventEmitter<CardReaderEvents>
  implements CardReader, ApduChannelSource
{
  readonly #options: Required<Omit<PcscReaderOptions, 'retry'>> & {
    retryInitialMs: number;
    retryMaxMs: number;
  };
  #factory: NfcFactory | undefined;
  #nfc: NfcHandle | undefined;
  #slots = new Map<string, ReaderSlot>();
  #running = false;
  /** Bumped whenever the NFC object is replaced: events of older ones are ignored. */
  #generation = 0;
  #recovery: AbortController | undefined;
  /** Native closes in flight (they run in a later macrotask). */
  #closing = new Set<Promise<void>>();

  constructor(options: PcscReaderOptions = {}) {
    super();
    this.#options = {
      loadNfc: options.loadNfc ?? loadNfcPcsc,
      serviceAvailable: options.serviceAvailable ?? (() => pcscServiceAvailable()),
      readerFilter: options.readerFilter ?? (() => true),
      transmitTimeoutMs: options.transmitTimeoutMs ?? 3000,
      removalGraceMs: options.removalGraceMs ?? 1200,
      sunLayout: options.sunLayout ?? DEFAULT_SUN_URL_LAYOUT,
      maxLe: options.maxLe ?? 0xff,
      retryInitialMs: options.retry?.initialMs ?? 250,
      retryMaxMs: options.retry?.maxMs ?? 5000,
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      this.#factory = await this.#options.loadNfc();
    } catch (err) {
      this.#running = false;
      this.#fail('service-unavailable', `PC/SC library unavailable: ${messageOf(err)}`);
      return;
    }
    if (!(await this.#connect())) this.#startRecovery('pcscd is not running');
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#recovery?.abort();
    this.#recovery = undefined;
    this.#teardown();
    await Promise.all(this.#closing);
  }

  readers(): ReaderInfo[] {
    return [...this.#slots.values()].map((s) => s.info);
  }

  /**
   * A raw APDU channel to the card present in `readerName` (or in the first reader that
   * has a card). It waits for the adapter's own arrival read to finish, then shares the
   * card one APDU at a time; it closes when the card leaves.
   */
  channel(readerName?: string): ApduChannel | undefined {
    const slot = readerName
      ? this.#slots.get(readerName)
      : [...this.#slots.values()].find((s) => s.session && !s.session.lost);
    const session = slot?.session;
    if (!slot || !session || session.lost) return undefined;
    const transmit = this.#sessionTransmit(slot, session);
    return {
      readerName: slot.info.name,
      technology: session.technology,
      get open() {
        return !session.lost && !session.stalled;
      },
      transmit: (apdu) => {
        // Chain on the queue as it is now (it starts with the arrival read).
        const run = session.queue.then(() => transmit(apdu));
        session.queue = run.catch(() => undefined);
        return run;
      },
    };
  }

  /** Creates the NFC object if pcscd is reachable. */
  async #connect(): Promise<boolean> {
    if (!this.#running || !this.#factory) return false;
    if (!(await this.#options.serviceAvailable())) return false;
    if (!this.#running) return false;
    let nfc: NfcHandle;
    try {
      nfc = this.#factory();
    } catch {
      return false;
    }
    const generation = ++this.#generation;
    this.#nfc = nfc;
    nfc.on('reader', (reader) => {
      if (generation !== this.#generation) {
        void reader.close();
        return;
      }
      this.#attach(generation, reader);
    });
    nfc.on('error', (err) => this.#serviceLost(generation, err));
    return true;
  }

  #attach(generation: number, handle: NfcReaderHandle): void {
    if (!this.#options.readerFilter(handle.name)) {
      // Still listen: an 'error' without a listener would crash the process.
      handle.on('error', () => undefined);
      return;
    }
    const slot: ReaderSlot = {
      info: { name: handle.name, adapter: 'pcsc' },
      handle,
      session: undefined,
      cardOff: new EventEmitter(),
    };
    this.#slots.set(handle.name, slot);
    const current = (): boolean =>
      generation === this.#generation && this.#slots.get(handle.name) === slot;

    handle.on('card', (card) => {
      if (current()) this.#onCard(slot, card);
    });
    handle.on('card-off', () => {
      if (current()) this.#onCardOff(slot);
    });
    handle.on('hidden-error', (err) => {
      if (current()) void this.#onHiddenError(slot, err);
    });
    handle.on('error', (err) => {
      if (!current()) return;
      if (SERVICE_GONE.test(err.message)) this.#serviceLost(generation, err);
      // Other reader errors end its status thread; 'end' follows and detaches it.
    });
    handle.on('end', () => {
      if (!current()) return;
      this.#detach(slot);
      this.#fail('reader-disconnected', 'card reader disconnected', slot.info.name);
    });
    this.emit('reader-attached', slot.info);
  }

  #detach(slot: ReaderSlot): void {
    this.#slots.delete(slot.info.name);
    const session = slot.session;
    if (session && !session.lost) {
      session.markLost('detached');
      void session.readDone.then(() => this.emit('card-removed', { readerName: slot.info.name }));
    }
    this.#track(slot.handle.close());
    this.emit('reader-detached', slot.info);
  }

  #onCard(slot: ReaderSlot, card: NfcCardEvent): void {
    const detectedAt = performance.now();
    slot.session?.markLost('removed');
    let markLost: (why: 'removed' | 'detached') => void = () => undefined;
    const removed = new Promise<void>((resolve) => {
      markLost = (why) => {
        if (!session.lost) session.lost = why;
        resolve();
      };
    });
    const session: CardSession = {
      atr: card.atr,
      technology: technologyFor(card),
      detectedAt,
      lost: undefined,
      removed,
      markLost: (why) => markLost(why),
      queue: Promise.resolve(),
      readDone: Promise.resolve(),
      stalled: false,
    };
    slot.session = session;
    this.emit('card-detected', { readerName: slot.info.name });
    const read = this.#readCard(slot, session);
    session.readDone = read;
    session.queue = read.catch(() => undefined);
  }

  #onCardOff(slot: ReaderSlot): void {
    slot.cardOff.emit('off');
    const session = slot.session;
    if (!session) {
      this.emit('card-removed', { readerName: slot.info.name });
      return;
    }
    slot.session = undefined;
    session.markLost('removed');
    // Report the removal after the arrival read settled: tap/error first, then removal.
    void session.readDone.then(() => this.emit('card-removed', { readerName: slot.info.name }));
  }

  /** nfc-pcsc's `emit(err)`: the connect on card arrival failed. */
  async #onHiddenError(slot: ReaderSlot, err: Error): Promise<void> {
    // Disconnect failures come after the card has gone; nothing to tell the user.
    if (err.name === 'DisconnectError') return;
    const gone = await this.#cardOffWithin(slot, this.#options.removalGraceMs);
    if (gone) {
      this.#fail(
        'card-removed-mid-read',
        'card left the field before it could be read',
        slot.info.name,
      );
    } else {
      this.#fail(
        'card-unreadable',
        `could not connect to the card: ${err.message}`,
        slot.info.name,
      );
    }
  }

  #cardOffWithin(slot: ReaderSlot, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.cardOff.off('off', onOff);
        resolve(false);
      }, ms);
      const onOff = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      slot.cardOff.once('off', onOff);
    });
  }

  async #readCard(slot: ReaderSlot, session: CardSession): Promise<void> {
    let apduMs = 0;
    const raw = this.#sessionTransmit(slot, session);
    const transmit: Transmit = async (apdu) => {
      const t0 = performance.now();
      try {
        return await raw(apdu);
      } finally {
        apduMs += performance.now() - t0;
      }
    };
    try {
      const identifier = await readUid(transmit);
      this.emit('card-identified', {
        readerName: slot.info.name,
        technology: session.technology,
        identifier,
      });
      let proof: CardProof = { kind: 'none' };
      if (session.technology === 'ntag21x') {
        await readType2Header(transmit, identifier);
      } else {
        const result = await readType4Sun(transmit, this.#options.sunLayout, {
          maxLe: this.#options.maxLe,
        });
        if (result.kind === 'sun') proof = result.proof;
      }
      this.emit('tap', {
        readerName: slot.info.name,
        technology: session.technology,
        identifier,
        proof,
        detectedAt: session.detectedAt,
        apduMs,
      });
    } catch (err) {
      await this.#readFailed(slot, session, err);
    }
  }

  async #readFailed(slot: ReaderSlot, session: CardSession, err: unknown): Promise<void> {
    const readerName = slot.info.name;
    if (detached(session)) return; // reader-detached / service error said it all
    if (err instanceof CardProtocolError && !(err instanceof TruncatedResponseError)) {
      this.#fail('card-unreadable', `card answered unexpectedly: ${err.message}`, readerName);
      return;
    }
    // A transport failure: the card left mid-read, or it is present but not answering.
    // pcscd notices removal on its next poll, so give it a moment to tell us.
    const removed = await Promise.race([
      session.removed.then(() => true),
      sleep(this.#options.removalGraceMs).then(() => false),
    ]);
    if (detached(session)) return;
    if (removed) {
      this.#fail('card-removed-mid-read', 'card left the field during the read', readerName);
    } else if (err instanceof TransmitTimeoutError) {
      this.#fail('card-unreadable', 'card did not answer in time', readerName);
    } else if (err instanceof CardProtocolError) {
      this.#fail('card-unreadable', `card answered unexpectedly: ${err.message}`, readerName);
    } else {
      this.#fail('card-unreadable', `card exchange failed: ${messageOf(err)}`, readerName);
    }
  }

  /** transmit bound to one card session, with a timeout; never shared across cards. */
  #sessionTransmit(slot: ReaderSlot, session: CardSession): Transmit {
    return async (apdu) => {
      if (session.lost) throw new CardGoneError('card has left the field');
      if (session.stalled) throw new CardGoneError('card connection is stalled');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          session.stalled = true;
          reject(new TransmitTimeoutError('card did not answer in time'));
        }, this.#options.transmitTimeoutMs);
      });
      try {
        // 256 data bytes + SW1 SW2: the largest short-APDU response.
        return await Promise.race([slot.handle.transmit(apdu, 258), timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
  }

  #serviceLost(generation: number, err: Error): void {
    if (generation !== this.#generation || !this.#running) return;
    this.#teardown();
    this.#startRecovery(`PC/SC service lost: ${err.message}`);
  }

  /** Drops the NFC object and every reader (reporting them detached). */
  #teardown(): void {
    this.#generation++;
    for (const slot of [...this.#slots.values()]) this.#detach(slot);
    const nfc = this.#nfc;
    this.#nfc = undefined;
    if (nfc) {
      nfc.on('error', () => undefined);
      this.#track(nfc.close());
    }
  }

  #track(closing: Promise<void>): void {
    this.#closing.add(closing);
    void closing.then(() => this.#closing.delete(closing));
  }

  #startRecovery(reason: string): void {
    this.#fail('service-unavailable', reason);
    if (this.#recovery || !this.#running) return;
    const abort = new AbortController();
    this.#recovery = abort;
    void (async () => {
      let wait = this.#options.retryInitialMs;
      while (!abort.signal.aborted) {
        try {
          await sleep(wait, undefined, { signal: abort.signal });
        } catch {
          return;
        }
        if (await this.#connect()) break;
        wait = Math.min(wait * 2, this.#options.retryMaxMs);
      }
      if (this.#recovery === abort) this.#recovery = undefined;
    })();
  }

  #fail(code: ReaderErrorCode, message: string, readerName?: string): void {
    // EventEmitter throws on an unheard 'error'; a reader problem must never crash.
    if (this.listenerCount('error') === 0) return;
    this.emit('error', { code, message, ...(readerName ? { readerName } : {}) });
  }
}

/** A function, not an inline test: `lost` changes across awaits, beyond TS's narrowing. */
function detached(session: CardSession): boolean {
  return session.lost === 'detached';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
