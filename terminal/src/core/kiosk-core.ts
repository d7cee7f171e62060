import { EventEmitter } from 'node:events';
import type { CardReader, CardTechnology, ReaderError, TapRead } from '@clubcard/hardware';
import { AppError, MemoryEngineState } from '@clubcard/shared';
import type {
  CoreMessage,
  KioskState,
  ReaderState,
  ResidentExtras,
  TapOutcome,
} from '../bridge/kiosk-bridge.js';
import type { KioskStore } from '../store/kiosk-store.js';
import type { SyncClient } from '../sync/sync-client.js';
import {
  handleTapFlushLater,
  refusal,
  warmTapPath,
  type Authenticator,
  type TapPipelineDeps,
  type TapResult,
} from './tap-pipeline.js';

export interface KioskCoreDeps {
  store: KioskStore;
  reader: CardReader;
  sync: SyncClient;
  authenticate: Authenticator;
  /**
   * Runs once the card's UID is read, while its read goes on: the authentication's work
   * for that card rehearsed, nothing kept (see rehearseSunCheck). Default: nothing.
   */
  rehearseAuth?: (identifier: string, technology: CardTechnology) => void;
  now?: () => number;
  /**
   * The kiosk's provisional engine state, when something beside the tap path reads it
   * (the redemption step); otherwise the core keeps its own.
   */
  engine?: MemoryEngineState;
}

export interface KioskCoreEvents {
  message: [CoreMessage];
  /** Timing of one tap through the pipeline (for benchmarks and health). */
  'tap-timing': [TapTiming];
  /**
   * How long one rehearsal of a tap took (see #warm): it runs while the card answers, so
   * a rehearsal longer than the card's answer holds that answer up by the difference.
   */
  'warm-timing': [{ ms: number }];
}

/** One tap's timing (performance.now() milliseconds), from the reader's card event on. */
export interface TapTiming {
  detectedAt: number;
  notifiedAt: number;
  /** Time inside APDU exchanges during the card's read. */
  apduMs: number;
  recorded: boolean;
  /**
   * Where the time after the read went: `handledAt` when the pipeline returned (the
   * card authenticated, the visit decided and committed, the flush to disk started),
   * `messageAt` when the screen's message was made, `durableAt` when the flush was
   * done (null: nothing to wait for). The reader's share is `tapAt − detectedAt − apduMs`.
   */
  stages: { tapAt: number; handledAt: number; messageAt: number; durableAt: number | null };
}

/**
 * The kiosk core: wires a card reader to the tap pipeline, the store and the sync
 * client, and tells the UI what happened. Runs in Node, outside any renderer.
 */
export class KioskCore extends EventEmitter<KioskCoreEvents> {
  readonly #d: Required<KioskCoreDeps>;
  #reader: ReaderState = { status: 'no-reader', name: null, message: null };
  #lastResident: string | null = null;
  #offerTap: TapPipelineDeps['offerTap'] = null;
  #offerBlankCard: TapPipelineDeps['offerBlankCard'] = null;
  #extras: ((residentRef: string) => ResidentExtras) | null = null;

  constructor(deps: KioskCoreDeps) {
    super();
    // Provisional engine state from this kiosk's own taps (the backend's is authoritative).
    this.#d = {
      now: Date.now,
      engine: new MemoryEngineState(),
      rehearseAuth: () => undefined,
      ...deps,
    };
    const r = this.#d.reader;
    r.on('reader-attached', (info) =>
      this.#setReader({ status: 'ready', name: info.name, message: null }),
    );
    r.on('reader-detached', (info) =>
      this.#setReader({
        status: 'no-reader',
        name: info.name,
        message: 'Card reader disconnected',
      }),
    );
    r.on('error', (e: ReaderError) => this.#onReaderError(e));
    // While the card answers the reader (milliseconds), wake the disk for the commit, and
    // once its UID is known run the tap's lookups for it. Both after the reader has sent
    // its next command (setImmediate), so neither holds the card's read up.
    r.on('card-detected', () => setImmediate(() => this.#d.store.primeDisk()));
    r.on('card-identified', (c) => setImmediate(() => this.#warm(c.identifier, c.technology)));
    r.on('tap', (t) => {
      void this.tap(t);
    });
    this.#d.sync.on('state', () => this.#emitState());
    this.#d.sync.on('balances', (refs) => {
      if (this.#lastResident && refs.includes(this.#lastResident)) {
        this.#send({
          type: 'balances',
          update: {
            residentRef: this.#lastResident,
            balances: this.#d.store.balancesFor(this.#lastResident),
          },
        });
      }
    });
  }

  async start(): Promise<void> {
    await this.#d.reader.start();
    this.#d.sync.start();
    this.#emitState();
  }

  async stop(): Promise<void> {
    await this.#d.sync.stop();
    await this.#d.reader.stop();
  }

  /**
   * Where authenticated cards are offered before they count as visits (the screen
   * services: staff cards, an enrolment desk's new card). Null: every card is a visit.
   */
  setTapOffer(offer: TapPipelineDeps['offerTap']): void {
    this.#offerTap = offer;
  }

  /**
   * Where a blank NTAG 424 DNA is offered before it is judged (an enrolment desk's
   * personalisation). Null, as on every kiosk that is not an enrolment desk: a blank card
   * is judged like any other card.
   */
  setBlankCardOffer(offer: TapPipelineDeps['offerBlankCard']): void {
    this.#offerBlankCard = offer;
  }

  /**
   * What the screen shows beside a recorded tap (the screen services' extras: spending,
   * an offer, a queue number), made while the tap's record is flushed to disk. Null: the
   * message goes without, and whoever relays it may add them.
   */
  setScreenExtras(extras: ((residentRef: string) => ResidentExtras) | null): void {
    this.#extras = extras;
  }

  /**
   * Handles one tap. The record is committed at once and flushed to disk in the thread
   * pool while the screen's message is made; the answer is shown, and returned, only
   * once the record is on disk. A flush that fails turns the answer into a refusal. A tap
   * that records nothing, or whose record SQLite flushed itself (inside a caller's
   * transaction, a store in memory), is shown before this returns.
   */
  async tap(t: TapRead): Promise<TapResult> {
    const tapAt = performance.now();
    let outcome: TapResult;
    let durable: Promise<void> | null = null;
    try {
      ({ result: outcome, durable } = handleTapFlushLater(
        {
          store: this.#d.store,
          identity: () => this.#d.store.identity(),
          authenticate: this.#d.authenticate,
          now: this.#d.now,
          engine: this.#d.engine,
          offerTap: this.#offerTap,
          offerBlankCard: this.#offerBlankCard,
        },
        t,
      ));
    } catch {
      outcome = refusal('reader-error');
    }
    const handledAt = performance.now();
    // A card taken by staff mode or the desk is not the resident screen's business.
    let message: CoreMessage | null = outcome.kind === 'taken' ? null : this.#outcome(outcome);
    const messageAt = performance.now();
    let durableAt: number | null = null;
    if (durable !== null) {
      try {
        await durable;
        durableAt = performance.now();
      } catch (e) {
        // Committed, but perhaps not on disk: the resident is not told it counted.
        outcome = refusal(e instanceof AppError ? e.code : 'storage-error');
        message = { type: 'outcome', outcome };
      }
    }
    if (outcome.kind === 'recorded') this.#lastResident = outcome.residentRef;
    if (message !== null) this.#send(message);
    // Committed and the UI told: the end of the span the tap benchmark measures.
    const notifiedAt = performance.now();
    this.emit('tap-timing', {
      detectedAt: t.detectedAt,
      notifiedAt,
      apduMs: t.apduMs,
      recorded: outcome.kind === 'recorded',
      stages: { tapAt, handledAt, messageAt, durableAt },
    });
    if (outcome.kind === 'recorded') this.#d.sync.touch();
    return outcome;
  }

  /**
   * A rehearsal of the tap for a card being read (its authentication and warmTapPath),
   * run in the time the card takes to answer the reader's next commands; a hint only, so
   * a failure is left to the tap.
   */
  #warm(identifier: string, technology: CardTechnology): void {
    const started = performance.now();
    try {
      this.#d.rehearseAuth(identifier, technology);
      warmTapPath(
        {
          store: this.#d.store,
          identity: () => this.#d.store.identity(),
          engine: this.#d.engine,
          now: this.#d.now,
        },
        identifier,
      );
    } catch {
      // The tap reads the same again and reports what it finds.
    }
    this.emit('warm-timing', { ms: performance.now() - started });
  }

  /** The UI message for a tap's outcome, with the screen's extras for a recorded one. */
  #outcome(outcome: TapOutcome): CoreMessage {
    if (outcome.kind !== 'recorded' || this.#extras === null) return { type: 'outcome', outcome };
    try {
      return { type: 'outcome', outcome, resident: this.#extras(outcome.residentRef) };
    } catch {
      // Left to whoever relays the message (the screen services try again there).
      return { type: 'outcome', outcome };
    }
  }

  #onReaderError(e: ReaderError): void {
    if (e.code === 'reader-disconnected' || e.code === 'service-unavailable') {
      this.#setReader({ status: 'error', name: e.readerName ?? null, message: e.message });
    }
    if (
      e.code === 'card-removed-mid-read' ||
      e.code === 'card-unreadable' ||
      e.code === 'reader-error'
    ) {
      this.#send({ type: 'outcome', outcome: refusal('reader-error') });
    }
  }

  #setReader(s: ReaderState): void {
    this.#reader = s;
    this.#emitState();
  }

  state(): KioskState {
    const id = this.#d.store.identity();
    return {
      provisioned: id !== null,
      kioskId: id?.kioskId ?? null,
      venueName: id ? (this.#d.store.getVenue(id.venueId)?.name ?? null) : null,
      serviceName: id ? (this.#d.store.getService(id.serviceId)?.name ?? null) : null,
      reader: this.#reader,
      sync: this.#d.sync.state(),
    };
  }

  syncNow(): void {
    this.#d.sync.nudge();
  }

  #emitState(): void {
    this.#send({ type: 'state', state: this.state() });
  }

  #send(m: CoreMessage): void {
    this.emit('message', m);
  }
}
