import { DAY_MS, HOUR_MS, londonOffsetMs, weekOfDay } from '@clubcard/shared/rules/london-time';

/**
 * Where an instant falls in Europe/London time, at hour resolution: the London day
 * number, the Monday-first week number and the hour of the week (Monday 00:00 = 0 …
 * Sunday 23:00 = 167). Rollups and features are keyed on these, so a Saturday-morning
 * swim in BST lands in the Saturday 09:00 cell, not 08:00.
 *
 * The UK changes its clocks on a UTC hour boundary, so everything here is a function of
 * the UTC epoch hour; it is cached per epoch hour (the only Intl work is the offset, once
 * per hour, in the shared london-time module).
 */
export interface LondonSlot {
  day: number;
  week: number;
  hourOfWeek: number;
}

const slotCache = new Map<number, number>();
/** Slots of a window of 2^18 epoch hours (30 years) in an array, NaN until computed. */
const WINDOW_HOURS = 1 << 18;
const slotWindow = new Float64Array(WINDOW_HOURS).fill(Number.NaN);
let windowBase = Number.NaN;

function computeSlot(epochHour: number): number {
  const utc = epochHour * HOUR_MS;
  const local = utc + londonOffsetMs(utc);
  const day = Math.floor(local / DAY_MS);
  const hour = Math.floor((local - day * DAY_MS) / HOUR_MS);
  const dow = (((day + 3) % 7) + 7) % 7;
  return day * 256 + dow * 24 + hour;
}

/** Packed slot of an epoch hour: day × 256 + hour of week. */
export function packedSlotOfHour(epochHour: number): number {
  // The window is placed around the first hour asked for (centred on it).
  if (Number.isNaN(windowBase)) windowBase = epochHour - WINDOW_HOURS / 2;
  const w = epochHour - windowBase;
  if (w >= 0 && w < WINDOW_HOURS) {
    let p = slotWindow[w] ?? Number.NaN;
    if (Number.isNaN(p)) {
      p = computeSlot(epochHour);
      slotWindow[w] = p;
    }
    return p;
  }
  let p = slotCache.get(epochHour);
  if (p === undefined) {
    p = computeSlot(epochHour);
    if (slotCache.size > 500_000) slotCache.clear();
    slotCache.set(epochHour, p);
  }
  return p;
}

/** London day and hour of week of an instant (UTC ms), packed as day × 256 + hourOfWeek. */
export function packedLondonSlot(utcMs: number): number {
  return packedSlotOfHour(Math.floor(utcMs / HOUR_MS));
}

export function londonSlot(utcMs: number): LondonSlot {
  const p = packedLondonSlot(utcMs);
  const day = Math.floor(p / 256);
  return { day, week: weekOfDay(day), hourOfWeek: p - day * 256 };
}

const DIGIT0 = 48;

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(at + i) - DIGIT0;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses an event's ISO 8601 instant. The common shape `YYYY-MM-DDTHH:MM:SS(.sss)Z` is
 * read digit by digit (rebuilds parse tens of millions of them); anything else, such as
 * an explicit offset, goes through Date.parse.
 */
export function parseInstant(s: string): number {
  const n = s.length;
  if ((n === 20 || n === 24) && s.charCodeAt(n - 1) === 90 /* Z */ && s.charCodeAt(10) === 84) {
    const y = digits(s, 0, 4);
    const mo = digits(s, 5, 2);
    const d = digits(s, 8, 2);
    const h = digits(s, 11, 2);
    const mi = digits(s, 14, 2);
    const se = digits(s, 17, 2);
    const ms = n === 24 ? digits(s, 20, 3) : 0;
    if (y >= 0 && mo >= 1 && d >= 1 && h >= 0 && mi >= 0 && se >= 0 && ms >= 0) {
      return Date.UTC(y, mo - 1, d, h, mi, se, ms);
    }
  }
  return Date.parse(s);
}

/**
 * The UTC epoch hour of an event's instant in s[from, to), i.e.
 * floor(parseInstantIn(s, from, to) / HOUR_MS), for the common shape without building a
 * Date: days from the civil date, plus hours (a rebuild needs only the hour).
 */
export function epochHourIn(s: string, from: number, to: number): number {
  const p = PARTS;
  // Years below 100 and out-of-range months keep Date.UTC's own reading.
  if (readParts(s, from, to) && (p[0] ?? 0) >= 100 && (p[1] ?? 0) <= 12) {
    const minuteMs = (p[4] ?? 0) * 60_000 + (p[5] ?? 0) * 1000 + (p[6] ?? 0);
    return (
      daysFromCivil(p[0] ?? 0, p[1] ?? 0, p[2] ?? 0) * 24 +
      (p[3] ?? 0) +
      Math.floor(minuteMs / HOUR_MS)
    );
  }
  return Math.floor(parseInstantIn(s, from, to) / HOUR_MS);
}

/** Fields of the last instant readParts read: year, month, day, hours, minutes, seconds, ms. */
const PARTS = new Int32Array(7);

/**
 * Reads the common shape `YYYY-MM-DDTHH:MM:SS(.sss)Z` in s[from, to) digit by digit into
 * PARTS; false for anything else.
 */
function readParts(s: string, from: number, to: number): boolean {
  const n = to - from;
  if (!((n === 20 || n === 24) && s.charCodeAt(to - 1) === 90 && s.charCodeAt(from + 10) === 84))
    return false;
  const p = PARTS;
  p[0] = digits(s, from, 4);
  p[1] = digits(s, from + 5, 2);
  p[2] = digits(s, from + 8, 2);
  p[3] = digits(s, from + 11, 2);
  p[4] = digits(s, from + 14, 2);
  p[5] = digits(s, from + 17, 2);
  p[6] = n === 24 ? digits(s, from + 20, 3) : 0;
  return (
    (p[0] ?? -1) >= 0 &&
    (p[1] ?? -1) >= 1 &&
    (p[2] ?? -1) >= 1 &&
    (p[3] ?? -1) >= 0 &&
    (p[4] ?? -1) >= 0 &&
    (p[5] ?? -1) >= 0 &&
    (p[6] ?? -1) >= 0
  );
}

/** Days since 1970-01-01 of a proleptic Gregorian date (day may run past the month's end). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** ISO date (YYYY-MM-DD) of a London day number. */
export function isoDateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** London day number of an ISO date (YYYY-MM-DD). */
export function dayOfIsoDate(date: string): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(t)) {
    throw new Error(`not a date (YYYY-MM-DD): ${date}`);
  }
  return Math.floor(t / DAY_MS);
}

/** First London day (a Monday) of a week number. */
export function firstDayOfWeek(week: number): number {
  return week * 7 - 3;
}

/**
 * parseInstant over s[from, to) without making a substring (a rebuild reads the visit
 * times of a resident as one comma-separated string).
 */
export function parseInstantIn(s: string, from: number, to: number): number {
  if (readParts(s, from, to)) {
    const p = PARTS;
    const month = (p[1] ?? 1) - 1;
    return Date.UTC(p[0] ?? 0, month, p[2] ?? 1, p[3] ?? 0, p[4] ?? 0, p[5] ?? 0, p[6] ?? 0);
  }
  return Date.parse(s.slice(from, to));
}
