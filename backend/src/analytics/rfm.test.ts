import { describe, expect, it } from 'vitest';
import { RFM_SEGMENT_NAMES, rfmSegmentOf, scoreByCuts, scoreRfm } from './rfm.js';

describe('RFM', () => {
  // Ten residents, worked by hand: n = 10, so ranks 0–1 score 1, 2–3 score 2, … 8–9 score 5.
  const refs = [
    'r-aaaaaaaa',
    'r-bbbbbbbb',
    'r-cccccccc',
    'r-dddddddd',
    'r-eeeeeeee',
    'r-ffffffff',
    'r-gggggggg',
    'r-hhhhhhhh',
    'r-iiiiiiii',
    'r-jjjjjjjj',
  ];
  const recency = Float64Array.from([1, 5, 5, 10, 30, 60, 90, 120, 200, 300]);
  const frequency = Float64Array.from([50, 40, 40, 20, 12, 8, 5, 3, 2, 1]);
  const monetary = Float64Array.from([4, 3, 3, 2, 2, 2, 1, 1, 1, 1]);

  it('scores quintiles by rank, most recent = 5, ties broken by resident ref', () => {
    const s = scoreRfm({ refs, recencyDays: recency, frequency, monetary });
    // R: order by recency descending: j i h g f e d b c a (b before c: equal recency, ref b < c).
    expect(Array.from(s.r)).toEqual([5, 4, 5, 4, 3, 3, 2, 2, 1, 1]);
    // F: order ascending: j i h g f e d b c a.
    expect(Array.from(s.f)).toEqual([5, 4, 5, 4, 3, 3, 2, 2, 1, 1]);
    // M: 1s are g h i j (ranks 0–3), 2s d e f (4–6), 3s b c (7–8), 4 a (9).
    expect(Array.from(s.m)).toEqual([5, 4, 5, 3, 3, 4, 1, 1, 2, 2]);
    const names = Array.from(s.segment).map((i) => RFM_SEGMENT_NAMES[i]);
    expect(names).toEqual([
      'Champions', // a 5 5 5
      'Potential loyalist', // b 4 4 4
      'Champions', // c 5 5 5
      'Potential loyalist', // d 4 4 3
      'Potential loyalist', // e 3 3 3
      'Potential loyalist', // f 3 3 4
      'About to sleep', // g 2 2 1: not Loyal (M 1), first match is About to sleep
      'About to sleep', // h 2 2 1
      'Lost', // i 1 1 2
      'Lost', // j 1 1 2
    ]);
  });

  it('does not depend on input order', () => {
    const perm = [3, 9, 0, 7, 1, 5, 8, 2, 6, 4];
    const s = scoreRfm({
      refs: perm.map((i) => refs[i] ?? ''),
      recencyDays: Float64Array.from(perm.map((i) => recency[i] ?? 0)),
      frequency: Float64Array.from(perm.map((i) => frequency[i] ?? 0)),
      monetary: Float64Array.from(perm.map((i) => monetary[i] ?? 0)),
    });
    const base = scoreRfm({ refs, recencyDays: recency, frequency, monetary });
    perm.forEach((orig, at) => {
      expect([s.r[at], s.f[at], s.m[at], s.segment[at]]).toEqual([
        base.r[orig],
        base.f[orig],
        base.m[orig],
        base.segment[orig],
      ]);
    });
  });

  it('applies the segment table in order, first match wins', () => {
    const name = (r: number, f: number, m: number): string | undefined =>
      RFM_SEGMENT_NAMES[rfmSegmentOf(r, f, m)];
    expect(name(5, 5, 5)).toBe('Champions');
    expect(name(1, 3, 4)).toBe("Can't lose them");
    expect(name(2, 5, 5)).toBe('At risk');
    expect(name(3, 1, 3)).toBe('Promising');
    expect(name(5, 1, 1)).toBe('New');
    expect(name(3, 5, 1)).toBe('Others');
  });

  it('scores a new value with a run’s cut points as the run would have', () => {
    const s = scoreRfm({ refs, recencyDays: recency, frequency, monetary });
    for (let i = 0; i < refs.length; i++) {
      // Equal values straddling a boundary (b, c) get the higher score by cut points.
      const expectR = i === 1 ? 5 : s.r[i];
      expect(scoreByCuts(recency[i] ?? 0, s.cuts.r, true)).toBe(expectR);
      expect(scoreByCuts(frequency[i] ?? 0, s.cuts.f, false)).toBe(i === 1 ? 5 : s.f[i]);
    }
  });
});
