import { z } from 'zod';
import { IPC, type CoreMessage, type KioskState } from '../bridge/kiosk-bridge.js';
import { handleValidated, type IpcEventLike, type IpcMainLike } from './ipc.js';
import {
  denyAllPermissions,
  hardenContents,
  isAllowedUrl,
  secureWebPreferences,
  type HardenableContents,
  type HardenableSession,
} from './security.js';

/** What the shell needs from Electron, injected so that it is testable without the binary. */
export interface WindowLike {
  webContents: HardenableContents & {
    send(channel: string, ...args: unknown[]): void;
    session: HardenableSession;
  };
  loadURL(url: string): Promise<void>;
  on(event: 'closed', listener: () => void): unknown;
}

export interface BrowserWindowCtor {
  new (options: {
    kiosk: boolean;
    fullscreen: boolean;
    autoHideMenuBar: boolean;
    backgroundColor: string;
    show: boolean;
    webPreferences: ReturnType<typeof secureWebPreferences>;
  }): WindowLike;
  fromWebContents(wc: unknown): WindowLike | null;
}

export interface AppLike {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  on(event: 'second-instance' | 'window-all-closed', listener: () => void): unknown;
  on(
    event: 'child-process-gone',
    listener: (e: unknown, details: { type: string; reason: string }) => void,
  ): unknown;
  on(
    event: 'web-contents-created',
    listener: (e: unknown, contents: HardenableContents) => void,
  ): unknown;
  enableSandbox(): void;
  whenReady(): Promise<void>;
  relaunch(): void;
  exit(code?: number): void;
}

/** The kiosk core as the shell sees it: state, messages, a sync nudge. */
export interface CoreLike {
  state(): KioskState;
  syncNow(): void;
  on(event: 'message', listener: (m: CoreMessage) => void): unknown;
}

export interface ShellOptions {
  app: AppLike;
  BrowserWindow: BrowserWindowCtor;
  ipcMain: IpcMainLike;
  core: CoreLike;
  uiUrl: string;
  preloadPath: string;
  kiosk: boolean;
}

/**
 * The Electron main process for an unattended kiosk: one sandboxed window in kiosk
 * mode, every web contents hardened, IPC checked, single instance, relaunch when the
 * renderer dies.
 */
export async function startShell(o: ShellOptions): Promise<WindowLike | null> {
  if (!o.app.requestSingleInstanceLock()) {
    o.app.quit();
    return null;
  }
  o.app.enableSandbox();
  const origin = new URL(o.uiUrl).origin;
  o.app.on('web-contents-created', (_e, contents) => hardenContents(contents, origin));
  o.app.on('child-process-gone', (_e, details) => {
    if (details.type === 'GPU' || details.reason === 'clean-exit') return;
    o.app.relaunch();
    o.app.exit(0);
  });
  await o.app.whenReady();

  const win = new o.BrowserWindow({
    kiosk: o.kiosk,
    fullscreen: o.kiosk,
    autoHideMenuBar: true,
    backgroundColor: '#ffffff',
    show: true,
    webPreferences: secureWebPreferences(o.preloadPath),
  });
  hardenContents(win.webContents, origin);
  denyAllPermissions(win.webContents.session);

  const trusted = (e: IpcEventLike): boolean =>
    o.BrowserWindow.fromWebContents(e.sender) === win &&
    isAllowedUrl(e.senderFrame?.url ?? '', origin);
  handleValidated(o.ipcMain, IPC.getState, z.undefined(), trusted, () => o.core.state());
  handleValidated(o.ipcMain, IPC.syncNow, z.undefined(), trusted, () => o.core.syncNow());
  o.core.on('message', (m) => win.webContents.send(IPC.message, m));
  o.app.on('second-instance', () => undefined);
  o.app.on('window-all-closed', () => o.app.quit());
  await win.loadURL(o.uiUrl);
  return win;
}
