import { MemoryEngineState, type CardAuth } from '@clubcard/shared';
import type { TapRead } from '@clubcard/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import type { KioskStore } from '../store/kiosk-store.js';
import { handleTap } from './tap-pipeline.js';
import { ASHA, BLANK_NTAG424, SIMULATED, hashOf, testKiosk } from './test-kiosk.js';

let open: KioskStore[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});

const tapOf = (uid: string): TapRead => ({
  readerName: 'Simulated reader',
  technology: 'simulated',
  identifier: uid,
  proof: { kind: 'none' },
  detectedAt: 0,
  apduMs: 0,
});

function run(offerTap: ((hash: string, auth: CardAuth) => boolean) | null, uid: string) {
  const { store } = testKiosk();
  open.push(store);
  const offered: [string, CardAuth][] = [];
  const result = handleTap(
    {
      store,
      identity: () => store.identity(),
      authenticate: (t) => ({ ok: true, uid: t.identifier, auth: SIMULATED }),
      now: () => Date.UTC(2026, 5, 1, 10),
      engine: new MemoryEngineState(),
      offerTap: offerTap
        ? (hash, auth) => {
            offered.push([hash, auth]);
            return offerTap(hash, auth);
          }
        : null,
    },
    tapOf(uid),
  );
  return { result, offered, events: store.stats().lastSeq };
}

describe('tap pipeline: cards offered to staff mode and the desk first', () => {
  it('a card taken by the screen services is not a visit', () => {
    const { result, offered, events } = run(() => true, ASHA.uid);
    expect(result).toEqual({ kind: 'taken' });
    expect(offered).toEqual([[hashOf(ASHA.uid), SIMULATED]]);
    expect(events).toBe(0);
  });

  it('a card not taken there is a visit, as without the hook', () => {
    const declined = run(() => false, ASHA.uid);
    expect(declined.result).toMatchObject({ kind: 'recorded', residentRef: ASHA.residentRef });
    expect(declined.events).toBe(1);
    expect(run(null, ASHA.uid).result.kind).toBe('recorded');
  });

  it('an unknown card can be taken (a desk’s new card), or is refused as unregistered', () => {
    expect(run(() => true, '04BEEF00000001').result).toEqual({ kind: 'taken' });
    expect(run(() => false, '04BEEF00000001').result).toMatchObject({
      kind: 'refused',
      code: 'card-not-registered',
    });
  });
});

describe('tap pipeline: blank NTAG 424 DNA cards offered to an enrolment desk first', () => {
  const blank = BLANK_NTAG424;
  const sun: TapRead = { ...blank, proof: { kind: 'sun', cmac: '00'.repeat(8) } };

  function runBlank(tap: TapRead, offerBlankCard: ((t: TapRead) => boolean) | null) {
    const { store } = testKiosk();
    open.push(store);
    const offered: TapRead[] = [];
    const judged: TapRead[] = [];
    const result = handleTap(
      {
        store,
        identity: () => store.identity(),
        // As at a venue that refuses cards proving nothing.
        authenticate: (t) => (judged.push(t), { ok: false, code: 'uid-only-not-allowed' }),
        now: () => Date.UTC(2026, 5, 1, 10),
        engine: new MemoryEngineState(),
        offerBlankCard: offerBlankCard ? (t) => (offered.push(t), offerBlankCard(t)) : null,
      },
      tap,
    );
    return { result, offered, judged, events: store.stats().lastSeq };
  }

  it('a blank card taken by the desk is neither judged nor a visit', () => {
    const r = runBlank(blank, () => true);
    expect(r.result).toEqual({ kind: 'taken' });
    expect(r.offered).toEqual([blank]);
    expect(r.judged).toEqual([]);
    expect(r.events).toBe(0);
  });

  it('a blank card not taken (or with no desk) is judged as before; SUN cards are never offered', () => {
    for (const offer of [() => false, null]) {
      const r = runBlank(blank, offer);
      expect(r.result).toMatchObject({ kind: 'refused', code: 'uid-only-not-allowed' });
      expect(r.judged).toEqual([blank]);
    }
    const s = runBlank(sun, () => true);
    expect(s.offered).toEqual([]);
    expect(s.judged).toEqual([sun]);
    const plain = runBlank({ ...blank, technology: 'ntag21x' }, () => true);
    expect(plain.offered).toEqual([]);
  });
});
