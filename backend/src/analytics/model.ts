import { AgeBandSchema, type AgeBand, type ServiceKind } from '@clubcard/shared';

/**
 * The analytics model: dimensions and the per-resident feature row, as plain numbers so
 * that the maths (features, RFM, k-means, suppression) are pure functions over typed
 * arrays, shared by the ingestion listener, the rebuild and the tests.
 */
export const AGE_BANDS: readonly AgeBand[] = AgeBandSchema.options;

export function ageIndex(band: string): number {
  const i = (AGE_BANDS as readonly string[]).indexOf(band);
  if (i < 0) throw new Error(`unknown age band ${band}`);
  return i;
}

/** Service classes used in features: library, leisure, GP drop-in (health), other. */
export const KIND_LIBRARY = 0;
export const KIND_LEISURE = 1;
export const KIND_GP = 2;
export const KIND_OTHER = 3;

export function kindClass(kind: ServiceKind | string): number {
  switch (kind) {
    case 'library':
      return KIND_LIBRARY;
    case 'leisure':
      return KIND_LEISURE;
    case 'gp-drop-in':
      return KIND_GP;
    default:
      return KIND_OTHER;
  }
}

/** Parts of the week (London time): weekday morning (<12), midday (12–15), after school (15–18), evening (≥18), weekend. */
export const DAYPARTS = [
  'weekday-morning',
  'weekday-midday',
  'after-school',
  'weekday-evening',
  'weekend',
] as const;

export function daypartOf(hourOfWeek: number): number {
  const dow = Math.floor(hourOfWeek / 24);
  if (dow >= 5) return 4;
  const h = hourOfWeek - dow * 24;
  if (h < 12) return 0;
  if (h < 15) return 1;
  if (h < 18) return 2;
  return 3;
}

/**
 * Peak hours, when leisure centres and libraries are busiest and the council wants to
 * move demand away from: weekdays 15:00–20:00 and weekends 09:00–13:00. Everything
 * else is off-peak (the off-peak incentive scheme uses the same notion).
 */
export function isOffPeak(hourOfWeek: number): boolean {
  const dow = Math.floor(hourOfWeek / 24);
  const h = hourOfWeek - dow * 24;
  if (dow >= 5) return !(h >= 9 && h < 13);
  return !(h >= 15 && h < 20);
}

/** Feature window: the 12 months (365 days) ending on the analysis day. */
export const WINDOW_DAYS = 365;

/** Active-week rings hold the last 64 weeks. */
export const RING_WEEKS = 64;

/**
 * Columns of a feature row, in storage order (analytics_residents after id, ref, age,
 * ward). `x_` counts non-health visits, `g_` GP drop-in visits; `a_` distinct counts
 * include GP. first/last are London days (−1 = none).
 */
export const FEATURE_COLUMNS = [
  'first_x',
  'last_x',
  'first_g',
  'last_g',
  'x_visits',
  'x_library',
  'x_leisure',
  'x_other',
  'x_morning',
  'x_midday',
  'x_after_school',
  'x_evening',
  'x_weekend',
  'x_offpeak',
  'g_visits',
  'g_morning',
  'g_midday',
  'g_after_school',
  'g_evening',
  'g_weekend',
  'g_offpeak',
  'x_venues',
  'x_services',
  'a_venues',
  'a_services',
  'ring_week',
  'x_weeks_lo',
  'x_weeks_hi',
  'a_weeks_lo',
  'a_weeks_hi',
] as const;
export type FeatureColumn = (typeof FEATURE_COLUMNS)[number];
export const NF = FEATURE_COLUMNS.length;

function col(name: FeatureColumn): number {
  return FEATURE_COLUMNS.indexOf(name);
}
export const C = {
  firstX: col('first_x'),
  lastX: col('last_x'),
  firstG: col('first_g'),
  lastG: col('last_g'),
  xVisits: col('x_visits'),
  xLibrary: col('x_library'),
  xLeisure: col('x_leisure'),
  xOther: col('x_other'),
  xMorning: col('x_morning'),
  xOffpeak: col('x_offpeak'),
  gVisits: col('g_visits'),
  gMorning: col('g_morning'),
  gOffpeak: col('g_offpeak'),
  xVenues: col('x_venues'),
  xServices: col('x_services'),
  aVenues: col('a_venues'),
  aServices: col('a_services'),
  ringWeek: col('ring_week'),
  xWeeksLo: col('x_weeks_lo'),
  xWeeksHi: col('x_weeks_hi'),
  aWeeksLo: col('a_weeks_lo'),
  aWeeksHi: col('a_weeks_hi'),
} as const;

/** An empty feature row. */
export function emptyFeatureRow(out: Float64Array, at = 0): void {
  out.fill(0, at, at + NF);
  out[at + C.firstX] = -1;
  out[at + C.lastX] = -1;
  out[at + C.firstG] = -1;
  out[at + C.lastG] = -1;
  out[at + C.ringWeek] = -1;
}

/** One visit as the analytics see it: all small integers. */
export interface VisitFact {
  day: number;
  week: number;
  hourOfWeek: number;
  kind: number;
}

/**
 * Week rings: two 32-bit halves of a 64-bit set (bit = week mod 64) holding the active
 * weeks of the last 64 weeks up to the ring's newest week (`ring_week`). A row has two
 * rings (non-health, all) sharing one newest week. Moving forward clears the weeks in
 * between in both; a week 64 or more behind the newest is outside and ignored.
 */
export function advanceRings(row: Float64Array, at: number, week: number): void {
  const top = row[at + C.ringWeek] ?? -1;
  if (week <= top) return;
  if (top < 0 || week - top >= RING_WEEKS) {
    row[at + C.xWeeksLo] = 0;
    row[at + C.xWeeksHi] = 0;
    row[at + C.aWeeksLo] = 0;
    row[at + C.aWeeksHi] = 0;
  } else {
    for (let w = top + 1; w <= week; w++) {
      ringBit(row, at + C.xWeeksLo, at + C.xWeeksHi, w, false);
      ringBit(row, at + C.aWeeksLo, at + C.aWeeksHi, w, false);
    }
  }
  row[at + C.ringWeek] = week;
}

/** Sets `week` in the ring at columns lo/hi if it is inside the ring. */
export function ringSet(row: Float64Array, at: number, lo: number, hi: number, week: number): void {
  const top = row[at + C.ringWeek] ?? -1;
  if (week > top - RING_WEEKS && week <= top) ringBit(row, at + lo, at + hi, week, true);
}

/** Sets or clears one week's bit in a ring held at absolute indices lo/hi of `row`. */
export function ringBit(
  row: Float64Array,
  lo: number,
  hi: number,
  week: number,
  on: boolean,
): void {
  const b = ((week % RING_WEEKS) + RING_WEEKS) % RING_WEEKS;
  const c = b < 32 ? lo : hi;
  const mask = 1 << (b & 31);
  const v = (row[c] ?? 0) | 0;
  row[c] = (on ? v | mask : v & ~mask) >>> 0;
}

/** Number of active weeks in [fromWeek, toWeek] recorded in a ring whose newest week is `top`. */
export function ringCount(
  lo: number,
  hi: number,
  top: number,
  fromWeek: number,
  toWeek: number,
): number {
  if (top < 0) return 0;
  const a = Math.max(fromWeek, top - RING_WEEKS + 1);
  const b = Math.min(toWeek, top);
  let n = 0;
  for (let w = a; w <= b; w++) {
    const bit = ((w % RING_WEEKS) + RING_WEEKS) % RING_WEEKS;
    const half = bit < 32 ? lo : hi;
    if (((half >>> (bit & 31)) & 1) === 1) n++;
  }
  return n;
}

/**
 * Adds (sign = 1) or removes (sign = −1, a day leaving the window) one visit's
 * contribution to a feature row's window counts. first/last days and rings only move
 * forward, so they are updated on additions only. `inWindow` is false for a late visit
 * older than the window: it still sets first/last, not the counts.
 */
export function applyVisitToRow(
  row: Float64Array,
  at: number,
  v: VisitFact,
  sign: 1 | -1,
  inWindow: boolean,
): void {
  const gp = v.kind === KIND_GP;
  if (sign === 1) {
    const f = gp ? C.firstG : C.firstX;
    const l = gp ? C.lastG : C.lastX;
    const first = row[at + f] ?? -1;
    if (first < 0 || v.day < first) row[at + f] = v.day;
    if (v.day > (row[at + l] ?? -1)) row[at + l] = v.day;
    // Rings record every week seen (readers look only at the window's weeks), so that
    // moving the window never needs to touch them.
    advanceRings(row, at, v.week);
    ringSet(row, at, C.aWeeksLo, C.aWeeksHi, v.week);
    if (!gp) ringSet(row, at, C.xWeeksLo, C.xWeeksHi, v.week);
  }
  if (!inWindow) return;
  const part = daypartOf(v.hourOfWeek);
  const off = isOffPeak(v.hourOfWeek) ? 1 : 0;
  if (gp) {
    row[at + C.gVisits] = (row[at + C.gVisits] ?? 0) + sign;
    row[at + C.gMorning + part] = (row[at + C.gMorning + part] ?? 0) + sign;
    row[at + C.gOffpeak] = (row[at + C.gOffpeak] ?? 0) + sign * off;
  } else {
    row[at + C.xVisits] = (row[at + C.xVisits] ?? 0) + sign;
    const k =
      v.kind === KIND_LIBRARY ? C.xLibrary : v.kind === KIND_LEISURE ? C.xLeisure : C.xOther;
    row[at + k] = (row[at + k] ?? 0) + sign;
    row[at + C.xMorning + part] = (row[at + C.xMorning + part] ?? 0) + sign;
    row[at + C.xOffpeak] = (row[at + C.xOffpeak] ?? 0) + sign * off;
  }
}

/** Window counters of one resident at one venue for one service. */
export interface UsageCounters {
  visits: number;
  lastDay: number;
  ringWeek: number;
  lo: number;
  hi: number;
}

/**
 * Usage counters packed in a Float64Array at `at`: [visits, lastDay, ringWeek, lo, hi].
 * Adds one visit (same ring rules as feature rows).
 */
export const U_VISITS = 0;
export const U_LAST = 1;
export const U_RING = 2;
export const U_LO = 3;
export const U_HI = 4;
export const U_SIZE = 5;

export function usageAddVisitAt(
  u: Float64Array,
  at: number,
  day: number,
  week: number,
  inWindow: boolean,
): void {
  if (inWindow) u[at + U_VISITS] = (u[at + U_VISITS] ?? 0) + 1;
  if (day > (u[at + U_LAST] ?? -1)) u[at + U_LAST] = day;
  const top = u[at + U_RING] ?? -1;
  if (week > top) {
    if (top < 0 || week - top >= RING_WEEKS) {
      u[at + U_LO] = 0;
      u[at + U_HI] = 0;
    } else {
      for (let w = top + 1; w <= week; w++) ringBit(u, at + U_LO, at + U_HI, w, false);
    }
    u[at + U_RING] = week;
  }
  const t = u[at + U_RING] ?? -1;
  if (week > t - RING_WEEKS && week <= t) ringBit(u, at + U_LO, at + U_HI, week, true);
}

/** Adds one visit to a resident × venue × service counter object. */
export function usageAddVisit(
  u: UsageCounters,
  day: number,
  week: number,
  inWindow: boolean,
): void {
  const a = new Float64Array([u.visits, u.lastDay, u.ringWeek, u.lo, u.hi]);
  usageAddVisitAt(a, 0, day, week, inWindow);
  u.visits = a[U_VISITS] ?? 0;
  u.lastDay = a[U_LAST] ?? -1;
  u.ringWeek = a[U_RING] ?? -1;
  u.lo = a[U_LO] ?? 0;
  u.hi = a[U_HI] ?? 0;
}

/**
 * Distinct venues and services in the window, without (x) and with (a) GP drop-in
 * services, from a resident's usage counters.
 */
export function distinctCounts(
  rows: readonly { venue: number; service: number; visits: number }[],
  isGpService: (service: number) => boolean,
): { xVenues: number; xServices: number; aVenues: number; aServices: number } {
  const xv = new Set<number>();
  const xs = new Set<number>();
  const av = new Set<number>();
  const as = new Set<number>();
  for (const r of rows) {
    if (r.visits <= 0) continue;
    av.add(r.venue);
    as.add(r.service);
    if (!isGpService(r.service)) {
      xv.add(r.venue);
      xs.add(r.service);
    }
  }
  return { xVenues: xv.size, xServices: xs.size, aVenues: av.size, aServices: as.size };
}

/** One resident's counters at one venue for one service. */
export interface UsageRow extends UsageCounters {
  venue: number;
  service: number;
}

/** int32s per usage entry in a resident's usage blob. */
export const USAGE_INTS = 7;

/** Packs usage entries: [venue, service, visits, lastDay, ringWeek, lo, hi] int32 LE each. */
export function encodeUsage(unsorted: readonly UsageRow[]): Buffer {
  // Canonical order (venue, service), so equal state always encodes to equal bytes.
  const rows = [...unsorted].sort((a, b) => a.venue - b.venue || a.service - b.service);
  const b = Buffer.alloc(rows.length * USAGE_INTS * 4);
  rows.forEach((u, i) => {
    const o = i * USAGE_INTS * 4;
    b.writeInt32LE(u.venue, o);
    b.writeInt32LE(u.service, o + 4);
    b.writeInt32LE(u.visits, o + 8);
    b.writeInt32LE(u.lastDay, o + 12);
    b.writeInt32LE(u.ringWeek, o + 16);
    b.writeInt32LE(u.lo | 0, o + 20);
    b.writeInt32LE(u.hi | 0, o + 24);
  });
  return b;
}

export function decodeUsage(buf: Uint8Array): UsageRow[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Math.floor(buf.byteLength / (USAGE_INTS * 4));
  const out: UsageRow[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * USAGE_INTS * 4;
    out.push({
      venue: view.getInt32(o, true),
      service: view.getInt32(o + 4, true),
      visits: view.getInt32(o + 8, true),
      lastDay: view.getInt32(o + 12, true),
      ringWeek: view.getInt32(o + 16, true),
      lo: view.getInt32(o + 20, true) >>> 0,
      hi: view.getInt32(o + 24, true) >>> 0,
    });
  }
  return out;
}
