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
  };
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
  return u.origin === allowed.origin && u.origin !== 'null';
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
