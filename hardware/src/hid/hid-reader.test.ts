import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ReaderError, TapRead } from '../port.js';
import { fromHex } from '../pcsc/bytes.js';
import {
  HidCardReader,
  hidRuleMatches,
  type HidDeviceHandle,
  type HidDeviceInfo,
} from './hid-reader.js';

/**
 * Recorded input reports. A 125 kHz EM4100 keyboard-wedge reader typing the fob number
 * 0004921356 and Enter (boot reports, 8 bytes: key down, then all keys up, per key).
 */
const FOB_RECORDING = `
0000270000000000 0000000000000000 0000270000000000 0000000000000000
0000270000000000 0000000000000000 0000210000000000 0000000000000000
0000260000000000 0000000000000000 00001F0000000000 0000000000000000
00001E0000000000 0000000000000000 0000200000000000 0000000000000000
0000220000000000 0000000000000000 0000230000000000 0000000000000000
0000280000000000 0000000000000000`;

/**
 * A barcode scanner with numbered reports (id 01) scanning a library card LIB-00042X:
 * shift pressed on its own first, then with the letter; a key held over two reports.
 */
const BARCODE_RECORDING = `
010200000000000000 0102000F0000000000 010200000000000000 0102000C0000000000
010200050000000000 010000000000000000 0100002D0000000000 0100002D0000000000
010000000000000000 010000270000000000 010000000000000000 010000270000000000
010000000000000000 010000270000000000 010000000000000000 010000210000000000
010000000000000000 0100001F0000000000 010000000000000000 0102001B0000000000
010000000000000000 010000280000000000 010000000000000000`;

const reports = (recording: string): Buffer[] =>
  recording
    .trim()
    .split(/\s+/)
    .map((h) => Buffer.from(fromHex(h)));

/** Stands in for node-hid's HID object: the adapter subscribes to 'data' exactly as on a real one. */
class FakeHidDevice extends EventEmitter implements HidDeviceHandle {
  written: number[][] = [];
  features: number[][] = [];
  closed = false;
  write(values: number[]): number {
    this.written.push(values);
    return values.length;
  }
  sendFeatureReport(data: number[]): number {
    this.features.push(data);
    return data.length;
  }
  close(): void {
    this.closed = true;
  }
  play(recording: string): void {
    for (const r of reports(recording)) this.emit('data', r);
  }
}

const FOB: HidDeviceInfo = {
  vendorId: 0xffff,
  productId: 0x0035,
  path: '/dev/hidraw3',
  product: 'Sycreader RFID Technology Co., Ltd SYC ID&IC USB Reader',
  usagePage: 0x01,
  usage: 0x06,
  interface: 0,
};
const FOB_CONSUMER: HidDeviceInfo = {
  ...FOB,
  path: '/dev/hidraw4',
  usagePage: 0x0c,
  usage: 0x01,
  interface: 1,
};
const SCANNER: HidDeviceInfo = {
  vendorId: 0x05e0,
  productId: 0x1200,
  path: '/dev/hidraw5',
  product: 'Symbol Bar Code Scanner',
  usagePage: 1,
  usage: 6,
};
const LIGHT: HidDeviceInfo = {
  vendorId: 0x27b8,
  productId: 0x01ed,
  path: '/dev/hidraw6',
  product: 'blink(1)',
  usagePage: 0xff00,
  usage: 1,
};
const MOUSE: HidDeviceInfo = {
  vendorId: 0x046d,
  productId: 0xc077,
  path: '/dev/hidraw0',
  usagePage: 1,
  usage: 2,
};

function setup(list: HidDeviceInfo[]) {
  const opened = new Map<string, FakeHidDevice>();
  let clock = 1000;
  const reader = new HidCardReader({
    rules: [
      {
        role: 'wedge',
        vendorId: 0xffff,
        productId: 0x0035,
        usagePage: 0x01,
        usage: 0x06,
        name: 'Leisure fob reader',
      },
      {
        role: 'wedge',
        vendorId: 0x05e0,
        usagePage: 1,
        usage: 6,
        reportId: 0x01,
        accept: /^LIB-\d{5}X$/,
      },
      {
        role: 'feedback',
        vendorId: 0x27b8,
        productId: 0x01ed,
        feedback: {
          report: 'feature',
          accepted: [1, 0x63, 0, 0xff, 0],
          refused: [1, 0x63, 0xff, 0, 0],
        },
      },
    ],
    devices: () => list,
    open: (path) => {
      const d = new FakeHidDevice();
      opened.set(path, d);
      return d;
    },
    rescanMs: 0,
    now: () => (clock += 1),
  });
  const taps: TapRead[] = [];
  const errors: ReaderError[] = [];
  const events: string[] = [];
  reader.on('tap', (t) => taps.push(t));
  reader.on('error', (e) => errors.push(e));
  for (const e of ['reader-attached', 'reader-detached', 'card-removed'] as const) {
    reader.on(e, () => events.push(e));
  }
  return { reader, opened, taps, errors, events };
}

describe('HID descriptor matching', () => {
  it('matches vendor/product and usage page/usage, leaving unset fields open', () => {
    const rule = { role: 'wedge' as const, vendorId: 0xffff, usagePage: 1, usage: 6 };
    expect(hidRuleMatches(rule, FOB)).toBe(true);
    expect(hidRuleMatches(rule, FOB_CONSUMER)).toBe(false);
    expect(hidRuleMatches(rule, MOUSE)).toBe(false);
    expect(hidRuleMatches({ role: 'wedge', vendorId: 0xffff, productId: 0x0036 }, FOB)).toBe(false);
  });
});

describe('HidCardReader with injected devices', () => {
  it('opens only matching devices and names readers', async () => {
    const { reader, opened } = setup([MOUSE, FOB, FOB_CONSUMER, SCANNER, LIGHT]);
    await reader.start();
    expect([...opened.keys()].sort()).toEqual(['/dev/hidraw3', '/dev/hidraw5', '/dev/hidraw6']);
    expect(reader.readers()).toEqual([
      { name: 'Leisure fob reader', adapter: 'hid' },
      { name: 'Symbol Bar Code Scanner', adapter: 'hid' },
    ]);
    expect(reader.feedbackDevices()).toEqual(['blink(1)']);
    await reader.stop();
    expect([...opened.values()].every((d) => d.closed)).toBe(true);
  });

  it('turns a recorded fob read into a hid-fob TapRead', async () => {
    const { reader, opened, taps, events } = setup([FOB]);
    await reader.start();
    opened.get('/dev/hidraw3')?.play(FOB_RECORDING);
    expect(taps).toEqual([
      {
        readerName: 'Leisure fob reader',
        technology: 'hid-fob',
        identifier: '0004921356',
        proof: { kind: 'none' },
        detectedAt: 1001,
        apduMs: 0,
      },
    ]);
    expect(events).toEqual(['reader-attached', 'card-removed']);
    await reader.stop();
  });

  it('decodes a numbered-report barcode scanner with shifted letters and a held key', async () => {
    const { reader, opened, taps } = setup([SCANNER]);
    await reader.start();
    opened.get('/dev/hidraw5')?.play(BARCODE_RECORDING);
    expect(taps.map((t) => t.identifier)).toEqual(['LIB-00042X']);
    await reader.stop();
  });

  it('reports input outside the accepted pattern as unreadable, without the text', async () => {
    const { reader, opened, taps, errors } = setup([SCANNER]);
    await reader.start();
    opened
      .get('/dev/hidraw5')
      ?.play(BARCODE_RECORDING.replace('010000210000000000', '010000040000000000'));
    expect(taps).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('card-unreadable');
    expect(errors[0]?.message).not.toMatch(/LIB|0004/);
    await reader.stop();
  });

  it('drives the status light with the configured feature report', async () => {
    const { reader, opened } = setup([FOB, LIGHT]);
    await reader.start();
    expect(reader.signal('accepted')).toBe(1);
    expect(reader.signal('refused')).toBe(1);
    expect(reader.signal('idle')).toBe(0); // no idle bytes configured
    expect(opened.get('/dev/hidraw6')?.features).toEqual([
      [1, 0x63, 0, 0xff, 0],
      [1, 0x63, 0xff, 0, 0],
    ]);
    await reader.stop();
  });

  it('attaches plugged devices and detaches unplugged ones on rescan and on read errors', async () => {
    const list: HidDeviceInfo[] = [];
    const { reader, opened, events, errors } = setup(list);
    await reader.start();
    expect(reader.readers()).toEqual([]);
    list.push(FOB, SCANNER);
    await reader.rescan();
    expect(reader.readers()).toHaveLength(2);
    list.splice(0, 1);
    await reader.rescan();
    expect(reader.readers().map((r) => r.name)).toEqual(['Symbol Bar Code Scanner']);
    opened.get('/dev/hidraw5')?.emit('error', new Error('could not read from HID device'));
    expect(reader.readers()).toEqual([]);
    expect(events.filter((e) => e === 'reader-detached')).toHaveLength(2);
    expect(errors.map((e) => e.code)).toEqual(['reader-disconnected', 'reader-disconnected']);
    await reader.stop();
  });

  it('reports a device it cannot open, and keeps going', async () => {
    const reader = new HidCardReader({
      rules: [{ role: 'wedge', vendorId: 0xffff }],
      devices: () => [FOB],
      open: () => {
        throw new Error('permission denied');
      },
      rescanMs: 0,
    });
    const errors: ReaderError[] = [];
    reader.on('error', (e) => errors.push(e));
    await reader.start();
    await reader.rescan(); // retried quietly: one report per device, not one per scan
    expect(errors.map((e) => e.code)).toEqual(['reader-error']);
    expect(reader.readers()).toEqual([]);
    await reader.stop();
  });
});

describe('the real node-hid binding', () => {
  it('loads, and HID.devices() returns an array', async () => {
    const hid = await import('node-hid');
    expect(Array.isArray(hid.devices())).toBe(true);
    const reader = new HidCardReader({ rules: [{ role: 'wedge', vendorId: 0xffff }], rescanMs: 0 });
    await reader.start();
    expect(Array.isArray(reader.readers())).toBe(true);
    await reader.stop();
  });
});
