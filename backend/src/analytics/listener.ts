import type { AcceptedVisit, IngestionListener } from '../sync/ingest.js';
import type { AnalyticsDb, ResidentDims } from './analytics-db.js';
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

/** What the listener tells the rest of analytics (cache, incremental segments). */
export interface AnalyticsChangeSink {
  /** Called with the new usage version and the visits it added (inside the transaction). */
  usageChanged(version: number, facts: readonly CubeFact[]): void;
  /** Residents whose feature rows changed since the last segmentation. */
  touched(residentId: number): void;
}

interface Pending {
  fact: VisitFact;
  venue: number;
  service: number;
}

/** Residents whose rows are read together (and held in memory together). */
const ROWS_AT_ONCE = 1000;

/**
 * Keeps the usage rollup, the per-resident usage counters and the feature rows up to
 * date as visits are ingested. Runs inside the ingestion batch's transaction, so what it
 * writes commits or rolls back with the events. Cost per batch: visits are grouped by
 * resident, so each resident's feature row and usage counters are read and written once
 * per batch; each visit is one rollup upsert. Nothing is logged: there is nothing here
 * an operator needs, and resident refs must stay out of logs.
 */
export class AnalyticsIngestionListener implements IngestionListener {
  /** Scratch feature rows of the residents being updated. */
  readonly #rows = new Float64Array(NF * ROWS_AT_ONCE);

  constructor(
    private readonly adb: AnalyticsDb,
    private readonly sink: AnalyticsChangeSink,
  ) {}

  onAccepted(visits: readonly AcceptedVisit[], _now: number): void {
    const byResident = new Map<string, Pending[]>();
    for (const v of visits) {
      const e = v.event;
      const t = parseInstant(e.occurredAt);
      if (Number.isNaN(t)) continue;
      const p = packedLondonSlot(t);
      const day = Math.floor(p / 256);
      const service = this.adb.service(e.serviceId);
      const pending: Pending = {
        fact: { day, week: weekOfDay(day), hourOfWeek: p - day * 256, kind: service.kind },
        venue: this.adb.code('venue', e.venueId),
        service: service.code,
      };
      const list = byResident.get(e.residentRef);
      if (list) list.push(pending);
      else byResident.set(e.residentRef, [pending]);
    }
    if (byResident.size === 0) return;
    const facts = this.apply(byResident);
    this.sink.usageChanged(this.adb.bump('usage_version'), facts);
  }

  /** Applies grouped visits; returns them as cube facts. */
  apply(byResident: Map<string, Pending[]>): CubeFact[] {
    const windowStart = this.adb.meta('window_start') ?? Number.MIN_SAFE_INTEGER;
    const facts: CubeFact[] = [];
    this.#eachResident(byResident, (dims, usage, row, list) => {
      const set = encodeResidentSet([dims.id]);
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
        this.adb.addUsageVisits(
          f.week,
          f.hourOfWeek,
          p.venue,
          p.service,
          dims.age,
          dims.ward,
          1,
          dims.id,
          set,
        );
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
      this.adb.writeResident(dims.id, row, 0, usage);
      this.sink.touched(dims.id);
    });
    return facts;
  }

  /**
   * Calls `fn` for each resident of `byResident` that the council knows, in the map's
   * order, with their dims, usage entries, feature row and visits: the rows are read
   * a thousand at a time; a resident seen for the first time gets
   * an analytics row when reached (so new residents' ids follow the map's order).
   */
  #eachResident(
    byResident: Map<string, Pending[]>,
    fn: (dims: ResidentDims, usage: UsageRow[], row: Float64Array, list: Pending[]) => void,
  ): void {
    const all = [...byResident.keys()];
    const rows = this.#rows;
    for (let lo = 0; lo < all.length; lo += ROWS_AT_ONCE) {
      const refs = all.slice(lo, lo + ROWS_AT_ONCE);
      const found = this.adb.loadResidents(refs, rows);
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i] ?? '';
        const row = rows.subarray(i * NF, i * NF + NF);
        const loaded = found[i] ?? this.adb.loadResident(ref, row, 0);
        if (loaded) fn(loaded.dims, loaded.usage, row, byResident.get(ref) ?? []);
      }
    }
  }

  /**
   * Moves the feature window to end on `analysisDay`: visits of the days that fall out of
   * it are subtracted from feature rows and usage counts (found by the time in their
   * UUIDv7 ids, with an hour of slack, then checked against their own time). Returns the
   * number of visits expired. Rollups keep all weeks; retention is a separate concern.
   */
  advanceWindow(analysisDay: number): number {
    const newStart = analysisDay - WINDOW_DAYS + 1;
    // Without a window yet (no rebuild has run), every visit so far was counted: expire
    // everything before the new start.
    const oldStart = this.adb.meta('window_start') ?? 0;
    if (newStart <= oldStart) {
      this.adb.setMeta(
        'analysis_day',
        Math.max(analysisDay, this.adb.meta('analysis_day') ?? analysisDay),
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
      const t = parseInstant(at);
      if (Number.isNaN(t)) continue;
      const p = packedLondonSlot(t);
      const day = Math.floor(p / 256);
      if (day < oldStart || day >= newStart) continue;
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
    let expired = 0;
    this.adb.db.transaction(() => {
      this.#eachResident(byResident, (dims, usage, row, list) => {
        for (const p of list) {
          applyVisitToRow(row, 0, p.fact, -1, true);
          const u = usage.find((x) => x.venue === p.venue && x.service === p.service);
          if (u && u.visits > 0) u.visits -= 1;
          expired++;
        }
        this.setDistinct(row, usage);
        this.adb.writeResident(dims.id, row, 0, usage);
        this.sink.touched(dims.id);
      });
      this.adb.setMeta('window_start', newStart);
      this.adb.setMeta('analysis_day', analysisDay);
    })();
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
