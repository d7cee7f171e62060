/**
 * Security rules for the Electron shell of an unattended kiosk. Each rule is a small
 * function with its own test; main.ts applies them to every window.
 */

/** webPreferences for every kiosk window: sandboxed, isolated, no Node in the renderer. */
export function secureWebPreferences(preload: string): {
  preload: string;
  sandbox: true;
  contextIsolation: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webviewTag: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  experimentalFeatures: false;
  navigateOnDragDrop: false;
  spellcheck: false;
  autoplayPolicy: 'no-user-gesture-required';
  backgroundThrottling: false;
} {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    // An unattended kiosk: its sounds must play without a click first, and its timers
    // must keep time even when the window is not focused.
    autoplayPolicy: 'no-user-gesture-required',
    backgroundThrottling: false,
  };
}

/** Schemes a kiosk window may ever show: its own app:// UI, or the local UI server. */
const ALLOWED_SCHEMES = new Set(['app:', 'http:', 'https:']);

/**
 * A URL's origin as Chromium sees it. WHATWG URL gives `null` for a non-special scheme
 * such as `app:`, which Electron registers as standard; compare scheme + host + port.
 */
function originOf(u: URL): string | null {
  if (!ALLOWED_SCHEMES.has(u.protocol) || u.host === '') return null;
  return `${u.protocol}//${u.host}`;
}

/**
 * May the kiosk window be at this URL? Only the kiosk UI's own origin, compared after
 * parsing (so `http://127.0.0.1:8081@evil.example/` and friends are refused).
 */
export function isAllowedUrl(candidate: string, allowedOrigin: string): boolean {
  let u: URL;
  let allowed: URL;
  try {
    u = new URL(candidate);
    allowed = new URL(allowedOrigin);
  } catch {
    return false;
  }
  if (u.username !== '' || u.password !== '') return false;
  const mine = originOf(allowed);
  return mine !== null && originOf(u) === mine;
}

export interface NavigationEvent {
  preventDefault(): void;
}

/** The slice of Electron's WebContents the hardening needs (injected; testable). */
export interface HardenableContents {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (e: NavigationEvent, url: string) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (e: NavigationEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface HardenableSession {
  setPermissionRequestHandler(
    handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: () => boolean): void;
}

/** Denies navigation away from the UI, new windows, webviews and every permission. */
export function hardenContents(contents: HardenableContents, allowedOrigin: string): void {
  const guard = (e: NavigationEvent, url: string): void => {
    if (!isAllowedUrl(url, allowedOrigin)) e.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function denyAllPermissions(session: HardenableSession): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
