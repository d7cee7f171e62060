import express from 'express';
import type { Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { SimulatedReader } from '@clubcard/hardware';
import type { CoreMessage, DemoInfo, TapOutcome } from '../bridge/kiosk-bridge.js';
import type { KioskCore } from '../core/kiosk-core.js';
import type { UiAssets } from './ui-bundle.js';

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TapBodySchema = z.object({
  uid: z.string().regex(/^([0-9A-F]{2}){4,10}$/, 'UID: 4–10 bytes, uppercase hex'),
});

export interface UiServerOptions {
  core: KioskCore;
  assets: UiAssets;
  host: string;
  port: number;
  /** Demo only: a simulated reader that the token holder may tap. */
  demo: { token: string; reader: SimulatedReader; info: DemoInfo } | null;
}

function tokenOk(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m?.[1]) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Serves the kiosk UI to a browser kiosk window (and the same origin the Electron shell
 * could load), plus the browser bridge: state, a server-sent event stream of core
 * messages, and — in demo configuration only — simulated taps behind a token.
 */
export async function startUiServer(
  o: UiServerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.get('/', (_req, res) => {
    res.type('html').send(o.assets.html);
  });
  app.get('/app.js', (_req, res) => {
    res.type('application/javascript').send(o.assets.js);
  });
  app.get('/styles.css', (_req, res) => {
    res.type('text/css').send(o.assets.css);
  });
  app.get('/api/state', (_req, res) => {
    res.json(o.core.state());
  });
  app.post('/api/sync-now', (_req, res) => {
    o.core.syncNow();
    res.status(202).json({ ok: true });
  });
  const clients = new Set<express.Response>();
  app.get('/api/events', (req, res) => {
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    clients.add(res);
    res.write(
      `data: ${JSON.stringify({ type: 'state', state: o.core.state() } satisfies CoreMessage)}\n\n`,
    );
    req.on('close', () => clients.delete(res));
  });
  const onMessage = (m: CoreMessage): void => {
    const line = `data: ${JSON.stringify(m)}\n\n`;
    for (const c of clients) c.write(line);
  };
  o.core.on('message', onMessage);

  if (o.demo) {
    const demo = o.demo;
    app.get('/api/demo', (req, res) => {
      if (!tokenOk(req.headers.authorization, demo.token)) {
        res.status(401).json({ error: { code: 'bad-signature', message: 'demo token required' } });
        return;
      }
      res.json(demo.info);
    });
    app.post('/api/demo/tap', express.json({ limit: '1kb' }), (req, res) => {
      if (!tokenOk(req.headers.authorization, demo.token)) {
        res.status(401).json({ error: { code: 'bad-signature', message: 'demo token required' } });
        return;
      }
      const body = TapBodySchema.safeParse(req.body);
      if (!body.success) {
        res.status(400).json({
          error: { code: 'validation-failed', message: body.error.issues[0]?.message ?? 'bad' },
        });
        return;
      }
      // The simulated reader and the pipeline are synchronous: the outcome is known (and
      // committed) by the time tap() returns, so the caller gets the resident's answer.
      let outcome: TapOutcome | null = null;
      const capture = (m: CoreMessage): void => {
        if (m.type === 'outcome') outcome = m.outcome;
      };
      o.core.on('message', capture);
      let ok: boolean;
      try {
        ok = demo.reader.tap(body.data.uid);
      } finally {
        o.core.off('message', capture);
      }
      res.status(ok ? 200 : 503).json({ ok, outcome });
    });
  }
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not-found', message: 'no such endpoint' } });
  });
  const errorHandler: express.ErrorRequestHandler = (_err, _req, res, _next) => {
    res.status(400).json({ error: { code: 'bad-request', message: 'bad request' } });
  };
  app.use(errorHandler);

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(o.port, o.host, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    url: `http://${o.host}:${port}`,
    close: async () => {
      o.core.off('message', onMessage);
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
