import { verifySun } from '@clubcard/shared';
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CardRemovedError, type VirtualCard } from '../emulator/virtual-card.js';
import { VirtualNtag21x } from '../emulator/virtual-ntag21x.js';
import { VirtualNtag424 } from '../emulator/virtual-ntag424.js';
import type { CardReaderEvents, ReaderError, TapRead } from '../port.js';
import { fromHex, toHex } from './bytes.js';
import { wrapNfcObject } from './nfc-pcsc-binding.js';
import { PcscCardReader, type PcscReaderOptions } from './pcsc-reader.js';

/**
 * Fakes shaped like nfc-pcsc 0.8.1's NFC and Reader objects, with its event quirks, so the
 * adapter and the typed wrapper run exactly as over the real library – without pcscd.
 */
class RawReader extends EventEmitter {
  autoProcessing = true;
  card: VirtualCard | undefined;
  closed = false;
  constructor(readonly name: string) {
    super();
  }
  async transmit(data: Buffer, _max: number): Promise<Buffer> {
    if (!this.card) throw new Error('TransmitError: no card');
    try {
      return Buffer.from(await this.card.transceive(new Uint8Array(data)));
    } catch (err) {
      if (err instanceof CardRemovedError)
        throw new Error('SCardTransmit error: Card was removed.');
      throw err;
    }
  }
  close(): void {
    this.closed = true;
  }
  insert(card: VirtualCard): void {
    this.card = card;
    card.fieldReset();
    const standard = card.atr[5] === 0x4f ? 'TAG_ISO_14443_3' : 'TAG_ISO_14443_4';
    this.emit('card', { atr: Buffer.from(card.atr), standard });
  }
  pull(): void {
    this.card = undefined;
    this.emit('card.off', {});
  }
  /** nfc-pcsc's `this.emit(err)`: the error object used as the event name. */
  emitAsEventName(err: Error): void {
    (this.emit as (event: unknown) => boolean)(err);
  }
}

class RawNfc extends EventEmitter {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

interface Rig {
  reader: PcscCardReader;
  nfcs: RawNfc[];
  taps: TapRead[];
  errors: ReaderError[];
  events: string[];
  service: { up: boolean };
  addReader(name?: string): RawReader;
}

function rig(options: Partial<PcscReaderOptions> = {}): Rig {
  const nfcs: RawNfc[] = [];
  const service = { up: true };
  const reader = new PcscCardReader({
    loadNfc: async () => () => {
      const raw = new RawNfc();
      nfcs.push(raw);
      return wrapNfcObject(raw);
    },
    serviceAvailable: async () => service.up,
    removalGraceMs: 200,
    retry: { initialMs: 10, maxMs: 40 },
    ...options,
  });
  const taps: TapRead[] = [];
  const errors: ReaderError[] = [];
  const events: string[] = [];
  reader.on('tap', (t) => {
    taps.push(t);
    events.push('tap');
  });
  reader.on('error', (e) => {
    errors.push(e);
    events.push(`error:${e.code}`);
  });
  reader.on('card-detected', () => events.push('card-detected'));
  reader.on('card-identified', (c) => events.push(`card-identified:${c.identifier}`));
  reader.on('card-removed', () => events.push('card-removed'));
  reader.on('reader-attached', (r) => events.push(`attached:${r.name}`));
  reader.on('reader-detached', (r) => events.push(`detached:${r.name}`));
  return {
    reader,
    nfcs,
    taps,
    errors,
    events,
    service,
    addReader(name = 'ACME Reader 00 00') {
      const raw = new RawReader(name);
      nfcs.at(-1)?.emit('reader', raw);
      return raw;
    },
  };
}

function next<E extends keyof CardReaderEvents>(
  r: PcscCardReader,
  event: E,
): Promise<CardReaderEvents[E]> {
  return once(r as EventEmitter, event) as Promise<CardReaderEvents[E]>;
}

const KEYS = [0, 1, 2, 3, 4].map((n) => new Uint8Array(16).fill(0x40 + n));

describe('PcscCardReader over a fake nfc-pcsc', () => {
  let current: Rig | undefined;
  afterEach(async () => {
    await current?.reader.stop();
    current = undefined;
  });

  it('attaches readers with autoProcessing off and reads an NTAG 21x', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    expect(raw.autoProcessing).toBe(false);
    expect(r.reader.readers()).toEqual([{ name: 'ACME Reader 00 00', adapter: 'pcsc' }]);
    const tapped = next(r.reader, 'tap');
    raw.insert(new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' }));
    const [read] = await tapped;
    expect(read).toMatchObject({
      technology: 'ntag21x',
      identifier: '04A1B2C3D4E5F6',
      proof: { kind: 'none' },
    });
    raw.pull();
    await sleep(0);
    // Detection first, as the read begins (the kiosk readies its disk meanwhile), then the
    // UID as soon as it is read (the kiosk warms the tap's lookups while the read goes on).
    expect(r.events).toEqual([
      'attached:ACME Reader 00 00',
      'card-detected',
      'card-identified:04A1B2C3D4E5F6',
      'tap',
      'card-removed',
    ]);
  });

  it('reads an NTAG 424 SUN message into a proof that verifies', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    const tapped = next(r.reader, 'tap');
    raw.insert(VirtualNtag424.personalised({ uid: '04DE5F1EACC040', keys: KEYS }));
    const [read] = await tapped;
    expect(read.technology).toBe('ntag424');
    const proof = read.proof;
    if (proof.kind !== 'sun') throw new Error('no SUN proof');
    const v = verifySun(
      { metaReadKey: KEYS[2] ?? new Uint8Array(16), fileReadKey: KEYS[1] ?? new Uint8Array(16) },
      {
        piccData: fromHex(proof.piccData ?? ''),
        cmac: fromHex(proof.cmac),
        macInput: Buffer.from(proof.macInput ?? '', 'latin1'),
      },
    );
    expect(v).toMatchObject({ valid: true, counter: 1 });
  });

  it('reports a card pulled mid-read and emits no tap; removal comes after the error', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    const card = VirtualNtag424.personalised({ uid: '04DE5F1EACC040', keys: KEYS });
    card.injectFault({ kind: 'remove-during-apdu', atApdu: 3 });
    card.on('apdu', (x) => {
      if (!x.response) setTimeout(() => raw.pull(), 30); // pcscd notices on its next poll
    });
    const failed = next(r.reader, 'error');
    raw.insert(card);
    const [error] = await failed;
    expect(error).toMatchObject({ code: 'card-removed-mid-read', readerName: 'ACME Reader 00 00' });
    await sleep(0);
    expect(r.taps).toEqual([]);
    expect(r.events.slice(1)).toEqual([
      'card-detected',
      'card-identified:04DE5F1EACC040',
      'error:card-removed-mid-read',
      'card-removed',
    ]);
  });

  it('calls a failing present card unreadable after the grace period', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    card.injectFault({ kind: 'garbage', length: 1 });
    const failed = next(r.reader, 'error');
    raw.insert(card);
    expect((await failed)[0].code).toBe('card-unreadable');
    card.clearFaults().injectFault({ kind: 'status', sw: 0x6a82 });
    raw.pull();
    const again = next(r.reader, 'error');
    raw.insert(card);
    expect((await again)[0]).toMatchObject({ code: 'card-unreadable' });
    expect(r.taps).toEqual([]);
  });

  it('times out a card that does not answer', async () => {
    const r = (current = rig({ transmitTimeoutMs: 50 }));
    await r.reader.start();
    const raw = r.addReader();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    card.injectFault({ kind: 'delay', ms: 300 });
    const failed = next(r.reader, 'error');
    raw.insert(card);
    expect((await failed)[0]).toMatchObject({
      code: 'card-unreadable',
      message: 'card did not answer in time',
    });
    expect(r.reader.channel()).toBeDefined();
    expect(r.reader.channel()?.open).toBe(false); // the connection is stalled
  });

  it("surfaces nfc-pcsc's emit(err) connect failures instead of losing them", async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    const failed = next(r.reader, 'error');
    raw.emitAsEventName(
      Object.assign(new Error('An error occurred while connecting.'), { name: 'ConnectError' }),
    );
    expect((await failed)[0]).toMatchObject({ code: 'card-unreadable' });
    const removedMidRead = next(r.reader, 'error');
    raw.emitAsEventName(new Error('connect failed'));
    raw.pull();
    expect((await removedMidRead)[0].code).toBe('card-removed-mid-read');
    raw.emitAsEventName(Object.assign(new Error('x'), { name: 'DisconnectError' }));
    await sleep(250);
    expect(r.errors).toHaveLength(2);
  });

  it('never throws when nobody listens to errors', async () => {
    const reader = new PcscCardReader({
      loadNfc: async () => () => wrapNfcObject(new RawNfc()),
      serviceAvailable: async () => false,
      retry: { initialMs: 5, maxMs: 5 },
    });
    await expect(reader.start()).resolves.toBeUndefined();
    await sleep(20);
    await reader.stop();
  });

  it('detaches an unplugged reader', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    raw.emit('error', new Error('SCardGetStatusChange error: Unknown reader.(0x80100009)'));
    raw.emit('end');
    await sleep(0);
    expect(r.reader.readers()).toEqual([]);
    expect(r.events).toEqual([
      'attached:ACME Reader 00 00',
      'detached:ACME Reader 00 00',
      'error:reader-disconnected',
    ]);
    await sleep(5);
    expect(raw.closed).toBe(true);
  });

  it('recovers from pcscd going away: detach, service-unavailable, backoff, re-attach', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    const tapped = next(r.reader, 'tap');
    raw.insert(card);
    await tapped;
    r.service.up = false;
    raw.emit('error', new Error('SCardGetStatusChange error: RPC transport error.(0x80100013)'));
    r.nfcs[0]?.emit(
      'error',
      new Error('SCardGetStatusChange error: RPC transport error.(0x80100013)'),
    );
    await sleep(0);
    expect(r.events.slice(4)).toEqual([
      'detached:ACME Reader 00 00',
      'error:service-unavailable',
      'card-removed',
    ]);
    await sleep(60);
    expect(r.nfcs).toHaveLength(1); // still down: no new NFC object (its constructor would spin)
    r.service.up = true;
    await sleep(80);
    expect(r.nfcs).toHaveLength(2);
    expect(r.nfcs[0]?.closed).toBe(true);
    const back = next(r.reader, 'reader-attached');
    r.addReader();
    expect((await back)[0].name).toBe('ACME Reader 00 00');
    expect(r.errors.map((e) => e.code)).toEqual(['service-unavailable']);
  });

  it('reports the service down at start and attaches once it is up', async () => {
    const r = (current = rig());
    r.service.up = false;
    await r.reader.start();
    expect(r.errors.map((e) => e.code)).toEqual(['service-unavailable']);
    expect(r.nfcs).toHaveLength(0);
    r.service.up = true;
    await sleep(50);
    expect(r.nfcs).toHaveLength(1);
  });

  it('hands out a channel that waits for the arrival read, serialises, and closes on removal', async () => {
    const r = (current = rig());
    await r.reader.start();
    const raw = r.addReader();
    const card = VirtualNtag424.blank('04DE5F1EACC040');
    card.injectFault({ kind: 'delay', ms: 20, match: (_a, i) => i <= 4 });
    const order: string[] = [];
    card.on('apdu', (x) => order.push(toHex(x.command.subarray(0, 2))));
    raw.insert(card);
    const channel = r.reader.channel();
    expect(channel).toMatchObject({
      readerName: 'ACME Reader 00 00',
      technology: 'ntag424',
      open: true,
    });
    const [a, b] = await Promise.all([
      channel?.transmit(fromHex('FFCA000000')),
      channel?.transmit(fromHex('9060000000')),
    ]);
    expect(toHex(a ?? new Uint8Array())).toBe('04DE5F1EACC0409000');
    expect(toHex(b ?? new Uint8Array()).slice(-4)).toBe('91AF');
    // The adapter's own read (UID, SELECT, SELECT, NLEN) came first.
    expect(order).toEqual(['FFCA', '00A4', '00A4', '00B0', 'FFCA', '9060']);
    raw.pull();
    expect(channel?.open).toBe(false);
    await expect(channel?.transmit(fromHex('FFCA000000'))).rejects.toThrow(/left the field/);
    expect(r.reader.channel()).toBeUndefined();
  });
});
