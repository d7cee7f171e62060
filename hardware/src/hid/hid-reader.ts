import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { CardReader, CardReaderEvents, ReaderErrorCode, ReaderInfo } from '../port.js';
import { IdentifierAssembler } from './boot-keyboard.js';

/** What node-hid's `devices()` returns, as far as we use it. */
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  product?: string | undefined;
  manufacturer?: string | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
  interface?: number | undefined;
}

/** An open HID device (node-hid's `HID`), as far as we use it. */
export interface HidDeviceHandle {
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  write(values: number[]): number;
  sendFeatureReport(data: number[]): number;
  close(): void;
}

/** Bytes for a status light / buzzer, written as an output or a feature report. */
export interface HidFeedbackConfig {
  report: 'output' | 'feature';
  /** Report bytes, report id first (0 when the device does not number reports). */
  accepted: number[];
  refused: number[];
  idle?: number[];
}

export type FeedbackOutcome = 'accepted' | 'refused' | 'idle';

/**
 * A device we use, matched on its descriptor. Unset fields match anything; usage page
 * and usage need the hidraw backend (libusb reports them as 0).
 */
export interface HidDeviceRule {
  /** 'wedge': a keyboard-wedge fob reader or barcode scanner; 'feedback': a light/buzzer. */
  role: 'wedge' | 'feedback';
  vendorId: number;
  productId?: number;
  /** Boot keyboards: usage page 01h (Generic Desktop), usage 06h (Keyboard). */
  usagePage?: number;
  usage?: number;
  interface?: number;
  /** Reader name in events (default: the product string, else `HID vvvv:pppp`). */
  name?: string;
  /** For devices whose reports start with a report id. */
  reportId?: number;
  /** Tab ends an identifier as Enter does. */
  tabEnds?: boolean;
  /** Identifiers this device may produce; others are reported unreadable. */
  accept?: RegExp;
  feedback?: HidFeedbackConfig;
}

export interface HidReaderOptions {
  rules: readonly HidDeviceRule[];
  /** Device enumeration; default node-hid's `devices()`. */
  devices?: () => HidDeviceInfo[] | Promise<HidDeviceInfo[]>;
  /** Opens a device by path; default `new HID.HID(path)` from node-hid. */
  open?: (path: string) => HidDeviceHandle | Promise<HidDeviceHandle>;
  /**
   * node-hid backend on Linux. 'libusb' detaches the kernel's keyboard driver, so a
   * wedge's keystrokes stop reaching the kiosk UI; 'hidraw' (default) leaves them going
   * there too, but reports usage pages.
   */
  driverType?: 'hidraw' | 'libusb';
  /** Re-enumerate this often for plugged/unplugged devices (ms; 0 = never). Default 2000. */
  rescanMs?: number;
  /** Clock (performance.now by default): tests pass their own. */
  now?: () => number;
}

/** Identifiers a wedge may type by default: fob numbers and common barcodes. */
export const DEFAULT_HID_ACCEPT = /^[0-9A-Za-z-]{4,40}$/;

interface OpenDevice {
  readonly key: string;
  readonly rule: HidDeviceRule;
  readonly info: ReaderInfo;
  readonly handle: HidDeviceHandle;
}

export function hidRuleMatches(rule: HidDeviceRule, d: HidDeviceInfo): boolean {
  return (
    rule.vendorId === d.vendorId &&
    (rule.productId === undefined || rule.productId === d.productId) &&
    (rule.usagePage === undefined || rule.usagePage === d.usagePage) &&
    (rule.usage === undefined || rule.usage === d.usage) &&
    (rule.interface === undefined || rule.interface === d.interface)
  );
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/**
 * The HID adapter: keyboard-wedge 125 kHz fob readers and barcode scanners opened raw
 * (node-hid), their boot-keyboard reports decoded into identifiers, each a TapRead with
 * technology 'hid-fob' and proof none; and optional status lights / buzzers for tap
 * feedback. Devices come and go: the list is re-read every `rescanMs`.
 *
 * Identifiers are personal data: never logged, never put in error messages.
 */
export class HidCardReader extends EventEmitter<CardReaderEvents> implements CardReader {
  readonly #options: HidReaderOptions;
  readonly #now: () => number;
  #devices: (() => HidDeviceInfo[] | Promise<HidDeviceInfo[]>) | undefined;
  #open: ((path: string) => HidDeviceHandle | Promise<HidDeviceHandle>) | undefined;
  readonly #wedges = new Map<string, OpenDevice>();
  readonly #feedback = new Map<string, OpenDevice>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Paths that failed to open: reported once, retried quietly on each rescan. */
  readonly #failedOpen = new Set<string>();
  #scanning: Promise<void> | undefined;

  constructor(options: HidReaderOptions) {
    super();
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#devices = options.devices;
    this.#open = options.open;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (!this.#devices || !this.#open) {
      try {
        const hid = await import('node-hid');
        if (this.#options.driverType) hid.setDriverType(this.#options.driverType);
        this.#devices ??= () => hid.devices();
        this.#open ??= (path) => new hid.HID(path);
      } catch (err) {
        this.#running = false;
        this.#fail('reader-error', `HID library unavailable: ${messageOf(err)}`);
        return;
      }
    }
    await this.rescan();
    const every = this.#options.rescanMs ?? 2000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.rescan(), every);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#scanning;
    for (const d of [...this.#wedges.values(), ...this.#feedback.values()]) this.#close(d, false);
  }

  readers(): ReaderInfo[] {
    return [...this.#wedges.values()].map((d) => d.info);
  }

  /** Names of the open feedback devices (lights, buzzers). */
  feedbackDevices(): string[] {
    return [...this.#feedback.values()].map((d) => d.info.name);
  }

  /**
   * Shows a tap outcome on every feedback device (and on wedges that have feedback
   * bytes configured). Returns how many devices took the report.
   */
  signal(outcome: FeedbackOutcome): number {
    let written = 0;
    for (const d of [...this.#feedback.values(), ...this.#wedges.values()]) {
      const config = d.rule.feedback;
      const bytes = config?.[outcome];
      if (!config || !bytes) continue;
      try {
        if (config.report === 'feature') d.handle.sendFeatureReport(bytes);
        else d.handle.write(bytes);
        written += 1;
      } catch (err) {
        this.#fail(
          'reader-error',
          `feedback to ${d.info.name} failed: ${messageOf(err)}`,
          d.info.name,
        );
      }
    }
    return written;
  }

  /** Enumerates devices now: opens new matches, drops vanished ones. */
  rescan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const list = this.#devices;
    if (!this.#running || !list) return;
    let found: HidDeviceInfo[];
    try {
      found = await list();
    } catch (err) {
      this.#fail('reader-error', `HID enumeration failed: ${messageOf(err)}`);
      return;
    }
    const present = new Set<string>();
    for (const device of found) {
      const rule = this.#options.rules.find((r) => hidRuleMatches(r, device));
      if (!rule || !device.path) continue;
      const key = device.path;
      present.add(key);
      if (this.#wedges.has(key) || this.#feedback.has(key)) continue;
      await this.#attach(rule, device, key);
    }
    for (const d of [...this.#wedges.values(), ...this.#feedback.values()]) {
      if (!present.has(d.key)) this.#close(d, true);
    }
    for (const path of this.#failedOpen) if (!present.has(path)) this.#failedOpen.delete(path);
  }

  async #attach(rule: HidDeviceRule, device: HidDeviceInfo, key: string): Promise<void> {
    const open = this.#open;
    if (!open || !this.#running) return;
    let handle: HidDeviceHandle;
    try {
      handle = await open(key);
    } catch (err) {
      if (this.#failedOpen.has(key)) return;
      this.#failedOpen.add(key);
      this.#fail(
        'reader-error',
        `cannot open HID device ${hex4(device.vendorId)}:${hex4(device.productId)}: ${messageOf(err)}`,
      );
      return;
    }
    this.#failedOpen.delete(key);
    const info: ReaderInfo = { name: this.#uniqueName(rule, device), adapter: 'hid' };
    const opened: OpenDevice = { key, rule, info, handle };
    handle.on('error', () => {
      // node-hid reports an unplugged device as a read error.
      if (!this.#wedges.has(key) && !this.#feedback.has(key)) return;
      this.#close(opened, true);
    });
    if (rule.role === 'feedback') {
      this.#feedback.set(key, opened);
      return;
    }
    const assembler = new IdentifierAssembler({
      ...(rule.reportId !== undefined ? { reportId: rule.reportId } : {}),
      ...(rule.tabEnds !== undefined ? { tabEnds: rule.tabEnds } : {}),
    });
    handle.on('data', (data) => {
      const now = this.#now();
      for (const { identifier, firstKeyAt } of assembler.push(new Uint8Array(data), now)) {
        this.#onIdentifier(opened, identifier, firstKeyAt);
      }
    });
    this.#wedges.set(key, opened);
    this.emit('reader-attached', info);
  }

  #onIdentifier(device: OpenDevice, raw: string, firstKeyAt: number): void {
    const identifier = raw.toUpperCase();
    const readerName = device.info.name;
    if (!(device.rule.accept ?? DEFAULT_HID_ACCEPT).test(identifier)) {
      this.#fail(
        'card-unreadable',
        'the reader typed something that is not an identifier',
        readerName,
      );
      return;
    }
    this.emit('tap', {
      readerName,
      technology: 'hid-fob',
      identifier,
      proof: { kind: 'none' },
      detectedAt: firstKeyAt,
      apduMs: 0,
    });
    // A wedge read is instantaneous: the "card" is gone as soon as it is typed.
    this.emit('card-removed', { readerName });
  }

  #close(device: OpenDevice, unplugged: boolean): void {
    const wasWedge = this.#wedges.delete(device.key);
    this.#feedback.delete(device.key);
    try {
      device.handle.close();
    } catch {
      // Already gone with the device.
    }
    if (!wasWedge) return;
    this.emit('reader-detached', device.info);
    if (unplugged) this.#fail('reader-disconnected', 'card reader disconnected', device.info.name);
  }

  #uniqueName(rule: HidDeviceRule, device: HidDeviceInfo): string {
    const base =
      rule.name ?? device.product ?? `HID ${hex4(device.vendorId)}:${hex4(device.productId)}`;
    const taken = new Set(
      [...this.#wedges.values(), ...this.#feedback.values()].map((d) => d.info.name),
    );
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) if (!taken.has(`${base} #${n}`)) return `${base} #${n}`;
  }

  #fail(code: ReaderErrorCode, message: string, readerName?: string): void {
    if (this.listenerCount('error') === 0) return; // never an unheard 'error' throw
    this.emit('error', { code, message, ...(readerName ? { readerName } : {}) });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
