import {
  AgeBandSchema,
  AppError,
  VolunteeredAttributeSchema,
  type AgeBand,
  type VolunteeredAttribute,
} from '@clubcard/shared';
import { weekOfDay } from '@clubcard/shared/rules/london-time';
import { USAGE_VERSION, type AnalyticsDb } from './analytics-db.js';
import type { AnalyticsChangeSink, CubeFact } from './listener.js';
import type { WarmStep } from './warm-up.js';
import { dayOfIsoDate, firstDayOfWeek, isoDateOfDay } from './london-slots.js';
import { AGE_BANDS, ageIndex } from './model.js';
import {
  CappedSets,
  DEFAULT_K,
  checkK,
  isSmall,
  lineComplement,
  setsLineComplement,
} from './privacy.js';
import { RFM_SEGMENT_NAMES } from './rfm.js';
import type { SegmentModelJson } from './segmentation.js';
import type { SegmentProfile } from './describe.js';
import { ResidentUsage, UsageCube, WeekRangeMasks, loadAll, type Loading } from './usage-cube.js';

/**
 * The dashboard's analytics queries. Every answer is k-anonymised by the rules in
 * privacy.ts (primary suppression on distinct residents, complementary suppression
 * along every line whose margin can be asked, complement checks against every
 * relaxation of the filters, and edge weeks for date ranges). A suppressed number is
 * `null`; nothing else about it is returned. Answers carry no resident refs, names,
 * card identifiers or exact ages: only codes-to-names of venues, services and wards,
 * age bands and counts.
 *
 * Date ranges are whole London weeks (Monday to Sunday): `from` and `to` (ISO dates) are
 * widened to the weeks containing them. Without them, the last 52 weeks with data.
 *
 * `attribute` (take-up and segment sizes only) keeps the residents who volunteered that
 * attribute and consent to 'analytics' — read at query time, so a withdrawal counts at
 * once. Relaxing it is one more filter for the differencing rules: the residents with the
 * attribute filter relaxed but not in the answer must number 0 or at least k.
 */
export interface AnalyticsFilters {
  venueId?: string;
  serviceId?: string;
  ageBand?: AgeBand;
  ward?: string;
  from?: string;
  to?: string;
  attribute?: VolunteeredAttribute;
}

/** The consent purpose under which volunteered attributes may be counted. */
export const ATTRIBUTE_PURPOSE = 'analytics';

/** Residents who volunteered an attribute and consent to counting it (SQL, joined on ref). */
const ATTRIBUTE_HOLDERS = `SELECT v.resident_ref AS ref FROM volunteered_attributes v
  JOIN consents c ON c.resident_ref = v.resident_ref AND c.purpose = '${ATTRIBUTE_PURPOSE}' AND c.granted = 1
  WHERE v.attribute = ? AND v.volunteered = 1`;

export interface QueryOptions {
  /** Minimum distinct residents behind any published number (default 10, at most 16). */
  k?: number;
}

export interface WeekRange {
  fromWeek: string;
  toWeek: string;
}

export interface HeatmapCell {
  /** 0 = Monday … 6 = Sunday (London time). */
  weekday: number;
  hour: number;
  visits: number | null;
}

export interface HeatmapAnswer {
  k: number;
  weeks: WeekRange;
  /** 168 cells, Monday 00:00 first. */
  cells: HeatmapCell[];
  totalVisits: number | null;
  suppressedCells: number;
}

export interface TrendAnswer {
  k: number;
  weeks: WeekRange;
  points: { weekStart: string; visits: number | null }[];
  totalVisits: number | null;
  suppressedCells: number;
}

export interface TakeUpCell {
  ageBand: AgeBand;
  ward: string;
  /** Registered residents in the cell. */
  population: number | null;
  /** Residents with at least one matching visit in the range. */
  users: number | null;
  /** users / population. */
  rate: number | null;
}

export interface TakeUpAnswer {
  k: number;
  weeks: WeekRange;
  cells: TakeUpCell[];
  suppressedCells: number;
}

export interface SegmentSizesAnswer {
  k: number;
  analysisDate: string | null;
  rfm: { segment: string; residents: number | null }[];
  behavioural: { segment: number; description: string; residents: number | null }[];
}

export interface SegmentProfileAnswer {
  segment: number;
  description: string;
  residents: number | null;
  /** The segment's average resident (whole county, computed at the run). */
  profile: SegmentProfile | null;
  ageBands: { ageBand: AgeBand; residents: number | null }[];
}

export interface SegmentProfilesAnswer {
  k: number;
  analysisDate: string | null;
  segments: SegmentProfileAnswer[];
}

/** A filter dimension of the usage cube. */
type Dim = 'venue' | 'service' | 'age' | 'ward';
const DIMS: readonly Dim[] = ['venue', 'service', 'age', 'ward'];

interface Resolved {
  /** Filter value per dimension (code), or -1 for none; -2 for a value that has no data. */
  codes: Record<Dim, number>;
  fromWeek: number;
  toWeek: number;
}

/** The key of the projection filtered on some dimensions. */
function projectionKey(filtered: readonly Dim[]): string {
  return [...filtered].sort().join(',');
}

/** Rows per page when the usage copies are loaded at once. */
const USAGE_PAGE_ROWS = 100_000;

/** Loads of the usage copies a warm-up starts before loading them at once. */
const WARM_ATTEMPTS = 3;

interface UsageLoading {
  cube: Loading<UsageCube>;
  usage: Loading<ResidentUsage>;
  /** The usage version the pages plus `facts` reach. */
  version: number;
  facts: CubeFact[];
  spoiled: boolean;
}

/**
 * Query functions over the analytics tables. One instance per backend process; also the
 * listener's change sink, so that its in-memory copies follow ingestion.
 */
export class AnalyticsQueries implements AnalyticsChangeSink {
  #cube: UsageCube | null = null;
  /** The cube summed over unfiltered dimensions, per set of filtered dimensions (lazily). */
  readonly #projections = new Map<string, { keep: Set<Dim>; cube: UsageCube }>();
  #usage: ResidentUsage | null = null;
  #version = -1;
  #segments: { version: number; data: SegmentData } | null = null;
  /** The usage copies being loaded a page at a time (see warming), if they are. */
  #loading: UsageLoading | null = null;

  constructor(private readonly adb: AnalyticsDb) {}

  // ── change sink ─────────────────────────────────────────────────────────────────

  usageChanged(version: number, facts: readonly CubeFact[]): void {
    const l = this.#loading;
    if (l) {
      // Visits the listener holds are not in SQL: added once the copies are loaded. A
      // write-out (no visits) or any other gap changes the tables under the warm-up.
      if (!l.spoiled && version === l.version + 1 && facts.length > 0) {
        for (const f of facts) l.facts.push(f);
        l.version = version;
      } else {
        l.spoiled = true;
      }
    }
    if (this.#cube && this.#usage && this.#version === version - 1) {
      for (const f of facts) {
        this.#cube.append(f);
        this.#usage.append(f);
        for (const { keep, cube } of this.#projections.values()) {
          cube.push(
            f.week,
            f.how,
            keep.has('venue') ? f.venue : 0,
            keep.has('service') ? f.service : 0,
            keep.has('age') ? f.age : 0,
            keep.has('ward') ? f.ward : 0,
            1,
            [f.residentId],
          );
        }
      }
      this.#version = version;
    } else {
      this.#forget();
    }
  }

  /** The tables changed outside the listener (a rebuild): every copy is read again. */
  invalidate(): void {
    this.#forget();
    if (this.#loading) this.#loading.spoiled = true;
  }

  #forget(): void {
    this.#projections.clear();
    this.#cube = null;
    this.#usage = null;
    this.#version = -1;
  }

  /**
   * Loads (or reloads) the in-memory copies if SQL has moved on, and builds the cube
   * projections for every combination of up to two filtered dimensions (a dashboard's
   * usual questions), so that first queries do not pay for them.
   */
  warm(): void {
    for (const _ of this.warming(USAGE_PAGE_ROWS)) {
      // every step at once
    }
  }

  /**
   * warm() a step at a time, for a caller that yields to the event loop between steps:
   * the usage copies `pageRows` rows per step (with the visits the listener applies
   * meanwhile added at the end), then each cube projection, the population and the
   * segment counts, a page of rows per step. Whatever a query needs before it is warmed, it loads on demand as
   * without a warm-up; copies a query loaded are kept.
   */
  *warming(pageRows: number): Generator<WarmStep> {
    yield* this.#warmingUsage(pageRows);
    const subsets: Dim[][] = [[]];
    for (let i = 0; i < DIMS.length; i++) {
      subsets.push([DIMS[i] as Dim]);
      for (let j = i + 1; j < DIMS.length; j++) subsets.push([DIMS[i] as Dim, DIMS[j] as Dim]);
    }
    for (const s of subsets) yield* this.#projecting(s, pageRows);
    yield* this.#populationSteps(AGE_BANDS.length, this.adb.keys('ward').length, pageRows);
    yield* this.#segmentSteps(pageRows);
  }

  /** The published segment counts, a range of `pageIds` residents per step (see #segmentData). */
  *#segmentSteps(pageIds: number): Generator<WarmStep> {
    const version = this.adb.meta('segments_version') ?? 0;
    if (this.#segments?.version === version) return;
    const l = segmentsLoading(this.adb, undefined, pageIds);
    const current = (): boolean => (this.adb.meta('segments_version') ?? 0) === version;
    while (!l.done && current()) yield { phase: 'segments', rows: l.step() };
    // Segments published meanwhile: a query loads them on demand.
    if (current() && this.#segments?.version !== version) {
      this.#segments = { version, data: l.finish() };
    }
  }

  /**
   * The usage cube and residents' usage entries, a page per step. The tables must not
   * change under the pages: the listener's visits arrive as facts (kept, added at the
   * end); a write-out or another writer spoils the load, which starts again (after
   * `WARM_ATTEMPTS`, the rest is loaded at once).
   */
  *#warmingUsage(pageRows: number): Generator<WarmStep> {
    for (let attempt = 1; ; attempt++) {
      // Writes out what listeners hold, so that SQL has every visit applied so far.
      const version = this.adb.meta(USAGE_VERSION) ?? 0;
      if (this.#cube && this.#usage && this.#version === version) return;
      if (attempt > WARM_ATTEMPTS) {
        this.#current();
        return;
      }
      const l: UsageLoading = {
        cube: UsageCube.loading(this.adb, pageRows),
        usage: ResidentUsage.loading(this.adb, pageRows),
        version,
        facts: [],
        spoiled: false,
      };
      this.#loading = l;
      try {
        for (const part of [l.cube, l.usage]) {
          while (!part.done && !l.spoiled && !this.#cube) {
            yield { phase: 'usage', rows: part.step() };
          }
        }
      } finally {
        this.#loading = null;
      }
      // A query loaded the copies on demand meanwhile: they are current.
      if (this.#cube) return;
      if (!l.spoiled && (this.adb.storedMeta(USAGE_VERSION) ?? 0) === l.version) {
        const cube = l.cube.finish();
        const usage = l.usage.finish();
        for (const f of l.facts) {
          cube.append(f);
          usage.append(f);
        }
        this.#projections.clear();
        this.#cube = cube;
        this.#usage = usage;
        this.#version = l.version;
        return;
      }
    }
  }

  #cubeFor(filtered: readonly Dim[]): UsageCube {
    const { cube } = this.#current();
    if (filtered.length === DIMS.length) return cube;
    const key = projectionKey(filtered);
    let p = this.#projections.get(key);
    if (!p) {
      const keep = new Set(filtered);
      p = { keep, cube: cube.project(keep) };
      this.#projections.set(key, p);
    }
    return p.cube;
  }

  /**
   * A projection built a page of rows per step (see UsageCube.projecting), unless built
   * already; dropped if the cube is reloaded meanwhile (a query builds it on demand).
   */
  *#projecting(filtered: readonly Dim[], pageRows: number): Generator<WarmStep> {
    const key = projectionKey(filtered);
    const cube = this.#cube ?? this.#current().cube;
    if (filtered.length === DIMS.length || this.#projections.has(key)) return;
    const keep = new Set(filtered);
    const p = cube.projecting(keep, pageRows);
    while (!p.done && this.#cube === cube) yield { phase: 'projections', rows: p.step() };
    if (this.#cube === cube && !this.#projections.has(key)) {
      this.#projections.set(key, { keep, cube: p.finish() });
    }
  }

  #current(): { cube: UsageCube; usage: ResidentUsage } {
    const v = this.adb.meta(USAGE_VERSION) ?? 0;
    if (!this.#cube || !this.#usage || v !== this.#version) {
      this.#projections.clear();
      this.#cube = UsageCube.load(this.adb);
      this.#usage = ResidentUsage.load(this.adb);
      this.#version = v;
    }
    return { cube: this.#cube, usage: this.#usage };
  }

  // ── filters ─────────────────────────────────────────────────────────────────────

  #resolve(f: AnalyticsFilters, cube: UsageCube): Resolved {
    const code = (kind: 'venue' | 'service' | 'ward', key: string | undefined): number =>
      key === undefined ? -1 : (this.adb.findCode(kind, key) ?? -2);
    const codes: Record<Dim, number> = {
      venue: code('venue', f.venueId),
      service: code('service', f.serviceId),
      age: f.ageBand === undefined ? -1 : ageIndex(AgeBandSchema.parse(f.ageBand)),
      ward: code('ward', f.ward),
    };
    const range = cube.weekRange();
    const maxWeek = range?.max ?? weekOfDay(this.adb.meta('analysis_day') ?? 0);
    const toWeek = f.to !== undefined ? weekOfDay(dayOfIsoDate(f.to)) : maxWeek;
    const fromWeek = f.from !== undefined ? weekOfDay(dayOfIsoDate(f.from)) : toWeek - 51;
    if (fromWeek > toWeek) throw new Error('date range: from is after to');
    return { codes, fromWeek, toWeek };
  }

  #weeks(r: Resolved): WeekRange {
    return {
      fromWeek: isoDateOfDay(firstDayOfWeek(r.fromWeek)),
      toWeek: isoDateOfDay(firstDayOfWeek(r.toWeek)),
    };
  }

  // ── usage cube queries: heatmap and trend ───────────────────────────────────────

  /**
   * Scans the cube once for an answer grouped by `groupOf(row)` (cells 0..cells−1; the
   * total is cell `cells`) and decides what to publish.
   */
  #cubeAnswer(
    f: AnalyticsFilters,
    k: number,
    cells: number,
    groupOf: (cube: UsageCube, row: number, r: Resolved) => number,
  ): { r: Resolved; visits: (number | null)[]; suppressed: number } {
    if (f.attribute !== undefined) {
      throw new AppError(
        'bad-request',
        'the attribute filter applies to take-up and segment sizes only',
      );
    }
    const { cube: base } = this.#current();
    const r = this.#resolve(f, base);
    const filtered = DIMS.filter((d) => r.codes[d] !== -1);
    const cube = this.#cubeFor(filtered);
    const nf = filtered.length;
    const C = cells + 1; // + total
    const visits = new Float64Array(C);
    const sets = new CappedSets(C);
    const edges = new EdgeWeeks(C);
    // Families (rule 2 across one filter's values) and complements (rule 3).
    const famSize = filtered.map((d) => this.#dimSize(d));
    const fam = filtered.map((_, i) => new CappedSets(C * (famSize[i] ?? 1)));
    const famVisits = filtered.map((_, i) => new Float64Array(C * (famSize[i] ?? 1)));
    const comp = Array.from({ length: 1 << nf }, () => new CappedSets(C));
    const cols = filtered.map((d) => this.#columnArray(cube, d));
    const want = filtered.map((d) => r.codes[d]);
    const subsetsOf: number[][] = Array.from({ length: 1 << nf }, (_, m) => {
      const out: number[] = [];
      for (let s = 1; s < 1 << nf; s++) if ((s & m) === m) out.push(s);
      return out;
    });
    const ids = cube.ids;
    const main = (c: number, row: number, a: number, b: number, v: number): void => {
      visits[c] = (visits[c] ?? 0) + v;
      sets.addAll(c, ids, a, b);
      edges.add(c, cube.week[row] ?? 0, ids, a, b);
    };

    cube.forEachInWeeks(r.fromWeek, r.toWeek, (row) => {
      const g = groupOf(cube, row, r);
      if (g < 0) return;
      let miss = 0;
      for (let i = 0; i < nf; i++) if ((cols[i]?.[row] ?? 0) !== want[i]) miss |= 1 << i;
      const a = cube.setStart[row] ?? 0;
      const b = cube.setStart[row + 1] ?? 0;
      const v = cube.visits[row] ?? 0;
      if (miss === 0) {
        main(g, row, a, b, v);
        main(cells, row, a, b, v);
      } else {
        for (const s of subsetsOf[miss] ?? []) {
          const cs = comp[s];
          if (!cs) continue;
          if (!cs.full(g)) cs.addAll(g, ids, a, b);
          if (!cs.full(cells)) cs.addAll(cells, ids, a, b);
        }
        if ((miss & (miss - 1)) !== 0) return; // fails two or more filters: in no family
      }
      // Family of filter i: rows matching every other filter, at any value of dim i.
      for (let i = 0; i < nf; i++) {
        if ((miss & ~(1 << i)) !== 0) continue;
        const base2 = (cols[i]?.[row] ?? 0) * C;
        const fs = fam[i];
        const fv = famVisits[i];
        if (!fs || !fv) continue;
        fs.addAll(base2 + g, ids, a, b);
        fs.addAll(base2 + cells, ids, a, b);
        fv[base2 + g] = (fv[base2 + g] ?? 0) + v;
        fv[base2 + cells] = (fv[base2 + cells] ?? 0) + v;
      }
    });

    const hide = new Uint8Array(C);
    for (let c = 0; c < C; c++) {
      const n = sets.size(c);
      if (isSmall(n, k)) hide[c] = 1;
      if ((visits[c] ?? 0) > 0 && edges.small(c, k)) hide[c] = 1;
      for (let s = 1; s < 1 << nf; s++) if (isSmall(comp[s]?.size(c) ?? 0, k)) hide[c] = 1;
    }
    // Rule 2 within the answer: the cells add up to the total.
    const line = Array.from({ length: cells }, (_, c) => c);
    const primary = (c: number): boolean => isSmall(sets.size(c), k);
    for (const c of lineComplement(
      line,
      primary,
      (c) => sets.size(c),
      (cs) => sets.unionSize(cs),
      k,
    ))
      hide[c] = 1;
    // Rule 2 across each filter's values, at every cell and the total.
    filtered.forEach((_, i) => {
      const fs = fam[i];
      const size = famSize[i] ?? 1;
      const target = want[i] ?? 0;
      if (!fs || target < 0) return;
      for (let c = 0; c < C; c++) {
        const famLine = Array.from({ length: size }, (_, v) => v * C + c);
        const extra = setsLineComplement(fs, famLine, k);
        if (extra.includes(target * C + c)) hide[c] = 1;
      }
    });
    const out: (number | null)[] = [];
    let suppressed = 0;
    for (let c = 0; c < C; c++) {
      if (hide[c] && (visits[c] ?? 0) > 0) {
        out.push(null);
        if (c < cells) suppressed++;
      } else {
        out.push(visits[c] ?? 0);
      }
    }
    return { r, visits: out, suppressed };
  }

  /**
   * The total visits of `weeklyTrend({ ...f, ward })` for every ward at once (the
   * neighbourhoods table), in one scan of the cube: the same rules decide each ward's
   * total as that query would (primary, edge weeks, every relaxation of the filters, the
   * family of each filter's values). Relaxing the ward means "every other ward", which
   * is a union over wards but one: prefix and suffix unions of per-ward sets give it.
   * Keyed by ward id; a ward without residents' visits has 0.
   */
  wardVisitTotals(f: AnalyticsFilters, o: QueryOptions = {}): Map<string, number | null> {
    const k = checkK(o.k ?? DEFAULT_K);
    if (f.attribute !== undefined) {
      throw new AppError(
        'bad-request',
        'the attribute filter applies to take-up and segment sizes only',
      );
    }
    const { cube: base } = this.#current();
    const wardIds = this.adb.keys('ward');
    const r = this.#resolve({ ...f, ward: undefined }, base);
    const other = DIMS.filter((d) => d !== 'ward' && r.codes[d] !== -1);
    const cube = this.#cubeFor([...other, 'ward']);
    const no = other.length;
    const NW = this.#dimSize('ward');
    const cols = other.map((d) => this.#columnArray(cube, d));
    const want = other.map((d) => r.codes[d]);
    const famSize = other.map((d) => this.#dimSize(d));
    // Per ward x: rows matching every other filter (the answer for ward x, and the
    // ward family's line), their first and last weeks.
    const visits = new Float64Array(NW);
    const sets = new CappedSets(NW);
    const edges = new EdgeWeeks(NW);
    // Per subset t of the other filters, per ward x: rows whose misses are within t
    // (any[t]), and those that miss at least one (some[t], t non-empty).
    const any = Array.from({ length: 1 << no }, () => new CappedSets(NW));
    const some = Array.from({ length: 1 << no }, () => new CappedSets(NW));
    // Family of other filter i for ward x: rows of ward x missing at most filter i, by value.
    const fam = other.map((_, i) => new CappedSets(NW * (famSize[i] ?? 1)));
    const ids = cube.ids;
    cube.forEachInWeeks(r.fromWeek, r.toWeek, (row) => {
      let miss = 0;
      for (let i = 0; i < no; i++) if ((cols[i]?.[row] ?? 0) !== want[i]) miss |= 1 << i;
      const x = cube.ward[row] ?? 0;
      const a = cube.setStart[row] ?? 0;
      const b = cube.setStart[row + 1] ?? 0;
      if (miss === 0) {
        visits[x] = (visits[x] ?? 0) + (cube.visits[row] ?? 0);
        sets.addAll(x, ids, a, b);
        edges.add(x, cube.week[row] ?? 0, ids, a, b);
      }
      for (let t = 0; t < 1 << no; t++) {
        if ((miss & ~t) !== 0) continue;
        const at = any[t];
        if (at && !at.full(x)) at.addAll(x, ids, a, b);
        const st = some[t];
        if (miss !== 0 && st && !st.full(x)) st.addAll(x, ids, a, b);
      }
      for (let i = 0; i < no; i++) {
        if ((miss & ~(1 << i)) !== 0) continue;
        const fs = fam[i];
        const at = x * (famSize[i] ?? 1) + (cols[i]?.[row] ?? 0);
        if (fs && !fs.full(at)) fs.addAll(at, ids, a, b);
      }
    });
    // "Every ward but x" for each any[t]: prefix and suffix unions.
    const allBut = any.map((sets_) => {
      const pre = new CappedSets(NW + 1);
      const suf = new CappedSets(NW + 1);
      const copy = (to: CappedSets, at: number, from: CappedSets, c: number): void =>
        to.addAll(at, from.ids, c * from.cap, c * from.cap + from.size(c));
      for (let x = 0; x < NW; x++) {
        copy(pre, x + 1, pre, x);
        copy(pre, x + 1, sets_, x);
      }
      for (let x = NW - 1; x >= 0; x--) {
        copy(suf, x, suf, x + 1);
        copy(suf, x, sets_, x);
      }
      return (x: number, extra: CappedSets | undefined): number => {
        const u = new CappedSets(1);
        u.addAll(0, pre.ids, x * pre.cap, x * pre.cap + pre.size(x));
        u.addAll(0, suf.ids, (x + 1) * suf.cap, (x + 1) * suf.cap + suf.size(x + 1));
        if (extra) u.addAll(0, extra.ids, x * extra.cap, x * extra.cap + extra.size(x));
        return u.size(0);
      };
    });
    const wardLine = Array.from({ length: NW }, (_, x) => x);
    const wardFamily = new Set(setsLineComplement(sets, wardLine, k));
    const out = new Map<string, number | null>();
    wardIds.forEach((id, x) => {
      const v = visits[x] ?? 0;
      let hide = isSmall(sets.size(x), k);
      if (v > 0 && edges.small(x, k)) hide = true;
      for (let t = 0; t < 1 << no; t++) {
        if (t !== 0 && isSmall(some[t]?.size(x) ?? 0, k)) hide = true;
        if (isSmall(allBut[t]?.(x, t !== 0 ? some[t] : undefined) ?? 0, k)) hide = true;
      }
      if (wardFamily.has(x)) hide = true;
      for (let i = 0; i < no && !hide; i++) {
        const fs = fam[i];
        const size = famSize[i] ?? 1;
        const target = want[i] ?? 0;
        if (!fs || target < 0) continue;
        const line = Array.from({ length: size }, (_, val) => x * size + val);
        const extra = setsLineComplement(fs, line, k);
        if (extra.includes(x * size + target)) hide = true;
      }
      out.set(id, hide && v > 0 ? null : v);
    });
    return out;
  }

  #dimSize(d: Dim): number {
    if (d === 'age') return AGE_BANDS.length;
    return Math.max(1, this.adb.keys(d).length);
  }

  #columnArray(cube: UsageCube, d: Dim): Uint8Array | Uint16Array {
    switch (d) {
      case 'venue':
        return cube.venue;
      case 'service':
        return cube.service;
      case 'age':
        return cube.age;
      case 'ward':
        return cube.ward;
    }
  }

  /** Visits by weekday × hour (London time), over whole weeks. */
  usageHeatmap(f: AnalyticsFilters = {}, o: QueryOptions = {}): HeatmapAnswer {
    const k = checkK(o.k ?? DEFAULT_K);
    const a = this.#cubeAnswer(f, k, 168, (cube, row) => cube.how[row] ?? 0);
    return {
      k,
      weeks: this.#weeks(a.r),
      cells: Array.from({ length: 168 }, (_, c) => ({
        weekday: Math.floor(c / 24),
        hour: c % 24,
        visits: a.visits[c] ?? null,
      })),
      totalVisits: a.visits[168] ?? null,
      suppressedCells: a.suppressed,
    };
  }

  /** Visits per London week. */
  weeklyTrend(f: AnalyticsFilters = {}, o: QueryOptions = {}): TrendAnswer {
    const k = checkK(o.k ?? DEFAULT_K);
    const { cube } = this.#current();
    const r0 = this.#resolve(f, cube);
    const cells = r0.toWeek - r0.fromWeek + 1;
    const a = this.#cubeAnswer(f, k, cells, (c, row, r) => (c.week[row] ?? 0) - r.fromWeek);
    return {
      k,
      weeks: this.#weeks(a.r),
      points: Array.from({ length: cells }, (_, i) => ({
        weekStart: isoDateOfDay(firstDayOfWeek(a.r.fromWeek + i)),
        visits: a.visits[i] ?? null,
      })),
      totalVisits: a.visits[cells] ?? null,
      suppressedCells: a.suppressed,
    };
  }

  // ── take-up ─────────────────────────────────────────────────────────────────────

  /**
   * Residents who used the (filtered) services in the range, and the registered
   * population, by age band × ward. Counts of residents are exact (from each resident's
   * usage entries), and cells are resident-disjoint, so unions are sums.
   */
  takeUp(f: AnalyticsFilters = {}, o: QueryOptions = {}): TakeUpAnswer {
    const k = checkK(o.k ?? DEFAULT_K);
    const { cube, usage } = this.#current();
    const r = this.#resolve(f, cube);
    const wards = this.adb.keys('ward');
    const NA = AGE_BANDS.length;
    const NW = wards.length;
    const cellOf = (age: number, ward: number): number => age * NW + ward;
    const everyone = this.#population(NA, NW);
    const attr = f.attribute === undefined ? null : this.#holders(f.attribute, NA, NW);
    const population = attr ? attr.population : everyone;
    // Event filters (venue, service): a resident matches filter set T if one of their
    // entries fails none of T's dimensions and was active in the range.
    const ev: ('venue' | 'service')[] = (['venue', 'service'] as const).filter(
      (d) => r.codes[d] !== -1,
    );
    const ne = ev.length;
    const matched = new Uint8Array(usage.ageOf.length);
    const wantVenue = r.codes.venue;
    const wantService = r.codes.service;
    const vBit = ev.indexOf('venue');
    const sBit = ev.indexOf('service');
    const bitsOf = new Uint8Array(1 << ne);
    for (let miss = 0; miss < 1 << ne; miss++) {
      let bits = 0;
      for (let t = 0; t < 1 << ne; t++) if ((miss & t) === 0) bits |= 1 << t;
      bitsOf[miss] = bits;
    }
    const masks = new WeekRangeMasks(r.fromWeek, r.toWeek);
    for (let i = 0; i < usage.n; i++) {
      let miss = 0;
      if (vBit >= 0 && usage.venue[i] !== wantVenue) miss |= 1 << vBit;
      if (sBit >= 0 && usage.service[i] !== wantService) miss |= 1 << sBit;
      const bits = bitsOf[miss] ?? 0;
      const id = usage.resident[i] ?? 0;
      if ((bits & ~(matched[id] ?? 0)) === 0) continue;
      if (!masks.active(usage.ringWeek[i] ?? -1, usage.lo[i] ?? 0, usage.hi[i] ?? 0)) continue;
      matched[id] = (matched[id] ?? 0) | bits;
    }
    // The attribute is one more (resident-level) filter: bit `ne` of a filter set.
    const nb = ne + (attr ? 1 : 0);
    const full = (1 << nb) - 1;
    const withAttribute = (m: number, id: number): number => {
      if (!attr?.ids.has(id)) return m;
      let out = m;
      for (let t = 0; t < 1 << ne; t++) if (m & (1 << t)) out |= 1 << (t | (1 << ne));
      return out;
    };
    const users = new Float64Array(NA * NW);
    const comp = Array.from({ length: 1 << nb }, () => new Float64Array(NA * NW));
    for (let id = 0; id < matched.length; id++) {
      const m = withAttribute(matched[id] ?? 0, id);
      if (m === 0 || (usage.wardOf[id] ?? -1) < 0) continue;
      const c = cellOf(usage.ageOf[id] ?? 0, usage.wardOf[id] ?? 0);
      if (m & (1 << full)) {
        users[c] = (users[c] ?? 0) + 1;
      } else {
        for (let s = 1; s <= full; s++) {
          const cs = comp[s];
          if (cs && m & (1 << (full & ~s))) cs[c] = (cs[c] ?? 0) + 1;
        }
      }
    }
    const hide = new Uint8Array(NA * NW);
    for (let c = 0; c < NA * NW; c++) {
      const u = users[c] ?? 0;
      const p = population[c] ?? 0;
      if (isSmall(u, k) || isSmall(p, k) || isSmall(p - u, k)) hide[c] = 1;
      for (let s = 1; s <= full; s++) if (isSmall(comp[s]?.[c] ?? 0, k)) hide[c] = 1;
      // Relaxing the attribute: everyone in the cell minus those with it.
      if (attr && isSmall((everyone[c] ?? 0) - p, k)) hide[c] = 1;
    }
    // Rule 2 on rows (one age band, all wards) and columns (one ward, all ages).
    const primary = (c: number): boolean =>
      isSmall(users[c] ?? 0, k) || isSmall(population[c] ?? 0, k);
    const count = (c: number): number => users[c] ?? 0;
    const sum = (cs: readonly number[]): number => cs.reduce((s, c) => s + (users[c] ?? 0), 0);
    const lines: number[][] = [];
    for (let a = 0; a < NA; a++) lines.push(Array.from({ length: NW }, (_, w) => cellOf(a, w)));
    for (let w = 0; w < NW; w++) lines.push(Array.from({ length: NA }, (_, a) => cellOf(a, w)));
    for (const line of lines)
      for (const c of lineComplement(line, primary, count, sum, k)) hide[c] = 1;

    const cells: TakeUpCell[] = [];
    let suppressed = 0;
    for (let a = 0; a < NA; a++) {
      if (r.codes.age !== -1 && r.codes.age !== a) continue;
      for (let w = 0; w < NW; w++) {
        if (r.codes.ward !== -1 && r.codes.ward !== w) continue;
        const c = cellOf(a, w);
        const p = population[c] ?? 0;
        if (p === 0) continue;
        const hidden = hide[c] === 1;
        if (hidden) suppressed++;
        const u = users[c] ?? 0;
        const hidePopulation =
          isSmall(p, k) || (attr !== null && isSmall((everyone[c] ?? 0) - p, k));
        cells.push({
          ageBand: AGE_BANDS[a] ?? '30-44',
          ward: wards[w] ?? '',
          population: hidePopulation ? null : p,
          users: hidden ? null : u,
          rate: hidden ? null : u / p,
        });
      }
    }
    return { k, weeks: this.#weeks(r), cells, suppressedCells: suppressed };
  }

  /**
   * Residents who volunteered `attribute` and consent to analytics: their analytics ids
   * and the registered ones by age band × ward. Read from SQL on every call, so that a
   * withdrawn consent or attribute stops counting at once.
   */
  #holders(
    attribute: string,
    NA: number,
    NW: number,
  ): { ids: Set<number>; population: Float64Array } {
    const a = VolunteeredAttributeSchema.parse(attribute);
    const ids = new Set(
      (
        this.adb.db
          .prepare(
            `SELECT ar.id FROM (${ATTRIBUTE_HOLDERS}) h JOIN analytics_residents ar ON ar.resident_ref = h.ref`,
          )
          .all(a) as { id: number }[]
      ).map((r) => r.id),
    );
    const population = new Float64Array(NA * NW);
    for (const p of this.adb.db
      .prepare(
        `SELECT r.age_band AS a, r.ward AS w, COUNT(*) AS n FROM (${ATTRIBUTE_HOLDERS}) h
         JOIN residents r ON r.ref = h.ref GROUP BY 1, 2`,
      )
      .all(a) as { a: string; w: string; n: number }[]) {
      const w = this.adb.findCode('ward', p.w);
      if (w !== null && w < NW) population[ageIndex(p.a) * NW + w] = p.n;
    }
    return { ids, population };
  }

  #pop: { mark: number; version: number; wards: number; counts: Float64Array } | null = null;

  /** Registered residents by age band × ward (cached until residents are added). */
  #population(NA: number, NW: number): Float64Array {
    const mark = this.#residentsMark();
    if (this.#pop && this.#pop.mark === mark && this.#pop.wards === NW) return this.#pop.counts;
    const counts = new Float64Array(NA * NW);
    this.#countPopulation(counts, NW, 0, mark);
    this.#pop = { mark, version: 0, wards: NW, counts };
    return counts;
  }

  /** #population, a range of `pageRows` residents (by rowid) per step. */
  *#populationSteps(NA: number, NW: number, pageRows: number): Generator<WarmStep> {
    const mark = this.#residentsMark();
    if (this.#pop && this.#pop.mark === mark && this.#pop.wards === NW) return;
    const counts = new Float64Array(NA * NW);
    for (let after = 0; after < mark; after += pageRows) {
      this.#countPopulation(counts, NW, after, Math.min(mark, after + pageRows));
      yield { phase: 'population', rows: Math.min(mark, after + pageRows) - after };
    }
    // Residents added meanwhile have later rowids: the next query counts them.
    if (!this.#pop || this.#pop.mark < mark || this.#pop.wards !== NW) {
      this.#pop = { mark, version: 0, wards: NW, counts };
    }
  }

  /** The last rowid of residents (the population changes when residents are added). */
  #residentsMark(): number {
    return (
      this.adb.db.prepare('SELECT COALESCE(MAX(rowid), 0) AS m FROM residents').get() as {
        m: number;
      }
    ).m;
  }

  /** Adds the residents with rowids in (after, upTo] to counts by age band × ward. */
  #countPopulation(counts: Float64Array, NW: number, after: number, upTo: number): void {
    for (const p of this.adb.db
      .prepare(
        `SELECT age_band AS a, ward AS w, COUNT(*) AS n FROM residents
         WHERE rowid > ? AND rowid <= ? GROUP BY 1, 2`,
      )
      .all(after, upTo) as { a: string; w: string; n: number }[]) {
      const w = this.adb.findCode('ward', p.w);
      if (w === null || w >= NW) continue;
      const i = ageIndex(p.a) * NW + w;
      counts[i] = (counts[i] ?? 0) + p.n;
    }
  }

  // ── segments ────────────────────────────────────────────────────────────────────

  #segmentData(): SegmentData {
    const v = this.adb.meta('segments_version') ?? 0;
    if (!this.#segments || this.#segments.version !== v) {
      this.#segments = { version: v, data: loadSegments(this.adb) };
    }
    return this.#segments.data;
  }

  /**
   * Residents per RFM segment and per behavioural segment, optionally for one age band
   * and/or ward. Segment cells are resident-disjoint, so counts add up exactly.
   */
  segmentSizes(
    f: Pick<AnalyticsFilters, 'ageBand' | 'ward' | 'attribute'> = {},
    o: QueryOptions = {},
  ): SegmentSizesAnswer {
    const k = checkK(o.k ?? DEFAULT_K);
    const all = this.#segmentData();
    const age = f.ageBand === undefined ? -1 : ageIndex(AgeBandSchema.parse(f.ageBand));
    const ward = f.ward === undefined ? -1 : (this.adb.findCode('ward', f.ward) ?? -2);
    const d =
      f.attribute === undefined
        ? all
        : loadSegments(this.adb, VolunteeredAttributeSchema.parse(f.attribute));
    const protect = (counts: Float64Array, everyone: Float64Array, segments: number) => {
      const out = protectSegments(counts, segments, d.wards, age, ward, k);
      if (d === all) return out;
      // Relaxing the attribute: everyone in the segment cell minus those with it.
      return out.map((v, s) =>
        v !== null &&
        isSmall(
          cellCount(everyone, s, d.wards, age, ward) - cellCount(counts, s, d.wards, age, ward),
          k,
        )
          ? null
          : v,
      );
    };
    const rfm = protect(d.rfmCounts, all.rfmCounts, RFM_SEGMENT_NAMES.length);
    const beh = protect(d.clusterCounts, all.clusterCounts, d.model?.k ?? 0);
    return {
      k,
      analysisDate: d.model ? isoDateOfDay(d.model.analysisDay) : null,
      rfm: RFM_SEGMENT_NAMES.map((s, i) => ({ segment: s, residents: rfm[i] ?? null })),
      behavioural: (d.model?.descriptions ?? []).map((desc, i) => ({
        segment: i,
        description: desc,
        residents: beh[i] ?? null,
      })),
    };
  }

  /**
   * Each behavioural segment: its description, size, average resident (over the whole
   * segment, as computed by the run) and age-band mix, k-anonymised like the sizes.
   */
  segmentProfiles(
    f: Pick<AnalyticsFilters, 'ward'> = {},
    o: QueryOptions = {},
  ): SegmentProfilesAnswer {
    const k = checkK(o.k ?? DEFAULT_K);
    const d = this.#segmentData();
    const ward = f.ward === undefined ? -1 : (this.adb.findCode('ward', f.ward) ?? -2);
    const K = d.model?.k ?? 0;
    const sizes = protectSegments(d.clusterCounts, K, d.wards, -1, ward, k);
    const byAge = AGE_BANDS.map((_, a) => protectSegments(d.clusterCounts, K, d.wards, a, ward, k));
    return {
      k,
      analysisDate: d.model ? isoDateOfDay(d.model.analysisDay) : null,
      segments: (d.model?.descriptions ?? []).map((desc, s) => ({
        segment: s,
        description: desc,
        residents: sizes[s] ?? null,
        profile: (d.model?.sizes[s] ?? 0) >= k ? (d.model?.profiles[s] ?? null) : null,
        ageBands: AGE_BANDS.map((band, a) => ({ ageBand: band, residents: byAge[a]?.[s] ?? null })),
      })),
    };
  }
}

interface SegmentData {
  model: SegmentModelJson | null;
  wards: number;
  /** Residents by [segment][age][ward], flattened. */
  rfmCounts: Float64Array;
  clusterCounts: Float64Array;
}

/** Residents of segment `s` in an (age, ward) cell (−1 = all) of [segment][age][ward] counts. */
/** Rule 4's edge weeks: per cell, the residents of its first and of its last week with visits. */
class EdgeWeeks {
  readonly #first: CappedSets;
  readonly #last: CappedSets;
  readonly #firstWeek: Int32Array;
  readonly #lastWeek: Int32Array;

  constructor(cells: number) {
    this.#first = new CappedSets(cells);
    this.#last = new CappedSets(cells);
    this.#firstWeek = new Int32Array(cells).fill(2 ** 30);
    this.#lastWeek = new Int32Array(cells).fill(-(2 ** 30));
  }

  /** A rollup row of cell c in `week` with resident ids[a, b). */
  add(c: number, week: number, ids: Int32Array, a: number, b: number): void {
    if (week < (this.#firstWeek[c] ?? 0)) {
      this.#firstWeek[c] = week;
      this.#first.clear(c);
    }
    if (week === this.#firstWeek[c]) this.#first.addAll(c, ids, a, b);
    if (week > (this.#lastWeek[c] ?? 0)) {
      this.#lastWeek[c] = week;
      this.#last.clear(c);
    }
    if (week === this.#lastWeek[c]) this.#last.addAll(c, ids, a, b);
  }

  /** Does the first or the last week of cell c have fewer than k residents? */
  small(c: number, k: number): boolean {
    return this.#first.size(c) < k || this.#last.size(c) < k;
  }
}

function cellCount(
  counts: Float64Array,
  s: number,
  wards: number,
  age: number,
  ward: number,
): number {
  const NA = AGE_BANDS.length;
  let n = 0;
  for (let x = 0; x < NA; x++) {
    if (age !== -1 && age !== x) continue;
    for (let y = 0; y < wards; y++) {
      if (ward !== -1 && ward !== y) continue;
      n += counts[(s * NA + x) * wards + y] ?? 0;
    }
  }
  return n;
}

/** Published segment counts; with an attribute, of its consenting holders only. */
function loadSegments(adb: AnalyticsDb, attribute?: VolunteeredAttribute): SegmentData {
  return loadAll(segmentsLoading(adb, attribute, Number.POSITIVE_INFINITY));
}

/** loadSegments a range of `pageIds` resident ids per step. */
function segmentsLoading(
  adb: AnalyticsDb,
  attribute: VolunteeredAttribute | undefined,
  pageIds: number,
): Loading<SegmentData> {
  const r = adb.db
    .prepare('SELECT model FROM analytics_segment_runs ORDER BY id DESC LIMIT 1')
    .get() as { model: string } | undefined;
  const model = r ? (JSON.parse(r.model) as SegmentModelJson) : null;
  const wards = Math.max(1, adb.keys('ward').length);
  const NA = AGE_BANDS.length;
  const rfmCounts = new Float64Array(RFM_SEGMENT_NAMES.length * NA * wards);
  const clusterCounts = new Float64Array(Math.max(1, model?.k ?? 0) * NA * wards);
  const last = adb.db
    .prepare('SELECT COALESCE(MAX(resident_id), 0) FROM analytics_segments')
    .pluck()
    .get() as number;
  const st = adb.db
    .prepare(
      `SELECT s.rfm_segment, s.cluster, a.age, a.ward, COUNT(*) FROM analytics_segments s
       JOIN analytics_residents a ON a.id = s.resident_id
       WHERE s.resident_id > ? AND s.resident_id <= ?
       ${attribute === undefined ? '' : `AND a.resident_ref IN (SELECT ref FROM (${ATTRIBUTE_HOLDERS}))`}
       GROUP BY 1, 2, 3, 4`,
    )
    .raw(true);
  let after = -1;
  return {
    step: () => {
      const to = Math.min(last, after + pageIds);
      const rows = st.all(after, to, ...(attribute === undefined ? [] : [attribute])) as [
        string,
        number,
        number,
        number,
        number,
      ][];
      after = to;
      for (const [seg, cluster, age, ward, n] of rows) {
        const si = RFM_SEGMENT_NAMES.indexOf(seg);
        const ri = (si * NA + age) * wards + ward;
        if (si >= 0) rfmCounts[ri] = (rfmCounts[ri] ?? 0) + n;
        const ci = (cluster * NA + age) * wards + ward;
        if (model && cluster >= 0 && cluster < model.k)
          clusterCounts[ci] = (clusterCounts[ci] ?? 0) + n;
      }
      return rows.length;
    },
    get done() {
      return after >= last;
    },
    finish: () => ({ model, wards, rfmCounts, clusterCounts }),
  };
}

/**
 * Segment counts for an (age, ward) filter (−1 = all), protected by the same rules:
 * primary suppression, rule 2 along the segment line and along the age and ward families
 * of the filter, and rule 3 against relaxing the age and/or ward filter.
 */
function protectSegments(
  counts: Float64Array,
  segments: number,
  wards: number,
  age: number,
  ward: number,
  k: number,
): (number | null)[] {
  if (ward === -2) return Array.from({ length: segments }, () => 0);
  const count = (s: number, a: number, w: number): number => cellCount(counts, s, wards, a, w);
  const sum =
    (vals: number[]) =>
    (cs: readonly number[]): number =>
      cs.reduce((t, c) => t + (vals[c] ?? 0), 0);
  const value = Array.from({ length: segments }, (_, s) => count(s, age, ward));
  const hide = new Uint8Array(segments);
  for (let s = 0; s < segments; s++) {
    if (isSmall(value[s] ?? 0, k)) hide[s] = 1;
    // Rule 3: relaxing age, ward or both.
    const parents: [number, number][] = [];
    if (age !== -1) parents.push([-1, ward]);
    if (ward !== -1) parents.push([age, -1]);
    if (age !== -1 && ward !== -1) parents.push([-1, -1]);
    for (const [pa, pw] of parents) if (isSmall(count(s, pa, pw) - (value[s] ?? 0), k)) hide[s] = 1;
    // Rule 2 along the age family and the ward family of this cell.
    if (age !== -1) {
      const fam = AGE_BANDS.map((_, a) => count(s, a, ward));
      const extra = lineComplement(
        fam.map((_, a) => a),
        (a) => isSmall(fam[a] ?? 0, k),
        (a) => fam[a] ?? 0,
        sum(fam),
        k,
      );
      if (extra.includes(age)) hide[s] = 1;
    }
    if (ward !== -1) {
      const fam = Array.from({ length: wards }, (_, w) => count(s, age, w));
      const extra = lineComplement(
        fam.map((_, w) => w),
        (w) => isSmall(fam[w] ?? 0, k),
        (w) => fam[w] ?? 0,
        sum(fam),
        k,
      );
      if (extra.includes(ward)) hide[s] = 1;
    }
  }
  // Rule 2 along the segment line (segments add up to the residents in the filter).
  const line = value.map((_, s) => s);
  for (const s of lineComplement(
    line,
    (x) => isSmall(value[x] ?? 0, k),
    (x) => value[x] ?? 0,
    sum(value),
    k,
  ))
    hide[s] = 1;
  return value.map((v, s) => (hide[s] && v > 0 ? null : v));
}
