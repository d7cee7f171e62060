import express, { Router, type Request } from 'express';
import { z } from 'zod';
import {
  AppError,
  HEADER,
  MAX_PUSH_BYTES,
  PushRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  signBytes,
} from '@clubcard/shared';
import type { BackendConfig } from '../config.js';
import type { BackendSecrets } from '../keys.js';
import type { BackendStore } from '../store/repository.js';
import { ingestBatch, type ConsentRecorder, type IngestionListener } from './ingest.js';
import type { EngineStateStore } from '../rewards/engine-state.js';
import type { StaffService } from '../staff/staff-service.js';
import { pullPage, type OfferFeed } from './pull.js';
import { verifySignedRequest } from './request-auth.js';

export interface SyncDeps {
  store: BackendStore;
  secrets: BackendSecrets;
  config: BackendConfig;
  now: () => number;
  /** Maintained inside each batch's transaction (rollups, features). */
  listeners?: readonly IngestionListener[];
  engine: EngineStateStore;
  /** Staff records for pulls (PIN hashes only to kiosks where the staff member works). */
  staff: StaffService;
  /** Records pushed consent events (ConsentService); without it they are rejected. */
  consents?: ConsentRecorder;
  /** Targeted offers for pulls (OfferService); none are sent without it. */
  offers?: OfferFeed;
}

const PullQuerySchema = z.object({
  cursor: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** Sends JSON signed by the backend (Ed25519 over the exact body bytes). */
function sendSigned(res: express.Response, secrets: BackendSecrets, value: unknown): void {
  const body = JSON.stringify(value);
  res.setHeader(HEADER.signature, signBytes(secrets.signingKey, body));
  res.type('application/json').send(body);
}

export function syncRouter(deps: SyncDeps): Router {
  const r = Router();
  const raw = express.raw({ type: () => true, limit: MAX_PUSH_BYTES });

  r.post('/api/v1/sync/push', raw, (req, res) => {
    const now = deps.now();
    const body = rawBody(req);
    const kiosk = verifySignedRequest(
      deps.store,
      { method: req.method, path: req.originalUrl, headers: req.headers, body },
      now,
      deps.config.maxClockSkewMs,
    );
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AppError('bad-request', 'request body is not valid JSON');
    }
    const push = PushRequestSchema.parse(json);
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(push.protocol)) {
      throw new AppError('unsupported-protocol', `protocol ${push.protocol} is not supported`, {
        details: { supported: SUPPORTED_PROTOCOL_VERSIONS },
      });
    }
    if (push.kioskId !== kiosk.id) {
      throw new AppError('kiosk-mismatch', 'a kiosk can push only its own events');
    }
    const ts = Number(req.headers[HEADER.timestamp]);
    const result = ingestBatch(deps.store, kiosk, push.events, now, {
      engine: deps.engine,
      listeners: deps.listeners ?? [],
      ...(deps.consents ? { consents: deps.consents } : {}),
    });
    deps.store.noteKioskPush(kiosk.id, now, ts - now);
    sendSigned(res, deps.secrets, result);
  });

  r.get('/api/v1/sync/pull', (req, res) => {
    const now = deps.now();
    const kiosk = verifySignedRequest(
      deps.store,
      { method: req.method, path: req.originalUrl, headers: req.headers, body: Buffer.alloc(0) },
      now,
      deps.config.maxClockSkewMs,
    );
    const q = PullQuerySchema.parse(req.query);
    sendSigned(
      res,
      deps.secrets,
      pullPage(
        deps.store,
        kiosk,
        q.cursor,
        deps.config.pullPageSize,
        now,
        (ref, venueId) => deps.staff.syncedFor(ref, venueId),
        deps.offers,
      ),
    );
  });

  return r;
}
