import express, { Router, type Request } from 'express';
import { requireRole } from '../auth/middleware.js';
import type { OperatorService } from '../auth/operators.js';
import type { BackendSecrets } from '../keys.js';
import type { BackendStore } from '../store/repository.js';
import type { EngineStateStore } from './engine-state.js';
import { RewardsService } from './rewards-service.js';

/**
 * Reward administration (admins; simulation for analysts too) and the outlet API
 * (outlet API keys: `Authorization: Bearer olk_…`).
 */
export function rewardsRouter(deps: {
  store: BackendStore;
  engine: EngineStateStore;
  secrets: BackendSecrets;
  operators: OperatorService;
  now: () => number;
}): Router {
  const r = Router();
  let svc: RewardsService | null = null;
  const rewards = (): RewardsService =>
    (svc ??= new RewardsService(deps.store, deps.engine, deps.secrets.cardHashKey, deps.now));
  const admin = requireRole(deps.operators, 'admin');
  const anyone = requireRole(deps.operators, 'admin', 'analyst');
  const json = express.json({ limit: '256kb' });

  r.get('/api/v1/admin/schemes', anyone, (_req, res) => {
    res.json(rewards().list());
  });
  r.post('/api/v1/admin/schemes/validate', admin, json, (req, res) => {
    const c = rewards().validate(req.body);
    res.status(c.ok ? 200 : 422).json(c);
  });
  r.post('/api/v1/admin/schemes', admin, json, (req, res) => {
    res.status(201).json({ published: rewards().publish(req.body) });
  });
  r.post('/api/v1/admin/schemes/simulate', anyone, json, (req, res) => {
    res.json(rewards().simulate(req.body as never));
  });
  r.post('/api/v1/admin/grants/allowances/run', admin, json, (req, res) => {
    res.json(rewards().grants.runAllowances((req.body ?? {}) as never));
  });
  r.post('/api/v1/admin/grants/top-up', admin, json, (req, res) => {
    res.status(201).json(rewards().grants.topUp(req.body as never));
  });
  r.post('/api/v1/admin/residents/:ref/attributes', admin, json, (req, res) => {
    res.json(
      rewards().grants.setAttributes({
        ...(req.body as object),
        residentRef: String(req.params.ref),
      } as never),
    );
  });
  r.post('/api/v1/admin/residents/:ref/voucher-codes', admin, (req, res) => {
    res.status(201).json(rewards().grants.issueVoucherCode(String(req.params.ref)));
  });
  r.get('/api/v1/admin/outlets', anyone, (_req, res) => {
    res.json(rewards().outlets.list());
  });
  r.post('/api/v1/admin/outlets', admin, json, (req, res) => {
    res.status(201).json(rewards().outlets.add(req.body as never));
  });
  r.post('/api/v1/admin/outlets/:id/keys', admin, (req, res) => {
    res.status(201).json(rewards().outlets.issueKey(String(req.params.id)));
  });

  /** An outlet's till: redeem from a resident's wallet (card hash or voucher code). */
  r.post('/api/v1/outlet/redemptions', json, (req, res) => {
    const outlet = rewards().outlets.authenticate(bearer(req));
    res.status(201).json(rewards().outlets.redeem(outlet, req.body as never));
  });
  return r;
}

function bearer(req: Request): string | null {
  const m = /^Bearer (\S{1,200})$/.exec(req.headers.authorization ?? '');
  return m?.[1] ?? null;
}
