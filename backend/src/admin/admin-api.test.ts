import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { backendServices, createApp } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { ensureBackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';

let server: Server;
let url: string;
let store: SqliteBackendStore;

beforeAll(async () => {
  store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const services = backendServices(store, secrets);
  loadDemoData(services.admin);
  await services.operators.add({ name: 'ana', role: 'analyst', password: 'analyst-password-1' });
  await services.operators.add({ name: 'adm', role: 'admin', password: 'admin-password-123' });
  await services.operators.add({ name: 'locky', role: 'admin', password: 'locky-password-123' });
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
});

afterAll(async () => {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  store.close();
});

async function login(
  name: string,
  password: string,
): Promise<{ status: number; cookie: string | null; body: unknown }> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const cookie = res.headers.get('set-cookie');
  return {
    status: res.status,
    cookie: cookie ? cookie.split(';')[0]! : null,
    body: await res.json(),
  };
}

describe('operator sign-in and the admin API', () => {
  it('signs in with an HttpOnly, SameSite=Strict session cookie and refuses a wrong password', async () => {
    const ok = await login('ana', 'analyst-password-1');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ name: 'ana', role: 'analyst' });
    const me = await fetch(`${url}/api/v1/auth/me`, { headers: { cookie: ok.cookie! } });
    expect(await me.json()).toEqual({ name: 'ana', role: 'analyst' });
    const bad = await login('ana', 'wrong-password');
    expect(bad.status).toBe(401);
    expect(bad.cookie).toBeNull();
  });

  it('locks a name after repeated failures', async () => {
    for (let i = 0; i < 5; i++) expect((await login('locky', `nope-${i}`)).status).toBe(401);
    const locked = await login('locky', 'locky-password-123');
    expect(locked.status).toBe(429);
    expect((locked.body as { error: { code: string } }).error.code).toBe('too-many-attempts');
  });

  it('shows kiosk sync health to analysts, but lets only admins create kiosks', async () => {
    const ana = (await login('ana', 'analyst-password-1')).cookie!;
    const adm = (await login('adm', 'admin-password-123')).cookie!;
    const list = await fetch(`${url}/api/v1/admin/kiosks`, { headers: { cookie: ana } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { kioskId: string }[]).map((k) => k.kioskId)).toEqual([
      'k-library-1',
      'k-riverside-1',
    ]);
    const body = JSON.stringify({
      id: 'k-new-1',
      venueId: 'v-central-library',
      serviceId: 's-library',
    });
    const post = (cookie: string): Promise<Response> =>
      fetch(`${url}/api/v1/admin/kiosks`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body,
      });
    const forbidden = await post(ana);
    expect(forbidden.status).toBe(403);
    const created = await post(adm);
    expect(created.status).toBe(201);
    expect((await created.json()) as { code: string }).toMatchObject({ kioskId: 'k-new-1' });
    expect(store.getKiosk('k-new-1')?.status).toBe('pending');
  });

  it('makes a kiosk an enrolment desk and back, for admins only, and lists it', async () => {
    const ana = (await login('ana', 'analyst-password-1')).cookie!;
    const adm = (await login('adm', 'admin-password-123')).cookie!;
    const put = (cookie: string, id: string, body: unknown): Promise<Response> =>
      fetch(`${url}/api/v1/admin/kiosks/${id}/enrolment-desk`, {
        method: 'PUT',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const desks = async (): Promise<Record<string, boolean>> => {
      const list = await fetch(`${url}/api/v1/admin/kiosks`, { headers: { cookie: ana } });
      const rows = (await list.json()) as { kioskId: string; enrolmentDesk: boolean }[];
      return Object.fromEntries(rows.map((k) => [k.kioskId, k.enrolmentDesk]));
    };
    expect((await desks())['k-library-1']).toBe(false);
    expect((await put(ana, 'k-library-1', { enrolmentDesk: true })).status).toBe(403);
    expect((await desks())['k-library-1']).toBe(false);
    const on = await put(adm, 'k-library-1', { enrolmentDesk: true });
    expect(on.status).toBe(200);
    expect(await on.json()).toEqual({ kioskId: 'k-library-1', enrolmentDesk: true });
    expect((await desks())['k-library-1']).toBe(true);
    // Bad bodies and unknown kiosks are refused with a code and change nothing.
    const bad = await put(adm, 'k-library-1', { enrolmentDesk: 'no' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe(
      'validation-failed',
    );
    const unknown = await put(adm, 'k-nowhere-9', { enrolmentDesk: true });
    expect(unknown.status).toBe(404);
    expect((await desks())['k-library-1']).toBe(true);
    expect((await put(adm, 'k-library-1', { enrolmentDesk: false })).status).toBe(200);
    expect((await desks())['k-library-1']).toBe(false);
    // A kiosk created as a desk is one from the start.
    const created = await fetch(`${url}/api/v1/admin/kiosks`, {
      method: 'POST',
      headers: { cookie: adm, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'k-desk-9',
        venueId: 'v-central-library',
        serviceId: 's-library',
        enrolmentDesk: true,
      }),
    });
    expect(created.status).toBe(201);
    expect((await desks())['k-desk-9']).toBe(true);
  });

  it('mounts the staff admin API for admins only', async () => {
    const ana = (await login('ana', 'analyst-password-1')).cookie!;
    const adm = (await login('adm', 'admin-password-123')).cookie!;
    expect((await fetch(`${url}/api/v1/admin/staff`, { headers: { cookie: ana } })).status).toBe(
      403,
    );
    const list = await fetch(`${url}/api/v1/admin/staff`, { headers: { cookie: adm } });
    expect(list.status).toBe(200);
    expect(Array.isArray(await list.json())).toBe(true);
  });

  it('refuses anonymous calls, malformed bodies and forged tokens', async () => {
    expect((await fetch(`${url}/api/v1/admin/kiosks`)).status).toBe(401);
    const forged = await fetch(`${url}/api/v1/admin/kiosks`, {
      headers: { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(forged.status).toBe(401);
    const adm = (await login('adm', 'admin-password-123')).cookie!;
    const bad = await fetch(`${url}/api/v1/admin/kiosks`, {
      method: 'POST',
      headers: { cookie: adm, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'not a kiosk id', venueId: 5 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe(
      'validation-failed',
    );
    const garbage = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(garbage.status).toBe(400);
  });
});
