import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
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
import type { SyncState } from '@clubcard/terminal/bridge/kiosk-bridge';
import { freePort } from '../support/proxy.js';
import { kill, startApp } from '../support/processes.js';

const EVENTS = Number(process.env.OFFLINE_EVENTS ?? 100_000);
const RESIDENTS = 1000;
const dir = mkdtempSync(join(tmpdir(), 'clubcard-week-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function uidOf(i: number): string {
  return `05${i.toString(16).toUpperCase().padStart(12, '0')}`;
}

describe('a week offline', () => {
  it(`syncs ${EVENTS} recorded events completely once the backend is back, with progress, while still answering taps`, async () => {
    const port = await freePort();
    const dbFile = join(dir, 'backend.sqlite');
    const { store, secrets } = openBackend(
      loadBackendConfig({ overrides: { dataDir: dir } }),
      dbFile,
    );
    const admin = new AdminService(store, secrets);
    const demo = loadDemoData(admin);
    for (let i = 0; i < RESIDENTS; i++) {
      const ref = admin.addResident({ firstName: null, ageBand: '30-44', ward: 'riverside' });
      admin.issueCard({ residentRef: ref, uid: uidOf(i), technology: 'simulated' });
    }
    store.close();
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
          demo: { tapToken: 'week-token-0123456789', cards: [] },
        },
      }),
    );
    await kiosk.sync.stop(); // drive sync by hand in this test
    await kiosk.sync.syncOnce();
    const reader = kiosk.reader as SimulatedReader;

    // Friday night: the network goes. A week of taps is recorded on the kiosk.
    await kill(backend, 'SIGKILL');
    const t0 = performance.now();
    kiosk.store.db.transaction(() => {
      for (let i = 0; i < EVENTS; i++) reader.tap(uidOf(i % RESIDENTS));
    })();
    const recordS = (performance.now() - t0) / 1000;
    expect(kiosk.store.stats().backlog).toBe(EVENTS);
    await expect(kiosk.sync.syncOnce()).rejects.toMatchObject({ code: 'backend-unreachable' });

    // Tuesday: it comes back. The backlog drains with progress while residents keep tapping.
    backend = await startApp('backend', env);
    const progress: NonNullable<SyncState['progress']>[] = [];
    kiosk.sync.on('state', (s) => {
      if (s.progress) progress.push(s.progress);
    });
    const tapLatencies: number[] = [];
    const inFlight: Promise<void>[] = [];
    const tapper = setInterval(() => {
      const t = performance.now();
      const answered = kiosk.core
        .tap({
          readerName: 'Simulated reader',
          technology: 'simulated',
          identifier: uidOf(7),
          proof: { kind: 'none' },
          detectedAt: t,
          apduMs: 0,
        })
        .then((outcome) => {
          if (outcome.kind === 'recorded') tapLatencies.push(performance.now() - t);
        });
      inFlight.push(answered);
    }, 25);
    const s0 = performance.now();
    await kiosk.sync.syncOnce();
    clearInterval(tapper);
    await Promise.all(inFlight);
    const drainProgress = [...progress];
    await kiosk.sync.syncOnce(); // send the taps made during the drain
    const drainS = (performance.now() - s0) / 1000;

    expect(kiosk.store.stats().backlog).toBe(0);
    const total = EVENTS + tapLatencies.length;
    const bdb = new Database(dbFile, { readonly: true });
    const n = (bdb.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const ack = (
      bdb.prepare('SELECT ack_seq FROM kiosks WHERE id = ?').get(demo.kiosks[0]!.kioskId) as {
        ack_seq: number;
      }
    ).ack_seq;
    bdb.close();
    expect(n).toBe(total);
    expect(ack).toBe(total);
    expect(drainProgress.length).toBeGreaterThan(10);
    expect(drainProgress.every((p, i) => i === 0 || p.done >= drainProgress[i - 1]!.done)).toBe(
      true,
    );
    expect(drainProgress[0]!.total).toBeGreaterThanOrEqual(EVENTS);
    expect(tapLatencies.length).toBeGreaterThan(5);
    const worst = Math.max(...tapLatencies);
    const sorted = [...tapLatencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `offline week: ${JSON.stringify({ events: EVENTS, recordS: +recordS.toFixed(1), drainS: +drainS.toFixed(1), tapsDuringDrain: tapLatencies.length, worstTapMs: +worst.toFixed(1), medianTapMs: +median.toFixed(1) })}`,
    );
    // Taps are answered throughout the drain: quickly as a rule, never stuck behind it.
    expect(median).toBeLessThan(100);
    expect(worst).toBeLessThan(2000);
    await kiosk.close();
    await kill(backend, 'SIGTERM');
  }, 600_000);
});
