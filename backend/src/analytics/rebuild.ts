import { Worker } from 'node:worker_threads';
import { DAY_MS, londonDay, weekOfDay } from '@clubcard/shared/rules/london-time';
import { eventIdTime, type EventId } from '@clubcard/shared';
import type { AnalyticsDb } from './analytics-db.js';
import {
  forEachTime,
  forEachVisitGroup,
  scanFeatures,
  type ScanContext,
  type ScanOutput,
  type ScanRange,
} from './feature-scan.js';
import {
  AGE_BANDS,
  FEATURE_COLUMNS,
  NF,
  WINDOW_DAYS,
  emptyFeatureRow,
  kindClass,
} from './model.js';
import { RESIDENT_SET_CAP, encodeResidentSet } from './privacy.js';

/**
 * Rebuilds analytics state from the raw event log, for when feature definitions change
 * or the tables are suspect: every per-resident feature row (with its usage entries)
 * and, on request, the usage rollup. Every feature is order-independent, so the visits
 * can be read in any order and in parallel: residents are split into ranges of refs, one
 * per worker thread, each reading the covering visit index on its own connection. The
 * tables are rewritten in one transaction, so readers see the old state or the new one.
 */
export type Progress = (done: number, total: number) => void;

export interface RebuildOptions {
  /** London day the feature window ends on (default: the day of the newest event). */
  analysisDay?: number;
  /** Worker threads for the scan (default 2; 0 scans in this thread, e.g. in-memory databases). */
  workers?: number;
  progress?: Progress;
}

export interface RebuildResult {
  visits: number;
  residents: number;
  analysisDay: number;
  windowStart: number;
}

/** The London day of the newest event, from the time in its UUIDv7 id (primary key order). */
export function newestEventDay(adb: AnalyticsDb): number | null {
  const r = adb.db.prepare('SELECT MAX(id) AS id FROM events').get() as { id: string | null };
  return r.id ? londonDay(eventIdTime(r.id as EventId)) : null;
}

/**
 * Makes sure every venue, service and ward has a code and every resident an analytics
 * row with current age band and ward, in SQL (no per-resident round trips).
 */
export function prepareAnalyticsRows(adb: AnalyticsDb): void {
  const db = adb.db;
  const addCodes = (kind: string, column: string, table: string): void => {
    db.prepare(
      `INSERT INTO analytics_codes (kind, key, code)
       SELECT ?, k, (SELECT COALESCE(MAX(code), -1) FROM analytics_codes WHERE kind = ?) + ROW_NUMBER() OVER (ORDER BY k)
       FROM (SELECT DISTINCT ${column} AS k FROM ${table}) WHERE k NOT IN (SELECT key FROM analytics_codes WHERE kind = ?)`,
    ).run(kind, kind, kind);
  };
  db.transaction(() => {
    addCodes('venue', 'id', 'venues');
    addCodes('service', 'id', 'services');
    addCodes('ward', 'ward', 'residents');
    const ageCase = `CASE r.age_band ${AGE_BANDS.map((b, i) => `WHEN '${b}' THEN ${i}`).join(' ')} ELSE 0 END`;
    db.exec(
      `INSERT INTO analytics_residents (resident_ref, age, ward)
       SELECT r.ref, ${ageCase}, c.code FROM residents r
       JOIN analytics_codes c ON c.kind = 'ward' AND c.key = r.ward
       WHERE NOT EXISTS (SELECT 1 FROM analytics_residents a WHERE a.resident_ref = r.ref)
       ORDER BY r.ref`,
    );
    db.exec(
      `UPDATE analytics_residents AS a SET age = ${ageCase}, ward = c.code
       FROM residents r JOIN analytics_codes c ON c.kind = 'ward' AND c.key = r.ward
       WHERE r.ref = a.resident_ref AND (a.age != ${ageCase} OR a.ward != c.code)`,
    );
  })();
  adb.forgetResidents();
}

function scanContext(adb: AnalyticsDb, windowStart: number): ScanContext {
  const serviceKind: number[] = [];
  for (const s of adb.db.prepare('SELECT id, kind FROM services').all() as {
    id: string;
    kind: string;
  }[]) {
    serviceKind[adb.code('service', s.id)] = kindClass(s.kind);
  }
  for (let i = 0; i < serviceKind.length; i++) serviceKind[i] ??= 3;
  const m = adb.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM analytics_residents').get() as {
    m: number;
  };
  return { windowStart, serviceKind, ...codeMaps(adb), maxId: m.m };
}

function codeMaps(adb: AnalyticsDb): Pick<ScanContext, 'venueCodes' | 'serviceCodes'> {
  const of = (kind: 'venue' | 'service'): Record<string, number> => {
    const out: Record<string, number> = {};
    adb.keys(kind).forEach((key, code) => (out[key] = code));
    return out;
  };
  return { venueCodes: of('venue'), serviceCodes: of('service') };
}

/** Resident-ref boundaries splitting analytics residents into `parts` equal ranges. */
function ranges(adb: AnalyticsDb, parts: number): ScanRange[] {
  const n = (adb.db.prepare('SELECT COUNT(*) AS n FROM analytics_residents').get() as { n: number })
    .n;
  const cuts = [''];
  const at = adb.db.prepare(
    'SELECT resident_ref AS r FROM analytics_residents ORDER BY resident_ref LIMIT 1 OFFSET ?',
  );
  for (let p = 1; p < parts; p++) {
    const r = at.get(Math.floor((n * p) / parts)) as { r: string } | undefined;
    if (r) cuts.push(r.r);
  }
  cuts.push('\uffff');
  const out: ScanRange[] = [];
  for (let i = 0; i + 1 < cuts.length; i++)
    out.push({ lo: cuts[i] ?? '', hi: cuts[i + 1] ?? '\uffff' });
  return out;
}

function runWorker(file: string, range: ScanRange, ctx: ScanContext): Promise<ScanOutput> {
  return new Promise((resolve, reject) => {
    const isTs = import.meta.url.endsWith('.ts');
    const url = new URL(`./rebuild-worker.${isTs ? 'ts' : 'js'}`, import.meta.url).href;
    // Sources run through tsx (no build step): the worker registers the same loader
    // in its own thread before importing the TypeScript entry.
    const boot = isTs
      ? `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`
      : `import(${JSON.stringify(url)})`;
    const w = new Worker(boot, { eval: true, workerData: { file, range, ctx } });
    w.once('message', (m: ScanOutput) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`rebuild worker exited with ${code}`));
    });
  });
}

/** Rebuilds every feature row from the event log. */
export async function rebuildFeatures(
  adb: AnalyticsDb,
  o: RebuildOptions = {},
): Promise<RebuildResult> {
  const analysisDay = o.analysisDay ?? newestEventDay(adb) ?? Math.floor(Date.now() / DAY_MS);
  const windowStart = analysisDay - WINDOW_DAYS + 1;
  prepareAnalyticsRows(adb);
  const ctx = scanContext(adb, windowStart);
  const file = adb.db.name;
  const workers = file === ':memory:' || adb.db.memory ? 0 : (o.workers ?? 2);
  o.progress?.(0, 2);
  let outputs: ScanOutput[];
  if (workers <= 0) {
    outputs = [scanFeatures(adb.db, { lo: '', hi: '\uffff' }, ctx)];
  } else {
    // Workers read committed data from their own connections: make sure nothing is pending.
    outputs = await Promise.all(ranges(adb, workers).map((r) => runWorker(file, r, ctx)));
  }
  o.progress?.(1, 2);
  let visits = 0;
  let residents = 0;
  const empty = new Float64Array(NF);
  emptyFeatureRow(empty);
  const emptyArgs = Array.from(empty);
  const update = adb.db.prepare(
    `UPDATE analytics_residents SET ${FEATURE_COLUMNS.map((c) => `${c} = ?`).join(', ')}, usage = ? WHERE id = ?`,
  );
  adb.db.transaction(() => {
    const written = new Uint8Array(ctx.maxId + 1);
    const args: (number | Buffer)[] = new Array<number | Buffer>(NF + 2);
    for (const out of outputs) {
      visits += out.visits;
      for (let k = 0; k < out.ids.length; k++) {
        const id = out.ids[k] ?? 0;
        for (let j = 0; j < NF; j++) args[j] = out.rows[k * NF + j] ?? 0;
        const a = out.usageStart[k] ?? 0;
        const b = out.usageStart[k + 1] ?? 0;
        args[NF] = Buffer.from(out.usage.buffer, out.usage.byteOffset + a * 4, (b - a) * 4);
        args[NF + 1] = id;
        update.run(...args);
        written[id] = 1;
        residents++;
      }
    }
    // Residents with no visits at all get an empty row (their old visits may be erased).
    const ids = adb.db.prepare('SELECT id FROM analytics_residents').pluck().all() as number[];
    for (const id of ids) if (!written[id]) update.run(...emptyArgs, Buffer.alloc(0), id);
    adb.setMeta('window_start', windowStart);
    adb.setMeta('analysis_day', analysisDay);
    adb.bump('usage_version');
  })();
  o.progress?.(2, 2);
  return { visits, residents, analysisDay, windowStart };
}

/**
 * Rebuilds the usage rollup from the event log (in this thread: it is a one-off, e.g.
 * after generating a county or changing the rollup's definition).
 */
export function rebuildRollups(adb: AnalyticsDb, progress?: Progress): number {
  prepareAnalyticsRows(adb);
  const dims = adb.db.prepare('SELECT id, age, ward FROM analytics_residents').raw(true).all() as [
    number,
    number,
    number,
  ][];
  let maxId = 0;
  for (const [id] of dims) maxId = Math.max(maxId, id);
  const age = new Uint8Array(maxId + 1);
  const ward = new Uint16Array(maxId + 1);
  for (const [id, a, w] of dims) {
    age[id] = a;
    ward[id] = w;
  }
  const builder = new RollupBuilder();
  const total = (
    adb.db.prepare('SELECT COUNT(*) AS n FROM analytics_residents').get() as { n: number }
  ).n;
  let lastId = -1;
  let residents = 0;
  forEachVisitGroup(
    adb.db,
    { lo: '', hi: '\uffff' },
    codeMaps(adb),
    (id, venue, service, times) => {
      forEachTime(times, (p) => {
        const day = Math.floor(p / 256);
        builder.add(weekOfDay(day), p - day * 256, venue, service, age[id] ?? 0, ward[id] ?? 0, id);
      });
      if (id !== lastId) {
        lastId = id;
        residents++;
        if (residents % 10_000 === 0) progress?.(residents, total);
      }
    },
  );
  let cells = 0;
  adb.db.transaction(() => {
    cells = builder.write(adb);
    adb.bump('usage_version');
  })();
  progress?.(total, total);
  return cells;
}

/**
 * Aggregates visits into rollup cells: facts are kept in typed arrays, bucketed by week,
 * and each week's cells are aggregated with a Map and written in key order.
 */
class RollupBuilder {
  #n = 0;
  #week = new Int32Array(1 << 20);
  #key = new Float64Array(1 << 20);
  #res = new Int32Array(1 << 20);

  add(
    week: number,
    how: number,
    venue: number,
    service: number,
    age: number,
    ward: number,
    residentId: number,
  ): void {
    if (this.#n === this.#week.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, mk: (n: number) => T): T => {
        const b = mk(a.length * 2);
        b.set(a);
        return b;
      };
      this.#week = grow(this.#week, (m) => new Int32Array(m));
      this.#key = grow(this.#key, (m) => new Float64Array(m));
      this.#res = grow(this.#res, (m) => new Int32Array(m));
    }
    // how (8 bits) · venue (16) · service (12) · age (4) · ward (12): 52 bits, exact in a double.
    this.#week[this.#n] = week;
    this.#key[this.#n] = (((how * 65536 + venue) * 4096 + service) * 16 + age) * 4096 + ward;
    this.#res[this.#n] = residentId;
    this.#n++;
  }

  write(adb: AnalyticsDb): number {
    const n = this.#n;
    let minW = Infinity;
    let maxW = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = this.#week[i] ?? 0;
      if (w < minW) minW = w;
      if (w > maxW) maxW = w;
    }
    adb.db.exec('DELETE FROM analytics_usage');
    if (n === 0) return 0;
    const span = maxW - minW + 1;
    const start = new Int32Array(span + 1);
    for (let i = 0; i < n; i++) {
      const w = (this.#week[i] ?? 0) - minW + 1;
      start[w] = (start[w] ?? 0) + 1;
    }
    for (let w = 0; w < span; w++) start[w + 1] = (start[w + 1] ?? 0) + (start[w] ?? 0);
    const order = new Int32Array(n);
    const fill = start.slice(0, span);
    for (let i = 0; i < n; i++) {
      const w = (this.#week[i] ?? 0) - minW;
      order[fill[w] ?? 0] = i;
      fill[w] = (fill[w] ?? 0) + 1;
    }
    const insert = adb.db.prepare(
      'INSERT INTO analytics_usage (week, how, venue, service, age, ward, visits, residents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let cells = 0;
    for (let w = 0; w < span; w++) {
      const cellsOf = new Map<number, { visits: number; ids: number[] }>();
      for (let j = start[w] ?? 0; j < (start[w + 1] ?? 0); j++) {
        const i = order[j] ?? 0;
        const key = this.#key[i] ?? 0;
        let c = cellsOf.get(key);
        if (!c) {
          c = { visits: 0, ids: [] };
          cellsOf.set(key, c);
        }
        c.visits++;
        const id = this.#res[i] ?? 0;
        if (c.ids.length < RESIDENT_SET_CAP && !c.ids.includes(id)) c.ids.push(id);
      }
      const keys = [...cellsOf.keys()].sort((a, b) => a - b);
      for (const key of keys) {
        const c = cellsOf.get(key);
        if (!c) continue;
        let rest = key;
        const ward = rest % 4096;
        rest = (rest - ward) / 4096;
        const age = rest % 16;
        rest = (rest - age) / 16;
        const service = rest % 4096;
        rest = (rest - service) / 4096;
        const venue = rest % 65536;
        const how = (rest - venue) / 65536;
        insert.run(w + minW, how, venue, service, age, ward, c.visits, encodeResidentSet(c.ids));
        cells++;
      }
    }
    return cells;
  }
}
