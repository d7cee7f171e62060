import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { backendServices, createApp } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { ensureBackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';
import { parseCsv, tableToCsv } from './table.js';

let server: Server;
let url: string;
let store: SqliteBackendStore;
let cookie = '';

/** Ledger lines for scheme `s-pool`, one resident each, in a UTC month. */
function credit(month: string, residents: number, amount: number, from = 0): void {
  const at = Date.parse(`${month}-15T12:00:00Z`);
  const add = store.db.prepare(
    `INSERT INTO ledger_lines (event_id, idx, scheme_id, scheme_version, rule_id, wallet, from_account, to_account, amount, created_at)
     VALUES (?, 0, 's-pool', 1, 'swim', 'leisure-credit', 'scheme:s-pool', ?, ?, ?)`,
  );
  for (let i = 0; i < residents; i++) {
    add.run(`${month}-${from + i}`, `resident:r-${String(from + i).padStart(4, '0')}`, amount, at);
  }
}

beforeAll(async () => {
  store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const services = backendServices(store, secrets);
  loadDemoData(services.admin);
  await services.operators.add({ name: 'ana', role: 'analyst', password: 'analyst-password-1' });
  // January: 12 residents; February: 3 (too few); March: 15.
  credit('2025-01', 12, 100);
  credit('2025-02', 3, 100, 100);
  credit('2025-03', 15, 100, 200);
  const app = createApp({
    config: loadBackendConfig({ overrides: { dataDir: '/tmp', logLevel: 'silent' } }),
    store,
    secrets,
    log: pino({ level: 'silent' }),
    now: () => Date.parse('2025-04-01T08:00:00Z'),
    ...services,
  });
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ana', password: 'analyst-password-1' }),
  });
  cookie = res.headers.get('set-cookie')?.split(';')[0] ?? '';
});

afterAll(async () => {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  store.close();
});

const get = (path: string, withCookie = true): Promise<Response> =>
  fetch(`${url}${path}`, { headers: withCookie ? { cookie } : {} });

async function refusal(path: string): Promise<string> {
  const res = await get(path);
  expect(res.status, path).toBe(400);
  return ((await res.json()) as { error: { message: string } }).error.message;
}

describe('CSV tables', () => {
  it('quotes fields per RFC 4180 and marks withheld cells in a suppressed column', () => {
    const csv = tableToCsv({
      columns: [
        { key: 'name', label: 'Name' },
        { key: 'visits', label: 'Visits', suppressible: true },
        { key: 'users', label: 'Users', suppressible: true },
      ],
      rows: [
        ['Smith, "the pool"', 40, 12],
        ['line\nbreak', null, null],
      ],
    });
    expect(csv).toBe(
      'name,visits,users,suppressed\r\n"Smith, ""the pool""",40,12,\r\n"line\nbreak",,,visits;users\r\n',
    );
    expect(parseCsv(csv)).toEqual([
      ['name', 'visits', 'users', 'suppressed'],
      ['Smith, "the pool"', '40', '12', ''],
      ['line\nbreak', '', '', 'visits;users'],
    ]);
  });
});

describe('analytics API', () => {
  it('answers analysts only', async () => {
    expect((await get('/api/v1/analytics/trend', false)).status).toBe(401);
    expect((await get('/api/v1/analytics/trend.csv', false)).status).toBe(401);
    expect((await get('/api/v1/analytics/trend')).status).toBe(200);
  });

  it('refuses bad filters with a message naming the filter', async () => {
    expect(await refusal('/api/v1/analytics/heatmap?ward=atlantis')).toBe(
      'unknown ward "atlantis"',
    );
    expect(await refusal('/api/v1/analytics/heatmap?venue=v-nowhere')).toBe(
      'unknown venue "v-nowhere"',
    );
    expect(await refusal('/api/v1/analytics/trend?service=s-darts')).toBe(
      'unknown service "s-darts"',
    );
    expect(await refusal('/api/v1/analytics/take-up?ageBand=40-50')).toMatch(/^ageBand: /);
    expect(await refusal('/api/v1/analytics/trend?from=2025-02-30')).toBe(
      'from: not a calendar date',
    );
    expect(await refusal('/api/v1/analytics/trend?from=2025-03-01&to=2025-02-01')).toBe(
      'from: from must not be after to',
    );
    expect(await refusal('/api/v1/analytics/trend?k=2')).toBe('unknown parameter k');
    expect(await refusal('/api/v1/analytics/segments?venue=v-central-library')).toBe(
      'the venue filter does not apply to segment sizes',
    );
    expect(await refusal('/api/v1/analytics/trend?ward=castle&ward=riverside')).toMatch(/^ward: /);
    expect(await refusal('/api/v1/analytics/heatmap?attribute=carer')).toBe(
      'the volunteered attribute filter does not apply to the usage heatmap',
    );
    expect(await refusal('/api/v1/analytics/take-up?attribute=pirate')).toMatch(/^attribute: /);
    expect((await get('/api/v1/analytics/take-up?attribute=carer')).status).toBe(200);
  });

  it('withholds a scheme month covering fewer than k residents, and enough others to hide it', async () => {
    const a = (await (await get('/api/v1/analytics/schemes')).json()) as {
      rows: { month: string; residents: number | null; granted: number | null }[];
    };
    // February (3 residents) is withheld; January (12) too, or the scheme's total
    // minus the visible months would reveal February. Outstanding totals then stay hidden.
    expect(a.rows).toEqual([
      expect.objectContaining({
        month: '2025-01',
        residents: null,
        granted: null,
        outstanding: null,
      }),
      expect.objectContaining({
        month: '2025-02',
        residents: null,
        granted: null,
        outstanding: null,
      }),
      expect.objectContaining({
        month: '2025-03',
        residents: 15,
        granted: 1500,
        outstanding: null,
      }),
    ]);
    const march = (await (await get('/api/v1/analytics/schemes?from=2025-03-01')).json()) as {
      rows: { month: string }[];
    };
    expect(march.rows.map((r) => r.month)).toEqual(['2025-03']);
  });

  it('exports any table as a CSV download with the same rows', async () => {
    const json = (await (await get('/api/v1/analytics/schemes')).json()) as {
      table: { rows: (string | number | null)[][] };
    };
    for (const path of ['/api/v1/analytics/schemes.csv', '/api/v1/analytics/schemes?format=csv']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toBe(
        'attachment; filename="clubcard-schemes-2025-04-01.csv"',
      );
      const rows = parseCsv(await res.text());
      expect(rows[0]).toEqual([
        'scheme',
        'wallet',
        'unit',
        'month',
        'residents',
        'granted',
        'redeemed',
        'expired',
        'outstanding',
        'suppressed',
      ]);
      expect(rows.slice(1).map((r) => r.slice(0, 9))).toEqual(
        json.table.rows.map((r) => r.map((v) => (v === null ? '' : String(v)))),
      );
      expect(rows[1]?.[9]).toBe('residents;granted;outstanding');
    }
  });

  it('reports kiosk sync health from what the kiosks sent', async () => {
    // The library kiosk pushed seq 1, 2 and 4 (3 is still on the kiosk), 90 s fast.
    const ev = store.db.prepare(
      `INSERT INTO events (id, kiosk_id, seq, type, occurred_at, received_at, status, payload)
       VALUES (?, 'k-library-1', ?, 'visit', ?, ?, 'accepted', '{}')`,
    );
    const rx = Date.parse('2025-03-31T10:00:00Z');
    ev.run('e1', 1, '2025-03-31T09:00:00.000Z', rx);
    ev.run('e2', 2, '2025-03-31T09:10:00.000Z', rx);
    ev.run('e4', 4, '2025-03-31T09:30:00.000Z', rx);
    store.db
      .prepare(
        "UPDATE kiosks SET status = 'active', ack_seq = 2, last_push_at = ?, clock_offset_ms = 90000 WHERE id = 'k-library-1'",
      )
      .run(rx);
    const a = (await (await get('/api/v1/analytics/kiosks')).json()) as {
      rows: Record<string, unknown>[];
    };
    expect(a.rows).toEqual([
      {
        kioskId: 'k-library-1',
        venueId: 'v-central-library',
        serviceId: 's-library',
        status: 'active',
        lastSuccessAt: rx,
        silentForMs: Date.parse('2025-04-01T08:00:00Z') - rx,
        ackSeq: 2,
        highestSeq: 4,
        backlog: 2,
        oldestUnsettledAt: '2025-03-31T09:30:00.000Z',
        lastEventDelayMs: 30 * 60_000,
        clockSkewMs: 90_000,
      },
      expect.objectContaining({ kioskId: 'k-riverside-1', lastSuccessAt: null, backlog: 0 }),
    ]);
  });
});
