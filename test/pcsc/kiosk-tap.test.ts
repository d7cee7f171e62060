import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  personaliseNtag424,
  sunFileSettings,
  buildSunTemplate,
  DEFAULT_SUN_URL_LAYOUT,
  tap,
  VirtualNtag21x,
  VirtualNtag424,
  type CardReader,
  type PcscCardReader,
} from '@clubcard/hardware';
import { cardHashOf, hexToBytes } from '@clubcard/shared';
import { deriveIssuedCardKeys, type IssuingKeys } from '@clubcard/terminal/card-auth/card-keys';
import type { CoreMessage, TapOutcome } from '@clubcard/terminal/bridge/kiosk-bridge';
import type { RunningKiosk } from '@clubcard/terminal/main';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { nextEvent } from './helpers.js';

/**
 * The kiosk on the real stack: virtual card → vpcd → pcscd → nfc-pcsc → PcscCardReader →
 * kiosk core (SUN verified offline under the council read keys) → SQLite → UI message.
 */
const READ_MASTER = randomBytes(16);
const ISSUING: IssuingKeys = {
  issuingKeyVersion: 1,
  issuingMasterKey: randomBytes(16),
  readKeyVersion: 1,
  readMasterKey: READ_MASTER,
};
const GENUINE_UID = '04AA11BB22CC33';
const BLANK_UID = '04AA11BB22CC44';
const PLAIN_UID = '04AA11BB22CC55';

function keysFor(uid: string): Buffer[] {
  const k = deriveIssuedCardKeys(ISSUING, hexToBytes(uid));
  return [k.appMaster.key, k.sdmFileRead.key, k.sdmMetaRead.key, k.spare3.key, k.spare4.key];
}

let pcscd: PcscdHandle;
let sys: TestSystem;
let kiosk: RunningKiosk;
const messages: CoreMessage[] = [];

beforeAll(async () => {
  pcscd = await ensurePcscd();
  sys = await createTestSystem();
  sys.admin((admin) => {
    for (const [uid, technology] of [
      [GENUINE_UID, 'ntag424'],
      [BLANK_UID, 'ntag424'],
      [PLAIN_UID, 'ntag21x'],
    ] as const) {
      const ref = admin.addResident({ firstName: 'Nia', ageBand: '20-29', ward: 'riverside' });
      admin.issueCard({ residentRef: ref, uid, technology, keyVersion: 1 });
    }
  });
  await sys.startBackend();
  kiosk = await sys.startKiosk(0, {
    reader: 'pcsc',
    demo: null,
    readKeys: {
      current: { version: 1, masterKeyHex: READ_MASTER.toString('hex') },
      previous: null,
    },
  });
  kiosk.core.on('message', (m) => messages.push(m));
  await kiosk.sync.syncOnce();
  if (kiosk.reader.readers().length === 0) await nextEvent(kiosk.reader, 'reader-attached', 10_000);
}, 60_000);

afterAll(async () => {
  await sys?.cleanup();
  await pcscd?.stop();
});

/** Taps a card and resolves with the kiosk's answer for it. */
async function tapAtKiosk(card: VirtualNtag424 | VirtualNtag21x): Promise<TapOutcome> {
  const before = messages.length;
  const answered = new Promise<TapOutcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer from the kiosk')), 8000);
    const check = (m: CoreMessage): void => {
      if (m.type === 'outcome') {
        clearTimeout(timer);
        kiosk.core.off('message', check);
        resolve(m.outcome);
      }
    };
    kiosk.core.on('message', check);
  });
  await tap(card, { until: answered });
  const o = await answered;
  expect(messages.length).toBeGreaterThan(before);
  return o;
}

function code(o: TapOutcome): string {
  return o.kind === 'refused' ? o.code : `recorded:${o.authMethod}`;
}

describe('kiosk on the real PC/SC stack', () => {
  it('authenticates an NTAG 424 SUN tap offline and records it with its key version and counter', async () => {
    const card = VirtualNtag424.personalised({ uid: GENUINE_UID, keys: keysFor(GENUINE_UID) });
    const before = kiosk.store.stats().lastSeq;
    const o = await tapAtKiosk(card);
    expect(code(o)).toBe('recorded:sun');
    expect(o.kind === 'recorded' && o.firstName).toBe('Nia');
    expect(kiosk.store.stats().lastSeq).toBe(before + 1);
    const row = kiosk.store.pendingBatch(1000).at(-1)!;
    expect(JSON.parse(row.payload).auth).toEqual({ method: 'sun', keyVersion: 1, counter: 1 });
    expect(code(await tapAtKiosk(card))).toBe('recorded:sun'); // counter 2
    // The card's arrival readied the disk for the commit (one byte, flushed meanwhile).
    expect(readFileSync(join(sys.dir, 'kiosk-0', 'kiosk.sqlite-prime'))).toHaveLength(1);
  });

  it('refuses a replayed SUN message, a tampered MAC and clones without keys, with the reason shown', async () => {
    const card = VirtualNtag424.personalised({
      uid: GENUINE_UID,
      keys: keysFor(GENUINE_UID),
      readCounter: 10,
    });
    expect(code(await tapAtKiosk(card))).toBe('recorded:sun');
    const before = kiosk.store.stats().lastSeq;

    card.replaySun(); // the same NDEF message again: a copied tap
    const replay = await tapAtKiosk(card);
    expect(code(replay)).toBe('card-replayed');
    expect(replay.kind === 'refused' && replay.message).toMatch(/used before/);
    card.stopReplay();

    const tampered = VirtualNtag424.personalised({
      uid: GENUINE_UID,
      keys: keysFor(GENUINE_UID),
      readCounter: 40,
    });
    await tapAtKiosk(tampered); // a genuine read, to learn the URL bytes
    const lastFile = tampered.lastReadNdefFile()!;
    const text = Buffer.from(lastFile).toString('latin1');
    const i = text.indexOf('cmac=') + 5;
    const flipped = text.slice(0, i) + (text[i] === '0' ? '1' : '0') + text.slice(i + 1);
    tampered.replaySun(Buffer.from(flipped, 'latin1'));
    const t = await tapAtKiosk(tampered);
    expect(code(t)).toBe('card-not-genuine');
    expect(t.kind === 'refused' && t.message).toMatch(/could not be verified/);
    tampered.stopReplay();

    const cloneWithoutKeys = VirtualNtag424.personalised({
      uid: GENUINE_UID,
      keys: [0, 1, 2, 3, 4].map(() => randomBytes(16)),
    });
    expect(code(await tapAtKiosk(cloneWithoutKeys))).toBe('card-not-genuine');

    // The UID copied onto a cheap plain card, at a venue that accepts plain cards: still refused.
    expect(code(await tapAtKiosk(new VirtualNtag21x({ uid: GENUINE_UID })))).toBe(
      'card-not-genuine',
    );
    // A card really issued as a plain card is accepted there, marked uid-only.
    expect(code(await tapAtKiosk(new VirtualNtag21x({ uid: PLAIN_UID })))).toBe(
      'recorded:uid-only',
    );

    expect(kiosk.store.stats().lastSeq).toBe(before + 2); // the tampered card's genuine read + the plain card
  });

  it('records nothing for a card pulled mid-read, and reads the next tap', async () => {
    const card = VirtualNtag424.personalised({
      uid: GENUINE_UID,
      keys: keysFor(GENUINE_UID),
      readCounter: 100,
    });
    const before = kiosk.store.stats().lastSeq;
    card.injectFault({ kind: 'remove-during-apdu', atApdu: 2 });
    const o = await tapAtKiosk(card);
    expect(code(o)).toBe('reader-error');
    expect(kiosk.store.stats().lastSeq).toBe(before);
    card.clearFaults();
    expect(code(await tapAtKiosk(card))).toBe('recorded:sun');
  });

  it('personalises a blank card at an enrolment desk, which then taps as a genuine card', async () => {
    const card = VirtualNtag424.blank(BLANK_UID);
    const blank = await tapAtKiosk(card);
    expect(blank.kind).toBe('refused'); // a blank card proves nothing: nothing is recorded

    const reader = kiosk.reader as PcscCardReader;
    const tapped = nextEvent(reader as CardReader, 'tap', 8000);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const tapping = tap(card, { until: finished, holdMs: 15_000 });
    const [read] = await tapped;
    const ch = await reader.channel(read.readerName);
    if (!ch) throw new Error('no APDU channel to the card');
    const issued = deriveIssuedCardKeys(ISSUING, hexToBytes(BLANK_UID));
    const template = buildSunTemplate(DEFAULT_SUN_URL_LAYOUT);
    await personaliseNtag424((a) => ch.transmit(a), {
      currentAppMasterKey: new Uint8Array(16),
      keys: issued.changeOrder,
      ndefFile: template.ndefFile,
      ndefFileSettings: sunFileSettings(template),
    });
    done();
    await tapping;
    expect(code(await tapAtKiosk(card))).toBe('recorded:sun');
  });

  it('reports the reader lost when pcscd dies, then reads again after it restarts', async () => {
    const states: string[] = [];
    const onMsg = (m: CoreMessage): void => {
      if (m.type === 'state') states.push(m.state.reader.status);
    };
    kiosk.core.on('message', onMsg);
    await pcscd.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await pcscd.start();
    const deadline = Date.now() + 20_000;
    while (kiosk.core.state().reader.status !== 'ready' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    kiosk.core.off('message', onMsg);
    expect(states.some((s) => s !== 'ready')).toBe(true);
    expect(kiosk.core.state().reader.status).toBe('ready');
    const card = VirtualNtag424.personalised({
      uid: GENUINE_UID,
      keys: keysFor(GENUINE_UID),
      readCounter: 200,
    });
    expect(code(await tapAtKiosk(card))).toBe('recorded:sun');
  });

  it('syncs SUN taps to the backend with their counters, and pulls the council-wide highest counter back', async () => {
    await kiosk.sync.syncOnce();
    await kiosk.sync.syncOnce();
    expect(kiosk.store.stats().backlog).toBe(0);
    expect(kiosk.store.stats().rejected).toBe(0);
    const hash = cardHashOf(kiosk.store.identity()!.cardHashKey, GENUINE_UID);
    const backendHighest = sys.admin((admin) => admin.highestCounter(hash));
    expect(backendHighest).toBeGreaterThanOrEqual(201);
    expect(kiosk.store.highestCounter(hash)).toBe(backendHighest);
  });
});
