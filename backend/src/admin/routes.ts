import express, { Router } from 'express';
import { requireRole } from '../auth/middleware.js';
import type { OperatorService } from '../auth/operators.js';
import type { BackendStore } from '../store/repository.js';
import { EnrolmentDeskSchema, NewKioskSchema, type AdminService } from './admin-service.js';

/** Admin API: the same operations as the CLI, for admins; kiosk health for analysts too. */
export function adminRouter(deps: {
  store: BackendStore;
  admin: AdminService;
  operators: OperatorService;
  now: () => number;
}): Router {
  const r = Router();
  const admin = requireRole(deps.operators, 'admin');
  const anyone = requireRole(deps.operators, 'admin', 'analyst');
  const json = express.json({ limit: '64kb' });

  /** Every kiosk's sync health: last push and pull, acknowledged sequence, clock offset. */
  r.get('/api/v1/admin/kiosks', anyone, (_req, res) => {
    const now = deps.now();
    res.json(
      deps.store.listKiosks().map((k) => ({
        kioskId: k.id,
        venueId: k.venueId,
        serviceId: k.serviceId,
        status: k.status,
        ackSeq: k.ackSeq,
        lastPushAt: k.lastPushAt,
        lastPullAt: k.lastPullAt,
        clockOffsetMs: k.clockOffsetMs,
        enrolmentDesk: deps.admin.isEnrolmentDesk(k.id),
        silentForMs: k.lastPullAt === null ? null : now - Math.max(k.lastPullAt, k.lastPushAt ?? 0),
      })),
    );
  });
  r.post('/api/v1/admin/kiosks', admin, json, (req, res) => {
    res.status(201).json(deps.admin.addKiosk(NewKioskSchema.parse(req.body)));
  });
  r.post('/api/v1/admin/kiosks/:id/revoke', admin, (req, res) => {
    deps.admin.revokeKiosk(String(req.params.id));
    res.json({ kioskId: req.params.id, status: 'revoked' });
  });
  /** Makes a kiosk an enrolment desk, or stops it being one: body {"enrolmentDesk": bool}. */
  r.put('/api/v1/admin/kiosks/:id/enrolment-desk', admin, json, (req, res) => {
    const { enrolmentDesk } = EnrolmentDeskSchema.parse(req.body);
    res.json(deps.admin.setEnrolmentDesk(String(req.params.id), enrolmentDesk));
  });
  r.get('/api/v1/admin/venues', anyone, (_req, res) => {
    res.json(deps.store.listVenues());
  });
  r.get('/api/v1/admin/services', anyone, (_req, res) => {
    res.json(deps.store.listServices());
  });
  return r;
}
