import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadExampleSchemes } from '@clubcard/shared/rules/example-schemes';
import { backendServices, openBackend } from '../app.js';
import { loadBackendConfig, type BackendConfig } from '../config.js';
import { loadDemoData } from '../demo/demo-data.js';
import { startBackend, type RunningBackend } from '../main.js';
import { startAllowanceScheduler } from './allowance-scheduler.js';
import { RewardsService } from './rewards-service.js';

let dir: string | null = null;
let running: RunningBackend | null = null;

afterEach(async () => {
  await running?.close();
  running = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** A demo council with the example schemes published; Asha (13–19) is the one youth. */
function council(): { config: BackendConfig; file: string; asha: string } {
  dir = mkdtempSync(join(tmpdir(), 'clubcard-allowances-'));
  const config = loadBackendConfig({ overrides: { dataDir: dir, port: 0, logLevel: 'silent' } });
  const file = join(dir, 'backend.sqlite');
  const { store, secrets } = openBackend(config, file);
  try {
    const services = backendServices(store, secrets);
    const demo = loadDemoData(services.admin);
    new RewardsService(store, services.engine, secrets.cardHashKey).publish(loadExampleSchemes());
    return { config, file, asha: demo.residents[0]!.residentRef };
  } finally {
    store.close();
  }
}

/** What the scheduler has left in the database (read on its own connection). */
function issued(
  config: BackendConfig,
  file: string,
  asha: string,
): { runs: { period: string; resident_ref: string }[]; councilEvents: number; leisure: number } {
  const { store } = openBackend(config, file);
  try {
    const runs = store.db
      .prepare('SELECT period, resident_ref FROM allowance_runs ORDER BY period, resident_ref')
      .all() as { period: string; resident_ref: string }[];
    const councilEvents = (
      store.db
        .prepare(
          "SELECT COUNT(*) AS n FROM events WHERE kiosk_id = 'k-council' AND type = 'allowance'",
        )
        .get() as { n: number }
    ).n;
    const leisure =
      store.balancesOf(`resident:${asha}`).find((b) => b.wallet === 'leisure-credit')?.amount ?? 0;
    return { runs, councilEvents, leisure };
  } finally {
    store.close();
  }
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting for the scheduler');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('scheduled allowances in the running backend', () => {
  it('issues each due allowance once per resident and period, across ticks and restarts, by the injected clock', async () => {
    const { config, file, asha } = council();
    let clock = Date.parse('2026-03-10T12:00:00Z');
    const allowances = { now: () => clock, intervalMs: 25, firstRunMs: 0 };

    running = await startBackend(config, { allowances });
    await until(() => issued(config, file, asha).runs.length === 1);
    await sleep(150); // several more ticks in the same month
    expect(issued(config, file, asha)).toEqual({
      runs: [{ period: 'm24314', resident_ref: asha }],
      councilEvents: 1,
      leisure: 1500,
    });

    // A restart in the same month issues nothing again.
    await running.close();
    running = await startBackend(config, { allowances });
    await sleep(200);
    expect(issued(config, file, asha).councilEvents).toBe(1);
    // A run by hand (CLI, admin API) at the same moment finds nothing due either.
    const { store, secrets } = openBackend(config, file);
    try {
      const byHand = new RewardsService(
        store,
        backendServices(store, secrets).engine,
        secrets.cardHashKey,
        () => clock,
      ).grants.runAllowances();
      // Asha was issued; the six other demo residents are not 13–19.
      expect(byHand).toMatchObject({ issued: 0, alreadyIssued: 1, notEligible: 6, credited: 0 });
    } finally {
      store.close();
    }

    // The clock reaches April (London time): the April allowance, once.
    clock = Date.parse('2026-03-31T23:30:00Z'); // 00:30 BST on 1 April
    await until(() => issued(config, file, asha).runs.length === 2);
    await sleep(150);
    expect(issued(config, file, asha)).toEqual({
      runs: [
        { period: 'm24314', resident_ref: asha },
        { period: 'm24315', resident_ref: asha },
      ],
      councilEvents: 2,
      leisure: 3000,
    });
  });

  it('waits one interval before its first run by default, and can be turned off', async () => {
    const { config, file, asha } = council();
    running = await startBackend(config, { allowances: { intervalMs: 60_000 } });
    await sleep(150);
    expect(issued(config, file, asha).councilEvents).toBe(0);
    await running.close();
    running = await startBackend(config, { allowances: false });
    await sleep(150);
    expect(issued(config, file, asha).councilEvents).toBe(0);
  });

  it('keeps ticking after a failed run and logs no resident refs', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'debug' },
      {
        write: (s: string) => {
          lines.push(s);
        },
      },
    );
    let calls = 0;
    const scheduler = startAllowanceScheduler(
      {
        runAllowances: () => {
          calls++;
          if (calls === 1) throw new Error('database is locked');
          return {
            at: '2026-03-10T12:00:00.000Z',
            issued: 2,
            alreadyIssued: 0,
            notEligible: 3,
            credited: 3000,
            bySchemeGrant: [],
          };
        },
      },
      log,
      { intervalMs: 20, firstRunMs: 0 },
    );
    try {
      await until(() => calls >= 3);
    } finally {
      scheduler.stop();
    }
    const stoppedAt = calls;
    await sleep(80);
    expect(calls).toBe(stoppedAt);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged[0]).toMatchObject({
      msg: 'scheduled allowance run failed; retrying at the next tick',
    });
    expect(logged[1]).toMatchObject({ msg: 'scheduled allowances issued', issued: 2 });
    expect(lines.join('\n')).not.toMatch(/r-[a-z0-9]{4,}/);
    expect(() =>
      startAllowanceScheduler({ runAllowances: () => null as never }, log, { intervalMs: 0 }),
    ).toThrow(/intervalMs/);
  });
});
