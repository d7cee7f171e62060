import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminService } from '@clubcard/backend/admin/admin-service';
import { openBackend } from '@clubcard/backend/app';
import { loadBackendConfig, type BackendConfig } from '@clubcard/backend/config';
import { loadDemoData, type DemoLoadResult } from '@clubcard/backend/demo/demo-data';
import { startBackend, type RunningBackend } from '@clubcard/backend/main';
import { loadKioskConfig, type KioskConfig } from '@clubcard/terminal/config';
import { startKiosk, type RunningKiosk } from '@clubcard/terminal/main';

export interface TestSystem {
  dir: string;
  backendConfig: BackendConfig;
  demo: DemoLoadResult;
  backend: RunningBackend | null;
  startBackend(port?: number): Promise<RunningBackend>;
  stopBackend(): Promise<void>;
  startKiosk(index?: number, overrides?: Partial<KioskConfig>): Promise<RunningKiosk>;
  /** Runs admin operations on the backend database (also while the backend runs). */
  admin<T>(fn: (admin: AdminService) => T): T;
  cleanup(): Promise<void>;
}

/** A backend with the demo council in a temp folder, and kiosks started in-process. */
export async function createTestSystem(): Promise<TestSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'clubcard-'));
  const backendConfig = loadBackendConfig({
    overrides: { dataDir: dir, port: 0, logLevel: 'silent' },
  });
  const { store, secrets } = openBackend(backendConfig, join(dir, 'backend.sqlite'));
  const demo = loadDemoData(new AdminService(store, secrets));
  store.close();
  const kiosks: RunningKiosk[] = [];
  const sys: TestSystem = {
    dir,
    backendConfig,
    demo,
    backend: null,
    async startBackend(port = 0) {
      sys.backend = await startBackend({ ...backendConfig, port });
      return sys.backend;
    },
    async stopBackend() {
      await sys.backend?.close();
      sys.backend = null;
    },
    async startKiosk(index = 0, overrides = {}) {
      const k = demo.kiosks[index];
      if (!k || !sys.backend) throw new Error('no such demo kiosk, or backend not started');
      const config = loadKioskConfig({
        overrides: {
          dataDir: join(dir, `kiosk-${index}`),
          backendUrl: sys.backend.url,
          provisioningCode: k.code,
          ui: { host: '127.0.0.1', port: 0 },
          reader: 'simulated',
          syncIntervalMs: 3_600_000,
          logLevel: 'silent',
          demo: { tapToken: 'test-token-0123456789', cards: [] },
          ...overrides,
        },
      });
      const running = await startKiosk(config);
      kiosks.push(running);
      return running;
    },
    admin(fn) {
      const { store: s, secrets: sec } = openBackend(backendConfig, join(dir, 'backend.sqlite'));
      try {
        return fn(new AdminService(s, sec));
      } finally {
        s.close();
      }
    },
    async cleanup() {
      for (const k of kiosks) await k.close().catch(() => undefined);
      await sys.stopBackend();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sys;
}
