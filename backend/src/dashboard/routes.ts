import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { Router, type Request, type Response } from 'express';
import { bundleDashboard, type DashboardAssets } from './bundle.js';

/** Nothing inline, nothing from elsewhere: the page's script and styles come from here. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** One asset as served: its bytes, compressed forms and validator, made once. */
interface Served {
  type: string;
  body: Buffer;
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Compresses off the main thread (brotli at its best takes ~2 s for the dashboard's script). */
async function served(type: string, text: string): Promise<Served> {
  const body = Buffer.from(text, 'utf8');
  const [br, gz] = await Promise.all([
    brotli(body, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 11,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
    gzipped(body, { level: 9 }),
  ]);
  return {
    type,
    body,
    br,
    gzip: gz,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/** Whether the request's If-None-Match names this validator (or `*`). */
function notModified(req: Request, etag: string): boolean {
  const header = req.get('If-None-Match');
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}

/** The encoding to send, from the request's Accept-Encoding (q=0 refuses one). */
function encodingFor(req: Request): 'br' | 'gzip' | null {
  const accepted = new Map<string, number>();
  for (const part of (req.get('Accept-Encoding') ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    accepted.set(name, Number.isFinite(value) ? value : 0);
  }
  const wants = (e: string): boolean => (accepted.get(e) ?? accepted.get('*') ?? 0) > 0;
  if (wants('br')) return 'br';
  if (wants('gzip')) return 'gzip';
  return null;
}

/**
 * The council dashboard page. The page itself holds no figures: it signs the operator
 * in through the auth API and reads everything from the analytics API, which refuses
 * anyone who is not an analyst or admin. Assets are bundled (and compressed) on first
 * request; the script and styles are sent brotli- or gzip-compressed when the browser
 * takes it, with a validator, so a page load after the first costs a 304, not the
 * bundle again.
 */
export function dashboardRouter(load: () => Promise<DashboardAssets> = bundleDashboard): Router {
  const r = Router();
  let assets: Promise<{ html: Served; js: Served; css: Served }> | null = null;
  const get = (): Promise<{ html: Served; js: Served; css: Served }> => {
    assets ??= load()
      .then(async (a) => {
        const [html, js, css] = await Promise.all([
          served('html', a.html),
          served('application/javascript', a.js),
          served('css', a.css),
        ]);
        return { html, js, css };
      })
      .catch((e: unknown) => {
        assets = null;
        throw e;
      });
    return assets;
  };
  const send = (req: Request, res: Response, asset: Served, cache: 'no-store' | 'no-cache') => {
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', cache);
    res.setHeader('Vary', 'Accept-Encoding');
    res.type(asset.type);
    if (cache === 'no-cache') {
      res.setHeader('ETag', asset.etag);
      if (notModified(req, asset.etag)) {
        res.status(304).end();
        return;
      }
    }
    const encoding = encodingFor(req);
    if (encoding) res.setHeader('Content-Encoding', encoding);
    const bytes = encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.body;
    // end(), not send(): the validator and 304s are ours (send would add its own ETag).
    res.setHeader('Content-Length', bytes.length);
    res.end(bytes);
  };
  r.get(['/dashboard', '/dashboard/'], async (req, res) => {
    send(req, res, (await get()).html, 'no-store');
  });
  r.get('/dashboard/app.js', async (req, res) => {
    send(req, res, (await get()).js, 'no-cache');
  });
  r.get('/dashboard/app.css', async (req, res) => {
    send(req, res, (await get()).css, 'no-cache');
  });
  return r;
}
