import type { AnalyticsDb } from './analytics-db.js';
import type { CubeFact } from './listener.js';
import { RING_WEEKS, USAGE_INTS } from './model.js';
import { RESIDENT_SET_CAP } from './privacy.js';

/**
 * Rows (and resident ids) a loaded cube can take from the listener before growing: a
 * sixteenth more, at least this many (copying a small cube is cheap; a county's is not).
 */
const APPEND_ROOM = 4096;

/** A typed array of at least `size` elements holding a's (a itself if big enough). */
function grow<T extends Int32Array | Uint8Array | Uint16Array | Uint32Array>(
  a: T,
  size: number,
  mk: (m: number) => T,
): T {
  if (a.length >= size) return a;
  const b = mk(size);
  b.set(a);
  return b;
}

/** A table read into memory a page per `step` (rows read; 0 once done), then `finish`ed. */
export interface Loading<T> {
  step(): number;
  readonly done: boolean;
  finish(): T;
}

/** Every page of a loading at once. */
export function loadAll<T>(l: Loading<T>): T {
  while (!l.done) l.step();
  return l.finish();
}

/**
 * In-memory copies of the analytics tables that dashboard queries scan: the usage
 * rollup (one row per week × hour-of-week × venue × service × age band × ward, with its
 * capped resident set) and every resident's usage entries (for take-up). Typed arrays,
 * so a county-wide scan of millions of rollup rows takes tens of milliseconds.
 *
 * The SQL tables stay the truth. The copy is loaded lazily and kept current by the
 * ingestion listener, which appends each batch's visits as extra rows (queries sum rows
 * and union sets, so a cell split over several rows answers the same). Each change bumps
 * a version in SQL; a copy whose version differs from SQL's (a rolled-back batch,
 * another process, a rebuild) is reloaded.
 */
export class UsageCube {
  n = 0;
  /** Rows [0, sortedEnd) are in week order (as loaded); later rows were appended. */
  sortedEnd = 0;
  week = new Int32Array(0);
  how = new Uint8Array(0);
  venue = new Uint16Array(0);
  service = new Uint16Array(0);
  age = new Uint8Array(0);
  ward = new Uint16Array(0);
  visits = new Int32Array(0);
  setStart = new Uint32Array(1);
  ids = new Int32Array(0);
  idsN = 0;

  static load(adb: AnalyticsDb): UsageCube {
    return loadAll(UsageCube.loading(adb, 100_000));
  }

  /**
   * The rollup read `pageRows` rows per step, in primary-key order (by week first); each
   * step is one bounded statement, so a caller may yield between steps. The steps must
   * see the table unchanged (see AnalyticsQueries' warm-up).
   */
  static loading(adb: AnalyticsDb, pageRows: number): Loading<UsageCube> {
    const c = new UsageCube();
    // The rows are counted first (to size the arrays once), a few weeks per step: a
    // county's table is read from disk by the count, which is too long for one step.
    const [firstWeek, lastWeek] = adb.db
      .prepare('SELECT MIN(week), MAX(week) FROM analytics_usage')
      .raw(true)
      .get() as [number | null, number | null];
    const count = adb.db
      .prepare('SELECT COUNT(*) FROM analytics_usage WHERE week >= ? AND week < ?')
      .pluck();
    const weeksPerCount = Math.max(1, Math.ceil(pageRows / 1000));
    let countedTo = firstWeek ?? 0;
    let total = 0;
    let counted = false;
    // Page through the (WITHOUT ROWID) table in primary-key order, i.e. by week first.
    const page = adb.db
      .prepare(
        `SELECT week, how, venue, service, age, ward, visits, residents FROM analytics_usage
         WHERE (week, how, venue, service, age, ward) > (?, ?, ?, ?, ?, ?)
         ORDER BY week, how, venue, service, age, ward LIMIT ?`,
      )
      .raw(true);
    let key: number[] = [-1e9, -1, -1, -1, -1, -1];
    const set = new Int32Array(RESIDENT_SET_CAP * 4);
    let done = false;
    return {
      step: () => {
        if (done) return 0;
        if (!counted) {
          total += count.get(countedTo, countedTo + weeksPerCount) as number;
          countedTo += weeksPerCount;
          if (countedTo > (lastWeek ?? -1)) {
            c.reserve(total + 1024, total * 2 + 1024);
            counted = true;
          }
          return 0;
        }
        const rows = page.all(...key, pageRows) as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          Buffer,
        ][];
        for (const r of rows) {
          // The stored set (int32 little-endian ids), read in place.
          const m = Math.min(set.length, r[7].byteLength >>> 2);
          for (let j = 0; j < m; j++) set[j] = r[7].readInt32LE(j * 4);
          c.push(r[0], r[1], r[2], r[3], r[4], r[5], r[6], set, m);
        }
        const last = rows[rows.length - 1];
        if (last) key = [last[0], last[1], last[2], last[3], last[4], last[5]];
        done = rows.length < pageRows;
        return rows.length;
      },
      get done() {
        return done;
      },
      finish: () => {
        c.sortedEnd = c.n;
        c.#roomToAppend();
        return c;
      },
    };
  }

  /** Room for `rows` rows and `ids` resident ids (doubling, unless `exact`). */
  reserve(rows: number, ids: number, exact = false): void {
    if (rows <= this.week.length && ids <= this.ids.length) return;
    if (rows > this.week.length) {
      const size = exact ? rows : Math.max(rows, this.week.length * 2);
      this.week = grow(this.week, size, (m) => new Int32Array(m));
      this.how = grow(this.how, size, (m) => new Uint8Array(m));
      this.venue = grow(this.venue, size, (m) => new Uint16Array(m));
      this.service = grow(this.service, size, (m) => new Uint16Array(m));
      this.age = grow(this.age, size, (m) => new Uint8Array(m));
      this.ward = grow(this.ward, size, (m) => new Uint16Array(m));
      this.visits = grow(this.visits, size, (m) => new Int32Array(m));
      this.setStart = grow(this.setStart, size + 1, (m) => new Uint32Array(m));
    }
    if (ids > this.ids.length)
      this.ids = grow(
        this.ids,
        exact ? ids : Math.max(ids, this.ids.length * 2),
        (m) => new Int32Array(m),
      );
  }

  /**
   * Leaves room for days of appended visits (the listener's), so that appending does not
   * copy a county's cube mid-ingestion; called once a cube is loaded or projected.
   */
  #roomToAppend(): void {
    const room = (m: number): number => m + Math.max(APPEND_ROOM, m >> 4);
    this.reserve(room(this.n), room(this.idsN), true);
  }

  /** Appends a row; its resident set is residents[0, count). */
  push(
    week: number,
    how: number,
    venue: number,
    service: number,
    age: number,
    ward: number,
    visits: number,
    residents: ArrayLike<number>,
    count = residents.length,
  ): void {
    this.reserve(this.n + 1, this.idsN + count);
    const i = this.n;
    this.week[i] = week;
    this.how[i] = how;
    this.venue[i] = venue;
    this.service[i] = service;
    this.age[i] = age;
    this.ward[i] = ward;
    this.visits[i] = visits;
    this.setStart[i] = this.idsN;
    for (let j = 0; j < count; j++) this.ids[this.idsN++] = residents[j] ?? 0;
    this.n = i + 1;
    this.setStart[this.n] = this.idsN;
  }

  append(f: CubeFact): void {
    this.push(f.week, f.how, f.venue, f.service, f.age, f.ward, 1, [f.residentId]);
  }

  /**
   * The cube summed over the dimensions not in `keep` (they become 0): fewer rows for
   * queries that filter on few dimensions. Rows come out in week order; resident sets
   * are unioned (capped).
   */
  project(keep: ReadonlySet<'venue' | 'service' | 'age' | 'ward'>): UsageCube {
    return loadAll(this.projecting(keep, Number.POSITIVE_INFINITY));
  }

  /**
   * project() a step at a time: whole weeks per step, until at least `pageRows` rows are
   * read. Rows appended to this cube meanwhile (the listener's) are added to the
   * projection at the end, as rows of their own.
   */
  projecting(
    keep: ReadonlySet<'venue' | 'service' | 'age' | 'ward'>,
    pageRows: number,
  ): Loading<UsageCube> {
    const out = new UsageCube();
    const kv = keep.has('venue');
    const ks = keep.has('service');
    const ka = keep.has('age');
    const kw = keep.has('ward');
    const order = this.#weekOrder();
    // A week's cells: key → cell number (in order of first sight), with the cell's
    // dimensions, visits and capped resident set in typed arrays (no object per cell).
    const cellOf = new Map<number, number>();
    let size = 1024;
    let how = new Uint8Array(size);
    let venue = new Uint16Array(size);
    let service = new Uint16Array(size);
    let age = new Uint8Array(size);
    let ward = new Uint16Array(size);
    let visits = new Float64Array(size);
    let setSize = new Uint8Array(size);
    let ids = new Int32Array(size * RESIDENT_SET_CAP);
    const grow = (): void => {
      size *= 2;
      const g = <T extends Uint8Array | Uint16Array | Float64Array | Int32Array>(
        a: T,
        mk: (m: number) => T,
        per = 1,
      ): T => {
        const b = mk(size * per);
        b.set(a);
        return b;
      };
      how = g(how, (m) => new Uint8Array(m));
      venue = g(venue, (m) => new Uint16Array(m));
      service = g(service, (m) => new Uint16Array(m));
      age = g(age, (m) => new Uint8Array(m));
      ward = g(ward, (m) => new Uint16Array(m));
      visits = g(visits, (m) => new Float64Array(m));
      setSize = g(setSize, (m) => new Uint8Array(m));
      ids = g(ids, (m) => new Int32Array(m), RESIDENT_SET_CAP);
    };
    let i = 0;
    const step = (): number => {
      const from = i;
      while (i < order.length && i - from < pageRows) {
        const week = this.week[order[i] ?? 0] ?? 0;
        cellOf.clear();
        let cells = 0;
        for (; i < order.length && this.week[order[i] ?? 0] === week; i++) {
          const r = order[i] ?? 0;
          const h = this.how[r] ?? 0;
          const v = kv ? (this.venue[r] ?? 0) : 0;
          const s = ks ? (this.service[r] ?? 0) : 0;
          const a = ka ? (this.age[r] ?? 0) : 0;
          const w = kw ? (this.ward[r] ?? 0) : 0;
          // how (8 bits) · venue (16) · service (12) · age (4) · ward (12): exact in a double.
          const key = (((h * 65536 + v) * 4096 + s) * 16 + a) * 4096 + w;
          let c = cellOf.get(key);
          if (c === undefined) {
            c = cells++;
            if (c >= size) grow();
            cellOf.set(key, c);
            how[c] = h;
            venue[c] = v;
            service[c] = s;
            age[c] = a;
            ward[c] = w;
            visits[c] = 0;
            setSize[c] = 0;
          }
          visits[c] = (visits[c] ?? 0) + (this.visits[r] ?? 0);
          const base = c * RESIDENT_SET_CAP;
          let n = setSize[c] ?? 0;
          const to = this.setStart[r + 1] ?? 0;
          for (let j = this.setStart[r] ?? 0; j < to && n < RESIDENT_SET_CAP; j++) {
            const id = this.ids[j] ?? 0;
            let seen = false;
            for (let x = 0; x < n; x++) {
              if (ids[base + x] === id) {
                seen = true;
                break;
              }
            }
            if (!seen) ids[base + n++] = id;
          }
          setSize[c] = n;
        }
        for (let c = 0; c < cells; c++) {
          const base = c * RESIDENT_SET_CAP;
          out.push(
            week,
            how[c] ?? 0,
            venue[c] ?? 0,
            service[c] ?? 0,
            age[c] ?? 0,
            ward[c] ?? 0,
            visits[c] ?? 0,
            ids.subarray(base, base + (setSize[c] ?? 0)),
          );
        }
      }
      return i - from;
    };
    return {
      step,
      get done() {
        return i >= order.length;
      },
      finish: () => {
        out.sortedEnd = out.n;
        for (let r = order.length; r < this.n; r++) {
          out.push(
            this.week[r] ?? 0,
            this.how[r] ?? 0,
            kv ? (this.venue[r] ?? 0) : 0,
            ks ? (this.service[r] ?? 0) : 0,
            ka ? (this.age[r] ?? 0) : 0,
            kw ? (this.ward[r] ?? 0) : 0,
            this.visits[r] ?? 0,
            this.ids.subarray(this.setStart[r] ?? 0, this.setStart[r + 1] ?? 0),
          );
        }
        out.#roomToAppend();
        return out;
      },
    };
  }

  /** Row indices in week order (the loaded rows already are; appended rows are merged in). */
  #weekOrder(): Int32Array {
    const order = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    if (this.sortedEnd === this.n) return order;
    return order.sort((a, b) => (this.week[a] ?? 0) - (this.week[b] ?? 0) || a - b);
  }

  /** Calls fn for every row whose week is in [a, b]. */
  forEachInWeeks(a: number, b: number, fn: (row: number) => void): void {
    // Binary search the sorted part for the first row of week a.
    let lo = 0;
    let hi = this.sortedEnd;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.week[mid] ?? 0) < a) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sortedEnd && (this.week[i] ?? 0) <= b; i++) fn(i);
    for (let i = this.sortedEnd; i < this.n; i++) {
      const w = this.week[i] ?? 0;
      if (w >= a && w <= b) fn(i);
    }
  }

  weekRange(): { min: number; max: number } | null {
    if (this.n === 0) return null;
    let min = Infinity;
    let max = -Infinity;
    if (this.sortedEnd > 0) {
      min = this.week[0] ?? 0;
      max = this.week[this.sortedEnd - 1] ?? 0;
    }
    for (let i = this.sortedEnd; i < this.n; i++) {
      const w = this.week[i] ?? 0;
      if (w < min) min = w;
      if (w > max) max = w;
    }
    return { min, max };
  }
}

/** Every resident's usage entries (venue × service with a 64-week activity ring). */
export class ResidentUsage {
  n = 0;
  resident = new Int32Array(0);
  venue = new Uint16Array(0);
  service = new Uint16Array(0);
  ringWeek = new Int32Array(0);
  lo = new Uint32Array(0);
  hi = new Uint32Array(0);
  /** Age band and ward by analytics id. */
  ageOf = new Uint8Array(0);
  wardOf = new Int32Array(0);

  static load(adb: AnalyticsDb): ResidentUsage {
    return loadAll(ResidentUsage.loading(adb, 100_000));
  }

  /** Residents' usage entries read `pageRows` residents per step, in id order (see UsageCube.loading). */
  static loading(adb: AnalyticsDb, pageRows: number): Loading<ResidentUsage> {
    const u = new ResidentUsage();
    const maxId = (
      adb.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM analytics_residents').get() as {
        m: number;
      }
    ).m;
    u.ageOf = new Uint8Array(maxId + 1);
    u.wardOf = new Int32Array(maxId + 1).fill(-1);
    const E = USAGE_INTS * 4;
    const page = adb.db
      .prepare(
        'SELECT id, age, ward, usage FROM analytics_residents WHERE id > ? ORDER BY id LIMIT ?',
      )
      .raw(true);
    let after = -1;
    let done = false;
    return {
      step: () => {
        if (done) return 0;
        const rows = page.all(after, pageRows) as [number, number, number, Buffer][];
        // Usage entries [venue, service, visits, lastDay, ringWeek, lo, hi], read in place.
        for (const [id, age, ward, blob] of rows) {
          if (id >= u.ageOf.length) u.#growResidents(id);
          u.ageOf[id] = age;
          u.wardOf[id] = ward;
          for (let o = 0; o + E <= blob.byteLength; o += E) {
            u.push(
              id,
              blob.readInt32LE(o),
              blob.readInt32LE(o + 4),
              blob.readInt32LE(o + 16),
              blob.readInt32LE(o + 20),
              blob.readInt32LE(o + 24),
            );
          }
          after = id;
        }
        done = rows.length < pageRows;
        return rows.length;
      },
      get done() {
        return done;
      },
      finish: () => u,
    };
  }

  reserve(size: number): void {
    if (size <= this.resident.length) return;
    const m = Math.max(size, this.resident.length * 2);
    const g = <T extends Int32Array | Uint16Array | Uint32Array>(a: T, mk: (k: number) => T): T => {
      const b = mk(m);
      b.set(a);
      return b;
    };
    this.resident = g(this.resident, (k) => new Int32Array(k));
    this.venue = g(this.venue, (k) => new Uint16Array(k));
    this.service = g(this.service, (k) => new Uint16Array(k));
    this.ringWeek = g(this.ringWeek, (k) => new Int32Array(k));
    this.lo = g(this.lo, (k) => new Uint32Array(k));
    this.hi = g(this.hi, (k) => new Uint32Array(k));
  }

  push(id: number, venue: number, service: number, ringWeek: number, lo: number, hi: number): void {
    this.reserve(this.n + 1);
    const i = this.n++;
    this.resident[i] = id;
    this.venue[i] = venue;
    this.service[i] = service;
    this.ringWeek[i] = ringWeek;
    this.lo[i] = lo >>> 0;
    this.hi[i] = hi >>> 0;
  }

  #growResidents(id: number): void {
    const a = new Uint8Array(id + 1024);
    a.set(this.ageOf);
    this.ageOf = a;
    const w = new Int32Array(id + 1024).fill(-1);
    w.set(this.wardOf);
    this.wardOf = w;
  }

  /** A visit seen by the listener: an entry active in that week only. */
  append(f: CubeFact): void {
    if (f.residentId >= this.ageOf.length) this.#growResidents(f.residentId);
    this.ageOf[f.residentId] = f.age;
    this.wardOf[f.residentId] = f.ward;
    const b = ((f.week % RING_WEEKS) + RING_WEEKS) % RING_WEEKS;
    this.push(
      f.residentId,
      f.venue,
      f.service,
      f.week,
      b < 32 ? 1 << b : 0,
      b >= 32 ? 1 << (b - 32) : 0,
    );
  }

  /** Was entry i active in some week of [a, b]? */
  activeIn(i: number, a: number, b: number): boolean {
    const m = weekMask(this.ringWeek[i] ?? -1, a, b);
    return (((this.lo[i] ?? 0) & m.lo) | ((this.hi[i] ?? 0) & m.hi)) >>> 0 !== 0;
  }
}

/**
 * weekMask for one range of weeks [a, b] and any ring top, computed once per top: a
 * scan over every resident's usage entries tests each against the range with two ANDs.
 * Only tops in [a, b + 63] can hold a week of the range; any other ring was inactive.
 */
export class WeekRangeMasks {
  readonly #from: number;
  readonly #lo: Uint32Array;
  readonly #hi: Uint32Array;

  constructor(a: number, b: number) {
    this.#from = a;
    const n = Math.max(0, b - a + RING_WEEKS);
    this.#lo = new Uint32Array(n);
    this.#hi = new Uint32Array(n);
    for (let t = 0; t < n; t++) {
      const m = weekMask(a + t, a, b);
      this.#lo[t] = m.lo;
      this.#hi[t] = m.hi;
    }
  }

  /** Was a ring (newest week `top`, halves lo/hi) active in some week of the range? */
  active(top: number, lo: number, hi: number): boolean {
    const t = top - this.#from;
    if (t < 0 || t >= this.#lo.length) return false;
    return ((lo & (this.#lo[t] ?? 0)) | (hi & (this.#hi[t] ?? 0))) !== 0;
  }
}

/** Bits 0..31 from `from` to `to` inclusive (empty when from > to). */
function bits32(from: number, to: number): number {
  if (from > to) return 0;
  const len = to - from + 1;
  return len >= 32 ? 0xffffffff : (((1 << len) - 1) << from) >>> 0;
}

const maskCache = new Map<string, { lo: number; hi: number }>();

/**
 * The ring bits (week mod 64) of the weeks in [a, b] that a ring whose newest week is
 * `top` still holds, as two 32-bit halves. Memoised: most entries share a few tops.
 */
export function weekMask(top: number, a: number, b: number): { lo: number; hi: number } {
  const key = `${top},${a},${b}`;
  let m = maskCache.get(key);
  if (m) return m;
  let lo = 0;
  let hi = 0;
  const from = Math.max(a, top - RING_WEEKS + 1);
  const to = Math.min(b, top);
  if (top >= 0 && from <= to) {
    const p0 = ((from % RING_WEEKS) + RING_WEEKS) % RING_WEEKS;
    const len = to - from + 1;
    const ranges: [number, number][] =
      p0 + len <= RING_WEEKS
        ? [[p0, p0 + len - 1]]
        : [
            [p0, RING_WEEKS - 1],
            [0, p0 + len - 1 - RING_WEEKS],
          ];
    for (const [x, y] of ranges) {
      lo = (lo | bits32(Math.min(x, 32), Math.min(y, 31))) >>> 0;
      hi = (hi | bits32(Math.max(x, 32) - 32, y - 32)) >>> 0;
    }
  }
  m = { lo, hi };
  if (maskCache.size > 10_000) maskCache.clear();
  maskCache.set(key, m);
  return m;
}
