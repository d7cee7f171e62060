/**
 * Segmentation benchmark on a synthetic county (default 850,000 residents, about 20
 * million visit events in a year). `--residents N` for a smaller county.
 *
 * The county is generated once and cached under .cache/ (git-ignored) with its usage
 * rollup; each run works on a copy, so runs do not disturb each other. Measured:
 * - rebuild_s: every per-resident feature row rebuilt from the raw event log;
 * - segment_s: from feature rows to published RFM and behavioural segments;
 * - incremental_s: one more day of visits (about 1/365 of the year, sampled from the
 *   same weekday a week earlier) applied by the ingestion listener to rollups and
 *   features, then the window moved on a day and changed residents re-scored (the event
 *   rows themselves are inserted first, untimed: that is ingestion's cost, not analytics').
 *   The listener holds its changes in memory; the window advance writes them out in its
 *   transaction, so the timed span includes every write it causes (the log line gives
 *   the CPU seconds of each part and the bytes written);
 * - api_p95_ms: p95 over the dashboard queries (county and filtered heatmaps, trends,
 *   take-up, segment sizes and profiles, neighbourhoods, offers with their take-up),
 *   after the in-memory copies (the queries' and the residents' rows the listener reads)
 *   are warm as the backend warms them at start, step by step between requests
 *   (cache_load_s reports the warm-up, warm_up_longest_step_ms its longest step: the
 *   longest a push or a dashboard request could wait behind it);
 * - duckdb_s: DuckDB computing the same per-resident feature table from the same visits,
 *   loaded beforehand (duckdb_load_s, not counted); ratio_vs_duckdb = rebuild_s / duckdb_s;
 * - rss_mb: peak resident set size of this process (workers included);
 * - *_cpu_s: CPU seconds of those phases, all threads (the machine may be shared), and
 *   load_avg_1m: the one-minute load average at the start and the end.
 *
 * Run: npm run bench:segment [-- --residents 50000]   (last output line: one JSON object)
 * `--only incremental` runs rebuild, segment, the cache warm-up and the incremental day
 * alone (no dashboard queries or DuckDB), for working on the incremental step.
 */
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { openBackendDb, type Db } from '@clubcard/backend/db/open';
import { generateCounty } from '@clubcard/backend/demo/county';
import { Analytics } from '@clubcard/backend/analytics/analytics';
import { dayOfIsoDate } from '@clubcard/backend/analytics/london-slots';
import { WINDOW_DAYS } from '@clubcard/backend/analytics/model';
import type { AnalyticsFilters } from '@clubcard/backend/analytics/queries';
import { CouncilQueries } from '@clubcard/backend/analytics/council-queries';
import { insertWeekLater, visitPayloadsOfDay } from '@clubcard/backend/analytics/test-day';
import { OfferService } from '@clubcard/backend/offers/offer-service';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RESIDENTS = Number.parseInt(arg('--residents') ?? '850000', 10);
const ONLY = arg('--only');
if (ONLY !== undefined && ONLY !== 'incremental') {
  throw new Error(`--only takes 'incremental', not '${ONLY}'`);
}
const CACHE = join(ROOT, '.cache');
const PRISTINE = join(CACHE, `bench-county-${RESIDENTS}-v1.sqlite`);
const WORK = join(CACHE, `bench-work-${RESIDENTS}.sqlite`);
const LAST_DAY = '2025-12-31';

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};
const secs = (t0: number): number => Math.round((performance.now() - t0) / 10) / 100;
/** CPU seconds (user + system, every thread of this process) since `c0`. */
const cpuSecs = (c0: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(c0);
  return Math.round((u.user + u.system) / 10_000) / 100;
};

/**
 * Bytes this process has passed to write() so far (SQLite's WAL frames and checkpoint
 * copies: pages written), from /proc/self/io (wchar); null where that is not available.
 */
function bytesWritten(): number | null {
  try {
    const m = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function removeDb(file: string): void {
  for (const s of ['', '-wal', '-shm']) rmSync(file + s, { force: true });
}

/** Generates and caches the county with its usage rollup (first run only). */
function ensureCounty(): void {
  if (existsSync(PRISTINE)) return;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${PRISTINE}.partial`;
  removeDb(tmp);
  const db = openBackendDb(tmp);
  db.pragma('cache_size = -2000000');
  const t0 = performance.now();
  let last = 0;
  const county = generateCounty(db, {
    residents: RESIDENTS,
    cardHashKey: 'ab'.repeat(32),
    progress: (phase, d, total) => {
      if (performance.now() - last > 10_000 || d === total) {
        last = performance.now();
        log(`generate ${phase} ${d}/${total} ${secs(t0)}s`);
      }
    },
  });
  log(`generated ${JSON.stringify(county)} in ${secs(t0)}s`);
  const cells = new Analytics(db).rebuildRollups();
  log(`rollup cells ${cells} at ${secs(t0)}s`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  renameSync(tmp, PRISTINE);
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] ?? 0;
}

/** Writes the accepted visits as CSV for DuckDB (read through the covering visit index). */
function exportVisits(db: Db, file: string): Promise<number> {
  const out = createWriteStream(file);
  let n = 0;
  let buf = 'resident_ref,venue_id,service_id,occurred_at\n';
  const stmt = db
    .prepare(
      `SELECT resident_ref, venue_id, service_id, group_concat(occurred_at, ',') FROM events INDEXED BY analytics_events_visits
       WHERE type = 'visit' AND status = 'accepted' GROUP BY 1, 2, 3`,
    )
    .raw(true);
  const chunks: string[] = [];
  for (const [r, v, s, ts] of stmt.iterate() as Iterable<[string, string, string, string]>) {
    for (const t of ts.split(',')) {
      buf += `${r},${v},${s},${t}\n`;
      n++;
    }
    if (buf.length > 1 << 22) {
      chunks.push(buf);
      buf = '';
      if (chunks.length > 16) out.write(chunks.splice(0).join(''));
    }
  }
  chunks.push(buf);
  out.write(chunks.join(''));
  return new Promise((resolve, reject) => {
    out.end(() => resolve(n));
    out.on('error', reject);
  });
}

/** The per-resident feature table in DuckDB SQL, with the definitions of features.ts/model.ts. */
function duckFeatureSql(windowStart: number): string {
  const local = "timezone('Europe/London', v.occurred_at)";
  return `
    CREATE OR REPLACE TABLE features AS
    WITH v AS (
      SELECT v.resident_ref, v.venue_id, v.service_id, s.kind,
             CAST(${local} AS DATE) AS day, extract('isodow' FROM ${local}) - 1 AS dow, hour(${local}) AS hr
      FROM visits v JOIN services s ON s.id = v.service_id
    ), f AS (
      SELECT *, (day - DATE '1970-01-01') AS dn, kind = 'gp-drop-in' AS gp, (day - DATE '1970-01-01') >= ${windowStart} AS win,
        CASE WHEN dow >= 5 THEN 4 WHEN hr < 12 THEN 0 WHEN hr < 15 THEN 1 WHEN hr < 18 THEN 2 ELSE 3 END AS part,
        CASE WHEN dow >= 5 THEN NOT (hr >= 9 AND hr < 13) ELSE NOT (hr >= 15 AND hr < 20) END AS offpeak,
        floor(((day - DATE '1970-01-01') + 3) / 7) AS wk
      FROM v
    )
    SELECT resident_ref,
      min(dn) FILTER (WHERE NOT gp) AS first_x, max(dn) FILTER (WHERE NOT gp) AS last_x,
      min(dn) FILTER (WHERE gp) AS first_g, max(dn) FILTER (WHERE gp) AS last_g,
      count(*) FILTER (WHERE win AND NOT gp) AS x_visits,
      count(*) FILTER (WHERE win AND kind = 'library') AS x_library,
      count(*) FILTER (WHERE win AND kind = 'leisure') AS x_leisure,
      count(*) FILTER (WHERE win AND NOT gp AND kind NOT IN ('library', 'leisure')) AS x_other,
      count(*) FILTER (WHERE win AND NOT gp AND part = 0) AS x_morning,
      count(*) FILTER (WHERE win AND NOT gp AND part = 1) AS x_midday,
      count(*) FILTER (WHERE win AND NOT gp AND part = 2) AS x_after_school,
      count(*) FILTER (WHERE win AND NOT gp AND part = 3) AS x_evening,
      count(*) FILTER (WHERE win AND NOT gp AND part = 4) AS x_weekend,
      count(*) FILTER (WHERE win AND NOT gp AND offpeak) AS x_offpeak,
      count(*) FILTER (WHERE win AND gp) AS g_visits,
      count(*) FILTER (WHERE win AND gp AND part = 0) AS g_morning,
      count(*) FILTER (WHERE win AND gp AND part = 1) AS g_midday,
      count(*) FILTER (WHERE win AND gp AND part = 2) AS g_after_school,
      count(*) FILTER (WHERE win AND gp AND part = 3) AS g_evening,
      count(*) FILTER (WHERE win AND gp AND part = 4) AS g_weekend,
      count(*) FILTER (WHERE win AND gp AND offpeak) AS g_offpeak,
      count(DISTINCT venue_id) FILTER (WHERE win AND NOT gp) AS x_venues,
      count(DISTINCT service_id) FILTER (WHERE win AND NOT gp) AS x_services,
      count(DISTINCT venue_id) FILTER (WHERE win) AS a_venues,
      count(DISTINCT service_id) FILTER (WHERE win) AS a_services,
      count(DISTINCT wk) FILTER (WHERE win AND NOT gp) AS x_weeks,
      count(DISTINCT wk) FILTER (WHERE win) AS a_weeks
    FROM f GROUP BY resident_ref`;
}

/**
 * Times the dashboard queries on warm caches (two offers to whole segments are made
 * first, as analysts make them); returns the p95 in milliseconds.
 */
function dashboardQueries(db: Db, analytics: Analytics): number {
  log('queries…');
  const venues = db.prepare('SELECT id FROM venues ORDER BY id').pluck().all() as string[];
  const wards = db
    .prepare('SELECT ward FROM residents UNION SELECT ward FROM venues ORDER BY 1')
    .pluck()
    .all() as string[];
  const council = new CouncilQueries(db, analytics.queries);
  // Two offers to whole segments (the largest cluster, and champions), as analysts make them.
  const offers = new OfferService(db, () => Date.parse(`${LAST_DAY}T12:00:00Z`));
  for (const [segmentId, serviceId] of [
    ['cluster:0', 's-swim'],
    ['rfm:champions', null],
  ] as const) {
    offers.create(
      {
        title: { en: 'Come back', cy: 'Dewch yn ôl' },
        segmentId,
        serviceId,
        startsOn: '2025-10-01',
        endsOn: LAST_DAY,
      },
      'bench',
    );
  }
  const pick = <T>(xs: readonly T[], i: number): T | undefined =>
    xs[(i * 7919) % Math.max(1, xs.length)];
  const times: number[] = [];
  const byQuery = new Map<string, number[]>();
  const time = (name: string, fn: () => unknown): void => {
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    times.push(ms);
    const l = byQuery.get(name) ?? [];
    l.push(ms);
    byQuery.set(name, l);
  };
  const q = analytics.queries;
  for (let i = 0; i < 6; i++) {
    const venue = pick(venues, i + 1);
    const ward = pick(wards, i + 3);
    const one: AnalyticsFilters = venue ? { venueId: venue } : {};
    const inWard: AnalyticsFilters = ward ? { ward } : {};
    time('heatmap', () => q.usageHeatmap());
    time('heatmap venue', () => q.usageHeatmap(one));
    time('heatmap ward+age', () => q.usageHeatmap({ ...inWard, ageBand: '65-74' }));
    time('heatmap quarter service', () =>
      q.usageHeatmap({ serviceId: 's-swim', from: '2025-04-01', to: '2025-06-30' }),
    );
    time('trend', () => q.weeklyTrend());
    time('trend service ward', () => q.weeklyTrend({ serviceId: 's-library', ...inWard }));
    time('take-up', () => q.takeUp());
    time('take-up service', () =>
      q.takeUp({ serviceId: 's-gym', from: '2025-10-01', to: '2025-12-31' }),
    );
    time('segments', () => q.segmentSizes());
    time('segments ward', () => q.segmentSizes(inWard));
    time('profiles', () => q.segmentProfiles());
    time('neighbourhoods', () => council.neighbourhoods({}, wards));
    time('neighbourhoods service', () =>
      council.neighbourhoods(
        { serviceId: 's-library', from: '2025-07-01', to: '2025-09-30' },
        wards,
      ),
    );
    time('offers', () => offers.list());
  }
  for (const [name, xs] of byQuery) log(`  ${name.padEnd(24)} p95 ${p95(xs).toFixed(1)} ms`);
  return Math.round(p95(times) * 10) / 10;
}

/** DuckDB computing the same feature table from the same visits (loaded first, untimed). */
async function duckdbFeatures(
  db: Db,
  day: number,
): Promise<{
  duckdb_s: number;
  duckdb_load_s: number;
  duckdb_same: boolean;
  duckdb_cpu_s: number;
}> {
  log('DuckDB: loading the same visits…');
  let t = performance.now();
  const csv = join(CACHE, `bench-visits-${RESIDENTS}.csv`);
  const exported = await exportVisits(db, csv);
  const duck = await DuckDBInstance.create(':memory:', { threads: '2' });
  const con = await duck.connect();
  await con.run(
    `CREATE TABLE visits AS SELECT resident_ref, venue_id, service_id, CAST(occurred_at AS TIMESTAMPTZ) AS occurred_at
     FROM read_csv('${csv}', header = true, columns = {'resident_ref': 'VARCHAR', 'venue_id': 'VARCHAR', 'service_id': 'VARCHAR', 'occurred_at': 'VARCHAR'})`,
  );
  await con.run('CREATE TABLE services (id VARCHAR, kind VARCHAR)');
  for (const s of db.prepare('SELECT id, kind FROM services').all() as {
    id: string;
    kind: string;
  }[]) {
    await con.run(`INSERT INTO services VALUES ('${s.id}', '${s.kind}')`);
  }
  const duckdb_load_s = secs(t);
  rmSync(csv, { force: true });
  log(`DuckDB load ${duckdb_load_s}s (${exported} visits)`);
  const windowStart = day - WINDOW_DAYS + 1;
  t = performance.now();
  const c = process.cpuUsage();
  await con.run(duckFeatureSql(windowStart));
  const duckdb_s = secs(t);
  const duckdb_cpu_s = cpuSecs(c);
  const check = await con.runAndReadAll(
    'SELECT count(*), sum(x_visits), sum(g_visits), sum(a_venues) FROM features',
  );
  const ours = db
    .prepare(
      'SELECT COUNT(*) AS n, SUM(x_visits) AS x, SUM(g_visits) AS g, SUM(a_venues) AS v FROM analytics_residents WHERE first_x >= 0 OR first_g >= 0',
    )
    .get() as { n: number; x: number; g: number; v: number };
  const d = (check.getRows()[0] ?? []).map((x) => Number(x));
  const duckdb_same = d[0] === ours.n && d[1] === ours.x && d[2] === ours.g && d[3] === ours.v;
  log(
    `DuckDB features ${duckdb_s}s; same totals as ours: ${duckdb_same} (duck ${d.join('/')}, ours ${ours.n}/${ours.x}/${ours.g}/${ours.v})`,
  );
  con.closeSync();
  return { duckdb_s, duckdb_load_s, duckdb_same, duckdb_cpu_s };
}

async function main(): Promise<void> {
  const tAll = performance.now();
  ensureCounty();
  log('copying the cached county…');
  removeDb(WORK);
  copyFileSync(PRISTINE, WORK);
  const db = openBackendDb(WORK);
  db.pragma('cache_size = -2000000');
  db.pragma('mmap_size = 17179869184');
  const analytics = new Analytics(db);
  const events = (
    db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'visit'").get() as { n: number }
  ).n;
  const analysisDay = dayOfIsoDate(LAST_DAY);

  log('rebuild…');
  const load_start = loadavg()[0] ?? 0;
  let t = performance.now();
  let c = process.cpuUsage();
  const rebuilt = await analytics.rebuildFeatures({
    analysisDay,
    workers: 2,
    progress: (d, total) => log(`  rebuild phase ${d}/${total} at ${secs(t)}s`),
  });
  const rebuild_s = secs(t);
  const rebuild_cpu_s = cpuSecs(c);
  log(`rebuild ${rebuild_s}s (${rebuilt.visits} visits, ${rebuilt.residents} residents)`);

  log('segment…');
  t = performance.now();
  c = process.cpuUsage();
  const seg = analytics.segment({
    analysisDay,
    progress: (phase, d, total) => {
      if (d === total) log(`  segment ${phase} done at ${secs(t)}s`);
    },
  });
  const segment_s = secs(t);
  const segment_cpu_s = cpuSecs(c);
  log(`segment ${segment_s}s, k = ${seg.k}, ${seg.segmented} residents`);

  // The backend warms its caches at start and the listener keeps them current, so the
  // incremental step is timed with them warm (with --only too).
  // Step by step, as the backend does at start (serving between steps): the longest step
  // is how long a push or a dashboard request could wait behind it.
  log('warming query caches…');
  t = performance.now();
  let warm_up_longest_step_ms = 0;
  const warming = analytics.warmUp({
    progress: (p) => {
      warm_up_longest_step_ms = Math.max(warm_up_longest_step_ms, p.longestStepMs);
      log(
        `  ${p.phase}: ${p.rows} rows in ${p.steps} steps, ${(p.ms / 1000).toFixed(1)}s, longest step ${Math.round(p.longestStepMs)} ms`,
      );
    },
  });
  if (!(await warming.done)) throw new Error('the warm-up stopped before it finished');
  analytics.queries.segmentSizes();
  const cache_load_s = secs(t);
  warm_up_longest_step_ms = Math.round(warm_up_longest_step_ms);
  log(`caches ${cache_load_s}s, longest step ${warm_up_longest_step_ms} ms`);
  const api_p95_ms = ONLY === undefined ? dashboardQueries(db, analytics) : null;

  log('incremental day…');
  const day = analysisDay + 1;
  // The visits of the same weekday a week earlier, a week later.
  const visits = insertWeekLater(db, visitPayloadsOfDay(db, day - 7));
  t = performance.now();
  c = process.cpuUsage();
  const faults = process.resourceUsage();
  const written = bytesWritten();
  for (let i = 0; i < visits.length; i += 100) {
    const batch = visits.slice(i, i + 100);
    db.transaction(() => analytics.listener.onAccepted(batch, 0))();
  }
  const listened_s = secs(t);
  const listened_cpu_s = cpuSecs(c);
  const applied = analytics.advanceDay(day);
  const incremental_s = secs(t);
  const incremental_cpu_s = cpuSecs(c);
  log(
    `  listener ${listened_s}s (CPU ${listened_cpu_s}s), window advance and re-scoring ${Math.round((incremental_s - listened_s) * 100) / 100}s (CPU ${Math.round((incremental_cpu_s - listened_cpu_s) * 100) / 100}s)`,
  );
  const split = process.cpuUsage(c);
  const r = process.resourceUsage();
  const mb = (b: number | null): string => (b === null ? '?' : `${Math.round(b / 1e5) / 10} MB`);
  const wrote = bytesWritten();
  log(
    `incremental ${incremental_s}s (${visits.length} visits, ${applied.expired} expired, ${applied.rescored} re-scored), CPU ${incremental_cpu_s}s of which system ${Math.round(split.system / 10_000) / 100}s; page faults ${r.majorPageFault - faults.majorPageFault} major, ${r.minorPageFault - faults.minorPageFault} minor; written ${mb(wrote !== null && written !== null ? wrote - written : null)}`,
  );
  let after_ms: number | null = null;
  if (api_p95_ms !== null) {
    t = performance.now();
    analytics.queries.usageHeatmap();
    after_ms = Math.round(performance.now() - t);
  }

  const duck = ONLY === undefined ? await duckdbFeatures(db, day) : null;
  db.close();
  removeDb(WORK);

  const rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  const result = {
    bench: 'segment',
    residents: RESIDENTS,
    events,
    rebuild_s,
    segment_s,
    incremental_s,
    incremental_events: visits.length,
    api_p95_ms,
    heatmap_after_incremental_ms: after_ms,
    cache_load_s,
    warm_up_longest_step_ms,
    duckdb_s: duck?.duckdb_s ?? null,
    duckdb_load_s: duck?.duckdb_load_s ?? null,
    duckdb_same_totals: duck?.duckdb_same ?? null,
    ratio_vs_duckdb: duck
      ? Math.round((rebuild_s / Math.max(0.01, duck.duckdb_s)) * 100) / 100
      : null,
    k: seg.k,
    rss_mb,
    // CPU seconds of each phase (all threads) and the machine's load around the run: on
    // a shared machine wall-clock figures stretch with other work, CPU seconds much less.
    rebuild_cpu_s,
    segment_cpu_s,
    incremental_cpu_s,
    duckdb_cpu_s: duck?.duckdb_cpu_s ?? null,
    load_avg_1m: [Math.round(load_start * 10) / 10, Math.round((loadavg()[0] ?? 0) * 10) / 10],
    total_s: secs(tAll),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
