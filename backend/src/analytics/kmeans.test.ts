import { describe, expect, it } from 'vitest';
import { seededRng, segmentKMeans, silhouette, standardise } from './kmeans.js';

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
});
