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

/** Offset of Europe/London from UTC at an instant, in ms (0 in winter, 3,600,000 in BST). */
export function londonOffsetMs(utcMs: number): number {
  const hour = Math.floor(utcMs / HOUR_MS);
  let o = offsetCache.get(hour);
  if (o === undefined) {
    o = computeOffset(hour * HOUR_MS);
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(hour, o);
  }
  return o;
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

/** The instant (UTC ms) at which a London day begins (00:00 local). */
export function startOfLondonDay(day: number): number {
  const wall = day * DAY_MS;
  const guess = wall - londonOffsetMs(wall);
  return wall - londonOffsetMs(guess);
}

/**
 * Everything the engine needs to know about one instant in London, computed once per
 * event. Period keys are short strings used in counter keys: `d20123`, `w2875`,
 * `m24301`, `y2025`.
 */
export interface LondonTime {
  readonly utcMs: number;
  readonly day: number;
  readonly minuteOfDay: number;
  readonly dayOfWeek: number;
  readonly week: number;
  readonly month: number;
  readonly year: number;
  readonly dayKey: string;
  readonly weekKey: string;
  readonly monthKey: string;
  readonly yearKey: string;
}

let lastDay = Number.NaN;
let lastDayInfo: {
  month: number;
  year: number;
  dayKey: string;
  weekKey: string;
  monthKey: string;
  yearKey: string;
} = {
  month: 0,
  year: 0,
  dayKey: '',
  weekKey: '',
  monthKey: '',
  yearKey: '',
};

export function londonTime(utcMs: number): LondonTime {
  const local = utcMs + londonOffsetMs(utcMs);
  const day = Math.floor(local / DAY_MS);
  if (day !== lastDay) {
    const c = civilOfDay(day);
    const month = c.year * 12 + c.month - 1;
    lastDayInfo = {
      month,
      year: c.year,
      dayKey: `d${day}`,
      weekKey: `w${weekOfDay(day)}`,
      monthKey: `m${month}`,
      yearKey: `y${c.year}`,
    };
    lastDay = day;
  }
  return {
    utcMs,
    day,
    minuteOfDay: Math.floor((local - day * DAY_MS) / MINUTE_MS),
    dayOfWeek: dayOfWeek(day),
    week: weekOfDay(day),
    month: lastDayInfo.month,
    year: lastDayInfo.year,
    dayKey: lastDayInfo.dayKey,
    weekKey: lastDayInfo.weekKey,
    monthKey: lastDayInfo.monthKey,
    yearKey: lastDayInfo.yearKey,
  };
}

export function periodKeyOf(period: Period, t: LondonTime): string {
  switch (period) {
    case 'day':
      return t.dayKey;
    case 'week':
      return t.weekKey;
    case 'month':
      return t.monthKey;
    case 'year':
      return t.yearKey;
  }
}

/** Period key of the period containing a London day number. */
export function periodKeyOfDay(period: Period, day: number): string {
  switch (period) {
    case 'day':
      return `d${day}`;
    case 'week':
      return `w${weekOfDay(day)}`;
    case 'month':
      return `m${monthOfDay(day)}`;
    case 'year':
      return `y${civilOfDay(day).year}`;
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

/**
 * Last London day number covered by a period key such as `d20123` or `m24301`
 * (`t`, the whole-life key, never ends). Used to prune counters nobody can touch again.
 */
export function lastDayOfPeriodKey(key: string): number {
  const n = Number.parseInt(key.slice(1), 10);
  switch (key.charCodeAt(0)) {
    case 100: // d
      return n;
    case 119: // w
      return n * 7 - 3 + 6;
    case 109: // m
      return firstDayOfMonth(n + 1) - 1;
    case 121: // y
      return dayOfCivil(n + 1, 1, 1) - 1;
    default:
      return Number.MAX_SAFE_INTEGER;
  }
}
