import type { AnalyticsDb } from './analytics-db.js';
import { HEALTH_SEGMENTATION } from './analytics-db.js';
import { describeSegment, type SegmentProfile } from './describe.js';
import { LOG_FEATURES, ND, clusterSpace, residentVector } from './features.js';
import { applyStandardisation, nearest, segmentKMeans, standardise } from './kmeans.js';
import { FEATURE_COLUMNS, NF } from './model.js';
import { RFM_SEGMENT_NAMES, rfmSegmentOf, scoreByCuts, scoreRfm } from './rfm.js';

/**
 * Segmentation: from feature rows to published RFM and behavioural segments.
 *
 * Residents with at least one countable visit in the 12-month window are segmented (GP
 * drop-in visits count only with 'segmentation-health' consent). Residents are read in
 * ref order, so RFM ties and k-means sampling never depend on storage order, and a rerun
 * on the same data publishes identical segments. The model (standardisation, centroids,
 * RFM cut points, descriptions) is stored with the run, so that residents whose activity
 * changes between runs are scored the same way (`updateSegments`).
 */
export interface SegmentationOptions {
  analysisDay?: number;
  seed?: number;
  kMin?: number;
  kMax?: number;
  fitSample?: number;
  silhouetteSample?: number;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface SegmentModelJson {
  analysisDay: number;
  k: number;
  seed: number;
  criterion: { k: number; silhouette: number }[];
  mean: number[];
  sd: number[];
  centroids: number[][];
  profiles: SegmentProfile[];
  descriptions: string[];
  sizes: number[];
  rfmCuts: { r: number[]; f: number[]; m: number[] };
  rfmSizes: number[];
}

export interface SegmentationSummary {
  analysisDay: number;
  residents: number;
  segmented: number;
  k: number;
  criterion: { k: number; silhouette: number }[];
  behavioural: { cluster: number; description: string; residents: number }[];
  rfm: { segment: string; residents: number }[];
}

export const DEFAULT_SEED = 20_240_601;

function profileOf(sum: Float64Array, at: number, n: number): SegmentProfile {
  const v = (j: number): number => (n > 0 ? (sum[at + j] ?? 0) / n : 0);
  return {
    visits: v(0),
    recencyDays: v(1),
    library: v(2),
    leisure: v(3),
    gp: v(4),
    other: v(5),
    weekdayMorning: v(6),
    weekdayMidday: v(7),
    afterSchool: v(8),
    weekdayEvening: v(9),
    weekend: v(10),
    offPeak: v(11),
    venues: v(12),
    tenureDays: v(13),
    activeWeeks: v(14),
  };
}

/**
 * Every feature row, read in storage (id) order, which is sequential, with the ids in
 * ref order from the ref index (without touching the rows); one read transaction, so
 * both see the same residents.
 */
function readFeatureRows(adb: AnalyticsDb): {
  byRef: number[];
  at: Int32Array;
  features: Float64Array;
} {
  return adb.db.transaction(() => {
    const byRef = adb.db
      .prepare('SELECT id FROM analytics_residents ORDER BY resident_ref')
      .pluck()
      .all() as number[];
    let maxId = 0;
    for (const id of byRef) if (id > maxId) maxId = id;
    const at = new Int32Array(maxId + 1);
    const features = new Float64Array(byRef.length * NF);
    let stored = 0;
    for (const r of adb.db
      .prepare(`SELECT id, ${FEATURE_COLUMNS.join(', ')} FROM analytics_residents`)
      .raw(true)
      .iterate() as Iterable<number[]>) {
      at[r[0] ?? 0] = stored;
      for (let j = 0; j < NF; j++) features[stored * NF + j] = r[j + 1] ?? 0;
      stored++;
    }
    return { byRef, at, features };
  })();
}

/** Recomputes and publishes RFM and behavioural segments for every resident. */
export function runSegmentation(
  adb: AnalyticsDb,
  o: SegmentationOptions = {},
): SegmentationSummary {
  const analysisDay = o.analysisDay ?? adb.meta('analysis_day') ?? 0;
  const seed = o.seed ?? DEFAULT_SEED;
  const consent = adb.consentedIds(HEALTH_SEGMENTATION);
  o.progress?.('load', 0, 1);
  const { byRef, at, features } = readFeatureRows(adb);
  const total = byRef.length;
  const ids = new Int32Array(total);
  const raw = new Float64Array(total * ND);
  const rec = new Float64Array(total);
  const freq = new Float64Array(total);
  const mon = new Float64Array(total);
  let n = 0;
  for (const id of byRef) {
    const v = residentVector(
      features,
      (at[id] ?? 0) * NF,
      analysisDay,
      consent.has(id),
      raw,
      n * ND,
    );
    if (!v) continue;
    ids[n] = id;
    rec[n] = v.recencyDays;
    freq[n] = v.frequency;
    mon[n] = v.monetary;
    n++;
  }
  o.progress?.('load', 1, 1);

  o.progress?.('rfm', 0, 1);
  const rfm = scoreRfm({
    recencyDays: rec.subarray(0, n),
    frequency: freq.subarray(0, n),
    monetary: mon.subarray(0, n),
  });
  o.progress?.('rfm', 1, 1);

  o.progress?.('k-means', 0, 1);
  const x = clusterSpace(raw.subarray(0, n * ND), n);
  const st = standardise(x, n, ND);
  const model = segmentKMeans(st.z, n, ND, {
    kMin: o.kMin ?? 4,
    kMax: o.kMax ?? 10,
    seed,
    ...(o.fitSample !== undefined ? { fitSample: o.fitSample } : {}),
    ...(o.silhouetteSample !== undefined ? { silhouetteSample: o.silhouetteSample } : {}),
  });
  o.progress?.('k-means', 1, 1);
  const k = model.k;
  const labels = model.result.labels;
  const sums = new Float64Array(k * ND);
  for (let i = 0; i < n; i++) {
    const c = labels[i] ?? 0;
    for (let j = 0; j < ND; j++)
      sums[c * ND + j] = (sums[c * ND + j] ?? 0) + (raw[i * ND + j] ?? 0);
  }
  const sizes = Array.from(model.result.sizes);
  const profiles = sizes.map((s, c) => profileOf(sums, c * ND, s));
  const descriptions = profiles.map(describeSegment);
  const rfmSizes = RFM_SEGMENT_NAMES.map(() => 0);
  for (let i = 0; i < n; i++)
    rfmSizes[rfm.segment[i] ?? 0] = (rfmSizes[rfm.segment[i] ?? 0] ?? 0) + 1;
  const json: SegmentModelJson = {
    analysisDay,
    k,
    seed,
    criterion: model.criterion,
    mean: Array.from(st.mean),
    sd: Array.from(st.sd),
    centroids: sizes.map((_, c) =>
      Array.from(model.result.centroids.subarray(c * ND, c * ND + ND)),
    ),
    profiles,
    descriptions,
    sizes,
    rfmCuts: rfm.cuts,
    rfmSizes,
  };

  o.progress?.('publish', 0, n);
  adb.db.transaction(() => {
    adb.db.exec('DELETE FROM analytics_segments');
    const ins = adb.db.prepare(
      'INSERT INTO analytics_segments (resident_id, r, f, m, rfm_segment, cluster) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // Insert in id order: appends to the table's B-tree.
    const order = Int32Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => (ids[a] ?? 0) - (ids[b] ?? 0),
    );
    for (const i of order) {
      ins.run(
        ids[i] ?? 0,
        rfm.r[i] ?? 1,
        rfm.f[i] ?? 1,
        rfm.m[i] ?? 1,
        RFM_SEGMENT_NAMES[rfm.segment[i] ?? 0] ?? 'Others',
        labels[i] ?? 0,
      );
    }
    adb.db
      .prepare(
        'INSERT INTO analytics_segment_runs (computed_at, analysis_day, model) VALUES (?, ?, ?)',
      )
      .run(Date.now(), analysisDay, JSON.stringify(json));
    // Everyone was scored by this run: nobody awaits re-scoring.
    adb.clearRescore();
    adb.bump('segments_version');
  })();
  o.progress?.('publish', n, n);
  return {
    analysisDay,
    residents: total,
    segmented: n,
    k,
    criterion: model.criterion,
    behavioural: descriptions.map((d, c) => ({
      cluster: c,
      description: d,
      residents: sizes[c] ?? 0,
    })),
    rfm: RFM_SEGMENT_NAMES.map((s, i) => ({ segment: s, residents: rfmSizes[i] ?? 0 })),
  };
}

/** The model of the latest run, if any. */
export function latestModel(adb: AnalyticsDb): SegmentModelJson | null {
  const r = adb.db
    .prepare('SELECT model FROM analytics_segment_runs ORDER BY id DESC LIMIT 1')
    .get() as { model: string } | undefined;
  return r ? (JSON.parse(r.model) as SegmentModelJson) : null;
}

/**
 * Re-scores some residents (whose feature rows changed) with the latest run's model:
 * RFM by its cut points, behavioural segment by nearest centroid. Between full runs this
 * keeps published segments current for the people whose activity changed; a full run
 * re-ranks everyone and refits the clusters.
 */
export function updateSegments(
  adb: AnalyticsDb,
  ids: Iterable<number>,
  analysisDay?: number,
): number {
  const model = latestModel(adb);
  if (!model) return 0;
  const day = analysisDay ?? model.analysisDay;
  const raw = new Float64Array(ND);
  const centroids = new Float64Array(model.k * ND);
  model.centroids.forEach((c, i) => centroids.set(c, i * ND));
  // Written a thousand residents per statement (rows as a JSON array).
  const upsert = adb.s(
    `INSERT INTO analytics_segments (resident_id, r, f, m, rfm_segment, cluster)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?) WHERE true
     ON CONFLICT (resident_id) DO UPDATE SET r = excluded.r, f = excluded.f, m = excluded.m,
       rfm_segment = excluded.rfm_segment, cluster = excluded.cluster`,
  );
  const del = adb.s(
    'DELETE FROM analytics_segments WHERE resident_id IN (SELECT value FROM json_each(?))',
  );
  const scored: (number | string)[][] = [];
  const gone: number[] = [];
  const flush = (): void => {
    if (gone.length > 0) del.run(JSON.stringify(gone.splice(0)));
    if (scored.length > 0) upsert.run(JSON.stringify(scored.splice(0)));
  };
  let n = 0;
  adb.db.transaction(() => {
    // Feature rows and consent read many residents at a time, not one by one.
    adb.forEachFeatureRow([...ids], HEALTH_SEGMENTATION, (id, row, at, consent) => {
      const v = residentVector(row, at, day, consent, raw, 0);
      if (!v) {
        gone.push(id);
      } else {
        const r = scoreByCuts(v.recencyDays, model.rfmCuts.r, true);
        const f = scoreByCuts(v.frequency, model.rfmCuts.f, false);
        const m = scoreByCuts(v.monetary, model.rfmCuts.m, false);
        for (const j of LOG_FEATURES) raw[j] = Math.log1p(raw[j] ?? 0);
        const z = applyStandardisation(raw, 1, ND, model.mean, model.sd);
        const c = nearest(z, 0, centroids, model.k, ND);
        scored.push([id, r, f, m, RFM_SEGMENT_NAMES[rfmSegmentOf(r, f, m)] ?? 'Others', c]);
        n++;
      }
      if (gone.length + scored.length >= 1000) flush();
    });
    flush();
    adb.bump('segments_version');
  })();
  return n;
}
