import {
  AppError,
  EngineEventSchema,
  evaluate,
  type EngineEvent,
  type EngineResult,
  type EvaluationContext,
} from '@clubcard/shared';
import type { Db } from '../db/open.js';
import type { BackendStore } from '../store/repository.js';
import type { EngineStateStore } from './engine-state.js';

/** The scheduler's and back office's own event source (allowances, expiry sweeps, top-ups). */
export const COUNCIL_KIOSK_ID = 'k-council';

/** Next gap-free sequence number of a pseudo-kiosk (council, outlets). Call inside a transaction. */
export function nextSeqOf(db: Db, kioskId: string): number {
  const r = db
    .prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM events WHERE kiosk_id = ?')
    .get(kioskId) as { s: number };
  return r.s + 1;
}

/** An engine event before its sequence number: validated by EngineEventSchema on record. */
export interface UnsequencedEvent {
  kioskId: string;
  residentRef: string;
  type: EngineEvent['type'];
  [field: string]: unknown;
}

/**
 * Evaluates and records one event made by the backend itself (a pseudo-kiosk: k-council
 * or k-outlet-<name>) exactly as ingestion records a kiosk's: event, ledger lines, state
 * delta, flags and balance changes for the pull feed. Runs inside the caller's
 * transaction; `accept` may throw to refuse (and roll back) after seeing the result.
 */
export function recordEngineEvent(
  deps: { db: Db; store: BackendStore; engine: EngineStateStore },
  draft: UnsequencedEvent,
  ctx: EvaluationContext,
  now: number,
  accept: (r: EngineResult) => void = () => undefined,
): { event: EngineEvent; result: EngineResult } {
  const { store, engine } = deps;
  const seq = nextSeqOf(deps.db, draft.kioskId);
  const parsed = EngineEventSchema.safeParse({ ...draft, seq });
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new AppError('validation-failed', i ? `${i.path.join('.')}: ${i.message}` : 'invalid');
  }
  const e = parsed.data;
  const result = evaluate(engine, e, ctx, store.listSchemes());
  accept(result);
  const tap = 'cardHash' in e ? e : null;
  store.insertEvent({
    id: e.id,
    kioskId: e.kioskId,
    seq: e.seq,
    type: e.type,
    occurredAt: e.occurredAt,
    receivedAt: now,
    residentRef: e.residentRef,
    venueId: tap ? tap.venueId : null,
    serviceId: tap ? tap.serviceId : null,
    status: 'accepted',
    rejectCode: null,
    payload: JSON.stringify(e),
    ...(tap ? { cardHash: tap.cardHash, cardCounter: null } : {}),
  });
  store.insertLines(result.lines, now);
  engine.apply(result.stateDelta);
  if (result.flags.length > 0) store.insertFlags(e.id, result.flags, now);
  const touched = new Set<string>([e.residentRef]);
  for (const l of result.lines) {
    if (l.from.startsWith('resident:')) touched.add(l.from.slice('resident:'.length));
    if (l.to.startsWith('resident:')) touched.add(l.to.slice('resident:'.length));
  }
  if (result.lines.length > 0) {
    for (const ref of [...touched].sort()) store.addChange('balance', ref, now);
  }
  return { event: e, result };
}

/** Runs `fn` in one transaction; on failure the engine's memory copy is dropped too. */
export function inEngineTransaction<T>(
  store: BackendStore,
  engine: EngineStateStore,
  fn: () => T,
): T {
  try {
    return store.transaction(fn);
  } catch (e) {
    engine.forget();
    throw e;
  }
}
