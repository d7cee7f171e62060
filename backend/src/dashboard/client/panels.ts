import type { FilterKey } from '../../analytics/filters.js';
import type { Table } from '../../analytics/table.js';
import { column, num, pivot, type ChartSpec } from './charts.js';

/** One dashboard panel: an analytics endpoint, the filters it takes, and its chart. */
export interface PanelDef {
  id: string;
  title: string;
  note: string;
  endpoint: string;
  filters: readonly FilterKey[];
  /** The chart, drawn from the same table the panel shows; none for table-only panels. */
  chart?: (t: Table) => ChartSpec;
  heatmap?: boolean;
}

const ALL: readonly FilterKey[] = ['from', 'to', 'venue', 'service', 'ageBand', 'ward'];

export const PANELS: readonly PanelDef[] = [
  {
    id: 'heatmap',
    title: 'When people come: visits by hour and weekday',
    note: 'Visits in each hour of the week (London time), over the whole weeks in the range.',
    endpoint: 'heatmap',
    filters: ALL,
    heatmap: true,
  },
  {
    id: 'trend',
    title: 'Weekly trend',
    note: 'Visits per week (weeks start on Monday).',
    endpoint: 'trend',
    filters: ALL,
    chart: (t) => ({
      type: 'line',
      title: 'visits per week',
      labels: column(t, 'weekStart').map(String),
      datasets: [{ label: 'Visits', data: column(t, 'visits').map(num) }],
      valueLabel: 'visits',
    }),
  },
  {
    id: 'take-up',
    title: 'Take-up by age band and ward',
    note: 'Share of registered residents who used the services in the range.',
    endpoint: 'take-up',
    filters: [...ALL, 'attribute'],
    chart: (t) => ({
      type: 'bar',
      title: 'take-up (%) by ward, one bar per age band',
      ...pivot(t, 'ward', 'ageBand', 'takeUpPercent'),
      valueLabel: 'per cent',
    }),
  },
  {
    id: 'segments',
    title: 'Segment sizes',
    note: 'Residents in each RFM segment (recency, visits, services used over 12 months) and each behavioural segment.',
    endpoint: 'segments',
    filters: ['ageBand', 'ward', 'attribute'],
    chart: (t) => ({
      type: 'bar',
      title: 'residents per segment',
      horizontal: true,
      labels: t.rows.map((r) => `${r[0] === 'RFM' ? 'RFM' : 'Behavioural'}: ${String(r[1])}`),
      datasets: [{ label: 'Residents', data: column(t, 'residents').map(num) }],
      valueLabel: 'residents',
    }),
  },
  {
    id: 'segment-profiles',
    title: 'Behavioural segment profiles',
    note: "Each segment's average resident and its age mix.",
    endpoint: 'segment-profiles',
    filters: ['ward'],
    chart: (t) => {
      const ages = t.columns.filter((c) => c.key.startsWith('age'));
      return {
        type: 'bar',
        title: 'residents per behavioural segment by age band',
        stacked: true,
        labels: column(t, 'segment').map(String),
        datasets: ages.map((a) => ({ label: a.label, data: column(t, a.key).map(num) })),
        valueLabel: 'residents',
      };
    },
  },
  {
    id: 'neighbourhoods',
    title: 'Neighbourhoods',
    note: 'Visits by ward, and the neighbourhood budgets wards earned by meeting ward targets.',
    endpoint: 'neighbourhoods',
    filters: ALL,
    chart: (t) => {
      const wards = column(t, 'ward').map(String);
      const visits = column(t, 'visits').map(num);
      const first = wards.map((w, i) => wards.indexOf(w) === i);
      return {
        type: 'bar',
        title: 'visits by ward',
        labels: wards.filter((_, i) => first[i]),
        datasets: [{ label: 'Visits', data: visits.filter((_, i) => first[i]) }],
        valueLabel: 'visits',
      };
    },
  },
  {
    id: 'ward-targets',
    title: 'Ward targets',
    note: 'What each ward can earn for its neighbourhood budget.',
    endpoint: 'ward-targets',
    filters: [],
  },
  {
    id: 'schemes',
    title: 'Scheme costs and redemptions',
    note: 'Credits granted to residents, redeemed and expired each month, and what residents still hold.',
    endpoint: 'schemes',
    filters: ['from', 'to'],
    chart: (t) => {
      const months = [...new Set(column(t, 'month').map(String))].sort();
      const scheme = column(t, 'scheme').map(String);
      const wallet = column(t, 'wallet').map(String);
      const month = column(t, 'month').map(String);
      const series = [...new Set(scheme.map((s, i) => `${s} (${wallet[i]})`))];
      const datasets: ChartSpec['datasets'] = [];
      for (const s of series) {
        for (const measure of ['granted', 'redeemed'] as const) {
          const vals = column(t, measure);
          datasets.push({
            label: `${s} ${measure}`,
            data: months.map((m) => {
              const i = month.findIndex((x, j) => x === m && `${scheme[j]} (${wallet[j]})` === s);
              return i < 0 ? null : num(vals[i]);
            }),
          });
        }
      }
      return {
        type: 'bar',
        title: 'credits granted and redeemed per month, by scheme',
        labels: months,
        datasets,
        valueLabel: 'units',
      };
    },
  },
  {
    id: 'kiosks',
    title: 'Kiosk sync health',
    note: 'What the backend knows of each kiosk: last successful sync, events beyond the acknowledged sequence, delays and clock skew.',
    endpoint: 'kiosks',
    filters: [],
  },
];
