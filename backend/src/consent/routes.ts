import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  AppError,
  ConsentPurposeSchema,
  ResidentRefSchema,
  VolunteeredAttributeSchema,
} from '@clubcard/shared';
import { requireRole } from '../auth/middleware.js';
import type { OperatorService } from '../auth/operators.js';
import type { ConsentService } from './consent-service.js';
import type { ResidentAccessService } from './resident-access.js';

declare module 'express-serve-static-core' {
  interface Request {
    residentRef?: string;
  }
}

const GiveSchema = z.object({ given: z.boolean() }).strict();

function bearer(req: Request): string | null {
  const m = /^Bearer (rt_[A-Za-z0-9_-]{20,100})$/.exec(req.headers.authorization ?? '');
  return m?.[1] ?? null;
}

/**
 * The resident API: a resident signs in with the access code staff or an admin issued
 * them, then reads their own consents and volunteered attributes, gives or withdraws
 * consent per purpose, and volunteers or removes attributes. A resident only ever sees
 * and changes their own. Admins issue access codes (`clubcard residents access-code`).
 */
export function residentRouter(deps: {
  consents: ConsentService;
  access: ResidentAccessService;
  operators: OperatorService;
}): Router {
  const r = Router();
  const json = express.json({ limit: '2kb' });
  const admin = requireRole(deps.operators, 'admin');
  const resident = (req: Request, _res: Response, next: NextFunction): void => {
    const token = bearer(req);
    const ref = token ? deps.access.authenticate(token) : null;
    if (!ref) {
      next(new AppError('unauthenticated', 'sign in with your access code first'));
      return;
    }
    req.residentRef = ref;
    next();
  };
  const me = (req: Request): string => req.residentRef ?? '';

  r.post('/api/v1/admin/residents/:ref/access-code', admin, async (req, res) => {
    const ref = ResidentRefSchema.parse(req.params.ref);
    const code = await deps.access.issue(ref, req.principal?.name ?? 'admin');
    res.status(201).json({ residentRef: ref, code });
  });

  r.post('/api/v1/resident/login', json, async (req, res) => {
    res.json(await deps.access.login(req.body));
  });
  r.post('/api/v1/resident/logout', resident, (req, res) => {
    const token = bearer(req);
    if (token) deps.access.logout(token);
    res.json({ signedOut: true });
  });
  r.get('/api/v1/resident/consents', resident, (req, res) => {
    res.json(deps.consents.of(me(req)));
  });
  r.put('/api/v1/resident/consents/:purpose', resident, json, (req, res) => {
    const purpose = ConsentPurposeSchema.parse(req.params.purpose);
    const { given } = GiveSchema.parse(req.body);
    deps.consents.setConsent(me(req), purpose, given);
    res.json(deps.consents.of(me(req)));
  });
  r.put('/api/v1/resident/attributes/:attribute', resident, (req, res) => {
    const attribute = VolunteeredAttributeSchema.parse(req.params.attribute);
    deps.consents.setAttributes(me(req), [{ attribute, volunteered: true }]);
    res.json(deps.consents.of(me(req)));
  });
  r.delete('/api/v1/resident/attributes/:attribute', resident, (req, res) => {
    const attribute = VolunteeredAttributeSchema.parse(req.params.attribute);
    deps.consents.setAttributes(me(req), [{ attribute, volunteered: false }]);
    res.json(deps.consents.of(me(req)));
  });
  return r;
}
