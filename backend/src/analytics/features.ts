import { weekOfDay } from '@clubcard/shared/rules/london-time';
import { C, WINDOW_DAYS, ringCount } from './model.js';

/**
 * The per-resident feature vector for segmentation, from a feature row (pure). GP
 * drop-in visits count only when the resident consented to health segmentation: without
 * consent, the vector is exactly what it would be had they never used a GP drop-in.
 */
export const VECTOR_FEATURES = [
  'visits',
  'recency_days',
  'library_share',
  'leisure_share',
  'gp_share',
  'other_share',
  'weekday_morning_share',
  'weekday_midday_share',
  'after_school_share',
  'weekday_evening_share',
  'weekend_share',
  'off_peak_share',
  'venues',
  'tenure_days',
  'active_weeks',
] as const;
export const ND = VECTOR_FEATURES.length;

/** Columns clustered on log(1 + x) rather than x (heavy-tailed counts). */
export const LOG_FEATURES: readonly number[] = [0, 12];

export interface RfmValues {
  recencyDays: number;
  frequency: number;
  monetary: number;
}

/**
 * Writes the raw vector of one resident into out[outAt…] and returns their RFM values,
 * or null when they made no (countable) visit in the window ending on analysisDay.
 */
export function residentVector(
  row: Float64Array,
  at: number,
  analysisDay: number,
  healthConsent: boolean,
  out: Float64Array,
  outAt: number,
): RfmValues | null {
  const g = healthConsent ? 1 : 0;
  const gVisits = g * (row[at + C.gVisits] ?? 0);
  const visits = (row[at + C.xVisits] ?? 0) + gVisits;
  if (visits <= 0) return null;
  const lastX = row[at + C.lastX] ?? -1;
  const lastG = g ? (row[at + C.lastG] ?? -1) : -1;
  const last = Math.max(lastX, lastG);
  const firstX = row[at + C.firstX] ?? -1;
  const firstG = g ? (row[at + C.firstG] ?? -1) : -1;
  const first = firstX < 0 ? firstG : firstG < 0 ? firstX : Math.min(firstX, firstG);
  const recency = Math.max(0, analysisDay - last);
  out[outAt] = visits;
  out[outAt + 1] = Math.min(recency, WINDOW_DAYS);
  out[outAt + 2] = (row[at + C.xLibrary] ?? 0) / visits;
  out[outAt + 3] = (row[at + C.xLeisure] ?? 0) / visits;
  out[outAt + 4] = gVisits / visits;
  out[outAt + 5] = (row[at + C.xOther] ?? 0) / visits;
  for (let p = 0; p < 5; p++) {
    out[outAt + 6 + p] =
      ((row[at + C.xMorning + p] ?? 0) + g * (row[at + C.gMorning + p] ?? 0)) / visits;
  }
  out[outAt + 11] = ((row[at + C.xOffpeak] ?? 0) + g * (row[at + C.gOffpeak] ?? 0)) / visits;
  const venues = g ? (row[at + C.aVenues] ?? 0) : (row[at + C.xVenues] ?? 0);
  out[outAt + 12] = venues;
  out[outAt + 13] = first >= 0 ? Math.min(3 * WINDOW_DAYS, analysisDay - first) : 0;
  const lo = g ? C.aWeeksLo : C.xWeeksLo;
  const hi = g ? C.aWeeksHi : C.xWeeksHi;
  out[outAt + 14] = ringCount(
    row[at + lo] ?? 0,
    row[at + hi] ?? 0,
    row[at + C.ringWeek] ?? -1,
    weekOfDay(analysisDay - WINDOW_DAYS + 1),
    weekOfDay(analysisDay),
  );
  return {
    recencyDays: recency,
    frequency: visits,
    monetary: g ? (row[at + C.aServices] ?? 0) : (row[at + C.xServices] ?? 0),
  };
}

/** The vector as clustered: log of heavy-tailed counts. */
export function clusterSpace(raw: Float64Array, n: number): Float64Array {
  const z = Float64Array.from(raw);
  for (let i = 0; i < n; i++)
    for (const j of LOG_FEATURES) z[i * ND + j] = Math.log1p(z[i * ND + j] ?? 0);
  return z;
}
