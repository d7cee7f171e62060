import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  civilOfDay,
  dayAfterPeriod,
  dayOfCivil,
  dayOfWeek,
  lastDayOfPeriodCode,
  londonDay,
  londonOffsetMs,
  londonTime,
  parseInstant,
  periodCodeOfDay,
  periodCodeOfKey,
  periodKeyOfCode,
  startOfLondonDay,
  weekOfDay,
} from './london-time.js';

const intl = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  weekday: 'short',
});

function intlParts(ms: number): Record<string, string> {
  return Object.fromEntries(intl.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

describe('Europe/London calendar', () => {
  it('switches to BST at 01:00 UTC on the last Sunday of March and back in October', () => {
    expect(londonOffsetMs(Date.parse('2025-03-30T00:59:59Z'))).toBe(0);
    expect(londonOffsetMs(Date.parse('2025-03-30T01:00:00Z'))).toBe(3_600_000);
    expect(londonOffsetMs(Date.parse('2025-10-26T00:59:59Z'))).toBe(3_600_000);
    expect(londonOffsetMs(Date.parse('2025-10-26T01:00:00Z'))).toBe(0);
  });

  it('puts 23:30 UTC on 30 June in London on 1 July (BST)', () => {
    const t = londonTime(Date.parse('2025-06-30T23:30:00Z'));
    expect(civilOfDay(t.day)).toEqual({ year: 2025, month: 7, dayOfMonth: 1 });
    expect(t.minuteOfDay).toBe(30);
    expect(periodKeyOfCode(t.monthCode)).toBe(`m${2025 * 12 + 6}`);
    expect(periodCodeOfKey(`m${2025 * 12 + 6}`)).toBe(t.monthCode);
  });

  it('starts weeks on Monday', () => {
    const sun = londonDay(Date.parse('2025-01-05T12:00:00Z'));
    const mon = londonDay(Date.parse('2025-01-06T12:00:00Z'));
    expect(dayOfWeek(sun)).toBe(6);
    expect(dayOfWeek(mon)).toBe(0);
    expect(weekOfDay(mon)).toBe(weekOfDay(sun) + 1);
    expect(weekOfDay(mon + 6)).toBe(weekOfDay(mon));
  });

  it('finds the instant a London day starts, in GMT and in BST', () => {
    expect(new Date(startOfLondonDay(dayOfCivil(2025, 1, 15))).toISOString()).toBe(
      '2025-01-15T00:00:00.000Z',
    );
    expect(new Date(startOfLondonDay(dayOfCivil(2025, 7, 15))).toISOString()).toBe(
      '2025-07-14T23:00:00.000Z',
    );
    // The day the clocks go forward begins at 00:00 GMT.
    expect(new Date(startOfLondonDay(dayOfCivil(2025, 3, 30))).toISOString()).toBe(
      '2025-03-30T00:00:00.000Z',
    );
  });

  it('computes the first day after a period', () => {
    const d = dayOfCivil(2025, 1, 31);
    expect(dayAfterPeriod('month', d, 0)).toBe(dayOfCivil(2025, 2, 1));
    expect(dayAfterPeriod('month', d, 2)).toBe(dayOfCivil(2025, 4, 1));
    expect(dayAfterPeriod('year', d, 0)).toBe(dayOfCivil(2026, 1, 1));
    expect(dayAfterPeriod('day', d, 0)).toBe(d + 1);
    expect(dayOfWeek(dayAfterPeriod('week', d, 0))).toBe(0);
    expect(lastDayOfPeriodCode(periodCodeOfDay('month', d))).toBe(d);
    expect(lastDayOfPeriodCode(periodCodeOfDay('year', d))).toBe(dayOfCivil(2025, 12, 31));
    expect(lastDayOfPeriodCode(periodCodeOfDay('week', d))).toBe(dayAfterPeriod('week', d, 0) - 1);
  });

  it('round-trips civil dates (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 100_000 }), (day) => {
        const c = civilOfDay(day);
        expect(dayOfCivil(c.year, c.month, c.dayOfMonth)).toBe(day);
      }),
    );
  });

  it('agrees with Intl for any instant between 2000 and 2060 (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.parse('2000-01-01T00:00:00Z'),
          max: Date.parse('2060-01-01T00:00:00Z'),
        }),
        (ms) => {
          const t = londonTime(ms);
          const p = intlParts(ms);
          const c = civilOfDay(t.day);
          expect(c.year).toBe(Number(p.year));
          expect(c.month).toBe(Number(p.month));
          expect(c.dayOfMonth).toBe(Number(p.day));
          expect(Math.floor(t.minuteOfDay / 60)).toBe(Number(p.hour));
          expect(t.minuteOfDay % 60).toBe(Number(p.minute));
          expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][t.dayOfWeek]).toBe(p.weekday);
          expect(startOfLondonDay(t.day) <= ms && ms < startOfLondonDay(t.day + 1)).toBe(true);
          expect(startOfLondonDay(t.day + 1) - startOfLondonDay(t.day)).toBeGreaterThanOrEqual(
            DAY_MS - 3_600_000,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('parses instants exactly as Date.parse does (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.parse('1990-01-01T00:00:00Z'),
          max: Date.parse('2090-01-01T00:00:00Z'),
        }),
        fc.boolean(),
        (ms, withMs) => {
          const iso = new Date(ms).toISOString();
          const text = withMs ? iso : `${iso.slice(0, 19)}Z`;
          expect(parseInstant(text)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 2000 },
    );
    for (const odd of [
      '2025-02-30T00:00:00Z',
      '2025-13-01T00:00:00.000Z',
      '2025-06-01T10:00:00+01:00',
      'yesterday',
    ]) {
      expect(parseInstant(odd), odd).toBe(Date.parse(odd));
    }
  });
});
