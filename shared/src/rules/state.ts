import { residentAccount } from '../protocol/ledger.js';
import {
  DAY_MS,
  lastDayOfPeriodCode,
  londonDay,
  periodCodeOfKey,
  periodKeyOfCode,
  startOfLondonDay,
} from './london-time.js';
import {
  copyInto,
  firstExpiryMs,
  lotsFromJson,
  lotsToJson,
  type Lot,
  type LotList,
} from './lots.js';

export type { Lot, LotList } from './lots.js';

/**
 * The engine's state: everything it must remember between events, in three kinds of
 * slice that the backend persists (one row each) and the kiosk holds a provisional copy
 * of:
 *
 *  - one ResidentState per resident: limit counters per period, open expiry lots,
 *    overdrafts, streak progress, pending time-bank records, the resident's clock;
 *  - one CounterState per scheme: budget used per budget period;
 *  - one CounterState per ward: target progress and awards per period.
 *
 * Live slices are compact (numeric counter arrays, Maps only where needed) because the
 * engine touches one resident's slice per event among many thousands; persist them with
 * residentStateToJson / counterStateToJson and read them back with the FromJson
 * functions. The JSON forms are plain data with sorted keys.
 *
 * Balances are NOT state: they are sums of ledger lines. The lots are the engine's
 * breakdown of a resident's positive balance by expiry (for oldest-expiring-first
 * spending); for every wallet, balance = Σ lots − overdraft.
 */

/**
 * How late an event may arrive (London days behind the resident's clock) and still earn.
 * Older events still record spending, but earn nothing ("too-late"): the counters they
 * would be checked against may have been pruned.
 */
export const LATE_HORIZON_DAYS = 92;

/** Position of an event in the canonical order (occurredAt, kioskId, seq). */
export interface CanonicalKey {
  at: number;
  kioskId: string;
  seq: number;
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

/**
 * Counters, flat and sorted: [period code, counter-name id, value, period code, …],
 * ordered by (period code, name id). Period codes: see london-time.ts. Names are interned
 * per process by counterNameId(); the JSON form uses the names:
 *
 *  - resident: `<scheme>/<rule>|a` (amount earned), `|n` (events that earned), `|s`
 *    (streak awarded), `|g` (allowance granted), `<scheme>/*|a|n` (scheme-wide limits);
 *  - scheme: `b` (budget paid out);
 *  - ward: `<scheme>/<target>|p` (progress), `|w` (reward paid).
 */
export type Counters = number[];

const nameIds = new Map<string, number>();
const names: string[] = [];

/** The process-local id of a counter name (stable for the life of the process). */
export function counterNameId(name: string): number {
  let id = nameIds.get(name);
  if (id === undefined) {
    id = names.length;
    names.push(name);
    nameIds.set(name, id);
  }
  return id;
}

export function counterName(id: number): string {
  const n = names[id];
  if (n === undefined) throw new Error(`unknown counter name id ${id}`);
  return n;
}

/** Index of a counter in a sorted counters array, or −(insertion index) − 1. */
export function findCounter(c: Counters, code: number, name: number): number {
  let lo = 0;
  let hi = c.length / 3 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const i = mid * 3;
    const pc = c[i] as number;
    const d = pc !== code ? pc - code : (c[i + 1] as number) - name;
    if (d === 0) return i;
    if (d < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo * 3) - 1;
}

export function counterValue(c: Counters, code: number, name: number): number {
  const i = findCounter(c, code, name);
  return i >= 0 ? (c[i + 2] as number) : 0;
}

export interface ResidentState {
  ref: string;
  /** The resident's ledger account, `resident:<ref>` (derived; not persisted). */
  account: string;
  /** Latest occurredAt (epoch ms) of this resident's events evaluated so far. */
  clock: number;
  /** London day number of `clock` (derived; not persisted). */
  clockDay: number;
  /** Greatest canonical key evaluated for this resident (late-event detection); lastAt −1: none. */
  lastAt: number;
  lastKiosk: string;
  lastSeq: number;
  counters: Counters;
  /** Open lots in spending order, flat (see lots.ts; lotsToJson gives objects). */
  lots: LotList;
  /** Earliest expiry (epoch ms) among the lots, or NO_EXPIRY (derived; not persisted). */
  nextExpiry: number;
  /** Wallet → amount owed (> 0) after an overdrawing redemption or time received. */
  overdraft: Map<string, number> | null;
  /** `<scheme>/<rule>` → London day numbers with a qualifying event, ascending. */
  streaks: Map<string, number[]> | null;
  /** Record event id → pending or settled time-bank record. */
  pending: Map<string, PendingTime> | null;
  // The three Maps are made on first use and kept once empty (null or empty: none), so
  // that a resident whose overdraft comes and goes does not get a new Map each time.
}

export interface CounterState {
  id: string;
  counters: Counters;
}

/** Read access to the state. The backend may back it with a database, per batch. */
export interface EngineStateView {
  resident(ref: string): ResidentState | undefined;
  scheme(id: string): CounterState | undefined;
  ward(id: string): CounterState | undefined;
}

/**
 * Counter writes, flat: period code, counter-name id, new value, … applied in order (a
 * later write to the same counter wins; 0 deletes).
 */
export type CounterWrites = number[];

/** Overdraft writes, flat: wallet, new amount owed (0: none), … one entry per wallet. */
export type OverdraftWrites = (string | number)[];

/** Streak writes, flat: `<scheme>/<rule>`, new qualifying days ([]: none), … one entry per key. */
export type StreakWrites = (string | number[])[];

/** Time-bank writes, flat: record event id, new entry (null: none), … one entry per id. */
export type PendingWrites = (string | PendingTime | null)[];

/**
 * What one evaluation changes for one resident (null: unchanged). Counters, overdrafts,
 * streaks and pending entries are patches (absolute new values; 0, [] or null delete);
 * `lots` replaces the list. In-memory only: persist the state, not deltas.
 */
export interface ResidentDelta {
  ref: string;
  clock: number;
  clockDay: number;
  lastAt: number;
  lastKiosk: string;
  lastSeq: number;
  counters: CounterWrites | null;
  lots: LotList | null;
  overdraft: OverdraftWrites | null;
  streaks: StreakWrites | null;
  pending: PendingWrites | null;
}

export interface CounterDelta {
  id: string;
  counters: CounterWrites;
}

export interface StateDelta {
  residents: readonly ResidentDelta[];
  schemes: readonly CounterDelta[];
  wards: readonly CounterDelta[];
}

export const EMPTY_STATE: EngineStateView = {
  resident: () => undefined,
  scheme: () => undefined,
  ward: () => undefined,
};

/** nextExpiry of a resident whose lots never expire (or who has none). */
export const NO_EXPIRY = Number.MAX_SAFE_INTEGER;

/** A resident's open lots as objects, in spending order. */
export function lotsOf(s: ResidentState | undefined): Lot[] {
  return s ? lotsToJson(s.lots) : [];
}

export function newResidentState(ref: string): ResidentState {
  return {
    ref,
    account: residentAccount(ref),
    clock: 0,
    clockDay: 0,
    lastAt: -1,
    lastKiosk: '',
    lastSeq: 0,
    counters: [],
    lots: [],
    nextExpiry: NO_EXPIRY,
    overdraft: null,
    streaks: null,
    pending: null,
  };
}

/**
 * Applies counter writes to counters (mutating them, keeping them sorted). Entries are
 * moved by hand rather than with splice, which makes an array of what it removes on
 * every call.
 */
export function applyCounterWrites(into: Counters, writes: CounterWrites): void {
  for (let w = 0; w < writes.length; w += 3) {
    const code = writes[w] as number;
    const name = writes[w + 1] as number;
    const v = writes[w + 2] as number;
    const i = findCounter(into, code, name);
    if (i >= 0) {
      if (v !== 0) into[i + 2] = v;
      else {
        const n = into.length - 3;
        for (let k = i; k < n; k++) into[k] = into[k + 3] as number;
        into.length = n;
      }
    } else if (v !== 0) {
      const at = -i - 1;
      into.push(0, 0, 0);
      for (let k = into.length - 1; k >= at + 3; k--) into[k] = into[k - 3] as number;
      into[at] = code;
      into[at + 1] = name;
      into[at + 2] = v;
    }
  }
}

/**
 * Applies a resident delta to a resident's state, MUTATING `target` (or a new state when
 * undefined) and returning it. When the clock enters a new London week, counters and
 * pending entries beyond the late-event horizon are pruned — deterministically, so every
 * replica that applies the same deltas holds the same state.
 */
export function applyResidentDelta(
  target: ResidentState | undefined,
  d: ResidentDelta,
): ResidentState {
  const s = target ?? newResidentState(d.ref);
  const oldDay = s.clockDay;
  s.clock = d.clock;
  s.clockDay = d.clockDay;
  s.lastAt = d.lastAt;
  s.lastKiosk = d.lastKiosk;
  s.lastSeq = d.lastSeq;
  if (d.counters !== null) applyCounterWrites(s.counters, d.counters);
  // Lots and streak days are copied into the existing arrays: the engine's copies die
  // young instead of being promoted by the garbage collector.
  if (d.lots !== null) {
    copyInto(s.lots, d.lots);
    s.nextExpiry = firstExpiryMs(s.lots);
  }
  if (d.overdraft !== null) {
    const m = (s.overdraft ??= new Map());
    const o = d.overdraft;
    for (let i = 0; i < o.length; i += 2) {
      const k = o[i] as string;
      const v = o[i + 1] as number;
      if (v === 0) m.delete(k);
      else m.set(k, v);
    }
  }
  if (d.streaks !== null) {
    const m = (s.streaks ??= new Map());
    const st = d.streaks;
    for (let i = 0; i < st.length; i += 2) {
      const k = st[i] as string;
      const v = st[i + 1] as number[];
      const cur = m.get(k);
      if (v.length === 0) m.delete(k);
      else if (cur !== undefined) copyInto(cur, v);
      else m.set(k, v.slice());
    }
  }
  if (d.pending !== null) {
    const m = (s.pending ??= new Map());
    const pw = d.pending;
    for (let i = 0; i < pw.length; i += 2) {
      const k = pw[i] as string;
      const v = pw[i + 1] as PendingTime | null;
      if (v === null) m.delete(k);
      else m.set(k, v);
    }
  }
  // Prune when the clock enters a new 28-day block (London days) and there is enough
  // to be worth it: cheap, and deterministic (it depends on the state alone).
  const newDay = s.clockDay;
  if (
    newDay > oldDay &&
    Math.floor(newDay / PRUNE_BLOCK_DAYS) !== Math.floor(oldDay / PRUNE_BLOCK_DAYS) &&
    (s.counters.length >= PRUNE_MIN_COUNTERS * 3 || (s.pending !== null && s.pending.size > 0))
  ) {
    prune(s, newDay - LATE_HORIZON_DAYS);
  }
  return s;
}

const PRUNE_BLOCK_DAYS = 28;
const PRUNE_MIN_COUNTERS = 24;
const lastDayCache = new Map<number, number>();

function lastDayOf(code: number): number {
  let d = lastDayCache.get(code);
  if (d === undefined) {
    d = lastDayOfPeriodCode(code);
    if (lastDayCache.size > 100_000) lastDayCache.clear();
    lastDayCache.set(code, d);
  }
  return d;
}

function prune(s: ResidentState, cutoffDay: number): void {
  // In place, keeping the order: a new array would be one more the collector promotes.
  const c = s.counters;
  let keep = 0;
  for (let i = 0; i < c.length; i += 3) {
    if (lastDayOf(c[i] as number) < cutoffDay) continue;
    if (keep !== i) {
      c[keep] = c[i] as number;
      c[keep + 1] = c[i + 1] as number;
      c[keep + 2] = c[i + 2] as number;
    }
    keep += 3;
  }
  if (keep < c.length) c.length = keep;
  if (s.pending !== null) {
    const cutoffMs = startOfLondonDay(cutoffDay) - DAY_MS;
    for (const [k, p] of s.pending) if (p.at < cutoffMs) s.pending.delete(k);
  }
}

/** Applies a counter delta (scheme or ward), mutating `target` or creating the state. */
export function applyCounterDelta(target: CounterState | undefined, d: CounterDelta): CounterState {
  const s = target ?? { id: d.id, counters: [] };
  applyCounterWrites(s.counters, d.counters);
  return s;
}

// ── JSON forms, for persistence and pulls ──────────────────────────────────────

export type CountersJson = Record<string, Record<string, number>>;

export interface ResidentStateJson {
  ref: string;
  clock: number;
  last: CanonicalKey | null;
  counters: CountersJson;
  lots: Lot[];
  overdraft: Record<string, number>;
  streaks: Record<string, number[]>;
  pending: Record<string, PendingTime>;
}

export interface CounterStateJson {
  id: string;
  counters: CountersJson;
}

function sortedRecord<V, W>(entries: Iterable<[string, V]>, f: (v: V) => W): Record<string, W> {
  const out: Record<string, W> = {};
  for (const [k, v] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = f(v);
  return out;
}

function countersToJson(c: Counters): CountersJson {
  const out: CountersJson = {};
  const entries: [string, string, number][] = [];
  for (let i = 0; i < c.length; i += 3) {
    entries.push([
      periodKeyOfCode(c[i] as number),
      counterName(c[i + 1] as number),
      c[i + 2] as number,
    ]);
  }
  entries.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  );
  for (const [pk, name, v] of entries) (out[pk] ??= {})[name] = v;
  return out;
}

function countersFromJson(j: CountersJson): Counters {
  const writes: CounterWrites = [];
  for (const [pk, m] of Object.entries(j)) {
    const code = periodCodeOfKey(pk);
    for (const [name, v] of Object.entries(m)) writes.push(code, counterNameId(name), v);
  }
  const c: Counters = [];
  applyCounterWrites(c, writes);
  return c;
}

export function residentStateToJson(s: ResidentState): ResidentStateJson {
  return {
    ref: s.ref,
    clock: s.clock,
    last: s.lastAt < 0 ? null : { at: s.lastAt, kioskId: s.lastKiosk, seq: s.lastSeq },
    counters: countersToJson(s.counters),
    lots: lotsToJson(s.lots),
    overdraft: sortedRecord(s.overdraft ?? [], (v) => v),
    streaks: sortedRecord(s.streaks ?? [], (v) => [...v]),
    pending: sortedRecord(s.pending ?? [], (v) => ({ ...v })),
  };
}

function mapOrNull<V>(entries: [string, V][]): Map<string, V> | null {
  return entries.length > 0 ? new Map(entries) : null;
}

export function residentStateFromJson(j: ResidentStateJson): ResidentState {
  return {
    ref: j.ref,
    account: residentAccount(j.ref),
    clock: j.clock,
    clockDay: londonDay(j.clock),
    lastAt: j.last ? j.last.at : -1,
    lastKiosk: j.last ? j.last.kioskId : '',
    lastSeq: j.last ? j.last.seq : 0,
    counters: countersFromJson(j.counters),
    lots: lotsFromJson(j.lots),
    nextExpiry: firstExpiryMs(lotsFromJson(j.lots)),
    overdraft: mapOrNull(Object.entries(j.overdraft)),
    streaks: mapOrNull(Object.entries(j.streaks).map(([k, v]) => [k, [...v]])),
    pending: mapOrNull(Object.entries(j.pending).map(([k, v]) => [k, { ...v }])),
  };
}

export function counterStateToJson(s: CounterState): CounterStateJson {
  return { id: s.id, counters: countersToJson(s.counters) };
}

export function counterStateFromJson(j: CounterStateJson): CounterState {
  return { id: j.id, counters: countersFromJson(j.counters) };
}

/** The whole state as plain data, sorted: the same state always gives the same JSON. */
export interface EngineSnapshot {
  residents: ResidentStateJson[];
  schemes: CounterStateJson[];
  wards: CounterStateJson[];
}

function applyCounterDeltas(into: Map<string, CounterState>, ds: readonly CounterDelta[]): void {
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i] as CounterDelta;
    const cur = into.get(d.id);
    const next = applyCounterDelta(cur, d);
    if (!cur) into.set(d.id, next);
  }
}

/** In-memory engine state: the kiosk's provisional copy, tests, benches, rebuilds. */
export class MemoryEngineState implements EngineStateView {
  readonly residents = new Map<string, ResidentState>();
  readonly schemes = new Map<string, CounterState>();
  readonly wards = new Map<string, CounterState>();
  // The engine reads a resident, then the caller applies its delta: remember the last
  // lookup so the second one is free.
  #lastRef: string | null = null;
  #lastResident: ResidentState | undefined = undefined;

  resident(ref: string): ResidentState | undefined {
    if (ref === this.#lastRef) return this.#lastResident;
    const r = this.residents.get(ref);
    this.#lastRef = ref;
    this.#lastResident = r;
    return r;
  }

  scheme(id: string): CounterState | undefined {
    return this.schemes.get(id);
  }

  ward(id: string): CounterState | undefined {
    return this.wards.get(id);
  }

  apply(delta: StateDelta): void {
    // Indexed loops: called once per event, and iterators would allocate.
    const rs = delta.residents;
    for (let i = 0; i < rs.length; i++) {
      const d = rs[i] as ResidentDelta;
      const cur = this.resident(d.ref);
      const next = applyResidentDelta(cur, d);
      if (!cur) {
        this.residents.set(d.ref, next);
        this.#lastResident = next;
      }
    }
    applyCounterDeltas(this.schemes, delta.schemes);
    applyCounterDeltas(this.wards, delta.wards);
  }

  /** Replaces (or adds) slices, e.g. with the backend's authoritative copy after a pull. */
  load(snapshot: Partial<EngineSnapshot>): void {
    this.#lastRef = null;
    for (const r of snapshot.residents ?? []) this.residents.set(r.ref, residentStateFromJson(r));
    for (const s of snapshot.schemes ?? []) this.schemes.set(s.id, counterStateFromJson(s));
    for (const w of snapshot.wards ?? []) this.wards.set(w.id, counterStateFromJson(w));
  }

  snapshot(): EngineSnapshot {
    const sorted = <T, J>(m: Map<string, T>, f: (v: T) => J): J[] =>
      [...m.keys()].sort().map((k) => f(m.get(k) as T));
    return {
      residents: sorted(this.residents, residentStateToJson),
      schemes: sorted(this.schemes, counterStateToJson),
      wards: sorted(this.wards, counterStateToJson),
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
