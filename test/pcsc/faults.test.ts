import {
  PcscCardReader,
  tap,
  VirtualNtag21x,
  VirtualNtag424,
  type ReaderError,
  type VirtualCard,
} from '@clubcard/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePcscd, type PcscdHandle } from '../support/pcscd.js';
import { nextEvent, record } from './helpers.js';

const READER = 'Virtual PCD 00 00';
const KEYS = [0, 1, 2, 3, 4].map((n) => new Uint8Array(16).fill(0x30 + n));

describe('card faults through the real PC/SC stack: errors, never crashes', () => {
  let pcscd: PcscdHandle;
  let reader: PcscCardReader;

  beforeAll(async () => {
    pcscd = await ensurePcscd();
    // A short timeout so the slow-card case stays quick.
    reader = new PcscCardReader({ transmitTimeoutMs: 1000 });
    const attached = nextEvent(reader, 'reader-attached', 10_000, (r) => r.name === READER);
    await reader.start();
    await attached;
  });

  afterAll(async () => {
    await reader?.stop();
    await pcscd?.stop();
  });

  /** Taps the card until the adapter reports a tap or an error, then the removal. */
  async function tapExpectingError(
    card: VirtualCard,
  ): Promise<{ error: ReaderError; taps: number }> {
    const log = record(reader);
    const failed = nextEvent(reader, 'error');
    const removed = nextEvent(reader, 'card-removed', 8000);
    await tap(card, { until: failed, holdMs: 4000 });
    const [error] = await failed;
    await removed;
    reader.removeAllListeners('tap');
    return { error, taps: log.taps.length };
  }

  async function tapExpectingTap(card: VirtualCard): Promise<void> {
    const tapped = nextEvent(reader, 'tap');
    const removed = nextEvent(reader, 'card-removed');
    await tap(card, { until: tapped });
    await tapped;
    await removed;
  }

  it('a card pulled mid-read gives card-removed-mid-read and no tap; the next tap works', async () => {
    const card = VirtualNtag424.personalised({ uid: '04010203040506', keys: KEYS });
    // APDU 4 is the READ BINARY of NLEN and the message: the card leaves between command
    // and response.
    card.injectFault({ kind: 'remove-during-apdu', atApdu: 4 });
    const { error, taps } = await tapExpectingError(card);
    expect(error).toMatchObject({ code: 'card-removed-mid-read', readerName: READER });
    expect(taps).toBe(0);
    card.clearFaults();
    await tapExpectingTap(card);
  });

  it('an NTAG 21x pulled after its UID gives no tap either', async () => {
    const card = new VirtualNtag21x({ uid: '04112233445566' });
    card.injectFault({ kind: 'remove-during-apdu', atApdu: 2 });
    const { error, taps } = await tapExpectingError(card);
    expect(error.code).toBe('card-removed-mid-read');
    expect(taps).toBe(0);
  });

  it('garbage bytes make the card unreadable', async () => {
    const card = VirtualNtag424.personalised({ uid: '04010203040506', keys: KEYS });
    card.injectFault({ kind: 'garbage', length: 5, match: (a) => a[1] === 0xb0 });
    const { error, taps } = await tapExpectingError(card);
    expect(error.code).toBe('card-unreadable');
    expect(taps).toBe(0);
  });

  it('a bad status word makes the card unreadable', async () => {
    const card = VirtualNtag424.personalised({ uid: '04010203040506', keys: KEYS });
    card.injectFault({ kind: 'status', sw: 0x6a82, match: (a) => a[1] === 0xa4 });
    expect((await tapExpectingError(card)).error.code).toBe('card-unreadable');
  });

  it('a wrong response length makes the card unreadable', async () => {
    const card = new VirtualNtag21x({ uid: '04112233445566' });
    card.injectFault({ kind: 'wrong-length', delta: -4, match: (a) => a[1] === 0xb0 });
    expect((await tapExpectingError(card)).error.code).toBe('card-unreadable');
  });

  it('a slow card still reads, and apduMs shows it', async () => {
    const card = VirtualNtag424.personalised({ uid: '04010203040506', keys: KEYS });
    card.injectFault({ kind: 'delay', ms: 100 });
    const commands: number[] = [];
    card.on('apdu', (x) => commands.push(x.command[1] ?? 0));
    const tapped = nextEvent(reader, 'tap');
    const removed = nextEvent(reader, 'card-removed');
    await tap(card, { until: tapped });
    const [read] = await tapped;
    await removed;
    // GET DATA (UID), SELECT, SELECT, one READ BINARY (NLEN and the message together).
    expect(commands).toEqual([0xca, 0xa4, 0xa4, 0xb0]);
    expect(read.apduMs).toBeGreaterThanOrEqual(4 * 100);
  });

  it('a card too slow to answer is unreadable, and the next card reads', async () => {
    const card = VirtualNtag424.personalised({ uid: '04010203040506', keys: KEYS });
    card.injectFault({ kind: 'delay', ms: 1500, match: (a) => a[1] === 0xa4 });
    expect((await tapExpectingError(card)).error).toMatchObject({ code: 'card-unreadable' });
    card.clearFaults();
    await tapExpectingTap(card);
  });
});
