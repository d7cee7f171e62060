import { describe, expect, it } from 'vitest';
import { ringCount } from './model.js';
import { WeekRangeMasks, weekMask } from './usage-cube.js';

describe('week masks', () => {
  it('select exactly the ring bits of the weeks in range that the ring still holds', () => {
    for (const top of [-1, 0, 10, 63, 64, 100, 2921]) {
      for (const [a, b] of [
        [0, 5000],
        [top - 70, top - 60],
        [top - 10, top],
        [top - 63, top - 63],
        [top - 64, top - 64],
        [top + 1, top + 5],
        [top - 40, top - 2],
      ] as const) {
        const m = weekMask(top, a, b);
        // Every single-bit ring: the mask contains the bit exactly when ringCount counts it.
        for (let bit = 0; bit < 64; bit++) {
          const lo = bit < 32 ? (1 << bit) >>> 0 : 0;
          const hi = bit >= 32 ? (1 << (bit - 32)) >>> 0 : 0;
          const inMask = ((lo & m.lo) | (hi & m.hi)) >>> 0 !== 0;
          expect(inMask).toBe(ringCount(lo, hi, top, a, b) > 0);
        }
      }
    }
  });

  it('answer for a whole range of weeks exactly as weekMask does, for any top', () => {
    for (const [a, b] of [
      [2900, 2951],
      [2940, 2940],
      [10, 200],
    ] as const) {
      const masks = new WeekRangeMasks(a, b);
      for (let top = a - 70; top <= b + 70; top++) {
        for (const [lo, hi] of [
          [0xffffffff, 0],
          [0, 0xffffffff],
          [1, 0],
          [0, 0x80000000],
          [0x00010000, 0x00000100],
        ] as const) {
          const m = weekMask(top, a, b);
          expect(masks.active(top, lo, hi)).toBe(((lo & m.lo) | (hi & m.hi)) >>> 0 !== 0);
        }
      }
    }
  });
});
