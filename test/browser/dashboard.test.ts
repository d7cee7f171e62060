import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { newEventId } from '@clubcard/shared';
import { Analytics } from '@clubcard/backend/analytics/analytics';
import { parseCsv } from '@clubcard/backend/analytics/table';
import { backendServices, openBackend } from '@clubcard/backend/app';
import { dbFileOf, loadBackendConfig } from '@clubcard/backend/config';
import type { OfferSummary } from '@clubcard/backend/offers/offer-service';
import { generateCounty } from '@clubcard/backend/demo/county';
import { startBackend, type RunningBackend } from '@clubcard/backend/main';
import { publishSchemes } from '@clubcard/backend/rewards/schemes';
import { SqliteEngineState } from '@clubcard/backend/rewards/engine-state';
import { ingestBatch } from '@clubcard/backend/sync/ingest';
import { artifactPath, launchChromium } from '../support/browser.js';
import { axeViolations } from './screen-harness.js';

/**
 * The council dashboard in headless Chromium, on a small synthetic county (seeded) with
 * a leisure-credit scheme and a ward target whose credits were earned through the
 * normal ingestion path. What each chart plots is read back from the page and compared
 * with what the analytics API answers for the same filters.
 */

const ANALYST = { name: 'ana-analyst', password: 'a long analyst passphrase' };
const DISABLED = { name: 'dan-former', password: 'a former analyst passphrase' };

/** Living credits for leisure visits, and a neighbourhood budget for busy leisure wards. */
const SCHEMES = [
  {
    id: 'leisure-credit',
    version: 1,
    name: 'Leisure credits',
    wallet: 'leisure-credit',
    validFrom: '2025-10-01T00:00:00Z',
    earning: [
      {
        id: 'swim',
        trigger: { eventType: 'visit', serviceIds: ['s-swim'] },
        amount: { kind: 'fixed', value: 25 },
      },
    ],
  },
  {
    id: 'ward-fund',
    version: 1,
    name: 'Neighbourhood fund',
    wallet: 'neighbourhood-budget',
    validFrom: '2025-10-01T00:00:00Z',
    wardTargets: [
      {
        id: 'busy-pools',
        description: 'Twenty swims a month at the ward’s pool',
        trigger: { eventType: 'visit', serviceKinds: ['leisure'], serviceIds: ['s-swim'] },
        ward: 'venue',
        period: 'month',
        target: 20,
        reward: 50_000,
      },
    ],
  },
];

let dir: string;
let backend: RunningBackend;
let browser: Browser;
let analystCookie = '';

interface PanelAnswer {
  k: number;
  table: { columns: { key: string }[]; rows: (string | number | null)[][] };
  [key: string]: unknown;
}

async function api(path: string, cookie = analystCookie): Promise<Response> {
  return fetch(`${backend.url}${path}`, { headers: cookie ? { cookie } : {} });
}

async function post(path: string, body?: unknown): Promise<Response> {
  return fetch(`${backend.url}${path}`, {
    method: 'POST',
    headers: {
      cookie: analystCookie,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function answer<T = PanelAnswer>(path: string): Promise<T> {
  const res = await api(path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** Replays some residents' swims (cloned from the county's own events) through ingestion. */
function earnCredits(store: ReturnType<typeof openBackend>['store']): number {
  const db = store.db;
  const kiosk = db
    .prepare(
      "SELECT id FROM kiosks WHERE service_id = 's-swim' ORDER BY (SELECT COUNT(*) FROM events e WHERE e.kiosk_id = kiosks.id) DESC LIMIT 1",
    )
    .get() as { id: string };
  const row = store.getKiosk(kiosk.id);
  if (!row) throw new Error('no swim kiosk');
  const recent = db
    .prepare('SELECT payload FROM events WHERE kiosk_id = ? ORDER BY seq DESC LIMIT 2000')
    .all(kiosk.id) as { payload: string }[];
  const byResident = new Map<string, Record<string, unknown>>();
  for (const r of recent) {
    const e = JSON.parse(r.payload) as Record<string, unknown>;
    if (!byResident.has(String(e.residentRef))) byResident.set(String(e.residentRef), e);
  }
  const swimmers = [...byResident.values()].slice(0, 30);
  let seq = (
    db.prepare('SELECT MAX(seq) AS s FROM events WHERE kiosk_id = ?').get(kiosk.id) as {
      s: number;
    }
  ).s;
  const events: unknown[] = [];
  ['2025-10-14', '2025-11-11', '2025-12-09'].forEach((day, round) => {
    swimmers.forEach((e, i) => {
      const minute = String(i % 60).padStart(2, '0');
      const auth = e.auth as { counter: number | null };
      events.push({
        ...e,
        id: newEventId(),
        seq: ++seq,
        occurredAt: `${day}T18:${minute}:00.000Z`,
        // Each tap reads a fresh card counter, as a real card's would.
        auth: { ...auth, counter: auth.counter === null ? null : auth.counter + 1000 + round },
      });
    });
  });
  const result = ingestBatch(store, row, events, Date.parse('2026-01-02T09:00:00Z'), {
    engine: new SqliteEngineState(db),
  });
  return result.results.filter((r) => r.status === 'accepted').length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clubcard-dashboard-'));
  const config = loadBackendConfig({ overrides: { dataDir: dir, port: 0, logLevel: 'silent' } });
  const { store, secrets } = openBackend(config, dbFileOf(config));
  try {
    generateCounty(store.db, { residents: 4000, seed: 42, cardHashKey: secrets.cardHashKey });
    publishSchemes(store, SCHEMES, Date.parse('2025-09-30T12:00:00Z'));
    expect(earnCredits(store)).toBe(90);
    const analytics = new Analytics(store.db);
    analytics.rebuildRollups();
    await analytics.rebuildFeatures();
    analytics.segment();
    const { operators } = backendServices(store, secrets);
    await operators.add({ ...ANALYST, role: 'analyst' });
    await operators.add({ ...DISABLED, role: 'analyst' });
  } finally {
    store.close();
  }
  backend = await startBackend(config);
  browser = await launchChromium();
  // An analyst's offer to the largest behavioural segment, so the offers panel has one.
  const login = await fetch(`${backend.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ANALYST),
  });
  analystCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const offer = await post('/api/v1/offers', {
    title: { en: 'A free swim, with a friend', cy: 'Nofio am ddim, gyda ffrind' },
    segmentId: 'cluster:0',
    serviceId: 's-swim',
    startsOn: '2025-06-01',
    endsOn: '2025-12-31',
  });
  expect(offer.status, await offer.clone().text()).toBe(201);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openDashboard(): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Refusals the test provokes (401 before sign-in, 400 for a bad range) are logged by
    // the browser as failed loads; anything else is a fault in the page.
    if (m.type() === 'error' && !/status of 40[01]/.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${backend.url}/dashboard`);
  (page as unknown as { errors: string[] }).errors = errors;
  return { page, context };
}

async function signIn(page: Page, who: { name: string; password: string }): Promise<void> {
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const PANEL_IDS = [
  'heatmap',
  'trend',
  'take-up',
  'segments',
  'segment-profiles',
  'neighbourhoods',
  'ward-targets',
  'schemes',
  'kiosks',
  'offers',
];

/** Waits until every panel has loaded (for the query each one is expected to send). */
async function panelsReady(page: Page): Promise<void> {
  await page.waitForFunction(
    (ids) => ids.every((id) => document.getElementById(`panel-${id}`)?.dataset.state === 'ready'),
    PANEL_IDS,
    { timeout: 60_000 },
  );
}

/** Signs the analyst in through the page; the API calls of the test then use the page's session. */
async function openAsAnalyst(): Promise<{ page: Page; context: BrowserContext }> {
  const { page, context } = await openDashboard();
  await signIn(page, ANALYST);
  await page.locator('#who', { hasText: ANALYST.name }).waitFor();
  await panelsReady(page);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'clubcard_session');
  expect(session?.httpOnly).toBe(true);
  analystCookie = `clubcard_session=${session?.value}`;
  return { page, context };
}

interface Plotted {
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
}

async function plotted(page: Page, panel: string): Promise<Plotted> {
  const raw = await page.locator(`#${panel}-chart`).getAttribute('data-plotted');
  expect(raw, `${panel} chart drawn`).not.toBeNull();
  return JSON.parse(raw ?? '{}') as Plotted;
}

async function queryOf(page: Page, panel: string): Promise<string> {
  return (await page.locator(`#panel-${panel}`).getAttribute('data-query')) ?? '';
}

const pct = (r: number | null): number | null => (r === null ? null : Math.round(r * 1000) / 10);

/** Every chart against the API's answer for the query the panel sent. */
async function expectChartsMatchApi(page: Page): Promise<void> {
  const q = async (panel: string): Promise<string> => {
    const s = await queryOf(page, panel);
    return s ? `?${s}` : '';
  };

  const heat = await answer<{ cells: { visits: number | null }[] }>(
    `/api/v1/analytics/heatmap${await q('heatmap')}`,
  );
  const grid = JSON.parse(
    (await page.locator('#heatmap-grid').getAttribute('data-plotted')) ?? '{}',
  ) as { values: (number | null)[][] };
  expect(grid.values.flat()).toEqual(heat.cells.map((c) => c.visits));

  const trend = await answer<{ points: { weekStart: string; visits: number | null }[] }>(
    `/api/v1/analytics/trend${await q('trend')}`,
  );
  expect(await plotted(page, 'trend')).toEqual({
    labels: trend.points.map((p) => p.weekStart),
    datasets: [{ label: 'Visits', data: trend.points.map((p) => p.visits) }],
  });

  const take = await answer<{
    cells: { ageBand: string; ward: string; rate: number | null }[];
  }>(`/api/v1/analytics/take-up${await q('take-up')}`);
  const tp = await plotted(page, 'take-up');
  expect(tp.labels).toEqual([...new Set(take.cells.map((c) => c.ward))]);
  for (const d of tp.datasets) {
    expect(d.data).toEqual(
      tp.labels.map((w) => {
        const cell = take.cells.find((c) => c.ward === w && c.ageBand === d.label);
        return cell ? pct(cell.rate) : null;
      }),
    );
  }

  const seg = await answer<{
    rfm: { segment: string; residents: number | null }[];
    behavioural: { segment: number; residents: number | null }[];
  }>(`/api/v1/analytics/segments${await q('segments')}`);
  const sp = await plotted(page, 'segments');
  expect(sp.labels).toEqual([
    ...seg.rfm.map((s) => `RFM: ${s.segment}`),
    ...seg.behavioural.map((s) => `Behavioural: Segment ${s.segment + 1}`),
  ]);
  expect(sp.datasets[0]?.data).toEqual([
    ...seg.rfm.map((s) => s.residents),
    ...seg.behavioural.map((s) => s.residents),
  ]);

  const prof = await answer<{
    segments: { segment: number; ageBands: { ageBand: string; residents: number | null }[] }[];
  }>(`/api/v1/analytics/segment-profiles${await q('segment-profiles')}`);
  const pp = await plotted(page, 'segment-profiles');
  expect(pp.labels).toEqual(prof.segments.map((s) => `Segment ${s.segment + 1}`));
  expect(pp.datasets.map((d) => d.data)).toEqual(
    (prof.segments[0]?.ageBands ?? []).map((_, a) =>
      prof.segments.map((s) => s.ageBands[a]?.residents ?? null),
    ),
  );

  const hoods = await answer<{ rows: { ward: string; visits: number | null }[] }>(
    `/api/v1/analytics/neighbourhoods${await q('neighbourhoods')}`,
  );
  const wards = [...new Set(hoods.rows.map((r) => r.ward))];
  expect(await plotted(page, 'neighbourhoods')).toEqual({
    labels: wards,
    datasets: [
      { label: 'Visits', data: wards.map((w) => hoods.rows.find((r) => r.ward === w)?.visits) },
    ],
  });

  const offers = await answer<{
    offers: { title: string; targeted: number | null; tookUp: number | null }[];
  }>('/api/v1/offers');
  expect(await plotted(page, 'offers')).toEqual({
    labels: offers.offers.map((o) => o.title),
    datasets: [
      { label: 'Targeted', data: offers.offers.map((o) => o.targeted) },
      { label: 'Took up', data: offers.offers.map((o) => o.tookUp) },
    ],
  });

  const schemes = await answer<{
    rows: {
      schemeId: string;
      wallet: string;
      month: string;
      granted: number | null;
      redeemed: number | null;
    }[];
  }>(`/api/v1/analytics/schemes${await q('schemes')}`);
  const sc = await plotted(page, 'schemes');
  const months = [...new Set(schemes.rows.map((r) => r.month))].sort();
  expect(sc.labels).toEqual(months);
  for (const d of sc.datasets) {
    const [scheme, , measure] = d.label.split(' ');
    expect(d.data).toEqual(
      months.map((m) => {
        const r = schemes.rows.find((x) => x.schemeId === scheme && x.month === m);
        return r ? (measure === 'granted' ? r.granted : r.redeemed) : null;
      }),
    );
  }
}

describe('council dashboard', () => {
  it('refuses anyone who is not signed in: login page, and 401 from every table', async () => {
    const { page, context } = await openDashboard();
    await page.locator('#login-title').waitFor();
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    expect(await page.locator('#panels').innerHTML()).toBe('');
    for (const path of ['heatmap', 'take-up', 'segments', 'schemes', 'kiosks', 'options']) {
      const res = await api(`/api/v1/analytics/${path}`, '');
      expect(res.status, path).toBe(401);
      const csv = await api(`/api/v1/analytics/${path}.csv`, '');
      expect(csv.status, `${path}.csv`).toBe(401);
    }
    // The page's own requests are refused the same way.
    const status = await page.evaluate(async () => (await fetch('/api/v1/analytics/trend')).status);
    expect(status).toBe(401);
    await page.screenshot({ path: artifactPath('dashboard-login.png'), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  it('refuses a disabled operator, at the login form and with a token issued before', async () => {
    // A session obtained while still enabled…
    const login = await fetch(`${backend.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(DISABLED),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await api('/api/v1/analytics/trend', cookie)).status).toBe(200);
    // …is worthless once the council disables the account (no analyst role any more).
    const { store } = openBackend(
      loadBackendConfig({ overrides: { dataDir: dir, port: 0, logLevel: 'silent' } }),
      join(dir, 'backend.sqlite'),
    );
    store.db.prepare('UPDATE operators SET disabled = 1 WHERE name = ?').run(DISABLED.name);
    store.close();
    expect((await api('/api/v1/analytics/trend', cookie)).status).toBe(401);
    expect((await api('/api/v1/analytics/trend.csv', cookie)).status).toBe(401);

    const { page, context } = await openDashboard();
    await signIn(page, DISABLED);
    await page.locator('#login-error', { hasText: 'Could not sign in' }).waitFor();
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    await context.close();
  });

  it('shows an analyst charts that plot what the API answers, before and after filtering, and exports CSV', async () => {
    const { page, context } = await openAsAnalyst();
    await expectChartsMatchApi(page);
    // The county's year shows real figures, not only withheld cells.
    const trend = await plotted(page, 'trend');
    expect(trend.datasets[0]?.data.filter((v) => v !== null && v > 0).length).toBeGreaterThan(40);
    const schemes = await plotted(page, 'schemes');
    expect(schemes.labels).toEqual(['2025-10', '2025-11', '2025-12']);
    expect(
      schemes.datasets.find((d) => d.label === 'leisure-credit (leisure-credit) granted')?.data,
    ).toEqual([750, 750, 750]);
    const hoods = await answer<{ rows: { earned: number; targetsMet: number }[] }>(
      '/api/v1/analytics/neighbourhoods',
    );
    expect(hoods.rows.reduce((s, r) => s + r.targetsMet, 0)).toBe(3);
    expect(hoods.rows.reduce((s, r) => s + r.earned, 0)).toBe(150_000);
    expect(await page.locator('#ward-targets-table').innerText()).toContain('busy-pools');
    expect(await page.locator('#kiosks-table tbody tr').count()).toBeGreaterThan(5);
    expect(await page.locator('#offers-table').innerText()).toContain('A free swim, with a friend');
    expect((await plotted(page, 'offers')).datasets[0]?.data[0]).toBeGreaterThanOrEqual(10);
    // Every chart carries a text alternative and sits beside its table.
    for (const id of [
      'trend',
      'take-up',
      'segments',
      'segment-profiles',
      'neighbourhoods',
      'schemes',
    ]) {
      const label = (await page.locator(`#${id}-chart`).getAttribute('aria-label')) ?? '';
      expect(label, id).toMatch(/chart: .*table beside the chart/);
      expect(await page.locator(`#${id}-table table`).count(), id).toBe(1);
    }
    await page.screenshot({ path: artifactPath('dashboard-all.png'), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // Filter by keyboard: a ward and an age band, then a date range.
    const ward = (await answer<{ wards: string[] }>('/api/v1/analytics/options')).wards[1] ?? '';
    await page.locator('#f-ward').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#f-ward').inputValue()).toBe(ward);
    await page.locator('#f-ageBand').selectOption('65-74');
    await page.locator('#f-from').fill('2025-03-01');
    await page.locator('#f-to').fill('2025-09-30');
    await page.locator('#f-to').press('Enter');
    await page.waitForFunction(
      () => document.getElementById('panel-trend')?.dataset.query?.includes('ward=') ?? false,
    );
    await panelsReady(page);
    expect(await queryOf(page, 'trend')).toBe(
      `from=2025-03-01&to=2025-09-30&ageBand=65-74&ward=${ward}`,
    );
    expect(await queryOf(page, 'segments')).toBe(`ageBand=65-74&ward=${ward}`);
    await expectChartsMatchApi(page);
    const filtered = await plotted(page, 'trend');
    expect(filtered.labels[0]).toBe('2025-02-24');
    expect(filtered.datasets[0]?.data).not.toEqual(trend.datasets[0]?.data.slice(0, 31));
    await page.screenshot({ path: artifactPath('dashboard-filtered.png'), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // CSV export of the filtered take-up table: same rows as the API, withheld cells marked.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV of take-up by age band and ward' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^clubcard-take-up-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.endsWith('\r\n')).toBe(true);
    const take = await answer(`/api/v1/analytics/take-up?${await queryOf(page, 'take-up')}`);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...take.table.columns.map((c) => c.key), 'suppressed']);
    expect(rows.slice(1)).toEqual(
      take.table.rows.map((r) => {
        const hidden = take.table.columns
          .filter((c, i) => (c as { suppressible?: boolean }).suppressible && r[i] === null)
          .map((c) => c.key);
        return [...r.map((v) => (v === null ? '' : String(v))), hidden.join(';')];
      }),
    );
    expect(rows.length).toBeGreaterThan(1);

    // A range that ends before it starts is refused, and the page says why.
    await page.locator('#f-from').fill('2025-10-01');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page
      .locator('#filters-error', { hasText: 'from must not be after to' })
      .waitFor({ timeout: 30_000 });
    expect(await page.locator('#panel-trend').getAttribute('data-state')).toBe('error');

    // An unknown filter value is refused with a clear message, and nothing is answered.
    const bad = await api('/api/v1/analytics/heatmap?ward=atlantis');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'unknown ward "atlantis"',
    );
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);

    // Signing out leaves the page with the login form and the session refused.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login-title').waitFor();
    expect((await api('/api/v1/analytics/trend')).status).toBe(401);
    await context.close();
  });
});

describe('targeted offers on the dashboard', () => {
  const listed = async (): Promise<OfferSummary[]> =>
    (await answer<{ offers: OfferSummary[] }>('/api/v1/offers')).offers;

  /** The offers table's rows as text, cell by cell. */
  const tableRows = (page: Page): Promise<string[][]> =>
    page
      .locator('#offers-table tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => Array.from(r.children).map((c) => (c as HTMLElement).innerText.trim())),
      );

  /** What the API says about the same body the form sent, and that it refused it. */
  async function apiRefusal(body: unknown): Promise<{
    message: string;
    issues: { path: string; message: string }[];
  }> {
    const res = await post('/api/v1/offers', body);
    expect(res.status).toBe(400);
    const e = (
      (await res.json()) as {
        error: { message: string; details?: { issues?: { path: string; message: string }[] } };
      }
    ).error;
    return { message: e.message, issues: e.details?.issues ?? [] };
  }

  /** A screenshot of the offers table and the offer form, from the top of one to the end of the other. */
  async function shootOffers(page: Page, name: string): Promise<void> {
    const clip = await page.evaluate(() => {
      const top = document.getElementById('panel-offers')?.getBoundingClientRect();
      const end = document.getElementById('offer-maker')?.getBoundingClientRect();
      const y = (top?.top ?? 0) + window.scrollY - 8;
      return {
        x: 0,
        y,
        width: document.documentElement.clientWidth,
        height: (end?.bottom ?? 0) + window.scrollY + 8 - y,
      };
    });
    await page.screenshot({ path: artifactPath(name), fullPage: true, clip });
  }

  async function fillForm(
    page: Page,
    f: { segmentId: string; en: string; cy: string; startsOn: string; endsOn: string },
  ): Promise<void> {
    await page.getByLabel('Segment', { exact: true }).selectOption(f.segmentId);
    await page.getByLabel('Title (English)').fill(f.en);
    await page.getByLabel('Title (Welsh)').fill(f.cy);
    await page.getByLabel('Starts on').fill(f.startsOn);
    await page.getByLabel('Ends on (optional)').fill(f.endsOn);
  }

  it('an analyst makes an offer through the form, sees it in the table and retires it', async () => {
    const { page, context } = await openAsAnalyst();
    const before = await listed();

    // The form opens from its button by keyboard, focus on its first field.
    await page.locator('#offer-new').focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('#offer-new').getAttribute('aria-expanded')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('o-segment');

    // The picker lists what the offers API offers, with the sizes the segment table gives.
    const { segments } = await answer<{
      segments: { segmentId: string; label: string; targetable: boolean }[];
    }>('/api/v1/offers/segments');
    const sizes = await answer<{ k: number; rfm: { segment: string; residents: number | null }[] }>(
      '/api/v1/analytics/segments',
    );
    await page.waitForFunction(
      (n) => (document.getElementById('o-segment') as HTMLSelectElement).options.length === n + 1,
      segments.length,
    );
    const options = await page
      .locator('#o-segment option')
      .evaluateAll((os) =>
        os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })),
      );
    expect(options.slice(1).map((o) => o.value)).toEqual(segments.map((s) => s.segmentId));
    const small = segments.find((s) => !s.targetable);
    expect(small, 'the county has a segment too small to target').toBeDefined();
    const target = segments.find(
      (s) =>
        s.targetable &&
        s.segmentId.startsWith('rfm:') &&
        typeof sizes.rfm.find((r) => r.segment === s.label)?.residents === 'number',
    );
    expect(target).toBeDefined();
    const size = sizes.rfm.find((r) => r.segment === target?.label)?.residents ?? 0;
    expect(options.find((o) => o.value === target?.segmentId)?.text).toBe(
      `RFM: ${target?.label} (${size.toLocaleString('en-GB')} residents)`,
    );
    expect(options.find((o) => o.value === small?.segmentId)?.text).toContain(
      `fewer than ${sizes.k} residents, too few to target`,
    );
    await shootOffers(page, 'dashboard-offer-form.png');
    expect(await axeViolations(page)).toEqual([]);

    const good = {
      segmentId: target?.segmentId ?? '',
      en: 'Borrow two more books this winter',
      cy: 'Benthyg dau lyfr arall y gaeaf hwn',
      startsOn: '2026-01-05',
      endsOn: '2026-03-31',
    };
    const bodyOf = (f: typeof good) => ({
      title: { en: f.en, cy: f.cy },
      segmentId: f.segmentId,
      startsOn: f.startsOn,
      endsOn: f.endsOn,
    });

    // Nothing filled in: each field says what is missing, in the API's words where it has them.
    await page.getByRole('button', { name: 'Make offer' }).click();
    await page.locator('#o-title-en-error').waitFor();
    const empty = await apiRefusal({ title: { en: '', cy: '' }, segmentId: '', startsOn: '' });
    const says = (path: string) => empty.issues.find((i) => i.path === path)?.message;
    expect(await page.locator('#o-title-en-error').innerText()).toBe(says('title.en'));
    expect(await page.locator('#o-title-cy-error').innerText()).toBe(says('title.cy'));
    expect(await page.locator('#o-starts-error').innerText()).toBe(says('startsOn'));
    expect(await page.locator('#o-segment-error').innerText()).toBe('choose a segment');
    expect(await page.locator('#o-ends-error').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('o-segment');

    // Ending before it starts: refused on the page with the API's own words, nothing made.
    const backwards = { ...good, endsOn: '2026-01-04' };
    await fillForm(page, backwards);
    await page.getByRole('button', { name: 'Make offer' }).click();
    const endsError = page.locator('#o-ends-error');
    await endsError.waitFor();
    const api1 = await apiRefusal(bodyOf(backwards));
    expect(api1.issues).toEqual([{ path: 'endsOn', message: await endsError.innerText() }]);
    expect(await page.locator('#o-ends').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('o-ends');
    expect(await page.locator('#offer-form-error').innerText()).toContain('The offer was not made');

    // A segment smaller than k: the API refuses it, and the page says why beside the picker.
    const tooSmall = { ...good, segmentId: small?.segmentId ?? '' };
    await fillForm(page, tooSmall);
    await page.getByRole('button', { name: 'Make offer' }).click();
    const segmentError = page.locator('#o-segment-error');
    await segmentError.waitFor();
    const api2 = await apiRefusal(bodyOf(tooSmall));
    expect(api2.message).toMatch(new RegExp(`fewer than ${sizes.k} residents`));
    expect(await segmentError.innerText()).toBe(api2.message);
    expect(await endsError.isHidden()).toBe(true);
    expect(await page.locator('#o-ends').getAttribute('aria-invalid')).toBeNull();
    expect(await page.locator('#o-segment').getAttribute('aria-invalid')).toBe('true');
    await shootOffers(page, 'dashboard-offer-refused.png');
    expect(await axeViolations(page)).toEqual([]);
    expect((await listed()).map((o) => o.id)).toEqual(before.map((o) => o.id));

    // A detail in English only: the Welsh one is asked for, as the API would.
    await fillForm(page, good);
    await page.getByLabel('Detail (English)').fill('Ask at the desk for the winter reading list');
    await page.getByRole('button', { name: 'Make offer' }).click();
    await page.locator('#o-detail-cy-error').waitFor();
    const api3 = await apiRefusal({
      ...bodyOf(good),
      detail: { en: 'Ask at the desk for the winter reading list', cy: '' },
    });
    expect(api3.issues).toEqual([
      { path: 'detail.cy', message: await page.locator('#o-detail-cy-error').innerText() },
    ]);
    expect(await page.locator('#o-segment-error').isHidden()).toBe(true);
    expect((await listed()).map((o) => o.id)).toEqual(before.map((o) => o.id));

    // A good offer, with a detail and a service: made, and shown at once.
    await page.getByLabel('Detail (Welsh)').fill('Gofynnwch wrth y ddesg am y rhestr ddarllen');
    await page.getByLabel('Target service (optional)').selectOption('s-library');
    await page.getByLabel('Title (Welsh)').press('Enter');
    await page.locator('#offer-status', { hasText: 'made for' }).waitFor();
    expect(await page.locator('#offer-form').isHidden()).toBe(true);
    const after = await listed();
    const made = after.filter((o) => !before.some((b) => b.id === o.id));
    expect(made).toHaveLength(1);
    const offer = made[0] as OfferSummary;
    expect(offer).toMatchObject({
      title: good.en,
      segmentId: good.segmentId,
      segmentLabel: target?.label,
      service: 's-library',
      startsOn: good.startsOn,
      endsOn: good.endsOn,
      status: 'active',
      targeted: size,
    });
    // The Welsh title and the detail are kept as typed (kiosks are sent them).
    const { store } = openBackend(
      loadBackendConfig({ overrides: { dataDir: dir, port: 0, logLevel: 'silent' } }),
      join(dir, 'backend.sqlite'),
    );
    const stored = store.db
      .prepare('SELECT title_cy, detail_en, detail_cy, created_by FROM offers WHERE id = ?')
      .get(offer.id);
    store.close();
    expect(stored).toEqual({
      title_cy: good.cy,
      detail_en: 'Ask at the desk for the winter reading list',
      detail_cy: 'Gofynnwch wrth y ddesg am y rhestr ddarllen',
      created_by: ANALYST.name,
    });
    await page.waitForFunction(
      (title) => document.getElementById('offers-table')?.textContent?.includes(title) ?? false,
      good.en,
    );
    const row = (await tableRows(page)).find((r) => r[0] === good.en);
    expect(row?.slice(1, 6)).toEqual([
      target?.label,
      's-library',
      good.startsOn,
      good.endsOn,
      'active',
    ]);
    expect(row?.[6]).toBe(size.toLocaleString('en-GB'));
    const chart = await plotted(page, 'offers');
    expect(chart.labels).toEqual(after.map((o) => o.title));
    expect(chart.datasets[0]?.data).toEqual(after.map((o) => o.targeted));

    // Retiring asks first; keeping the offer changes nothing.
    const retire = page.getByRole('button', { name: `Retire offer “${good.en}”` });
    await retire.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Retire this offer?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain(good.en);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('retire-cancel');
    await page.screenshot({ path: artifactPath('dashboard-offer-retire.png') });
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await listed()).find((o) => o.id === offer.id)?.status).toBe('active');

    await retire.click();
    await dialog.getByRole('button', { name: 'Retire offer' }).click();
    await page.locator('#offer-status', { hasText: 'is retired' }).waitFor();
    expect((await listed()).find((o) => o.id === offer.id)?.status).toBe('retired');
    await page.waitForFunction(
      (title) =>
        Array.from(document.querySelectorAll('#offers-table tbody tr')).some(
          (r) => r.firstElementChild?.textContent === title && r.textContent?.includes('retired'),
        ),
      good.en,
    );
    expect((await tableRows(page)).find((r) => r[0] === good.en)?.[5]).toBe('retired');
    expect(await retire.count()).toBe(0);
    // The other offers keep their Retire buttons.
    expect(await page.getByRole('button', { name: /^Retire offer/ }).count()).toBe(
      after.filter((o) => o.status === 'active' && o.id !== offer.id).length,
    );
    await shootOffers(page, 'dashboard-offer-retired.png');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await context.close();
  });
});
