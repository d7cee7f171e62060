import type Database from 'better-sqlite3';
import { weekOfDay } from '@clubcard/shared/rules/london-time';
import { epochHourIn, packedSlotOfHour } from './london-slots.js';
import {
  C,
  NF,
  U_HI,
  U_LAST,
  U_LO,
  U_RING,
  U_SIZE,
  U_VISITS,
  USAGE_INTS,
  applyVisitToRow,
  distinctCounts,
  emptyFeatureRow,
  usageAddVisitAt,
} from './model.js';

/**
 * The scan at the heart of a rebuild, usable in the main thread or a worker (it needs
 * only a database handle and plain data). It streams the covering index
 * analytics_events_visits grouped by resident × venue × service, one row per group with
 * the visit times as one comma-separated string, so that tens of millions of visits
 * cross from SQLite into JavaScript as a few million rows of integers and one string
 * each (per-row and per-string costs dominate otherwise). Refs and ids become analytics
 * ids and codes in JavaScript (maps read once), not by joins per group.
 */
export interface ScanContext {
  windowStart: number;
  /** Feature kind class by service code. */
  serviceKind: readonly number[];
  /** Codes of venue and service ids. */
  venueCodes: Record<string, number>;
  serviceCodes: Record<string, number>;
  maxId: number;
}

export interface ScanRange {
  /** Resident refs from `lo` (inclusive) to `hi` (exclusive). */
  lo: string;
  hi: string;
}

/** Feature rows and usage entries of the residents seen, compact (transferable). */
export interface ScanOutput {
  ids: Int32Array;
  rows: Float64Array;
  usageStart: Int32Array;
  usage: Int32Array;
  visits: number;
}

export const GROUPS_SQL = `
  SELECT resident_ref, venue_id, service_id, group_concat(occurred_at, ',')
  FROM events INDEXED BY analytics_events_visits
  WHERE type = 'visit' AND status = 'accepted' AND resident_ref >= ? AND resident_ref < ?
  GROUP BY resident_ref, venue_id, service_id`;

export type GroupCallback = (id: number, venue: number, service: number, times: string) => void;

/**
 * Streams visit groups of a range of residents, as analytics ids and codes (groups of a
 * resident, venue or service without one are skipped, as a join would).
 */
export function forEachVisitGroup(
  db: Database.Database,
  range: ScanRange,
  codes: Pick<ScanContext, 'venueCodes' | 'serviceCodes'>,
  fn: GroupCallback,
): void {
  const ids = new Map<string, number>();
  for (const [ref, id] of db
    .prepare(
      'SELECT resident_ref, id FROM analytics_residents WHERE resident_ref >= ? AND resident_ref < ?',
    )
    .raw(true)
    .iterate(range.lo, range.hi) as Iterable<[string, number]>) {
    ids.set(ref, id);
  }
  const venues = new Map(Object.entries(codes.venueCodes));
  const services = new Map(Object.entries(codes.serviceCodes));
  let lastRef = '';
  let lastId: number | undefined;
  const stmt = db.prepare(GROUPS_SQL).raw(true);
  for (const r of stmt.iterate(range.lo, range.hi) as Iterable<[string, string, string, string]>) {
    if (r[0] !== lastRef) {
      lastRef = r[0];
      lastId = ids.get(lastRef);
    }
    const venue = venues.get(r[1]);
    const service = services.get(r[2]);
    if (lastId === undefined || venue === undefined || service === undefined) continue;
    fn(lastId, venue, service, r[3]);
  }
}

/** Calls fn with the packed London slot of each time in a comma-separated list. */
export function forEachTime(times: string, fn: (packedSlot: number) => void): void {
  let start = 0;
  const n = times.length;
  while (start < n) {
    let end = times.indexOf(',', start);
    if (end < 0) end = n;
    const h = epochHourIn(times, start, end);
    if (!Number.isNaN(h)) fn(packedSlotOfHour(h));
    start = end + 1;
  }
}

const MAX_GROUPS = 64;

/** Feature rows and usage of a range of residents from the event log. */
export function scanFeatures(
  db: Database.Database,
  range: ScanRange,
  ctx: ScanContext,
): ScanOutput {
  const n = ctx.maxId + 1;
  const rows = new Float64Array(n * NF);
  const seen = new Uint8Array(n);
  // Usage of the resident being scanned (groups of one resident arrive together, but the
  // code does not rely on it: each group is one venue × service).
  const groupsOf = new Map<number, number[]>();
  let usageVals: number[] = [];
  const u = new Float64Array(U_SIZE);
  const fact = { day: 0, week: 0, hourOfWeek: 0, kind: 0 };
  let visits = 0;
  forEachVisitGroup(db, range, ctx, (id, venue, service, times) => {
    const at = id * NF;
    if (!seen[id]) {
      seen[id] = 1;
      emptyFeatureRow(rows, at);
    }
    const kind = ctx.serviceKind[service] ?? 3;
    u.fill(0);
    u[U_LAST] = -1;
    u[U_RING] = -1;
    forEachTime(times, (p) => {
      const day = Math.floor(p / 256);
      fact.day = day;
      fact.week = weekOfDay(day);
      fact.hourOfWeek = p - day * 256;
      fact.kind = kind;
      const inWindow = day >= ctx.windowStart;
      applyVisitToRow(rows, at, fact, 1, inWindow);
      usageAddVisitAt(u, 0, day, fact.week, inWindow);
      visits++;
    });
    let list = groupsOf.get(id);
    if (!list) {
      list = [];
      groupsOf.set(id, list);
    }
    if (list.length < MAX_GROUPS) {
      list.push(usageVals.length);
      usageVals.push(
        venue,
        service,
        u[U_VISITS] ?? 0,
        u[U_LAST] ?? -1,
        u[U_RING] ?? -1,
        (u[U_LO] ?? 0) | 0,
        (u[U_HI] ?? 0) | 0,
      );
    }
  });

  const ids = [...groupsOf.keys()].sort((a, b) => a - b);
  const outRows = new Float64Array(ids.length * NF);
  const usageStart = new Int32Array(ids.length + 1);
  let total = 0;
  for (const id of ids) total += (groupsOf.get(id)?.length ?? 0) * USAGE_INTS;
  const usage = new Int32Array(total);
  let w = 0;
  const gp = (s: number): boolean => ctx.serviceKind[s] === 2;
  ids.forEach((id, k) => {
    outRows.set(rows.subarray(id * NF, id * NF + NF), k * NF);
    usageStart[k] = w;
    const entries: { venue: number; service: number; visits: number }[] = [];
    const offs = (groupsOf.get(id) ?? []).sort(
      (a, b) =>
        (usageVals[a] ?? 0) - (usageVals[b] ?? 0) ||
        (usageVals[a + 1] ?? 0) - (usageVals[b + 1] ?? 0),
    );
    for (const off of offs) {
      for (let j = 0; j < USAGE_INTS; j++) usage[w + j] = usageVals[off + j] ?? 0;
      entries.push({
        venue: usageVals[off] ?? 0,
        service: usageVals[off + 1] ?? 0,
        visits: usageVals[off + 2] ?? 0,
      });
      w += USAGE_INTS;
    }
    const d = distinctCounts(entries, gp);
    outRows[k * NF + C.xVenues] = d.xVenues;
    outRows[k * NF + C.xServices] = d.xServices;
    outRows[k * NF + C.aVenues] = d.aVenues;
    outRows[k * NF + C.aServices] = d.aServices;
  });
  usageStart[ids.length] = w;
  usageVals = [];
  return { ids: Int32Array.from(ids), rows: outRows, usageStart, usage, visits };
}
