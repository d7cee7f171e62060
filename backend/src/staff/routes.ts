import express, { Router } from 'express';
import { z } from 'zod';
import { requireRole } from '../auth/middleware.js';
import type { OperatorService } from '../auth/operators.js';
import { newPin } from './pin-hash.js';
import {
  NewStaffSchema,
  StaffCardSchema,
  StaffPinSchema,
  type StaffService,
} from './staff-service.js';

const StaffRefParam = z.string().regex(/^st-[a-z0-9-]{1,60}$/);

/**
 * Admin API for venue staff (admins only): the same operations as `clubcard staff`.
 * A PIN left out is generated and returned once; PINs are never stored or logged.
 */
export function staffRouter(deps: { staff: StaffService; operators: OperatorService }): Router {
  const r = Router();
  const admin = requireRole(deps.operators, 'admin');
  const json = express.json({ limit: '16kb' });

  r.get('/api/v1/admin/staff', admin, (_req, res) => {
    res.json(deps.staff.list());
  });
  r.post('/api/v1/admin/staff', admin, json, (req, res) => {
    const body = z.object({ pin: z.string().optional() }).passthrough().parse(req.body);
    const generated = body.pin === undefined ? newPin() : null;
    const input = NewStaffSchema.parse({ ...body, pin: body.pin ?? generated });
    const staffRef = deps.staff.add(input);
    res.status(201).json({ staffRef, ...(generated ? { pin: generated } : {}) });
  });
  r.post('/api/v1/admin/staff/:ref/cards', admin, json, (req, res) => {
    const ref = StaffRefParam.parse(req.params.ref);
    deps.staff.issueCard(ref, StaffCardSchema.parse(req.body));
    res.status(201).json({ staffRef: ref, card: 'issued' });
  });
  r.post('/api/v1/admin/staff/:ref/pin', admin, json, (req, res) => {
    const ref = StaffRefParam.parse(req.params.ref);
    deps.staff.setPin(ref, StaffPinSchema.parse(req.body));
    res.json({ staffRef: ref, pin: 'changed' });
  });
  r.post('/api/v1/admin/staff/:ref/disable', admin, (req, res) => {
    const ref = StaffRefParam.parse(req.params.ref);
    deps.staff.setStatus(ref, 'disabled');
    res.json({ staffRef: ref, status: 'disabled' });
  });
  r.post('/api/v1/admin/staff-cards/block', admin, json, (req, res) => {
    const staffRef = deps.staff.blockCard(StaffCardSchema.parse(req.body));
    res.json({ staffRef, card: 'blocked' });
  });
  return r;
}
