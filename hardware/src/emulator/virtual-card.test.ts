import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../pcsc/bytes.js';
import { tap } from './tap.js';
import { NTAG21X_ATR, VirtualNtag21x } from './virtual-ntag21x.js';
import { encodeVpcdFrame, VpcdFrameDecoder } from './vpcd-protocol.js';

/** A stand-in for vpcd: accepts one card and exchanges frames with it. */
class FakeVpcd {
  readonly server: Server;
  socket: Socket | undefined;
  readonly #decoder = new VpcdFrameDecoder();
  readonly #frames: Uint8Array[] = [];
  #waiting: ((f: Uint8Array | undefined) => void) | undefined;
  closed = false;

  constructor() {
    this.server = createServer((socket) => {
      this.socket = socket;
      this.closed = false;
      socket.on('data', (chunk) => {
        for (const f of this.#decoder.push(chunk)) this.#deliver(f);
      });
      socket.on('close', () => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.closed = true;
        this.#deliver(undefined);
      });
    });
  }

  #deliver(frame: Uint8Array | undefined): void {
    const waiter = this.#waiting;
    this.#waiting = undefined;
    if (waiter) waiter(frame);
    else if (frame) this.#frames.push(frame);
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  async connected(): Promise<void> {
    while (!this.socket) await new Promise((r) => setTimeout(r, 5));
  }

  /** Sends a message and waits for the card's answer (undefined: the card left). */
  async exchange(payload: Uint8Array): Promise<Uint8Array | undefined> {
    this.socket?.write(encodeVpcdFrame(payload));
    return this.next();
  }

  send(payload: Uint8Array): void {
    this.socket?.write(encodeVpcdFrame(payload));
  }

  next(): Promise<Uint8Array | undefined> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }
}

describe('VirtualCard over the vpcd socket', () => {
  let vpcd: FakeVpcd;
  afterEach(() => vpcd?.close());

  it('answers ATR requests at any time and APDUs after power cycles', async () => {
    vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    const powers: string[] = [];
    card.on('power', (p) => powers.push(p));
    await card.present({ port });
    await vpcd.connected();
    expect(toHex((await vpcd.exchange(Uint8Array.of(0x04))) ?? new Uint8Array())).toBe(
      toHex(NTAG21X_ATR),
    );
    vpcd.send(Uint8Array.of(0x01));
    expect(toHex((await vpcd.exchange(fromHex('FFCA000000'))) ?? new Uint8Array())).toBe(
      '04A1B2C3D4E5F69000',
    );
    vpcd.send(Uint8Array.of(0x00));
    expect((await vpcd.exchange(Uint8Array.of(0x04)))?.length).toBe(NTAG21X_ATR.length);
    vpcd.send(Uint8Array.of(0x02));
    expect(toHex((await vpcd.exchange(fromHex('FFCA000000'))) ?? new Uint8Array())).toBe(
      '04A1B2C3D4E5F69000',
    );
    expect(powers).toEqual(['on', 'off', 'reset']);
    await card.remove();
    expect(await vpcd.next()).toBeUndefined();
    expect(card.inField).toBe(false);
  });

  it('leaves the field between command and response on a removal fault', async () => {
    vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    card.injectFault({ kind: 'remove-during-apdu', atApdu: 2 });
    const removed = once(card, 'removed');
    await card.present({ port });
    await vpcd.connected();
    expect(await vpcd.exchange(fromHex('FFCA000000'))).toBeDefined();
    expect(await vpcd.exchange(fromHex('FFB0000010'))).toBeUndefined();
    expect(await removed).toEqual([{ by: 'fault' }]);
  });

  it('answers, then leaves, on remove-after-apdu', async () => {
    vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    card.injectFault({ kind: 'remove-after-apdu', afterApdus: 1 });
    await card.present({ port });
    await vpcd.connected();
    expect(await vpcd.exchange(fromHex('FFCA000000'))).toBeDefined();
    await card.whenRemoved();
    expect(card.inField).toBe(false);
  });

  it('answers late with a delay fault', async () => {
    vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    card.injectFault({ kind: 'delay', ms: 150 });
    await card.present({ port });
    await vpcd.connected();
    const t0 = performance.now();
    await vpcd.exchange(fromHex('FFCA000000'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    await card.remove();
  });

  it('tap() presents, holds until released and removes; peer close counts as removal', async () => {
    vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    const card = new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' });
    const tapped = tap(card, { port, holdMs: 5_000, until: new Promise((r) => setTimeout(r, 50)) });
    await tapped;
    expect(card.inField).toBe(false);
    const removed = once(card, 'removed');
    await card.present({ port });
    await vpcd.connected();
    vpcd.socket?.destroy();
    expect(await removed).toEqual([{ by: 'peer' }]);
  });

  it('rejects present() when nothing listens', async () => {
    vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    vpcd.close();
    await new Promise((r) => setTimeout(r, 20));
    await expect(new VirtualNtag21x({ uid: '04A1B2C3D4E5F6' }).present({ port })).rejects.toThrow();
  });
});
