import { posix } from 'node:path';
import type { UiAssets } from '../server/ui-bundle.js';

/**
 * The kiosk UI is served to the Electron window from a custom `app://kiosk/` protocol,
 * never from `file://` (Electron security checklist §18) and never from the network.
 * Only the bundled UI's own files exist there; each answer carries the CSP.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'kiosk';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/`;

/**
 * The renderer talks to the core over IPC only, so it may fetch nothing at all; scripts
 * and styles come from this origin alone, inline code never runs.
 */
export const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'none'; font-src 'self'; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'; object-src 'none'";

export interface AppResponse {
  status: number;
  contentType: string;
  body: string;
}

/**
 * The path a request names inside the app, or null when it tries to leave it: decoded
 * once, no NUL, no backslash, no encoded separators, no `.` or `..` segments, no other
 * host, no credentials. Deliberately strict: the UI uses three plain file names.
 */
export function appPathOf(requestUrl: string): string | null {
  let u: URL;
  try {
    u = new URL(requestUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  if (u.username || u.password || u.port) return null;
  // The path as asked for, before URL parsing resolves `..` and hides the attempt.
  if (!requestUrl.startsWith(APP_URL)) return null;
  const raw = requestUrl.slice(APP_ORIGIN.length).split(/[?#]/)[0] ?? '';
  if (/%2f|%5c|%00|%2e/i.test(raw)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const normal = posix.normalize(decoded);
  if (!normal.startsWith('/') || normal !== decoded || normal !== u.pathname) return null;
  return normal === '/' ? '/index.html' : normal;
}

/** Answers one app:// request from the bundled assets. */
export function resolveAppRequest(requestUrl: string, assets: UiAssets): AppResponse {
  const path = appPathOf(requestUrl);
  const files: Record<string, { type: string; body: string }> = {
    '/index.html': { type: 'text/html; charset=utf-8', body: assets.html },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: assets.js },
    '/styles.css': { type: 'text/css; charset=utf-8', body: assets.css },
  };
  const f = path === null ? undefined : files[path];
  if (!f) return { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found' };
  return { status: 200, contentType: f.type, body: f.body };
}

/** The slice of Electron's `protocol` module this needs (injected; testable). */
export interface ProtocolLike {
  registerSchemesAsPrivileged(
    schemes: {
      scheme: string;
      privileges: { standard: boolean; secure: boolean; supportFetchAPI: boolean };
    }[],
  ): void;
  handle(scheme: string, handler: (request: { url: string; method: string }) => Response): void;
}

/** Before `app.whenReady()`: `app:` is a standard, secure scheme (origin-based security). */
export function registerAppScheme(protocol: ProtocolLike): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: false },
    },
  ]);
}

/** After ready: serves the UI on app://kiosk/, GET only, with the CSP on every answer. */
export function serveAppProtocol(protocol: ProtocolLike, assets: UiAssets): void {
  protocol.handle(APP_SCHEME, (request) => {
    const r =
      request.method === 'GET'
        ? resolveAppRequest(request.url, assets)
        : { status: 405, contentType: 'text/plain; charset=utf-8', body: 'method not allowed' };
    return new Response(r.body, {
      status: r.status,
      headers: {
        'content-type': r.contentType,
        'content-security-policy': APP_CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
    });
  });
}
