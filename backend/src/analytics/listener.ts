import type { AcceptedVisit, IngestionListener } from '../sync/ingest.js';
import { USAGE_VERSION, holdChanges, type AnalyticsDb, type ResidentDims } from './analytics-db.js';
import { packedLondonSlot, parseInstant } from './london-slots.js';
import {
  C,
  KIND_GP,
  NF,
  WINDOW_DAYS,
  applyVisitToRow,
  distinctCounts,
  usageAddVisit,
  type UsageRow,
  type VisitFact,
} from './model.js';
import { encodeResidentSet } from './privacy.js';
import { stepByStep, type WarmUp } from './warm-up.js';
import { HOUR_MS, startOfLondonDay, weekOfDay } from '@clubcard/shared/rules/london-time';

/** One visit as the in-memory query cache sees it. */
export interface CubeFact {
  week: number;
  how: number;
  venue: number;
  service: number;
  age: number;
  ward: number;
  residentId: number;
}

/** What the listener tells the rest of analytics (the dashboard's in-memory copies). */
export interface AnalyticsChangeSink {
  /** Called with the new usage version and the visits it added (inside the transaction). */
  usageChanged(version: number, facts: readonly CubeFact[]): void;
}

interface Pending {
  fact: VisitFact;
  venue: number;
  service: number;
}

/** A resident whose feature row and usage entries changed in memory, not yet written out. */
interface Held {
  dims: ResidentDims;
  row: Float64Array;
  usage: UsageRow[];
}

/** Residents whose rows are read together (and held in memory together). */
const ROWS_AT_ONCE = 1000;

/** Rollup cell changes are held as [week, how, venue, service, age, ward, residentId]. */
const CELL = 7;

/** Event-log rows applied at once when catching up. */
const CATCH_UP_ROWS = 50_000;

/**
 * analytics_meta key: the position in the event log (events.rowid) up to which accepted
 * visits are in the analytics tables. Visits after it are applied again at start-up.
 */
export const APPLIED_EVENT_KEY = 'listener_applied_rowid';

/** When held changes are written out: after this many visits, or this long after the first. */
export interface WriteOutThresholds {
  visits: number;
  ms: number;
}

export const DEFAULT_WRITE_OUT: WriteOutThresholds = { visits: 100_000, ms: 20_000 };

/** Residents' rows read per step when they are loaded again. */
const REWARM_PAGE_ROWS = 2_000;

/** While write-outs are paused, visits held before one is forced (times the threshold). */
const PAUSED_HOLD_FACTOR = 4;

/**
 * Keeps the usage rollup, the per-resident usage counters and the feature rows up to
 * date as visits are ingested. Called inside each ingestion batch's transaction, it
 * applies the batch to copies in memory of the residents' rows (read once, then held) and
 * notes the rollup cells to add to; they are written out together in one transaction,
 * with the event-log position they reach (`APPLIED_EVENT_KEY`), once enough visits or
 * time have gone by, before anything reads the analytics tables in SQL (the window
 * advance, segmentation, a rebuild, the usage version a cache keys on) and on close. So a
 * resident's page is written once per write-out rather than once per batch. The event log
 * stays the truth: visits after the written-out position are applied again at start-up
 * (a process that stopped without writing out loses nothing), and when the usage version
 * in SQL is not the one this listener left (a batch's transaction rolled back, another
 * writer moved the tables on), what it holds is dropped and applied again from the log.
 * Nothing is logged: there is nothing here an operator needs, and resident refs must stay
 * out of logs.
 */
export class AnalyticsIngestionListener implements IngestionListener {
  /** Scratch feature rows of the residents being updated. */
  readonly #rows = new Float64Array(NF * ROWS_AT_ONCE);
  /** Residents changed since the last write-out, by ref. */
  readonly #held = new Map<string, Held>();
  /** Rollup cell changes since the last write-out, in order (CELL numbers each). */
  #cells: number[] = [];
  #heldVisits = 0;
  /** Event-log position reached by what this listener holds. */
  #applied = 0;
  /** The usage version this listener last saw or left in SQL (null: not in step yet). */
  #version: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #writingOut = false;
  /** Callers holding write-outs back (see pauseWriteOuts). */
  #paused = 0;
  /** Residents' rows being loaded again after they were forgotten (see #drop). */
  #rewarm: WarmUp | null = null;
  readonly #release: () => void;

  constructor(
    private readonly adb: AnalyticsDb,
    private readonly sink: AnalyticsChangeSink,
    private readonly thresholds: WriteOutThresholds = DEFAULT_WRITE_OUT,
  ) {
    this.#release = holdChanges(adb.db, () => {
      this.flush();
    });
  }

  onAccepted(visits: readonly AcceptedVisit[], _now: number): void {
    if (visits.length === 0) return;
    const at = this.#positions(visits);
    this.#inStep(at?.first ?? Number.MAX_SAFE_INTEGER);
    const byResident = new Map<string, Pending[]>();
    for (const v of visits) {
      const e = v.event;
      this.#add(byResident, e.residentRef, e.venueId, e.serviceId, e.occurredAt);
    }
    if (at) this.#applied = Math.max(this.#applied, at.last);
    if (byResident.size === 0) return;
    const facts = this.apply(byResident);
    this.#changed(facts);
    const limit = this.thresholds.visits * (this.#paused > 0 ? PAUSED_HOLD_FACTOR : 1);
    if (this.#heldVisits >= limit) this.flush();
    else this.#writeOutLater();
  }

  /**
   * Holds back write-outs by time and by count (up to `PAUSED_HOLD_FACTOR` times the
   * count) until the returned function is called: the warm-up reads the usage tables a
   * page at a time and must see them unchanged. Explicit write-outs (a dashboard read,
   * the daily step, close) still run.
   */
  pauseWriteOuts(): () => void {
    this.#paused++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.#paused--;
      this.#writeOutLater();
    };
  }

  /** Groups one visit by resident (skipped if its time does not parse or its day is not kept). */
  #add(
    byResident: Map<string, Pending[]>,
    ref: string,
    venueId: string,
    serviceId: string,
    occurredAt: string,
    keep: (day: number) => boolean = () => true,
  ): void {
    const t = parseInstant(occurredAt);
    if (Number.isNaN(t)) return;
    const p = packedLondonSlot(t);
    const day = Math.floor(p / 256);
    if (!keep(day)) return;
    const service = this.adb.service(serviceId);
    const pending: Pending = {
      fact: { day, week: weekOfDay(day), hourOfWeek: p - day * 256, kind: service.kind },
      venue: this.adb.code('venue', venueId),
      service: service.code,
    };
    const list = byResident.get(ref);
    if (list) list.push(pending);
    else byResident.set(ref, [pending]);
  }

  /** Bumps the usage version for changes this listener made and tells the sink. */
  #changed(facts: readonly CubeFact[]): void {
    const v = this.adb.bump(USAGE_VERSION);
    this.#version = v;
    this.sink.usageChanged(v, facts);
  }

  /** First and last event-log positions of a batch's visits (null if none is in the log). */
  #positions(visits: readonly AcceptedVisit[]): { first: number; last: number } | null {
    const r = this.adb
      .s('SELECT MIN(rowid), MAX(rowid) FROM events WHERE id IN (SELECT value FROM json_each(?))')
      .raw(true)
      .get(JSON.stringify(visits.map((v) => v.event.id))) as [number | null, number | null];
    return r[0] === null || r[1] === null ? null : { first: r[0], last: r[1] };
  }

  /**
   * Brings what this listener holds in step with SQL: if the usage version there is not
   * the one it left, drops what it holds and applies the accepted visits after the
   * written-out position, up to (not including) event-log position `before`.
   */
  #inStep(before: number): void {
    const v = this.adb.storedMeta(USAGE_VERSION) ?? 0;
    if (v === this.#version) return;
    this.#drop();
    this.#version = v;
    this.catchUp(before);
  }

  /**
   * Applies the accepted visits after the written-out position (and before `before`)
   * that this listener does not hold: at start-up, those of a process that stopped
   * before writing them out. A database without a position yet gets the end of its event
   * log as one (everything before was applied as it was ingested).
   */
  catchUp(before = Number.MAX_SAFE_INTEGER): void {
    const stored = this.adb.storedMeta(APPLIED_EVENT_KEY);
    if (stored === null) {
      this.#applied = this.#logEnd();
      this.adb.setMeta(APPLIED_EVENT_KEY, this.#applied);
      this.#version = this.adb.storedMeta(USAGE_VERSION) ?? 0;
      return;
    }
    if (this.#version === null) this.#version = this.adb.storedMeta(USAGE_VERSION) ?? 0;
    const from = Math.max(stored, this.#applied);
    const st = this.adb
      .s(
        `SELECT rowid, resident_ref, venue_id, service_id, occurred_at FROM events
         WHERE rowid > ? AND rowid < ? AND type = 'visit' AND status = 'accepted'
         ORDER BY rowid LIMIT ?`,
      )
      .raw(true);
    for (let after = from; ;) {
      const rows = st.all(after, before, CATCH_UP_ROWS) as [
        number,
        string,
        string,
        string,
        string,
      ][];
      if (rows.length === 0) break;
      const byResident = new Map<string, Pending[]>();
      for (const [, ref, venueId, serviceId, at] of rows) {
        this.#add(byResident, ref, venueId, serviceId, at);
      }
      after = rows[rows.length - 1]?.[0] ?? before;
      this.#applied = Math.max(this.#applied, after);
      if (byResident.size > 0) this.#changed(this.apply(byResident));
    }
    if (this.#heldVisits > 0) this.#writeOutLater();
  }

  /** The last position in the event log (0 if it is empty). */
  #logEnd(): number {
    return (this.adb.s('SELECT COALESCE(MAX(rowid), 0) AS m FROM events').get() as { m: number }).m;
  }

  /**
   * After a rebuild from the event log up to position `upTo`: the tables reflect the log
   * up to there, whatever the listener applied before.
   */
  rebuilt(upTo: number): void {
    this.#drop();
    this.#applied = Math.max(upTo, this.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0);
    this.adb.setMeta(APPLIED_EVENT_KEY, this.#applied);
    this.#version = this.adb.storedMeta(USAGE_VERSION) ?? 0;
  }

  /** The end of the event log now (what a rebuild starting now reads up to, at least). */
  logEnd(): number {
    return this.#logEnd();
  }

  /** Forgets what this listener holds (without writing it out). */
  #drop(): void {
    this.#held.clear();
    this.#cells = [];
    this.#heldVisits = 0;
    this.#applied = 0;
    this.#clearTimer();
    // Ids of residents first seen in a rolled-back batch may be stale, and so may the rows
    // in memory: they are loaded again, a page per event-loop turn between batches (a
    // warm-up under way starts its rows again by itself).
    const warm = this.adb.rowsWarm;
    this.adb.forgetResidents();
    if (warm) {
      this.#rewarm?.stop();
      const w = stepByStep(this.adb.warmingRows(REWARM_PAGE_ROWS), this.adb.db);
      // A failed step leaves rows to be read on demand, as without them.
      w.done.catch(() => undefined);
      this.#rewarm = w;
    }
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #writeOutLater(): void {
    if (this.#timer || this.#heldVisits === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      // Between batches, outside any transaction; a closed database has nothing to take it.
      if (!this.adb.db.open || this.adb.db.inTransaction) return;
      if (this.#paused > 0) {
        this.#writeOutLater();
        return;
      }
      try {
        this.flush();
      } catch {
        // The database is busy (another process writing): what is held stays held (the
        // event log has it) and the next batch, read or timer writes it out.
        this.#writeOutLater();
      }
    }, this.thresholds.ms);
    this.#timer.unref();
  }

  /**
   * Bumps the usage version for a change made to the analytics tables outside this
   * listener (the window advance), so that other processes' listeners and caches see it.
   */
  noteChange(): void {
    this.#changed([]);
  }

  /** Visits applied in memory and not yet written out. */
  get heldVisits(): number {
    return this.#heldVisits;
  }

  /**
   * Writes out what this listener holds, in one transaction with the event-log position
   * it reaches (bumping the usage version, so caches keyed on it are read again).
   */
  flush(): void {
    if (this.#writingOut) return;
    this.#writingOut = true;
    try {
      this.#inStep(Number.MAX_SAFE_INTEGER);
      const stored = this.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0;
      if (this.#held.size === 0 && this.#cells.length === 0 && this.#applied <= stored) return;
      this.adb.db.transaction(() => {
        this.#writeOut();
      })();
    } finally {
      this.#writingOut = false;
    }
  }

  /**
   * Writes what this listener holds (rows in id order, then rollup cells) with the
   * event-log position it reaches, and forgets it; the caller holds the transaction (if
   * it rolls back, the usage version goes back and the next call applies the log again).
   * The residents whose rows it writes await re-scoring from the same commit on (see
   * `AnalyticsDb.markForRescore`): whichever process runs the daily step, and after any
   * restart, finds them.
   */
  #writeOut(): void {
    const held = [...this.#held.values()].sort((a, b) => a.dims.id - b.dims.id);
    for (const h of held) this.adb.writeResident(h.dims.id, h.row, 0, h.usage);
    this.adb.markForRescore(held.map((h) => h.dims.id));
    this.#writeCells();
    const stored = this.adb.storedMeta(APPLIED_EVENT_KEY) ?? 0;
    this.adb.setMeta(APPLIED_EVENT_KEY, Math.max(stored, this.#applied));
    this.#changed([]);
    this.#held.clear();
    this.#cells = [];
    this.#heldVisits = 0;
    this.#clearTimer();
  }

  /** Stops the write-out timer and reloading rows after writing out (the database stays open). */
  close(): void {
    this.#rewarm?.stop();
    this.flush();
    this.#clearTimer();
    this.#release();
  }

  /**
   * The held rollup changes, one upsert each, ordered by cell (a cell's in the order they
   * came, so a capped resident set keeps the same first residents).
   */
  #writeCells(): void {
    const c = this.#cells;
    const n = c.length / CELL;
    const order = Array.from({ length: n }, (_, i) => i * CELL);
    order.sort((a, b) => {
      for (let j = 0; j < CELL - 1; j++) {
        const d = (c[a + j] ?? 0) - (c[b + j] ?? 0);
        if (d !== 0) return d;
      }
      return a - b;
    });
    for (const o of order) {
      const id = c[o + 6] ?? 0;
      this.adb.addUsageVisits(
        c[o] ?? 0,
        c[o + 1] ?? 0,
        c[o + 2] ?? 0,
        c[o + 3] ?? 0,
        c[o + 4] ?? 0,
        c[o + 5] ?? 0,
        1,
        id,
        encodeResidentSet([id]),
      );
    }
  }

  /** Applies grouped visits to the held rows (reading those not held yet); returns them as cube facts. */
  apply(byResident: Map<string, Pending[]>): CubeFact[] {
    const windowStart = this.adb.storedMeta('window_start') ?? Number.MIN_SAFE_INTEGER;
    const facts: CubeFact[] = [];
    this.#hold([...byResident.keys()].filter((ref) => !this.#held.has(ref)));
    for (const [ref, list] of byResident) {
      const h = this.#held.get(ref);
      if (!h) continue;
      const { dims, row, usage } = h;
      for (const p of list) {
        const f = p.fact;
        const inWindow = f.day >= windowStart;
        applyVisitToRow(row, 0, f, 1, inWindow);
        let u = usage.find((x) => x.venue === p.venue && x.service === p.service);
        if (!u) {
          u = {
            venue: p.venue,
            service: p.service,
            visits: 0,
            lastDay: -1,
            ringWeek: -1,
            lo: 0,
            hi: 0,
          };
          usage.push(u);
        }
        usageAddVisit(u, f.day, f.week, inWindow);
        this.#cells.push(f.week, f.hourOfWeek, p.venue, p.service, dims.age, dims.ward, dims.id);
        this.#heldVisits++;
        facts.push({
          week: f.week,
          how: f.hourOfWeek,
          venue: p.venue,
          service: p.service,
          age: dims.age,
          ward: dims.ward,
          residentId: dims.id,
        });
      }
      this.setDistinct(row, usage);
    }
    return facts;
  }

  /**
   * Reads the rows of residents not held yet into held copies, a thousand at a time; a
   * resident seen for the first time gets an analytics row when reached (so new
   * residents' ids follow the order of `refs`). Residents the council does not know are
   * skipped.
   */
  #hold(refs: readonly string[]): void {
    const rows = this.#rows;
    for (let lo = 0; lo < refs.length; lo += ROWS_AT_ONCE) {
      const chunk = refs.slice(lo, lo + ROWS_AT_ONCE);
      const found = this.adb.loadResidents(chunk, rows);
      for (let i = 0; i < chunk.length; i++) {
        const ref = chunk[i] ?? '';
        const row = rows.slice(i * NF, i * NF + NF);
        const loaded = found[i] ?? this.adb.loadResident(ref, row, 0);
        if (loaded) this.#held.set(ref, { dims: loaded.dims, row, usage: loaded.usage });
      }
    }
  }

  /**
   * Moves the feature window to end on `analysisDay`: visits of the days that fall out of
   * it are subtracted from feature rows and usage counts (found by the time in their
   * UUIDv7 ids, with an hour of slack, then checked against their own time). Returns the
   * number of visits expired. Rollups keep all weeks; retention is a separate concern.
   * The rows are changed as held ones and written out with what the listener held, in
   * one transaction.
   */
  advanceWindow(analysisDay: number): number {
    this.#inStep(Number.MAX_SAFE_INTEGER);
    const newStart = analysisDay - WINDOW_DAYS + 1;
    // Without a window yet (no rebuild has run), every visit so far was counted: expire
    // everything before the new start.
    const oldStart = this.adb.storedMeta('window_start') ?? 0;
    if (newStart <= oldStart) {
      this.flush();
      this.adb.setMeta(
        'analysis_day',
        Math.max(analysisDay, this.adb.storedMeta('analysis_day') ?? analysisDay),
      );
      return 0;
    }
    const rows = this.adb.db
      .prepare(
        `SELECT resident_ref, venue_id, service_id, occurred_at FROM events
         WHERE id >= ? AND id < ? AND type = 'visit' AND status = 'accepted'`,
      )
      .raw(true)
      .all(
        uuidFloor(oldStart > 0 ? startOfLondonDay(oldStart) - HOUR_MS : 0),
        uuidFloor(startOfLondonDay(newStart) + HOUR_MS),
      ) as [string, string, string, string][];
    const byResident = new Map<string, Pending[]>();
    for (const [ref, venueId, serviceId, at] of rows) {
      this.#add(
        byResident,
        ref,
        venueId,
        serviceId,
        at,
        (day) => day >= oldStart && day < newStart,
      );
    }
    let expired = 0;
    this.#writingOut = true;
    try {
      this.adb.db.transaction(() => {
        // Expired visits come off the held rows (read if not held yet): each changed row
        // is written once, with what the listener held.
        this.#hold([...byResident.keys()].filter((ref) => !this.#held.has(ref)));
        for (const [ref, list] of byResident) {
          const h = this.#held.get(ref);
          if (!h) continue;
          for (const p of list) {
            applyVisitToRow(h.row, 0, p.fact, -1, true);
            const u = h.usage.find((x) => x.venue === p.venue && x.service === p.service);
            if (u && u.visits > 0) u.visits -= 1;
            expired++;
          }
          this.setDistinct(h.row, h.usage);
        }
        this.#writeOut();
        this.adb.setMeta('window_start', newStart);
        this.adb.setMeta('analysis_day', analysisDay);
      })();
    } finally {
      this.#writingOut = false;
    }
    return expired;
  }

  setDistinct(row: Float64Array, usage: readonly UsageRow[]): void {
    const d = distinctCounts(usage, (s) => this.isGp(s));
    row[C.xVenues] = d.xVenues;
    row[C.xServices] = d.xServices;
    row[C.aVenues] = d.aVenues;
    row[C.aServices] = d.aServices;
  }

  #gp: Map<number, boolean> | null = null;
  isGp(serviceCode: number): boolean {
    if (!this.#gp) this.#gp = new Map();
    let g = this.#gp.get(serviceCode);
    if (g === undefined) {
      const id = this.adb.keys('service')[serviceCode];
      g = id !== undefined && this.adb.service(id).kind === KIND_GP;
      this.#gp.set(serviceCode, g);
    }
    return g;
  }
}

/** The smallest UUIDv7 of a millisecond (ids compare as strings in time order). */
export function uuidFloor(ms: number): string {
  const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-7000-0000-000000000000`;
}
