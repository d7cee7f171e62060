import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { CardReader, CardReaderEvents, CardTechnology, ReaderInfo } from '../port.js';

/**
 * A reader that taps cards on request: for the demo, tests and benchmarks. What may
 * call `tap()` from outside the process is decided by the kiosk's demo configuration
 * (localhost only, with a token), never by this adapter.
 */
export class SimulatedReader extends EventEmitter<CardReaderEvents> implements CardReader {
  readonly #info: ReaderInfo;
  #started = false;

  constructor(name = 'Simulated reader') {
    super();
    this.#info = { name, adapter: 'simulated' };
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.emit('reader-attached', this.#info);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.emit('reader-detached', this.#info);
  }

  readers(): ReaderInfo[] {
    return this.#started ? [this.#info] : [];
  }

  /** Presents a card with this UID; returns false when the reader is not running. */
  tap(uid: string, technology: CardTechnology = 'simulated'): boolean {
    if (!this.#started) return false;
    if (!/^([0-9A-F]{2}){4,10}$/.test(uid))
      throw new Error('UID must be 4 to 10 bytes of uppercase hex');
    this.emit('tap', {
      readerName: this.#info.name,
      technology,
      identifier: uid,
      proof: { kind: 'none' },
      detectedAt: performance.now(),
      apduMs: 0,
    });
    this.emit('card-removed', { readerName: this.#info.name });
    return true;
  }

  /** Simulates a reader fault, as a real adapter would report it. */
  fail(code: 'reader-disconnected' | 'reader-error', message: string): void {
    this.emit('error', { code, readerName: this.#info.name, message });
  }
}
