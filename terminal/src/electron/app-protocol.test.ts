import { describe, expect, it } from 'vitest';
import {
  APP_CSP,
  appPathOf,
  registerAppScheme,
  resolveAppRequest,
  serveAppProtocol,
  type ProtocolLike,
} from './app-protocol.js';
import { isAllowedUrl } from './security.js';

const ASSETS = { html: '<!doctype html>', js: 'console.log(1)', css: 'body{}' };

describe('app:// path guard', () => {
  it.each([
    ['app://kiosk/', '/index.html'],
    ['app://kiosk/index.html', '/index.html'],
    ['app://kiosk/app.js', '/app.js'],
    ['app://kiosk/styles.css?v=1', '/styles.css'],
    ['app://kiosk/app.js#x', '/app.js'],
  ])('%s → %s', (url, path) => {
    expect(appPathOf(url)).toBe(path);
  });

  it.each([
    'app://kiosk/../../etc/passwd',
    'app://kiosk/..%2f..%2fetc%2fpasswd',
    'app://kiosk/%2e%2e/%2e%2e/etc/passwd',
    'app://kiosk/%2E%2E/secret',
    'app://kiosk/./app.js',
    'app://kiosk/assets/../app.js',
    'app://kiosk/..\\..\\windows\\win.ini',
    'app://kiosk/%5c..%5capp.js',
    'app://kiosk/app.js%00.css',
    'app://kiosk//etc/passwd',
    'app://kiosk/%ZZ',
    'app://evil/app.js',
    'app://kiosk.evil/app.js',
    'app://user:pw@kiosk/app.js',
    'app://kiosk:8080/app.js',
    'file:///etc/passwd',
    'http://kiosk/app.js',
    'javascript:alert(1)',
    'not a url',
    '',
  ])('refuses %j', (url) => {
    expect(appPathOf(url)).toBeNull();
    expect(resolveAppRequest(url, ASSETS).status).toBe(404);
  });

  it('serves only the three UI files, with the right types', () => {
    expect(resolveAppRequest('app://kiosk/', ASSETS)).toMatchObject({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: ASSETS.html,
    });
    expect(resolveAppRequest('app://kiosk/app.js', ASSETS).contentType).toMatch(/javascript/);
    expect(resolveAppRequest('app://kiosk/package.json', ASSETS).status).toBe(404);
    expect(resolveAppRequest('app://kiosk/kiosk.sqlite', ASSETS).status).toBe(404);
  });
});

describe('app:// protocol', () => {
  function fakeProtocol(): {
    p: ProtocolLike;
    handler: () => (r: { url: string; method: string }) => Response;
    schemes: unknown[];
  } {
    let h: ((r: { url: string; method: string }) => Response) | null = null;
    const schemes: unknown[] = [];
    return {
      p: {
        registerSchemesAsPrivileged: (s) => schemes.push(...s),
        handle: (_scheme, handler) => {
          h = handler;
        },
      },
      handler: () => h!,
      schemes,
    };
  }

  it('registers app: as a standard, secure scheme', () => {
    const f = fakeProtocol();
    registerAppScheme(f.p);
    expect(f.schemes).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: false } },
    ]);
  });

  it('puts the CSP on every answer, refusals included, and allows GET only', async () => {
    const f = fakeProtocol();
    serveAppProtocol(f.p, ASSETS);
    const ok = f.handler()({ url: 'app://kiosk/', method: 'GET' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(await ok.text()).toBe(ASSETS.html);
    const bad = f.handler()({ url: 'app://kiosk/../../etc/passwd', method: 'GET' });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(f.handler()({ url: 'app://kiosk/', method: 'POST' }).status).toBe(405);
  });

  it('has a CSP that allows no inline script, no network and no framing', () => {
    expect(APP_CSP).toContain("default-src 'none'");
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).not.toContain('unsafe-inline');
    expect(APP_CSP).not.toContain('unsafe-eval');
    expect(APP_CSP).toContain("connect-src 'none'");
    expect(APP_CSP).toContain("frame-ancestors 'none'");
  });

  it.each([
    ['app://kiosk/', true],
    ['app://kiosk/index.html#x', true],
    ['app://evil/', false],
    ['app://kiosk.evil/', false],
    ['app://user@kiosk/', false],
    ['file:///index.html', false],
    ['http://kiosk/', false],
    ['chrome://settings', false],
    ['devtools://devtools/bundled/inspector.html', false],
  ])('navigation guard on app://kiosk: %s → %s', (url, ok) => {
    expect(isAllowedUrl(url, 'app://kiosk')).toBe(ok);
  });
});
