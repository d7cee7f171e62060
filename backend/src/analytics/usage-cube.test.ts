import { describe, expect, it } from 'vitest';
import { ringCount } from './model.js';
import { weekMask } from './usage-cube.js';

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
});
