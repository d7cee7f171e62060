/**
 * Europe/London calendar arithmetic for the rules engine: days, ISO weeks (Monday
 * first), months and years as a resident in the council area lives them, including the
 * BST/GMT changes.
 *
 * Speed matters (the engine runs hundreds of thousands of events a second), so the only
 * Intl call is the UTC offset, cached per UTC hour: the UK changes its clocks at
 * 01:00 UTC, always on an hour boundary, so one offset per UTC hour is exact. Everything
 * else is integer arithmetic on "London day numbers" (days since 1970-01-01 in local
 * time).
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export type Period = 'day' | 'week' | 'month' | 'year';

const formatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

function partNumber(parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): number {
  for (const p of parts) if (p.type === type) return Number.parseInt(p.value, 10);
  throw new Error(`Intl gave no ${type}`);
}

function computeOffset(utcMs: number): number {
  const parts = formatter.formatToParts(new Date(utcMs));
  const wall = Date.UTC(
    partNumber(parts, 'year'),
    partNumber(parts, 'month') - 1,
    partNumber(parts, 'day'),
    partNumber(parts, 'hour'),
    partNumber(parts, 'minute'),
    partNumber(parts, 'second'),
  );
  return wall - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

const offsetCache = new Map<number, number>();
/** The last UTC day seen whose offset is constant all day (no clock change in it). */
let flatStart = 0;
let flatEnd = 0;
let flatOffset = 0;

function hourOffset(hour: number): number {
  let o = offsetCache.get(hour);
  if (o === undefined) {
    o = computeOffset(hour * HOUR_MS);
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(hour, o);
  }
  return o;
}

/** Offset of Europe/London from UTC at an instant, in ms (0 in winter, 3,600,000 in BST). */
export function londonOffsetMs(utcMs: number): number {
  if (utcMs >= flatStart && utcMs < flatEnd) return flatOffset;
  const hour = Math.floor(utcMs / HOUR_MS);
  const dayStartHour = Math.floor(utcMs / DAY_MS) * 24;
  const first = hourOffset(dayStartHour);
  if (hourOffset(dayStartHour + 23) === first) {
    flatStart = dayStartHour * HOUR_MS;
    flatEnd = flatStart + DAY_MS;
    flatOffset = first;
    return first;
  }
  return hourOffset(hour);
}

/** London day number (days since 1970-01-01, local calendar) of an instant. */
export function londonDay(utcMs: number): number {
  return Math.floor((utcMs + londonOffsetMs(utcMs)) / DAY_MS);
}

/** Monday-first week number containing a day (week 0 began on Monday 1969-12-29). */
export function weekOfDay(day: number): number {
  return Math.floor((day + 3) / 7);
}

/** Day of week, Monday = 0 … Sunday = 6. */
export function dayOfWeek(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** Civil date of a day number (Howard Hinnant's days_from_civil, inverted). */
export function civilOfDay(day: number): { year: number; month: number; dayOfMonth: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const dayOfMonth = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, dayOfMonth };
}

/** Day number of a civil date (month 1–12). */
export function dayOfCivil(year: number, month: number, dayOfMonth: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + dayOfMonth - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Month index (year × 12 + month − 1) of a day number. */
export function monthOfDay(day: number): number {
  const c = civilOfDay(day);
  return c.year * 12 + c.month - 1;
}

/** First day number of a month index. */
export function firstDayOfMonth(monthIndex: number): number {
  return dayOfCivil(Math.floor(monthIndex / 12), (monthIndex % 12) + 1, 1);
}

const dayStartCache = new Map<number, number>();

/** The instant (UTC ms) at which a London day begins (00:00 local). */
export function startOfLondonDay(day: number): number {
  let at = dayStartCache.get(day);
  if (at === undefined) {
    const wall = day * DAY_MS;
    const guess = wall - londonOffsetMs(wall);
    at = wall - londonOffsetMs(guess);
    if (dayStartCache.size > 100_000) dayStartCache.clear();
    dayStartCache.set(day, at);
  }
  return at;
}

/**
 * Periods are numbered with integer codes (fast to compare and store): day d → 8d,
 * week w → 8w+1, month m → 8m+2, year y → 8y+3, and the whole life → 4. Their string
 * forms (`d20123`, `w2875`, `m24301`, `y2025`, `t`) are used in persisted JSON.
 */
export const TOTAL_PERIOD_CODE = 4;

/**
 * Everything the engine needs to know about one instant in London, computed once per
 * event.
 */
export interface LondonTime {
  readonly utcMs: number;
  readonly day: number;
  readonly minuteOfDay: number;
  readonly dayOfWeek: number;
  readonly week: number;
  readonly month: number;
  readonly year: number;
  readonly dayCode: number;
  readonly weekCode: number;
  readonly monthCode: number;
  readonly yearCode: number;
}

let lastDay = Number.NaN;
let lastMonth = 0;
let lastYear = 0;
let lastTime: LondonTime | null = null;

export function londonTime(utcMs: number): LondonTime {
  if (lastTime !== null && lastTime.utcMs === utcMs) return lastTime;
  const local = utcMs + londonOffsetMs(utcMs);
  const day = Math.floor(local / DAY_MS);
  if (day !== lastDay) {
    const c = civilOfDay(day);
    lastMonth = c.year * 12 + c.month - 1;
    lastYear = c.year;
    lastDay = day;
  }
  const week = weekOfDay(day);
  return (lastTime = {
    utcMs,
    day,
    minuteOfDay: Math.floor((local - day * DAY_MS) / MINUTE_MS),
    dayOfWeek: dayOfWeek(day),
    week,
    month: lastMonth,
    year: lastYear,
    dayCode: day * 8,
    weekCode: week * 8 + 1,
    monthCode: lastMonth * 8 + 2,
    yearCode: lastYear * 8 + 3,
  });
}

let lastInstantText = '';
let lastInstantMs = Number.NaN;

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Epoch ms of an ISO 8601 instant. Fast path for the UTC form events carry
 * (`2025-03-04T10:00:00.000Z`, with or without milliseconds, days 1–28 so no
 * calendar check is needed); anything else goes to Date.parse, whose answer it always
 * matches. NaN when it is not an instant.
 */
export function parseInstant(text: string): number {
  if (text === lastInstantText) return lastInstantMs;
  let ms = Number.NaN;
  const n = text.length;
  if (
    (n === 24 || n === 20) &&
    text.charCodeAt(n - 1) === 90 && // Z
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58 &&
    (n === 20 || text.charCodeAt(19) === 46)
  ) {
    const y = digits(text, 0, 4);
    const mo = digits(text, 5, 2);
    const d = digits(text, 8, 2);
    const h = digits(text, 11, 2);
    const mi = digits(text, 14, 2);
    const sec = digits(text, 17, 2);
    const frac = n === 24 ? digits(text, 20, 3) : 0;
    if (
      y >= 1970 &&
      mo >= 1 &&
      mo <= 12 &&
      d >= 1 &&
      d <= 28 &&
      h <= 23 &&
      mi >= 0 &&
      mi <= 59 &&
      sec >= 0 &&
      sec <= 59 &&
      frac >= 0 &&
      h >= 0
    ) {
      ms = (dayOfCivil(y, mo, d) * 24 + h) * HOUR_MS + mi * MINUTE_MS + sec * 1000 + frac;
    } else ms = Date.parse(text);
  } else ms = Date.parse(text);
  lastInstantText = text;
  lastInstantMs = ms;
  return ms;
}

export function periodCodeOf(period: Period, t: LondonTime): number {
  switch (period) {
    case 'day':
      return t.dayCode;
    case 'week':
      return t.weekCode;
    case 'month':
      return t.monthCode;
    case 'year':
      return t.yearCode;
  }
}

/** Period code of the period containing a London day number. */
export function periodCodeOfDay(period: Period, day: number): number {
  switch (period) {
    case 'day':
      return day * 8;
    case 'week':
      return weekOfDay(day) * 8 + 1;
    case 'month':
      return monthOfDay(day) * 8 + 2;
    case 'year':
      return civilOfDay(day).year * 8 + 3;
  }
}

/** The first day number of the period that follows the one containing `day`, plus `extra` periods. */
export function dayAfterPeriod(period: Period, day: number, extra: number): number {
  switch (period) {
    case 'day':
      return day + 1 + extra;
    case 'week':
      return (weekOfDay(day) + 1 + extra) * 7 - 3;
    case 'month':
      return firstDayOfMonth(monthOfDay(day) + 1 + extra);
    case 'year':
      return dayOfCivil(civilOfDay(day).year + 1 + extra, 1, 1);
  }
}

/** Last London day number covered by a period code (the whole-life code never ends). */
export function lastDayOfPeriodCode(code: number): number {
  const n = Math.floor(code / 8);
  switch (code - n * 8) {
    case 0:
      return n;
    case 1:
      return n * 7 - 3 + 6;
    case 2:
      return firstDayOfMonth(n + 1) - 1;
    case 3:
      return dayOfCivil(n + 1, 1, 1) - 1;
    default:
      return Number.MAX_SAFE_INTEGER;
  }
}

const PERIOD_LETTERS = ['d', 'w', 'm', 'y'];

/** `d20123` for a day code, `t` for the whole life, and so on. */
export function periodKeyOfCode(code: number): string {
  if (code === TOTAL_PERIOD_CODE) return 't';
  const n = Math.floor(code / 8);
  return `${PERIOD_LETTERS[code - n * 8] ?? '?'}${n}`;
}

/** The code of a period key such as `m24301`. */
export function periodCodeOfKey(key: string): number {
  if (key === 't') return TOTAL_PERIOD_CODE;
  const kind = PERIOD_LETTERS.indexOf(key.charAt(0));
  const n = Number.parseInt(key.slice(1), 10);
  if (kind < 0 || !Number.isInteger(n)) throw new Error(`bad period key ${key}`);
  return n * 8 + kind;
}
