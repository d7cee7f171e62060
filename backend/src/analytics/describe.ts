/**
 * Plain-words descriptions of behavioural segments from their centroids (in raw units,
 * i.e. the segment's average resident), e.g. "weekday-morning library regulars".
 */
export interface SegmentProfile {
  /** Visits in the 12-month window. */
  visits: number;
  recencyDays: number;
  library: number;
  leisure: number;
  gp: number;
  other: number;
  /** Shares of visits by part of the week (sum 1). */
  weekdayMorning: number;
  weekdayMidday: number;
  afterSchool: number;
  weekdayEvening: number;
  weekend: number;
  offPeak: number;
  venues: number;
  tenureDays: number;
  activeWeeks: number;
}

export function describeSegment(p: SegmentProfile): string {
  const services: [string, number][] = [
    ['library', p.library],
    ['leisure', p.leisure],
    ['GP drop-in', p.gp],
    ['community and learning', p.other],
  ];
  services.sort((a, b) => b[1] - a[1]);
  const [top, second] = services;
  const service =
    top && top[1] >= 0.6
      ? top[0]
      : top && second && top[1] + second[1] >= 0.75
        ? `${top[0]} and ${second[0]}`
        : 'mixed-service';
  const times: [string, number][] = [
    ['weekday-morning', p.weekdayMorning],
    ['weekday-lunchtime', p.weekdayMidday],
    ['after-school', p.afterSchool],
    ['weekday-evening', p.weekdayEvening],
    ['weekend', p.weekend],
  ];
  times.sort((a, b) => b[1] - a[1]);
  const time = times[0] && times[0][1] >= 0.45 ? times[0][0] : 'all-week';
  if (p.recencyDays >= 150) {
    return `lapsed ${service} users (last visit about ${Math.round(p.recencyDays / 30)} months ago)`;
  }
  const who =
    p.visits >= 40
      ? 'regulars'
      : p.visits >= 12
        ? 'monthly users'
        : p.visits >= 4
          ? 'occasional users'
          : 'rare visitors';
  const spread = p.venues >= 3 ? ', across several venues' : '';
  const fresh = p.tenureDays < 90 ? 'new ' : '';
  return `${time} ${service} ${fresh}${who}${spread}`;
}
