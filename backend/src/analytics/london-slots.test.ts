import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '@clubcard/shared/rules/london-time';
import { epochHourIn, packedSlotOfHour, parseInstantIn } from './london-slots.js';

describe('London slots of event times', () => {
  it('read the epoch hour of a time exactly as parsing the whole instant does', () => {
    const times = [
      '2025-01-01T00:00:00.000Z',
      '2025-03-30T00:59:59.999Z',
      '2025-03-30T01:00:00Z',
      '2024-02-29T23:30:00.000Z',
      '2000-02-29T12:00:00Z',
      '1970-01-01T00:00:00Z',
      '1969-12-31T23:59:59Z',
      '2100-03-01T05:00:00Z',
      '2025-02-30T10:00:00Z', // past the month's end: rolls over as Date.UTC does
      '2025-06-15T10:99:00Z', // minutes out of range: rolls over too
      '0099-06-15T10:00:00Z', // two-digit years: Date.UTC's own reading
      '2025-13-01T10:00:00Z',
      '2025-06-15T10:00:00+01:00',
      'not a time',
    ];
    const rng = (() => {
      let a = 7;
      return () => (a = (a * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    })();
    for (let i = 0; i < 2000; i++) {
      times.push(new Date(Date.UTC(1990, 0, 1) + rng() * 60 * 365 * 24 * HOUR_MS).toISOString());
    }
    // Inside a longer comma-separated string, as a rebuild reads them.
    const joined = times.join(',');
    let at = 0;
    for (const t of times) {
      const expected = Math.floor(parseInstantIn(joined, at, at + t.length) / HOUR_MS);
      expect(epochHourIn(joined, at, at + t.length), t).toBe(expected);
      at += t.length + 1;
    }
  });

  it('place hours in London days and hours of the week, across clock changes and far off', () => {
    const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / (24 * HOUR_MS);
    for (const [utc, londonDate, hourOfWeek] of [
      ['2025-03-30T00:30:00Z', '2025-03-30', 6 * 24 + 0], // Sunday, still GMT
      ['2025-03-30T01:30:00Z', '2025-03-30', 6 * 24 + 2], // 02:30 BST
      ['2025-07-01T23:30:00Z', '2025-07-02', 2 * 24 + 0], // Wednesday 00:30 BST
      ['2025-10-26T01:30:00Z', '2025-10-26', 6 * 24 + 1], // back to GMT
      ['1900-01-01T12:00:00Z', '1900-01-01', 0 * 24 + 12], // far outside the array window
    ] as const) {
      const p = packedSlotOfHour(Math.floor(Date.parse(utc) / HOUR_MS));
      expect(Math.floor(p / 256), utc).toBe(day(londonDate));
      expect(p - Math.floor(p / 256) * 256, utc).toBe(hourOfWeek);
    }
  });
});
