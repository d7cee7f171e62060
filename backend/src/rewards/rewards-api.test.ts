import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { backendServices, createApp } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { ensureBackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';

let server: Server;
let url: string;
let store: SqliteBackendStore;
const cookies: Record<string, string> = {};

beforeAll(async () => {
  store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const services = backendServices(store, secrets);
  loadDemoData(services.admin);
  for (let i = 0; i < 12; i++) {
    services.admin.addResident({ firstName: null, ageBand: '13-19', ward: 'riverside' });
  }
  for (let i = 0; i < 10; i++) {
    services.admin.addResident({ firstName: null, ageBand: '13-19', ward: 'castle' });
  }
  services.admin.addResident({ firstName: null, ageBand: '13-19', ward: 'northgate' });
  await services.operators.add({ name: 'ana', role: 'analyst', password: 'analyst-password-1' });
  await services.operators.add({ name: 'adm', role: 'admin', password: 'admin-password-123' });
  const app = createApp({
    config: loadBackendConfig({ overrides: { dataDir: '/tmp', logLevel: 'silent' } }),
    store,
    secrets,
    log: pino({ level: 'silent' }),
    now: Date.now,
    ...services,
  });
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  for (const [name, password] of [
    ['ana', 'analyst-password-1'],
    ['adm', 'admin-password-123'],
  ] as const) {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    cookies[name] = res.headers.get('set-cookie')!.split(';')[0]!;
  }
});

afterAll(async () => {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  store.close();
});

async function call(
  who: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', cookie: cookies[who] ?? '' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

const unfair = {
  id: 'gp-penalty',
  version: 1,
  name: 'Penalty for GP visits',
  wallet: 'living-credit',
  validFrom: '2024-01-01T00:00:00Z',
  earning: [
    {
      id: 'gp',
      trigger: { eventType: 'visit', serviceKinds: ['gp-drop-in'] },
      amount: { kind: 'fixed', value: -5 },
    },
  ],
};

describe('reward scheme administration API', () => {
  it('refuses invalid and unfair schemes with every reason, and publishes nothing', async () => {
    const before = (await call('adm', 'GET', '/api/v1/admin/schemes')).body;
    const v = await call('adm', 'POST', '/api/v1/admin/schemes/validate', unfair);
    expect(v.status).toBe(422);
    const problems = v.body.problems as { kind: string; message: string }[];
    expect(problems.map((p) => p.kind)).toEqual(['unfair', 'unfair']);
    expect(problems[0]!.message).toMatch(/^Unfair: earning rule "gp" takes credits away/);

    const p = await call('adm', 'POST', '/api/v1/admin/schemes', unfair);
    expect(p.status).toBe(422);
    expect(p.body.error?.code).toBe('scheme-refused');

    const invalid = await call('adm', 'POST', '/api/v1/admin/schemes', {
      ...unfair,
      id: 'Bad Id',
      earning: [],
    });
    expect(invalid.status).toBe(422);

    // A file of versions is all or nothing: one bad version refuses them all.
    const examples = loadExampleSchemes();
    const mixed = await call('adm', 'POST', '/api/v1/admin/schemes', [examples[0], unfair]);
    expect(mixed.status).toBe(422);
    expect((await call('adm', 'GET', '/api/v1/admin/schemes')).body).toEqual(before);

    expect((await call('ana', 'POST', '/api/v1/admin/schemes', examples[0])).status).toBe(403);
  });

  it('publishes the example schemes, runs the allowances once a month, and simulates a draft with k-anonymised cells', async () => {
    for (const id of new Set(loadExampleSchemes().map((s) => s.id))) {
      const versions = loadExampleSchemes().filter((s) => s.id === id);
      expect((await call('adm', 'POST', '/api/v1/admin/schemes', versions)).status).toBe(201);
    }
    const again = await call('adm', 'POST', '/api/v1/admin/schemes', loadExampleSchemes()[0]);
    expect(again.body.error?.code).toBe('scheme-refused');

    const run = await call('adm', 'POST', '/api/v1/admin/grants/allowances/run', {});
    expect(run.body).toMatchObject({ issued: 24, credited: 24 * 1500 });
    const rerun = await call('adm', 'POST', '/api/v1/admin/grants/allowances/run', {});
    expect(rerun.body).toMatchObject({ issued: 0, alreadyIssued: 24 });

    const draft = {
      ...loadExampleSchemes().find((s) => s.id === 'youth-leisure-credit' && s.version === 2)!,
      version: 3,
    };
    draft.grants = draft.grants.map((g) => (g.kind === 'allowance' ? { ...g, amount: 2000 } : g));
    const sim = await call('ana', 'POST', '/api/v1/admin/schemes/simulate', { scheme: draft });
    expect(sim.status).toBe(200);
    expect(sim.body).toMatchObject({
      schemeId: 'youth-leisure-credit',
      cost: 24 * 2000,
      beneficiaries: 24,
      // northgate (1 teen) is under k; the smallest shown cell (castle, 10) is suppressed
      // with it, so the total minus the riverside cell reveals no cell under k.
      cells: [{ ageBand: '13-19', ward: 'riverside', residents: 13, amount: 26000 }],
      suppressed: { cells: 2, residents: 11, amount: 22000 },
    });

    const bad = await call('ana', 'POST', '/api/v1/admin/schemes/simulate', { scheme: unfair });
    expect(bad.body.error?.code).toBe('scheme-refused');
    const junk = await call('ana', 'POST', '/api/v1/admin/schemes/simulate', { k: 'x' });
    expect(junk.status).toBe(400);
  });
});
