import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardAssets } from './bundle.js';
import { DASHBOARD_CSP, dashboardRouter } from './routes.js';

/**
 * The dashboard's assets as the browser gets them: compressed when it says it takes it,
 * revalidated with an ETag (304 when unchanged), the page itself never cached.
 */
const JS = `console.log(${JSON.stringify('chart '.repeat(5000))});`;
const ASSETS: DashboardAssets = {
  html: '<!doctype html><title>Dashboard</title>',
  js: JS,
  css: 'body{}',
};

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let server: Server;
let port = 0;
let loads = 0;

function get(path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const app = express();
  app.use(
    dashboardRouter(async () => {
      loads++;
      return ASSETS;
    }),
  );
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('dashboard assets', () => {
  it('sends the script brotli-compressed to a browser that takes it, the same bytes once decoded', async () => {
    const r = await get('/dashboard/app.js', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers['vary']).toMatch(/Accept-Encoding/);
    expect(r.headers['content-type']).toMatch(/javascript/);
    expect(r.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(r.body.length).toBeLessThan(JS.length / 10);
    expect(brotliDecompressSync(r.body).toString('utf8')).toBe(JS);
  });

  it('falls back to gzip, and to plain bytes when nothing (or q=0) is accepted', async () => {
    const gz = await get('/dashboard/app.js', { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(JS);
    const refused = await get('/dashboard/app.js', { 'Accept-Encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body.toString('utf8')).toBe(JS);
    const plain = await get('/dashboard/app.css');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(ASSETS.css);
  });

  it('answers 304 with no body when the browser already holds this version', async () => {
    const first = await get('/dashboard/app.js', { 'Accept-Encoding': 'br' });
    const etag = first.headers['etag'];
    expect(typeof etag).toBe('string');
    expect(first.headers['cache-control']).toBe('no-cache');
    const again = await get('/dashboard/app.js', {
      'Accept-Encoding': 'br',
      'If-None-Match': etag as string,
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const stale = await get('/dashboard/app.js', { 'If-None-Match': '"something-else"' });
    expect(stale.status).toBe(200);
    expect(stale.body.toString('utf8')).toBe(JS);
  });

  it('never lets the page itself be cached, and bundles once', async () => {
    const page = await get('/dashboard', { 'Accept-Encoding': 'gzip' });
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['etag']).toBeUndefined();
    expect(gunzipSync(page.body).toString('utf8')).toBe(ASSETS.html);
    expect(loads).toBe(1);
  });
});

describe('a bundle that fails', () => {
  it('is answered with an error and tried again on the next request', async () => {
    let attempts = 0;
    const app = express();
    app.use(
      dashboardRouter(async () => {
        attempts++;
        if (attempts === 1) throw new Error('bundle failed');
        return ASSETS;
      }),
    );
    const s = await new Promise<Server>((r) => {
      const x = app.listen(0, '127.0.0.1', () => r(x));
    });
    const saved = port;
    port = (s.address() as AddressInfo).port;
    try {
      expect((await get('/dashboard/app.css')).status).toBe(500);
      const ok = await get('/dashboard/app.css');
      expect(ok.status).toBe(200);
      expect(ok.body.toString('utf8')).toBe(ASSETS.css);
      expect(attempts).toBe(2);
    } finally {
      port = saved;
      await new Promise((r) => s.close(r));
    }
  });
});
