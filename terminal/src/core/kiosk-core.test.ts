import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedReader } from '@clubcard/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreMessage, ResidentExtras } from '../bridge/kiosk-bridge.js';
import { KioskStore, type WalFlush } from '../store/kiosk-store.js';
import { SyncClient } from '../sync/sync-client.js';
import { KioskCore, type KioskCoreDeps, type TapTiming } from './kiosk-core.js';
import { ASHA, EARN_ON_SWIM, SIMULATED, testKiosk } from './test-kiosk.js';

const EXTRAS: ResidentExtras = { language: null, queueNumber: null, spendOptions: [], offer: null };

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A kiosk core on a store in a file, whose tap flushes go through `walFlush`. */
function kioskOnDisk(walFlush: WalFlush, rehearseAuth?: KioskCoreDeps['rehearseAuth']) {
  const dir = mkdtempSync(join(tmpdir(), 'kcore-'));
  const store = new KioskStore(join(dir, 'k.sqlite'), { walFlush });
  testKiosk([EARN_ON_SWIM], [], store);
  const sync = new SyncClient({
    store,
    backendUrl: 'http://127.0.0.1:9',
    fetch: () => Promise.reject(new Error('offline')),
  });
  const reader = new SimulatedReader();
  const core = new KioskCore({
    store,
    reader,
    sync,
    authenticate: (t) => ({ ok: true, uid: t.identifier, auth: SIMULATED }),
    now: () => Date.UTC(2026, 5, 1, 10),
    ...(rehearseAuth ? { rehearseAuth } : {}),
  });
  const messages: CoreMessage[] = [];
  core.on('message', (m) => messages.push(m));
  cleanup.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const tap = () =>
    core.tap({
      readerName: 'Simulated reader',
      technology: 'simulated',
      identifier: ASHA.uid,
      proof: { kind: 'none' },
      detectedAt: performance.now(),
      apduMs: 0,
    });
  return { store, core, reader, messages, tap };
}

const outcomes = (ms: CoreMessage[]) => ms.filter((m) => m.type === 'outcome');

describe('kiosk core: a tap is shown once it is on disk', () => {
  it('makes the screen’s extras while the record is flushed, and tells the resident after', async () => {
    const held: (() => void)[] = [];
    const k = kioskOnDisk((_fd, done) => held.push(() => done(null)));
    const asked: string[] = [];
    k.core.setScreenExtras((ref) => {
      asked.push(ref);
      return EXTRAS;
    });
    const timings: boolean[] = [];
    const stages: TapTiming[] = [];
    k.core.on('tap-timing', (t) => {
      timings.push(t.recorded);
      stages.push(t);
    });

    const answer = k.tap();
    // Committed and the extras made, but nothing shown while the flush runs.
    expect(k.store.stats().lastSeq).toBe(1);
    expect(asked).toEqual([ASHA.residentRef]);
    await new Promise((r) => setTimeout(r, 20));
    expect(outcomes(k.messages)).toEqual([]);
    expect(timings).toEqual([]);

    expect(held).toHaveLength(1);
    held[0]?.();
    const result = await answer;
    expect(result).toMatchObject({ kind: 'recorded', residentRef: ASHA.residentRef });
    const shown = outcomes(k.messages);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ outcome: { kind: 'recorded', earned: [{ amount: 10 }] } });
    expect(shown[0]?.type === 'outcome' && shown[0].resident).toEqual(EXTRAS);
    expect(timings).toEqual([true]);
    // The stages in order; the wait for the held flush (20 ms) falls between the message
    // being made and the flush being done.
    const t = stages[0] as TapTiming;
    const { tapAt, handledAt, messageAt, durableAt } = t.stages;
    expect(tapAt).toBeLessThanOrEqual(handledAt);
    expect(handledAt).toBeLessThanOrEqual(messageAt);
    expect(durableAt).not.toBeNull();
    expect((durableAt ?? 0) - messageAt).toBeGreaterThanOrEqual(15);
    expect(t.notifiedAt).toBeGreaterThanOrEqual(durableAt ?? Infinity);
  });

  it('refuses a tap whose record could not be flushed, and records the next one', async () => {
    let flushes = 0;
    const k = kioskOnDisk((_fd, done) => {
      flushes++;
      setImmediate(() => done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })));
    });
    const first = await k.tap();
    expect(first).toMatchObject({ kind: 'refused', code: 'storage-error' });
    expect(outcomes(k.messages)).toMatchObject([
      { outcome: { kind: 'refused', code: 'storage-error' } },
    ]);
    // Later commits are flushed by SQLite itself, and the kiosk goes on recording.
    const second = await k.tap();
    expect(second).toMatchObject({ kind: 'recorded', seq: 2 });
    expect(flushes).toBe(1);
    expect(outcomes(k.messages)).toHaveLength(2);
  });

  it('answers a tap with no record (refused) at once, with no flush', async () => {
    let flushes = 0;
    const k = kioskOnDisk((fd, done) => {
      flushes++;
      done(null);
    });
    const refused = await k.core.tap({
      readerName: 'Simulated reader',
      technology: 'simulated',
      identifier: '04FFFFFFFFFF01',
      proof: { kind: 'none' },
      detectedAt: performance.now(),
      apduMs: 0,
    });
    expect(refused).toMatchObject({ kind: 'refused', code: 'card-not-registered' });
    expect(flushes).toBe(0);
    expect(outcomes(k.messages)).toHaveLength(1);
  });
});

describe('kiosk core: the tap path is warmed while the card answers', () => {
  it('rehearses the identified card’s tap once, keeping, writing and telling nothing', async () => {
    const rehearsed: string[] = [];
    const k = kioskOnDisk(
      (fd, done) => done(null),
      (uid, technology) => rehearsed.push(`${technology}:${uid}`),
    );
    const looked: string[] = [];
    const store = k.store as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of [
      'getCard',
      'highestCounter',
      'eligibilityOf',
      'balancesFor',
      'rehearseAppend',
    ] as const) {
      const real = (store[name] as (...a: unknown[]) => unknown).bind(k.store);
      store[name] = (...a: unknown[]) => {
        looked.push(name);
        return real(...a);
      };
    }
    const reader = k.reader;
    const timed: number[] = [];
    k.core.on('warm-timing', (w) => timed.push(w.ms));
    const before = k.store.stats();
    reader.emit('card-identified', {
      readerName: 'Simulated reader',
      technology: 'ntag21x',
      identifier: ASHA.uid.toLowerCase(),
    });
    // After the reader has sent its next command, not in the middle of the read.
    expect(looked).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(looked).toEqual([
      'highestCounter',
      'getCard',
      'eligibilityOf',
      'rehearseAppend',
      'balancesFor',
    ]);
    expect(rehearsed).toEqual([`ntag21x:${ASHA.uid.toLowerCase()}`]);
    expect(k.store.stats()).toEqual(before);
    expect(k.messages).toEqual([]);

    // A card no one holds, or a store that fails: nothing is shown, nothing is thrown.
    looked.length = 0;
    reader.emit('card-identified', {
      readerName: 'Simulated reader',
      technology: 'ntag21x',
      identifier: '04FFFFFFFFFF01',
    });
    await new Promise((r) => setImmediate(r));
    expect(looked).toEqual(['highestCounter', 'getCard']);
    store.getCard = () => {
      throw new Error('disk gone');
    };
    reader.emit('card-identified', {
      readerName: 'Simulated reader',
      technology: 'ntag21x',
      identifier: ASHA.uid,
    });
    await new Promise((r) => setImmediate(r));
    expect(k.messages).toEqual([]);
    // Each rehearsal's duration is reported, the failed one's too.
    expect(timed).toHaveLength(3);
    expect(timed.every((ms) => ms >= 0 && ms < 1000)).toBe(true);
  });
});
