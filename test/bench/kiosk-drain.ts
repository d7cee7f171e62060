/**
 * Part of bench:ingest, run as its own process so that its memory is the kiosk's: a
 * kiosk records a week offline (100,000 taps), then drains the backlog to a backend
 * process. Prints { backlog_s, rss_mb, events } as its last line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminService } from '@clubcard/backend/admin/admin-service';
import { openBackend } from '@clubcard/backend/app';
import { loadBackendConfig } from '@clubcard/backend/config';
import { loadDemoData } from '@clubcard/backend/demo/demo-data';
import type { SimulatedReader } from '@clubcard/hardware';
import { loadKioskConfig } from '@clubcard/terminal/config';
import { startKiosk } from '@clubcard/terminal/main';
import { freePort } from '../support/proxy.js';
import { kill, startApp } from '../support/processes.js';

const EVENTS = Number(process.env.BENCH_BACKLOG ?? 100_000);
const RESIDENTS = 2000;
const dir = mkdtempSync(join(tmpdir(), 'bench-drain-'));
try {
  const dbFile = join(dir, 'backend.sqlite');
  const { store, secrets } = openBackend(
    loadBackendConfig({ overrides: { dataDir: dir } }),
    dbFile,
  );
  const admin = new AdminService(store, secrets);
  const demo = loadDemoData(admin);
  const uid = (i: number): string => `07${i.toString(16).toUpperCase().padStart(12, '0')}`;
  store.transaction(() => {
    for (let i = 0; i < RESIDENTS; i++) {
      const ref = admin.addResident({ firstName: null, ageBand: '20-29', ward: 'castle' });
      admin.issueCard({ residentRef: ref, uid: uid(i), technology: 'simulated' });
    }
  });
  store.close();
  const port = await freePort();
  const env = {
    CLUBCARD_DB_FILE: dbFile,
    CLUBCARD_DATA_DIR: dir,
    CLUBCARD_PORT: String(port),
    CLUBCARD_LOG_LEVEL: 'silent',
  };
  let backend = await startApp('backend', env);
  const kiosk = await startKiosk(
    loadKioskConfig({
      overrides: {
        dataDir: join(dir, 'kiosk'),
        backendUrl: `http://127.0.0.1:${port}`,
        provisioningCode: demo.kiosks[0]!.code,
        ui: { host: '127.0.0.1', port: 0 },
        reader: 'simulated',
        syncIntervalMs: 3_600_000,
        logLevel: 'silent',
        demo: { tapToken: 'drain-token-0123456789', cards: [] },
      },
    }),
  );
  await kiosk.sync.stop();
  await kiosk.sync.syncOnce();
  await kill(backend, 'SIGKILL');
  const reader = kiosk.reader as SimulatedReader;
  kiosk.store.db.transaction(() => {
    for (let i = 0; i < EVENTS; i++) {
      reader.tap(uid(i % RESIDENTS));
      if (i % 5000 === 0) process.stderr.write(`\rrecording offline taps ${i}/${EVENTS}`);
    }
  })();
  process.stderr.write(`\rrecording offline taps ${EVENTS}/${EVENTS}\n`);
  backend = await startApp('backend', env);
  kiosk.sync.on('state', (s) => {
    if (s.progress)
      process.stderr.write(`\rdraining backlog ${s.progress.done}/${s.progress.total}`);
  });
  const t0 = performance.now();
  await kiosk.sync.syncOnce();
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(`\rdraining backlog ${EVENTS}/${EVENTS}\n`);
  if (kiosk.store.stats().backlog !== 0) throw new Error('backlog not drained');
  await kiosk.close();
  await kill(backend, 'SIGTERM');
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({ backlog_s: +s.toFixed(2), rss_mb: Math.round(rssMb), events: EVENTS }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
