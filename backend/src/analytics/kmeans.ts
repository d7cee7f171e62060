/**
 * k-means for behavioural segments, as pure functions over row-major Float64Arrays
 * (n points × d dimensions).
 *
 * - k-means++ seeding and all sampling use a seeded PRNG (mulberry32), and points are
 *   always given in resident-ref order, so a rerun on the same data gives the same
 *   segments, numbered the same way (clusters are renumbered by size, then centroid).
 * - k is chosen within [kMin, kMax] by the mean silhouette coefficient (higher is better;
 *   ties go to the smaller k). The silhouette is quadratic in the number of points, so
 *   it is evaluated on a fixed random sample of `silhouetteSample` points (default
 *   2,000), each candidate k being fitted on a larger sample (`fitSample`, default
 *   20,000). The chosen k is then fitted on all points, starting from the sample's
 *   centroids.
 */
export type Rng = () => number;

/** mulberry32: a small, fast, seedable PRNG with a 2^32 period; enough for seeding and sampling. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Standardised {
  z: Float64Array;
  mean: Float64Array;
  sd: Float64Array;
}

/** Z-scores per dimension (a constant dimension gets sd 1, so it maps to 0). */
export function standardise(data: Float64Array, n: number, d: number): Standardised {
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) mean[j] = (mean[j] ?? 0) + (data[i * d + j] ?? 0);
  for (let j = 0; j < d; j++) mean[j] = (mean[j] ?? 0) / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const x = (data[i * d + j] ?? 0) - (mean[j] ?? 0);
      sd[j] = (sd[j] ?? 0) + x * x;
    }
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt((sd[j] ?? 0) / Math.max(1, n));
    sd[j] = s > 1e-12 ? s : 1;
  }
  const z = applyStandardisation(data, n, d, mean, sd);
  return { z, mean, sd };
}

export function applyStandardisation(
  data: Float64Array,
  n: number,
  d: number,
  mean: ArrayLike<number>,
  sd: ArrayLike<number>,
): Float64Array {
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      z[i * d + j] = ((data[i * d + j] ?? 0) - (mean[j] ?? 0)) / (sd[j] ?? 1);
    }
  }
  return z;
}

function dist2(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = (a[ai + j] ?? 0) - (b[bi + j] ?? 0);
    s += x * x;
  }
  return s;
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007). */
export function kmeansPlusPlus(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
): Float64Array {
  const c = new Float64Array(k * d);
  if (n === 0) return c;
  const first = Math.floor(rng() * n);
  c.set(data.subarray(first * d, first * d + d), 0);
  const best = new Float64Array(n);
  for (let i = 0; i < n; i++) best[i] = dist2(data, i * d, c, 0, d);
  for (let m = 1; m < k; m++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += best[i] ?? 0;
    let pick = n - 1;
    if (total > 0) {
      let r = rng() * total;
      for (let i = 0; i < n; i++) {
        r -= best[i] ?? 0;
        if (r <= 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = Math.floor(rng() * n);
    }
    c.set(data.subarray(pick * d, pick * d + d), m * d);
    for (let i = 0; i < n; i++) {
      const x = dist2(data, i * d, c, m * d, d);
      if (x < (best[i] ?? 0)) best[i] = x;
    }
  }
  return c;
}

export interface KMeansResult {
  k: number;
  centroids: Float64Array;
  labels: Int32Array;
  sizes: Int32Array;
  inertia: number;
  iterations: number;
}

/** Nearest centroid of point i. */
export function nearest(
  data: Float64Array,
  at: number,
  centroids: Float64Array,
  k: number,
  d: number,
): number {
  let bestC = 0;
  let bestD = Infinity;
  for (let c = 0; c < k; c++) {
    const x = dist2(data, at, centroids, c * d, d);
    if (x < bestD) {
      bestD = x;
      bestC = c;
    }
  }
  return bestC;
}

/**
 * Lloyd iterations from given centroids until no point changes cluster (or maxIter). An
 * empty cluster is re-seeded with the point farthest from its centroid.
 *
 * Assignments use Hamerly's bounds (an upper bound on each point's distance to its own
 * centroid, a lower bound on the distance to any other, both moved by how far the
 * centroids moved): a point whose bounds prove its centroid is still the nearest is not
 * measured again. Bounds are only trusted with a margin, and every point that is
 * measured is assigned exactly as plain Lloyd would (squared distances, first nearest),
 * so labels, centroids and iterations are those of plain Lloyd.
 */
export function lloyd(
  data: Float64Array,
  n: number,
  d: number,
  init: Float64Array,
  k: number,
  maxIter = 100,
  tolerance = 0,
): KMeansResult {
  const centroids = Float64Array.from(init);
  const labels = new Int32Array(n).fill(-1);
  const sizes = new Int32Array(k);
  const sums = new Float64Array(k * d);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const half = new Float64Array(k);
  const moved = new Float64Array(k);
  const previous = new Float64Array(k * d);
  const dc = new Float64Array(k);
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    // Half the distance from each centroid to its nearest other centroid.
    for (let c = 0; c < k; c++) {
      let m = Infinity;
      for (let o = 0; o < k; o++) {
        if (o !== c) m = Math.min(m, dist2(centroids, c * d, centroids, o * d, d));
      }
      half[c] = Math.sqrt(m) / 2;
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i] ?? -1;
      if (a >= 0) {
        const bound = Math.max(half[a] ?? 0, lower[i] ?? 0);
        if (trusted(upper[i] ?? 0, bound)) continue;
        const u = Math.sqrt(dist2(data, i * d, centroids, a * d, d));
        upper[i] = u;
        if (trusted(u, bound)) continue;
      }
      // Measure every centroid, as plain Lloyd does.
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const x = dist2(data, i * d, centroids, c * d, d);
        dc[c] = x;
        if (x < bestD) {
          bestD = x;
          best = c;
        }
      }
      let second = Infinity;
      for (let c = 0; c < k; c++) if (c !== best && (dc[c] ?? 0) < second) second = dc[c] ?? 0;
      upper[i] = Math.sqrt(bestD);
      lower[i] = Math.sqrt(second);
      if (best !== a) {
        labels[i] = best;
        changed++;
      }
    }
    // Converged when (almost) nothing moves: at most 1 point in 2,000 changing cluster
    // (deterministic either way; the last few boundary points barely move centroids).
    if (iterations > 0 && changed <= Math.floor(n * tolerance)) break;
    previous.set(centroids);
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i] ?? 0;
      sizes[c] = (sizes[c] ?? 0) + 1;
      for (let j = 0; j < d; j++) sums[c * d + j] = (sums[c * d + j] ?? 0) + (data[i * d + j] ?? 0);
    }
    for (let c = 0; c < k; c++) {
      const s = sizes[c] ?? 0;
      if (s > 0) {
        for (let j = 0; j < d; j++) centroids[c * d + j] = (sums[c * d + j] ?? 0) / s;
      } else {
        let far = 0;
        let farD = -1;
        for (let i = 0; i < n; i++) {
          const x = dist2(data, i * d, centroids, (labels[i] ?? 0) * d, d);
          if (x > farD) {
            farD = x;
            far = i;
          }
        }
        centroids.set(data.subarray(far * d, far * d + d), c * d);
      }
    }
    let maxMove = 0;
    for (let c = 0; c < k; c++) {
      moved[c] = Math.sqrt(dist2(centroids, c * d, previous, c * d, d));
      maxMove = Math.max(maxMove, moved[c] ?? 0);
    }
    for (let i = 0; i < n; i++) {
      upper[i] = (upper[i] ?? 0) + (moved[labels[i] ?? 0] ?? 0);
      lower[i] = (lower[i] ?? 0) - maxMove;
    }
  }
  sizes.fill(0);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i] ?? 0;
    sizes[c] = (sizes[c] ?? 0) + 1;
    inertia += dist2(data, i * d, centroids, c * d, d);
  }
  return { k, centroids, labels, sizes, inertia, iterations };
}

/**
 * Does an upper bound on a point's distance to its centroid prove that centroid the
 * nearest, given a lower bound on the distance to any other? With a margin far above
 * rounding error, so that near-ties are always measured.
 */
function trusted(upper: number, bound: number): boolean {
  return upper * (1 + 1e-9) + 1e-12 < bound;
}

/** Mean silhouette coefficient of a labelling (O(n²·d): use on a sample). */
export function silhouette(
  data: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  k: number,
): number {
  return silhouetteOf(n, labels, k, (i, j) => Math.sqrt(dist2(data, i * d, data, j * d, d)));
}

/** Euclidean distances between every pair of points, row-major n × n. */
export function pairDistances(data: Float64Array, n: number, d: number): Float64Array {
  // Row by row (sequential writes); (i, j) and (j, i) come out bitwise equal.
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = Math.sqrt(dist2(data, i * d, data, j * d, d));
  }
  return out;
}

/** Mean silhouette coefficient given the distance between points i and j. */
export function silhouetteOf(
  n: number,
  labels: Int32Array,
  k: number,
  distance: (i: number, j: number) => number,
): number {
  if (n < 2) return 0;
  const sum = new Float64Array(k);
  const cnt = new Int32Array(k);
  for (let l = 0; l < n; l++) cnt[labels[l] ?? 0] = (cnt[labels[l] ?? 0] ?? 0) + 1;
  let total = 0;
  for (let i = 0; i < n; i++) {
    sum.fill(0);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const l = labels[j] ?? 0;
      sum[l] = (sum[l] ?? 0) + distance(i, j);
    }
    const own = labels[i] ?? 0;
    const ownN = (cnt[own] ?? 0) - 1;
    if (ownN <= 0) continue; // a singleton cluster scores 0
    const a = (sum[own] ?? 0) / ownN;
    let b = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === own || (cnt[c] ?? 0) === 0) continue;
      b = Math.min(b, (sum[c] ?? 0) / (cnt[c] ?? 1));
    }
    if (b === Infinity) continue;
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

/** A fixed random sample of point indices (partial Fisher–Yates), in ascending order. */
export function sampleIndices(n: number, size: number, rng: Rng): Uint32Array {
  if (size >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  const idx = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = idx[i] ?? 0;
    idx[i] = idx[j] ?? 0;
    idx[j] = t;
  }
  return idx.slice(0, size).sort();
}

export function gather(data: Float64Array, d: number, idx: Uint32Array): Float64Array {
  const out = new Float64Array(idx.length * d);
  idx.forEach((i, r) => out.set(data.subarray(i * d, i * d + d), r * d));
  return out;
}

export interface ChooseKOptions {
  kMin: number;
  kMax: number;
  seed: number;
  fitSample?: number;
  silhouetteSample?: number;
}

export interface SegmentModel {
  k: number;
  /** Silhouette of each candidate k on the sample. */
  criterion: { k: number; silhouette: number }[];
  result: KMeansResult;
}

/**
 * Chooses k by silhouette on a sample, fits the chosen k on all points, and renumbers
 * clusters canonically (largest first; equal sizes by centroid coordinates).
 */
export function segmentKMeans(
  data: Float64Array,
  n: number,
  d: number,
  o: ChooseKOptions,
): SegmentModel {
  const rng = seededRng(o.seed);
  const fitIdx = sampleIndices(n, o.fitSample ?? 20_000, rng);
  const fit = gather(data, d, fitIdx);
  const silIdx = sampleIndices(fitIdx.length, o.silhouetteSample ?? 2_000, rng);
  // Candidate k share the sample's distances: computed once (when the matrix is small).
  const sil = gather(fit, d, silIdx);
  const ns = silIdx.length;
  const matrix = ns <= 4_000 ? pairDistances(sil, ns, d) : null;
  const distance = matrix
    ? (i: number, j: number): number => matrix[i * ns + j] ?? 0
    : (i: number, j: number): number => Math.sqrt(dist2(sil, i * d, sil, j * d, d));
  const criterion: { k: number; silhouette: number }[] = [];
  let best: { k: number; s: number; centroids: Float64Array } | null = null;
  const kMax = Math.min(o.kMax, Math.max(1, fitIdx.length - 1));
  for (let k = Math.min(o.kMin, kMax); k <= kMax; k++) {
    const init = kmeansPlusPlus(fit, fitIdx.length, d, k, seededRng(o.seed + k));
    const r = lloyd(fit, fitIdx.length, d, init, k, 50, 0.001);
    const labels = new Int32Array(silIdx.length);
    silIdx.forEach((i, row) => (labels[row] = r.labels[i] ?? 0));
    const s = silhouetteOf(ns, labels, k, distance);
    criterion.push({ k, silhouette: s });
    if (!best || s > best.s + 1e-12) best = { k, s, centroids: r.centroids };
  }
  const k = best?.k ?? 1;
  const full = lloyd(
    data,
    n,
    d,
    best?.centroids ?? kmeansPlusPlus(data, n, d, 1, rng),
    k,
    50,
    0.0005,
  );
  return { k, criterion, result: canonicalise(full, n, d) };
}

/** Renumbers clusters: largest first, then by centroid coordinates (stable across reruns). */
export function canonicalise(r: KMeansResult, n: number, d: number): KMeansResult {
  const order = Array.from({ length: r.k }, (_, c) => c).sort((a, b) => {
    const s = (r.sizes[b] ?? 0) - (r.sizes[a] ?? 0);
    if (s !== 0) return s;
    for (let j = 0; j < d; j++) {
      const x = (r.centroids[a * d + j] ?? 0) - (r.centroids[b * d + j] ?? 0);
      if (x !== 0) return x;
    }
    return a - b;
  });
  const newOf = new Int32Array(r.k);
  order.forEach((old, nu) => (newOf[old] = nu));
  const centroids = new Float64Array(r.k * d);
  const sizes = new Int32Array(r.k);
  order.forEach((old, nu) => {
    centroids.set(r.centroids.subarray(old * d, old * d + d), nu * d);
    sizes[nu] = r.sizes[old] ?? 0;
  });
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = newOf[r.labels[i] ?? 0] ?? 0;
  return { ...r, centroids, labels, sizes };
}
