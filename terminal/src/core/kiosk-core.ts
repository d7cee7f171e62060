import { EventEmitter } from 'node:events';
import type { CardReader, ReaderError, TapRead } from '@clubcard/hardware';
import { MemoryEngineState } from '@clubcard/shared';
import type { CoreMessage, KioskState, ReaderState } from '../bridge/kiosk-bridge.js';
import type { KioskStore } from '../store/kiosk-store.js';
import type { SyncClient } from '../sync/sync-client.js';
import {
  handleTap,
  refusal,
  type Authenticator,
  type TapPipelineDeps,
  type TapResult,
} from './tap-pipeline.js';

export interface KioskCoreDeps {
  store: KioskStore;
  reader: CardReader;
  sync: SyncClient;
  authenticate: Authenticator;
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
  'tap-timing': [{ detectedAt: number; notifiedAt: number; apduMs: number; recorded: boolean }];
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

  constructor(deps: KioskCoreDeps) {
    super();
    // Provisional engine state from this kiosk's own taps (the backend's is authoritative).
    this.#d = { now: Date.now, engine: new MemoryEngineState(), ...deps };
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
    // While the card answers the reader (milliseconds), wake the disk for the commit.
    r.on('card-detected', () => this.#d.store.primeDisk());
    r.on('tap', (t) => {
      this.tap(t);
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

  /** Handles one tap; the answer is committed before it is returned or shown. */
  tap(t: TapRead): TapResult {
    let outcome: TapResult;
    try {
      outcome = handleTap(
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
      );
    } catch {
      outcome = refusal('reader-error');
    }
    if (outcome.kind === 'recorded') this.#lastResident = outcome.residentRef;
    // A card taken by staff mode or the desk is not the resident screen's business.
    if (outcome.kind !== 'taken') this.#send({ type: 'outcome', outcome });
    // Committed and the UI told: the end of the span the tap benchmark measures.
    const notifiedAt = performance.now();
    this.emit('tap-timing', {
      detectedAt: t.detectedAt,
      notifiedAt,
      apduMs: t.apduMs,
      recorded: outcome.kind === 'recorded',
    });
    if (outcome.kind === 'recorded') this.#d.sync.touch();
    return outcome;
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
