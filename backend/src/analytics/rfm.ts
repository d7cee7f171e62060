/**
 * RFM over a 12-month window (pure functions over typed arrays).
 *
 * R = days since the resident's last visit at the analysis day, F = visits in the
 * window, M = distinct services used in the window (we use services, not credits
 * redeemed: it measures breadth of engagement with council services, which is what
 * the council wants to grow, and needs no reward scheme to exist).
 *
 * Scores are quintiles by rank, 1–5: residents are ordered by the value (R descending,
 * so the most recent get 5; F and M ascending) with ties broken by resident ref, and
 * the resident at rank i of n gets 1 + floor(5i / n). Equal values can therefore get
 * different scores at a quintile boundary, but the result never depends on input order.
 */
export interface RfmInput {
  /**
   * Resident refs, for tie-breaking only. Omit when the residents are already given in
   * ref order (the index then breaks ties).
   */
  refs?: readonly string[];
  recencyDays: Float64Array | Int32Array;
  frequency: Float64Array | Int32Array;
  monetary: Float64Array | Int32Array;
}

export interface RfmScores {
  r: Uint8Array;
  f: Uint8Array;
  m: Uint8Array;
  /** Index into RFM_SEGMENTS. */
  segment: Uint8Array;
  /**
   * Value cut points: for each score s = 2..5, the smallest value (for R: the largest
   * recency) that was given score s. Used to score residents between full runs.
   */
  cuts: { r: number[]; f: number[]; m: number[] };
}

/** Ordered first-match table (the one popularised by the R package `rfm`). */
export const RFM_SEGMENTS: readonly {
  name: string;
  r: readonly [number, number];
  f: readonly [number, number];
  m: readonly [number, number];
}[] = [
  { name: 'Champions', r: [5, 5], f: [5, 5], m: [5, 5] },
  { name: 'Potential loyalist', r: [3, 5], f: [3, 5], m: [2, 5] },
  { name: 'Loyal', r: [2, 4], f: [2, 4], m: [2, 4] },
  { name: 'Promising', r: [3, 4], f: [1, 3], m: [3, 5] },
  { name: 'New', r: [4, 5], f: [1, 3], m: [1, 5] },
  { name: "Can't lose them", r: [1, 2], f: [3, 4], m: [4, 5] },
  { name: 'At risk', r: [1, 2], f: [2, 5], m: [4, 5] },
  { name: 'Need attention', r: [1, 3], f: [3, 5], m: [3, 5] },
  { name: 'About to sleep', r: [2, 3], f: [1, 3], m: [1, 4] },
  { name: 'Lost', r: [1, 1], f: [1, 5], m: [1, 5] },
  { name: 'Others', r: [1, 5], f: [1, 5], m: [1, 5] },
];

export const RFM_SEGMENT_NAMES: readonly string[] = RFM_SEGMENTS.map((s) => s.name);

/** First segment of the table whose R, F and M ranges all contain the scores. */
export function rfmSegmentOf(r: number, f: number, m: number): number {
  for (let i = 0; i < RFM_SEGMENTS.length; i++) {
    const s = RFM_SEGMENTS[i];
    if (!s) continue;
    if (r >= s.r[0] && r <= s.r[1] && f >= s.f[0] && f <= s.f[1] && m >= s.m[0] && m <= s.m[1]) {
      return i;
    }
  }
  return RFM_SEGMENTS.length - 1;
}

/** Order of residents by value (ascending or descending), ties by ref rank ascending. */
function rankOrderWith(
  values: Float64Array | Int32Array,
  refRank: Uint32Array,
  descending: boolean,
): Uint32Array {
  const n = values.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const sgn = descending ? -1 : 1;
  idx.sort((a, b) => {
    const d = ((values[a] ?? 0) - (values[b] ?? 0)) * sgn;
    return d !== 0 ? d : (refRank[a] ?? 0) - (refRank[b] ?? 0);
  });
  return idx;
}

function refRankOf(refs: readonly string[]): Uint32Array {
  const n = refs.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = (refs[i - 1] ?? '') < (refs[i] ?? '');
  if (sorted) return Uint32Array.from({ length: n }, (_, i) => i);
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const x = refs[a] ?? '';
    const y = refs[b] ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const rank = new Uint32Array(n);
  idx.forEach((i, r) => (rank[i] = r));
  return rank;
}

function quintiles(
  values: Float64Array | Int32Array,
  refRank: Uint32Array,
  descending: boolean,
): { scores: Uint8Array; cuts: number[] } {
  const n = values.length;
  const order = rankOrderWith(values, refRank, descending);
  const scores = new Uint8Array(n);
  const cuts: number[] = [];
  for (let rank = 0; rank < n; rank++) {
    const i = order[rank] ?? 0;
    const s = 1 + Math.floor((5 * rank) / n);
    if (cuts.length < s - 1) cuts.push(values[i] ?? 0);
    scores[i] = s;
  }
  return { scores, cuts };
}

export function scoreRfm(input: RfmInput): RfmScores {
  const n = input.frequency.length;
  const refRank = input.refs ? refRankOf(input.refs) : Uint32Array.from({ length: n }, (_, i) => i);
  const r = quintiles(input.recencyDays, refRank, true);
  const f = quintiles(input.frequency, refRank, false);
  const m = quintiles(input.monetary, refRank, false);
  const segment = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    segment[i] = rfmSegmentOf(r.scores[i] ?? 1, f.scores[i] ?? 1, m.scores[i] ?? 1);
  }
  return {
    r: r.scores,
    f: f.scores,
    m: m.scores,
    segment,
    cuts: { r: r.cuts, f: f.cuts, m: m.cuts },
  };
}

/**
 * Scores one value against a run's cut points (between full runs: new activity is
 * scored as the last run would have, without re-ranking everyone).
 */
export function scoreByCuts(value: number, cuts: readonly number[], descending: boolean): number {
  let s = 1;
  for (const c of cuts) {
    if (descending ? value <= c : value >= c) s++;
    else break;
  }
  return s;
}
