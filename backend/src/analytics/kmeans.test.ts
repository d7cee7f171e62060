import { describe, expect, it } from 'vitest';
import {
  kmeansPlusPlus,
  lloyd,
  nearest,
  seededRng,
  segmentKMeans,
  silhouette,
  standardise,
} from './kmeans.js';

/** Plain Lloyd (every point measured against every centroid), to compare with. */
function plainLloyd(
  data: Float64Array,
  n: number,
  d: number,
  init: Float64Array,
  k: number,
  maxIter: number,
  tolerance: number,
): { labels: Int32Array; centroids: Float64Array; iterations: number } {
  const centroids = Float64Array.from(init);
  const labels = new Int32Array(n).fill(-1);
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const c = nearest(data, i * d, centroids, k, d);
      if (c !== labels[i]) {
        labels[i] = c;
        changed++;
      }
    }
    if (iterations > 0 && changed <= Math.floor(n * tolerance)) break;
    // New centroids: the mean of each cluster's points, summed in point order.
    for (let c = 0; c < k; c++) {
      const members = Array.from(labels.keys()).filter((i) => labels[i] === c);
      if (members.length === 0) continue;
      for (let j = 0; j < d; j++) {
        const total = members.reduce((t, i) => t + (data[i * d + j] ?? 0), 0);
        centroids[c * d + j] = total / members.length;
      }
    }
  }
  return { labels, centroids, iterations };
}

/** Three well-separated blobs in 3 dimensions with known labels. */
function blobs(n: number): { data: Float64Array; truth: Int32Array } {
  const rng = seededRng(7);
  const centres = [
    [0, 0, 0],
    [10, 0, 5],
    [0, 12, -6],
  ];
  const data = new Float64Array(n * 3);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    truth[i] = c;
    for (let j = 0; j < 3; j++) {
      // Sum of uniforms: roughly normal, sd about 0.8.
      const noise = (rng() + rng() + rng() - 1.5) * 1.6;
      data[i * 3 + j] = (centres[c]?.[j] ?? 0) + noise;
    }
  }
  return { data, truth };
}

describe('k-means', () => {
  it('finds the known clusters, choosing k = 3 by silhouette', () => {
    const { data, truth } = blobs(900);
    const st = standardise(data, 900, 3);
    const m = segmentKMeans(st.z, 900, 3, {
      kMin: 2,
      kMax: 6,
      seed: 42,
      fitSample: 600,
      silhouetteSample: 300,
    });
    expect(m.k).toBe(3);
    const best = m.criterion.reduce((a, b) => (b.silhouette > a.silhouette ? b : a));
    expect(best.k).toBe(3);
    // Each found cluster is exactly one true cluster (purity 1).
    const map = new Map<number, number>();
    for (let i = 0; i < 900; i++) {
      const l = m.result.labels[i] ?? -1;
      const t = truth[i] ?? -1;
      if (!map.has(l)) map.set(l, t);
      expect(map.get(l)).toBe(t);
    }
    expect(new Set(map.values()).size).toBe(3);
    expect(Array.from(m.result.sizes)).toEqual([300, 300, 300]);
  });

  it('gives identical segments on a rerun with the same seed', () => {
    const { data } = blobs(600);
    const st = standardise(data, 600, 3);
    const a = segmentKMeans(st.z, 600, 3, { kMin: 2, kMax: 5, seed: 1 });
    const b = segmentKMeans(st.z, 600, 3, { kMin: 2, kMax: 5, seed: 1 });
    expect(Array.from(a.result.labels)).toEqual(Array.from(b.result.labels));
    expect(Array.from(a.result.centroids)).toEqual(Array.from(b.result.centroids));
  });

  it('scores a perfect two-cluster split near 1 and a random split near 0', () => {
    const data = Float64Array.from([0, 0.1, 0.2, 10, 10.1, 10.2]);
    expect(silhouette(data, 6, 1, Int32Array.from([0, 0, 0, 1, 1, 1]), 2)).toBeGreaterThan(0.95);
    expect(silhouette(data, 6, 1, Int32Array.from([0, 1, 0, 1, 0, 1]), 2)).toBeLessThan(0.1);
  });

  it('assigns exactly as plain Lloyd does, while skipping points its bounds settle', () => {
    // Overlapping clusters in 6 dimensions: many iterations, many boundary points.
    const n = 3000;
    const d = 6;
    const rng = seededRng(99);
    const data = new Float64Array(n * d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) data[i * d + j] = ((i % 5) * (j % 3)) / 2 + rng() * 3;
    for (const k of [1, 4, 9]) {
      const init = kmeansPlusPlus(data, n, d, k, seededRng(k));
      const fast = lloyd(data, n, d, init, k, 60, 0);
      const plain = plainLloyd(data, n, d, init, k, 60, 0);
      expect(fast.iterations).toBe(plain.iterations);
      expect(Array.from(fast.labels)).toEqual(Array.from(plain.labels));
      expect(Array.from(fast.centroids)).toEqual(Array.from(plain.centroids));
    }
  });
});
