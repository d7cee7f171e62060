import { z } from 'zod';
import {
  AppError,
  EventHeaderSchema,
  PROTOCOL_VERSION,
  PushedEventSchema,
  evaluate,
  residentAccount,
  type CardReplacementEvent,
  type ConsentEvent,
  type EnrolmentEvent,
  type ErrorCode,
  type EventResult,
  type KioskEvent,
  type LedgerLine,
  type PushResponse,
  type PushedEvent,
  type ServiceKind,
  type VisitEvent,
} from '@clubcard/shared';
import type { BackendStore, KioskRow } from '../store/repository.js';
import { ContextBuilder } from '../rewards/context.js';
import type { EngineStateStore } from '../rewards/engine-state.js';

const KioskOfEventSchema = z.object({ kioskId: z.unknown() });
const TypeOfEventSchema = z.object({ type: z.string().max(40) });

interface Semantics {
  code: ErrorCode;
  reason: string;
}

/** Checks what a schema cannot: that the event fits this kiosk and the council's records. */
function checkSemantics(
  store: BackendStore,
  kiosk: KioskRow,
  e: KioskEvent,
): Semantics | { serviceKind: ServiceKind } {
  if (e.venueId !== kiosk.venueId) {
    return { code: 'unknown-venue', reason: 'event venue is not this kiosk’s venue' };
  }
  const service = store.getService(e.serviceId);
  if (!service) return { code: 'unknown-service', reason: 'unknown service' };
  const card = store.getCard(e.cardHash);
  if (!card || card.residentRef !== e.residentRef) {
    return { code: 'card-not-registered', reason: 'card is not registered to this resident' };
  }
  if (e.type === 'visit') {
    if (e.auth.method === 'staff-manual' && (!e.assisted || !e.auth.staffRef)) {
      return {
        code: 'validation-failed',
        reason: 'a visit recorded by hand is assisted and names the staff member',
      };
    }
    const secureCard = card.technology === 'ntag424' || card.technology === 'desfire';
    const proved = e.auth.method === 'sun' || e.auth.method === 'ev2';
    if (secureCard && !proved && e.auth.method !== 'staff-manual') {
      // A secure card read without its proof is a copy of its UID on another card.
      return { code: 'card-not-genuine', reason: 'secure card read without proof' };
    }
    if (e.auth.counter !== null && store.counterUsed(e.cardHash, e.auth.counter)) {
      // Each genuine read has its own counter value: a second event with the same one
      // carries a copied SUN message, whichever arrived first.
      return { code: 'card-replayed', reason: 'SUN counter already used by another event' };
    }
  }
  return { serviceKind: service.kind };
}

/** Settings key naming a kiosk the council has made an enrolment desk. */
const enrolmentDeskKey = (kioskId: string): string => `kiosk.${kioskId}.enrolment-desk`;

/**
 * Makes a kiosk an enrolment desk (attended, holding issuing keys), or stops it being
 * one. Only an enrolment desk's enrolment and card-replacement events are accepted.
 */
export function setEnrolmentDesk(store: BackendStore, kioskId: string, desk: boolean): void {
  store.setSetting(enrolmentDeskKey(kioskId), desk ? 'yes' : 'no');
}

export function isEnrolmentDesk(store: BackendStore, kioskId: string): boolean {
  return store.getSetting(enrolmentDeskKey(kioskId)) === 'yes';
}

/**
 * An enrolment desk's event, applied to the council's records: an enrolment creates the
 * resident (home ward: the desk's venue's, until the council records another) and binds
 * the card; a replacement binds the new card and blocks the ones it replaces. Balances
 * belong to the resident, so nothing moves in the ledger. Every changed card goes to the
 * kiosks in the pull feed. A reason is returned, and nothing changed, when it cannot apply.
 */
function applyDeskEvent(
  store: BackendStore,
  kiosk: KioskRow,
  e: EnrolmentEvent | CardReplacementEvent,
  now: number,
): Semantics | null {
  if (e.venueId !== kiosk.venueId) {
    return { code: 'unknown-venue', reason: 'event venue is not this kiosk’s venue' };
  }
  if (!isEnrolmentDesk(store, kiosk.id)) {
    return { code: 'forbidden', reason: 'only an enrolment desk issues cards' };
  }
  if (store.getCard(e.cardHash)) {
    return { code: 'card-already-issued', reason: 'the card is already issued' };
  }
  const card = {
    cardHash: e.cardHash,
    residentRef: e.residentRef,
    status: 'active' as const,
    technology: e.technology,
    keyVersion: e.keyVersion ?? null,
  };
  if (e.type === 'enrolment') {
    if (store.getResident(e.residentRef)) {
      return { code: 'bad-request', reason: 'the resident reference is already in use' };
    }
    const venue = store.getVenue(e.venueId);
    if (!venue) return { code: 'unknown-venue', reason: 'unknown venue' };
    store.addResident({
      ref: e.residentRef,
      firstName: e.firstName,
      ageBand: e.ageBand,
      ward: venue.ward,
      createdAt: now,
    });
    store.addCard(card, now);
    if (e.counter != null) store.noteCounter(e.cardHash, e.counter, now);
    store.addChange('card', e.cardHash, now);
    return null;
  }
  if (!store.getResident(e.residentRef)) {
    return { code: 'not-found', reason: 'unknown resident' };
  }
  const replaced = e.replacedCardHashes.map((h) => store.getCard(h));
  if (replaced.some((c) => !c || c.residentRef !== e.residentRef)) {
    return { code: 'card-not-registered', reason: 'a replaced card is not this resident’s' };
  }
  // Every card of the resident still active is blocked, not only those the desk knew of
  // (a card issued elsewhere may not have reached it yet).
  const active = store.activeCardsOfResident(e.residentRef);
  store.addCard(card, now);
  if (e.counter != null) store.noteCounter(e.cardHash, e.counter, now);
  store.addChange('card', e.cardHash, now);
  for (const h of new Set([...e.replacedCardHashes, ...active])) {
    store.setCardStatus(h, 'blocked', now);
    store.addChange('card', h, now);
  }
  return null;
}

/** What an ingestion listener learns about one accepted visit. */
export interface AcceptedVisit {
  event: VisitEvent;
  serviceKind: ServiceKind;
}

/**
 * Called inside the batch's transaction with the batch's accepted visits, so that
 * whatever is maintained at ingestion (usage rollups, feature rows) commits or rolls back
 * with the events themselves.
 */
export interface IngestionListener {
  onAccepted(visits: readonly AcceptedVisit[], now: number): void;
}

/**
 * Records consent events (the resident's consents and volunteered attributes) inside the
 * batch's transaction; a refusal reason rejects the event. Without one, consent events
 * are rejected and stay with the kiosk's rejected events for staff to see.
 */
export interface ConsentRecorder {
  record(e: ConsentEvent): { code: ErrorCode; reason: string } | null;
}

/**
 * Ingests one pushed batch in ONE transaction: dedupe by event id, validate each event,
 * run the rules engine, append events and ledger lines, advance the kiosk's ack, and
 * note which balances changed for the pull feed. A rejected event is settled (stored
 * with its code) so that one bad event never stalls a kiosk.
 */
export function ingestBatch(
  store: BackendStore,
  kiosk: KioskRow,
  rawEvents: readonly unknown[],
  now: number,
  opts: {
    engine: EngineStateStore;
    listeners?: readonly IngestionListener[];
    consents?: ConsentRecorder;
  },
): PushResponse {
  const listeners = opts.listeners ?? [];
  try {
    return ingestInTransaction(store, kiosk, rawEvents, now, opts.engine, listeners, opts.consents);
  } catch (e) {
    // The transaction rolled back: the engine's memory copy must not keep its changes.
    opts.engine.forget();
    throw e;
  }
}

function ingestInTransaction(
  store: BackendStore,
  kiosk: KioskRow,
  rawEvents: readonly unknown[],
  now: number,
  engine: EngineStateStore,
  listeners: readonly IngestionListener[],
  consents: ConsentRecorder | undefined,
): PushResponse {
  const headers = rawEvents.map((raw, i) => {
    const h = EventHeaderSchema.safeParse(raw);
    if (!h.success) {
      throw new AppError('validation-failed', `event ${i} has no valid id and seq`);
    }
    const k = KioskOfEventSchema.safeParse(raw);
    if (k.success && k.data.kioskId !== kiosk.id) {
      throw new AppError('kiosk-mismatch', 'a kiosk can push only its own events');
    }
    return h.data;
  });

  return store.transaction(() => {
    const existing = store.findEvents(headers.map((h) => h.id));
    const seenInBatch = new Set<string>();
    const results: EventResult[] = [];
    const touched = new Set<string>();
    const accepted: AcceptedVisit[] = [];
    const schemes = store.listSchemes();
    const contexts = new ContextBuilder(store);

    rawEvents.forEach((raw, i) => {
      const h = headers[i];
      if (!h) return;
      const stored = existing.get(h.id);
      if (stored || seenInBatch.has(h.id)) {
        if (stored && stored.kioskId !== kiosk.id) {
          results.push({
            id: h.id,
            seq: h.seq,
            status: 'rejected',
            code: 'kiosk-mismatch',
            lines: [],
          });
          return;
        }
        results.push({
          id: h.id,
          seq: h.seq,
          status: 'duplicate',
          ...(stored?.rejectCode ? { code: stored.rejectCode as ErrorCode } : {}),
          lines: store.linesOfEvent(h.id),
        });
        return;
      }
      seenInBatch.add(h.id);
      if (store.hasEventAt(kiosk.id, h.seq)) {
        results.push({
          id: h.id,
          seq: h.seq,
          status: 'rejected',
          code: 'event-out-of-order',
          reason: 'sequence number already used by another event',
          lines: [],
        });
        return;
      }
      const payload = JSON.stringify(raw);
      const reject = (code: ErrorCode, reason: string, e?: PushedEvent): void => {
        const t = TypeOfEventSchema.safeParse(raw);
        store.insertEvent({
          id: h.id,
          kioskId: kiosk.id,
          seq: h.seq,
          type: e?.type ?? (t.success ? t.data.type : 'unknown'),
          occurredAt: e?.occurredAt ?? '',
          receivedAt: now,
          residentRef: e?.residentRef ?? null,
          venueId: e?.venueId ?? null,
          serviceId: e && 'serviceId' in e ? e.serviceId : null,
          status: 'rejected',
          rejectCode: code,
          payload,
        });
        results.push({ id: h.id, seq: h.seq, status: 'rejected', code, reason, lines: [] });
      };

      // An event the rules engine does not evaluate (consent, the enrolment desk's): stored, no lines.
      const acceptUnevaluated = (
        e: Pick<PushedEvent, 'id' | 'seq' | 'type' | 'occurredAt' | 'residentRef' | 'venueId'>,
      ): void => {
        store.insertEvent({
          id: e.id,
          kioskId: kiosk.id,
          seq: e.seq,
          type: e.type,
          occurredAt: e.occurredAt,
          receivedAt: now,
          residentRef: e.residentRef,
          venueId: e.venueId,
          serviceId: null,
          status: 'accepted',
          rejectCode: null,
          payload,
        });
        results.push({ id: e.id, seq: e.seq, status: 'accepted', lines: [] });
      };

      const parsed = PushedEventSchema.safeParse(raw);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        reject(
          'validation-failed',
          first ? `${first.path.join('.')}: ${first.message}` : 'invalid',
        );
        return;
      }
      if (parsed.data.type === 'consent') {
        const c = parsed.data;
        const refusal =
          c.venueId !== kiosk.venueId
            ? { code: 'unknown-venue' as const, reason: 'event venue is not this kiosk’s venue' }
            : consents
              ? consents.record(c)
              : { code: 'validation-failed' as const, reason: 'consent is not recorded here' };
        if (refusal) {
          reject(refusal.code, refusal.reason, c);
          return;
        }
        acceptUnevaluated(c);
        return;
      }
      if (parsed.data.type === 'enrolment' || parsed.data.type === 'card-replacement') {
        const d = parsed.data;
        const refusal = applyDeskEvent(store, kiosk, d, now);
        if (refusal) {
          reject(refusal.code, refusal.reason, d);
          return;
        }
        acceptUnevaluated(d);
        // The resident's balance follows them to the new card: this venue's kiosks need it.
        if (store.noteVenueResident(d.venueId, d.residentRef, now)) touched.add(d.residentRef);
        return;
      }
      const e = parsed.data;
      const sem = checkSemantics(store, kiosk, e);
      if ('code' in sem) {
        reject(sem.code, sem.reason, e);
        return;
      }
      // Authoritative evaluation, in arrival order, against the state earlier arrivals left.
      const result = evaluate(engine, e, contexts.for(e, sem.serviceKind), schemes);
      const lines = result.lines;
      store.insertEvent({
        id: e.id,
        kioskId: kiosk.id,
        seq: e.seq,
        type: e.type,
        occurredAt: e.occurredAt,
        receivedAt: now,
        residentRef: e.residentRef,
        venueId: e.venueId,
        serviceId: e.serviceId,
        status: 'accepted',
        rejectCode: null,
        payload,
        cardHash: e.cardHash,
        cardCounter: e.auth.counter,
      });
      if (e.auth.counter !== null) {
        store.noteCounter(e.cardHash, e.auth.counter, now);
        store.addChange('card', e.cardHash, now);
      }
      store.insertLines(lines, now);
      engine.apply(result.stateDelta);
      // First visit of this resident to this venue: its kiosks now need their balance.
      if (store.noteVenueResident(e.venueId, e.residentRef, now)) touched.add(e.residentRef);
      if (result.flags.length > 0) store.insertFlags(e.id, result.flags, now);
      for (const l of lines) {
        if (l.from.startsWith('resident:')) touched.add(l.from.slice('resident:'.length));
        if (l.to.startsWith('resident:')) touched.add(l.to.slice('resident:'.length));
      }
      if (lines.length > 0) touched.add(e.residentRef);
      if (e.type === 'visit') accepted.push({ event: e, serviceKind: sem.serviceKind });
      results.push({ id: e.id, seq: e.seq, status: 'accepted', lines });
    });

    if (accepted.length > 0) for (const l of listeners) l.onAccepted(accepted, now);
    for (const ref of [...touched].sort()) store.addChange('balance', ref, now);
    const ackSeq = store.advanceAck(kiosk.id);
    return { protocol: PROTOCOL_VERSION, kioskId: kiosk.id, ackSeq, results, serverTime: now };
  });
}

/** Sum of a resident's lines per wallet, straight from the ledger. */
export function residentBalances(
  store: BackendStore,
  ref: string,
): { wallet: string; amount: number }[] {
  return store.balancesOf(residentAccount(ref));
}

export type { LedgerLine };
