/**
 * bench:ingest — backend ingestion through the real HTTP push path (signed batches of
 * 500: signature, validation, dedupe, rules, ledger, rollups), against the baseline of
 * the same rows written by plain prepared better-sqlite3 statements into the same
 * schema (each side's time includes writing out the analytics changes it holds in
 * memory; the backend's is its stop). Then the time for a kiosk process to drain a
 * 100,000-event backlog and its peak memory. Last line: one JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  PROTOCOL_VERSION,
  cardHashOf,
  generateSigningKeys,
  newEventId,
  privateKeyFromB64,
  signRequest,
  type KioskEvent,
  type VisitEvent,
} from '@clubcard/shared';
import { AdminService } from '@clubcard/backend/admin/admin-service';
import { openBackend } from '@clubcard/backend/app';
import { loadBackendConfig } from '@clubcard/backend/config';
import { loadDemoData } from '@clubcard/backend/demo/demo-data';
import { Analytics } from '@clubcard/backend/analytics/analytics';
import type { AcceptedVisit } from '@clubcard/backend/sync/ingest';
import { freePort } from '../support/proxy.js';
import { kill, startApp } from '../support/processes.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const RESIDENTS = Number(process.env.BENCH_RESIDENTS ?? 20_000);
const BATCH = 500;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function bar(label: string, done: number, total: number): void {
  const w = 30;
  const f = Math.round((done / total) * w);
  process.stderr.write(`\r${label} [${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
try {
  const dbFile = join(dir, 'backend.sqlite');
  const { store, secrets } = openBackend(
    loadBackendConfig({ overrides: { dataDir: dir } }),
    dbFile,
  );
  const admin = new AdminService(store, secrets);
  const demo = loadDemoData(admin);
  const kiosk = demo.kiosks[0]!;
  const keys = generateSigningKeys();
  store.activateKiosk(kiosk.kioskId, keys.publicKey, Date.now());
  const people: { ref: string; hash: string }[] = [];
  store.transaction(() => {
    for (let i = 0; i < RESIDENTS; i++) {
      const ref = admin.addResident({ firstName: null, ageBand: '30-44', ward: 'riverside' });
      const uid = `06${i.toString(16).toUpperCase().padStart(12, '0')}`;
      people.push({
        ref,
        hash: admin.issueCard({ residentRef: ref, uid, technology: 'simulated' }),
      });
    }
  });
  store.close();
  void cardHashOf;

  const start = Date.parse('2026-11-20T06:00:00Z');
  const events: KioskEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const p = people[(i * 7919) % people.length]!;
    events.push({
      id: newEventId(),
      kioskId: kiosk.kioskId as KioskEvent['kioskId'],
      seq: i + 1,
      occurredAt: new Date(start + i * 5000).toISOString(),
      venueId: kiosk.venueId as KioskEvent['venueId'],
      type: 'visit',
      cardHash: p.hash as KioskEvent['cardHash'],
      residentRef: p.ref as KioskEvent['residentRef'],
      serviceId: kiosk.serviceId as KioskEvent['serviceId'],
      auth: { method: 'simulated', keyVersion: null, counter: null },
      assisted: false,
    });
  }

  // --- the real path: a backend process, signed HTTP pushes of 500 ---
  const port = await freePort();
  const backend = await startApp('backend', {
    CLUBCARD_DB_FILE: dbFile,
    CLUBCARD_DATA_DIR: dir,
    CLUBCARD_PORT: String(port),
    CLUBCARD_LOG_LEVEL: 'silent',
  });
  const key = privateKeyFromB64(keys.privateKey);
  const bodies: string[] = [];
  for (let i = 0; i < EVENTS; i += BATCH) {
    bodies.push(
      JSON.stringify({
        protocol: PROTOCOL_VERSION,
        kioskId: kiosk.kioskId,
        events: events.slice(i, i + BATCH),
      }),
    );
  }
  const t0 = performance.now();
  for (let b = 0; b < bodies.length; b++) {
    const body = bodies[b]!;
    const res = await fetch(`${backend.url}/api/v1/sync/push`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signRequest(key, kiosk.kioskId, 'POST', '/api/v1/sync/push', body),
      },
      body,
    });
    if (!res.ok) throw new Error(`push failed: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    bar('http push', Math.min((b + 1) * BATCH, EVENTS), EVENTS);
  }
  const pushS = (performance.now() - t0) / 1000;
  // The backend holds analytics changes in memory and writes them out in bulk (after
  // 100,000 visits or 20 s, and when it stops): the real path's time includes its stop,
  // which writes out what it still holds (as the baseline's includes its write-out).
  const t2 = performance.now();
  await kill(backend, 'SIGTERM');
  const stopS = (performance.now() - t2) / 1000;
  const httpS = pushS + stopS;

  // --- the baseline: the same rows, plain prepared statements, same schema ---
  const src = new Database(dbFile, { readonly: true });
  const eventRows = src.prepare('SELECT * FROM events ORDER BY rowid').all() as Record<
    string,
    unknown
  >[];
  const lineRows = src.prepare('SELECT * FROM ledger_lines').all() as Record<string, unknown>[];
  const linesByEvent = new Map<string, Record<string, unknown>[]>();
  for (const l of lineRows) {
    const k = String(l.event_id);
    linesByEvent.set(k, [...(linesByEvent.get(k) ?? []), l]);
  }
  src.close();
  const rawFile = join(dir, 'raw.sqlite');
  {
    // Same schema and reference rows (residents, venues, services) as the real database.
    const { store: rs, secrets: rsec } = openBackend(
      loadBackendConfig({ overrides: { dataDir: dir } }),
      rawFile,
    );
    const rAdmin = new AdminService(rs, rsec);
    loadDemoData(rAdmin);
    rs.db.exec(`ATTACH DATABASE '${dbFile}' AS src`);
    rs.db.exec('INSERT OR IGNORE INTO residents SELECT * FROM src.residents');
    rs.db.exec('DETACH DATABASE src');
    rs.close();
  }
  const raw = new Database(rawFile);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const insE = raw.prepare(
    `INSERT INTO events (id, kiosk_id, seq, type, occurred_at, received_at, resident_ref, venue_id, service_id, status, reject_code, payload)
     VALUES (@id, @kiosk_id, @seq, @type, @occurred_at, @received_at, @resident_ref, @venue_id, @service_id, @status, @reject_code, @payload)`,
  );
  const insL = raw.prepare(
    `INSERT INTO ledger_lines (event_id, idx, scheme_id, scheme_version, rule_id, wallet, from_account, to_account, amount, created_at)
     VALUES (@event_id, @idx, @scheme_id, @scheme_version, @rule_id, @wallet, @from_account, @to_account, @amount, @created_at)`,
  );
  // The same rollup updates as the real path: the analytics listener's prepared upserts.
  const analytics = new Analytics(raw);
  const writeBatch = raw.transaction((rows: Record<string, unknown>[]) => {
    const visits: AcceptedVisit[] = [];
    for (const e of rows) {
      insE.run(e);
      for (const l of linesByEvent.get(String(e.id)) ?? []) insL.run(l);
      visits.push({ event: JSON.parse(String(e.payload)) as VisitEvent, serviceKind: 'leisure' });
    }
    analytics.listener.onAccepted(visits, Date.now());
  });
  const t1 = performance.now();
  for (let i = 0; i < eventRows.length; i += BATCH) writeBatch(eventRows.slice(i, i + BATCH));
  // The listener holds rollup changes in memory and writes them out in bulk: the
  // baseline's time includes writing out what it still holds.
  analytics.listener.flush();
  const rawS = (performance.now() - t1) / 1000;
  raw.close();

  const eventsPerS = EVENTS / httpS;
  const rawPerS = eventRows.length / rawS;
  process.stderr.write(
    `http: ${eventsPerS.toFixed(0)} events/s (pushes ${pushS.toFixed(2)} s + stop with the analytics write-out ${stopS.toFixed(2)} s); baseline: ${rawPerS.toFixed(0)} events/s\n`,
  );

  // --- a kiosk process drains a 100k backlog ---
  const drain = await new Promise<{ backlog_s: number; rss_mb: number; events: number }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'test/bench/kiosk-drain.ts')],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => {
        const last = out.trim().split('\n').pop() ?? '';
        if (code !== 0) reject(new Error(`kiosk drain failed (${code}): ${out}`));
        else resolve(JSON.parse(last) as { backlog_s: number; rss_mb: number; events: number });
      });
    },
  );

  console.log(
    JSON.stringify({
      bench: 'ingest',
      events: EVENTS,
      batch: BATCH,
      events_per_s: Math.round(eventsPerS),
      push_s: +pushS.toFixed(3),
      stop_write_out_s: +stopS.toFixed(3),
      raw_events_per_s: Math.round(rawPerS),
      ratio: +(eventsPerS / rawPerS).toFixed(3),
      backlog_events: drain.events,
      backlog_100k_s: drain.backlog_s,
      kiosk_rss_mb: drain.rss_mb,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
