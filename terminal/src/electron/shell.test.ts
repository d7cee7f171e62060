import { describe, expect, it } from 'vitest';
import type { BridgeResult, KioskState, StaffView } from '../bridge/kiosk-bridge.js';
import { APP_URL, type ProtocolLike } from './app-protocol.js';
import { IpcRefused, type IpcEventLike } from './ipc.js';
import { startShell, type ServicesLike } from './shell.js';

type Listener = (...args: never[]) => void;
/** A registered listener, called with test arguments. */
const fire = (m: Map<string, Listener>, ev: string): ((...args: unknown[]) => void) =>
  m.get(ev) as unknown as (...args: unknown[]) => void;

function fakeElectron() {
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  const appEvents = new Map<string, Listener>();
  const contentsEvents = new Map<string, Listener>();
  const sent: unknown[] = [];
  let reloads = 0;
  let focused = 0;
  let served: ((r: { url: string; method: string }) => Response) | null = null;
  const contents = {
    on: (ev: string, l: Listener) => contentsEvents.set(ev, l),
    setWindowOpenHandler: () => undefined,
    send: (_c: string, m: unknown) => sent.push(m),
    reload: () => reloads++,
    session: {
      setPermissionRequestHandler: () => undefined,
      setPermissionCheckHandler: () => undefined,
    },
  };
  const windows: unknown[] = [];
  class FakeWindow {
    webContents = contents;
    loaded = '';
    constructor() {
      windows.push(this);
    }
    async loadURL(u: string): Promise<void> {
      this.loaded = u;
    }
    on(): void {}
    focus(): void {
      focused++;
    }
    isMinimized(): boolean {
      return false;
    }
    restore(): void {}
    static fromWebContents(wc: unknown): unknown {
      return wc === contents ? windows[0] : null;
    }
  }
  const protocol: ProtocolLike = {
    registerSchemesAsPrivileged: () => undefined,
    handle: (_s, h) => {
      served = h;
    },
  };
  return {
    handlers,
    appEvents,
    contentsEvents,
    sent,
    contents,
    FakeWindow,
    protocol,
    reloads: () => reloads,
    focused: () => focused,
    served: () => served,
    win: () => windows[0] as { loaded: string },
    app: {
      requestSingleInstanceLock: () => true,
      quit: () => undefined,
      on: (ev: string, l: Listener) => appEvents.set(ev, l),
      enableSandbox: () => undefined,
      whenReady: async () => undefined,
      relaunch: () => undefined,
      exit: () => undefined,
    },
  };
}

function fakeServices(calls: string[]): ServicesLike {
  const ok: BridgeResult = { ok: true, code: null };
  const staff: StaffView = {
    status: 'signed-out',
    firstName: null,
    attemptsLeft: null,
    until: null,
    warnFrom: null,
    approvals: [],
  };
  return {
    state: () => ({ provisioned: true }) as KioskState,
    syncNow: () => calls.push('sync'),
    on: () => undefined,
    setLanguage: (l) => (calls.push(`lang:${l}`), ok),
    redeem: (id, q) => (calls.push(`redeem:${id}:${q}`), ok),
    cancelRedemption: () => (calls.push('cancel'), ok),
    staffPin: (p) => (calls.push(`pin:${p}`), ok),
    staffSignOut: () => ok,
    staffExtend: () => ok,
    approve: (id) => (calls.push(`approve:${id}`), ok),
    rejectedEvents: () => null,
    staffView: () => staff,
    staffLookup: async (q) => (calls.push(`lookup:${q}`), []),
    staffRecordVisit: (r) => (calls.push(`visit:${r}`), ok),
    staffConsent: (r) => (calls.push(`consent:${r.residentRef}`), ok),
    staffCard: (r) => (calls.push(`card:${r.purpose}`), ok),
  };
}

describe('kiosk shell on app://', () => {
  it('serves the UI on app://kiosk/ and answers IPC only from that page', async () => {
    const e = fakeElectron();
    const calls: string[] = [];
    await startShell({
      app: e.app,
      BrowserWindow: e.FakeWindow as never,
      ipcMain: { handle: (c, l) => e.handlers.set(c, l) },
      core: fakeServices(calls),
      protocol: e.protocol,
      assets: { html: '<!doctype html>', js: '', css: '' },
      preloadPath: '/app/preload.js',
      kiosk: true,
    });
    expect(e.win().loaded).toBe(APP_URL);
    expect(e.served()!({ url: APP_URL, method: 'GET' }).status).toBe(200);
    const page = { sender: e.contents, senderFrame: { url: 'app://kiosk/' } };
    const call = (ch: string, event: IpcEventLike, arg?: unknown): unknown =>
      e.handlers.get(ch)!(event, ...(arg === undefined ? [] : [arg]));

    expect(call('kiosk:set-language', page, { language: 'cy' })).toEqual({ ok: true, code: null });
    expect(call('kiosk:redeem', page, { optionId: 'swim/free-swim', quantity: 1 })).toMatchObject({
      ok: true,
    });
    expect(call('kiosk:staff-pin', page, { pin: '2468' })).toMatchObject({ ok: true });
    expect(call('kiosk:approve', page, { id: 'a-1' })).toMatchObject({ ok: true });
    expect(call('kiosk:rejected-events', page)).toEqual([]);
    expect(calls).toEqual(['lang:cy', 'redeem:swim/free-swim:1', 'pin:2468', 'approve:a-1']);

    const adversarial: [string, IpcEventLike, unknown][] = [
      [
        'kiosk:set-language',
        { sender: {}, senderFrame: { url: 'app://kiosk/' } },
        { language: 'cy' },
      ],
      [
        'kiosk:set-language',
        { sender: e.contents, senderFrame: { url: 'https://evil.example/' } },
        { language: 'cy' },
      ],
      [
        'kiosk:set-language',
        { sender: e.contents, senderFrame: { url: 'app://evil/' } },
        { language: 'cy' },
      ],
      ['kiosk:set-language', { sender: e.contents, senderFrame: null }, { language: 'cy' }],
      ['kiosk:set-language', page, { language: 'fr' }],
      ['kiosk:set-language', page, { language: 'cy', residentRef: 'r-someone-else' }],
      ['kiosk:redeem', page, { optionId: '../../etc', quantity: 1 }],
      ['kiosk:redeem', page, { optionId: 'swim/free-swim', quantity: 1000 }],
      ['kiosk:redeem', page, { optionId: 'swim/free-swim', quantity: 1.5 }],
      ['kiosk:staff-pin', page, { pin: '12' }],
      ['kiosk:staff-pin', page, { pin: '2468; DROP TABLE staff' }],
      ['kiosk:staff-pin', page, '2468'],
      ['kiosk:approve', page, { id: '' }],
      ['kiosk:cancel-redemption', page, { extra: true }],
      ['kiosk:sync-now', page, 'now'],
      ['kiosk:staff-lookup', page, { query: 'a' }],
      ['kiosk:staff-lookup', page, { query: 'x'.repeat(41) }],
      ['kiosk:staff-record-visit', page, { residentRef: "r-1'; DROP" }],
      ['kiosk:staff-consent', page, { residentRef: 'r-abcdefgh', analytics: 'yes' }],
      [
        'kiosk:staff-consent',
        page,
        {
          residentRef: 'r-abcdefgh',
          analytics: true,
          healthVisits: false,
          contact: false,
          attributes: ['religion'],
        },
      ],
      ['kiosk:staff-card', page, { purpose: 'enrol', firstName: 'A', ageBand: '18-25' }],
      ['kiosk:staff-card', page, { purpose: 'issue-keys' }],
    ];
    for (const [ch, event, arg] of adversarial) {
      expect(() => call(ch, event, arg), `${ch} ${JSON.stringify(arg)}`).toThrow(IpcRefused);
    }
    expect(calls).toHaveLength(4);
    // The first staff view is sent once the page has loaded.
    expect(e.sent).toContainEqual(expect.objectContaining({ type: 'staff' }));
  });

  it('reloads a crashed or hung renderer, focuses itself for a second instance', async () => {
    const e = fakeElectron();
    await startShell({
      app: e.app,
      BrowserWindow: e.FakeWindow as never,
      ipcMain: { handle: (c, l) => e.handlers.set(c, l) },
      core: fakeServices([]),
      protocol: e.protocol,
      assets: { html: '', js: '', css: '' },
      preloadPath: '/p.js',
      kiosk: true,
    });
    fire(e.contentsEvents, 'render-process-gone')({}, { reason: 'crashed' });
    fire(e.contentsEvents, 'render-process-gone')({}, { reason: 'clean-exit' });
    fire(e.contentsEvents, 'unresponsive')();
    expect(e.reloads()).toBe(2);
    fire(e.appEvents, 'second-instance')();
    expect(e.focused()).toBe(1);
  });

  it('relaunches when a helper process dies, but not for a clean exit or the GPU', async () => {
    const e = fakeElectron();
    let relaunched = 0;
    await startShell({
      app: { ...e.app, relaunch: () => relaunched++ },
      BrowserWindow: e.FakeWindow as never,
      ipcMain: { handle: () => undefined },
      core: fakeServices([]),
      protocol: e.protocol,
      assets: { html: '', js: '', css: '' },
      preloadPath: '/p.js',
      kiosk: true,
    });
    const gone = fire(e.appEvents, 'child-process-gone');
    gone({}, { type: 'GPU', reason: 'crashed' });
    gone({}, { type: 'Utility', reason: 'clean-exit' });
    expect(relaunched).toBe(0);
    gone({}, { type: 'Utility', reason: 'crashed' });
    expect(relaunched).toBe(1);
  });
});
