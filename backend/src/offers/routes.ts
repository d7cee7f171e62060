import express, { Router } from 'express';
import { requireRole } from '../auth/middleware.js';
import type { OperatorService } from '../auth/operators.js';
import type { OfferService } from './offer-service.js';

/**
 * Targeted offers for analysts and admins: the same operations as `clubcard offers`.
 * `GET /api/v1/offers` is what the dashboard renders: each offer with its k-anonymised
 * targeted and took-up counts.
 */
export function offersRouter(deps: { offers: OfferService; operators: OperatorService }): Router {
  const r = Router();
  const analysts = requireRole(deps.operators, 'admin', 'analyst');
  const json = express.json({ limit: '16kb' });

  r.get('/api/v1/offers', analysts, (_req, res) => {
    res.json(deps.offers.list());
  });
  r.get('/api/v1/offers/segments', analysts, (_req, res) => {
    res.json({ segments: deps.offers.segments() });
  });
  r.post('/api/v1/offers', analysts, json, (req, res) => {
    res.status(201).json(deps.offers.create(req.body, req.principal?.name ?? 'unknown'));
  });
  r.post('/api/v1/offers/:id/retire', analysts, (req, res) => {
    res.json(deps.offers.retire(String(req.params.id)));
  });
  return r;
}
