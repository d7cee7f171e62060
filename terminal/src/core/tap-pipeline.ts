import {
  AppError,
  cardHashOf,
  evaluate,
  type EngineResult,
  type MemoryEngineState,
  type ProfileAgeBand,
  type VenueType,
  newEventId,
  type CardAuth,
  type ErrorCode,
  type KioskEvent,
  type ServiceKind,
} from '@clubcard/shared';
import type { TapRead } from '@clubcard/hardware';
import type { TapOutcome } from '../bridge/kiosk-bridge.js';
import type { KioskIdentity, KioskStore, LocalVenue } from '../store/kiosk-store.js';

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
}

/**
 * One tap: authenticate → resolve → decide → record (ONE transaction) → tell.
 * Never waits for the network. Returns the answer for the resident.
 */
export function handleTap(deps: TapPipelineDeps, tap: TapRead): TapOutcome {
  const id = deps.identity();
  if (!id) return refusal('reader-error');
  const venue = deps.store.getVenue(id.venueId);
  const service = deps.store.getService(id.serviceId);
  if (!venue || !service) return refusal('reader-error');

  const auth = deps.authenticate(tap, venue);
  if (!auth.ok) return refusal(auth.code);

  const cardHash = cardHashOf(id.cardHashKey, auth.uid);
  const card = deps.store.getCard(cardHash);
  if (!card) return refusal('card-not-registered');
  if (card.status === 'blocked') return refusal('card-blocked');

  let recorded: { event: KioskEvent; earned: { wallet: string; amount: number }[] };
  const evaluated: { result: EngineResult | null } = { result: null };
  try {
    const schemes = deps.store.listSchemes();
    const occurredAt = new Date(deps.now()).toISOString();
    const eventId = newEventId();
    const out = deps.store.appendEvent((seq) => {
      const event: KioskEvent = {
        id: eventId,
        kioskId: id.kioskId as KioskEvent['kioskId'],
        seq,
        occurredAt,
        venueId: venue.id as KioskEvent['venueId'],
        type: 'visit',
        cardHash: card.cardHash as KioskEvent['cardHash'],
        residentRef: card.residentRef as KioskEvent['residentRef'],
        serviceId: service.id as KioskEvent['serviceId'],
        auth: auth.auth,
        assisted: false,
      };
      // Provisional: the same engine as the backend, on what this kiosk knows.
      const result = evaluate(
        deps.engine,
        event,
        {
          service: { id: service.id, kind: service.kind as ServiceKind },
          venue: { id: venue.id, type: venue.type as VenueType | null, ward: venue.ward },
          profiles: {
            [card.residentRef]: {
              ageBand: card.ageBand as ProfileAgeBand,
              resident: true,
              homeWard: null,
              categories: [],
              consents: [],
            },
          },
        },
        schemes,
      );
      evaluated.result = result;
      return { event, lines: result.lines };
    });
    // Only once the event is committed does the provisional state move on.
    if (evaluated.result) deps.engine.apply(evaluated.result.stateDelta);
    recorded = {
      event: out.event,
      earned: out.lines.map((l) => ({ wallet: l.wallet, amount: l.amount })),
    };
  } catch (e) {
    if (e instanceof AppError) return refusal(e.code);
    return refusal('storage-error');
  }

  return {
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
}
