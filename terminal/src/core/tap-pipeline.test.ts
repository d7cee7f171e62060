import { MemoryEngineState, type CardAuth } from '@clubcard/shared';
import type { TapRead } from '@clubcard/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import type { TapAuthResult } from '../card-auth/authenticate-tap.js';
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

  function runBlank(
    tap: TapRead,
    offerBlankCard: ((t: TapRead) => boolean) | null,
    // As at a venue that refuses cards proving nothing.
    authenticate: (t: TapRead) => TapAuthResult = () => ({
      ok: false,
      code: 'uid-only-not-allowed',
      reason: 'refused here',
    }),
  ) {
    const { store } = testKiosk();
    open.push(store);
    const offered: TapRead[] = [];
    const judged: TapRead[] = [];
    const result = handleTap(
      {
        store,
        identity: () => store.identity(),
        authenticate: (t) => (judged.push(t), authenticate(t)),
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

  it('a blank card not taken (or with no desk) is judged as before; plain UID cards are never offered', () => {
    for (const offer of [() => false, null]) {
      const r = runBlank(blank, offer);
      expect(r.result).toMatchObject({ kind: 'refused', code: 'uid-only-not-allowed' });
      expect(r.judged).toEqual([blank]);
    }
    const plain = runBlank({ ...blank, technology: 'ntag21x' }, () => true);
    expect(plain.offered).toEqual([]);
  });

  // Cards a desk may have left half-made, offered once judged (so that nothing else is).
  const notGenuine = (): TapAuthResult => ({
    ok: false,
    code: 'card-not-genuine',
    reason: 'SUN does not verify',
  });
  const genuine = (uid: string) => (): TapAuthResult => ({
    ok: true,
    uid,
    auth: { method: 'sun', keyVersion: 1, counter: 3 },
  });

  it('a SUN card that does not verify (SUN on, read keys not yet set) is offered to the desk', () => {
    const taken = runBlank(sun, () => true, notGenuine);
    expect(taken.result).toEqual({ kind: 'taken' });
    expect(taken.judged).toEqual([sun]);
    expect(taken.offered).toEqual([sun]);
    expect(taken.events).toBe(0);
    for (const offer of [() => false, null]) {
      const r = runBlank(sun, offer, notGenuine);
      expect(r.result).toMatchObject({ kind: 'refused', code: 'card-not-genuine' });
    }
    // Not for a replay, nor for a plain UID card refused here.
    const replay = runBlank(
      sun,
      () => true,
      () => ({
        ok: false,
        code: 'card-replayed',
        reason: 'counter repeated',
      }),
    );
    expect(replay.offered).toEqual([]);
    expect(replay.result).toMatchObject({ kind: 'refused', code: 'card-replayed' });
    const plain = runBlank({ ...sun, technology: 'ntag21x' }, () => true, notGenuine);
    expect(plain.offered).toEqual([]);
  });

  it('a genuine SUN card bound to no one here is offered to the desk; a resident’s card never is', () => {
    const unknown = runBlank(sun, () => true, genuine('04BEEF00000001'));
    expect(unknown.result).toEqual({ kind: 'taken' });
    expect(unknown.offered).toEqual([sun]);
    const declined = runBlank(sun, () => false, genuine('04BEEF00000001'));
    expect(declined.result).toMatchObject({ kind: 'refused', code: 'card-not-registered' });
    const asha = runBlank(sun, () => true, genuine(ASHA.uid));
    expect(asha.offered).toEqual([]);
    expect(asha.result).toMatchObject({ kind: 'recorded', residentRef: ASHA.residentRef });
    expect(asha.events).toBe(1);
  });
});
