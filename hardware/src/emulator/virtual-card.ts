import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  classifyVpcdPayload,
  encodeVpcdFrame,
  VPCD_DEFAULT_HOST,
  VPCD_DEFAULT_PORT,
  VpcdFrameDecoder,
} from './vpcd-protocol.js';

/** Where the vpcd driver listens: slot 0 is 127.0.0.1:35963. */
export interface VpcdEndpoint {
  host?: string;
  port?: number;
}

/** Selects the APDUs a fault applies to; `index` counts APDUs from 1 since present(). */
export type ApduMatcher = (apdu: Uint8Array, index: number) => boolean;

/**
 * Misbehaviour on demand. Faults stay active until clearFaults(); several may be active
 * at once and are applied in the order they were injected.
 */
export type CardFault =
  /** The card leaves the field after the command reached it and before it answers. */
  | { kind: 'remove-during-apdu'; atApdu: number }
  /** The card answers this APDU and then leaves the field. */
  | { kind: 'remove-after-apdu'; afterApdus: number }
  /** The answer comes late (slow card, weak coupling). */
  | { kind: 'delay'; ms: number; match?: ApduMatcher }
  /** The answer is replaced by a bare status word. */
  | { kind: 'status'; sw: number; match?: ApduMatcher }
  /** The response data is `delta` bytes longer (zero filled) or shorter than it should be. */
  | { kind: 'wrong-length'; delta: number; match?: ApduMatcher }
  /** The answer is `length` random bytes. */
  | { kind: 'garbage'; length: number; match?: ApduMatcher };

export interface ApduExchange {
  index: number;
  command: Uint8Array;
  /** undefined when the card left the field instead of answering. */
  response: Uint8Array | undefined;
}

export interface VirtualCardEvents {
  /** Every APDU the card saw, with what it answered (for test assertions). */
  apdu: [ApduExchange];
  /** vpcd control codes: the session state was reset. */
  power: ['off' | 'on' | 'reset'];
  /** The socket closed: by remove(), by a fault, or because vpcd/pcscd went away. */
  removed: [{ by: 'card' | 'fault' | 'peer' }];
}

/** Thrown by transceive() when a fault takes the card out of the field. */
export class CardRemovedError extends Error {
  override readonly name = 'CardRemovedError';
}

/**
 * A contactless card behind the vpcd driver. The socket being open is the card being in
 * the reader's field: present() connects, remove() closes. Subclasses model one chip
 * (its ATR and APDU handling); this class does the transport, power cycles and faults.
 *
 * pcscd polls the card about every 400 ms with GET ATR and powers idle cards off after
 * about 5 s, so power-off / power-on can arrive at any time: both simply reset the
 * session state (selected file, authentication) as a real chip's would on field loss.
 */
export abstract class VirtualCard extends EventEmitter<VirtualCardEvents> {
  /** Answer to reset, as the reader reports it (PC/SC part 3 §3.1.3.2.3 for contactless). */
  abstract readonly atr: Uint8Array;

  #socket: Socket | undefined;
  #closed: Promise<void> = Promise.resolve();
  #faults: CardFault[] = [];
  #apduIndex = 0;
  #queue: Promise<void> = Promise.resolve();
  #lastRemoval: 'card' | 'fault' | 'peer' | undefined;

  /** Handles one command APDU and returns the response (data ‖ SW1 SW2). */
  protected abstract processApdu(command: Uint8Array): Uint8Array | Promise<Uint8Array>;

  /** Clears volatile state (selection, authentication) on power off/on/reset and removal. */
  protected abstract resetSession(): void;

  /** True while the socket to vpcd is open. */
  get inField(): boolean {
    return this.#socket !== undefined;
  }

  /** Puts the card in the field: resolves once vpcd accepted the connection. */
  async present(endpoint: VpcdEndpoint = {}): Promise<void> {
    if (this.#socket) throw new Error('card is already in the field');
    this.#apduIndex = 0;
    this.#lastRemoval = undefined;
    this.resetSession();
    const socket = createConnection({
      host: endpoint.host ?? VPCD_DEFAULT_HOST,
      port: endpoint.port ?? VPCD_DEFAULT_PORT,
    });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    });
    this.#socket = socket;
    const decoder = new VpcdFrameDecoder();
    this.#closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        if (this.#socket === socket) this.#socket = undefined;
        this.resetSession();
        const by = this.#lastRemoval ?? 'peer';
        this.#lastRemoval = by;
        this.emit('removed', { by });
        resolve();
      });
    });
    // A reset connection (pcscd killed) must not crash the test process.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        this.#queue = this.#queue.then(() => this.#onFrame(socket, frame));
      }
    });
  }

  /** Takes the card out of the field; resolves when the socket has closed. */
  async remove(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    this.#lastRemoval ??= 'card';
    socket.destroy();
    await this.#closed;
  }

  /** Resolves when the card has left the field (by any cause). */
  whenRemoved(): Promise<void> {
    return this.#closed;
  }

  /**
   * In-process field reset: what a power cycle from vpcd does (selection and
   * authentication cleared, a new SDM read session). For tests driving transceive().
   */
  fieldReset(): void {
    this.resetSession();
  }

  injectFault(fault: CardFault): this {
    this.#faults.push(fault);
    return this;
  }

  clearFaults(): this {
    this.#faults = [];
    return this;
  }

  /**
   * Exchanges one APDU in-process, with faults applied, exactly as the socket path does:
   * unit tests drive reader logic through it without pcscd. Rejects with
   * CardRemovedError when a removal fault fires.
   */
  async transceive(command: Uint8Array): Promise<Uint8Array> {
    const outcome = await this.#exchange(command);
    if (outcome.removeBefore) throw new CardRemovedError('card left the field mid-APDU');
    if (!outcome.response) throw new CardRemovedError('card left the field');
    return outcome.response;
  }

  async #onFrame(socket: Socket, payload: Uint8Array): Promise<void> {
    if (socket.destroyed) return;
    const message = classifyVpcdPayload(payload);
    switch (message.kind) {
      case 'power-off':
      case 'power-on':
      case 'reset':
        this.resetSession();
        this.emit(
          'power',
          message.kind === 'power-off' ? 'off' : message.kind === 'power-on' ? 'on' : 'reset',
        );
        return;
      case 'get-atr':
        socket.write(encodeVpcdFrame(this.atr));
        return;
      case 'unknown-control':
        return;
      case 'apdu': {
        const outcome = await this.#exchange(message.apdu);
        if (outcome.removeBefore) {
          this.#lastRemoval = 'fault';
          socket.destroy();
          return;
        }
        if (socket.destroyed || !outcome.response) return;
        socket.write(encodeVpcdFrame(outcome.response));
        if (outcome.removeAfter) {
          this.#lastRemoval = 'fault';
          // Let the answer reach vpcd before the "card" goes.
          socket.end(() => socket.destroy());
        }
        return;
      }
    }
  }

  async #exchange(
    command: Uint8Array,
  ): Promise<{ response: Uint8Array | undefined; removeBefore: boolean; removeAfter: boolean }> {
    const index = ++this.#apduIndex;
    const faults = [...this.#faults];
    const matches = (m: ApduMatcher | undefined): boolean => !m || m(command, index);
    if (faults.some((f) => f.kind === 'remove-during-apdu' && f.atApdu === index)) {
      this.emit('apdu', { index, command, response: undefined });
      return { response: undefined, removeBefore: true, removeAfter: false };
    }
    let response: Uint8Array;
    try {
      response = await this.processApdu(command);
    } catch {
      // A modelling bug must look like a card error on the wire, not kill the emulator.
      response = Uint8Array.of(0x6f, 0x00);
    }
    for (const f of faults) {
      switch (f.kind) {
        case 'delay':
          if (matches(f.match)) await sleep(f.ms);
          break;
        case 'status':
          if (matches(f.match)) response = Uint8Array.of(f.sw >> 8, f.sw & 0xff);
          break;
        case 'wrong-length':
          if (matches(f.match)) response = changeDataLength(response, f.delta);
          break;
        case 'garbage':
          if (matches(f.match)) response = new Uint8Array(randomBytes(f.length));
          break;
        default:
          break;
      }
    }
    const removeAfter = faults.some(
      (f) => f.kind === 'remove-after-apdu' && f.afterApdus === index,
    );
    this.emit('apdu', { index, command, response });
    return { response, removeBefore: false, removeAfter };
  }
}

/** Grows (zero fill) or shrinks the data part of a response, keeping its status word. */
function changeDataLength(response: Uint8Array, delta: number): Uint8Array {
  const dataLength = Math.max(0, response.length - 2);
  const newLength = Math.max(0, dataLength + delta);
  const out = new Uint8Array(newLength + 2);
  out.set(response.subarray(0, Math.min(dataLength, newLength)), 0);
  out.set(response.subarray(dataLength), newLength);
  return out;
}
