import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SimulatedReader } from '@clubcard/hardware';
import type { TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import type { RunningKiosk } from '@clubcard/terminal/main';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { tapAndAnswerOrNull } from '../support/tap.js';

let sys: TestSystem | null = null;
afterEach(async () => {
  await sys?.cleanup();
  sys = null;
});

function backendRows(s: TestSystem): { events: number; lines: number; credit: number } {
  const db = new Database(join(s.dir, 'backend.sqlite'), { readonly: true });
  try {
    const events = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const lines = (db.prepare('SELECT COUNT(*) AS n FROM ledger_lines').get() as { n: number }).n;
    const credit = (
      db
        .prepare(
          "SELECT COALESCE(SUM(amount), 0) AS s FROM ledger_lines WHERE wallet = 'living-credit'",
        )
        .get() as {
        s: number;
      }
    ).s;
    return { events, lines, credit };
  } finally {
    db.close();
  }
}

/** Taps a card and waits for the kiosk's answer (shown once the tap is on disk). */
async function tap(kiosk: RunningKiosk, uid: string): Promise<void> {
  if (!(kiosk.reader instanceof SimulatedReader)) throw new Error('expected the simulated reader');
  await tapAndAnswerOrNull(kiosk.core, kiosk.reader, uid);
}

describe('one tap end to end', () => {
  it('commits a simulated tap in the kiosk store before sending, then syncs it to a credit and pulls the balance', async () => {
    sys = await createTestSystem();
    await sys.startBackend();
    const kiosk = await sys.startKiosk(0);
    await kiosk.sync.syncOnce(); // first pull: cards, venue, services, schemes
    const asha = sys.demo.residents[0]!;

    const outcomes: TapOutcome[] = [];
    kiosk.core.on('message', (m) => {
      if (m.type === 'outcome') outcomes.push(m.outcome);
    });
    await tap(kiosk, asha.uid);

    expect(outcomes).toHaveLength(1);
    const o = outcomes[0]!;
    expect(o.kind).toBe('recorded');
    if (o.kind !== 'recorded') return;
    expect(o.firstName).toBe('Asha');
    expect(o.earned).toEqual([{ wallet: 'living-credit', amount: 10 }]);
    expect(o.balances).toEqual([{ wallet: 'living-credit', amount: 10, provisional: 10 }]);

    // Durable on the kiosk, and nothing sent yet.
    expect(kiosk.store.stats().backlog).toBe(1);
    expect(backendRows(sys).events).toBe(0);

    await kiosk.sync.syncOnce();
    expect(kiosk.store.stats().backlog).toBe(0);
    expect(backendRows(sys)).toEqual({ events: 1, lines: 1, credit: 10 });
    expect(kiosk.store.balancesFor(asha.residentRef)).toEqual([
      { wallet: 'living-credit', amount: 10, provisional: 0 },
    ]);

    // A second tap builds on the pulled, confirmed balance.
    await tap(kiosk, asha.uid);
    await kiosk.sync.syncOnce();
    expect(kiosk.store.balancesFor(asha.residentRef)).toEqual([
      { wallet: 'living-credit', amount: 20, provisional: 0 },
    ]);
    expect(backendRows(sys).credit).toBe(20);

    // The usage rollup was maintained at ingestion: held in memory by the backend's
    // analytics listener and written out (with the event-log position) at the latest
    // when the backend closes.
    await sys.stopBackend();
    const db = new Database(join(sys.dir, 'backend.sqlite'), { readonly: true });
    const usage = db.prepare('SELECT COUNT(*) AS n FROM analytics_usage').get() as { n: number };
    db.close();
    expect(usage.n).toBeGreaterThan(0);
  });

  it('refuses blocked and unknown cards with a clear code and records nothing', async () => {
    sys = await createTestSystem();
    await sys.startBackend();
    const kiosk = await sys.startKiosk(0);
    await kiosk.sync.syncOnce();
    const outcomes: TapOutcome[] = [];
    kiosk.core.on('message', (m) => {
      if (m.type === 'outcome') outcomes.push(m.outcome);
    });
    await tap(kiosk, '04A1B2C3D4E5FF');
    await tap(kiosk, '04DEADBEEF0001');
    expect(outcomes.map((o) => (o.kind === 'refused' ? o.code : o.kind))).toEqual([
      'card-blocked',
      'card-not-registered',
    ]);
    expect(kiosk.store.stats().lastSeq).toBe(0);
  });

  it('keeps answering taps while the backend is down, then syncs them once when it returns', async () => {
    sys = await createTestSystem();
    const b = await sys.startBackend();
    const port = b.port;
    const kiosk = await sys.startKiosk(0);
    await kiosk.sync.syncOnce();
    await sys.stopBackend();

    const residents = sys.demo.residents;
    for (let i = 0; i < 30; i++) await tap(kiosk, residents[i % residents.length]!.uid);
    expect(kiosk.store.stats().backlog).toBe(30);
    await expect(kiosk.sync.syncOnce()).rejects.toMatchObject({ code: 'backend-unreachable' });
    expect(kiosk.sync.state().online).toBe(false);
    expect(kiosk.sync.state().backlog).toBe(30);

    await sys.startBackend(port);
    await kiosk.sync.syncOnce();
    await kiosk.sync.syncOnce(); // a second round finds nothing new to send
    expect(kiosk.store.stats().backlog).toBe(0);
    expect(backendRows(sys)).toEqual({ events: 30, lines: 30, credit: 300 });
    const total = residents.reduce(
      (sum, r) => sum + (kiosk.store.balancesFor(r.residentRef)[0]?.amount ?? 0),
      0,
    );
    expect(total).toBe(300);
  });
});
