/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { tableToCsv, type Table } from '../../analytics/table.js';
import { describeChart, drawChart, type ChartSpec } from './charts.js';
import { $, HttpError, el, getJson } from './dom.js';
import { addRetireButtons, fillOfferServices, setUpOffers } from './offer-form.js';
import { PANELS, type PanelDef } from './panels.js';
import {
  ErrorBodySchema,
  MeSchema,
  OffersSchema,
  OptionsSchema,
  TableAnswerSchema,
  type Offers,
} from './schemas.js';

/**
 * The council dashboard: signs an operator in, then shows each analytics table with
 * its chart. Every figure comes from the analytics API; the page keeps nothing.
 */

// ── sign-in ─────────────────────────────────────────────────────────────────────

function showLogin(message = ''): void {
  $('dashboard').hidden = true;
  $('signed-in').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $<HTMLInputElement>('login-name').focus();
}

async function start(): Promise<void> {
  let me;
  try {
    me = MeSchema.parse(await getJson('/api/v1/auth/me'));
  } catch (e) {
    showLogin(
      e instanceof HttpError && e.status === 403
        ? 'Your account may not see the dashboard: it is for analysts and administrators.'
        : '',
    );
    return;
  }
  $('login').hidden = true;
  $('who').textContent = `Signed in as ${me.name} (${me.role})`;
  $('signed-in').hidden = false;
  $('dashboard').hidden = false;
  setUpOffers({
    reload: loadOffers,
    signedOut: () => showLogin('Your session has ended: sign in again.'),
  });
  await loadOptions();
  buildPanels();
  await refresh();
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = $<HTMLInputElement>('login-name').value.trim();
  const password = $<HTMLInputElement>('login-password').value;
  if (!name || !password) {
    $('login-error').textContent = 'Enter your name and password.';
    return;
  }
  void (async () => {
    const res = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    if (!res.ok) {
      const e = ErrorBodySchema.safeParse(await res.json().catch(() => null));
      $('login-error').textContent = e.success
        ? `Could not sign in: ${e.data.error.message}.`
        : 'Could not sign in.';
      return;
    }
    $<HTMLInputElement>('login-password').value = '';
    await start();
    $('main').focus();
  })();
});

$('logout').addEventListener('click', () => {
  void fetch('/api/v1/auth/logout', { method: 'POST' }).then(() => showLogin());
});

// ── filters ─────────────────────────────────────────────────────────────────────

async function loadOptions(): Promise<void> {
  const o = OptionsSchema.parse(await getJson('/api/v1/analytics/options'));
  const fill = (id: string, items: { value: string; label: string }[]): void => {
    const s = $<HTMLSelectElement>(id);
    const first = s.options[0];
    s.replaceChildren(...(first ? [first] : []));
    for (const i of items) s.append(el('option', { value: i.value }, i.label));
  };
  fill(
    'f-venue',
    o.venues.map((v) => ({ value: v.id, label: v.name })),
  );
  fill(
    'f-service',
    o.services.map((s) => ({ value: s.id, label: s.name })),
  );
  fill(
    'f-ageBand',
    o.ageBands.map((a) => ({ value: a, label: a })),
  );
  fill(
    'f-ward',
    o.wards.map((w) => ({ value: w, label: w })),
  );
  fillOfferServices(o.services);
  fill(
    'f-attribute',
    o.attributes.map((a) => ({ value: a, label: a.replace(/-/g, ' ') })),
  );
}

function queryFor(p: PanelDef): string {
  const form = new FormData($<HTMLFormElement>('filters'));
  const q = new URLSearchParams();
  for (const key of p.filters) {
    const v = form.get(key);
    if (typeof v === 'string' && v !== '') q.set(key, v);
  }
  return q.toString();
}

$('filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void refresh();
});
$('filters-reset').addEventListener('click', () => {
  $<HTMLFormElement>('filters').reset();
  void refresh();
});

// ── panels ──────────────────────────────────────────────────────────────────────

function buildPanels(): void {
  const host = $('panels');
  if (host.childElementCount > 0) return;
  for (const p of [...PANELS, OFFERS_PANEL]) {
    const title = el('h2', { id: `${p.id}-title` }, p.title);
    const head = el('div', { class: 'panel-head' }, title);
    const csv = el(
      'a',
      { class: 'button secondary', id: `${p.id}-csv`, download: '', href: '#' },
      'Download CSV',
      el('span', { class: 'visually-hidden' }, ` of ${p.title.toLowerCase()}`),
    );
    head.append(csv);
    const body = el('div', { class: 'panel-body', id: `${p.id}-body` });
    if (p.chart) {
      const canvas = el('canvas', { id: `${p.id}-chart`, role: 'img', 'aria-label': p.title });
      body.append(el('div', { class: 'chart', id: `${p.id}-chart-box` }, canvas));
    }
    body.append(
      el('div', {
        class: 'table-wrap',
        id: `${p.id}-table`,
        tabindex: '0',
        role: 'region',
        'aria-label': `${p.title}: table`,
      }),
    );
    host.append(
      el(
        'section',
        { class: 'panel', id: `panel-${p.id}`, 'aria-labelledby': `${p.id}-title` },
        head,
        el('p', { class: 'panel-note' }, p.note),
        el('p', { class: 'error', id: `${p.id}-error`, role: 'alert' }),
        body,
      ),
    );
  }
}

const WITHHELD = (): Node[] => [
  el('span', { 'aria-hidden': 'true' }, '–'),
  el('span', { class: 'visually-hidden' }, 'withheld'),
];

/** A chart sits beside a narrow table; a wide table goes below its chart, full width. */
function layout(p: PanelDef, t: Table): void {
  const wide = !p.chart || t.columns.length > 4;
  $(`${p.id}-body`).classList.toggle('stacked', wide);
}

function renderTable(host: HTMLElement, caption: string, t: Table): void {
  if (t.rows.length === 0) {
    host.replaceChildren(el('p', { class: 'empty' }, 'Nothing to show for these filters.'));
    return;
  }
  const head = el('tr', {}, ...t.columns.map((c) => el('th', { scope: 'col' }, c.label)));
  const rows = t.rows.map((r) =>
    el(
      'tr',
      {},
      ...t.columns.map((c, i) => {
        const v = r[i] ?? null;
        const cell = i === 0 ? el('th', { scope: 'row' }) : el('td');
        if (typeof v === 'number') cell.className = 'num';
        if (v === null) cell.append(...(c.suppressible ? WITHHELD() : []));
        else cell.append(typeof v === 'number' ? v.toLocaleString('en-GB') : v);
        return cell;
      }),
    ),
  );
  host.replaceChildren(
    el('table', {}, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, ...rows)),
  );
}

/** Colour scale for the heatmap, with whichever text colour contrasts more (≥ 4.5:1). */
function heatColour(share: number): { bg: string; fg: string } {
  const from = [255, 255, 255];
  const to = [8, 48, 107];
  const rgb = from.map((f, i) => Math.round(f + ((to[i] ?? 0) - f) * share));
  const lin = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const L = 0.2126 * (lin[0] ?? 0) + 0.7152 * (lin[1] ?? 0) + 0.0722 * (lin[2] ?? 0);
  const onBlack = (L + 0.05) / 0.05;
  const onWhite = 1.05 / (L + 0.05);
  return { bg: `rgb(${rgb.join(', ')})`, fg: onBlack >= onWhite ? '#000000' : '#ffffff' };
}

function renderHeatmap(host: HTMLElement, t: Table, weeks: string): void {
  const values = t.rows.map((r) => r.slice(1).map((v) => (typeof v === 'number' ? v : null)));
  const max = Math.max(1, ...values.flat().map((v) => v ?? 0));
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, 'Day'),
    ...t.columns.slice(1).map((c) => el('th', { scope: 'col' }, c.label.slice(0, 2))),
  );
  const rows = t.rows.map((r, d) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, String(r[0])),
      ...(values[d] ?? []).map((v) => {
        const td = el('td');
        if (v === null) {
          td.append(...WITHHELD());
        } else {
          const c = heatColour(v / max);
          td.style.backgroundColor = c.bg;
          td.style.color = c.fg;
          td.textContent = String(v);
        }
        return td;
      }),
    ),
  );
  let best = { v: -1, day: '', hour: '' };
  values.forEach((row, d) =>
    row.forEach((v, h) => {
      if (v !== null && v > 0 && v > best.v)
        best = { v, day: String(t.rows[d]?.[0]), hour: t.columns[h + 1]?.label ?? '' };
    }),
  );
  const summary =
    best.v < 0
      ? 'No visits to show: every hour is empty or withheld.'
      : `Busiest hour: ${best.day} ${best.hour} with ${best.v} visits.`;
  const table = el(
    'table',
    { class: 'heatmap', id: 'heatmap-grid' },
    el('caption', {}, `Visits by weekday and hour, weeks from ${weeks}. ${summary}`),
    el('thead', {}, head),
    el('tbody', {}, ...rows),
  );
  table.dataset.plotted = JSON.stringify({ labels: t.rows.map((r) => String(r[0])), values });
  host.replaceChildren(
    table,
    el(
      'p',
      { class: 'heatmap-legend' },
      'Darker cells had more visits. A dash marks a figure withheld because it covers fewer residents than the privacy threshold.',
    ),
  );
}

function setState(p: PanelDef, state: string, query: string): void {
  const s = $(`panel-${p.id}`);
  s.dataset.state = state;
  s.dataset.query = query;
  s.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
}

async function loadPanel(p: PanelDef): Promise<void> {
  const query = queryFor(p);
  setState(p, 'loading', query);
  const url = `/api/v1/analytics/${p.endpoint}${query ? `?${query}` : ''}`;
  const err = $(`${p.id}-error`);
  try {
    const a = TableAnswerSchema.parse(await getJson(url));
    err.textContent = '';
    $<HTMLAnchorElement>(`${p.id}-csv`).href =
      `/api/v1/analytics/${p.endpoint}.csv${query ? `?${query}` : ''}`;
    const host = $(`${p.id}-table`);
    const weeks = a.weeks ? `${a.weeks.fromWeek} to the week of ${a.weeks.toWeek}` : '';
    if (a.k !== undefined) $('k-value').textContent = String(a.k);
    layout(p, a.table);
    if (p.heatmap) renderHeatmap(host, a.table, weeks);
    else renderTable(host, `${p.title}${weeks ? `, weeks from ${weeks}` : ''}`, a.table);
    if (p.chart) {
      $(`${p.id}-chart-box`).hidden = a.table.rows.length === 0;
      drawChart($<HTMLCanvasElement>(`${p.id}-chart`), p.chart(a.table));
    }
    setState(p, 'ready', query);
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) {
      showLogin('Your session has ended: sign in again.');
      return;
    }
    err.textContent = `Could not load ${p.title.toLowerCase()}: ${(e as Error).message}`;
    setState(p, 'error', query);
  }
}

// ── offers (served by the offers API when the backend has it) ───────────────────

const OFFERS_PANEL: PanelDef = {
  id: 'offers',
  title: 'Targeted offers and their take-up',
  note: 'Offers made to segments, how many residents they reached and how many took them up.',
  endpoint: 'offers',
  filters: [],
  chart: () => ({ type: 'bar', title: '', labels: [], datasets: [], valueLabel: '' }),
};

function offersTable(o: Offers): Table {
  const s = (key: string, label: string) => ({ key, label, suppressible: true });
  const c = (key: string, label: string) => ({ key, label });
  return {
    columns: [
      c('title', 'Offer'),
      c('segment', 'Segment'),
      c('service', 'Service'),
      c('startsOn', 'Starts'),
      c('endsOn', 'Ends'),
      c('status', 'Status'),
      s('targeted', 'Residents targeted'),
      s('tookUp', 'Residents who took it up'),
    ],
    rows: o.offers.map((x) => [
      x.title,
      x.segmentLabel,
      x.service ?? 'any',
      x.startsOn,
      x.endsOn ?? 'open',
      x.status,
      x.targeted,
      x.tookUp,
    ]),
  };
}

async function loadOffers(): Promise<void> {
  const p = OFFERS_PANEL;
  setState(p, 'loading', '');
  const host = $('offers-table');
  const canvas = $<HTMLCanvasElement>('offers-chart');
  const link = $<HTMLAnchorElement>('offers-csv');
  const err = $('offers-error');
  let offers: Offers;
  try {
    offers = OffersSchema.parse(await getJson('/api/v1/offers'));
    err.textContent = '';
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) {
      // No offers API on this backend: nothing to show, and no offers to make.
      $('offer-maker').hidden = true;
      offers = { offers: [] };
      err.textContent = '';
    } else {
      err.textContent = `Could not load offers: ${(e as Error).message}`;
      setState(p, 'error', '');
      return;
    }
  }
  const t = offersTable(offers);
  layout(p, t);
  renderTable(host, p.title, t);
  $('offers-chart-box').hidden = offers.offers.length === 0;
  if (offers.offers.length === 0) {
    host.replaceChildren(el('p', { class: 'empty' }, 'No offers have been made yet.'));
  } else {
    addRetireButtons(host, offers.offers);
  }
  const spec: ChartSpec = {
    type: 'bar',
    title: 'residents targeted and residents who took up each offer',
    labels: offers.offers.map((o) => o.title),
    datasets: [
      { label: 'Targeted', data: offers.offers.map((o) => o.targeted) },
      { label: 'Took up', data: offers.offers.map((o) => o.tookUp) },
    ],
    valueLabel: 'residents',
  };
  drawChart(canvas, spec);
  canvas.setAttribute('aria-label', describeChart(spec));
  const old = link.href;
  if (old.startsWith('blob:')) URL.revokeObjectURL(old);
  link.href = URL.createObjectURL(new Blob([tableToCsv(t)], { type: 'text/csv' }));
  link.setAttribute('download', 'clubcard-offers.csv');
  setState(p, 'ready', '');
}

async function refresh(): Promise<void> {
  const status = $('status');
  status.textContent = 'Loading figures…';
  await Promise.all([...PANELS.map(loadPanel), loadOffers()]);
  const failed = [...document.querySelectorAll<HTMLElement>('.panel')].filter(
    (s) => s.dataset.state === 'error',
  ).length;
  const first = document.querySelector<HTMLElement>('.panel .error:not(:empty)');
  $('filters-error').textContent = failed > 0 && first ? (first.textContent ?? '') : '';
  status.textContent =
    failed > 0 ? `Figures updated; ${failed} panels could not load.` : 'Figures updated.';
}

void start();
