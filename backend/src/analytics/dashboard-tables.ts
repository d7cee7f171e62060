import type { Cell, Table, TableColumn } from './table.js';
import type {
  HeatmapAnswer,
  SegmentProfilesAnswer,
  SegmentSizesAnswer,
  TakeUpAnswer,
  TrendAnswer,
} from './queries.js';
import type {
  KioskHealthRow,
  NeighbourhoodRow,
  SchemeMonthRow,
  WardTargetRow,
} from './council-queries.js';
import { AGE_BANDS } from './model.js';

/**
 * Each dashboard answer as the table shown beside its chart and exported as CSV. The
 * chart plots these same rows, so chart, table and CSV cannot disagree.
 */

export const WEEKDAYS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;

/** Plain words for the RFM segments (R = recency, F = visits, M = distinct services). */
export const RFM_DESCRIPTIONS: Record<string, string> = {
  Champions: 'visited very recently, visit most often and use the most services',
  'Potential loyalist': 'recent, fairly frequent visitors using more than one service',
  Loyal: 'steady visitors, middling in recency, visits and range of services',
  Promising: 'recent but infrequent visitors who already use several services',
  New: 'recent visitors with few visits so far',
  "Can't lose them": 'used many services fairly often, but not seen for a long time',
  'At risk': 'used many services, but have not visited for a while',
  'Need attention': 'frequent users of several services whose visits are tailing off',
  'About to sleep': 'infrequent visitors using few services, not seen lately',
  Lost: 'not seen for the longest time',
  Others: 'residents who match none of the groups above',
};

const s = (key: string, label: string): TableColumn => ({ key, label, suppressible: true });
const c = (key: string, label: string): TableColumn => ({ key, label });

function percent(x: number | null): number | null {
  return x === null ? null : Math.round(x * 1000) / 10;
}

function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function minutes(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms / 6000) / 10;
}

export function heatmapTable(a: HeatmapAnswer): Table {
  const hours = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  return {
    columns: [c('weekday', 'Day'), ...hours.map((h) => s(`h${h}`, `${h}:00`))],
    rows: WEEKDAYS.map((day, d) => [
      day,
      ...hours.map((_, h): Cell => a.cells[d * 24 + h]?.visits ?? null),
    ]),
  };
}

export function trendTable(a: TrendAnswer): Table {
  return {
    columns: [c('weekStart', 'Week starting'), s('visits', 'Visits')],
    rows: a.points.map((p) => [p.weekStart, p.visits]),
  };
}

export function takeUpTable(a: TakeUpAnswer): Table {
  return {
    columns: [
      c('ageBand', 'Age band'),
      c('ward', 'Ward'),
      s('population', 'Registered residents'),
      s('users', 'Residents who used the services'),
      s('takeUpPercent', 'Take-up (%)'),
    ],
    rows: a.cells.map((x) => [x.ageBand, x.ward, x.population, x.users, percent(x.rate)]),
  };
}

export function segmentSizesTable(a: SegmentSizesAnswer): Table {
  return {
    columns: [
      c('kind', 'Kind'),
      c('segment', 'Segment'),
      c('description', 'In plain words'),
      s('residents', 'Residents'),
    ],
    rows: [
      ...a.rfm.map((x): Cell[] => [
        'RFM',
        x.segment,
        RFM_DESCRIPTIONS[x.segment] ?? '',
        x.residents,
      ]),
      ...a.behavioural.map((x): Cell[] => [
        'behavioural',
        `Segment ${x.segment + 1}`,
        x.description,
        x.residents,
      ]),
    ],
  };
}

const PROFILE_FIELDS = [
  ['visits', 'Visits a year'],
  ['recencyDays', 'Days since last visit'],
  ['libraryPercent', 'Library (%)'],
  ['leisurePercent', 'Leisure (%)'],
  ['gpPercent', 'GP drop-in (%)'],
  ['otherPercent', 'Community and learning (%)'],
  ['weekdayMorningPercent', 'Weekday mornings (%)'],
  ['weekendPercent', 'Weekends (%)'],
  ['offPeakPercent', 'Off-peak (%)'],
  ['venues', 'Venues used'],
] as const;

export function segmentProfilesTable(a: SegmentProfilesAnswer): Table {
  return {
    columns: [
      c('segment', 'Segment'),
      c('description', 'In plain words'),
      s('residents', 'Residents'),
      ...PROFILE_FIELDS.map(([k, l]) => s(k, l)),
      ...AGE_BANDS.map((b) => s(`age${b}`, `Aged ${b}`)),
    ],
    rows: a.segments.map((x) => {
      const p = x.profile;
      const one = (v: number | undefined): number | null =>
        v === undefined ? null : Math.round(v * 10) / 10;
      const pc = (v: number | undefined): number | null => (v === undefined ? null : percent(v));
      return [
        `Segment ${x.segment + 1}`,
        x.description,
        x.residents,
        one(p?.visits),
        one(p?.recencyDays),
        pc(p?.library),
        pc(p?.leisure),
        pc(p?.gp),
        pc(p?.other),
        pc(p?.weekdayMorning),
        pc(p?.weekend),
        pc(p?.offPeak),
        one(p?.venues),
        ...AGE_BANDS.map((b) => x.ageBands.find((y) => y.ageBand === b)?.residents ?? null),
      ];
    }),
  };
}

export function neighbourhoodsTable(rows: readonly NeighbourhoodRow[]): Table {
  return {
    columns: [
      c('ward', 'Ward'),
      s('visits', 'Visits'),
      c('wallet', 'Budget wallet'),
      c('targetsMet', 'Ward targets met'),
      c('earned', 'Budget earned'),
      c('spent', 'Budget spent'),
      c('balance', 'Budget balance now'),
    ],
    rows: rows.map((r) => [r.ward, r.visits, r.wallet, r.targetsMet, r.earned, r.spent, r.balance]),
  };
}

export function wardTargetsTable(rows: readonly WardTargetRow[]): Table {
  return {
    columns: [
      c('scheme', 'Scheme'),
      c('target', 'Target'),
      c('description', 'Description'),
      c('counts', 'Counts'),
      c('wardBasis', 'Ward of'),
      c('period', 'Period'),
      c('goal', 'Goal'),
      c('reward', 'Budget earned when met'),
      c('wallet', 'Wallet'),
    ],
    rows: rows.map((r) => [
      r.schemeName,
      r.targetId,
      r.description,
      r.counts,
      r.wardBasis,
      r.period,
      r.target,
      r.reward,
      r.wallet,
    ]),
  };
}

export function schemesTable(rows: readonly SchemeMonthRow[]): Table {
  return {
    columns: [
      c('scheme', 'Scheme'),
      c('wallet', 'Wallet'),
      c('unit', 'Unit'),
      c('month', 'Month'),
      s('residents', 'Residents credited'),
      s('granted', 'Granted'),
      s('redeemed', 'Redeemed'),
      s('expired', 'Expired'),
      s('outstanding', 'Outstanding at month end'),
    ],
    rows: rows.map((r) => [
      r.schemeId,
      r.wallet,
      r.unit,
      r.month,
      r.residents,
      r.granted,
      r.redeemed,
      r.expired,
      r.outstanding,
    ]),
  };
}

export function kiosksTable(rows: readonly KioskHealthRow[]): Table {
  return {
    columns: [
      c('kiosk', 'Kiosk'),
      c('venue', 'Venue'),
      c('service', 'Service'),
      c('status', 'Status'),
      c('lastSuccessAt', 'Last successful sync'),
      c('silentForMinutes', 'Silent for (minutes)'),
      c('ackSeq', 'Acknowledged sequence'),
      c('highestSeq', 'Highest sequence received'),
      c('backlog', 'Backlog (events)'),
      c('oldestUnsettledAt', 'Oldest unsettled event'),
      c('lastEventDelayMinutes', 'Newest event delay (minutes)'),
      c('clockSkewSeconds', 'Clock skew (seconds)'),
    ],
    rows: rows.map((r) => [
      r.kioskId,
      r.venueId,
      r.serviceId,
      r.status,
      isoTime(r.lastSuccessAt),
      minutes(r.silentForMs),
      r.ackSeq,
      r.highestSeq,
      r.backlog,
      r.oldestUnsettledAt,
      minutes(r.lastEventDelayMs),
      r.clockSkewMs === null ? null : Math.round(r.clockSkewMs / 100) / 10,
    ]),
  };
}
