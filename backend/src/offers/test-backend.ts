import type { Server } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { pino } from 'pino';
import { generateSigningKeys, privateKeyFromB64 } from '@clubcard/shared';
import { AdminService } from '../admin/admin-service.js';
import { backendServices, createApp } from '../app.js';
import { loadBackendConfig } from '../config.js';
import { openBackendDb } from '../db/open.js';
import { loadDemoData } from '../demo/demo-data.js';
import { ensureBackendSecrets, type BackendSecrets } from '../keys.js';
import { SqliteBackendStore } from '../store/sqlite-store.js';
import { offerCounty, type OfferCounty } from './test-county.js';

export interface TestKiosk {
  kioskId: string;
  venueId: string;
  serviceId: string;
  key: KeyObject;
}

/** A backend over the demo data and the offer county, listening on a free local port. */
export interface CountyBackend {
  store: SqliteBackendStore;
  secrets: BackendSecrets;
  admin: AdminService;
  services: ReturnType<typeof backendServices>;
  county: OfferCounty;
  kiosks: TestKiosk[];
  url: string;
  /** The backend's clock (tests move it). */
  now: { t: number };
  adminToken: string;
  analystToken: string;
  /** A JSON request; a string body is sent as it is. */
  call(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }>;
  close(): Promise<void>;
}

export async function startCountyBackend(): Promise<CountyBackend> {
  const store = new SqliteBackendStore(openBackendDb(':memory:'));
  const secrets = ensureBackendSecrets(store);
  const admin = new AdminService(store, secrets);
  const demo = loadDemoData(admin);
  const kiosks = demo.kiosks.map((k) => {
    const kp = generateSigningKeys();
    store.activateKiosk(k.kioskId, kp.publicKey, Date.now());
    return { ...k, key: privateKeyFromB64(kp.privateKey) };
  });
  const county = offerCounty(store, admin);
  const now = { t: Date.now() };
  const services = backendServices(store, secrets, () => now.t);
  await services.operators.add({ name: 'ana', role: 'analyst', password: 'analyst-password-1' });
  await services.operators.add({ name: 'adm', role: 'admin', password: 'admin-password-123' });
  const app = createApp({
    config: loadBackendConfig({ overrides: { dataDir: '/tmp', logLevel: 'silent' } }),
    store,
    secrets,
    log: pino({ level: 'silent' }),
    now: () => now.t,
    listeners: [county.analytics.listener],
    ...services,
  });
  const server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    store,
    secrets,
    admin,
    services,
    county,
    kiosks,
    url,
    now,
    adminToken: services.operators.apiToken('adm'),
    analystToken: services.operators.apiToken('ana'),
    call: async (method, path, token, body) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as unknown };
    },
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      store.close();
    },
  };
}
