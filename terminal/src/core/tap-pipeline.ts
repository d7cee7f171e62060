import {
  AppError,
  cardHashOf,
  evaluate,
  type EngineResult,
  type MemoryEngineState,
  newEventId,
  type CardAuth,
  type CardHash,
  type ErrorCode,
  type KioskEvent,
  type LedgerLine,
} from '@clubcard/shared';
import type { TapRead } from '@clubcard/hardware';
import type { TapOutcome } from '../bridge/kiosk-bridge.js';
import type {
  KioskIdentity,
  KioskStore,
  LocalCard,
  LocalService,
  LocalVenue,
} from '../store/kiosk-store.js';
import { kioskContext } from './evaluation-context.js';

export type AuthResult = { ok: true; uid: string; auth: CardAuth } | { ok: false; code: ErrorCode };

/** The authenticate step: proves the card genuine (or applies the legacy policy). */
export type Authenticator = (tap: TapRead, venue: LocalVenue) => AuthResult;

const REFUSAL_MESSAGES: Partial<Record<ErrorCode, string>> = {
  'card-not-registered': 'This card is not registered.',
  'card-blocked': 'This card has been blocked. Please ask a member of staff.',
  'card-not-genuine': 'This card could not be verified.',
  'card-replayed': 'This card message has been used before. Please tap your own card again.',
  'uid-only-not-allowed': 'This kind of card is not accepted here.',
  'storage-full': 'Sorry, this kiosk cannot record visits right now. Please ask a member of staff.',
  'storage-error':
    'Sorry, this kiosk cannot record visits right now. Please ask a member of staff.',
  'reader-error': 'The card could not be read. Please try again.',
};

export function refusal(code: ErrorCode): TapOutcome {
  return {
    kind: 'refused',
    code,
    message: REFUSAL_MESSAGES[code] ?? 'Sorry, something went wrong.',
  };
}

export interface TapPipelineDeps {
  store: KioskStore;
  identity: () => KioskIdentity | null;
  authenticate: Authenticator;
  now: () => number;
  /**
   * The kiosk's provisional copy of the engine state: what its own taps have used of
   * limits and budgets. The backend's answer is authoritative and replaces the lines.
   */
  engine: MemoryEngineState;
  /**
   * Offered every authenticated card before it counts as a resident's visit (the screen
   * services' offerTap): true when it was taken there — a staff card, or the new card an
   * enrolment desk is waiting for — and so is not a visit.
   */
  offerTap?: ((cardHash: CardHash, auth: CardAuth) => boolean) | null;
  /**
   * Offered an NTAG 424 DNA that is blank (reads without SUN), or may be one a desk left
   * half-made (its SUN does not verify, or it verifies but no card of ours is bound to
   * it), before it is judged: true when an enrolment desk waiting for a new card took it
   * to personalise it, or finish doing so (it is then not a visit). The personaliser
   * refuses, writing nothing, a card whose keys are not factory or ours. Only an
   * enrolment desk sets it.
   */
  offerBlankCard?: ((tap: TapRead) => boolean) | null;
}

/** A tap taken by the screen services instead of the pipeline: nothing is recorded. */
export interface TakenTap {
  kind: 'taken';
}

/** What one tap came to: the resident's answer, or taken by staff mode or the desk. */
export type TapResult = TapOutcome | TakenTap;

/** A tap's answer, and when its record is on disk (tell the resident only then). */
export interface TapHandled {
  result: TapResult;
  /** Settles when the record is on disk; null: on disk already, or nothing recorded. */
  durable: Promise<void> | null;
}

/**
 * One tap: authenticate → resolve → decide → record (ONE transaction) → tell.
 * Never waits for the network. Returns the answer for the resident, committed and on disk.
 */
export function handleTap(deps: TapPipelineDeps, tap: TapRead): TapResult {
  return runTap(deps, tap, false).result;
}

/**
 * handleTap, with the record's flush to disk left running (KioskStore.appendEventFlushLater):
 * the caller prepares what it shows meanwhile, and shows it once `durable` settles.
 */
export function handleTapFlushLater(deps: TapPipelineDeps, tap: TapRead): TapHandled {
  return runTap(deps, tap, true);
}

function runTap(deps: TapPipelineDeps, tap: TapRead, flushLater: boolean): TapHandled {
  const done = (result: TapResult): TapHandled => ({ result, durable: null });
  const id = deps.identity();
  if (!id) return done(refusal('reader-error'));
  const venue = deps.store.getVenue(id.venueId);
  const service = deps.store.getService(id.serviceId);
  if (!venue || !service) return done(refusal('reader-error'));

  // An NTAG 424 an enrolment desk may personalise, or finish personalising: taken there
  // (when the desk waits for a new card) before it is judged as a visit.
  const toDesk = (): boolean => tap.technology === 'ntag424' && deps.offerBlankCard?.(tap) === true;

  // Blank (reads without SUN), before the venue's policy refuses it.
  if (tap.proof.kind === 'none' && toDesk()) return done({ kind: 'taken' });

  const auth = deps.authenticate(tap, venue);
  if (!auth.ok) {
    // Taken off the reader after SUN was switched on but before its read keys were set.
    if (auth.code === 'card-not-genuine' && toDesk()) return done({ kind: 'taken' });
    return done(refusal(auth.code));
  }

  const cardHash = cardHashOf(id.cardHashKey, auth.uid);
  const card = deps.store.getCard(cardHash);
  // Genuine but bound to no one here: taken off the reader after its read keys were set
  // (before key 0, or during the read-back). Binding it is refused here and at the
  // backend if it was issued after all.
  if (!card && auth.auth.method === 'sun' && toDesk()) return done({ kind: 'taken' });
  if (deps.offerTap?.(cardHash, auth.auth)) return done({ kind: 'taken' });
  if (!card) return done(refusal('card-not-registered'));
  if (card.status === 'blocked') return done(refusal('card-blocked'));

  let recorded: Recorded;
  try {
    recorded = recordVisit(
      deps,
      {
        kioskId: id.kioskId,
        venue,
        service,
        card,
        auth: auth.auth,
        assisted: false,
      },
      flushLater,
    );
  } catch (e) {
    if (e instanceof AppError) return done(refusal(e.code));
    return done(refusal('storage-error'));
  }

  const result: TapResult = {
    kind: 'recorded',
    eventId: recorded.event.id,
    seq: recorded.event.seq,
    residentRef: card.residentRef,
    firstName: card.firstName,
    serviceName: service.name,
    venueName: venue.name,
    authMethod: auth.auth.method,
    earned: recorded.earned,
    balances: deps.store.balancesFor(card.residentRef),
  };
  return { result, durable: recorded.durable };
}

/**
 * A rehearsal of a tap, for a card whose UID has been read while the rest of its read
 * goes on: the lookups, and the visit's transaction rolled back (the engine's
 * evaluation, the statements and the pages they touch), run once so that the tap finds
 * them warm (in the caches, the runtime's and SQLite's) a few milliseconds later. Nothing
 * is kept and nothing written: the tap reads it all again, so nothing read here can be
 * out of date there. After an idle spell, the same work runs several times slower cold.
 */
export function warmTapPath(
  deps: Pick<TapPipelineDeps, 'store' | 'identity' | 'engine' | 'now'>,
  identifier: string,
): void {
  const id = deps.identity();
  if (!id) return;
  const cardHash = cardHashOf(id.cardHashKey, identifier.toUpperCase());
  // What the card's authentication reads (replay counter, whether it must prove itself).
  deps.store.highestCounter(cardHash);
  deps.store.requiresProof(cardHash);
  const card = deps.store.getCard(cardHash);
  if (!card || card.status === 'blocked') return;
  const venue = deps.store.getVenue(id.venueId);
  const service = deps.store.getService(id.serviceId);
  if (!venue || !service) return;
  // The visit's transaction, rolled back: the engine's evaluation, the statements and the
  // pages they touch, as the tap will run them.
  const { build } = visitWrites(deps, {
    kioskId: id.kioskId,
    venue,
    service,
    card,
    auth: { method: 'uid-only', keyVersion: null, counter: null },
    assisted: false,
  });
  deps.store.rehearseAppend(build);
  deps.store.balancesFor(card.residentRef);
}

/** What recordVisit recorded. */
export interface Recorded {
  event: KioskEvent;
  earned: { wallet: string; amount: number }[];
  /** Settles when the record is on disk; null: on disk already. */
  durable: Promise<void> | null;
}

/** What recordVisit is told of the visit. */
interface VisitFacts {
  kioskId: string;
  venue: LocalVenue;
  service: LocalService;
  /** The age band is the fallback for a resident the store holds no card row of. */
  card: Pick<LocalCard, 'cardHash' | 'residentRef' | 'ageBand'>;
  auth: CardAuth;
  assisted: boolean;
}

/**
 * The writes of one visit's transaction: the event, evaluated by the engine on what this
 * kiosk knows, and its provisional lines. `evaluated` holds the engine's result once
 * `build` has run.
 */
function visitWrites(
  deps: Pick<TapPipelineDeps, 'store' | 'now' | 'engine'>,
  v: VisitFacts,
): {
  build: (seq: number) => { event: KioskEvent; lines: LedgerLine[] };
  evaluated: { result: EngineResult | null };
} {
  const schemes = deps.store.listSchemes();
  const occurredAt = new Date(deps.now()).toISOString();
  const eventId = newEventId();
  const evaluated: { result: EngineResult | null } = { result: null };
  // The resident's categories and consents as pulled (whichever of their cards this is).
  const resident = {
    residentRef: v.card.residentRef,
    ...(deps.store.eligibilityOf(v.card.residentRef) ?? {
      ageBand: v.card.ageBand,
      categories: [],
      consents: [],
    }),
  };
  const build = (seq: number): { event: KioskEvent; lines: LedgerLine[] } => {
    const event: KioskEvent = {
      id: eventId,
      kioskId: v.kioskId as KioskEvent['kioskId'],
      seq,
      occurredAt,
      venueId: v.venue.id as KioskEvent['venueId'],
      type: 'visit',
      cardHash: v.card.cardHash as KioskEvent['cardHash'],
      residentRef: v.card.residentRef as KioskEvent['residentRef'],
      serviceId: v.service.id as KioskEvent['serviceId'],
      auth: v.auth,
      assisted: v.assisted,
    };
    const result = evaluate(
      deps.engine,
      event,
      kioskContext(v.venue, v.service, resident),
      schemes,
    );
    evaluated.result = result;
    return { event, lines: result.lines };
  };
  return { build, evaluated };
}

/**
 * Records one visit: the event into the outbox with its provisional lines (the same
 * engine as the backend, on what this kiosk knows), in ONE transaction; only once it is
 * committed does the provisional engine state move on. Throws AppError (storage).
 */
export function recordVisit(
  deps: Pick<TapPipelineDeps, 'store' | 'now' | 'engine'>,
  v: VisitFacts,
  /** Leave the flush to disk running (see KioskStore.appendEventFlushLater). */
  flushLater = false,
): Recorded {
  const { build, evaluated } = visitWrites(deps, v);
  const out = flushLater
    ? deps.store.appendEventFlushLater(build)
    : { ...deps.store.appendEvent(build), durable: null };
  if (evaluated.result) deps.engine.apply(evaluated.result.stateDelta);
  return {
    event: out.event,
    earned: out.lines.map((l) => ({ wallet: l.wallet, amount: l.amount })),
    durable: out.durable,
  };
}
