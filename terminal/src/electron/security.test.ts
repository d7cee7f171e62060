import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  denyAllPermissions,
  hardenContents,
  isAllowedUrl,
  secureWebPreferences,
  type NavigationEvent,
} from './security.js';
import { handleValidated, IpcRefused, type IpcEventLike } from './ipc.js';

const ORIGIN = 'http://127.0.0.1:8081';

describe('navigation guard', () => {
  it.each([
    ['http://127.0.0.1:8081/', true],
    ['http://127.0.0.1:8081/#demo=abc', true],
    ['http://127.0.0.1:8082/', false],
    ['https://127.0.0.1:8081/', false],
    ['http://127.0.0.1:8081@evil.example/', false],
    ['http://user:pw@127.0.0.1:8081/', false],
    ['http://evil.example/?http://127.0.0.1:8081/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['about:blank', false],
    ['not a url', false],
    ['', false],
    ['http://127.0.0.1.evil.example:8081/', false],
    ['http://[::1]:8081/', false],
  ])('%s → %s', (url, ok) => {
    expect(isAllowedUrl(url, ORIGIN)).toBe(ok);
  });
});

describe('web contents hardening', () => {
  it('prevents navigation away, new windows and webviews; allows the UI origin', () => {
    const handlers = new Map<string, (e: NavigationEvent, url: string) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
    hardenContents(
      {
        on: (ev: string, l: (e: NavigationEvent, url: string) => void) => handlers.set(ev, l),
        setWindowOpenHandler: (h) => {
          openHandler = h;
        },
      },
      ORIGIN,
    );
    const attempt = (ev: string, url: string): boolean => {
      let prevented = false;
      handlers.get(ev)!({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(attempt('will-navigate', 'https://evil.example/')).toBe(true);
    expect(attempt('will-redirect', 'file:///etc/shadow')).toBe(true);
    expect(attempt('will-navigate', `${ORIGIN}/`)).toBe(false);
    expect(attempt('will-attach-webview', '')).toBe(true);
    expect(openHandler!({ url: `${ORIGIN}/` })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    let request: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    let check: (() => boolean) | null = null;
    denyAllPermissions({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h),
    });
    let granted: boolean | null = null;
    request!(null, 'media', (g) => (granted = g));
    expect(granted).toBe(false);
    expect(check!()).toBe(false);
  });

  it('sets a sandboxed, isolated renderer without Node', () => {
    expect(secureWebPreferences('/p.js')).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webviewTag: false,
      webSecurity: true,
    });
  });
});

describe('validated IPC', () => {
  function setup(): (event: IpcEventLike, ...args: unknown[]) => unknown {
    let registered: ((event: IpcEventLike, ...args: unknown[]) => unknown) | null = null;
    handleValidated(
      { handle: (_c, l) => (registered = l) },
      'kiosk:test',
      z.object({ offerId: z.string().regex(/^o-[a-z0-9]{1,20}$/) }),
      (e) => e.sender === 'our-window' && e.senderFrame?.url.startsWith(ORIGIN) === true,
      (arg) => `ok:${arg.offerId}`,
    );
    return registered!;
  }

  it('passes a valid message from our window', () => {
    expect(
      setup()({ sender: 'our-window', senderFrame: { url: `${ORIGIN}/` } }, { offerId: 'o-swim' }),
    ).toBe('ok:o-swim');
  });

  it.each([
    [{ sender: 'other-window', senderFrame: { url: `${ORIGIN}/` } }, { offerId: 'o-swim' }],
    [
      { sender: 'our-window', senderFrame: { url: 'https://evil.example/' } },
      { offerId: 'o-swim' },
    ],
    [{ sender: 'our-window', senderFrame: null }, { offerId: 'o-swim' }],
    [{ sender: 'our-window', senderFrame: { url: `${ORIGIN}/` } }, { offerId: '../../etc' }],
    [{ sender: 'our-window', senderFrame: { url: `${ORIGIN}/` } }, { offerId: 5 }],
    [{ sender: 'our-window', senderFrame: { url: `${ORIGIN}/` } }, '{"offerId":"o-swim"}'],
  ])('refuses %j with %j', (event, arg) => {
    expect(() => setup()(event as IpcEventLike, arg)).toThrow(IpcRefused);
  });
});

describe('shell start-up', () => {
  it('opens one sandboxed kiosk window, hardens it, and answers IPC only from it', async () => {
    const { startShell } = await import('./shell.js');
    const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
    const appEvents = new Map<string, unknown>();
    let created: { options: unknown; win: unknown } | null = null;
    const contents = {
      on: () => undefined,
      setWindowOpenHandler: () => undefined,
      send: () => undefined,
      session: {
        setPermissionRequestHandler: () => undefined,
        setPermissionCheckHandler: () => undefined,
      },
    };
    class FakeWindow {
      webContents = contents;
      loaded = '';
      constructor(options: unknown) {
        created = { options, win: this };
      }
      async loadURL(u: string): Promise<void> {
        this.loaded = u;
      }
      on(): void {}
      static fromWebContents(wc: unknown): unknown {
        return wc === contents ? created?.win : null;
      }
    }
    let sandboxed = false;
    const win = await startShell({
      app: {
        requestSingleInstanceLock: () => true,
        quit: () => undefined,
        on: (ev: string, l: unknown) => appEvents.set(ev, l),
        enableSandbox: () => (sandboxed = true),
        whenReady: async () => undefined,
        relaunch: () => undefined,
        exit: () => undefined,
      },
      BrowserWindow: FakeWindow as never,
      ipcMain: { handle: (c, l) => handlers.set(c, l) },
      core: {
        state: () => ({ provisioned: true }) as never,
        syncNow: () => undefined,
        on: () => undefined,
      },
      uiUrl: `${ORIGIN}/`,
      preloadPath: '/app/preload.js',
      kiosk: true,
    });
    expect(win).not.toBeNull();
    expect(sandboxed).toBe(true);
    expect(created!.options).toMatchObject({
      kiosk: true,
      webPreferences: { sandbox: true, contextIsolation: true },
    });
    expect(appEvents.has('web-contents-created')).toBe(true);
    const getState = handlers.get('kiosk:get-state')!;
    expect(getState({ sender: contents, senderFrame: { url: `${ORIGIN}/` } })).toEqual({
      provisioned: true,
    });
    expect(() => getState({ sender: {}, senderFrame: { url: `${ORIGIN}/` } })).toThrow(IpcRefused);
    expect(() =>
      getState({ sender: contents, senderFrame: { url: `${ORIGIN}/` } }, 'extra'),
    ).toThrow(IpcRefused);
  });

  it('quits when another instance already runs', async () => {
    const { startShell } = await import('./shell.js');
    let quit = false;
    const res = await startShell({
      app: { requestSingleInstanceLock: () => false, quit: () => (quit = true) } as never,
      BrowserWindow: class {} as never,
      ipcMain: { handle: () => undefined },
      core: { state: () => ({}) as never, syncNow: () => undefined, on: () => undefined },
      uiUrl: `${ORIGIN}/`,
      preloadPath: '/p.js',
      kiosk: true,
    });
    expect(res).toBeNull();
    expect(quit).toBe(true);
  });
});
