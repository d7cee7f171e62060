import { z } from 'zod';
import {
  ApproveRequestSchema,
  IPC,
  RedeemRequestSchema,
  SetLanguageRequestSchema,
  StaffCardRequestSchema,
  StaffConsentRequestSchema,
  StaffLookupRequestSchema,
  StaffPinRequestSchema,
  StaffResidentRequestSchema,
  type BridgeResult,
  type CoreMessage,
  type KioskState,
  type RejectedEventView,
  type ResidentSummary,
  type StaffCardRequest,
  type StaffConsentRequest,
  type StaffView,
} from '../bridge/kiosk-bridge.js';
import { APP_ORIGIN, APP_URL, serveAppProtocol, type ProtocolLike } from './app-protocol.js';
import { handleValidated, type IpcEventLike, type IpcMainLike } from './ipc.js';
import {
  denyAllPermissions,
  hardenContents,
  isAllowedUrl,
  secureWebPreferences,
  type HardenableContents,
  type HardenableSession,
} from './security.js';
import type { UiAssets } from '../server/ui-bundle.js';

/** What the shell needs from Electron, injected so that it is testable without the binary. */
export interface WindowLike {
  webContents: HardenableContents & {
    send(channel: string, ...args: unknown[]): void;
    session: HardenableSession;
    reload(): void;
    on(
      event: 'render-process-gone',
      listener: (e: unknown, details: { reason: string }) => void,
    ): unknown;
    on(event: 'unresponsive', listener: () => void): unknown;
  };
  loadURL(url: string): Promise<void>;
  on(event: 'closed', listener: () => void): unknown;
  focus(): void;
  isMinimized(): boolean;
  restore(): void;
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

/** The screen's services (KioskServices satisfies this): what the bridge calls reach. */
export interface ServicesLike extends CoreLike {
  setLanguage(language: 'en' | 'cy'): BridgeResult;
  redeem(optionId: string, quantity: number): BridgeResult;
  cancelRedemption(): BridgeResult;
  staffPin(pin: string): BridgeResult;
  staffSignOut(): BridgeResult;
  staffExtend(): BridgeResult;
  approve(id: string): BridgeResult;
  rejectedEvents(): RejectedEventView[] | null;
  staffView(): StaffView;
  staffLookup(query: string): Promise<ResidentSummary[] | null>;
  staffRecordVisit(residentRef: string): BridgeResult;
  staffConsent(req: StaffConsentRequest): BridgeResult;
  staffCard(req: StaffCardRequest): BridgeResult;
}

export interface ShellOptions {
  app: AppLike;
  BrowserWindow: BrowserWindowCtor;
  ipcMain: IpcMainLike;
  /** The core, or the services wrapping it (then every bridge call is answered). */
  core: CoreLike | ServicesLike;
  /**
   * Where the window loads the UI: `app://kiosk/` (default; then `protocol` and `assets`
   * are required) or the local UI server's URL.
   */
  uiUrl?: string;
  protocol?: ProtocolLike;
  assets?: UiAssets;
  preloadPath: string;
  kiosk: boolean;
}

const NOT_AVAILABLE: BridgeResult = { ok: false, code: 'not-found' };

function isServices(c: CoreLike | ServicesLike): c is ServicesLike {
  return 'staffView' in c;
}

/**
 * The Electron main process for an unattended kiosk: one sandboxed window in kiosk
 * mode showing the UI from app://kiosk/ (CSP on every answer), every web contents
 * hardened, every IPC call's sender checked and arguments parsed, single instance,
 * a dead or hung renderer reloaded, a dead helper process relaunching the app.
 */
export async function startShell(o: ShellOptions): Promise<WindowLike | null> {
  if (!o.app.requestSingleInstanceLock()) {
    o.app.quit();
    return null;
  }
  o.app.enableSandbox();
  const uiUrl = o.uiUrl ?? APP_URL;
  const origin = o.uiUrl ? new URL(o.uiUrl).origin : APP_ORIGIN;
  o.app.on('web-contents-created', (_e, contents) => hardenContents(contents, origin));
  o.app.on('child-process-gone', (_e, details) => {
    if (details.type === 'GPU' || details.reason === 'clean-exit') return;
    o.app.relaunch();
    o.app.exit(0);
  });
  await o.app.whenReady();
  if (!o.uiUrl) {
    if (!o.protocol || !o.assets) throw new Error('app:// needs the protocol module and assets');
    serveAppProtocol(o.protocol, o.assets);
  }

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
  // A crashed or hung renderer comes back on its own: nobody is there to press F5.
  win.webContents.on('render-process-gone', (_e, details) => {
    if (details.reason !== 'clean-exit') win.webContents.reload();
  });
  win.webContents.on('unresponsive', () => win.webContents.reload());

  const trusted = (e: IpcEventLike): boolean =>
    o.BrowserWindow.fromWebContents(e.sender) === win &&
    isAllowedUrl(e.senderFrame?.url ?? '', origin);
  const core = o.core;
  const s = isServices(core) ? core : null;
  const none = z.undefined();
  handleValidated(o.ipcMain, IPC.getState, none, trusted, () => core.state());
  handleValidated(o.ipcMain, IPC.syncNow, none, trusted, () => core.syncNow());
  handleValidated(o.ipcMain, IPC.setLanguage, SetLanguageRequestSchema, trusted, (a) =>
    s ? s.setLanguage(a.language) : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.redeem, RedeemRequestSchema, trusted, (a) =>
    s ? s.redeem(a.optionId, a.quantity) : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.cancelRedemption, none, trusted, () =>
    s ? s.cancelRedemption() : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.staffPin, StaffPinRequestSchema, trusted, (a) =>
    s ? s.staffPin(a.pin) : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.staffSignOut, none, trusted, () =>
    s ? s.staffSignOut() : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.staffExtend, none, trusted, () =>
    s ? s.staffExtend() : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.approve, ApproveRequestSchema, trusted, (a) =>
    s ? s.approve(a.id) : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.rejectedEvents, none, trusted, () => s?.rejectedEvents() ?? []);
  handleValidated(o.ipcMain, IPC.staffLookup, StaffLookupRequestSchema, trusted, async (a) =>
    s ? ((await s.staffLookup(a.query)) ?? []) : [],
  );
  handleValidated(o.ipcMain, IPC.staffRecordVisit, StaffResidentRequestSchema, trusted, (a) =>
    s ? s.staffRecordVisit(a.residentRef) : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.staffConsent, StaffConsentRequestSchema, trusted, (a) =>
    s ? s.staffConsent(a) : NOT_AVAILABLE,
  );
  handleValidated(o.ipcMain, IPC.staffCard, StaffCardRequestSchema, trusted, (a) =>
    s ? s.staffCard(a) : NOT_AVAILABLE,
  );
  core.on('message', (m) => win.webContents.send(IPC.message, m));
  o.app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  o.app.on('window-all-closed', () => o.app.quit());
  await win.loadURL(uiUrl);
  if (s) win.webContents.send(IPC.message, { type: 'staff', staff: s.staffView() });
  return win;
}
