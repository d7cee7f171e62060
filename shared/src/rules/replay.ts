import type { EngineEvent } from '../protocol/events.js';
import type { LedgerLine } from '../protocol/ledger.js';
import type { CompiledSchemes } from './compile.js';
import type { EvaluationContext } from './context.js';
import { evaluate, type EngineResult } from './engine.js';
import type { SchemeDefinition } from './scheme.js';
import { MemoryEngineState, type EngineSnapshot } from './state.js';

/**
 * Folding events through the engine, and the kiosk's reconciliation with the backend.
 *
 * Kiosk protocol (all pure, the kiosk's store does the I/O):
 *  1. tap: evaluate(kioskState, event, ctx, schemes) → show messages, store the lines as
 *     provisional, kioskState.apply(stateDelta);
 *  2. push: the backend evaluates the events in its arrival order and answers with the
 *     authoritative lines per event;
 *  3. reconcileLines(provisional, results): authoritative lines replace the provisional
 *     ones of settled events;
 *  4. pull: the backend's state slices for the residents concerned replace the kiosk's
 *     (MemoryEngineState.load), then rebase() re-evaluates the events still waiting to
 *     be pushed on top of them, giving fresh provisional lines.
 * Once every event is settled, the kiosk's lines and state equal the backend's.
 */

export type ContextOf = (event: EngineEvent) => EvaluationContext;

/** Evaluates events in the order given, applying each delta; returns all lines. */
export function replay(
  state: MemoryEngineState,
  events: Iterable<EngineEvent>,
  contextOf: ContextOf,
  schemes: readonly SchemeDefinition[] | CompiledSchemes,
  onResult?: (event: EngineEvent, result: EngineResult) => void,
): LedgerLine[] {
  const lines: LedgerLine[] = [];
  for (const e of events) {
    const r = evaluate(state, e, contextOf(e), schemes);
    state.apply(r.stateDelta);
    for (const l of r.lines) lines.push(l);
    onResult?.(e, r);
  }
  return lines;
}

export interface SettledEvent {
  id: string;
  lines: readonly LedgerLine[];
}

export interface Reconciled {
  /** Authoritative lines of the events just settled, in the order given. */
  settled: LedgerLine[];
  /** Provisional lines of events not yet settled. */
  provisional: LedgerLine[];
  /** Events whose provisional answer differed from the backend's. */
  changed: string[];
}

function sameLines(a: readonly LedgerLine[], b: readonly LedgerLine[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as LedgerLine;
    const y = b[i] as LedgerLine;
    if (
      x.index !== y.index ||
      x.schemeId !== y.schemeId ||
      x.schemeVersion !== y.schemeVersion ||
      x.ruleId !== y.ruleId ||
      x.wallet !== y.wallet ||
      x.from !== y.from ||
      x.to !== y.to ||
      x.amount !== y.amount
    ) {
      return false;
    }
  }
  return true;
}

/** Replaces the provisional lines of settled events by the backend's authoritative ones. */
export function reconcileLines(
  provisional: readonly LedgerLine[],
  settled: readonly SettledEvent[],
): Reconciled {
  const byEvent = new Map<string, LedgerLine[]>();
  for (const l of provisional) {
    let xs = byEvent.get(l.eventId);
    if (!xs) byEvent.set(l.eventId, (xs = []));
    xs.push(l);
  }
  const settledIds = new Set<string>();
  const out: LedgerLine[] = [];
  const changed: string[] = [];
  for (const s of settled) {
    settledIds.add(s.id);
    if (!sameLines(byEvent.get(s.id) ?? [], s.lines)) changed.push(s.id);
    for (const l of s.lines) out.push(l);
  }
  return {
    settled: out,
    provisional: provisional.filter((l) => !settledIds.has(l.eventId)),
    changed,
  };
}

/**
 * After a pull: the kiosk's state becomes the backend's snapshot (for the slices given)
 * and the events still waiting to be pushed are evaluated again on top of it.
 */
export function rebase(
  base: MemoryEngineState,
  pulled: Partial<EngineSnapshot>,
  pending: readonly EngineEvent[],
  contextOf: ContextOf,
  schemes: readonly SchemeDefinition[] | CompiledSchemes,
): { state: MemoryEngineState; provisional: LedgerLine[] } {
  const state = MemoryEngineState.fromSnapshot(base.snapshot());
  state.load(pulled);
  const provisional = replay(state, pending, contextOf, schemes);
  return { state, provisional };
}
