import type { EventId, SchemeId } from '../ids.js';
import type {
  AllowanceEvent,
  EngineEvent,
  GrantEvent,
  RedemptionEvent,
  SessionEvent,
  TimeConfirmEvent,
  TimeRecordEvent,
  VisitEvent,
  WardContributionEvent,
} from '../protocol/events.js';
import type { AccountId, LedgerLine, WalletId } from '../protocol/ledger.js';
import {
  compileSchemes,
  isCompiled,
  type CompiledEarningRule,
  type CompiledLimit,
  type CompiledOffPeak,
  type CompiledScheme,
  type CompiledSchemes,
  type CompiledWardTarget,
  type CounterNames,
  BUDGET_COUNTER,
} from './compile.js';
import {
  isEligible,
  matchTrigger,
  profileIn,
  serviceKindOf,
  type EvaluationContext,
  type ResidentProfile,
} from './context.js';
import {
  DAY_MS,
  dayAfterPeriod,
  londonTime,
  parseInstant,
  periodCodeOf,
  periodCodeOfDay,
  TOTAL_PERIOD_CODE,
  startOfLondonDay,
  type LondonTime,
} from './london-time.js';
import type { EngineFlag, FlagCode, ResidentMessage } from './messages.js';
import {
  LOT_STRIDE,
  L_AMOUNT,
  L_EXPIRES,
  L_SCHEME,
  L_SOURCE,
  L_VERSION,
  L_WALLET,
  NEVER_EXPIRES,
  compareLotKeys,
  expiryMinutes,
  writeLotId,
} from './lots.js';
import { redemptionRestrictions } from './redemption.js';
import {
  HEALTH_SERVICE_KINDS,
  type Expiry,
  type SchemeDefinition,
  type ServiceKind,
} from './scheme.js';
import {
  EMPTY_STATE,
  LATE_HORIZON_DAYS,
  type CanonicalKey,
  type CounterDelta,
  type CounterState,
  type CounterWrites,
  type Counters,
  counterValue,
  type EngineStateView,
  type LotList,
  type OverdraftWrites,
  type PendingWrites,
  type StreakWrites,
  type PendingTime,
  type ResidentDelta,
  type ResidentState,
  type StateDelta,
} from './state.js';

/**
 * The rules engine: one pure function from (state, event, context, scheme versions) to
 * ledger lines, messages for the resident, flags for staff, and the state delta to
 * persist. The backend's answer is authoritative; the kiosk runs the same function on its
 * provisional copy of the state for an instant answer offline. The order and late-event
 * rules are documented in README.md beside this file.
 */

export interface EngineResult {
  /** Double-entry movements, in order; `index` numbers them within the event. */
  lines: LedgerLine[];
  messages: ResidentMessage[];
  flags: EngineFlag[];
  /** Apply with MemoryEngineState.apply / applyResidentDelta / applyCounterDelta. */
  stateDelta: StateDelta;
}

/** The legacy result shape of evaluateEvent. */
export interface Evaluation {
  lines: LedgerLine[];
  messages: ResidentMessage[];
}

const EMPTY_LOTS: LotList = [];
const EMPTY_DAYS: readonly number[] = [];

/** Canonical order: occurredAt, then kiosk id, then kiosk sequence. */
export function compareCanonicalKeys(a: CanonicalKey, b: CanonicalKey): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.kioskId !== b.kioskId) return a.kioskId < b.kioskId ? -1 : 1;
  return a.seq - b.seq;
}

export function canonicalKeyOf(e: {
  occurredAt: string;
  kioskId: string;
  seq: number;
}): CanonicalKey {
  return { at: Date.parse(e.occurredAt), kioskId: e.kioskId, seq: e.seq };
}

/** Compares two events in the canonical order (occurredAt, kioskId, seq). */
export function compareCanonical(
  a: { occurredAt: string; kioskId: string; seq: number },
  b: { occurredAt: string; kioskId: string; seq: number },
): number {
  return compareCanonicalKeys(canonicalKeyOf(a), canonicalKeyOf(b));
}

/** A copy of the events sorted into the canonical order. */
export function sortCanonical<T extends { occurredAt: string; kioskId: string; seq: number }>(
  events: readonly T[],
): T[] {
  return events
    .map((e) => ({ e, k: canonicalKeyOf(e) }))
    .sort((a, b) => compareCanonicalKeys(a.k, b.k))
    .map((x) => x.e);
}

function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const expiryMemo = new WeakMap<Expiry, { day: number; at: number | null }>();

/** When something granted at `cal` expires under `x` (epoch ms), or null. */
export function expiryInstant(x: Expiry, cal: LondonTime): number | null {
  const m = expiryMemo.get(x);
  if (m !== undefined && m.day === cal.day) return m.at;
  const at = computeExpiry(x, cal);
  // Updated in place: late events switch days back and forth.
  if (m !== undefined) {
    m.day = cal.day;
    m.at = at;
  } else expiryMemo.set(x, { day: cal.day, at });
  return at;
}

function computeExpiry(x: Expiry, cal: LondonTime): number | null {
  switch (x.kind) {
    case 'never':
      return null;
    case 'after-days':
      return startOfLondonDay(cal.day + x.days + 1);
    case 'end-of-period':
      return startOfLondonDay(dayAfterPeriod(x.period, cal.day, x.extra));
  }
}

function budgetPeriod(period: 'total' | 'year' | 'month', cal: LondonTime): number {
  return period === 'total' ? TOTAL_PERIOD_CODE : period === 'year' ? cal.yearCode : cal.monthCode;
}

function readCounter(
  writes: CounterWrites | null,
  base: Counters | undefined,
  code: number,
  name: number,
): number {
  if (writes !== null) {
    for (let i = writes.length - 3; i >= 0; i -= 3) {
      if (writes[i] === code && writes[i + 1] === name) return writes[i + 2] as number;
    }
  }
  return base === undefined ? 0 : counterValue(base, code, name);
}

/**
 * One copy of each string of a kind the engine keeps or emits for every event (kiosk
 * ids held in resident state, ledger account ids): every event brings its own copy of
 * the id, and building `resident:<ref>` per event, or keeping a fresh kiosk id per
 * state, keeps the garbage collector busy. Past a generous cap, strings are made (or
 * kept) as they come.
 */
class Interned {
  readonly #strings = new Map<string, string>();
  readonly #make: (key: string) => string;
  readonly #cap: number;

  constructor(make: (key: string) => string, cap: number) {
    this.#make = make;
    this.#cap = cap;
  }

  of(key: string): string {
    const s = this.#strings.get(key);
    if (s !== undefined) return s;
    const made = this.#make(key);
    if (this.#strings.size < this.#cap) this.#strings.set(key, made);
    return made;
  }
}

// A council has at most thousands of kiosks, outlets and wards.
const kioskIds = new Interned((id) => id, 100_000);
const outletAccounts = new Interned((id) => `outlet:${id}`, 100_000);
const wardAccounts = new Interned((id) => `ward:${id}`, 100_000);
const residentAccounts = new Interned((ref) => `resident:${ref}`, 250_000);

/**
 * Overdraft, streak and time-bank writes are flat [key, value, …] patches rather than
 * Maps: one small array for the usual single key, and no iterator to apply them.
 * patchIndex gives the index of a key's value (−1: not written).
 */
function patchIndex(patch: readonly unknown[] | null, key: string): number {
  if (patch === null) return -1;
  for (let i = 0; i < patch.length; i += 2) if (patch[i] === key) return i + 1;
  return -1;
}

/** Writes a key's new value into a patch (made on the first write); returns the patch. */
function patchSet<V>(patch: (string | V)[] | null, key: string, v: V): (string | V)[] {
  if (patch === null) return [key, v];
  const i = patchIndex(patch, key);
  if (i >= 0) patch[i] = v;
  else patch.push(key, v);
  return patch;
}

/**
 * One resident's state during one evaluation: the base plus this event's changes. It
 * carries every field of a ResidentDelta, so it is handed over as the delta itself.
 */
class ResidentWork implements ResidentDelta {
  readonly ref: string;
  readonly base: ResidentState | undefined;
  #account: string | null = null;
  clock: number;
  clockDay: number;
  lastAt: number;
  lastKiosk: string;
  lastSeq: number;
  /** This event's position is before the latest already evaluated for this resident. */
  late = false;
  /** So late that its limit counters may be gone: it earns nothing. */
  tooLate = false;
  counters: CounterWrites | null = null;
  lots: LotList | null = null;
  overdraft: OverdraftWrites | null = null;
  streaks: StreakWrites | null = null;
  pending: PendingWrites | null = null;

  constructor(ref: string, base: ResidentState | undefined) {
    this.ref = ref;
    this.base = base;
    this.clock = base ? base.clock : 0;
    this.clockDay = base ? base.clockDay : 0;
    this.lastAt = base ? base.lastAt : -1;
    this.lastKiosk = base ? base.lastKiosk : '';
    this.lastSeq = base ? base.lastSeq : 0;
  }

  /** The resident's ledger account (held in their state: no lookup by ref). */
  get account(): string {
    return (this.#account ??= this.base?.account ?? residentAccounts.of(this.ref));
  }

  counter(code: number, name: number): number {
    return readCounter(this.counters, this.base?.counters, code, name);
  }

  setCounter(code: number, name: number, v: number): void {
    // A literal, not [] then push: a first push would reserve room for 16 entries.
    if (this.counters === null) this.counters = [code, name, v];
    else this.counters.push(code, name, v);
  }

  lotList(): LotList {
    return this.lots ?? this.base?.lots ?? EMPTY_LOTS;
  }

  od(wallet: string): number {
    const o = this.overdraft;
    const i = patchIndex(o, wallet);
    if (i >= 0) return (o as OverdraftWrites)[i] as number;
    return this.base?.overdraft?.get(wallet) ?? 0;
  }

  setOd(wallet: string, v: number): void {
    this.overdraft = patchSet(this.overdraft, wallet, v);
  }

  available(wallet: string): number {
    const lots = this.lotList();
    let sum = 0;
    for (let i = 0; i < lots.length; i += LOT_STRIDE) {
      if (lots[i + L_WALLET] === wallet) sum += lots[i + L_AMOUNT] as number;
    }
    return sum - this.od(wallet);
  }

  streakDays(k: string): readonly number[] {
    const st = this.streaks;
    const i = patchIndex(st, k);
    if (i >= 0) return (st as StreakWrites)[i] as number[];
    return this.base?.streaks?.get(k) ?? EMPTY_DAYS;
  }

  setStreak(k: string, days: number[]): void {
    this.streaks = patchSet(this.streaks, k, days);
  }

  pendingOf(id: string): PendingTime | undefined {
    const p = this.pending;
    const i = patchIndex(p, id);
    if (i >= 0) return ((p as PendingWrites)[i] as PendingTime | null) ?? undefined;
    return this.base?.pending?.get(id);
  }

  setPending(id: string, v: PendingTime | null): void {
    this.pending = patchSet(this.pending, id, v);
  }

  /** Adds to the lot with the same key, or inserts a new lot in spending order. */
  addLot(
    wallet: string,
    schemeId: string,
    version: number,
    source: string,
    amount: number,
    expires: number,
    eventId: string,
    lineIndex: number,
  ): void {
    const cur = this.lotList();
    let pos = cur.length;
    let c = 1;
    while (
      pos > 0 &&
      (c = compareLotKeys(expires, wallet, schemeId, version, source, cur, pos - LOT_STRIDE)) < 0
    ) {
      pos -= LOT_STRIDE;
    }
    if (pos > 0 && c === 0) {
      // `lots`, once set, is this evaluation's own copy: change it in place.
      const next = this.lots ?? cur.slice();
      const a = pos - LOT_STRIDE + L_AMOUNT;
      next[a] = (next[a] as number) + amount;
      this.lots = next;
      return;
    }
    const n = cur.length;
    let next: LotList;
    if (this.lots !== null) {
      // This evaluation's own copy already: make room in place.
      next = this.lots;
      for (let k = 0; k < LOT_STRIDE; k++) next.push(0);
      for (let i = n - 1; i >= pos; i--) next[i + LOT_STRIDE] = next[i] as string | number;
    } else {
      // A new list of exactly the right size (splice would reserve room for more).
      next = new Array<string | number>(n + LOT_STRIDE);
      for (let i = 0; i < pos; i++) next[i] = cur[i] as string | number;
      for (let i = pos; i < n; i++) next[i + LOT_STRIDE] = cur[i] as string | number;
    }
    next[pos + L_WALLET] = wallet;
    next[pos + L_SCHEME] = schemeId;
    next[pos + L_VERSION] = version;
    next[pos + L_SOURCE] = source;
    next[pos + L_AMOUNT] = amount;
    next[pos + L_EXPIRES] = expires;
    writeLotId(next, pos, eventId, lineIndex);
    this.lots = next;
  }
}

const NO_WRITES: CounterWrites = [];

/**
 * A scheme's or ward's counters during one evaluation. Once written to, it is its own
 * delta (as ResidentWork is): no copies.
 */
class CounterWork implements CounterDelta {
  readonly id: string;
  readonly base: CounterState | undefined;
  /** This evaluation's writes; NO_WRITES (shared, never written) until the first. */
  counters: CounterWrites = NO_WRITES;

  constructor(id: string, base: CounterState | undefined) {
    this.id = id;
    this.base = base;
  }

  get(code: number, name: number): number {
    return readCounter(this.counters, this.base?.counters, code, name);
  }

  set(code: number, name: number, v: number): void {
    if (this.counters === NO_WRITES) this.counters = [code, name, v];
    else this.counters.push(code, name, v);
  }
}

interface SchemeRef {
  id: string;
  version: number;
}

const NO_COUNTER_DELTAS: readonly CounterDelta[] = Object.freeze([]);
const NO_RESIDENT_DELTAS: readonly ResidentDelta[] = Object.freeze([]);

/** The works written to: usually all of them, handed over as they are. */
function counterDeltas(works: readonly CounterWork[] | null): readonly CounterDelta[] {
  if (works === null) return NO_COUNTER_DELTAS;
  let all = true;
  for (let i = 0; i < works.length; i++) {
    if ((works[i] as CounterWork).counters === NO_WRITES) all = false;
  }
  if (all) return works;
  let out: CounterDelta[] | null = null;
  for (let i = 0; i < works.length; i++) {
    const c = works[i] as CounterWork;
    if (c.counters === NO_WRITES) continue;
    if (out === null) out = [c];
    else out.push(c);
  }
  return out ?? NO_COUNTER_DELTAS;
}

class Run {
  // Arrays are made on their first entry, as literals: most events have one line, one
  // message, no flag and one resident, and `[]` then push would reserve 16 entries each.
  #lines: LedgerLine[] | null = null;
  #messages: ResidentMessage[] | null = null;
  #flags: EngineFlag[] | null = null;
  #residents: ResidentWork[] | null = null;
  #schemes: CounterWork[] | null = null;
  #wards: CounterWork[] | null = null;
  readonly t: number;
  readonly cal: LondonTime;

  constructor(
    readonly state: EngineStateView,
    readonly event: EngineEvent,
    readonly ctx: EvaluationContext,
    readonly compiled: CompiledSchemes,
  ) {
    this.t = parseInstant(event.occurredAt);
    if (Number.isNaN(this.t)) throw new Error(`event ${event.id}: occurredAt is not an instant`);
    this.cal = londonTime(this.t);
  }

  // ── plumbing ────────────────────────────────────────────────────────────────

  profile(ref: string): ResidentProfile | undefined {
    return profileIn(this.ctx, this.event.residentRef, ref);
  }

  /** One ledger line. The scheme comes as id and version: no object per line to say which. */
  line(
    schemeId: string,
    schemeVersion: number,
    ruleId: string,
    wallet: string,
    from: string,
    to: string,
    amount: number,
  ): void {
    const l: LedgerLine = {
      eventId: this.event.id as EventId,
      index: this.lineCount(),
      schemeId: schemeId as SchemeId,
      schemeVersion,
      ruleId,
      wallet: wallet as WalletId,
      from: from as AccountId,
      to: to as AccountId,
      amount,
    };
    if (this.#lines === null) this.#lines = [l];
    else this.#lines.push(l);
  }

  lineCount(): number {
    return this.#lines === null ? 0 : this.#lines.length;
  }

  message(m: ResidentMessage): void {
    if (this.#messages === null) this.#messages = [m];
    else this.#messages.push(m);
  }

  flag(code: FlagCode, detail: string, extra?: Omit<EngineFlag, 'code' | 'detail'>): void {
    const f: EngineFlag = { code, detail };
    if (extra !== undefined) {
      if (extra.residentRef !== undefined) f.residentRef = extra.residentRef;
      if (extra.schemeId !== undefined) f.schemeId = extra.schemeId;
      if (extra.ruleId !== undefined) f.ruleId = extra.ruleId;
      if (extra.amount !== undefined) f.amount = extra.amount;
    }
    if (this.#flags === null) this.#flags = [f];
    else this.#flags.push(f);
  }

  /**
   * The resident's working state for this event. The first time a resident is touched:
   * late / too-late detection against their latest canonical key and clock, then their
   * clock moves forward to this event, expiring every lot that has expired by then.
   */
  resident(ref: string): ResidentWork {
    const ws = this.#residents;
    if (ws !== null) {
      for (let i = 0; i < ws.length; i++)
        if ((ws[i] as ResidentWork).ref === ref) return ws[i] as ResidentWork;
    }
    const w = new ResidentWork(ref, this.state.resident(ref));
    if (ws === null) this.#residents = [w];
    else ws.push(w);
    const at = this.t;
    const kioskId = this.event.kioskId;
    const seq = this.event.seq;
    if (
      w.lastAt > at ||
      (w.lastAt === at && (w.lastKiosk > kioskId || (w.lastKiosk === kioskId && w.lastSeq > seq)))
    ) {
      w.late = true;
    } else {
      w.lastAt = at;
      // Most residents come back to the same kiosk: keep the copy already held.
      if (w.lastKiosk !== kioskId) w.lastKiosk = kioskIds.of(kioskId);
      w.lastSeq = seq;
    }
    // Cheap test first: within (horizon - 1) days of the clock is never too late.
    if (
      w.base !== undefined &&
      this.t < w.clock - (LATE_HORIZON_DAYS - 1) * DAY_MS &&
      this.cal.day < w.clockDay - LATE_HORIZON_DAYS
    ) {
      w.tooLate = true;
    }
    this.advance(w, this.t, this.cal.day);
    return w;
  }

  advance(w: ResidentWork, t: number, day: number): void {
    if (t <= w.clock) return;
    w.clockDay = day;
    if (w.lots === null && (w.base === undefined || w.base.nextExpiry > t)) {
      w.clock = t;
      return;
    }
    const lots = w.lotList();
    let n = 0;
    while (n < lots.length) {
      const e = lots[n + L_EXPIRES] as number;
      if (e === NEVER_EXPIRES || e * 60_000 > t) break;
      n += LOT_STRIDE;
    }
    if (n > 0) {
      for (let i = 0; i < n; i += LOT_STRIDE) {
        const wallet = lots[i + L_WALLET] as string;
        const schemeId = lots[i + L_SCHEME] as string;
        const amount = lots[i + L_AMOUNT] as number;
        this.line(
          schemeId,
          lots[i + L_VERSION] as number,
          'expiry',
          wallet,
          w.account,
          lots[i + L_SOURCE] as string,
          amount,
        );
        this.message({ code: 'expired', residentRef: w.ref, wallet, amount, schemeId });
      }
      w.lots = lots.slice(n);
    }
    w.clock = t;
  }

  schemeWork(id: string): CounterWork {
    const cs = this.#schemes;
    if (cs !== null) {
      for (let i = 0; i < cs.length; i++)
        if ((cs[i] as CounterWork).id === id) return cs[i] as CounterWork;
    }
    const c = new CounterWork(id, this.state.scheme(id));
    if (cs === null) this.#schemes = [c];
    else cs.push(c);
    return c;
  }

  wardWork(id: string): CounterWork {
    const ws = this.#wards;
    if (ws !== null) {
      for (let i = 0; i < ws.length; i++)
        if ((ws[i] as CounterWork).id === id) return ws[i] as CounterWork;
    }
    const c = new CounterWork(id, this.state.ward(id));
    if (ws === null) this.#wards = [c];
    else ws.push(c);
    return c;
  }

  delta(): StateDelta {
    // Each resident's work is its own delta: no copies.
    return {
      residents: this.#residents ?? NO_RESIDENT_DELTAS,
      schemes: counterDeltas(this.#schemes),
      wards: counterDeltas(this.#wards),
    };
  }

  // ── money movements ─────────────────────────────────────────────────────────

  /** Credits a resident: one line, then pays off any overdraft, then opens (or tops up) a lot. */
  credit(
    w: ResidentWork,
    scheme: SchemeRef,
    source: string,
    ruleId: string,
    wallet: string,
    amount: number,
    expiry: Expiry,
    cal: LondonTime,
  ): void {
    const index = this.lineCount();
    this.line(scheme.id, scheme.version, ruleId, wallet, source, w.account, amount);
    let rest = amount;
    const od = w.od(wallet);
    if (od > 0) {
      const pay = od < rest ? od : rest;
      w.setOd(wallet, od - pay);
      rest -= pay;
    }
    if (rest === 0) return;
    const expiresAt = expiryInstant(expiry, cal);
    if (expiresAt !== null && expiresAt <= w.clock) {
      // A late credit whose expiry the resident's clock has already passed.
      this.line(scheme.id, scheme.version, 'expiry', wallet, w.account, source, rest);
      this.message({
        code: 'expired',
        residentRef: w.ref,
        wallet,
        amount: rest,
        schemeId: scheme.id,
      });
      return;
    }
    w.addLot(
      wallet,
      scheme.id,
      scheme.version,
      source,
      rest,
      expiryMinutes(expiresAt),
      this.event.id,
      index,
    );
  }

  /**
   * Spends from a resident's wallet, oldest-expiring lot first; one line per run of lots
   * from the same scheme version. What the lots cannot cover becomes an overdraft.
   * Returns the amount overdrawn.
   */
  spend(
    w: ResidentWork,
    wallet: string,
    amount: number,
    to: string,
    ruleId: string,
    fallback: SchemeRef,
  ): number {
    const lots = w.lotList();
    let rest = amount;
    let out: LotList | null = null;
    let gId = '';
    let gVersion = 0;
    let gAmount = 0;
    for (let i = 0; i < lots.length; i += LOT_STRIDE) {
      if (rest === 0 || lots[i + L_WALLET] !== wallet) {
        if (out) for (let k = 0; k < LOT_STRIDE; k++) out.push(lots[i + k] as string | number);
        continue;
      }
      if (!out) out = lots.slice(0, i);
      const have = lots[i + L_AMOUNT] as number;
      const take = have < rest ? have : rest;
      rest -= take;
      if (take < have) {
        for (let k = 0; k < LOT_STRIDE; k++) out.push(lots[i + k] as string | number);
        out[out.length - LOT_STRIDE + L_AMOUNT] = have - take;
      }
      const schemeId = lots[i + L_SCHEME] as string;
      const version = lots[i + L_VERSION] as number;
      if (gAmount > 0 && (gId !== schemeId || gVersion !== version)) {
        this.line(gId, gVersion, ruleId, wallet, w.account, to, gAmount);
        gAmount = 0;
      }
      gId = schemeId;
      gVersion = version;
      gAmount += take;
    }
    if (gAmount > 0) this.line(gId, gVersion, ruleId, wallet, w.account, to, gAmount);
    if (out) w.lots = out;
    if (rest > 0) {
      this.line(fallback.id, fallback.version, ruleId, wallet, w.account, to, rest);
      w.setOd(wallet, w.od(wallet) + rest);
    }
    return rest;
  }

  // ── limits and budgets ──────────────────────────────────────────────────────

  limitRefusal(
    w: ResidentWork,
    limits: readonly CompiledLimit[],
    names: CounterNames,
    amount: number,
    cal: LondonTime,
  ): CompiledLimit | null {
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i] as CompiledLimit;
      const pk = periodCodeOf(l.period, cal);
      if (l.maxAmount !== null && w.counter(pk, names.a) + amount > l.maxAmount) return l;
      if (l.maxEvents !== null && w.counter(pk, names.n) + 1 > l.maxEvents) return l;
    }
    return null;
  }

  commitLimits(
    w: ResidentWork,
    limits: readonly CompiledLimit[],
    names: CounterNames,
    amount: number,
    cal: LondonTime,
  ): void {
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i] as CompiledLimit;
      const pk = periodCodeOf(l.period, cal);
      if (l.maxAmount !== null) w.setCounter(pk, names.a, w.counter(pk, names.a) + amount);
      if (l.maxEvents !== null) w.setCounter(pk, names.n, w.counter(pk, names.n) + 1);
    }
  }

  budgetAllows(cs: CompiledScheme, amount: number, cal: LondonTime): boolean {
    const b = cs.def.budget;
    if (!b) return true;
    return (
      this.schemeWork(cs.id).get(budgetPeriod(b.period, cal), BUDGET_COUNTER) + amount <= b.amount
    );
  }

  commitBudget(cs: CompiledScheme, amount: number, cal: LondonTime): void {
    const b = cs.def.budget;
    if (!b) return;
    const c = this.schemeWork(cs.id);
    const pk = budgetPeriod(b.period, cal);
    c.set(pk, BUDGET_COUNTER, c.get(pk, BUDGET_COUNTER) + amount);
  }

  /**
   * Earns `amount` for a resident if every limit and the budget allow the whole of it;
   * otherwise nothing, with a message that says why. All or nothing, in arrival order,
   * for on-time and late events alike: that is what makes a late event unable to take
   * back anything already granted.
   */
  earn(
    w: ResidentWork,
    cs: CompiledScheme,
    ruleId: string,
    ruleNames: CounterNames,
    ruleLimits: readonly CompiledLimit[],
    schemeLimits: boolean,
    amount: number,
    expiry: Expiry,
    cal: LondonTime,
    code: 'earned' | 'achievement' | 'granted' | 'time-credited',
    source: string = cs.account,
  ): boolean {
    if (amount <= 0) return false;
    const wallet = cs.def.wallet;
    let l = this.limitRefusal(w, ruleLimits, ruleNames, amount, cal);
    let scope: 'rule' | 'scheme' = 'rule';
    if (!l && schemeLimits) {
      l = this.limitRefusal(w, cs.limits, cs.limitNames, amount, cal);
      scope = 'scheme';
    }
    if (l) {
      const m: ResidentMessage = {
        code: 'limit-reached',
        residentRef: w.ref,
        wallet,
        amount,
        schemeId: cs.id,
        ruleId,
        period: l.period,
        limitScope: scope,
      };
      if (l.maxAmount !== null) m.limit = l.maxAmount;
      if (l.maxEvents !== null) m.maxEvents = l.maxEvents;
      this.message(m);
      if (w.late) {
        this.flag(
          'limit-reached',
          `late event earned nothing from ${cs.id}/${ruleId}: the ${l.period} limit is already used`,
          {
            residentRef: w.ref,
            schemeId: cs.id,
            ruleId,
          },
        );
      }
      return false;
    }
    if (!this.budgetAllows(cs, amount, cal)) {
      this.message({
        code: 'budget-exhausted',
        residentRef: w.ref,
        wallet,
        amount,
        schemeId: cs.id,
        ruleId,
      });
      this.flag('budget-exhausted', `${cs.id} budget is used up`, {
        residentRef: w.ref,
        schemeId: cs.id,
        ruleId,
        amount,
      });
      return false;
    }
    this.commitLimits(w, ruleLimits, ruleNames, amount, cal);
    if (schemeLimits) this.commitLimits(w, cs.limits, cs.limitNames, amount, cal);
    this.commitBudget(cs, amount, cal);
    this.credit(w, cs, source, ruleId, wallet, amount, expiry, cal);
    this.message({ code, residentRef: w.ref, wallet, amount, schemeId: cs.id, ruleId });
    return true;
  }

  tooLate(w: ResidentWork, cs: CompiledScheme, ruleId: string): void {
    if (this.#messages?.some((m) => m.code === 'too-late' && m.residentRef === w.ref)) return;
    this.message({ code: 'too-late', residentRef: w.ref, schemeId: cs.id, ruleId });
    this.flag(
      'too-late',
      `more than ${LATE_HORIZON_DAYS} days behind the resident's latest event: earns nothing`,
      {
        residentRef: w.ref,
      },
    );
  }

  // ── event types ─────────────────────────────────────────────────────────────

  visitOrSession(e: VisitEvent | SessionEvent): void {
    const w = this.resident(e.residentRef);
    const profile = this.profile(e.residentRef);
    const kind = serviceKindOf(this.ctx);
    const venueType = this.ctx.venue?.type ?? null;
    const health = kind !== null && HEALTH_SERVICE_KINDS.includes(kind as ServiceKind);
    const t = this.t;
    // Indexed loops here and below: once or more per event, and iterators would allocate.
    const schemes = e.type === 'visit' ? this.compiled.forVisits(t) : this.compiled.forSessions(t);
    for (let si = 0; si < schemes.length; si++) {
      const cs = schemes[si] as CompiledScheme;
      const rules = cs.earning[e.type];
      for (let ri = 0; ri < rules.length; ri++) {
        const r = rules[ri] as CompiledEarningRule;
        if (t < r.from || t >= r.to) continue;
        if (!matchTrigger(r.trigger, kind, e.serviceId, e.venueId, venueType)) continue;
        if (!isEligible(r.eligibility, profile)) continue;
        if (w.tooLate) this.tooLate(w, cs, r.id);
        else if (r.streak) this.streak(w, cs, r);
        else
          this.earn(
            w,
            cs,
            r.id,
            r.names,
            r.limits,
            true,
            this.amountOf(r, e),
            r.expiry,
            this.cal,
            'earned',
          );
        if (r.stop) break;
      }
      const targets = cs.wardTargets[e.type];
      // Health visits never count towards a collective reward (validation refuses such
      // targets; this is the second line of defence).
      if (targets.length > 0 && !health) {
        for (let ti = 0; ti < targets.length; ti++) {
          const wt = targets[ti] as CompiledWardTarget;
          if (
            wt.trigger === null ||
            !matchTrigger(wt.trigger, kind, e.serviceId, e.venueId, venueType)
          )
            continue;
          const ward =
            wt.target.ward === 'venue'
              ? (this.ctx.venue?.ward ?? null)
              : (profile?.homeWard ?? null);
          if (ward !== null) this.wardProgress(cs, wt, ward, 1, w.ref);
        }
      }
    }
    if (w.late)
      this.flag('late', 'arrived after later events of this resident', { residentRef: w.ref });
  }

  amountOf(r: CompiledEarningRule, e: VisitEvent | SessionEvent): number {
    let amount: number;
    if (r.amount.kind === 'fixed') amount = r.amount.value;
    else {
      const minutes = e.type === 'session' ? e.minutes : 0;
      const counted =
        r.amount.maxMinutes !== undefined && minutes > r.amount.maxMinutes
          ? r.amount.maxMinutes
          : minutes;
      amount = Math.floor((counted * r.amount.amount) / r.amount.everyMinutes);
    }
    const op = r.offPeak;
    if (op !== null) {
      const bit = 1 << this.cal.dayOfWeek;
      const m = this.cal.minuteOfDay;
      const ws = op.windows;
      for (let i = 0; i < ws.length; i++) {
        const win = ws[i] as CompiledOffPeak['windows'][number];
        if ((win.mask & bit) !== 0 && m >= win.from && m < win.to) {
          amount = Math.floor((amount * op.percent) / 100);
          break;
        }
      }
    }
    return amount;
  }

  /**
   * Streaks: the qualifying London days are kept; the achievement is granted for every
   * award period in which some qualifying day ends a window of `windowDays` holding at
   * least `count` qualifying days. Whatever the arrival order, the same periods earn it
   * (a late visit can complete a window that ends after it).
   */
  streak(w: ResidentWork, cs: CompiledScheme, r: CompiledEarningRule): void {
    const s = r.streak;
    if (!s || r.amount.kind !== 'fixed') return;
    const day = this.cal.day;
    let days = w.streakDays(r.key);
    const pos = lowerBound(days, day);
    if (days[pos] !== day) {
      const next = days.slice();
      next.splice(pos, 0, day);
      const keepFrom = lowerBound(next, w.clockDay - LATE_HORIZON_DAYS - s.windowDays);
      const kept = keepFrom > 0 ? next.slice(keepFrom) : next;
      w.setStreak(r.key, kept);
      days = kept;
    }
    const lastEnd = day + s.windowDays - 1;
    for (let i = lowerBound(days, day); i < days.length && (days[i] as number) <= lastEnd; i++) {
      const end = days[i] as number;
      const inWindow = i - lowerBound(days, end - s.windowDays + 1) + 1;
      if (inWindow < s.count) continue;
      const awardPeriod = periodCodeOfDay(s.awardOncePer, end);
      if (w.counter(awardPeriod, r.names.s) > 0) continue;
      if (
        this.earn(
          w,
          cs,
          r.id,
          r.names,
          r.limits,
          true,
          r.amount.value,
          r.expiry,
          this.cal,
          'achievement',
        )
      ) {
        w.setCounter(awardPeriod, r.names.s, 1);
      }
    }
  }

  wardProgress(
    cs: CompiledScheme,
    wt: CompiledWardTarget,
    ward: string,
    quantity: number,
    residentRef: string,
  ): void {
    const c = this.wardWork(ward);
    const pk = periodCodeOf(wt.target.period, this.cal);
    const progress = c.get(pk, wt.progress) + quantity;
    c.set(pk, wt.progress, progress);
    if (progress < wt.target.target || c.get(pk, wt.paid) > 0) return;
    const reward = wt.target.reward;
    if (!this.budgetAllows(cs, reward, this.cal)) {
      this.flag('budget-exhausted', `ward ${ward} met ${wt.key} but the budget is used up`, {
        schemeId: cs.id,
        ruleId: wt.target.id,
      });
      return;
    }
    this.commitBudget(cs, reward, this.cal);
    this.line(
      cs.id,
      cs.version,
      wt.target.id,
      cs.def.wallet,
      cs.account,
      wardAccounts.of(ward),
      reward,
    );
    c.set(pk, wt.paid, 1);
    this.message({
      code: 'ward-target-met',
      residentRef,
      wallet: cs.def.wallet,
      amount: reward,
      schemeId: cs.id,
      ruleId: wt.target.id,
      wardId: ward,
    });
  }

  wardContribution(e: WardContributionEvent): void {
    const w = this.resident(e.residentRef);
    const profile = this.profile(e.residentRef);
    const schemes = this.compiled.inForce(this.t);
    for (let si = 0; si < schemes.length; si++) {
      const cs = schemes[si] as CompiledScheme;
      const targets = cs.wardTargets['ward-contribution'];
      for (let ti = 0; ti < targets.length; ti++) {
        const wt = targets[ti] as CompiledWardTarget;
        if (wt.measures === null || !wt.measures.has(e.measure)) continue;
        const ward =
          wt.target.ward === 'event'
            ? e.wardId
            : wt.target.ward === 'venue'
              ? (this.ctx.venue?.ward ?? null)
              : (profile?.homeWard ?? null);
        if (ward !== null) this.wardProgress(cs, wt, ward, e.quantity, w.ref);
      }
    }
    if (w.late)
      this.flag('late', 'arrived after later events of this resident', { residentRef: w.ref });
  }

  unknown(
    code: 'unknown-scheme' | 'unknown-rule',
    residentRef: string,
    schemeId: string,
    ruleId: string,
  ): void {
    this.message({ code: 'unknown-rule', residentRef, schemeId, ruleId });
    this.flag(code, `${schemeId}/${ruleId} is not in force at ${this.event.occurredAt}`, {
      residentRef,
      schemeId,
      ruleId,
    });
  }

  grant(e: GrantEvent | AllowanceEvent): void {
    const w = this.resident(e.residentRef);
    const cs = this.compiled.version(e.schemeId, this.t);
    const g = cs?.grants.get(e.grantId);
    const wanted = e.type === 'allowance' ? 'allowance' : 'top-up';
    if (!cs || !g || g.rule.kind !== wanted || this.t < g.from || this.t >= g.to) {
      this.unknown(cs ? 'unknown-rule' : 'unknown-scheme', w.ref, e.schemeId, e.grantId);
      return;
    }
    const rule = g.rule;
    const ruleId = rule.id;
    if (w.tooLate) return this.tooLate(w, cs, ruleId);
    if (!isEligible(rule.eligibility, this.profile(w.ref))) {
      this.message({ code: 'not-eligible', residentRef: w.ref, schemeId: cs.id, ruleId });
      this.flag('not-eligible', `resident not eligible for ${g.key}`, {
        residentRef: w.ref,
        schemeId: cs.id,
        ruleId,
      });
      return;
    }
    if (rule.kind === 'allowance') {
      const pk = periodCodeOf(rule.period, this.cal);
      if (w.counter(pk, g.names.g) > 0) {
        this.message({
          code: 'already-granted',
          residentRef: w.ref,
          schemeId: cs.id,
          ruleId,
        });
        return;
      }
      if (
        this.earn(
          w,
          cs,
          ruleId,
          g.names,
          g.limits,
          false,
          rule.amount,
          g.expiry,
          this.cal,
          'granted',
        )
      )
        w.setCounter(pk, g.names.g, 1);
      return;
    }
    const amount = e.type === 'grant' ? e.amount : 0;
    const approvedBy = e.type === 'grant' ? e.approvedBy : null;
    if (rule.approval === 'staff' && approvedBy === null) {
      this.message({
        code: 'approval-required',
        residentRef: w.ref,
        schemeId: cs.id,
        ruleId,
      });
      this.flag('approval-missing', `top-up ${g.key} needs a staff approval`, {
        residentRef: w.ref,
        schemeId: cs.id,
        ruleId,
        amount,
      });
      return;
    }
    if (amount > rule.maxAmount) {
      this.message({
        code: 'over-maximum',
        residentRef: w.ref,
        schemeId: cs.id,
        ruleId,
        wallet: cs.def.wallet,
        amount,
      });
      this.flag('over-maximum', `top-up ${g.key} is at most ${rule.maxAmount}`, {
        residentRef: w.ref,
        schemeId: cs.id,
        ruleId,
        amount,
      });
      return;
    }
    this.earn(w, cs, ruleId, g.names, g.limits, false, amount, g.expiry, this.cal, 'granted');
  }

  redemption(e: RedemptionEvent): void {
    const w = this.resident(e.residentRef);
    const cs = this.compiled.version(e.schemeId, this.t);
    const r = redemptionRestrictions(cs, e.ruleId, this.t, e, this.ctx);
    for (const p of r.problems) {
      this.flag('restriction-violated', `${e.schemeId}/${e.ruleId}: ${p.code}: ${p.message}`, {
        residentRef: w.ref,
        schemeId: e.schemeId,
        ruleId: e.ruleId,
        amount: e.amount,
      });
    }
    const to = outletAccounts.of(e.outletId ?? e.venueId);
    const fallback: SchemeRef = cs ? cs : { id: e.schemeId, version: 1 };
    const overdrawn = this.spend(w, e.wallet, e.amount, to, e.ruleId, fallback);
    this.message({
      code: 'spent',
      residentRef: w.ref,
      wallet: e.wallet,
      amount: e.amount,
      schemeId: e.schemeId,
      ruleId: e.ruleId,
    });
    if (overdrawn > 0) {
      this.message({
        code: 'overdrawn',
        residentRef: w.ref,
        wallet: e.wallet,
        amount: overdrawn,
        schemeId: e.schemeId,
      });
      const owed = w.od(e.wallet);
      this.flag(
        'overdrawn',
        `${e.wallet} overdrawn by ${overdrawn} (now ${owed} below zero)${w.late ? ' by a late redemption' : ''}`,
        {
          residentRef: w.ref,
          schemeId: e.schemeId,
          ruleId: e.ruleId,
          amount: overdrawn,
        },
      );
      if (cs && owed > cs.def.redemption.offlineAllowance) {
        this.flag(
          'overdrawn-beyond-allowance',
          `${e.wallet} is ${owed} below zero, beyond the offline allowance`,
          {
            residentRef: w.ref,
            schemeId: e.schemeId,
            amount: owed,
          },
        );
      }
    }
    if (w.late)
      this.flag('late', 'arrived after later events of this resident', { residentRef: w.ref });
  }

  timeRecord(e: TimeRecordEvent): void {
    const giver = this.resident(e.residentRef);
    const cs = this.compiled.version(e.schemeId, this.t);
    const bank = cs?.def.timeBank;
    if (!cs || !bank)
      return this.unknown(
        cs ? 'unknown-rule' : 'unknown-scheme',
        giver.ref,
        e.schemeId,
        'time-bank',
      );
    if (e.receiverRef === e.residentRef) {
      this.message({ code: 'same-member', residentRef: giver.ref, schemeId: cs.id });
      this.flag('same-member', 'a member recorded time given to themselves', {
        residentRef: giver.ref,
        schemeId: cs.id,
      });
      return;
    }
    if (e.minutes > bank.maxMinutesPerRecord) {
      this.message({
        code: 'over-maximum',
        residentRef: giver.ref,
        schemeId: cs.id,
        wallet: 'time-credit',
        amount: e.minutes,
      });
      this.flag('over-maximum', `a record is at most ${bank.maxMinutesPerRecord} minutes`, {
        residentRef: giver.ref,
        schemeId: cs.id,
        amount: e.minutes,
      });
      return;
    }
    const p = giver.pendingOf(e.id);
    if (p?.kind === 'settled') {
      this.message({ code: 'already-confirmed', residentRef: giver.ref, schemeId: cs.id });
      return;
    }
    const record: PendingTime & { kind: 'record' } = {
      kind: 'record',
      at: this.t,
      schemeId: cs.id,
      receiverRef: e.receiverRef,
      minutes: e.minutes,
    };
    if (p?.kind === 'confirm') this.settle(giver, e.id, record, p);
    else {
      giver.setPending(e.id, record);
      this.message({
        code: 'awaiting-confirmation',
        residentRef: giver.ref,
        schemeId: cs.id,
        wallet: 'time-credit',
        amount: e.minutes,
      });
    }
    if (giver.late)
      this.flag('late', 'arrived after later events of this resident', { residentRef: giver.ref });
  }

  timeConfirm(e: TimeConfirmEvent): void {
    const presenter = this.resident(e.residentRef);
    const giver = this.resident(e.giverRef);
    const cs = this.compiled.version(e.schemeId, this.t);
    const bank = cs?.def.timeBank;
    if (!cs || !bank)
      return this.unknown(
        cs ? 'unknown-rule' : 'unknown-scheme',
        presenter.ref,
        e.schemeId,
        'time-bank',
      );
    if (!bank.confirmers.includes(e.confirmedBy)) {
      this.message({
        code: 'confirmer-not-allowed',
        residentRef: presenter.ref,
        schemeId: cs.id,
      });
      this.flag(
        'confirmer-not-allowed',
        `${cs.id} does not accept confirmation by the ${e.confirmedBy}`,
        { residentRef: presenter.ref, schemeId: cs.id },
      );
      return;
    }
    const p = giver.pendingOf(e.recordId);
    if (p?.kind === 'settled' || p?.kind === 'confirm') {
      this.message({
        code: 'already-confirmed',
        residentRef: presenter.ref,
        schemeId: cs.id,
      });
      return;
    }
    const confirm: PendingTime & { kind: 'confirm' } = {
      kind: 'confirm',
      at: this.t,
      confirmedBy: e.confirmedBy,
      confirmerRef: e.residentRef,
      receiverRef: e.receiverRef,
    };
    if (p?.kind === 'record') this.settle(giver, e.recordId, p, confirm);
    else {
      giver.setPending(e.recordId, confirm);
      this.message({ code: 'awaiting-record', residentRef: presenter.ref, schemeId: cs.id });
    }
    if (presenter.late)
      this.flag('late', 'arrived after later events of this resident', {
        residentRef: presenter.ref,
      });
  }

  /**
   * Settles a confirmed time record, in its canonical place (the time it was given):
   * the giver earns the minutes from the bank; the receiver pays them to the bank, down
   * to the credit limit; the bank's own account absorbs what the limit stops.
   */
  settle(
    giver: ResidentWork,
    recordId: string,
    record: PendingTime & { kind: 'record' },
    confirm: PendingTime & { kind: 'confirm' },
  ): void {
    if (
      confirm.receiverRef !== record.receiverRef ||
      (confirm.confirmedBy === 'receiver' && confirm.confirmerRef !== record.receiverRef)
    ) {
      // Not a valid confirmation: the record stays pending for a valid one.
      this.flag(
        'confirmer-mismatch',
        `confirmation of ${recordId} does not come from its receiver`,
        {
          residentRef: giver.ref,
          schemeId: record.schemeId,
        },
      );
      giver.setPending(recordId, record);
      return;
    }
    giver.setPending(recordId, { kind: 'settled', at: record.at });
    const cs = this.compiled.version(record.schemeId, record.at);
    const bank = cs?.def.timeBank;
    if (!cs || !bank)
      return this.unknown('unknown-scheme', giver.ref, record.schemeId, 'time-bank');
    const receiver = this.resident(record.receiverRef);
    if (
      bank.eligibility &&
      (!isEligible(bank.eligibility, this.profile(giver.ref)) ||
        !isEligible(bank.eligibility, this.profile(receiver.ref)))
    ) {
      this.message({ code: 'not-eligible', residentRef: giver.ref, schemeId: cs.id });
      this.flag('not-eligible', 'giver or receiver is not a time-bank member', {
        residentRef: giver.ref,
        schemeId: cs.id,
      });
      return;
    }
    const cal = londonTime(record.at);
    if (giver.base !== undefined && cal.day < giver.base.clockDay - LATE_HORIZON_DAYS)
      return this.tooLate(giver, cs, 'time-given');
    const source = cs.bankAccount;
    const minutes = record.minutes;
    if (
      !this.earn(
        giver,
        cs,
        'time-given',
        cs.limitNames,
        [],
        true,
        minutes,
        cs.def.expiry,
        cal,
        'time-credited',
        source,
      )
    )
      return;
    const room = receiver.available('time-credit') + bank.creditLimitMinutes;
    const charged = room <= 0 ? 0 : room < minutes ? room : minutes;
    if (charged < minutes) {
      this.message({
        code: 'credit-limit-reached',
        residentRef: receiver.ref,
        schemeId: cs.id,
        wallet: 'time-credit',
        amount: minutes - charged,
      });
      this.flag(
        'credit-limit-reached',
        `receiver at the ${bank.creditLimitMinutes}-minute credit limit: the bank absorbed ${minutes - charged}`,
        {
          residentRef: receiver.ref,
          schemeId: cs.id,
          amount: minutes - charged,
        },
      );
    }
    if (charged > 0) {
      this.spend(receiver, 'time-credit', charged, source, 'time-received', cs);
      this.message({
        code: 'time-charged',
        residentRef: receiver.ref,
        schemeId: cs.id,
        wallet: 'time-credit',
        amount: charged,
      });
    }
  }

  expirySweep(residentRef: string): void {
    this.resident(residentRef);
  }

  run(): EngineResult {
    const e = this.event;
    switch (e.type) {
      case 'visit':
      case 'session':
        this.visitOrSession(e);
        break;
      case 'redemption':
        this.redemption(e);
        break;
      case 'time-record':
        this.timeRecord(e);
        break;
      case 'time-confirm':
        this.timeConfirm(e);
        break;
      case 'grant':
      case 'allowance':
        this.grant(e);
        break;
      case 'ward-contribution':
        this.wardContribution(e);
        break;
      case 'expiry-sweep':
        this.expirySweep(e.residentRef);
        break;
    }
    return {
      lines: this.#lines ?? [],
      messages: this.#messages ?? [],
      flags: this.#flags ?? [],
      stateDelta: this.delta(),
    };
  }
}

/**
 * THE ENGINE. Evaluates one event in its canonical place against the state (as left by
 * every event evaluated before it, in arrival order) and the scheme versions in force
 * when it happened. Pure: reads `state`, never writes it; apply `stateDelta` afterwards
 * (MemoryEngineState.apply, or applyResidentDelta / applyCounterDelta per row).
 *
 * `schemes` may be the definitions (compiled once and cached per array) or the result of
 * compileSchemes(). Throws only on an event whose occurredAt is not an instant (the
 * protocol schema already refuses those).
 */
export function evaluate(
  state: EngineStateView,
  event: EngineEvent,
  context: EvaluationContext,
  schemes: readonly SchemeDefinition[] | CompiledSchemes,
): EngineResult {
  const compiled = isCompiled(schemes) ? schemes : compileSchemes(schemes);
  return new Run(state, event, context, compiled).run();
}

/**
 * Legacy, stateless preview: evaluate() against an empty state, so limits, budgets,
 * balances and streaks already used are not known. Use evaluate() for anything that
 * writes the ledger.
 */
export function evaluateEvent(
  event: EngineEvent,
  ctx: EvaluationContext,
  schemes: readonly SchemeDefinition[] | CompiledSchemes,
): Evaluation {
  const r = evaluate(EMPTY_STATE, event, ctx, schemes);
  return { lines: r.lines, messages: r.messages };
}

export type { ResidentProfile };
export * from './compile.js';
export * from './context.js';
export * from './london-time.js';
export * from './lots.js';
export * from './messages.js';
export * from './redemption.js';
export * from './replay.js';
export * from './state.js';
