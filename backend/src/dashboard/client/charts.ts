/// <reference lib="dom" />
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { Cell, Table } from '../../analytics/table.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);
Chart.defaults.color = '#1b1b1b';
Chart.defaults.font.family = "system-ui, 'Segoe UI', Roboto, Arial, sans-serif";

/** Marks with at least 3:1 contrast on white (WCAG 1.4.11), told apart by more than hue too. */
const PALETTE = ['#1d4f91', '#b33c00', '#2e6b30', '#6a1b9a', '#8a5a00', '#00695c', '#ad1457'];

export interface ChartSpec {
  type: 'bar' | 'line';
  title: string;
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
  horizontal?: boolean;
  stacked?: boolean;
  valueLabel: string;
}

/** What a chart plotted, read back from the Chart.js instance (tests compare it with the API). */
export interface Plotted {
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
}

export function column(t: Table, key: string): Cell[] {
  const i = t.columns.findIndex((c) => c.key === key);
  return i < 0 ? [] : t.rows.map((r) => r[i] ?? null);
}

export function num(v: Cell | undefined): number | null {
  return typeof v === 'number' ? v : null;
}

function unique(values: Cell[]): string[] {
  return [...new Set(values.map((v) => String(v ?? '')))];
}

/** A table with one row per (series, category) as one dataset per series. */
export function pivot(
  t: Table,
  categoryKey: string,
  seriesKey: string,
  valueKey: string,
): Pick<ChartSpec, 'labels' | 'datasets'> {
  const cats = column(t, categoryKey).map((v) => String(v ?? ''));
  const series = column(t, seriesKey).map((v) => String(v ?? ''));
  const values = column(t, valueKey);
  const labels = unique(cats);
  return {
    labels,
    datasets: unique(series).map((s) => ({
      label: s,
      data: labels.map((l) => {
        const i = cats.findIndex((c, j) => c === l && series[j] === s);
        return i < 0 ? null : num(values[i]);
      }),
    })),
  };
}

/** A short text alternative: what is plotted and where it peaks. */
export function describeChart(spec: ChartSpec): string {
  const parts = [`${spec.type === 'line' ? 'Line' : 'Bar'} chart: ${spec.title}.`];
  for (const d of spec.datasets.slice(0, 4)) {
    let best = -1;
    d.data.forEach((v, i) => {
      if (v !== null && (best < 0 || v > (d.data[best] ?? 0))) best = i;
    });
    const withheld = d.data.filter((v) => v === null).length;
    const name = spec.datasets.length > 1 ? `${d.label}: ` : '';
    parts.push(
      best < 0
        ? `${name}no figures to show.`
        : `${name}highest ${spec.labels[best]} with ${d.data[best]} ${spec.valueLabel}` +
            (withheld > 0 ? `; ${withheld} withheld.` : '.'),
    );
  }
  if (spec.datasets.length > 4) parts.push(`${spec.datasets.length - 4} more series.`);
  parts.push('The same figures are in the table beside the chart.');
  return parts.join(' ');
}

const charts = new WeakMap<HTMLCanvasElement, Chart>();

/** Draws (or redraws) a chart and records what it plotted on the canvas. */
export function drawChart(canvas: HTMLCanvasElement, spec: ChartSpec): void {
  charts.get(canvas)?.destroy();
  const chart = new Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((d, i) => {
        const colour = PALETTE[i % PALETTE.length] ?? '#1d4f91';
        return {
          label: d.label,
          data: d.data,
          backgroundColor: colour,
          borderColor: colour,
          borderWidth: spec.type === 'line' ? 2 : 0,
          pointStyle: (['circle', 'rect', 'triangle', 'rectRot', 'star', 'cross', 'dash'] as const)[
            i % 7
          ],
          spanGaps: false,
        };
      }),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? 'y' : 'x',
      plugins: {
        legend: { display: spec.datasets.length > 1, labels: { usePointStyle: true } },
      },
      scales: {
        x: { stacked: spec.stacked ?? false, grid: { color: '#d0d4da' } },
        y: { stacked: spec.stacked ?? false, beginAtZero: true, grid: { color: '#d0d4da' } },
      },
    },
  });
  charts.set(canvas, chart);
  const plotted: Plotted = {
    labels: (chart.data.labels ?? []).map(String),
    datasets: chart.data.datasets.map((d) => ({
      label: String(d.label ?? ''),
      data: (d.data as (number | null)[]).map((v) => (typeof v === 'number' ? v : null)),
    })),
  };
  canvas.dataset.plotted = JSON.stringify(plotted);
  canvas.setAttribute('aria-label', describeChart(spec));
  canvas.textContent = describeChart(spec);
}
