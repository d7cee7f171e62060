import express from 'express';
import type { Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { SimulatedReader } from '@clubcard/hardware';
import {
  ApproveRequestSchema,
  RedeemRequestSchema,
  SetLanguageRequestSchema,
  StaffCardRequestSchema,
  StaffConsentRequestSchema,
  StaffLookupRequestSchema,
  StaffPinRequestSchema,
  StaffResidentRequestSchema,
  type BridgeResult,
  type CoreMessage,
  type DemoInfo,
} from '../bridge/kiosk-bridge.js';
import type { KioskCore } from '../core/kiosk-core.js';
import { tapSimulated } from '../core/simulated-tap.js';
import type { KioskServices } from './kiosk-services.js';
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
  /**
   * Language memory, GP queue numbers, redemption and staff mode. Without them the
   * screen still answers taps; the calls below answer `not-found`.
   */
  services?: KioskServices;
}

/**
 * Bridge calls change state, so they must come from our own page: JSON only (a form or
 * a `text/plain` request from another site cannot be sent without a CORS preflight,
 * which this server never answers) and, where the browser says, from our origin.
 */
function sameOriginJson(req: express.Request, origin: () => string): boolean {
  if (!req.is('application/json')) return false;
  const o = req.headers.origin;
  return o === undefined || o === origin();
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
  const services = o.services ?? null;
  app.get('/api/state', (_req, res) => {
    res.json(services ? services.state() : o.core.state());
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
    const first: CoreMessage[] = services
      ? [
          { type: 'state', state: services.state() },
          { type: 'staff', staff: services.staffView() },
        ]
      : [{ type: 'state', state: o.core.state() }];
    for (const m of first) res.write(`data: ${JSON.stringify(m)}\n\n`);
    req.on('close', () => clients.delete(res));
  });
  const onMessage = (m: CoreMessage): void => {
    const line = `data: ${JSON.stringify(m)}\n\n`;
    for (const c of clients) c.write(line);
  };
  const source = services ?? o.core;
  source.on('message', onMessage);

  // Bridge calls: each body parsed by its schema from the bridge contract.
  let origin = '';
  const call = <S extends z.ZodType>(
    path: string,
    schema: S,
    handler: (s: KioskServices, body: z.infer<S>) => BridgeResult,
  ): void => {
    app.post(path, express.json({ limit: '1kb' }), (req, res) => {
      if (!sameOriginJson(req, () => origin)) {
        res.status(403).json({ error: { code: 'forbidden', message: 'not from the kiosk page' } });
        return;
      }
      const body = schema.safeParse(req.body);
      if (!body.success) {
        res.status(400).json({ error: { code: 'validation-failed', message: 'bad request' } });
        return;
      }
      res.json(services ? handler(services, body.data) : { ok: false, code: 'not-found' });
    });
  };
  const Empty = z.object({}).strict();
  call('/api/language', SetLanguageRequestSchema, (s, b) => s.setLanguage(b.language));
  call('/api/redeem', RedeemRequestSchema, (s, b) => s.redeem(b.optionId, b.quantity));
  call('/api/redeem/cancel', Empty, (s) => s.cancelRedemption());
  call('/api/staff/pin', StaffPinRequestSchema, (s, b) => s.staffPin(b.pin));
  call('/api/staff/sign-out', Empty, (s) => s.staffSignOut());
  call('/api/staff/extend', Empty, (s) => s.staffExtend());
  call('/api/staff/approve', ApproveRequestSchema, (s, b) => s.approve(b.id));
  call('/api/staff/record-visit', StaffResidentRequestSchema, (s, b) =>
    s.staffRecordVisit(b.residentRef),
  );
  call('/api/staff/consent', StaffConsentRequestSchema, (s, b) => s.staffConsent(b));
  call('/api/staff/card', StaffCardRequestSchema, (s, b) => s.staffCard(b));
  app.post('/api/staff/lookup', express.json({ limit: '1kb' }), (req, res, next) => {
    if (!sameOriginJson(req, () => origin)) {
      res.status(403).json({ error: { code: 'forbidden', message: 'not from the kiosk page' } });
      return;
    }
    const body = StaffLookupRequestSchema.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: { code: 'validation-failed', message: 'bad request' } });
      return;
    }
    (services ? services.staffLookup(body.data.query) : Promise.resolve(null)).then((list) => {
      if (!list) {
        res.status(401).json({ error: { code: 'unauthenticated', message: 'staff only' } });
        return;
      }
      res.json(list);
    }, next);
  });
  app.get('/api/staff/rejected', (_req, res) => {
    const list = services?.rejectedEvents() ?? null;
    if (!list) {
      res.status(401).json({ error: { code: 'unauthenticated', message: 'staff only' } });
      return;
    }
    res.json(list);
  });

  if (o.demo) {
    const demo = o.demo;
    app.get('/api/demo', (req, res) => {
      if (!tokenOk(req.headers.authorization, demo.token)) {
        res.status(401).json({ error: { code: 'bad-signature', message: 'demo token required' } });
        return;
      }
      res.json(demo.info);
    });
    app.post('/api/demo/tap', express.json({ limit: '1kb' }), async (req, res) => {
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
      // The caller gets the resident's answer, shown once the tap is on disk (null for a
      // card staff mode or the desk took).
      const tapped = await tapSimulated(o.core, demo.reader, body.data.uid);
      if (!tapped.read) res.status(503).json({ ok: false, outcome: null });
      else res.json({ ok: true, outcome: tapped.outcome });
    });
    // Demo only: a staff card tapped on the simulated reader (the real reader reaches
    // staff mode through the tap pipeline).
    app.post('/api/demo/staff-tap', express.json({ limit: '1kb' }), (req, res) => {
      if (!tokenOk(req.headers.authorization, demo.token)) {
        res.status(401).json({ error: { code: 'bad-signature', message: 'demo token required' } });
        return;
      }
      const body = TapBodySchema.safeParse(req.body);
      if (!body.success || !services) {
        res.status(400).json({ error: { code: 'validation-failed', message: 'bad request' } });
        return;
      }
      res.json({ staff: services.simulatedTap(body.data.uid) });
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
  origin = `http://${o.host}:${port}`;
  return {
    url: `http://${o.host}:${port}`,
    close: async () => {
      source.off('message', onMessage);
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
