import { DAY_MS, lastDayOfPeriodKey, londonDay, startOfLondonDay } from './london-time.js';

/**
 * The engine's state: everything it must remember between events, as plain JSON-able
 * data, in three kinds of slice the backend persists (one row each) and the kiosk holds
 * a provisional copy of:
 *
 *  - one ResidentState per resident: limit counters per period, open expiry lots,
 *    overdrafts, streak progress, pending time-bank records, the resident's clock;
 *  - one CounterState per scheme: budget used per budget period;
 *  - one CounterState per ward: target progress and awards per period.
 *
 * Balances are NOT state: they are sums of ledger lines. The lots are the engine's
 * breakdown of a resident's positive balance by expiry (for oldest-expiring-first
 * spending); for every wallet, balance = Σ lots − overdraft.
 */

/**
 * How late an event may arrive (London days behind the resident's clock) and still earn.
 * Older events still record spending, but earn nothing ("too-late"): the counters they
 * would be checked against have been pruned.
 */
export const LATE_HORIZON_DAYS = 92;

/** Position of an event in the canonical order (occurredAt, kioskId, seq). */
export interface CanonicalKey {
  at: number;
  kioskId: string;
  seq: number;
}

/** Part of a resident's balance with one expiry: what one credit line left unspent. */
export interface Lot {
  /** `<eventId>:<line index>` of the first line that granted it (later equal lots merge in). */
  id: string;
  wallet: string;
  schemeId: string;
  schemeVersion: number;
  /** The account it came from, and goes back to if it expires (scheme or time bank). */
  source: string;
  /** Remaining, > 0. */
  amount: number;
  grantedAt: number;
  /** Epoch ms; usable while the resident's clock is before it. Null: never expires. */
  expiresAt: number | null;
}

/** Time-bank bookkeeping held on the giver's state, keyed by the record's event id. */
export type PendingTime =
  | { kind: 'record'; at: number; schemeId: string; receiverRef: string; minutes: number }
  | {
      kind: 'confirm';
      at: number;
      confirmedBy: 'receiver' | 'organiser';
      /** Card presented with the confirmation. */
      confirmerRef: string;
      receiverRef: string;
    }
  | { kind: 'settled'; at: number };

export interface ResidentState {
  ref: string;
  /** Latest occurredAt (epoch ms) of this resident's events evaluated so far. */
  clock: number;
  /** Greatest canonical key evaluated for this resident (late-event detection). */
  last: CanonicalKey | null;
  /** `<period key>|<scheme>/<rule>|<a|n|s|g>` → amount, event count, award or grant marker. */
  counters: Record<string, number>;
  /** Open lots in spending order (compareLots): expiresAt ascending (never last), then scheme, version, source. */
  lots: Lot[];
  /** Wallet → amount owed (> 0) after an overdrawing redemption or time received. */
  overdraft: Record<string, number>;
  /** `<scheme>/<rule>` → London day numbers with a qualifying event, ascending. */
  streaks: Record<string, number[]>;
  pending: Record<string, PendingTime>;
}

export interface CounterState {
  id: string;
  /** Scheme: `<budget period key>|b` → paid out. Ward: `<period>|<scheme>/<target>|p|w` → progress, award. */
  counters: Record<string, number>;
}

/** Read access to the state. The backend may back it with a database, per batch. */
export interface EngineStateView {
  resident(ref: string): ResidentState | undefined;
  scheme(id: string): CounterState | undefined;
  ward(id: string): CounterState | undefined;
}

/**
 * What one evaluation changes. Counters, overdrafts, streaks and pending entries are
 * patches (absolute new values; 0, [] or null delete); `lots` replaces the list.
 */
export interface ResidentDelta {
  ref: string;
  clock: number;
  last: CanonicalKey | null;
  counters?: Record<string, number>;
  lots?: Lot[];
  overdraft?: Record<string, number>;
  streaks?: Record<string, number[]>;
  pending?: Record<string, PendingTime | null>;
}

export interface CounterDelta {
  id: string;
  counters: Record<string, number>;
}

export interface StateDelta {
  residents: ResidentDelta[];
  schemes: CounterDelta[];
  wards: CounterDelta[];
}

export const EMPTY_STATE: EngineStateView = {
  resident: () => undefined,
  scheme: () => undefined,
  ward: () => undefined,
};

export function newResidentState(ref: string): ResidentState {
  return {
    ref,
    clock: 0,
    last: null,
    counters: {},
    lots: [],
    overdraft: {},
    streaks: {},
    pending: {},
  };
}

/**
 * Applies a resident delta to a resident's state, MUTATING `target` (or a new state when
 * undefined) and returning it. When the clock moves to a new London day, counters and
 * pending entries beyond the late-event horizon are pruned — deterministically, so
 * every replica that applies the same deltas holds the same state.
 */
export function applyResidentDelta(
  target: ResidentState | undefined,
  d: ResidentDelta,
): ResidentState {
  const s = target ?? newResidentState(d.ref);
  const oldDay = londonDay(s.clock);
  s.clock = d.clock;
  s.last = d.last;
  if (d.counters) {
    for (const k in d.counters) {
      const v = d.counters[k] as number;
      if (v === 0) delete s.counters[k];
      else s.counters[k] = v;
    }
  }
  if (d.lots) s.lots = d.lots;
  if (d.overdraft) {
    for (const k in d.overdraft) {
      const v = d.overdraft[k] as number;
      if (v === 0) delete s.overdraft[k];
      else s.overdraft[k] = v;
    }
  }
  if (d.streaks) {
    for (const k in d.streaks) {
      const v = d.streaks[k] as number[];
      if (v.length === 0) delete s.streaks[k];
      else s.streaks[k] = v;
    }
  }
  if (d.pending) {
    for (const k in d.pending) {
      const v = d.pending[k];
      if (v === null || v === undefined) delete s.pending[k];
      else s.pending[k] = v;
    }
  }
  const newDay = londonDay(s.clock);
  if (newDay > oldDay) prune(s, newDay - LATE_HORIZON_DAYS);
  return s;
}

function prune(s: ResidentState, cutoffDay: number): void {
  for (const k in s.counters) {
    const bar = k.indexOf('|');
    if (lastDayOfPeriodKey(k.slice(0, bar)) < cutoffDay) delete s.counters[k];
  }
  const cutoffMs = startOfLondonDay(cutoffDay) - DAY_MS;
  for (const k in s.pending) {
    if ((s.pending[k] as PendingTime).at < cutoffMs) delete s.pending[k];
  }
}

/** Applies a counter delta (scheme or ward), mutating `target` or creating the state. */
export function applyCounterDelta(target: CounterState | undefined, d: CounterDelta): CounterState {
  const s = target ?? { id: d.id, counters: {} };
  for (const k in d.counters) {
    const v = d.counters[k] as number;
    if (v === 0) delete s.counters[k];
    else s.counters[k] = v;
  }
  return s;
}

/** The whole state as plain data, sorted: the same state always gives the same JSON. */
export interface EngineSnapshot {
  residents: ResidentState[];
  schemes: CounterState[];
  wards: CounterState[];
}

/** In-memory engine state: the kiosk's provisional copy, tests, benches, rebuilds. */
export class MemoryEngineState implements EngineStateView {
  readonly residents = new Map<string, ResidentState>();
  readonly schemes = new Map<string, CounterState>();
  readonly wards = new Map<string, CounterState>();

  resident(ref: string): ResidentState | undefined {
    return this.residents.get(ref);
  }

  scheme(id: string): CounterState | undefined {
    return this.schemes.get(id);
  }

  ward(id: string): CounterState | undefined {
    return this.wards.get(id);
  }

  apply(delta: StateDelta): void {
    for (const d of delta.residents) {
      const cur = this.residents.get(d.ref);
      const next = applyResidentDelta(cur, d);
      if (!cur) this.residents.set(d.ref, next);
    }
    for (const d of delta.schemes) {
      const cur = this.schemes.get(d.id);
      const next = applyCounterDelta(cur, d);
      if (!cur) this.schemes.set(d.id, next);
    }
    for (const d of delta.wards) {
      const cur = this.wards.get(d.id);
      const next = applyCounterDelta(cur, d);
      if (!cur) this.wards.set(d.id, next);
    }
  }

  /** Replaces (or adds) slices, e.g. with the backend's authoritative copy after a pull. */
  load(snapshot: Partial<EngineSnapshot>): void {
    const copy = structuredClone(snapshot);
    for (const r of copy.residents ?? []) this.residents.set(r.ref, r);
    for (const s of copy.schemes ?? []) this.schemes.set(s.id, s);
    for (const w of copy.wards ?? []) this.wards.set(w.id, w);
  }

  snapshot(): EngineSnapshot {
    const byKey = <T>(m: Map<string, T>): T[] =>
      [...m.keys()].sort().map((k) => structuredClone(m.get(k) as T));
    return {
      residents: byKey(this.residents),
      schemes: byKey(this.schemes),
      wards: byKey(this.wards),
    };
  }

  static fromSnapshot(snapshot: EngineSnapshot): MemoryEngineState {
    const s = new MemoryEngineState();
    s.load(snapshot);
    return s;
  }
}

/** JSON with object keys sorted at every level: byte-identical for equal data. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
